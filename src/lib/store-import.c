/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-import: `image import` from a directory (walked fd-relative, never
 * following a symlink, never descending into another file system) or from a
 * tarball or tar stream (archive.c).
 */
#include "fsutil.h"
#include "store-internal.h"

#include <dirent.h>
#include <search.h>

typedef struct InodeKey {
        dev_t dev;
        ino_t ino;
        char *path; /* the first name we imported it under */
} InodeKey;

typedef struct Walk {
        ImageBuilder *b;
        const char *what;
        dev_t dev;
        struct stat store;   /* the store's directory, which is left out */
        struct stat staging; /* and our staging tree, for a source in the store */
        void *inodes;        /* tsearch: InodeKey, for files with more than one link */
} Walk;

static int inode_compare(const void *a, const void *b) {
        const InodeKey *x = a, *y = b;
        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        if (x->ino != y->ino)
                return x->ino < y->ino ? -1 : 1;
        return 0;
}

static void inode_free(void *p) {
        InodeKey *k = p;
        free(k->path);
        free(k);
}

static int name_compare(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted, so imports walk in a stable order. */
static int read_names(int dfd, char ***ret, size_t *ret_n) {
        _cleanup_close_ int iterfd = -EBADF;
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        DIR *d;
        int r = 0;

        r = opendir_at(dfd, ".", &d);
        if (r < 0)
                return r;
        names = calloc(1, sizeof(char *));
        if (!names)
                r = -ENOMEM;
        while (r >= 0 && (errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = strv_extend(&names, de->d_name);
        }
        if (r >= 0 && errno != 0)
                r = negative_errno();
        closedir(d);
        if (r < 0)
                return r;
        *ret_n = strv_length(names);
        qsort(names, *ret_n, sizeof(char *), name_compare);
        *ret = TAKE_PTR(names);
        return 0;
}

static void entry_from_stat(ManifestEntry *e, const struct stat *st) {
        e->mode = st->st_mode;
        e->uid = st->st_uid;
        e->gid = st->st_gid;
        e->mtime_sec = st->st_mtim.tv_sec;
        e->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
        if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
                e->rdev = st->st_rdev;
}

static int walk_fail(Walk *w, int r, const char *path, const char *what) {
        return log_error_errno(r, "%s: %s: %s: %m", w->what, path, what);
}

/* Opens name for reading and checks it is still what we stat'ed. */
static int open_checked(int dfd, const char *name, int flags, const struct stat *st) {
        _cleanup_close_ int fd = -EBADF;
        struct stat now;

        fd = openat(dfd, name, flags | O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &now) < 0)
                return -errno;
        if (now.st_ino != st->st_ino || now.st_dev != st->st_dev ||
            (now.st_mode & S_IFMT) != (st->st_mode & S_IFMT))
                return -ESTALE; /* replaced while we looked at it */
        return TAKE_FD(fd);
}

static int walk_dir(Walk *w, int dfd, const char *dpath);

static int walk_entry(Walk *w, int dfd, const char *name, const char *path) {
        ManifestEntry e = {};
        struct stat st;
        int r;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return walk_fail(w, -errno, path, "stat");
        entry_from_stat(&e, &st);
        e.path = strdup(path);
        if (!e.path)
                return log_oom();

        if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int fd = -EBADF;

                if (st.st_nlink > 1) {
                        InodeKey key = {.dev = st.st_dev, .ino = st.st_ino}, **found;
                        found = tfind(&key, &w->inodes, inode_compare);
                        if (found) {
                                r = image_builder_add_hardlink(w->b, path, (*found)->path);
                                manifest_entry_done(&e);
                                return r;
                        }
                }
                fd = open_checked(dfd, name, 0, &st);
                if (fd < 0) {
                        manifest_entry_done(&e);
                        return walk_fail(w, fd, path, "opening");
                }
                r = xattrs_read_fd(fd, &e.xattrs, &e.n_xattrs);
                if (r < 0) {
                        manifest_entry_done(&e);
                        return walk_fail(w, r, path, "reading xattrs");
                }
                r = image_builder_add_file_fd(w->b, &e, fd);
                manifest_entry_done(&e);
                if (r < 0)
                        return r;
                if (st.st_nlink > 1) {
                        InodeKey *k = calloc(1, sizeof *k);
                        if (!k)
                                return log_oom();
                        k->dev = st.st_dev;
                        k->ino = st.st_ino;
                        k->path = strdup(path);
                        if (!k->path || !tsearch(k, &w->inodes, inode_compare)) {
                                inode_free(k);
                                return log_oom();
                        }
                }
                return 0;
        }

        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fd = -EBADF;

                /* Else the walk would read the store, our own staging tree
                 * included, which grows as we read it. */
                if ((st.st_dev == w->store.st_dev && st.st_ino == w->store.st_ino) ||
                    (st.st_dev == w->staging.st_dev && st.st_ino == w->staging.st_ino)) {
                        log_info("%s: %s: the store itself, left out of the image", w->what, path);
                        manifest_entry_done(&e);
                        return 0;
                }
                fd = open_checked(dfd, name, O_DIRECTORY, &st);
                if (fd < 0) {
                        manifest_entry_done(&e);
                        return walk_fail(w, fd, path, "opening");
                }
                r = xattrs_read_fd(fd, &e.xattrs, &e.n_xattrs);
                if (r < 0) {
                        manifest_entry_done(&e);
                        return walk_fail(w, r, path, "reading xattrs");
                }
                r = image_builder_add(w->b, &e);
                manifest_entry_done(&e);
                if (r < 0)
                        return r;
                if (st.st_dev != w->dev) {
                        log_warning("%s: %s: a mount point, imported as an empty directory",
                                    w->what, path);
                        return 0;
                }
                return walk_dir(w, fd, path);
        }

        if (S_ISLNK(st.st_mode)) {
                size_t len = st.st_size > 0 ? (size_t)st.st_size : 255;
                ssize_t n;

                e.target = malloc(len + 1);
                if (!e.target) {
                        manifest_entry_done(&e);
                        return log_oom();
                }
                n = readlinkat(dfd, name, e.target, len + 1);
                if (n < 0 || (size_t)n > len) {
                        manifest_entry_done(&e);
                        return walk_fail(w, n < 0 ? -errno : -ESTALE, path, "reading symlink");
                }
                e.target[n] = 0;
        }
        r = xattrs_read_at(dfd, name, &e.xattrs, &e.n_xattrs);
        if (r < 0) {
                manifest_entry_done(&e);
                return walk_fail(w, r, path, "reading xattrs");
        }
        r = image_builder_add(w->b, &e);
        manifest_entry_done(&e);
        return r;
}

