/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * merge-tree: nodes and digests, and the MergeTree backed by a real directory.
 *
 * The directory tree answers lookups with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_SYMLINKS), so a symlink anywhere in a path makes the path absent
 * rather than followed, exactly as overlayfs treats a lower symlink under an
 * upper directory. Content is hashed only when a comparison asks for it.
 */
#include "merge-internal.h"
#include "fsutil.h"
#include "manifest.h"
#include "sha256.h"
#include "util.h"

#include <dirent.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

MergeNodeType merge_node_type_from_mode(mode_t mode) {
        switch (mode & S_IFMT) {
        case S_IFREG:
                return MERGE_NODE_REG;
        case S_IFDIR:
                return MERGE_NODE_DIR;
        case S_IFLNK:
                return MERGE_NODE_LNK;
        case S_IFIFO:
                return MERGE_NODE_FIFO;
        case S_IFSOCK:
                return MERGE_NODE_SOCK;
        case S_IFCHR:
                return MERGE_NODE_CHR;
        case S_IFBLK:
                return MERGE_NODE_BLK;
        default:
                return MERGE_NODE_ABSENT;
        }
}

const char *merge_node_type_to_string(MergeNodeType t) {
        static const char *const names[_MERGE_NODE_TYPE_MAX] = {
                [MERGE_NODE_ABSENT] = "nothing",
                [MERGE_NODE_REG] = "regular file",
                [MERGE_NODE_DIR] = "directory",
                [MERGE_NODE_LNK] = "symlink",
                [MERGE_NODE_FIFO] = "fifo",
                [MERGE_NODE_SOCK] = "socket",
                [MERGE_NODE_CHR] = "character device",
                [MERGE_NODE_BLK] = "block device",
        };
        return t >= 0 && t < _MERGE_NODE_TYPE_MAX ? names[t] : "unknown";
}

bool merge_xattr_is_overlay(const char *name) {
        return startswith(name, "trusted.overlay.") || startswith(name, "user.overlay.");
}

/* The xattr calls act on what /proc/self/fd/N refers to (a symlink itself, for
 * an O_PATH fd of one) only in their following variants; the l* variants would
 * act on the proc link. */
