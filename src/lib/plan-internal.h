/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan-internal: what plan.c shares with the checks it runs over a whole plan.
 * Not for other modules.
 */
#pragma once

#include "plan.h"

/* Checks the directories the overlays of ops (in file order) write to: an upper
 * layer may not overlap state:/.work, and no two overlays may share an upper or
 * work directory or have one inside another's. Logs one FILE:LINE:COL line at
 * the upper= value of the later overlay and returns -EBADMSG. */
int plan_check_uppers(const MountOp *const *ops, size_t n_ops);
