/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mount-resolve: which symlinks a bind may be led through.
 *
 * Sources and targets are resolved in-root, so no symlink leads out of their
 * tree; but one inside it can still turn a bind around. In the ro profile the
 * writable binds of /srv, /etc, ... are subtrees of the overlay whose
 * read-only view is /: a symlink srv -> / or srv/data -> ../usr in the
 * instance's state (which an instance in rw mode, or root inside one, writes)
 * would bind the whole overlay, or /usr, writable.
 *
 * The image's own symlinks are the administrator's, and layouts rely on them
 * (ostree's /root -> var/roothome, merged /usr's /lib -> usr/lib,
 * /etc/localtime): a bind is led only through symlinks that the image has, with
 * the same target, at the same place. Whatever else (the state's, a tmpfs's, a
 * host bind's) is refused, wherever on the way it is met.
 */
#include "mount-internal.h"
#include "fsutil.h"
#include "util.h"

#include <fcntl.h>
#include <sys/stat.h>

#define WALK_MAX_LINKS 40

/* Where a walk is: the directories below the tree's root, and their path. */
typedef struct Walk {
        int *dirs; /* innermost last */
        size_t depth, cap;
        char *where; /* "" at the tree's root, else "/a/b" */
} Walk;

static void walk_done(Walk *w) {
        while (w->depth > 0)
                safe_close(w->dirs[--w->depth]);
        free(w->dirs);
        free(w->where);
}

static void walk_up(Walk *w) {
        /* As RESOLVE_IN_ROOT: ".." never climbs above the tree's root. */
        if (w->depth == 0)
                return;
        safe_close(w->dirs[--w->depth]);
        *strrchr(w->where, '/') = 0;
}

/* Takes fd, a directory named name below the current one. */
static int walk_down(Walk *w, const char *name, int fd) {
        char *where;

        if (w->depth == w->cap) {
                size_t cap = w->cap * 2 + 8;
                int *t = realloc(w->dirs, sizeof(int) * cap);

                if (!t) {
                        safe_close(fd);
                        return -ENOMEM;
                }
                w->dirs = t;
                w->cap = cap;
        }
        where = strjoin(w->where, "/", name);
        if (!where) {
                safe_close(fd);
                return -ENOMEM;
        }
        free(w->where);
        w->where = where;
        w->dirs[w->depth++] = fd;
        return 0;
}

/* Whether the image (image_fd: the tree's counterpart in it) has at dir/name a
 * symlink whose target is target. */
static bool image_has_link(int image_fd, const char *dir, const char *name, const char *target) {
        _cleanup_close_ int d = -EBADF;
        _cleanup_free_ char *t = NULL;

        if (image_fd < 0)
                return false;
        /* The walk reached dir through no symlink: the image's must be the
         * same path, not one its own links lead to. */
        d = openat_in_root_nofollow(image_fd, path_relative(dir), O_PATH | O_DIRECTORY, 0);
        if (d < 0)
                return false;
        return readlinkat_malloc(d, name, &t) >= 0 && streq(t, target);
}

int mount_bind_path_check(int base, const char *path, int fd, int image_fd, char **ret_link) {
        _cleanup_(walk_done) Walk w = {};
        _cleanup_free_ char *todo = NULL;
        struct stat st, want;
        bool have_end = false;
        unsigned links = 0;
        int r;

        assert(base >= 0);
        assert(path);
        assert(fd >= 0);
        assert(ret_link);

        *ret_link = NULL;
        /* Most paths have no symlink at all. */
        r = openat_in_root_nofollow(base, path_relative(path), O_PATH, 0);
        if (r >= 0) {
                safe_close(r);
                return 0;
        }
        if (r != -ELOOP)
                return r;

        todo = strdup(path);
        w.where = strdup("");
        if (!todo || !w.where)
                return -ENOMEM;
        for (;;) {
                _cleanup_free_ char *target = NULL, *next = NULL;
                int cur = w.depth > 0 ? w.dirs[w.depth - 1] : base, sub;
                char *comp = todo + strspn(todo, "/"), *rest;

                if (!*comp)
                        break;
                rest = comp + strcspn(comp, "/");
                if (*rest)
                        *rest++ = 0;
                if (streq(comp, ".") || streq(comp, "..")) {
                        if (streq(comp, ".."))
                                walk_up(&w);
                        memmove(todo, rest, strlen(rest) + 1);
                        continue;
                }
                if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (S_ISLNK(st.st_mode)) {
                        r = readlinkat_malloc(cur, comp, &target);
                        if (r < 0)
                                return r;
                        if (++links > WALK_MAX_LINKS)
                                return -ELOOP;
                        if (!image_has_link(image_fd, w.where, comp, target)) {
                                *ret_link = strjoin(w.where, "/", comp);
                                return *ret_link ? -ELOOP : -ENOMEM;
                        }
                        /* Trusted, but what it leads through is checked too. */
                        if (target[0] == '/')
                                while (w.depth > 0)
                                        walk_up(&w);
                        next = strjoin(target, "/", rest);
                        if (!next)
                                return -ENOMEM;
                        free(todo);
                        todo = TAKE_PTR(next);
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (rest[strspn(rest, "/")])
                                return -ENOTDIR;
                        have_end = true;
                        break;
                }
                sub = openat(cur, comp, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
                if (sub < 0)
                        return -errno;
                r = walk_down(&w, comp, sub);
                if (r < 0)
                        return r;
                memmove(todo, rest, strlen(rest) + 1);
        }
        if (!have_end && fstat(w.depth > 0 ? w.dirs[w.depth - 1] : base, &st) < 0)
                return -errno;
        if (fstat(fd, &want) < 0)
                return -errno;
        /* The tree changed between the two resolutions. */
        if (st.st_dev != want.st_dev || st.st_ino != want.st_ino)
                return -ESTALE;
        return 0;
}

/* The directory of the image that p's tree shows, into *ret; -EBADF if none
 * does: the state, a tmpfs, a host bind. */
static int image_counterpart(Apply *a, const MountOp *op, const PlanPath *p, int *ret) {
        const char *sub = "/";
        int fd;

        *ret = -EBADF;
        if (a->trees->image_fd < 0)
                return 0;
        if (p->base == BASE_ENTRY) {
                const MountOp *ref = &a->plan->ops[op->source_op];

                if ((ref->kind != OP_OVERLAY && ref->kind != OP_BIND) ||
                    ref->source.base != BASE_IMAGE)
                        return 0;
                sub = ref->source.path;
        } else if (p->base != BASE_ROOT)
                return 0;
        /* The root shows the image at / in every built-in profile; a custom
         * root with the same link as the image's resolves it the same way. */
        fd = openat_in_root(a->trees->image_fd, path_relative(sub), O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
                return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
        *ret = fd;
        return 0;
}

int apply_bind_check(Apply *a, const MountOp *op, const PlanPath *p, int base, int fd) {
        _cleanup_close_ int image = -EBADF;
        _cleanup_free_ char *link = NULL;
        const char *pre;
        int r;

        if (op->kind != OP_BIND || p->base == BASE_HOST || p->base == BASE_IMAGE)
                return 0;
        r = image_counterpart(a, op, p, &image);
        if (r >= 0)
                r = mount_bind_path_check(base, p->path, fd, image, &link);
        if (r >= 0)
                return 0;
        pre = apply_prefix_of(a, op, p);
        if (r == -ELOOP && link)
                return apply_fail(a, r, "%s%s is a symlink that is not the image's", pre, link);
        if (r == -ELOOP)
                return apply_fail(a, r, "too many symlinks on %s%s", pre, p->path);
        if (r == -ESTALE)
                return apply_fail(a, r, "%s%s changed while it was resolved", pre, p->path);
        return apply_fail(a, r, "cannot resolve %s%s", pre, p->path);
}
