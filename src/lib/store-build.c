/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-build: ImageBuilder, which turns a stream of entries into an image
 * tree in staging/, deduplicating regular files against the object store,
 * and publishes it atomically.
 *
 * New objects are linked into objects/ only at publish time, so a failed
 * build leaves nothing in the store; until then a new object lives only as a
 * file in the staging tree, found again through b->objects when the same
 * content turns up twice in one build.
 */
#include "fsutil.h"
#include "store-internal.h"

#include <limits.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <search.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>

/* Files up to this size are hashed from memory and written only if new;
 * bigger ones from a stream are spilled into an O_TMPFILE as they arrive. */
#define FILE_BUFFER_MAX (1u << 20)

typedef struct BuildEntry {
        ManifestEntry e;
        uint64_t group; /* hardlink group, 0: none */
        bool implicit;  /* a parent made up because the source had none */
} BuildEntry;

typedef struct PathKey {
        const char *path; /* the entry's own string */
        size_t index;
} PathKey;

typedef struct NewObject {
        uint8_t digest[DIGEST_SIZE];
        char *relpath;  /* a staging file that holds it */
        bool replace;   /* the store's copy hit the link limit: replace it */
} NewObject;

struct ImageBuilder {
        Store *store;
        ImageBuilderOptions opts;
        char *staging_name;
        int staging_fd; /* staging/NAME, flock'ed while we live */
        int root_fd;    /* staging/NAME/root */

        BuildEntry *entries;
        size_t n_entries, allocated;
        void *paths; /* tsearch: PathKey */
        uint64_t next_group;

        void *objects; /* tsearch: NewObject by digest */
        NewObject **new_objects;
        size_t n_new_objects;

        char *parent_rel; /* cached parent directory */
        int parent_fd;

        /* The regular file being written. */
        bool in_file;
        size_t cur;
        EVP_MD_CTX *md;
        uint8_t *buf;
        size_t buf_len;
        uint64_t file_size;
        int spill_fd;
        int source_fd;     /* add_file_fd: copy from here if new */
        bool buf_overflow; /* source_fd mode: too big to keep in buf */

        char **linked; /* objects linked at publish, for undo */
        uint64_t items, bytes;
        bool published;
};

static int path_key_compare(const void *a, const void *b) {
        return strcmp(((const PathKey *)a)->path, ((const PathKey *)b)->path);
}

static int object_compare(const void *a, const void *b) {
        return memcmp(((const NewObject *)a)->digest, ((const NewObject *)b)->digest, DIGEST_SIZE);
}

void object_path(const uint8_t digest[static DIGEST_SIZE], char ret[static OBJECT_PATH_SIZE]) {
        char hex[DIGEST_HEX_SIZE];
        digest_to_hex(digest, hex);
        snprintf(ret, OBJECT_PATH_SIZE, "%.2s/%s", hex, hex + 2);
}

/* xattrs. Symlinks and special files cannot be opened for f*xattr, so they go
 * through /proc/self/fd/DIRFD/NAME with the l* calls, which act on NAME
 * itself and resolve only the directory fd's magic link. */

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

int xattrs_apply_fd(int fd, const Xattr *x, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (fsetxattr(fd, x[i].name, x[i].value, x[i].size, 0) < 0)
                        return -errno;
        return 0;
}

