/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fsutil: fd-relative opens, mkdir -p, rm -rf and tree copies that cannot be
 * steered out of a tree by symlinks.
 */
#include "fsutil.h"
#include "util.h"

#include <dirent.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/param.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define IN_ROOT_MAX_LINKS 40

int readlinkat_malloc(int dirfd, const char *name, char **ret) {
        _cleanup_free_ char *buf = malloc(PATH_MAX + 1);
        ssize_t n;

        if (!buf)
                return -ENOMEM;
        n = readlinkat(dirfd, name, buf, PATH_MAX + 1);
        if (n < 0)
                return -errno;
        if (n > PATH_MAX)
                return -ENAMETOOLONG;
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static void close_stack(int *stack, size_t depth) {
        while (depth > 0)
                safe_close(stack[--depth]);
        free(stack);
}

int openat_in_root_userspace(int rootfd, const char *path, int flags, mode_t mode,
                             bool no_symlinks) {
        _cleanup_free_ char *todo = NULL;
        int *stack = NULL; /* directories below rootfd, innermost last */
        size_t depth = 0, cap = 0;
        unsigned links = 0;
        int r;

        assert(rootfd >= 0 || rootfd == AT_FDCWD);
        assert(path);
        if (isempty(path))
                return -ENOENT;
        todo = strdup(path);
        if (!todo)
                return -ENOMEM;
        for (;;) {
                int cur = depth > 0 ? stack[depth - 1] : rootfd, fd;
                char *comp = todo, *rest;
                _cleanup_free_ char *target = NULL, *next = NULL;
                struct stat st;
                bool last;

                while (*comp == '/')
                        comp++;
                if (!*comp) {
                        /* The path named a directory already walked. */
                        fd = openat(cur, ".", flags | O_CLOEXEC, mode);
                        r = fd < 0 ? -errno : fd;
                        break;
                }
                rest = comp + strcspn(comp, "/");
                last = !rest[strspn(rest, "/")];
                if (*rest)
                        *rest++ = '\0';
                if (streq(comp, ".") || streq(comp, "..")) {
                        /* ".." is lexical: it never climbs above rootfd. */
                        if (streq(comp, "..") && depth > 0)
                                safe_close(stack[--depth]);
                        memmove(todo, rest, strlen(rest) + 1);
                        if (last && !*todo) {
                                todo[0] = '/';
                                todo[1] = '\0';
                        }
                        continue;
                }
                if (last) {
                        bool follow = !(flags & O_NOFOLLOW) &&
                                      fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
                                      S_ISLNK(st.st_mode);

                        if (!follow) {
                                fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                                if (fd < 0 && (errno != ELOOP || (flags & O_NOFOLLOW))) {
                                        r = -errno;
                                        break;
                                }
                                /* A symlink raced in: ELOOP, or an O_PATH fd of it. */
                                if (fd >= 0 && ((flags & O_NOFOLLOW) || !(flags & O_PATH) ||
                                                fstat(fd, &st) < 0 || !S_ISLNK(st.st_mode))) {
                                        r = fd;
                                        break;
                                }
                                safe_close(fd);
                        }
                } else {
                        fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0 || fstat(fd, &st) < 0) {
                                r = -errno;
                                safe_close(fd);
                                break;
                        }
                        if (S_ISDIR(st.st_mode)) {
                                if (depth == cap) {
                                        int *t = realloc(stack, sizeof(int) * (cap = cap * 2 + 8));
                                        if (!t) {
                                                safe_close(fd);
                                                r = -ENOMEM;
                                                break;
                                        }
                                        stack = t;
                                }
                                stack[depth++] = fd;
                                memmove(todo, rest, strlen(rest) + 1);
                                continue;
                        }
                        safe_close(fd);
                        if (!S_ISLNK(st.st_mode)) {
                                r = -ENOTDIR;
                                break;
                        }
                }
                /* A symlink: expanded by hand, an absolute one from rootfd. */
                if (no_symlinks || ++links > IN_ROOT_MAX_LINKS) {
                        r = -ELOOP;
                        break;
                }
                r = readlinkat_malloc(cur, comp, &target);
                if (r < 0)
                        break;
                if (target[0] == '/')
                        while (depth > 0)
                                safe_close(stack[--depth]);
                next = *rest ? strjoin(target, "/", rest) : strdup(target);
                if (!next) {
                        r = -ENOMEM;
                        break;
                }
                free(todo);
                todo = TAKE_PTR(next);
        }
        close_stack(stack, depth);
        return r;
}

