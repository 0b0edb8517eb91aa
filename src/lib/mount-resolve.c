/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mount-resolve: what a bind may not be led to by a symlink in the trees it
 * joins.
 *
 * Sources and targets are resolved in-root, so no symlink leads out of their
 * tree; but one inside it can still turn a bind around. In the ro profile the
 * writable binds of /srv, /etc, ... are subtrees of the overlay whose
 * read-only view is /: a symlink /srv -> / in the instance's state (which an
 * instance started in rw mode writes) would bind the whole overlay writable,
 * over / or at /srv, and every read-only path with it.
 */
#include "mount-internal.h"
#include "fsutil.h"
#include "util.h"

#include <fcntl.h>
#include <sys/stat.h>

/* The first component of path (relative to base) that is a symlink, as
 * "/a/b"; -ENOENT if none is. */
static int first_symlink(int base, const char *path, char **ret) {
        _cleanup_free_ char *norm = NULL;
        char *p;
        int r;

        r = path_normalize(path, &norm);
        if (r < 0)
                return r;
        p = norm;
        for (;;) {
                _cleanup_close_ int fd = -EBADF;
                char saved;

                while (*p == '/')
                        p++;
                if (!*p)
                        return -ENOENT;
                p += strcspn(p, "/");
                saved = *p;
                *p = 0;
                /* Every shorter prefix resolved without one: the symlink is
                 * the last component of this one. */
                fd = openat_in_root_nofollow(base, path_relative(norm), O_PATH, 0);
                if (fd == -ELOOP) {
                        char *link = strdup(norm);

                        if (!link)
                                return -ENOMEM;
                        *ret = link;
                        return 0;
                }
                *p = saved;
                if (fd < 0)
                        return fd;
        }
}

int mount_bind_path_check(int base, const char *path, int fd, bool strict, char **ret_link) {
        _cleanup_close_ int plain = -EBADF;
        struct stat st, root;
        int r;

        assert(base >= 0);
        assert(path);
        assert(fd >= 0);
        assert(ret_link);

        if (streq(path_relative(path), "."))
                return 0;
        plain = openat_in_root_nofollow(base, path_relative(path), O_PATH, 0);
        if (plain >= 0)
                return 0;
        if (plain != -ELOOP)
                return plain;
        if (!strict) {
                if (fstat(base, &root) < 0 || fstat(fd, &st) < 0)
                        return -errno;
                if (st.st_dev != root.st_dev || st.st_ino != root.st_ino)
                        return 0;
        }
        r = first_symlink(base, path, ret_link);
        /* Replaced meanwhile: still not what was asked for. */
        if (r == -ENOENT)
                return -ELOOP;
        return r < 0 ? r : -ELOOP;
}