static int walk_dir(Walk *w, int dfd, const char *dpath) {
        _cleanup_strv_free_ char **names = NULL;
        size_t n;
        int r;

        r = read_names(dfd, &names, &n);
        if (r < 0)
                return walk_fail(w, r, dpath, "reading directory");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = path_join(dpath, names[i]);
                if (!path)
                        return log_oom();
                r = walk_entry(w, dfd, names[i], path);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Bytes of regular files below dfd, for the progress bar's total. */
static uint64_t tree_bytes(int dfd, dev_t dev, const struct stat *store) {
        _cleanup_strv_free_ char **names = NULL;
        uint64_t total = 0;
        size_t n;

        if (read_names(dfd, &names, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISREG(st.st_mode))
                        total += (uint64_t)st.st_size;
                else if (S_ISDIR(st.st_mode) && st.st_dev == dev &&
                         !(st.st_dev == store->st_dev && st.st_ino == store->st_ino)) {
                        _cleanup_close_ int fd = openat(
                                dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd >= 0)
                                total += tree_bytes(fd, dev, store);
                }
        }
        return total;
}

static int import_directory(ImageBuilder *b, int fd, const char *what, Progress *p) {
        Walk w = {.b = b, .what = what};
        ManifestEntry root = {};
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0 || fstat(store_dirfd(b->store), &w.store) < 0 ||
            fstat(b->staging_fd, &w.staging) < 0)
                return log_error_errno(errno, "%s: %m", what);
        if (st.st_dev == w.store.st_dev && st.st_ino == w.store.st_ino)
                return log_error_errno(EINVAL, "%s: that is the store itself", what);
        w.dev = st.st_dev;
        if (p && p->style != PROGRESS_NONE)
                p->total_bytes = tree_bytes(fd, st.st_dev, &w.store);
        entry_from_stat(&root, &st);
        root.path = strdup("/");
        if (!root.path)
                return log_oom();
        r = xattrs_read_fd(fd, &root.xattrs, &root.n_xattrs);
        if (r < 0) {
                manifest_entry_done(&root);
                return log_error_errno(r, "%s: reading xattrs: %m", what);
        }
        r = image_builder_add(b, &root);
        manifest_entry_done(&root);
        if (r >= 0)
                r = walk_dir(&w, fd, "/");
        tdestroy(w.inodes, inode_free);
        return r;
}

int store_import(Store *s, const char *source, const ImportOptions *o,
                 char ret_id[static DIGEST_HEX_SIZE]) {
        _cleanup_(image_builder_freep) ImageBuilder *b = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *what = NULL;
        struct stat st;
        bool is_dir;
        int r;

        assert(s && source && o);
        if (store_import_is_container(source))
                return store_import_container(s, source, o, ret_id);
        if (asprintf_safe(&what, "import %s", source) < 0)
                return log_oom();
        if (streq(source, "-"))
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                fd = open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "%s: %m", what);
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "%s: %m", what);
        is_dir = S_ISDIR(st.st_mode);
        if (!is_dir && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
                return log_error_errno(EINVAL, "%s: not a directory, tarball or stream", what);

        r = image_builder_new(s,
                              &(ImageBuilderOptions){
                                      .implicit_parents = !is_dir,
                                      .what = what,
                                      /* tar progress counts compressed input instead */
                                      .progress = is_dir ? o->progress : NULL,
                              },
                              &b);
        if (r < 0)
                return r;
        if (is_dir)
                r = import_directory(b, fd, what, o->progress);
        else
                r = archive_import(b, fd, what, o->progress,
                                   S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
        if (r < 0)
                return r;
        return image_builder_publish(b,
                                     &(ImagePublish){
                                             .name = o->name,
                                             .tag = o->tag,
                                             .parent = o->parent,
                                     },
                                     ret_id);
}