bool merge_fd_is_opaque(int fd) {
        char buf[FD_PATH_MAX], v[2];
        const char *p = fd_path(fd, buf);

        /* user.overlay.* is what overlayfs uses when mounted with userxattr. */
        return (getxattr(p, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y') ||
               (getxattr(p, "user.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y');
}

_Static_assert(MERGE_DIGEST_MAX == DIGEST_HEX_SIZE, "merge digests are sha256 in hex");

static int sha256_finish(Sha256 *ctx, char ret[static MERGE_DIGEST_MAX]) {
        uint8_t md[SHA256_SIZE];
        int r;

        r = sha256_final(ctx, md);
        if (r < 0)
                return r;
        digest_to_hex(md, ret);
        return 0;
}

static int sha256_buf(const void *data, size_t len, char ret[static MERGE_DIGEST_MAX]) {
        uint8_t md[SHA256_SIZE];
        int r;

        r = sha256_buffer(data, len, md);
        if (r < 0)
                return r;
        digest_to_hex(md, ret);
        return 0;
}

int merge_content_digest_fd(int fd, char ret[static MERGE_DIGEST_MAX]) {
        _cleanup_(sha256_freep) Sha256 *ctx = NULL;
        _cleanup_free_ char *buf = NULL;
        const size_t bufsize = 128 * 1024;
        int r;

        r = sha256_new(&ctx);
        if (r < 0)
                return r;
        buf = malloc(bufsize);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf, bufsize);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                if (sha256_update(ctx, buf, n) < 0)
                        return -EIO;
        }
        return sha256_finish(ctx, ret);
}

static bool xattr_is_redirect_or_metacopy(const char *name) {
        const char *k = startswith(name, "trusted.overlay.") ?: startswith(name, "user.overlay.");
        return k && (streq(k, "redirect") || streq(k, "metacopy"));
}

static int xattr_digest(int fd, char ret[static MERGE_DIGEST_MAX], bool *ret_unsupported) {
        _cleanup_(sha256_freep) Sha256 *ctx = NULL;
        _cleanup_free_ char *names = NULL;
        _cleanup_free_ const char **sorted = NULL;
        char buf[FD_PATH_MAX];
        const char *p = fd_path(fd, buf);
        size_t n_sorted = 0, n;
        int r;

        ret[0] = 0;
        r = xattr_names(p, &names, &n);
        if (r < 0)
                return r;
        if (n == 0)
                return 0;
        sorted = calloc(n, sizeof(char *));
        if (!sorted)
                return -ENOMEM;
        for (char *k = names; k < names + n; k += strlen(k) + 1) {
                if (ret_unsupported && xattr_is_redirect_or_metacopy(k))
                        *ret_unsupported = true;
                if (!merge_xattr_is_overlay(k))
                        sorted[n_sorted++] = k;
        }
        if (n_sorted == 0)
                return 0;
        qsort(sorted, n_sorted, sizeof(char *), strv_compare_entries);

        r = sha256_new(&ctx);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_sorted; i++) {
                _cleanup_free_ char *value = NULL;
                unsigned char len_le[8];
                ssize_t vn = getxattr(p, sorted[i], NULL, 0);
                if (vn < 0)
                        return -errno;
                value = malloc(vn + 1);
                if (!value)
                        return -ENOMEM;
                vn = getxattr(p, sorted[i], value, vn);
                if (vn < 0)
                        return errno == ERANGE ? -EAGAIN : -errno;
                for (int b = 0; b < 8; b++)
                        len_le[b] = (uint64_t)vn >> (8 * b);
                if (sha256_update(ctx, sorted[i], strlen(sorted[i]) + 1) < 0 ||
                    sha256_update(ctx, len_le, sizeof len_le) < 0 ||
                    sha256_update(ctx, value, vn) < 0)
                        return -EIO;
        }
        return sha256_finish(ctx, ret);
}

int merge_xattr_digest_fd(int fd, char ret[static MERGE_DIGEST_MAX]) {
        return xattr_digest(fd, ret, NULL);
}

static int readlink_fd(int fd, char **ret) {
        size_t size = 256;

        for (;;) {
                _cleanup_free_ char *buf = malloc(size);
                ssize_t n;

                if (!buf)
                        return -ENOMEM;
                n = readlinkat(fd, "", buf, size);
                if (n < 0)
                        return negative_errno();
                if ((size_t)n < size) {
                        buf[n] = 0;
                        *ret = TAKE_PTR(buf);
                        return 0;
                }
                if (size >= 1u << 20)
                        return -ENAMETOOLONG;
                size *= 2;
        }
}

int merge_node_from_fd(int fd, const struct stat *st, MergeNode *ret, bool *ret_unsupported) {
        MergeNode n = {
                .type = merge_node_type_from_mode(st->st_mode),
                .mode = st->st_mode & 07777,
                .uid = st->st_uid,
                .gid = st->st_gid,
                .size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0,
        };
        int r;

        if (n.type == MERGE_NODE_ABSENT)
                return -EBADFD;
        if (n.type == MERGE_NODE_LNK) {
                _cleanup_free_ char *target = NULL;
                r = readlink_fd(fd, &target);
                if (r < 0)
                        return r;
                r = sha256_buf(target, strlen(target), n.digest);
                if (r < 0)
                        return r;
                /* Symlink permission bits mean nothing and differ across file systems. */
                n.mode = 0;
        } else if (n.type == MERGE_NODE_CHR || n.type == MERGE_NODE_BLK)
                snprintf(n.digest, sizeof n.digest, "%u:%u", major(st->st_rdev),
                         minor(st->st_rdev));
        n.has_digest = n.type != MERGE_NODE_REG;
        r = xattr_digest(fd, n.xattr_digest, ret_unsupported);
        if (r < 0)
                return r;
        *ret = n;
        return 0;
}

int merge_read_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 4096;

        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;
                if (len + 1 >= cap) {
                        char *t;
                        if (len > max)
                                return -EFBIG;
                        t = realloc(buf, cap * 2);
                        if (!t)
                                return -ENOMEM;
                        buf = t;
                        cap *= 2;
                }
                n = read(fd, buf + len, cap - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += n;
        }
        if (len > max)
                return -EFBIG;
        buf[len] = 0;
        *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Not a leak: the names live on in names[] (freed or returned); gcc 12 drops a moved realloc
 * buffer's contents. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
int merge_list_dirfd(int dirfd, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        r = opendir_at(dirfd, ".", &d);
        if (r < 0)
                return r;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n + 2 > cap) {
                        char **t;
                        cap = cap ? cap * 2 : 16;
                        t = realloc(names, cap * sizeof(char *));
                        if (!t) {
                                r = -ENOMEM;
                                break;
                        }
                        names = t;
                }
                names[n] = strdup(de->d_name);
                if (!names[n]) {
                        r = -ENOMEM;
                        break;
                }
                names[++n] = NULL;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(d);
        if (r < 0)
                return r;
        if (!names) {
                names = calloc(1, sizeof(char *));
                if (!names)
                        return -ENOMEM;
        }
        qsort(names, n, sizeof(char *), strv_compare_entries);
        *ret = TAKE_PTR(names);
        return 0;
}
#pragma GCC diagnostic pop

