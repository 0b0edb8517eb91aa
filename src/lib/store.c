/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store: opening, locking and recovering the store; resolving references;
 * removing images and collecting unreferenced objects.
 */
#include "store.h"
#include "fsutil.h"
#include "mounttab.h"
#include "oplog.h"
#include "store-internal.h"
#include "upgrade.h"

#include <ctype.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>

#define STORE_DIR_MODE 0700

static int open_subdir(int dirfd, const char *name, int *ret) {
        int fd;

        if (mkdirat(dirfd, name, STORE_DIR_MODE) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret = fd;
        return 0;
}

/* mkdir -p for the store itself: a host path the administrator chose. */
static int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != 0)
                        continue;
                char c = *s;
                *s = 0;
                if (mkdir(p, c ? 0755 : mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = c;
                if (!c)
                        return 0;
        }
}

static bool store_may_create = true;

void store_set_may_create(bool b) {
        store_may_create = b;
}

/* Removes staging directories whose builder no longer holds their lock. */
static int recover_staging(Store *s) {
        struct dirent *de;
        DIR *d;
        int ret;

        ret = opendir_at(s->staging_fd, ".", &d);
        if (ret < 0)
                return ret;
        ret = 0;
        while ((errno = 0, de = readdir(d))) {
                _cleanup_close_ int fd = -EBADF;
                int r;

                if (de->d_name[0] == '.' &&
                    (de->d_name[1] == 0 || (de->d_name[1] == '.' && de->d_name[2] == 0)))
                        continue;
                fd = openat(s->staging_fd, de->d_name,
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue; /* a live builder */
                log_debug("store: removing stale staging %s", de->d_name);
                r = rm_rf_at(s->staging_fd, de->d_name);
                if (r < 0 && ret == 0)
                        ret = log_error_errno(r, "store %s: removing stale staging/%s: %m", s->path,
                                              de->d_name);
        }
        closedir(d);
        return ret;
}

int store_make_staging(Store *s, const char *prefix, const char *what, char **ret_name,
                       int *ret_fd) {
        assert(s && prefix && what && ret_name && ret_fd);
        for (unsigned attempt = 0; attempt < 16; attempt++) {
                _cleanup_close_ int fd = -EBADF;
                struct stat a, now;
                uint64_t rnd;
                char *name;

                if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                        return log_error_errno(errno, "%s: getrandom: %m", what);
                if (asprintf_safe(&name, "%s%016llx", prefix, (unsigned long long)rnd) < 0)
                        return log_oom();
                if (mkdirat(s->staging_fd, name, 0700) < 0) {
                        int e = errno;
                        free(name);
                        if (e == EEXIST)
                                continue;
                        return log_error_errno(e, "%s: creating a staging directory: %m", what);
                }
                fd = openat(s->staging_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                /* Another command's recovery may have taken it first. */
                if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &a) < 0 ||
                    fstatat(s->staging_fd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
                    a.st_ino != now.st_ino || a.st_dev != now.st_dev) {
                        free(name);
                        continue;
                }
                *ret_name = name;
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        return log_error_errno(EBUSY, "%s: could not create a staging directory", what);
}

/* Removes image trees the catalog does not know: a crash between the rename
 * that publishes a tree and the catalog commit, or during image rm. Only
 * under the exclusive lock, since a shared holder may be publishing. Most
 * commands get that lock, so the catalog is asked once, not once per tree. */
static int recover_images(Store *s) {
        _cleanup_strv_free_ char **known = NULL;
        struct dirent *de;
        size_t n_known;
        DIR *d;
        int ret;

        ret = catalog_image_ids(s->catalog, "", &known);
        if (ret < 0)
                return ret;
        n_known = strv_length(known); /* sorted by the query */
        ret = opendir_at(s->images_fd, ".", &d);
        if (ret < 0)
                return ret;
        while ((errno = 0, de = readdir(d))) {
                const char *name = de->d_name;
                int r;

                if (streq(name, ".") || streq(name, ".."))
                        continue;
                if (strlen(name) == IMAGE_ID_LEN && string_is_hex(name) &&
                    bsearch(&name, known, n_known, sizeof *known, strv_compare_entries))
                        continue;
                log_debug("store: removing image tree without catalog entry %s", name);
                r = rm_rf_at(s->images_fd, name);
                if (r < 0 && ret == 0)
                        ret = log_error_errno(r, "store %s: removing orphaned images/%s: %m",
                                              s->path, name);
        }
        closedir(d);
        return ret;
}

/* With the store to ourselves: the journal's unfinished operations first
 * (they know what their leftovers are), then whatever no journal row names. */
static int recover_exclusive(Store *s) {
        StoreLock saved = s->lock;
        int r;

        s->lock = STORE_EXCLUSIVE;
        r = oplog_recover(s);
        s->lock = saved;
        /* A failure is logged and its row stays for the next command and for
         * fsck; this command goes on. */
        (void)r;
        return recover_images(s);
}

static int store_lock(Store *s, StoreLock want) {
        int r;

        s->lock_fd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (s->lock_fd < 0)
                return log_error_errno(errno, "store %s: opening lock: %m", s->path);

        /* Whoever gets the store to itself cleans up after crashes first. */
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) >= 0) {
                r = recover_exclusive(s);
                if (r < 0)
                        return r;
                if (want == STORE_SHARED && flock(s->lock_fd, LOCK_SH) < 0)
                        return log_error_errno(errno, "store %s: lock: %m", s->path);
        } else if (errno == EWOULDBLOCK) {
                log_info("waiting for the store lock (another goldroot command is running)");
                if (flock(s->lock_fd, want == STORE_EXCLUSIVE ? LOCK_EX : LOCK_SH) < 0)
                        return log_error_errno(errno, "store %s: lock: %m", s->path);
                if (want == STORE_EXCLUSIVE) {
                        r = recover_exclusive(s);
                        if (r < 0)
                                return r;
                }
        } else
                return log_error_errno(errno, "store %s: lock: %m", s->path);
        /* Staging has its own per-builder locks, so any holder may clean it. */
        return recover_staging(s);
}