static int openat2_flags(int rootfd, const char *path, int flags, mode_t mode, uint64_t resolve) {
        struct open_how how = {
                .flags = (uint64_t)flags | O_CLOEXEC,
                .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                .resolve = resolve,
        };
        long fd;

        assert(rootfd >= 0 || rootfd == AT_FDCWD);
        assert(path);
        fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        if (fd < 0 && errno == ENOSYS)
                /* Linux before 5.6, or valgrind, which does not know openat2. */
                return openat_in_root_userspace(rootfd, path, flags, mode,
                                                resolve & RESOLVE_NO_SYMLINKS);
        if (fd < 0)
                return -errno;
        return (int)fd;
}

int openat_in_root(int rootfd, const char *path, int flags, mode_t mode) {
        return openat2_flags(rootfd, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int openat_in_root_nofollow(int rootfd, const char *path, int flags, mode_t mode) {
        return openat2_flags(rootfd, path, flags, mode,
                             RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS);
}

int mkdir_p_in_root(int rootfd, const char *path, mode_t mode, int *ret_fd, char ***created) {
        _cleanup_free_ char *norm = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *rel;
        size_t done = 0;
        int r;

        r = path_normalize(path, &norm);
        if (r < 0)
                return r;
        rel = path_relative(norm);

        /* Fast path: it exists already. */
        fd = openat_in_root(rootfd, rel, O_PATH | O_DIRECTORY, 0);
        if (fd >= 0)
                goto done;
        if (fd != -ENOENT)
                return fd;

        fd = openat_in_root(rootfd, ".", O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
                return fd;
        while (rel[done]) {
                _cleanup_free_ char *component = NULL;
                const char *end = strchrnul(rel + done, '/');
                int next;

                component = strndup(rel + done, end - (rel + done));
                if (!component)
                        return -ENOMEM;
                if (mkdirat(fd, component, mode) >= 0) {
                        if (created) {
                                r = strv_consume(created, strndup(rel, end - rel));
                                if (r < 0)
                                        return r;
                        }
                } else if (errno != EEXIST)
                        return -errno;
                /* Resolve the component itself in-root, so a symlink raced in
                 * place of what we just made still cannot point outside. */
                {
                        _cleanup_free_ char *upto = strndup(rel, end - rel);
                        if (!upto)
                                return -ENOMEM;
                        next = openat_in_root(rootfd, upto, O_PATH | O_DIRECTORY, 0);
                }
                if (next < 0)
                        return next;
                safe_close(fd);
                fd = next;
                done = end - rel;
                while (rel[done] == '/')
                        done++;
        }
done:
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return 0;
}

static int rm_rf_children(int dirfd, dev_t dev) {
        DIR *d;
        struct dirent *de;
        int ret;

        ret = opendir_at(dirfd, ".", &d);
        if (ret < 0)
                return ret;
        while ((errno = 0, de = readdir(d))) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && ret == 0)
                                ret = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = -EBADF;
                        int r;

                        if (st.st_dev != dev) {
                                ret = ret ?: -EBUSY;
                                continue;
                        }
                        sub = openat(dirfd, de->d_name,
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                ret = ret ?: -errno;
                                continue;
                        }
                        r = rm_rf_children(sub, dev);
                        if (r < 0 && ret == 0)
                                ret = r;
                        if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT &&
                            ret == 0)
                                ret = -errno;
                } else if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT && ret == 0)
                        ret = -errno;
        }
        closedir(d);
        return ret;
}

