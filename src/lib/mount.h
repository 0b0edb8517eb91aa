/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mount: the mount engine. Applies a Plan onto a directory with the kernel's
 * new mount API (open_tree/mount_setattr/move_mount for binds, fsopen/
 * fsconfig/fsmount for overlay, tmpfs, loop and dev), all or nothing: every
 * step is pushed on an undo stack, and any failure pops the stack in reverse
 * order before the error (one line naming the entry) is returned.
 *
 * Callers: `goldroot mount` (assembly.c) on a host directory, and the runner,
 * inside a fresh mount namespace, on the directory that becomes the
 * instance's root.
 */
#pragma once

#include "plan.h"

/* Which ops of a plan to apply. Shared ops (FILE:ENTRY targets) are host
 * mounts with reference counts; a runner that assembles a root inside a new
 * mount namespace takes them in the host namespace first (SHARED_ONLY) and then
 * builds the root in the child (SHARED_SKIP), where the host's shared mounts
 * are visible as sources. */
typedef enum MountSharedMode {
        MOUNT_SHARED_APPLY, /* everything in plan order (goldroot mount) */
        MOUNT_SHARED_ONLY,  /* only the shared ops */
        MOUNT_SHARED_SKIP,  /* everything but the shared ops */
} MountSharedMode;

typedef struct MountTrees {
        int image_fd;          /* O_PATH directory fd of the image tree, or -EBADF */
        int state_fd;          /* O_PATH directory fd of the instance state, or -EBADF */
        int root_fd;           /* O_PATH directory fd of the directory to assemble on */
        const char *root_path; /* that directory as the host sees it, for messages */
        /* Who holds the shared references this assembly takes (an assembly id
         * or "instance:NAME"); required when shared ops are applied. */
        const char *holder;
        /* An fd through which the caller already holds assembly_lock(), or
         * -EBADF: then mount_apply takes the lock itself while it applies
         * shared ops. */
        int lock_fd;
        MountSharedMode shared;
        /* If set, told of each mount before it is attached (mnt_fd: the mount,
         * not attached yet, at path under base) and of each shared reference
         * before it is taken (base HOST, mnt_fd -EBADF), so that the caller
         * can journal them: a run killed half way then leaves a record of all
         * it made. A negative return fails the apply. */
        int (*journal)(void *userdata, PathBase base, const char *path, int mnt_fd);
        void *journal_data;
} MountTrees;

#define MOUNT_TREES_INIT                                                                           \
        { .image_fd = -EBADF, .state_fd = -EBADF, .root_fd = -EBADF, .lock_fd = -EBADF }

typedef enum UndoKind {
        UNDO_UNMOUNT,    /* a mount attached at path (ROOT: in the assembly) */
        UNDO_SHARED_REF, /* a reference on the shared mount at host path */
        UNDO_RMDIR,      /* a directory created at path under its base */
        UNDO_UNLINK,     /* an empty file created as a mount point */
        _UNDO_KIND_MAX,
} UndoKind;

typedef struct UndoStep {
        UndoKind kind;
        PathBase base; /* ROOT for the assembly's mounts, HOST for shared ones */
        char *path;    /* absolute within base */
        /* UNMOUNT: the attached mount itself (what fsmount/open_tree returned),
         * so that undo detaches exactly that mount whatever lies on the path.
         * RMDIR, UNLINK: the tree the path is relative to. */
        int fd;
} UndoStep;

typedef struct MountUndo {
        UndoStep *steps; /* in the order they were done */
        size_t n_steps;
        char *holder; /* of the UNDO_SHARED_REF steps */
} MountUndo;

/* Applies plan onto trees->root_fd. On success *ret (if ret is not NULL) is
 * the undo stack of what was done; dropping it with mount_undo_free() keeps
 * the mounts. On failure everything done so far is undone, one line
 * "goldroot: mount entry 'NAME' (KIND on TARGET): WHY" is logged, and -errno
 * is returned. */
int mount_apply(const Plan *plan, const MountTrees *trees, MountUndo **ret);

/* A new tmpfs, attached nowhere, whose root directory has the octal mode,
 * at most size bytes large (0: the kernel's default, half of RAM): gone once
 * the fd and every mount made from it are. -errno on failure. */
int mount_detached_tmpfs(const char *mode, uint64_t size, int *ret_fd);

/* Undoes every step in reverse order (detach mounts, drop shared references,
 * remove created directories) and empties the stack; returns the first error
 * but carries on. lock_fd: as MountTrees.lock_fd. */
int mount_undo_run(MountUndo *u, int lock_fd);
MountUndo *mount_undo_free(MountUndo *u);
static inline void mount_undo_freep(MountUndo **u) {
        if (*u)
                mount_undo_free(*u);
}

/* MOUNT_ATTR_* for an entry's ENTRY_RO/NOSUID/NODEV/NOEXEC flags. */
unsigned mount_attr_from_flags(unsigned entry_flags);
