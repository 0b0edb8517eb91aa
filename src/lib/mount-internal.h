/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mount-internal: what mount.c, mount-block.c, mount-resolve.c and
 * mount-undo.c share, and nobody else. */
#pragma once

#include "mount.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>

/* "image:", "state:", "@" ...: how a PlanPath's base is written in messages. */
extern const char *const mount_base_prefix[_BASE_MAX];

int undo_push(MountUndo *u, UndoKind kind, PathBase base, const char *path, int fd);
/* Pushes the directories mkdir_p_in_root() made under tree_fd (outermost
 * first), so undo removes them innermost first. */
int undo_push_created(MountUndo *u, PathBase base, int tree_fd, char **created);

/* Whether fd, what path resolved to in-root under the tree base, may be a
 * bind's source or target: path is walked as RESOLVE_IN_ROOT does, and every
 * symlink met on the way must be the image's, one with the same target at the
 * same path under image_fd (the tree's counterpart in the image, or -EBADF if it
 * has none: then no symlink is). -ELOOP if one is not (*ret_link: its path in
 * the tree) or there are too many (*ret_link NULL); -ESTALE if the walk did
 * not end at fd; 0 if fine, other -errno on failure. */
int mount_bind_path_check(int base, const char *path, int fd, int image_fd, char **ret_link);

/* One run of mount_apply(). */
typedef struct Apply {
        const Plan *plan;
        const MountTrees *trees;
        int root_fd; /* the assembly root: trees->root_fd, or the mount on "/" (borrowed) */
        int host_fd; /* "/" of the host, opened on first use */
        MountUndo *undo;
        size_t cur; /* index of the op being applied */
        /* Per op: its mount, for the @ENTRY sources of later ops. An aside op's
         * is the only reference to its detached mount until something is
         * cloned from it; all are closed when the apply is done. */
        int *fds;
        bool *keep;       /* an @ENTRY source refers to the op: keep a dup of its fd */
        /* The mounts this apply made that show the image (their mount ids):
         * a bind whose source lies on one is a view of the image too. */
        uint64_t *image_mnt_ids;
        size_t n_image_mnt_ids;
        char prefix[160]; /* "@ENTRY:" for messages, see prefix_of() */
        char why[768];    /* the failed step, for the one-line error */
} Apply;

/* What to print before p's path in a message: "image:", "@rw:" and so on. */
const char *apply_prefix_of(Apply *a, const MountOp *op, const PlanPath *p);
/* Records what failed and returns -|r|, so a step can `return apply_fail(a,
 * r, ...)`; mount_apply() turns it into the one logged line. */
int apply_fail(Apply *a, int r, const char *fmt, ...) _printf_(3, 4);
/* The op's source (or target), resolved in-root in its tree; with mkdir (or
 * create), missing directories are made and pushed for undo. */
int apply_open_source(Apply *a, const MountOp *op, int flags, bool mkdir, int *ret_fd);
int apply_open_target(Apply *a, const MountOp *op, bool create, bool source_is_dir, int *ret_fd);
/* For a bind, mount_bind_path_check() on p (its source or target, opened as
 * fd in-root under base); a refusal is recorded with apply_fail(). */
int apply_bind_check(Apply *a, const MountOp *op, const PlanPath *p, int base, int fd);
/* Attaches the detached mount mfd (taken) onto target_fd and pushes it. */
int apply_attach(Apply *a, const MountOp *op, int mfd, int target_fd);
/* Keeps mfd (taken) as the op's mount aside, for later @ENTRY sources. */
int apply_keep_aside(Apply *a, int mfd);
/* Puts the op's detached mount mfd (taken) in place: kept aside, or attached
 * on its target (which must exist, as a directory). */
int apply_place(Apply *a, const MountOp *op, int mfd);
/* fsopen(type), fsconfig(key, value) and fsmount(), failing with the
 * kernel's own message when it gives one. */
int apply_fs_open(Apply *a, const char *type, int *ret_fs);
int apply_fs_set(Apply *a, int fs, const char *key, const char *value);
int apply_fs_mount(Apply *a, int fs, const char *type, unsigned attrs, int *ret_mfd);

/* mount-block.c: the loop and dev entry types. */
int mount_apply_loop(Apply *a, const MountOp *op);
int mount_apply_dev(Apply *a, const MountOp *op);
