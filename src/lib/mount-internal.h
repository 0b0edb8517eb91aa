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

/* Whether fd, what path resolved to in-root under the tree base, may be a
 * bind's source or target: -ELOOP if a symlink on path led there and either
 * strict is set (a directory goldroot creates and owns: no symlink at all) or
 * it led to the root of the tree; *ret_link is then the symlink's path (or
 * NULL if it is gone). 0 if fine, other -errno on failure. */
int mount_bind_path_check(int base, const char *path, int fd, bool strict, char **ret_link);