int merge_tree_lookup(const MergeTree *t, const char *path, MergeNode *ret) {
        int r;

        *ret = (MergeNode){.type = MERGE_NODE_ABSENT};
        if (!t)
                return 0;
        r = t->lookup(t->userdata, path, ret);
        if (r == -ENOENT) {
                *ret = (MergeNode){.type = MERGE_NODE_ABSENT};
                return 0;
        }
        return r;
}

int merge_tree_digest(const MergeTree *t, const char *path, MergeNode *n) {
        if (n->type != MERGE_NODE_REG || n->has_digest)
                return 0;
        return t->digest(t->userdata, path, n);
}

/* The directory-backed tree. */

typedef struct DirTree {
        int rootfd;
} DirTree;

static int dir_open(DirTree *t, const char *path, int flags) {
        int fd;

        if (!(flags & O_PATH))
                flags |= O_NONBLOCK | O_NOCTTY;
        fd = openat_in_root_nofollow(t->rootfd, path_relative(path), flags | O_NOFOLLOW, 0);
        /* A symlink or a non-directory on the way means the path is not there. */
        if (fd == -ELOOP || fd == -ENOTDIR)
                return -ENOENT;
        return fd;
}

static int dir_tree_open(void *userdata, const char *path, int flags) {
        _cleanup_close_ int fd = dir_open(userdata, path, flags);
        struct stat st;

        if (fd < 0)
                return fd;
        if (!(flags & O_PATH)) {
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (!S_ISREG(st.st_mode))
                        return -EBADFD;
        }
        return TAKE_FD(fd);
}

static int dir_tree_lookup(void *userdata, const char *path, MergeNode *ret) {
        _cleanup_close_ int fd = dir_open(userdata, path, O_PATH);
        struct stat st;

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        return merge_node_from_fd(fd, &st, ret, NULL);
}

static int dir_tree_digest(void *userdata, const char *path, MergeNode *node) {
        _cleanup_close_ int fd = dir_tree_open(userdata, path, O_RDONLY);
        int r;

        if (fd < 0)
                return fd;
        r = merge_content_digest_fd(fd, node->digest);
        if (r < 0)
                return r;
        node->has_digest = true;
        return 0;
}

static int dir_tree_readlink(void *userdata, const char *path, char **ret) {
        _cleanup_close_ int fd = dir_open(userdata, path, O_PATH);

        if (fd < 0)
                return fd;
        return readlink_fd(fd, ret);
}

static int dir_tree_list(void *userdata, const char *path, char ***ret) {
        _cleanup_close_ int fd = dir_open(userdata, path, O_RDONLY | O_DIRECTORY);

        if (fd < 0)
                return fd;
        return merge_list_dirfd(fd, ret);
}

static void dir_tree_free(void *userdata) {
        DirTree *t = userdata;
        if (t)
                safe_close(t->rootfd);
        free(t);
}

int merge_tree_from_dir(int dirfd, MergeTree *ret) {
        DirTree *t;

        assert(dirfd >= 0);
        assert(ret);
        t = calloc(1, sizeof(DirTree));
        if (!t)
                return -ENOMEM;
        t->rootfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (t->rootfd < 0) {
                free(t);
                return -errno;
        }
        *ret = (MergeTree){
                .lookup = dir_tree_lookup,
                .digest = dir_tree_digest,
                .open = dir_tree_open,
                .readlink = dir_tree_readlink,
                .list = dir_tree_list,
                .free = dir_tree_free,
                .userdata = t,
        };
        return 0;
}

void merge_tree_done(MergeTree *t) {
        if (t && t->free)
                t->free(t->userdata);
        if (t)
                *t = (MergeTree){};
}
