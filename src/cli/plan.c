/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plan: placeholder until the planner lands. */
#include "cli.h"

int verb_plan(int argc, char **argv, GlobalOptions *g) {
        return log_error_errno(EOPNOTSUPP, "plan: not implemented yet");
}
