/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-build: ImageBuilder, which turns a stream of entries into an image
 * tree in staging/, deduplicating regular files against the object store;
 * store-publish.c makes it visible atomically.
 *
 * New objects are linked into objects/ only at publish time, so a failed
 * build leaves nothing in the store; until then a new object lives only as a
 * file in the staging tree, found again through b->objects when the same
 * content turns up twice in one build.
 */
#include "fsutil.h"
#include "oplog.h"
#include "store-internal.h"

#include <limits.h>
#include <search.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <time.h>

/* Files up to this size are hashed from memory and written only if new;
 * bigger ones from a stream are spilled into an O_TMPFILE as they arrive. */
#define FILE_BUFFER_MAX (1u << 20)

static int path_key_compare(const void *a, const void *b) {
        return strcmp(((const PathKey *)a)->path, ((const PathKey *)b)->path);
}

void object_path(const uint8_t digest[static DIGEST_SIZE], char ret[static OBJECT_PATH_SIZE]) {
        char hex[DIGEST_HEX_SIZE];
        digest_to_hex(digest, hex);
        snprintf(ret, OBJECT_PATH_SIZE, "%.2s/%s", hex, hex + 2);
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
        if (!b->opts.kind)
                b->opts.kind = "import";
        b->staging_fd = b->root_fd = b->parent_fd = b->spill_fd = b->source_fd = -EBADF;
        r = sha256_new(&b->md);
        if (r < 0)
                return r == -ENOMEM ? log_oom() : r;

        /* The journal first: recovery then knows to look for this build. */
        r = oplog_begin(s->catalog, OP_IMPORT, b->opts.what, &b->op, "kind", b->opts.kind, NULL);
        if (r < 0)
                return r;
        builder_crash_point(b, "after-journal");
        r = store_make_staging(s, "", b->opts.what, &b->staging_name, &b->staging_fd);
        if (r < 0)
                return r;
        r = oplog_set_args(s->catalog, b->op, "kind", b->opts.kind, "staging", b->staging_name,
                           NULL);
        if (r < 0)
                return r;
        builder_crash_point(b, "after-staging");
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
        /* A build that did not commit: its staging is gone, and a tree it
         * renamed into images/ has no row, which the next recovery removes. */
        if (b->op > 0)
                oplog_abandon(b->store->catalog, b->op);
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
        sha256_free(b->md);
        safe_close(b->parent_fd);
        safe_close(b->spill_fd);
        safe_close(b->root_fd);
        safe_close(b->staging_fd); /* drops the staging lock */
        free(b->staging_name);
        free(b);
        return NULL;
}

void builder_crash_point(ImageBuilder *b, const char *step) {
#ifdef GOLDROOT_CRASH_POINTS
        char name[64];
        snprintf(name, sizeof name, "%s-%s", b->opts.kind, step);
        crash_point(name);
#else
        (void)b;
        (void)step;
#endif
}