int xattrs_apply_at(int dirfd, const char *name, const Xattr *x, size_t n) {
        _cleanup_free_ char *p = NULL;
        if (n == 0)
                return 0;
        if (proc_child_path(dirfd, name, &p) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (lsetxattr(p, x[i].name, x[i].value, x[i].size, 0) < 0)
                        return -errno;
        return 0;
}

static int xattrs_copy(const Xattr *x, size_t n, Xattr **ret) {
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

/* Setup and teardown. */

static int builder_insert(ImageBuilder *b, BuildEntry *be, size_t *ret_index);

int image_builder_new(Store *s, const ImageBuilderOptions *o, ImageBuilder **ret) {
        _cleanup_(image_builder_freep) ImageBuilder *b = NULL;
        BuildEntry root = {.implicit = true};
        int r;

        assert(s);
        b = calloc(1, sizeof *b);
        if (!b)
                return log_oom();
        b->store = s;
        if (o)
                b->opts = *o;
        if (!b->opts.what)
                b->opts.what = "build";
        b->staging_fd = b->root_fd = b->parent_fd = b->spill_fd = b->source_fd = -EBADF;
        b->md = EVP_MD_CTX_new();
        if (!b->md)
                return log_oom();

        for (unsigned attempt = 0;; attempt++) {
                uint64_t rnd = ((uint64_t)random() << 32) ^ (uint64_t)random() ^
                               (uint64_t)getpid() << 16 ^ (uint64_t)time(NULL);
                free(b->staging_name);
                if (asprintf_safe(&b->staging_name, "%016llx", (unsigned long long)rnd) < 0)
                        return log_oom();
                if (mkdirat(s->staging_fd, b->staging_name, 0700) >= 0)
                        break;
                if (errno != EEXIST || attempt > 16)
                        return log_error_errno(errno, "%s: creating staging directory: %m",
                                               b->opts.what);
        }
        b->staging_fd = openat(s->staging_fd, b->staging_name,
                               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (b->staging_fd < 0)
                return log_error_errno(errno, "%s: opening staging directory: %m", b->opts.what);
        /* Marks the staging directory as alive for other goldroot commands. */
        if (flock(b->staging_fd, LOCK_EX | LOCK_NB) < 0)
                return log_error_errno(errno, "%s: locking staging directory: %m", b->opts.what);
        if (mkdirat(b->staging_fd, "root", 0700) < 0)
                return log_error_errno(errno, "%s: creating staging root: %m", b->opts.what);
        b->root_fd = openat(b->staging_fd, "root", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (b->root_fd < 0)
                return log_error_errno(errno, "%s: opening staging root: %m", b->opts.what);

        root.e.path = strdup("/");
        if (!root.e.path)
                return log_oom();
        root.e.mode = S_IFDIR | 0755;
        r = builder_insert(b, &root, NULL);
        if (r < 0)
                return log_oom();
        *ret = TAKE_PTR(b);
        return 0;
}

static void free_new_object(void *p) {
        NewObject *o = p;
        free(o->relpath);
        free(o);
}

static void noop_free(void *p) {
        (void)p;
}

ImageBuilder *image_builder_free(ImageBuilder *b) {
        if (!b)
                return NULL;
        if (!b->published) {
                /* Objects linked by a publish that failed before its rename. */
                for (size_t i = 0; b->linked && b->linked[i]; i++)
                        (void)unlinkat(b->store->objects_fd, b->linked[i], 0);
                if (b->staging_name) {
                        int r = rm_rf_at(b->store->staging_fd, b->staging_name);
                        if (r < 0)
                                log_warning_errno(r, "%s: removing staging/%s: %m", b->opts.what,
                                                  b->staging_name);
                }
        }
        strv_free(b->linked);
        tdestroy(b->paths, free);
        tdestroy(b->objects, noop_free);
        for (size_t i = 0; i < b->n_new_objects; i++)
                free_new_object(b->new_objects[i]);
        free(b->new_objects);
        for (size_t i = 0; i < b->n_entries; i++)
                manifest_entry_done(&b->entries[i].e);
        free(b->entries);
        free(b->parent_rel);
        free(b->buf);
        EVP_MD_CTX_free(b->md);
        safe_close(b->parent_fd);
        safe_close(b->spill_fd);
        safe_close(b->root_fd);
        safe_close(b->staging_fd); /* drops the staging lock */
        free(b->staging_name);
        free(b);
        return NULL;
}

uint64_t image_builder_space_left(ImageBuilder *b) {
        struct statvfs sv;
        if (fstatvfs(b->root_fd, &sv) < 0)
                return UINT64_MAX;
        return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* Entry table. */

static BuildEntry *builder_find(ImageBuilder *b, const char *path) {
        PathKey key = {.path = path};
        PathKey **k = tfind(&key, &b->paths, path_key_compare);
        return k ? &b->entries[(*k)->index] : NULL;
}

static int builder_insert(ImageBuilder *b, BuildEntry *be, size_t *ret_index) {
        PathKey *k;

        if (b->n_entries == b->allocated) {
                size_t na = b->allocated ? b->allocated * 2 : 1024;
                BuildEntry *t = realloc(b->entries, na * sizeof *t);
                if (!t)
                        return -ENOMEM;
                b->entries = t;
                b->allocated = na;
        }
        k = malloc(sizeof *k);
        if (!k)
                return -ENOMEM;
        *k = (PathKey){.path = be->e.path, .index = b->n_entries};
        if (!tsearch(k, &b->paths, path_key_compare)) {
                free(k);
                return -ENOMEM;
        }
        b->entries[b->n_entries] = *be;
        *be = (BuildEntry){};
        if (ret_index)
                *ret_index = b->n_entries;
        b->n_entries++;
        return 0;
}

/* Relative form of an absolute in-image path: "/a/b" -> "a/b", "/" -> ".". */
static const char *rel(const char *path) {
        return path_relative(path);
}

static int builder_fail(ImageBuilder *b, int r, const char *path, const char *why) {
        if (r == -EBADMSG)
                return log_error_errno(EBADMSG, "%s: '%s': %s", b->opts.what, path, why);
        return log_error_errno(r, "%s: '%s': %s: %m", b->opts.what, path, why);
}

/* Checks a new path and its parent, creating implicit parents if allowed.
 * Returns the normalized path, or -EBADMSG (logged) for a hostile one, and
 * the parent's O_PATH fd (borrowed) and the last component. */
static int builder_prepare(ImageBuilder *b, const char *path, bool is_dir, char **ret_path,
                           int *ret_parent_fd, const char **ret_name);

static int builder_add_implicit_dir(ImageBuilder *b, const char *path) {
        BuildEntry be = {.implicit = true};
        const char *name;
        int pfd, r;

        r = builder_prepare(b, path, true, &be.e.path, &pfd, &name);
        if (r < 0)
                return r;
        if (mkdirat(pfd, name, 0700) < 0) {
                r = builder_fail(b, -errno, path, "creating directory");
                free(be.e.path);
                return r;
        }
        be.e.mode = S_IFDIR | 0755;
        r = builder_insert(b, &be, NULL);
        if (r < 0) {
                free(be.e.path);
                return log_oom();
        }
        return 0;
}

static int builder_parent_fd(ImageBuilder *b, const char *parent, int *ret) {
        const char *r = rel(parent);
        int fd;

        if (streq(r, ".")) {
                *ret = b->root_fd;
                return 0;
        }
        if (b->parent_rel && streq(b->parent_rel, r)) {
                *ret = b->parent_fd;
                return 0;
        }
        fd = openat_in_root_nofollow(b->root_fd, r, O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
                return fd;
        safe_close(b->parent_fd);
        free(b->parent_rel);
        b->parent_fd = fd;
        b->parent_rel = strdup(r);
        if (!b->parent_rel) {
                b->parent_fd = safe_close(b->parent_fd);
                return -ENOMEM;
        }
        *ret = fd;
        return 0;
}

static int builder_prepare(ImageBuilder *b, const char *path, bool is_dir, char **ret_path,
                           int *ret_parent_fd, const char **ret_name) {
        _cleanup_free_ char *norm = NULL, *parent = NULL;
        BuildEntry *pe, *existing;
        char *slash;
        int r;

        if (!path_is_absolute(path))
                return builder_fail(b, -EBADMSG, path, "path is not absolute");
        r = path_normalize(path, &norm);
        if (r == -EINVAL)
                return builder_fail(b, -EBADMSG, path, "path leaves the image ('..')");
        if (r < 0)
                return log_oom();
        if (strlen(norm) >= PATH_MAX)
                return builder_fail(b, -EBADMSG, path, "path too long");
        /* (A made-up parent described later is handled by image_builder_add.) */
        existing = builder_find(b, norm);
        if (existing)
                return builder_fail(b, -EBADMSG, norm,
                                    streq(norm, "/") && !is_dir ? "the root can only be a directory"
                                                               : "duplicate entry");

        slash = strrchr(norm, '/');
        if (strlen(slash + 1) > NAME_MAX)
                return builder_fail(b, -EBADMSG, path, "file name too long");
        parent = slash == norm ? strdup("/") : strndup(norm, slash - norm);
        if (!parent)
                return log_oom();
        pe = builder_find(b, parent);
        if (!pe) {
                if (!b->opts.implicit_parents)
                        return builder_fail(b, -EBADMSG, norm, "parent directory missing");
                r = builder_add_implicit_dir(b, parent);
                if (r < 0)
                        return r;
                pe = builder_find(b, parent);
                assert(pe);
        }
        if (!S_ISDIR(pe->e.mode))
                return builder_fail(b, -EBADMSG, norm,
                                    S_ISLNK(pe->e.mode)
                                            ? "parent is a symlink (refusing to write through it)"
                                            : "parent is not a directory");
        r = builder_parent_fd(b, parent, ret_parent_fd);
        if (r < 0)
                return builder_fail(b, r, parent, "opening directory");
        *ret_name = strrchr(norm, '/') + 1;
        *ret_path = TAKE_PTR(norm);
        /* *ret_name points into *ret_path, which the caller now owns. */
        return 0;
}

static void progress_step(ImageBuilder *b, uint64_t bytes) {
        b->items++;
        b->bytes += bytes;
        if (b->opts.progress)
                progress_update(b->opts.progress, b->items, b->bytes);
}

/* Applies owner, xattrs, mode and mtime to a file we just made. chown comes
 * first because it clears set-id bits and security.capability. */
static int apply_metadata_fd(int fd, const ManifestEntry *e) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
                                 {.tv_sec = e->mtime_sec, .tv_nsec = e->mtime_nsec}};
        int r;

        if (fchown(fd, e->uid, e->gid) < 0)
                return -errno;
        r = xattrs_apply_fd(fd, e->xattrs, e->n_xattrs);
        if (r < 0)
                return r;
        if (fchmod(fd, e->mode & 07777) < 0)
                return -errno;
        if (futimens(fd, ts) < 0)
                return -errno;
        return 0;
}

static int apply_metadata_at(int dirfd, const char *name, const ManifestEntry *e) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
                                 {.tv_sec = e->mtime_sec, .tv_nsec = e->mtime_nsec}};
        int r;

        if (fchownat(dirfd, name, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        r = xattrs_apply_at(dirfd, name, e->xattrs, e->n_xattrs);
        if (r < 0)
                return r;
        if (!S_ISLNK(e->mode) && fchmodat(dirfd, name, e->mode & 07777, 0) < 0)
                return -errno;
        if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

int image_builder_add(ImageBuilder *b, ManifestEntry *e) {
        BuildEntry be = {};
        const char *name;
        int pfd, r;

        assert(b && !b->in_file && !b->published);
        assert(e && e->path);
        if (S_ISREG(e->mode))
                return -EINVAL; /* use begin_file */

        if (S_ISDIR(e->mode)) {
                _cleanup_free_ char *norm = NULL;
                BuildEntry *existing;

                /* A directory described after its contents (or the root, which
                 * always exists): fill in the made-up entry. */
                if (path_normalize(e->path, &norm) >= 0 && (existing = builder_find(b, norm)) &&
                    existing->implicit && S_ISDIR(existing->e.mode)) {
                        const char *keep = existing->e.path;
                        existing->e.path = NULL;
                        manifest_entry_done(&existing->e);
                        free(e->path);
                        existing->e = *e;
                        existing->e.path = (char *)keep; /* the PathKey points at it */
                        *e = (ManifestEntry){};
                        existing->implicit = false;
                        progress_step(b, 0);
                        return 0;
                }
        }

        r = builder_prepare(b, e->path, S_ISDIR(e->mode), &be.e.path, &pfd, &name);
        if (r < 0)
                return r;
        free(e->path);
        e->path = NULL;
        {
                char *p = be.e.path;
                be.e = *e;
                be.e.path = p;
                *e = (ManifestEntry){};
        }

        switch (be.e.mode & S_IFMT) {
        case S_IFDIR:
                /* Metadata at publish, once the directory is complete. */
                if (mkdirat(pfd, name, 0700) < 0)
                        r = -errno;
                break;
        case S_IFLNK:
                if (isempty(be.e.target) || strlen(be.e.target) >= PATH_MAX)
                        r = -EBADMSG;
                else if (symlinkat(be.e.target, pfd, name) < 0)
                        r = -errno;
                break;
        case S_IFCHR:
        case S_IFBLK:
        case S_IFIFO:
        case S_IFSOCK:
                if (mknodat(pfd, name, (be.e.mode & S_IFMT) | 0600, be.e.rdev) < 0)
                        r = -errno;
                break;
        default:
                r = -EBADMSG;
        }
        if (r >= 0 && !S_ISDIR(be.e.mode)) {
                r = apply_metadata_at(pfd, name, &be.e);
                if (r < 0) {
                        r = builder_fail(b, r, be.e.path, "setting metadata");
                        manifest_entry_done(&be.e);
                        return r;
                }
        }
        if (r < 0) {
                r = builder_fail(b, r, be.e.path,
                                 r == -EBADMSG ? "bad symlink target or file type" : "creating");
                manifest_entry_done(&be.e);
                return r;
        }
        r = builder_insert(b, &be, NULL);
        if (r < 0) {
                manifest_entry_done(&be.e);
                return log_oom();
        }
        progress_step(b, 0);
        return 0;
}

/* Regular files. */

/* Copies all of src (from offset 0) into dst, reflinking when it can. */
static int copy_fd_contents(int src, int dst) {
        loff_t off_in = 0;

        if (ioctl(dst, FICLONE, src) >= 0)
                return 0;
        for (;;) {
                ssize_t n = copy_file_range(src, &off_in, dst, NULL, 1u << 30, 0);
                if (n == 0)
                        return 0;
                if (n > 0)
                        continue;
                if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
                        return -errno;
                break;
        }
        for (;;) {
                char buf[65536];
                ssize_t n = pread(src, buf, sizeof buf, off_in);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                off_in += n;
                for (ssize_t w = 0; w < n;) {
                        ssize_t k = write(dst, buf + w, n - w);
                        if (k < 0)
                                return -errno;
                        w += k;
                }
        }
}

static int write_all(int fd, const void *data, size_t n) {
        for (size_t w = 0; w < n;) {
                ssize_t k = write(fd, (const uint8_t *)data + w, n - w);
                if (k < 0)
                        return -errno;
                w += (size_t)k;
        }
        return 0;
}

/* Where the current file's bytes are, for making a new copy. */
typedef struct FileSource {
        const void *buf; /* in memory, or */
        int fd;          /* a file to copy from (spill, source or object) */
        bool fd_is_spill; /* an O_TMPFILE we can link instead of copying */
} FileSource;

/* Makes a new inode for e at pfd/name from src, with e's metadata. */
static int materialize(ImageBuilder *b, int pfd, const char *name, const ManifestEntry *e,
                       const FileSource *src) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (src->fd_is_spill) {
                char p[FD_PATH_MAX];
                if (linkat(AT_FDCWD, fd_path(src->fd, p), pfd, name, AT_SYMLINK_FOLLOW) < 0)
                        return -errno;
                fd = fcntl(src->fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return -errno;
        } else {
                fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return -errno;
                r = src->buf ? write_all(fd, src->buf, e->size) : copy_fd_contents(src->fd, fd);
                if (r < 0)
                        return r;
        }
        return apply_metadata_fd(fd, e);
}

static int remember_new_object(ImageBuilder *b, const uint8_t od[static DIGEST_SIZE],
                               const char *path, bool replace) {
        NewObject *o, **t, **found;

        o = calloc(1, sizeof *o);
        if (!o)
                return -ENOMEM;
        memcpy(o->digest, od, DIGEST_SIZE);
        o->relpath = strdup(rel(path));
        o->replace = replace;
        if (!o->relpath) {
                free_new_object(o);
                return -ENOMEM;
        }
        t = realloc(b->new_objects, (b->n_new_objects + 1) * sizeof *t);
        if (!t) {
                free_new_object(o);
                return -ENOMEM;
        }
        b->new_objects = t;
        found = tsearch(o, &b->objects, object_compare);
        if (!found) {
                free_new_object(o);
                return -ENOMEM;
        }
        b->new_objects[b->n_new_objects++] = o;
        return 0;
}

/* Puts the regular file e at its path: a hardlink to a matching object when
 * there is one, else a new inode (which becomes an object at publish). */
static int place_file(ImageBuilder *b, const ManifestEntry *e, const FileSource *src) {
        char opath[OBJECT_PATH_SIZE];
        uint8_t od[DIGEST_SIZE];
        NewObject key, **found;
        const char *name = strrchr(e->path, '/') + 1;
        _cleanup_free_ char *parent = NULL;
        bool replace;
        int pfd, r;

        parent = e->path + 1 == name ? strdup("/") : strndup(e->path, name - 1 - e->path);
        if (!parent)
                return -ENOMEM;
        r = builder_parent_fd(b, parent, &pfd);
        if (r < 0)
                return r;

        object_digest(e, od);
        memcpy(key.digest, od, DIGEST_SIZE);
        found = tfind(&key, &b->objects, object_compare);
        if (found) {
                NewObject *o = *found;
                if (linkat(b->root_fd, o->relpath, pfd, name, 0) >= 0)
                        return 0;
                if (errno != EMLINK)
                        return -errno;
                /* Start a fresh inode for the rest of this build. */
                r = materialize(b, pfd, name, e, src);
                if (r < 0)
                        return r;
                free(o->relpath);
                o->relpath = strdup(rel(e->path));
                return o->relpath ? 0 : -ENOMEM;
        }

        object_path(od, opath);
        if (linkat(b->store->objects_fd, opath, pfd, name, 0) >= 0)
                return 0;
        if (errno != ENOENT && errno != EMLINK)
                return -errno;
        replace = errno == EMLINK;
        r = materialize(b, pfd, name, e, src);
        if (r < 0)
                return r;
        return remember_new_object(b, od, e->path, replace);
}

int image_builder_begin_file(ImageBuilder *b, ManifestEntry *e) {
        BuildEntry be = {};
        const char *name;
        int pfd, r;

        assert(b && !b->in_file && !b->published);
        assert(e && e->path && S_ISREG(e->mode));
        r = builder_prepare(b, e->path, false, &be.e.path, &pfd, &name);
        if (r < 0)
                return r;
        free(e->path);
        e->path = NULL;
        {
                char *p = be.e.path;
                be.e = *e;
                be.e.path = p;
                *e = (ManifestEntry){};
        }
        r = builder_insert(b, &be, &b->cur);
        if (r < 0) {
                manifest_entry_done(&be.e);
                return log_oom();
        }
        if (EVP_DigestInit_ex(b->md, EVP_sha256(), NULL) != 1)
                return log_error_errno(EIO, "%s: sha256 init failed", b->opts.what);
        b->in_file = true;
        b->buf_len = 0;
        b->file_size = 0;
        b->buf_overflow = false;
        b->spill_fd = safe_close(b->spill_fd);
        return 0;
}

int image_builder_write(ImageBuilder *b, const void *data, size_t n) {
        const char *path = b->entries[b->cur].e.path;
        int r;

        assert(b->in_file);
        if (n == 0)
                return 0;
        EVP_DigestUpdate(b->md, data, n);
        b->file_size += n;
        if (b->spill_fd < 0 && !b->buf_overflow && b->buf_len + n <= FILE_BUFFER_MAX) {
                if (!b->buf) {
                        b->buf = malloc(FILE_BUFFER_MAX);
                        if (!b->buf)
                                return log_oom();
                }
                memcpy(b->buf + b->buf_len, data, n);
                b->buf_len += n;
                return 0;
        }
        if (b->source_fd >= 0) {
                /* The source can be read again if the object turns out new. */
                b->buf_overflow = true;
                return 0;
        }
        if (b->spill_fd < 0) {
                b->spill_fd = openat(b->root_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
                if (b->spill_fd < 0)
                        return builder_fail(b, -errno, path, "creating temporary file");
                r = write_all(b->spill_fd, b->buf, b->buf_len);
                if (r < 0)
                        return builder_fail(b, r, path, "writing");
        }
        r = write_all(b->spill_fd, data, n);
        if (r < 0)
                return builder_fail(b, r, path, "writing");
        return 0;
}

int image_builder_end_file(ImageBuilder *b) {
        ManifestEntry *e = &b->entries[b->cur].e;
        FileSource src = {.fd = -EBADF};
        int r;

        assert(b->in_file);
        b->in_file = false;
        if (EVP_DigestFinal_ex(b->md, e->digest, NULL) != 1)
                return log_error_errno(EIO, "%s: sha256 failed", b->opts.what);
        e->size = b->file_size;
        if (b->spill_fd >= 0) {
                src.fd = b->spill_fd;
                src.fd_is_spill = true;
        } else if (b->buf_overflow)
                src.fd = b->source_fd;
        else
                src.buf = b->buf ?: (const void *)"";
        r = place_file(b, e, &src);
        b->spill_fd = safe_close(b->spill_fd);
        if (r < 0)
                return builder_fail(b, r, e->path, "creating file");
        progress_step(b, e->size);
        return 0;
}

int image_builder_add_file_fd(ImageBuilder *b, ManifestEntry *e, int fd) {
        _cleanup_free_ char *path = strdup(e->path);
        _cleanup_free_ uint8_t *chunk = malloc(1u << 16);
        int r;

        if (!path || !chunk)
                return log_oom();
        r = image_builder_begin_file(b, e);
        if (r < 0)
                return r;
        b->source_fd = fd;
        for (;;) {
                ssize_t n = read(fd, chunk, 1u << 16);
                if (n < 0) {
                        r = builder_fail(b, -errno, path, "reading");
                        break;
                }
                if (n == 0) {
                        r = image_builder_end_file(b);
                        break;
                }
                r = image_builder_write(b, chunk, (size_t)n);
                if (r < 0)
                        break;
        }
        b->in_file = false;
        b->source_fd = -EBADF;
        return r;
}

int image_builder_add_known_file(ImageBuilder *b, ManifestEntry *e, int src_rootfd) {
        _cleanup_close_ int src = -EBADF;
        BuildEntry be = {};
        char opath[OBJECT_PATH_SIZE];
        uint8_t od[DIGEST_SIZE];
        const char *name;
        size_t idx;
        int pfd, r;

        assert(b && !b->in_file && !b->published);
        assert(e && e->path && S_ISREG(e->mode));
        r = builder_prepare(b, e->path, false, &be.e.path, &pfd, &name);
        if (r < 0)
                return r;
        free(e->path);
        e->path = NULL;
        {
                char *p = be.e.path;
                be.e = *e;
                be.e.path = p;
                *e = (ManifestEntry){};
        }
        free(be.e.link);
        be.e.link = NULL;
        r = builder_insert(b, &be, &idx);
        if (r < 0) {
                manifest_entry_done(&be.e);
                return log_oom();
        }
        /* The object is there (the source image links it): no byte is read. */
        object_digest(&b->entries[idx].e, od);
        object_path(od, opath);
        if (linkat(b->store->objects_fd, opath, pfd, name, 0) < 0) {
                const ManifestEntry *ne = &b->entries[idx].e;
                if (errno != ENOENT && errno != EMLINK)
                        return builder_fail(b, -errno, ne->path, "linking object");
                src = openat_in_root_nofollow(src_rootfd, rel(ne->path), O_RDONLY | O_NOFOLLOW, 0);
                if (src < 0)
                        return builder_fail(b, src, ne->path, "opening the source image's file");
                r = place_file(b, ne, &(FileSource){.fd = src});
                if (r < 0)
                        return builder_fail(b, r, ne->path, "creating file");
        }
        progress_step(b, b->entries[idx].e.size);
        return 0;
}

int image_builder_add_hardlink(ImageBuilder *b, const char *path, const char *target) {
        _cleanup_free_ char *tnorm = NULL;
        BuildEntry be = {}, *te;
        const char *name;
        int pfd, r;

        assert(b && !b->in_file && !b->published);
        if (!path_is_absolute(target) || path_normalize(target, &tnorm) < 0)
                return builder_fail(b, -EBADMSG, path, "hardlink target leaves the image");
        te = builder_find(b, tnorm);
        if (!te)
                return builder_fail(b, -EBADMSG, path,
                                    "hardlink to a file that is not in the image (yet)");
        if (!S_ISREG(te->e.mode))
                return builder_fail(b, -EBADMSG, path, "hardlink to something not a regular file");
        r = builder_prepare(b, path, false, &be.e.path, &pfd, &name);
        if (r < 0)
                return r;
        /* builder_prepare may have added entries, moving the array. */
        te = builder_find(b, tnorm);
        be.e.mode = te->e.mode;
        be.e.uid = te->e.uid;
        be.e.gid = te->e.gid;
        be.e.size = te->e.size;
        memcpy(be.e.digest, te->e.digest, DIGEST_SIZE);
        be.e.mtime_sec = te->e.mtime_sec;
        be.e.mtime_nsec = te->e.mtime_nsec;
        r = xattrs_copy(te->e.xattrs, te->e.n_xattrs, &be.e.xattrs);
        if (r < 0) {
                manifest_entry_done(&be.e);
                return log_oom();
        }
        be.e.n_xattrs = te->e.n_xattrs;
        if (te->group == 0)
                te->group = ++b->next_group;
        be.group = te->group;

        if (linkat(b->root_fd, rel(tnorm), pfd, name, 0) < 0) {
                _cleanup_close_ int src = -EBADF;
                r = -errno;
                if (r == -EMLINK) {
                        src = openat_in_root_nofollow(b->root_fd, rel(tnorm), O_RDONLY, 0);
                        r = src < 0 ? src
                                    : materialize(b, pfd, name, &be.e,
                                                  &(FileSource){.fd = src});
                }
                if (r < 0) {
                        r = builder_fail(b, r, be.e.path, "creating hardlink");
                        manifest_entry_done(&be.e);
                        return r;
                }
        }
        r = builder_insert(b, &be, NULL);
        if (r < 0) {
                manifest_entry_done(&be.e);
                return log_oom();
        }
        progress_step(b, 0);
        return 0;
}

/* Publishing. */

static int build_entry_compare(const void *a, const void *b) {
        return strcmp(((const BuildEntry *)a)->e.path, ((const BuildEntry *)b)->e.path);
}

/* Sorts the entries, names each hardlink group after its first path and moves
 * everything into a manifest. The entry table is unusable afterwards. */
static int builder_make_manifest(ImageBuilder *b, Manifest **ret) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ const char **leader = NULL;
        int r;

        tdestroy(b->paths, free);
        b->paths = NULL;
        qsort(b->entries, b->n_entries, sizeof *b->entries, build_entry_compare);
        leader = calloc(b->next_group + 1, sizeof *leader);
        m = manifest_new();
        if (!leader || !m)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_entries; i++) {
                BuildEntry *be = &b->entries[i];
                if (be->group == 0)
                        continue;
                if (!leader[be->group])
                        leader[be->group] = be->e.path;
                be->e.link = strdup(leader[be->group]);
                if (!be->e.link)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < b->n_entries; i++) {
                r = manifest_append(m, &b->entries[i].e);
                if (r < 0)
                        return r;
        }
        b->n_entries = 0;
        *ret = TAKE_PTR(m);
        return 0;
}

/* Directory metadata, deepest first, now that nothing will be added. */
static int builder_finish_dirs(ImageBuilder *b, const Manifest *m) {
        for (size_t i = m->n; i-- > 0;) {
                const ManifestEntry *e = &m->entries[i];
                _cleanup_close_ int fd = -EBADF;
                int r;

                if (!S_ISDIR(e->mode))
                        continue;
                fd = openat_in_root_nofollow(b->root_fd, rel(e->path), O_RDONLY | O_DIRECTORY, 0);
                if (fd < 0)
                        return builder_fail(b, fd, e->path, "opening directory");
                r = apply_metadata_fd(fd, e);
                if (r < 0)
                        return builder_fail(b, r, e->path, "setting metadata");
        }
        return 0;
}

/* Makes this build's new files objects of the store. */
static int builder_link_objects(ImageBuilder *b) {
        int ofd = b->store->objects_fd;

        for (size_t i = 0; i < b->n_new_objects; i++) {
                NewObject *o = b->new_objects[i];
                char opath[OBJECT_PATH_SIZE], sub[3];

                object_path(o->digest, opath);
                memcpy(sub, opath, 2);
                sub[2] = 0;
                if (mkdirat(ofd, sub, 0700) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "%s: creating objects/%s: %m",
                                               b->opts.what, sub);
                if (o->replace) {
                        /* The old inode is at the link limit; later builds link this
                         * one. Trees that use the old one keep it. */
                        _cleanup_free_ char *tmp = NULL;
                        if (asprintf_safe(&tmp, "%s/.tmp-%s", sub, b->staging_name) < 0)
                                return log_oom();
                        if (linkat(b->root_fd, o->relpath, ofd, tmp, 0) < 0 ||
                            renameat(ofd, tmp, ofd, opath) < 0) {
                                int r = -errno;
                                (void)unlinkat(ofd, tmp, 0);
                                return log_error_errno(r, "%s: replacing object %s: %m",
                                                       b->opts.what, opath);
                        }
                        continue;
                }
                if (linkat(b->root_fd, o->relpath, ofd, opath, 0) < 0) {
                        if (errno == EEXIST)
                                continue; /* another build stored it meanwhile */
                        return log_error_errno(errno, "%s: storing object %s: %m", b->opts.what,
                                               opath);
                }
                if (strv_extend(&b->linked, opath) < 0)
                        return log_oom();
        }
        return 0;
}

int image_builder_publish(ImageBuilder *b, const ImagePublish *p,
                          char ret_id[static DIGEST_HEX_SIZE]) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        Store *s = b->store;
        ImageInfo info = {};
        bool exists = false;
        int r;

        assert(b && !b->in_file && !b->published);
        r = builder_make_manifest(b, &m);
        if (r < 0)
                return log_oom();
        r = builder_finish_dirs(b, m);
        if (r < 0)
                return r;
        r = manifest_id(m, info.id);
        if (r < 0)
                return log_error_errno(r, "%s: computing the image id: %m", b->opts.what);
        manifest_totals(m, &info.files, &info.size);
        r = builder_link_objects(b);
        if (r < 0)
                return r;
        r = manifest_write_at(b->staging_fd, "manifest", m);
        if (r < 0)
                return log_error_errno(r, "%s: writing the manifest: %m", b->opts.what);
        /* One sync for the whole tree, instead of an fsync per file. */
        if (syncfs(b->staging_fd) < 0)
                return log_error_errno(errno, "%s: syncing the store: %m", b->opts.what);
        crash_point("import-before-rename");

        if (renameat(s->staging_fd, b->staging_name, s->images_fd, info.id) < 0) {
                if (errno != EEXIST && errno != ENOTEMPTY)
                        return log_error_errno(errno, "%s: publishing images/%s: %m",
                                               b->opts.what, info.id);
                exists = true; /* same content as an image we have: reuse it */
        } else {
                b->published = true;
                if (fsync(s->images_fd) < 0)
                        return log_error_errno(errno, "%s: syncing images/: %m", b->opts.what);
        }
        crash_point("import-after-rename");

        info.created = (int64_t)time(NULL);
        info.parent = (char *)(p ? p->parent : NULL);
        r = catalog_begin(s->catalog);
        if (r < 0)
                return r;
        r = catalog_add_image(s->catalog, &info);
        if (r >= 0 && p && p->name)
                r = catalog_set_tag(s->catalog, p->name, p->tag, info.id);
        if (r < 0) {
                catalog_rollback(s->catalog);
                return r;
        }
        r = catalog_commit(s->catalog);
        if (r < 0)
                return r;
        if (exists) {
                /* Our duplicate tree goes; the objects it linked stay for the
                 * existing tree, which links the same ones. */
                strv_free(b->linked);
                b->linked = NULL;
        }
        b->published = true;
        if (exists) {
                r = rm_rf_at(s->staging_fd, b->staging_name);
                if (r < 0)
                        log_warning_errno(r, "%s: removing staging/%s: %m", b->opts.what,
                                          b->staging_name);
        }
        memcpy(ret_id, info.id, DIGEST_HEX_SIZE);
        return 0;
}
