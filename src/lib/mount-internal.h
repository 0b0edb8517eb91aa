/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mount-internal: what mount.c and mount-undo.c share, and nobody else. */
#pragma once

#include "mount.h"

/* "image:", "state:", "@" ...: how a PlanPath's base is written in messages. */
extern const char *const mount_base_prefix[_BASE_MAX];

int undo_push(MountUndo *u, UndoKind kind, PathBase base, const char *path, int fd);
/* Pushes the directories mkdir_p_in_root() made under tree_fd (outermost
 * first), so undo removes them innermost first. */
int undo_push_created(MountUndo *u, PathBase base, int tree_fd, char **created);