int rm_rf_at(int dirfd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        r = rm_rf_children(fd, st.st_dev);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int xattr_names(const char *path, char **ret, size_t *ret_len) {
        _cleanup_free_ char *names = NULL;
        ssize_t n;

        assert(path && ret && ret_len);
        *ret = NULL;
        *ret_len = 0;
        n = listxattr(path, NULL, 0);
        if (n < 0)
                return errno == ENOTSUP ? 0 : -errno;
        if (n == 0)
                return 0;
        names = malloc(n);
        if (!names)
                return -ENOMEM;
        n = listxattr(path, names, n);
        if (n < 0)
                return errno == ERANGE ? -EAGAIN : -errno; /* they grew meanwhile */
        *ret = TAKE_PTR(names);
        *ret_len = (size_t)n;
        return 0;
}

int copy_xattrs_fd_filtered(int srcfd, int dstfd, bool (*skip)(const char *name)) {
        char fdbuf[FD_PATH_MAX], fdbuf2[FD_PATH_MAX];
        _cleanup_free_ char *names = NULL;
        const char *src = fd_path(srcfd, fdbuf), *dst = fd_path(dstfd, fdbuf2);
        size_t n;
        int r;

        /* O_PATH fds (symlinks) only take xattr calls by path. The following
         * calls on /proc/self/fd/N act on the object itself, a symlink included;
         * the l* calls would act on the proc link and see no xattrs at all. */
        r = xattr_names(src, &names, &n);
        if (r < 0)
                return r;
        for (char *k = names; k && k < names + n; k += strlen(k) + 1) {
                _cleanup_free_ char *value = NULL;
                ssize_t vn;

                if (skip && skip(k))
                        continue;
                vn = getxattr(src, k, NULL, 0);
                if (vn < 0)
                        return -errno;
                value = malloc(vn + 1);
                if (!value)
                        return -ENOMEM;
                vn = getxattr(src, k, value, vn);
                if (vn < 0)
                        return errno == ERANGE ? -EAGAIN : -errno;
                if (setxattr(dst, k, value, vn, 0) < 0 && errno != ENOTSUP)
                        return -errno;
        }
        return 0;
}

int copy_xattrs_fd(int srcfd, int dstfd) {
        return copy_xattrs_fd_filtered(srcfd, dstfd, NULL);
}

int copy_metadata_fd(int srcfd, const struct stat *st, int dstfd, bool copy_xattrs) {
        char fdbuf[FD_PATH_MAX];
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        int r;

        if (fchownat(dstfd, "", st->st_uid, st->st_gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (copy_xattrs) {
                r = copy_xattrs_fd(srcfd, dstfd);
                if (r < 0)
                        return r;
        }
        /* chmod after chown, which clears set-id bits, and after xattrs, since
         * security.capability is also cleared by chown. */
        if (!S_ISLNK(st->st_mode) &&
            fchmodat(AT_FDCWD, fd_path(dstfd, fdbuf), st->st_mode & 07777, 0) < 0)
                return -errno;
        if (utimensat(AT_FDCWD, fd_path(dstfd, fdbuf), ts,
                      S_ISLNK(st->st_mode) ? AT_SYMLINK_NOFOLLOW : 0) < 0 &&
            !S_ISLNK(st->st_mode))
                return -errno;
        return 0;
}

int write_all(int fd, const void *data, size_t n) {
        for (size_t w = 0; w < n;) {
                ssize_t k = write(fd, (const uint8_t *)data + w, n - w);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                w += (size_t)k;
        }
        return 0;
}

/* Copies len bytes at src offset *in to dst offset *out, advancing both:
 * copy_file_range where it works, else pread and pwrite. */
static int copy_range(int src, loff_t *in, int dst, loff_t *out, uint64_t len) {
        bool plain = false;

        while (len > 0) {
                char buf[65536];
                ssize_t n, k;

                if (!plain) {
                        n = copy_file_range(src, in, dst, out, MIN(len, (uint64_t)1 << 30), 0);
                        if (n > 0) {
                                len -= n;
                                continue;
                        }
                        if (n == 0)
                                return 0; /* the file shrank */
                        if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP &&
                            errno != ENOSYS)
                                return -errno;
                        plain = true;
                }
                n = pread(src, buf, MIN(len, sizeof buf), *in);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                for (ssize_t w = 0; w < n; w += k) {
                        k = pwrite(dst, buf + w, n - w, *out + w);
                        if (k < 0)
                                return -errno;
                }
                *in += n;
                *out += n;
                len -= n;
        }
        return 0;
}

/* Copies src's data extents to dst at base + their offset; a hole stays a
 * hole (a sparse disk image would otherwise take its whole size). */
static int copy_extents(int src, int dst, loff_t base, loff_t size) {
        loff_t in = 0, out;
        int r;

        for (;;) {
                loff_t data = lseek(src, in, SEEK_DATA), hole;

                if (data < 0 && errno == ENXIO)
                        break; /* only a hole up to the end */
                if (data < 0 && (errno == EINVAL || errno == EOPNOTSUPP)) {
                        data = in; /* no hole detection: all of it is data */
                        hole = size;
                } else if (data < 0)
                        return -errno;
                else {
                        hole = lseek(src, data, SEEK_HOLE);
                        if (hole < 0)
                                return -errno;
                }
                if (hole <= data)
                        break;
                in = data;
                out = base + data;
                r = copy_range(src, &in, dst, &out, hole - data);
                if (r < 0)
                        return r;
                if (in < hole)
                        break; /* the file shrank */
        }
        return 0;
}

int copy_fd_data(int src, int dst) {
        loff_t base, size, pos;
        struct stat st;
        int r;

        /* A reflink shares the extents copy-on-write where the file system can. */
        if (ioctl(dst, FICLONE, src) >= 0)
                return 0;
        if (fstat(src, &st) < 0)
                return -errno;
        size = st.st_size;
        base = lseek(dst, 0, SEEK_CUR);
        pos = lseek(src, 0, SEEK_CUR); /* SEEK_DATA moves it; it is put back */
        if (base < 0 || pos < 0)
                return -errno;
        r = copy_extents(src, dst, base, size);
        if (lseek(src, pos, SEEK_SET) < 0 && r >= 0)
                r = -errno;
        if (r < 0)
                return r;
        /* A trailing hole: only the size says where the file ends. */
        if (fstat(dst, &st) < 0)
                return -errno;
        if (st.st_size < base + size && ftruncate(dst, base + size) < 0)
                return -errno;
        /* As a plain copy would, leave dst's position after the data. */
        if (lseek(dst, MAX(base + size, st.st_size), SEEK_SET) < 0)
                return -errno;
        return 0;
}

int copy_file_at(int src_dirfd, const char *src_name, int dst_dirfd, const char *dst_name) {
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        struct stat st;
        int r;

        in = openat(src_dirfd, src_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return -errno;
        if (fstat(in, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        out = openat(dst_dirfd, dst_name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                     0600);
        if (out < 0)
                return -errno;
        r = copy_fd_data(in, out);
        if (r < 0)
                return r;
        return copy_metadata_fd(in, &st, out, true);
}

static int copy_entry(int src_dirfd, int dst_dirfd, const char *name, const struct stat *st) {
        _cleanup_close_ int dst = -EBADF, src = -EBADF;
        int r;

        if (S_ISREG(st->st_mode)) {
                (void)unlinkat(dst_dirfd, name, 0);
                return copy_file_at(src_dirfd, name, dst_dirfd, name);
        }
        if (S_ISDIR(st->st_mode)) {
                if (mkdirat(dst_dirfd, name, 0700) < 0 && errno != EEXIST)
                        return -errno;
                src = openat(src_dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (src < 0)
                        return -errno;
                dst = openat(dst_dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dst < 0)
                        return -errno;
                r = copy_tree_contents_at(src, dst);
                if (r < 0)
                        return r;
                return copy_metadata_fd(src, st, dst, true);
        }
        (void)unlinkat(dst_dirfd, name, 0);
        if (S_ISLNK(st->st_mode)) {
                _cleanup_free_ char *target = malloc(st->st_size + 1);
                ssize_t n;
                if (!target)
                        return -ENOMEM;
                n = readlinkat(src_dirfd, name, target, st->st_size + 1);
                if (n < 0)
                        return -errno;
                if (n > st->st_size)
                        return -EAGAIN; /* changed under us */
                target[n] = 0;
                if (symlinkat(target, dst_dirfd, name) < 0)
                        return -errno;
        } else if (mknodat(dst_dirfd, name, st->st_mode & (S_IFMT | 0600), st->st_rdev) < 0)
                return -errno;
        src = openat(src_dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (src < 0)
                return -errno;
        dst = openat(dst_dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (dst < 0)
                return -errno;
        return copy_metadata_fd(src, st, dst, !S_ISLNK(st->st_mode));
}

int copy_tree_contents_at(int src_dirfd, int dst_dirfd) {
        _cleanup_close_ int iterfd = -EBADF;
        struct dirent *de;
        DIR *d = NULL;
        int r = 0;

        r = opendir_at(src_dirfd, ".", &d);
        if (r < 0)
                return r;
        while ((errno = 0, de = readdir(d))) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(src_dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                r = copy_entry(src_dirfd, dst_dirfd, de->d_name, &st);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

int read_file_at(int dirfd, const char *path, char **ret, size_t *ret_len, size_t max) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 4096;

        fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        {
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (!S_ISREG(st.st_mode))
                        return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
        }
        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;
                if (len + 1 >= cap) {
                        char *t;
                        if (cap > max + 1)
                                return -EFBIG;
                        t = realloc(buf, cap * 2);
                        if (!t)
                                return -ENOMEM;
                        buf = t;
                        cap *= 2;
                }
                n = read(fd, buf + len, cap - len - 1);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += n;
                if (len > max)
                        return -EFBIG;
        }
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int write_file_replace(int dirfd, const char *name, const void *data, size_t len,
                              mode_t mode, bool sync) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf_safe(&tmp, "%.*s.#gr%08x", (int)strlen(name), name, (unsigned)random()) < 0)
                return -ENOMEM;
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        for (size_t w = 0; w < len;) {
                ssize_t n = write(fd, (const char *)data + w, len - w);
                if (n < 0) {
                        r = -errno;
                        goto fail;
                }
                w += n;
        }
        if (fchmod(fd, mode) < 0 || (sync && fsync(fd) < 0)) {
                r = -errno;
                goto fail;
        }
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;
fail:
        (void)unlinkat(dirfd, tmp, 0);
        return r;
}

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode) {
        return write_file_replace(dirfd, name, data, len, mode, true);
}

int write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode) {
        return write_file_replace(dirfd, name, data, len, mode, false);
}

const char *fd_path(int fd, char buf[static FD_PATH_MAX]) {
        snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
        return buf;
}

int is_mount_point_at(int dirfd, const char *path) {
        struct statx sx;

        if (statx(dirfd, path, AT_SYMLINK_NOFOLLOW | (isempty(path) ? AT_EMPTY_PATH : 0), 0, &sx) <
            0)
                return -errno;
        if (!(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return -EOPNOTSUPP;
        return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x4000U
#endif

int mount_id_at(int dirfd, const char *path, uint64_t *ret) {
        struct statx sx;

        if (statx(dirfd, path, AT_SYMLINK_NOFOLLOW | (isempty(path) ? AT_EMPTY_PATH : 0),
                  STATX_MNT_ID | STATX_MNT_ID_UNIQUE, &sx) < 0)
                return -errno;
        if (!(sx.stx_mask & (STATX_MNT_ID | STATX_MNT_ID_UNIQUE)))
                return -EOPNOTSUPP;
        *ret = sx.stx_mnt_id;
        return 0;
}

#ifndef __NR_statmount
#define __NR_statmount 457
#endif

int mount_id_exists(uint64_t id) {
        /* struct mnt_id_req (version 0) and a buffer for struct statmount
         * without strings: only whether the kernel finds the id matters. */
        struct {
                uint32_t size, spare;
                uint64_t mnt_id, param;
        } req = {.size = 24, .mnt_id = id, .param = 0x2 /* STATMOUNT_MNT_BASIC */};
        uint64_t buf[128] = {};
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        /* EOVERFLOW: found, with more to say than the buffer holds. */
        if (syscall(__NR_statmount, &req, buf, sizeof buf, 0) >= 0 || errno == EOVERFLOW)
                return 1;
        if (errno == ENOENT)
                return 0;
        if (errno != ENOSYS)
                return -errno;
        /* Before Linux 6.8 mount_id_at() gives the classic id, which
         * mountinfo's first field is. */
        f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return -errno;
        while (getline(&line, &size, f) > 0)
                if (strtoull(line, NULL, 10) == id)
                        return 1;
        return 0;
}

int opendir_at(int dirfd, const char *path, DIR **ret) {
        DIR *d;
        int fd;

        assert(path && ret);
        fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                int r = negative_errno();
                safe_close(fd);
                return r;
        }
        *ret = d;
        return 0;
}
