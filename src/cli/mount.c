/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mount, umount: placeholder until the mount engine lands. */
#include "cli.h"

int verb_mount(int argc, char **argv, GlobalOptions *g) {
        return log_error_errno(EOPNOTSUPP, "mount: not implemented yet");
}
int verb_umount(int argc, char **argv, GlobalOptions *g) {
        return log_error_errno(EOPNOTSUPP, "umount: not implemented yet");
}
