/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-fs: the file-level work of the store: xattrs (including those of
 * symlinks and special files), applying an entry's metadata in the order the
 * kernel needs, and copying file data.
 */
#include "fsutil.h"
#include "store-internal.h"

#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>

/* xattrs. Symlinks and special files cannot be opened for f*xattr, so they go
 * through /proc/self/fd/DIRFD/NAME with the l* calls, which act on NAME
 * itself and resolve only the directory fd's magic link. */

/* Not a leak: the names and values live on in x (freed by xattrs_free or returned); gcc 12 drops a
 * moved realloc buffer's contents. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int xattrs_collect(const char *path, int fd, Xattr **ret, size_t *ret_n) {
        _cleanup_free_ char *names = NULL;
        Xattr *x = NULL;
        size_t n = 0;
        ssize_t len;
        int r;

        len = fd >= 0 ? flistxattr(fd, NULL, 0) : llistxattr(path, NULL, 0);
        if (len < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP)) {
                len = 0;
        } else if (len < 0)
                return -errno;
        if (len > 0) {
                names = malloc(len);
                if (!names)
                        return -ENOMEM;
                len = fd >= 0 ? flistxattr(fd, names, len) : llistxattr(path, names, len);
                if (len < 0)
                        return -errno;
        }
        for (char *k = names; k && k < names + len; k += strlen(k) + 1) {
                ssize_t vn;
                Xattr *t = realloc(x, (n + 1) * sizeof *x);
                if (!t) {
                        r = -ENOMEM;
                        goto fail;
                }
                x = t;
                x[n] = (Xattr){.name = strdup(k)};
                n++;
                vn = fd >= 0 ? fgetxattr(fd, k, NULL, 0) : lgetxattr(path, k, NULL, 0);
                if (vn < 0) {
                        r = -errno;
                        goto fail;
                }
                x[n - 1].value = malloc(vn + 1);
                if (!x[n - 1].name || !x[n - 1].value) {
                        r = -ENOMEM;
                        goto fail;
                }
                vn = fd >= 0 ? fgetxattr(fd, k, x[n - 1].value, vn)
                             : lgetxattr(path, k, x[n - 1].value, vn);
                if (vn < 0) {
                        r = -errno;
                        goto fail;
                }
                x[n - 1].size = (size_t)vn;
        }
        r = xattrs_sort(x, n);
        if (r < 0)
                goto fail;
        *ret = x;
        *ret_n = n;
        return 0;
fail:
        xattrs_free(x, n);
        return r;
}
#pragma GCC diagnostic pop

int xattrs_read_fd(int fd, Xattr **ret, size_t *ret_n) {
        return xattrs_collect(NULL, fd, ret, ret_n);
}

static int proc_child_path(int dirfd, const char *name, char **ret) {
        return asprintf_safe(ret, "/proc/self/fd/%d/%s", dirfd, name);
}

int xattrs_read_at(int dirfd, const char *name, Xattr **ret, size_t *ret_n) {
        _cleanup_free_ char *p = NULL;
        if (proc_child_path(dirfd, name, &p) < 0)
                return -ENOMEM;
        return xattrs_collect(p, -EBADF, ret, ret_n);
}

int xattrs_apply_fd(int fd, const Xattr *x, size_t n, const Xattr **ret_failed) {
        for (size_t i = 0; i < n; i++)
                if (fsetxattr(fd, x[i].name, x[i].value, x[i].size, 0) < 0) {
                        if (ret_failed)
                                *ret_failed = &x[i];
                        return -errno;
                }
        return 0;
}

int xattrs_apply_at(int dirfd, const char *name, const Xattr *x, size_t n,
                    const Xattr **ret_failed) {
        _cleanup_free_ char *p = NULL;
        if (n == 0)
                return 0;
        if (proc_child_path(dirfd, name, &p) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (lsetxattr(p, x[i].name, x[i].value, x[i].size, 0) < 0) {
                        if (ret_failed)
                                *ret_failed = &x[i];
                        return -errno;
                }
        return 0;
}

int xattrs_copy(const Xattr *x, size_t n, Xattr **ret) {
        Xattr *c;

        *ret = NULL;
        if (n == 0)
                return 0;
        c = calloc(n, sizeof *c);
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                c[i].name = strdup(x[i].name);
                c[i].value = malloc(x[i].size + 1);
                c[i].size = x[i].size;
                if (!c[i].name || !c[i].value) {
                        xattrs_free(c, n);
                        return -ENOMEM;
                }
                memcpy(c[i].value, x[i].value, x[i].size);
        }
        *ret = c;
        return 0;
}

/* Applies owner, xattrs, mode and mtime to a file we just made. chown comes
 * first because it clears set-id bits and security.capability. */
int metadata_apply_fd_full(int fd, const ManifestEntry *e, const Xattr **ret_failed) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
                                 {.tv_sec = e->mtime_sec, .tv_nsec = e->mtime_nsec}};
        int r;

        if (ret_failed)
                *ret_failed = NULL;
        if (fchown(fd, e->uid, e->gid) < 0)
                return -errno;
        r = xattrs_apply_fd(fd, e->xattrs, e->n_xattrs, ret_failed);
        if (r < 0)
                return r;
        if (fchmod(fd, e->mode & 07777) < 0)
                return -errno;
        if (futimens(fd, ts) < 0)
                return -errno;
        return 0;
}

int metadata_apply_at_full(int dirfd, const char *name, const ManifestEntry *e,
                           const Xattr **ret_failed) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
                                 {.tv_sec = e->mtime_sec, .tv_nsec = e->mtime_nsec}};
        int r;

        if (ret_failed)
                *ret_failed = NULL;
        if (fchownat(dirfd, name, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        r = xattrs_apply_at(dirfd, name, e->xattrs, e->n_xattrs, ret_failed);
        if (r < 0)
                return r;
        if (!S_ISLNK(e->mode) && fchmodat(dirfd, name, e->mode & 07777, 0) < 0)
                return -errno;
        if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

int metadata_apply_fd(int fd, const ManifestEntry *e) {
        return metadata_apply_fd_full(fd, e, NULL);
}

int metadata_apply_at(int dirfd, const char *name, const ManifestEntry *e) {
        return metadata_apply_at_full(dirfd, name, e, NULL);
}

/* Copies all of src (from offset 0) into dst, reflinking when it can. */