/* test_hook("KIND-STEP"): a point where tests act, not a crash point. */
static void builder_test_hook(ImageBuilder *b, const char *step) {
#ifdef GOLDROOT_CRASH_POINTS
        char name[64];
        snprintf(name, sizeof name, "%s-%s", b->opts.kind, step);
        test_hook(name);
#else
        (void)b;
        (void)step;
#endif
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

/* Not a leak: tsearch() keeps k in b->paths (freed by tdestroy); gcc 12 does not see a const key
 * retained. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
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
#pragma GCC diagnostic pop

/* An xattr of the image that the store's file system will not hold: a name
 * it does not know (com.apple.*), user.* on a symlink, a malformed ACL, a
 * value over its size limit. The image cannot be stored as it is. */
static int xattr_refused(ImageBuilder *b, int r, const char *path, const Xattr *x) {
        _cleanup_free_ char *why = NULL;

        if (r == -ENOMEM)
                return log_oom();
        if (r == -ENOSPC && image_builder_space_left(b) < FILE_BUFFER_MAX)
                return log_error_errno(r, "%s: xattr '%s' on %s: %m", b->opts.what, x->name,
                                       path); /* the store is full: not the image's fault */
        switch (-r) {
        case ENOSPC:
        case E2BIG:
        case ERANGE:
                if (asprintf_safe(&why,
                                  "its value of %zu bytes is too big for the store's file system",
                                  x->size) < 0)
                        return log_oom();
                break;
        case EOPNOTSUPP:
                why = strdup("the store's file system does not support it");
                break;
        case EINVAL:
                why = strdup("the store's file system refuses its value");
                break;
        case EPERM:
                why = strdup(startswith(x->name, "user.")
                                     ? "Linux allows user.* xattrs only on regular files and "
                                       "directories"
                                     : "the store's file system refuses it");
                break;
        default:
                why = strdup("the store's file system refuses it");
        }
        if (!why)
                return log_oom();
        log_error_errno(r, "%s: xattr '%s' on %s: %s: %m", b->opts.what, x->name, path, why);
        return -EBADMSG;
}

int builder_fail(ImageBuilder *b, int r, const char *path, const char *why) {
        const Xattr *x = b->failed_xattr;

        b->failed_xattr = NULL;
        if (x && r < 0 && r != -EBADMSG)
                return xattr_refused(b, r, path, x);
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

/* overlayfs reads its own xattrs on lower layers (opaque directories,
 * redirects, metacopy): an image carrying them would steer every overlay
 * built on it, so they are not image content. */
static int builder_check_xattrs(ImageBuilder *b, const ManifestEntry *e) {
        for (size_t i = 0; i < e->n_xattrs; i++)
                if (startswith(e->xattrs[i].name, "trusted.overlay.") ||
                    startswith(e->xattrs[i].name, "user.overlay."))
                        return log_error_errno(EBADMSG,
                                               "%s: '%s': xattr %s is reserved for overlayfs",
                                               b->opts.what, e->path, e->xattrs[i].name);
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
        /* Linux makes every symlink 0777 and cannot change it; a tar may say
         * otherwise. The manifest says what the tree holds, and the same tree
         * gets the same id from any source. */
        if (S_ISLNK(e->mode))
                e->mode = S_IFLNK | 0777;
        r = builder_check_xattrs(b, e);
        if (r < 0)
                return r;

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
                r = metadata_apply_at_full(pfd, name, &be.e, &b->failed_xattr);
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

/* Where the current file's bytes are, for making a new copy. */
typedef struct FileSource {
        const void *buf;  /* in memory, or */
        int fd;           /* a file to copy from (spill, source or object) */
        bool fd_is_spill; /* an O_TMPFILE we can link instead of copying */
        bool reread;      /* fd is a source read a second time: it may have changed */
} FileSource;

/* -ESTALE unless fd holds e's bytes: what was copied is what the object's
 * name says, even if the source changed between its two reads. */
static int verify_copy(ImageBuilder *b, int fd, const ManifestEntry *e) {
        uint8_t digest[DIGEST_SIZE];
        uint64_t size = 0;

        if (!b->buf) {
                b->buf = malloc(FILE_BUFFER_MAX);
                if (!b->buf)
                        return -ENOMEM;
        }
        if (sha256_reset(b->md) < 0)
                return -EIO;
        for (;;) {
                ssize_t n = pread(fd, b->buf, FILE_BUFFER_MAX, (off_t)size);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                if (sha256_update(b->md, b->buf, (size_t)n) < 0)
                        return -EIO;
                size += (uint64_t)n;
        }
        if (sha256_final(b->md, digest) < 0)
                return -EIO;
        return size == e->size && memcmp(digest, e->digest, DIGEST_SIZE) == 0 ? 0 : -ESTALE;
}

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
                fd = openat(pfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return -errno;
                r = src->buf ? write_all(fd, src->buf, e->size) : copy_fd_data(src->fd, fd);
                if (r >= 0 && src->reread)
                        r = verify_copy(b, fd, e);
                if (r < 0)
                        return r;
        }
        return metadata_apply_fd_full(fd, e, &b->failed_xattr);
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

        r = object_digest(e, od);
        if (r < 0)
                return builder_fail(b, r, e->path, "hashing its metadata");
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
        r = builder_check_xattrs(b, e);
        if (r < 0)
                return r;
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
        if (sha256_reset(b->md) < 0)
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
        if (sha256_update(b->md, data, n) < 0)
                return builder_fail(b, -EIO, path, "hashing");
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
        if (sha256_final(b->md, e->digest) < 0)
                return log_error_errno(EIO, "%s: sha256 failed", b->opts.what);
        e->size = b->file_size;
        if (b->spill_fd >= 0) {
                src.fd = b->spill_fd;
                src.fd_is_spill = true;
        } else if (b->buf_overflow) {
                src.fd = b->source_fd;
                src.reread = true;
                builder_test_hook(b, "before-reread");
        } else
                src.buf = b->buf ?: (const void *)"";
        r = place_file(b, e, &src);
        b->spill_fd = safe_close(b->spill_fd);
        if (r == -ESTALE && src.reread)
                return log_error_errno(ESTALE, "%s: '%s': changed while it was imported",
                                       b->opts.what, e->path);
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
        r = object_digest(&b->entries[idx].e, od);
        if (r < 0)
                return builder_fail(b, r, b->entries[idx].e.path, "hashing its metadata");
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
                                    : materialize(b, pfd, name, &be.e, &(FileSource){.fd = src});
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
