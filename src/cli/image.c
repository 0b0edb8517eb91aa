/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image: placeholder until the store lands. */
#include "cli.h"

int verb_image(int argc, char **argv, GlobalOptions *g) {
        return log_error_errno(EOPNOTSUPP, "image: not implemented yet");
}