int store_open(const char *path, StoreLock lock, Store **ret) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *dbpath = NULL;
        int r;

        assert(path);
        assert(ret);
        if (isempty(path))
                return log_error_errno(EINVAL, "--store: the path is empty");
        s = calloc(1, sizeof *s);
        if (!s)
                return log_oom();
        s->dirfd = s->lock_fd = s->objects_fd = s->images_fd = s->staging_fd = -EBADF;
        s->path = strdup(path);
        if (!s->path)
                return log_oom();
        if (store_may_create) {
                r = mkdir_parents(path, STORE_DIR_MODE);
                if (r < 0)
                        return log_error_errno(r, "store %s: creating: %m", path);
        }
        s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dirfd < 0 && errno == ENOENT)
                return log_error_errno(errno, "store %s: no such store", path);
        if (s->dirfd < 0)
                return log_error_errno(errno, "store %s: %m", path);
        r = open_subdir(s->dirfd, "objects", &s->objects_fd);
        if (r >= 0)
                r = open_subdir(s->dirfd, "images", &s->images_fd);
        if (r >= 0)
                r = open_subdir(s->dirfd, "staging", &s->staging_fd);
        if (r < 0)
                return log_error_errno(r, "store %s: creating layout: %m", path);

        dbpath = path_join(path, "catalog.db");
        if (!dbpath)
                return log_oom();
        r = catalog_open(dbpath, &s->catalog);
        if (r < 0)
                return r;
        r = store_lock(s, lock);
        if (r < 0)
                return r;
        s->lock = lock;
        *ret = TAKE_PTR(s);
        return 0;
}

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        catalog_close(s->catalog);
        safe_close(s->staging_fd);
        safe_close(s->images_fd);
        safe_close(s->objects_fd);
        safe_close(s->lock_fd); /* releases the flock */
        safe_close(s->dirfd);
        free(s->path);
        free(s);
        return NULL;
}

Catalog *store_catalog(Store *s) {
        return s->catalog;
}

void store_close_catalog(Store *s) {
        s->catalog = catalog_close(s->catalog);
}

const char *store_path(Store *s) {
        return s->path;
}

int store_dirfd(Store *s) {
        return s->dirfd;
}

int store_objects_fd(Store *s) {
        return s->objects_fd;
}

