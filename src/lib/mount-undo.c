/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mount-undo: the undo stack of the mount engine. Each step holds an fd of
 * what it undoes (the attached mount itself, or the tree a directory was made
 * in), so rolling back acts on exactly what this run made, even if a guest
 * has since planted symlinks along the paths.
 */
#include "assembly.h"
#include "fsutil.h"
#include "mount-internal.h"
#include "mount.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>

int undo_push(MountUndo *u, UndoKind kind, PathBase base, const char *path, int fd) {
        UndoStep *t;
        char *p;

        p = strdup(path);
        if (!p)
                return -ENOMEM;
        t = realloc(u->steps, sizeof *t * (u->n_steps + 1));
        if (!t) {
                free(p);
                return -ENOMEM;
        }
        /* Filled through t before it is published: gcc 12's analyzer loses a
         * pointer stored through u->steps right after a realloc in place. */
        t[u->n_steps] = (UndoStep){.kind = kind, .base = base, .path = p, .fd = fd};
        u->steps = t;
        u->n_steps++;
        return 0;
}

/* Pushes the directories mkdir_p_in_root() made under tree_fd (outermost
 * first), so undo removes them innermost first. */
int undo_push_created(MountUndo *u, PathBase base, int tree_fd, char **created) {
        for (size_t i = 0; created && created[i]; i++) {
                int fd, r;

                fd = fcntl(tree_fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return -errno;
                r = undo_push(u, UNDO_RMDIR, base, created[i], fd);
                if (r < 0) {
                        safe_close(fd);
                        return r;
                }
        }
        return 0;
}

static int undo_remove(const UndoStep *s) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int parent = -EBADF;
        const char *rel = path_relative(s->path), *slash = strrchr(rel, '/');
        const char *name = slash ? slash + 1 : rel;

        dir = slash ? strndup(rel, slash - rel) : strdup(".");
        if (!dir)
                return -ENOMEM;
        /* In-root: a symlink on the way (planted before or since) resolves
         * inside the tree like it did when the directory was made. */
        parent = openat_in_root(s->fd, dir, O_PATH | O_DIRECTORY, 0);
        if (parent < 0)
                return parent == -ENOENT ? 0 : parent;
        if (unlinkat(parent, name, s->kind == UNDO_RMDIR ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* Removes the empty directories under dirfd (depth first, never following a
 * symlink, at most depth levels down); anything else stays. */
static void remove_empty_dirs(int dirfd, unsigned depth) {
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        DIR *d;

        if (depth == 0 || opendir_at(dirfd, ".", &d) < 0)
                return;
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    strv_extend(&names, de->d_name) < 0)
                        break;
        closedir(d);
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_close_ int sub =
                        openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                if (sub < 0)
                        continue;
                remove_empty_dirs(sub, depth - 1);
                (void)unlinkat(dirfd, names[i], AT_REMOVEDIR);
        }
}

/* A directory this run made that is not empty any more: the kernel fills an
 * overlay's work directory ("work", "index"). Those are empty once the overlay
 * is gone, so the empty directories inside go; a file keeps it. */
static int undo_rmdir_filled(const UndoStep *s) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat_in_root(s->fd, path_relative(s->path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        remove_empty_dirs(fd, 4);
        return undo_remove(s);
}

static int undo_step(MountUndo *u, UndoStep *s) {
        char buf[FD_PATH_MAX];
        int r = 0;

        switch (s->kind) {
        case UNDO_UNMOUNT:
                /* Detach: our own fd keeps the mount busy, and a recursive bind
                 * takes its submounts along. EINVAL: already gone with a parent. */
                if (umount2(fd_path(s->fd, buf), MNT_DETACH) < 0 && errno != EINVAL)
                        r = log_warning_errno(errno, "cannot unmount %s: %m", s->path);
                break;
        case UNDO_SHARED_REF:
                r = shared_ref_release(s->path, u->holder);
                break;
        case UNDO_RMDIR:
        case UNDO_UNLINK:
                r = undo_remove(s);
                if (r == -ENOTEMPTY && s->kind == UNDO_RMDIR)
                        r = undo_rmdir_filled(s);
                if (r < 0 && r != -ENOTEMPTY && r != -EBUSY)
                        log_warning_errno(r, "cannot remove %s%s: %m", mount_base_prefix[s->base],
                                          s->path);
                else
                        r = 0;
                break;
        default:
                assert(false);
        }
        s->fd = safe_close(s->fd);
        return r;
}

static bool undo_has_shared(const MountUndo *u) {
        for (size_t i = 0; i < u->n_steps; i++)
                if (u->steps[i].kind == UNDO_SHARED_REF)
                        return true;
        return false;
}

int mount_undo_run(MountUndo *u, int lock_fd) {
        _cleanup_close_ int own_lock = -EBADF;
        int ret = 0, r;

        assert(u);
        if (lock_fd < 0 && undo_has_shared(u)) {
                r = assembly_lock(&own_lock);
                if (r < 0)
                        return r;
        }
        while (u->n_steps > 0) {
                UndoStep *s = &u->steps[--u->n_steps];

                r = undo_step(u, s);
                if (r < 0 && ret == 0)
                        ret = r;
                free(s->path);
        }
        return ret;
}

MountUndo *mount_undo_free(MountUndo *u) {
        if (!u)
                return NULL;
        for (size_t i = 0; i < u->n_steps; i++) {
                safe_close(u->steps[i].fd);
                free(u->steps[i].path);
        }
        free(u->steps);
        free(u->holder);
        free(u);
        return NULL;
}
