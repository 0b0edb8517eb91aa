/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fsck: the checks and repairs listed in fsck.h, one pass each, every
 * problem collected into the report with what it is and why.
 */
#include "fsck.h"
#include "fsutil.h"
#include "identity.h"
#include "instance.h"
#include "mounttab.h"
#include "oplog.h"
#include "sha256.h"
#include "store-internal.h" /* staging/, images/ and the object layout */
#include "upgrade.h"

#include <dirent.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <time.h>

#define SAMPLE_OBJECTS 64
#define LOST_FOUND "lost+found"

typedef struct Fsck {
        Store *s;
        const FsckOptions *o;
        FsckReport *rep;
} Fsck;

void fsck_report_done(FsckReport *r) {
        for (size_t k = 0; k < r->n; k++) {
                free(r->problems[k].what);
                free(r->problems[k].why);
        }
        free(r->problems);
        *r = (FsckReport){};
}

size_t fsck_report_remaining(const FsckReport *r) {
        size_t n = 0;
        for (size_t k = 0; k < r->n; k++)
                n += !r->problems[k].repaired;
        return n;
}

static int problem(Fsck *f, bool repaired, const char *what, const char *why_fmt, ...)
        _printf_(4, 5);
/* Not a leak: the strings live on in f->rep->problems; gcc 12 drops a realloc'd buffer's contents
 * when it moves. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int problem(Fsck *f, bool repaired, const char *what, const char *why_fmt, ...) {
        FsckProblem *l;
        char *why = NULL;
        va_list ap;
        int k;

        va_start(ap, why_fmt);
        k = vasprintf(&why, why_fmt, ap);
        va_end(ap);
        l = realloc(f->rep->problems, (f->rep->n + 1) * sizeof *l);
        if (k < 0 || !l) {
                free(why);
                if (l)
                        f->rep->problems = l;
                return log_oom();
        }
        f->rep->problems = l;
        l[f->rep->n] = (FsckProblem){.what = strdup(what), .why = why, .repaired = repaired};
        if (!l[f->rep->n].what) {
                free(why);
                return log_oom();
        }
        f->rep->n++;
        return 0;
}
#pragma GCC diagnostic pop

/* Names in a directory, sorted, without "." and "..". */
static int list_dir(int dirfd, const char *path, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        struct dirent *de;
        DIR *d;
        int r;

        r = opendir_at(dirfd, path, &d);
        if (r < 0)
                return r;
        l = calloc(1, sizeof(char *));
        if (!l) {
                closedir(d);
                return -ENOMEM;
        }
        while ((errno = 0, de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    strv_extend(&l, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        closedir(d);
        qsort(l, strv_length(l), sizeof *l, strv_compare_entries);
        *ret = TAKE_PTR(l);
        return 0;
}

/* Moves dirfd/name to STORE/lost+found/LABEL.TIMESTAMP; never deletes. */
static int to_lost_found(Fsck *f, int dirfd, const char *name, const char *label, char **ret_dest) {
        _cleanup_close_ int lfd = -EBADF;
        _cleanup_free_ char *dest = NULL;

        if (mkdirat(store_dirfd(f->s), LOST_FOUND, 0700) < 0 && errno != EEXIST)
                return -errno;
        lfd = openat(store_dirfd(f->s), LOST_FOUND,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (lfd < 0)
                return -errno;
        for (unsigned n = 0;; n++) {
                free(dest);
                if ((n == 0 ? asprintf_safe(&dest, "%s.%lld", label, (long long)time(NULL))
                            : asprintf_safe(&dest, "%s.%lld.%u", label, (long long)time(NULL), n)) <
                    0)
                        return -ENOMEM;
                if (renameat2(dirfd, name, lfd, dest, RENAME_NOREPLACE) >= 0)
                        break;
                if (errno != EEXIST || n > 100)
                        return -errno;
        }
        *ret_dest = TAKE_PTR(dest);
        return 0;
}

/* Not a leak: problem() keeps its strings in f->rep->problems; gcc 12 drops a moved realloc
 * buffer's contents. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int check_catalog(Fsck *f) {
        _cleanup_strv_free_ char **l = NULL;
        OpRow **ops = NULL;
        size_t n = 0;
        int r;

        r = catalog_check(store_catalog(f->s), &l);
        if (r < 0)
                return r;
        for (size_t k = 0; l[k]; k++) {
                r = problem(f, false, "catalog", "%s", l[k]);
                if (r < 0)
                        return r;
        }
        /* Recovery ran when we opened the store; a row left means it failed
         * (and said why) or its instance was busy. */
        if (f->o->repair)
                (void)oplog_recover(f->s);
        r = catalog_list_ops(store_catalog(f->s), &ops, &n);
        if (r < 0)
                return r;
        for (size_t k = 0; k < n && r >= 0; k++) {
                _cleanup_free_ char *what = NULL;
                if (asprintf_safe(&what, "journal: %s of %s", ops[k]->kind, ops[k]->subject) < 0)
                        r = log_oom();
                else
                        r = problem(f, false, what, "unfinished (%s)", ops[k]->phase);
        }
        op_row_list_free(ops, n);
        return r;
}
#pragma GCC diagnostic pop

/* Not a leak: problem() keeps its strings in f->rep->problems; gcc 12 drops a moved realloc
 * buffer's contents. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int check_staging(Fsck *f) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = list_dir(f->s->staging_fd, ".", &names);
        if (r < 0)
                return log_error_errno(r, "fsck: staging/: %m");
        for (size_t k = 0; names[k]; k++) {
                _cleanup_close_ int fd = -EBADF;
                _cleanup_free_ char *what = strjoin("staging/", names[k]);
                bool fixed = false;

                if (!what)
                        return log_oom();
                fd = openat(f->s->staging_fd, names[k], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue; /* a live build */
                if (f->o->repair)
                        fixed = rm_rf_at(f->s->staging_fd, names[k]) >= 0;
                r = problem(f, fixed, what, "leftover of an interrupted build%s",
                            fixed ? " (removed)" : "");
                if (r < 0)
                        return r;
        }
        return 0;
}
#pragma GCC diagnostic pop

static int object_digest_fd(int fd, uint8_t od[static DIGEST_SIZE]);

/* The inode behind one of the image's regular files: the tree's own file,
 * or for a delta (whose view is overlayfs, another file system) the delta's
 * link or the bottom tree's file. */
static int open_file_source(Fsck *f, char **chain, const ManifestEntry *e, int parentfd,
                            const char *base, int *ret_fd) {
        int fd;

        if (chain[1])
                return delta_open_file_source(f->s, chain, e, ret_fd);
        fd = openat(parentfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

/* Linked again only once its content and metadata prove to be the object. */
static bool relink(Fsck *f, char **chain, const ManifestEntry *e, int parentfd, const char *base,
                   const uint8_t od[static DIGEST_SIZE], const char *opath) {
        _cleanup_close_ int fd = -EBADF;
        uint8_t got[DIGEST_SIZE];

        if (open_file_source(f, chain, e, parentfd, base, &fd) < 0 ||
            object_digest_fd(fd, got) < 0 || memcmp(got, od, DIGEST_SIZE) != 0)
                return false;
        return linkat(fd, "", f->s->objects_fd, opath, AT_EMPTY_PATH) >= 0;
}

/* One regular file of an image: its object must exist. chain is the image's
 * (one element for a whole tree); tree_st the file as the tree shows it. */
static int check_object_link(Fsck *f, const char *id, char **chain, const ManifestEntry *e,
                             int parentfd, const char *base, const struct stat *tree_st) {
        char opath[OBJECT_PATH_SIZE], sub[3];
        uint8_t od[DIGEST_SIZE];
        struct stat st;
        bool fixed = false;
        _cleanup_free_ char *what = NULL;

        int r = object_digest(e, od);

        if (r < 0)
                return r;
        object_path(od, opath);
        if (fstatat(f->s->objects_fd, opath, &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
            S_ISREG(st.st_mode)) {
                _cleanup_close_ int fd = -EBADF;
                uint8_t got[DIGEST_SIZE];

                /* --full hashes the objects; a whole tree's file that is not
                 * one of them (the link-limit replacement leaves older trees
                 * their own inode) is hashed here. */
                if (!f->o->full || chain[1] ||
                    (tree_st->st_dev == st.st_dev && tree_st->st_ino == st.st_ino))
                        return 0;
                r = open_file_source(f, chain, e, parentfd, base, &fd);
                if (r >= 0)
                        r = object_digest_fd(fd, got);
                if (r == -ENOMEM)
                        return log_oom();
                if (r >= 0 && memcmp(got, od, DIGEST_SIZE) == 0)
                        return 0;
                if (asprintf_safe(&what, "image %.12s: %s", id, e->path) < 0)
                        return log_oom();
                return r < 0 ? problem(f, false, what, "cannot read it: %s", strerror(-r))
                             : problem(f, false, what,
                                       "its content or metadata is not its object's (objects/%s)",
                                       opath);
        }
        if (f->o->repair) {
                memcpy(sub, opath, 2);
                sub[2] = 0;
                (void)mkdirat(f->s->objects_fd, sub, 0700);
                fixed = relink(f, chain, e, parentfd, base, od, opath);
        }
        if (asprintf_safe(&what, "image %.12s: %s", id, e->path) < 0)
                return log_oom();
        return problem(f, fixed, what, "its object objects/%s is missing%s", opath,
                       !fixed     ? ""
                       : chain[1] ? " (linked again from the delta)"
                                  : " (linked again from the tree)");
}

static const char *type_name(mode_t m) {
        switch (m & S_IFMT) {
        case S_IFDIR:
                return "directory";
        case S_IFREG:
                return "regular file";
        case S_IFLNK:
                return "symlink";
        case S_IFCHR:
                return "character device";
        case S_IFBLK:
                return "block device";
        case S_IFIFO:
                return "FIFO";
        case S_IFSOCK:
                return "socket";
        default:
                return "unknown";
        }
}

/* The tree against its manifest: every entry there, with its type, mode,
 * owner, size or target (the objects carry the content). */
static int check_tree(Fsck *f, const char *id, char **chain, const Manifest *m, int rootfd) {
        _cleanup_free_ char *cur_dir = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        int r;

        for (size_t k = 0; k < m->n; k++) {
                const ManifestEntry *e = &m->entries[k];
                _cleanup_free_ char *dir = NULL, *what = NULL;
                const char *base;
                struct stat st;
                char why[256] = "";

                if (streq(e->path, "/")) {
                        if (fstat(rootfd, &st) < 0)
                                return -errno;
                        base = NULL;
                } else {
                        const char *slash = strrchr(e->path, '/');
                        base = slash + 1;
                        dir = slash == e->path ? strdup(".")
                                               : strndup(e->path + 1, slash - e->path - 1);
                        if (!dir)
                                return log_oom();
                        if (!streq_ptr(dir, cur_dir)) {
                                safe_close(dirfd);
                                dirfd = openat_in_root_nofollow(rootfd, dir, O_RDONLY | O_DIRECTORY,
                                                                0);
                                free(cur_dir);
                                cur_dir = TAKE_PTR(dir);
                        }
                        if (dirfd < 0 || fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                snprintf(why, sizeof why, "missing from the tree");
                                goto report;
                        }
                }
                if ((st.st_mode & S_IFMT) != (e->mode & S_IFMT))
                        snprintf(why, sizeof why, "a %s in the tree, a %s in the manifest",
                                 type_name(st.st_mode), type_name(e->mode));
                else if ((st.st_mode & 07777) != (e->mode & 07777))
                        snprintf(why, sizeof why, "mode %04o in the tree, %04o in the manifest",
                                 st.st_mode & 07777, e->mode & 07777);
                else if (st.st_uid != e->uid || st.st_gid != e->gid)
                        snprintf(why, sizeof why, "owner %u:%u in the tree, %u:%u in the manifest",
                                 st.st_uid, st.st_gid, e->uid, e->gid);
                else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size != e->size)
                        snprintf(why, sizeof why, "%llu bytes in the tree, %llu in the manifest",
                                 (unsigned long long)st.st_size, (unsigned long long)e->size);
                else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(dirfd, base, target, sizeof target - 1);
                        if (n < 0 || (target[n] = 0, !streq(target, e->target ?: "")))
                                snprintf(why, sizeof why, "its target differs from the manifest");
                } else if (S_ISREG(st.st_mode)) {
                        r = check_object_link(f, id, chain, e, dirfd, base, &st);
                        if (r < 0)
                                return r;
                }
                if (!why[0])
                        continue;
        report:
                if (asprintf_safe(&what, "image %.12s: %s", id, e->path) < 0)
                        return log_oom();
                r = problem(f, false, what, "%s", why);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The first delta format named every delta's links r.0, r.1, ... and
 * redirected to /r.N, which overlayfs finds first in the base's tree or in
 * another delta of the chain: such a delta can show another file's content.
 * Made whole, it reads its objects by digest. */
static int check_legacy_delta(Fsck *f, const char *id) {
        _cleanup_free_ char *what = NULL;
        bool fixed = false;
        int r;

        r = delta_is_legacy(f->s, id);
        if (r <= 0)
                return r == -ENOENT ? 0 : r;
        if (f->o->repair)
                fixed = store_flatten_image(f->s, id) >= 0;
        if (asprintf_safe(&what, "image %.12s", id) < 0)
                return log_oom();
        return problem(f, fixed, what,
                       "a delta of the first format (links r.N), whose files can show another "
                       "file's content%s",
                       fixed ? " (made whole)" : ": fsck --repair makes it whole");
}

typedef struct BadFile {
        Fsck *f;
        const char *id;
} BadFile;

static int delta_bad_file(const char *path, const char *why, void *userdata) {
        BadFile *b = userdata;
        _cleanup_free_ char *what = NULL;

        if (asprintf_safe(&what, "image %.12s: %s", b->id, path) < 0)
                return log_oom();
        return problem(b->f, false, what, "%s", why);
}

/* A whole tree's files are its objects' inodes, which --full hashes; a
 * delta's are redirects that only reading them through the view checks. */
static int check_delta_content(Fsck *f, const char *id, char **chain, const Manifest *m, int root) {
        return delta_check_content(f->s, chain, NULL, 0, m, root, delta_bad_file,
                                   &(BadFile){.f = f, .id = id});
}

static int check_images(Fsck *f) {
        _cleanup_strv_free_ char **names = NULL, **ids = NULL;
        int r;

        r = catalog_image_ids(store_catalog(f->s), "", &ids);
        if (r < 0)
                return r;
        for (size_t k = 0; ids[k]; k++) {
                _cleanup_(manifest_freep) Manifest *m = NULL;
                _cleanup_strv_free_ char **chain = NULL;
                _cleanup_close_ int root = -EBADF, dfd = -EBADF;
                _cleanup_free_ char *what = NULL;
                char mid[DIGEST_HEX_SIZE];
                const char *id = ids[k];

                f->rep->images_checked++;
                if (asprintf_safe(&what, "image %.12s", id) < 0)
                        return log_oom();
                r = store_open_image(f->s, id, &dfd);
                if (r < 0) {
                        r = problem(f, false, what, "images/%s is missing", id);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = check_legacy_delta(f, id);
                if (r < 0)
                        return r;
                /* A delta image's manifest composes over its base's; its tree
                 * is the overlay of its chain. */
                r = store_read_manifest(f->s, id, &m);
                if (r < 0) {
                        r = problem(f, false, what, "cannot read its manifest: %s", strerror(-r));
                        if (r < 0)
                                return r;
                        continue;
                }
                r = manifest_id(m, mid);
                if (r < 0)
                        return log_oom();
                if (!streq(mid, id)) {
                        r = problem(f, false, what, "its manifest gives the id %.12s", mid);
                        if (r < 0)
                                return r;
                }
                r = store_open_image_root(f->s, id, &root);
                if (r < 0) {
                        r = problem(f, false, what, "its tree is missing: %s", strerror(-r));
                        if (r < 0)
                                return r;
                        continue;
                }
                r = store_image_chain(f->s, id, &chain);
                if (r < 0) {
                        r = problem(f, false, what, "cannot read its chain: %s", strerror(-r));
                        if (r < 0)
                                return r;
                        continue;
                }
                r = check_tree(f, id, chain, m, root);
                if (r >= 0 && f->o->full && chain[1])
                        r = check_delta_content(f, id, chain, m, root);
                if (r < 0)
                        return r;
        }

        /* Trees the catalog does not know (recovery removes these, so only a
         * tree made behind goldroot's back, or a failed recovery). */
        r = list_dir(f->s->images_fd, ".", &names);
        if (r < 0)
                return log_error_errno(r, "fsck: images/: %m");
        for (size_t k = 0; names[k]; k++) {
                _cleanup_free_ char *what = strjoin("images/", names[k]);
                bool fixed = false;

                if (!what)
                        return log_oom();
                if (strv_contains(ids, names[k]))
                        continue;
                if (f->o->repair)
                        fixed = rm_rf_at(f->s->images_fd, names[k]) >= 0;
                r = problem(f, fixed, what, "no catalog row%s", fixed ? " (removed)" : "");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The object digest of the inode fd: its content and metadata. -EMEDIUMTYPE
 * if it is not a regular file. */
static int object_digest_fd(int fd, uint8_t od[static DIGEST_SIZE]) {
        ManifestEntry e = {};
        _cleanup_(sha256_freep) Sha256 *ctx = NULL;
        struct stat st;
        uint8_t buf[65536];
        ssize_t n;
        int r;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EMEDIUMTYPE;
        r = sha256_new(&ctx);
        if (r < 0)
                return r;
        while ((n = read(fd, buf, sizeof buf)) > 0 && r >= 0)
                r = sha256_update(ctx, buf, (size_t)n);
        if (n < 0)
                return -errno;
        if (r >= 0)
                r = sha256_final(ctx, e.digest);
        if (r < 0)
                return r;
        e.mode = st.st_mode;
        e.uid = st.st_uid;
        e.gid = st.st_gid;
        r = xattrs_read_fd(fd, &e.xattrs, &e.n_xattrs);
        if (r < 0)
                return r;
        r = object_digest(&e, od);
        xattrs_free(e.xattrs, e.n_xattrs);
        return r;
}

/* An object's name against its content and metadata. */
static int verify_object(int dirfd, const char *name, const char *sub, bool *ret_ok) {
        _cleanup_close_ int fd = -EBADF;
        uint8_t od[DIGEST_SIZE];
        char hex[DIGEST_HEX_SIZE];
        int r;

        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        r = object_digest_fd(fd, od);
        if (r == -EMEDIUMTYPE) {
                *ret_ok = false;
                return 0;
        }
        if (r < 0)
                return r;
        digest_to_hex(od, hex);
        /* name is "XX/REST" */
        *ret_ok = strlen(name) == DIGEST_HEX_SIZE && strncmp(hex, sub, 2) == 0 &&
                  streq(hex + 2, name + 3);
        return 0;
}

static int check_objects(Fsck *f) {
        _cleanup_strv_free_ char **subs = NULL, **all = NULL;
        size_t n, stride;
        int r;

        r = list_dir(f->s->objects_fd, ".", &subs);
        if (r < 0)
                return log_error_errno(r, "fsck: objects/: %m");
        for (size_t k = 0; subs[k]; k++) {
                _cleanup_strv_free_ char **names = NULL;
                if (list_dir(f->s->objects_fd, subs[k], &names) < 0)
                        continue;
                for (size_t j = 0; names[j]; j++) {
                        if (startswith(names[j], ".tmp-"))
                                continue; /* garbage for gc */
                        char *p = strjoin(subs[k], "/", names[j]);
                        if (!p || strv_consume(&all, p) < 0)
                                return log_oom();
                }
        }
        n = strv_length(all);
        /* Rounded up, so that a sample is at most SAMPLE_OBJECTS. */
        stride = f->o->full || n <= SAMPLE_OBJECTS ? 1 : (n + SAMPLE_OBJECTS - 1) / SAMPLE_OBJECTS;
        for (size_t k = 0; k < n; k += stride) {
                char sub[3] = {all[k][0], all[k][1], 0};
                bool ok = true;
                _cleanup_free_ char *what = strjoin("objects/", all[k]);

                if (!what)
                        return log_oom();
                f->rep->objects_checked++;
                r = verify_object(f->s->objects_fd, all[k], sub, &ok);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        r = problem(f, false, what, "cannot read it: %s", strerror(-r));
                else if (!ok)
                        r = problem(f, false, what,
                                    "its content or metadata does not match its name");
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_leftover_name(const char *n) {
        return startswith(n, ".upgrade.") || startswith(n, ".rollback.") ||
               startswith(n, "backup.");
}

/* Reads the identity as every instance command does, which would refuse a
 * damaged one. The parser's own line is not printed: fsck reports, and
 * `goldroot status NAME` shows the line and column. */
static int check_identity(Fsck *f, int dfd, const char *what, const char *name) {
        _cleanup_(identity_freep) Identity *id = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r, level;

        r = read_file_at(dfd, "identity", &text, &len, IDENTITY_MAX_SIZE);
        if (r == -EFBIG)
                return problem(f, false, what, "its identity file is larger than %u KiB",
                               IDENTITY_MAX_SIZE / 1024);
        if (r < 0)
                return problem(f, false, what, "its identity file cannot be read: %s",
                               strerror(-r));
        level = log_get_max_level();
        log_set_max_level(LOG_CRIT);
        r = identity_parse(text, len, "identity", &id);
        log_set_max_level(level);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return problem(f, false, what,
                               "its identity file does not parse ('goldroot status %s' shows "
                               "where)",
                               name);
        return 0;
}

/* One instance's directory: identity, state, backups and leftovers. */
static int check_instance(Fsck *f, int idir, const InstanceRow *row) {
        _cleanup_(backup_row_freep) BackupRow *b = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int dfd = -EBADF;
        _cleanup_free_ char *what = NULL;
        struct stat st;
        int r;

        f->rep->instances_checked++;
        if (asprintf_safe(&what, "instance %s", row->name) < 0)
                return log_oom();
        dfd = openat(idir, row->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return problem(f, false, what, "its directory instances/%s is missing", row->name);
        if (fstatat(dfd, "identity", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
                r = problem(f, false, what, "its identity file is missing");
                if (r < 0)
                        return r;
        } else {
                r = check_identity(f, dfd, what, row->name);
                if (r < 0)
                        return r;
        }
        if (fstatat(dfd, "state", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
                r = problem(f, false, what, "its state directory is missing");
                if (r < 0)
                        return r;
        }
        r = catalog_get_backup(store_catalog(f->s), row->name, &b);
        if (r < 0 && r != -ENOENT)
                return r;
        if (b) {
                bool fixed = false;
                if (fstatat(dfd, b->dir, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
                        if (f->o->repair)
                                fixed = catalog_remove_backup(store_catalog(f->s), row->name) >= 0;
                        r = problem(f, fixed, what, "its backup %s is missing%s", b->dir,
                                    fixed ? " (backup row dropped)" : "");
                        if (r < 0)
                                return r;
                } else if (!streq(b->phase, "ready")) {
                        r = problem(f, false, what, "a rollback to %s is unfinished", b->dir);
                        if (r < 0)
                                return r;
                }
        }
        r = list_dir(dfd, ".", &names);
        if (r < 0)
                return log_error_errno(r, "fsck: instances/%s: %m", row->name);
        for (size_t k = 0; names[k]; k++) {
                _cleanup_free_ char *dest = NULL, *label = NULL;
                bool fixed = false;

                if (!is_leftover_name(names[k]) || (b && streq(b->dir, names[k])))
                        continue;
                if (f->o->repair) {
                        label = strjoin(row->name, "-",
                                        names[k][0] == '.' ? names[k] + 1 : names[k]);
                        if (!label)
                                return log_oom();
                        fixed = to_lost_found(f, dfd, names[k], label, &dest) >= 0;
                }
                r = problem(f, fixed, what, "%s is left over from an interrupted %s%s%s%s",
                            names[k],
                            startswith(names[k], "backup.")     ? "upgrade (no backup row names it)"
                            : startswith(names[k], ".upgrade.") ? "upgrade"
                                                                : "rollback",
                            fixed ? " (moved to " LOST_FOUND "/" : "", fixed ? dest : "",
                            fixed ? ")" : "");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_instances(Fsck *f) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int idir = -EBADF;
        InstanceRow **rows = NULL;
        size_t n = 0;
        int r;

        r = catalog_list_instances(store_catalog(f->s), &rows, &n);
        if (r < 0)
                return r;
        idir = openat(store_dirfd(f->s), "instances",
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (idir < 0 && errno != ENOENT) {
                r = log_error_errno(errno, "fsck: instances/: %m");
                goto out;
        }
        for (size_t k = 0; k < n; k++) {
                r = check_instance(f, idir, rows[k]);
                if (r < 0)
                        goto out;
        }
        r = 0;
        if (idir < 0)
                goto out;
        r = list_dir(idir, ".", &names);
        if (r < 0) {
                log_error_errno(r, "fsck: instances/: %m");
                goto out;
        }
        for (size_t k = 0; names[k]; k++) {
                _cleanup_free_ char *what = strjoin("instances/", names[k]), *dest = NULL;
                const char *why = NULL;
                bool known = false, fixed = false;

                if (!what) {
                        r = log_oom();
                        goto out;
                }
                for (size_t j = 0; j < n && !known; j++)
                        known = streq(rows[j]->name, names[k]);
                if (known)
                        continue;
                if (startswith(names[k], ".removing."))
                        why = "left over from an interrupted rm";
                else
                        why = "no catalog row (an orphaned instance directory)";
                if (f->o->repair)
                        fixed = to_lost_found(f, idir, names[k],
                                              names[k][0] == '.' ? names[k] + 1 : names[k],
                                              &dest) >= 0;
                r = problem(f, fixed, what, "%s%s%s%s", why,
                            fixed ? " (moved to " LOST_FOUND "/" : "", fixed ? dest : "",
                            fixed ? ")" : "");
                if (r < 0)
                        goto out;
        }
out:
        instance_row_list_free(rows, n);
        return r;
}

/* The path under the store may run through an instance's state, which its
 * guest controls: it is resolved again from the store's fd with no symlink
 * allowed, and the mount found must be the one the table named, before the
 * umount goes through that fd rather than through the path. */
static int detach_mount(Fsck *f, const MountEntry *m) {
        _cleanup_close_ int fd = -EBADF;
        char buf[FD_PATH_MAX];
        struct statx sx;

        fd = openat_in_root_nofollow(store_dirfd(f->s), m->relative, O_PATH | O_CLOEXEC, 0);
        if (fd < 0)
                return fd;
        if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0)
                return -errno;
        if (!(sx.stx_mask & STATX_MNT_ID) || sx.stx_mnt_id != (uint64_t)m->id ||
            !(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return -ESTALE;
        if (umount2(fd_path(fd, buf), MNT_DETACH) < 0)
                return -errno;
        return 0;
}

static int check_mount(Fsck *f, const MountEntry *m) {
        _cleanup_free_ char *what = strjoin("mount ", m->target);
        bool fixed = false;
        int err = 0;

        if (!what)
                return log_oom();
        if (f->o->repair) {
                err = -detach_mount(f, m);
                fixed = err == 0;
        }
        return problem(f, fixed, what,
                       "a %s mount of %s on the store (it keeps the tree busy)%s%s%s", m->fstype,
                       m->source, fixed ? " (detached)" : "", err ? ": cannot detach it: " : "",
                       err == ELOOP || err == ESTALE
                               ? "its path no longer leads to it (a symlink, or it moved)"
                       : err ? strerror(err)
                             : "");
}

/* Nothing of goldroot's stays mounted under the store in the host's mount
 * namespace (instances mount in their own), so a mount there is a leftover
 * or someone else's, and it keeps the tree busy: rm and gc would fail with
 * EBUSY. Detached deepest first, so that each umount meets no mount on top. */
static int check_mounts(Fsck *f) {
        MountEntry *l = NULL;
        size_t n = 0;
        int r;

        r = mounttab_below(store_path(f->s), &l, &n);
        if (r < 0)
                return log_error_errno(r, "fsck: reading the mount table: %m");
        for (size_t k = n; k-- > 0 && r >= 0;)
                r = check_mount(f, &l[k]);
        mount_entries_free(l, n);
        return r;
}

/* Not the store's, but what a killed run --rm left: its throwaway state.
 * Removed as the next run that makes a directory would remove it, and like
 * the journal's recovery, said only with -v; a directory that cannot be
 * removed is a problem. */
static int sweep_dead_run(const char *name, int removed, void *userdata) {
        Fsck *f = userdata;
        _cleanup_free_ char *what = NULL;

        if (removed == 0) {
                log_info("removed %s/ephemeral/%s, left by a run --rm that died", runtime_dir(),
                         name);
                return 0;
        }
        what = strjoin("run ", name);
        if (!what)
                return log_oom();
        return problem(f, false, what,
                       "%s/ephemeral/%s is left by a run --rm that died: cannot remove it: %s",
                       runtime_dir(), name, strerror(-removed));
}

int fsck_run(Store *s, const FsckOptions *o, FsckReport *ret) {
        Fsck f = {.s = s, .o = o, .rep = ret};
        int r;

        assert(s->lock == STORE_EXCLUSIVE);
        *ret = (FsckReport){};
        r = instance_dead_runs(true, sweep_dead_run, &f);
        if (r >= 0)
                r = check_catalog(&f);
        if (r >= 0)
                r = check_mounts(&f);
        if (r >= 0)
                r = check_staging(&f);
        if (r >= 0)
                r = check_images(&f);
        if (r >= 0)
                r = check_objects(&f);
        if (r >= 0)
                r = check_instances(&f);
        return r;
}