bool image_name_is_valid(const char *s) {
        size_t n;

        if (isempty(s) || !isalnum((unsigned char)s[0]))
                return false;
        n = strlen(s);
        if (n > IMAGE_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
                        return false;
        return true;
}

int image_ref_parse_tag(const char *ref, char **ret_name, char **ret_tag) {
        _cleanup_free_ char *name = NULL, *tag = NULL;
        const char *colon;

        assert(ref);
        colon = strchr(ref, ':');
        if (!colon)
                return log_error_errno(EINVAL, "image reference '%s': expected NAME:TAG", ref);
        name = strndup(ref, colon - ref);
        tag = strdup(colon + 1);
        if (!name || !tag)
                return log_oom();
        if (strlen(name) > IMAGE_NAME_MAX || strlen(tag) > IMAGE_NAME_MAX)
                return log_error_errno(EINVAL,
                                       "image reference '%s': NAME and TAG are at most %d "
                                       "characters each (%s has %zu)",
                                       ref, IMAGE_NAME_MAX,
                                       strlen(name) > IMAGE_NAME_MAX ? "NAME" : "TAG",
                                       strlen(strlen(name) > IMAGE_NAME_MAX ? name : tag));
        if (!image_name_is_valid(name) || !image_name_is_valid(tag))
                return log_error_errno(EINVAL,
                                       "image reference '%s': NAME and TAG must be letters, "
                                       "digits, '.', '_' or '-', starting with a letter or "
                                       "digit",
                                       ref);
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        if (ret_tag)
                *ret_tag = TAKE_PTR(tag);
        return 0;
}

int image_ref_check(const char *ref) {
        assert(ref);
        if (strchr(ref, ':'))
                return image_ref_parse_tag(ref, NULL, NULL);
        if (strlen(ref) < IMAGE_ID_PREFIX_MIN || strlen(ref) > IMAGE_ID_LEN || !string_is_hex(ref))
                return log_error_errno(EINVAL,
                                       "image reference '%s': expected NAME:TAG or an image id "
                                       "prefix of at least %d lowercase hex digits",
                                       ref, IMAGE_ID_PREFIX_MIN);
        return 0;
}

int store_resolve(Store *s, const char *ref, char ret_id[static DIGEST_HEX_SIZE]) {
        _cleanup_strv_free_ char **ids = NULL;
        int r;

        assert(ref);
        if (strchr(ref, ':')) {
                _cleanup_free_ char *name = NULL, *tag = NULL, *id = NULL;

                r = image_ref_parse_tag(ref, &name, &tag);
                if (r < 0)
                        return r;
                r = catalog_get_tag(s->catalog, name, tag, &id);
                if (r == -ENOENT)
                        return log_error_errno(ENOENT, "image %s: no such image", ref);
                if (r < 0)
                        return r;
                snprintf(ret_id, DIGEST_HEX_SIZE, "%s", id);
                return 0;
        }
        r = image_ref_check(ref);
        if (r < 0)
                return r;
        r = catalog_image_ids(s->catalog, ref, &ids);
        if (r < 0)
                return r;
        if (!ids[0])
                return log_error_errno(ENOENT, "image %s: no such image", ref);
        if (ids[1]) {
                _cleanup_free_ char *list = NULL;
                size_t n = strv_length(ids);

                for (size_t i = 0; i < n && i < 8; i++) {
                        char *t = strjoin(list ?: "", list ? ", " : "", ids[i]);
                        if (!t)
                                return log_oom();
                        t[strlen(t) - IMAGE_ID_LEN + 12] = 0; /* short ids */
                        free(list);
                        list = t;
                }
                return log_error_errno(EINVAL, "image %s: ambiguous id prefix, matches %s%s", ref,
                                       list, n > 8 ? ", ..." : "");
        }
        snprintf(ret_id, DIGEST_HEX_SIZE, "%s", ids[0]);
        return 0;
}

int store_open_image(Store *s, const char *id, int *ret_fd) {
        int fd;

        if (strlen(id) != IMAGE_ID_LEN || !string_is_hex(id))
                return -EINVAL;
        fd = openat(s->images_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int store_open_tree_dir(Store *s, const char *id, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        int r, root;

        r = store_open_image(s, id, &fd);
        if (r < 0)
                return r;
        root = openat(fd, "root", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root < 0)
                return -errno;
        *ret_fd = root;
        return 0;
}

int store_image_is_delta(Store *s, const char *id) {
        _cleanup_strv_free_ char **chain = NULL;
        int r = store_image_chain(s, id, &chain);
        if (r < 0)
                return r;
        return chain[1] != NULL;
}

int store_open_image_root(Store *s, const char *id, int *ret_fd) {
        _cleanup_strv_free_ char **chain = NULL;
        int r;

        r = store_image_chain(s, id, &chain);
        if (r < 0)
                return r;
        if (!chain[1])
                return store_open_tree_dir(s, id, ret_fd);
        r = delta_open_view(s, chain, ret_fd);
        return r < 0 ? r : 1;
}

int store_mount_image(Store *s, const char *id, const char *dir) {
        _cleanup_close_ int root = -EBADF, tree = -EBADF, target = -EBADF;
        int r;

        assert(s && id && dir);
        target = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (target < 0)
                return log_error_errno(errno, "image %.12s: cannot mount it on %s: %m", id, dir);
        r = store_open_image_root(s, id, &root);
        if (r < 0)
                return log_error_errno(r, "image %.12s: opening its tree: %m", id);
        tree = open_tree(root, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (tree < 0)
                return log_error_errno(errno, "image %.12s: cloning its tree: %m", id);
        if (mount_setattr(tree, "", AT_EMPTY_PATH,
                          &(struct mount_attr){.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV},
                          sizeof(struct mount_attr)) < 0)
                return log_error_errno(errno, "image %.12s: making it read-only: %m", id);
        if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return log_error_errno(errno, "image %.12s: mounting it on %s: %m", id, dir);
        return 0;
}

char *store_image_root_path(Store *s, const char *id) {
        return path_join(s->path, "images", id, "root");
}

int store_read_manifest(Store *s, const char *id, Manifest **ret) {
        _cleanup_strv_free_ char **chain = NULL;
        int r;

        r = store_image_chain(s, id, &chain);
        if (r < 0)
                return r;
        return delta_read_manifest(s, chain, ret);
}

/* `image mount` (of this image, or of a delta over it) leaves a mount that
 * shows the tree: removing the tree under it would empty the mount. */
static int refuse_if_mounted(Store *s, const char *ref, const char *id) {
        _cleanup_free_ char *needle = strjoin("/images/", id), *where = NULL;
        struct stat st;
        int r;

        if (!needle)
                return log_oom();
        if (fstat(s->images_fd, &st) < 0)
                return log_error_errno(errno, "image %s: %m", ref);
        r = mounttab_find_showing(st.st_dev, needle, &where);
        if (r < 0)
                return log_error_errno(r, "image %s: cannot read the mount table: %m", ref);
        if (r > 0)
                return log_error_errno(EBUSY,
                                       "image %s is in use by the mount on %s: umount it first",
                                       ref, where);
        return 0;
}

int store_remove_image(Store *s, const char *ref) {
        _cleanup_(backup_drops_freep) BackupDrops *drops = NULL;
        _cleanup_strv_free_ char **links = NULL, **deps = NULL;
        _cleanup_free_ char *dropped = NULL;
        char id[DIGEST_HEX_SIZE];
        int64_t op = 0;
        int r;

        assert(s->lock == STORE_EXCLUSIVE);
        r = store_resolve(s, ref, id);
        if (r < 0)
                return r;
        r = refuse_if_mounted(s, ref, id);
        if (r < 0)
                return r;
        /* Newer versions stored as deltas over this one become whole first,
         * so that removing an image frees what only it used. Not while it is
         * linked: then the removal is refused anyway. */
        r = catalog_image_links(s->catalog, id, &links);
        if (r < 0)
                return r;
        if (!links[0]) {
                /* The rollbacks to it are given up: the backup rows go with
                 * the image's row, their directories after it (the journal
                 * names them, for a crash in between). */
                r = backup_drops_take(s, id, ref, &drops, &dropped);
                if (r < 0)
                        return r;
                r = catalog_image_dependants(s->catalog, id, &deps);
                if (r < 0)
                        return r;
                for (size_t k = 0; deps[k]; k++) {
                        r = store_flatten_image(s, deps[k]);
                        if (r < 0)
                                return r;
                }
        }
        strv_free(links);
        links = NULL;
        r = oplog_begin(s->catalog, OP_IMAGE_RM, id, &op, "backups", dropped, NULL);
        if (r < 0)
                return r;
        crash_point("image-rm-after-journal");
        r = catalog_begin(s->catalog);
        if (r < 0)
                goto fail;
        r = catalog_image_links(s->catalog, id, &links);
        if (r < 0)
                goto fail;
        if (links[0]) {
                _cleanup_free_ char *list = NULL;
                for (size_t i = 0; links[i]; i++) {
                        char *t = strjoin(list ?: "", list ? ", " : "", links[i]);
                        if (!t) {
                                r = log_oom();
                                goto fail;
                        }
                        free(list);
                        list = t;
                }
                catalog_rollback(s->catalog);
                oplog_abandon(s->catalog, op);
                return log_error_errno(
                        EBUSY, "image %s is linked by %s: upgrade or remove them first", ref, list);
        }
        r = catalog_remove_image(s->catalog, id);
        if (r >= 0)
                r = oplog_committed(s->catalog, op);
        if (r < 0)
                goto fail;
        crash_point("image-rm-before-commit");
        r = catalog_commit(s->catalog);
        if (r < 0)
                goto fail;
        crash_point("image-rm-after-commit");
        /* A crash from here on leaves a tree without a row and a committed
         * journal row: the next exclusive opener removes the tree. */
        r = rm_rf_at(s->images_fd, id);
        if (r < 0)
                return log_error_errno(r, "image %s: removing its tree: %m", ref);
        crash_point("image-rm-after-delete");
        r = backup_drops_finish(s, drops);
        if (r < 0)
                return log_error_errno(r, "image %s: removing the backups it leaves: %m", ref);
        return oplog_end(s->catalog, op);
fail:
        catalog_rollback(s->catalog);
        oplog_abandon(s->catalog, op);
        return r;
}

static int gc_objects(Store *s, Progress *p, GcStats *ret) {
        GcStats st = {};
        int r = 0;

        assert(s->lock == STORE_EXCLUSIVE);
        /* The objects are not counted first: the 256 fan-out directories
         * are the bar's steps. */
        if (p)
                progress_set_steps(p, 256);
        for (unsigned i = 0; i < 256 && r >= 0; i++) {
                /* Closed by hand: gcc 12's analyzer misreads a cleanup variable
                 * inside a loop that continues and returns. */
                int fd;
                char sub[3];
                struct dirent *de;
                DIR *d;

                snprintf(sub, sizeof sub, "%02x", i);
                fd = openat(s->objects_fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return log_error_errno(errno, "store %s: objects/%s: %m", s->path, sub);
                }
                d = fdopendir(fd); /* d owns fd from here */
                if (!d) {
                        safe_close(fd);
                        return log_oom();
                }
                while ((errno = 0, de = readdir(d))) {
                        struct stat sb;

                        /* (".tmp-*" names are left by a build that crashed while
                         * replacing an object; they are garbage like the rest.) */
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
                                if (errno == ENOENT)
                                        continue;
                                r = log_error_errno(errno, "store: objects/%s/%s: %m", sub,
                                                    de->d_name);
                                break;
                        }
                        /* Every image tree that uses the object holds a link. */
                        if (S_ISREG(sb.st_mode) && sb.st_nlink > 1) {
                                st.objects_kept++;
                                continue;
                        }
                        if (unlinkat(fd, de->d_name, 0) < 0) {
                                r = log_error_errno(errno, "store: removing objects/%s/%s: %m", sub,
                                                    de->d_name);
                                break;
                        }
                        st.objects_removed++;
                        st.bytes_freed += (uint64_t)sb.st_size;
                        if (st.objects_removed == 1)
                                crash_point("gc-after-first-object");
                        if (p)
                                progress_update(p, st.objects_removed, st.bytes_freed);
                }
                closedir(d);
                if (p)
                        progress_steps_done(p, i + 1);
        }
        if (r < 0)
                return r;
        if (ret)
                *ret = st;
        return 0;
}

int store_gc(Store *s, Progress *p, GcStats *ret) {
        int64_t op;
        int r;

        r = oplog_begin(s->catalog, OP_GC, "objects", &op, NULL);
        if (r < 0)
                return r;
        crash_point("gc-after-journal");
        r = gc_objects(s, p, ret);
        if (r < 0) {
                oplog_abandon(s->catalog, op);
                return r;
        }
        crash_point("gc-before-end");
        return oplog_end(s->catalog, op);
}

int store_recover_op(Store *s, const OpRow *o) {
        _cleanup_(image_info_freep) ImageInfo *info = NULL;
        _cleanup_free_ char *dropped = NULL;
        int r;

        if (streq(o->kind, OP_GC)) {
                /* Collecting is idempotent: finish it. */
                r = gc_objects(s, NULL, NULL);
                return r < 0 ? r : 1;
        }
        /* image rm: before its commit nothing happened; after it, the tree
         * and the backups it gave up go. */
        if (!streq(o->phase, "committed"))
                return 0;
        if (strlen(o->subject) != IMAGE_ID_LEN || !string_is_hex(o->subject))
                return log_error_errno(EBADMSG, "journal: image rm of a bad id '%s'", o->subject);
        r = oplog_arg(o, "backups", &dropped);
        if (r < 0)
                return r;
        if (dropped) {
                r = backup_drops_recover(s, dropped);
                if (r < 0)
                        return r;
        }
        r = catalog_get_image(s->catalog, o->subject, &info);
        if (r >= 0)
                return 0; /* imported again since: keep it */
        if (r != -ENOENT)
                return r;
        r = rm_rf_at(s->images_fd, o->subject);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "journal: image rm %.12s: removing its tree: %m",
                                       o->subject);
        return 1;
}
