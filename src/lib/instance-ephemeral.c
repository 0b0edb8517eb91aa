/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * instance-ephemeral: the instances of run --rm, which have no catalog row.
 * A named run (or one whose state must be on disk) holds a locked directory
 * under the runtime directory's ephemeral/, with a record of its store and
 * image, so that ls, status, exec and stop find it; a run that died leaves a
 * directory no one holds, which the next run or fsck removes.
 */
#include "instance-internal.h"
#include "instance.h"
#include "fsutil.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

/* In a named run's directory: its store, image, mode and creation time. */
#define RUN_RECORD_FILE "record"
#define EPHEMERAL_DIR "ephemeral"

/* runtime_dir()/ephemeral, made if needed (O_PATH). */
static int open_ephemeral_dir(int *ret_fd) {
        _cleanup_close_ int slash = -EBADF;
        _cleanup_free_ char *p = path_join(runtime_dir(), EPHEMERAL_DIR);

        if (!p)
                return -ENOMEM;
        slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (slash < 0)
                return -errno;
        return mkdir_p_in_root(slash, p, 0700, ret_fd, NULL);
}

/* Locks runtime_dir()/ephemeral against runs making their directories:
 * between a run's mkdir and its lock, its directory would look like a dead
 * run's. Instance names never start with a dot. */
static int lock_ephemeral_dir(int edir, int *ret_fd) {
        _cleanup_close_ int guard =
                openat(edir, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (guard < 0 || flock(guard, LOCK_EX) < 0)
                return -errno;
        *ret_fd = TAKE_FD(guard);
        return 0;
}

/* What ls, status, exec and stop need to find a named run and tell its
 * store's runs from another store's (the runtime directory is shared). */
static int write_run_record(Store *s, Instance *i) {
        _cleanup_free_ char *record = NULL, *identity = NULL;
        struct stat st;
        int r;

        if (fstat(store_dirfd(s), &st) < 0)
                return log_error_errno(errno, "run %s: %m", i->name);
        r = asprintf_safe(&record, "store=%llu:%llu\nimage=%s\nmode=%s\ncreated=%" PRId64 "\n",
                          (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
                          i->row->image, i->row->mode, i->row->created);
        if (r >= 0)
                r = identity_format(i->identity, &identity);
        if (r < 0)
                return log_oom();
        r = write_file_replace_at(i->dir_fd, IDENTITY_FILE, identity, strlen(identity), 0600);
        if (r >= 0)
                r = write_file_replace_at(i->dir_fd, RUN_RECORD_FILE, record, strlen(record), 0600);
        if (r < 0)
                return log_error_errno(r, "run %s: cannot record it: %m", i->name);
        return 0;
}

int instance_create_ephemeral(Store *s, const char *name, const char *image_id, Identity *id,
                              bool named, Instance **ret) {
        _cleanup_(identity_freep) Identity *owned = id;
        _cleanup_(instance_freep) Instance *i = NULL;
        _cleanup_(instance_row_freep) InstanceRow *row = NULL;
        int r;

        assert(instance_name_is_valid(name));
        assert(strlen(image_id) == IMAGE_ID_LEN);
        /* Names stay unique across the store's instances and the runs. */
        r = catalog_get_instance(store_catalog(s), name, &row);
        if (r >= 0)
                return log_error_errno(EEXIST, "run %s: an instance of that name exists", name);
        if (r != -ENOENT)
                return r;
        i = calloc(1, sizeof *i);
        if (!i)
                return log_oom();
        i->dir_fd = i->lock_fd = -EBADF;
        i->ephemeral = true;
        i->name = strdup(name);
        i->row = calloc(1, sizeof *i->row);
        if (!i->name || !i->row)
                return log_oom();
        i->row->name = strdup(name);
        i->row->mode = strdup(id->mode);
        if (!i->row->name || !i->row->mode)
                return log_oom();
        memcpy(i->row->image, image_id, IMAGE_ID_LEN + 1);
        i->row->created = (int64_t)time(NULL);
        i->identity = TAKE_PTR(owned);

        /* A name the user gave is claimed among the running runs now; a
         * random one needs no claim, and its directory is made only if the
         * run turns out to need its state on disk. */
        if (named) {
                r = instance_ephemeral_dir(i);
                if (r >= 0)
                        r = write_run_record(s, i);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(i);
        return 0;
}

/* Opens and locks edir/name unless a live run holds its lock: 1 and the
 * locked fd in *ret_fd, 0 if a live run's, or -errno (not logged). */
static int lock_if_dead(int edir, const char *name, int *ret_fd) {
        _cleanup_close_ int fd =
                openat(edir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 0 : -errno;
        *ret_fd = TAKE_FD(fd);
        return 1;
}

/* Calls found() for each directory of a run that died (no live run holds
 * its lock), after removing it if remove is set. The caller holds the
 * ephemeral directory's lock. */
static int sweep_dead_runs(int edir, bool remove, InstanceDeadRunFn found, void *userdata) {
        struct dirent *de;
        DIR *d;
        int r;

        r = opendir_at(edir, ".", &d);
        if (r < 0)
                return r;
        while ((errno = 0, de = readdir(d))) {
                _cleanup_close_ int fd = -EBADF;

                if (de->d_name[0] == '.' || !instance_name_is_valid(de->d_name) ||
                    lock_if_dead(edir, de->d_name, &fd) <= 0)
                        continue;
                r = found(de->d_name, remove ? rm_rf_at(edir, de->d_name) : 0, userdata);
                if (r < 0)
                        break;
        }
        if (!de && errno != 0)
                r = -errno;
        closedir(d);
        return r < 0 ? r : 0;
}

static int warn_dead_run(const char *name, int removed, void *userdata) {
        if (removed < 0)
                log_warning_errno(removed,
                                  "cannot remove %s/" EPHEMERAL_DIR
                                  "/%s, left by a run that died: %m",
                                  runtime_dir(), name);
        return 0;
}

int instance_dead_runs(bool remove, InstanceDeadRunFn found, void *userdata) {
        _cleanup_close_ int edir = -EBADF, guard = -EBADF;
        _cleanup_free_ char *p = path_join(runtime_dir(), EPHEMERAL_DIR);
        int r;

        assert(found);
        if (!p)
                return log_oom();
        edir = open(p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (edir < 0 && errno == ENOENT)
                return 0;
        if (edir < 0)
                return log_error_errno(errno, "cannot open %s: %m", p);
        r = lock_ephemeral_dir(edir, &guard);
        if (r < 0)
                return log_error_errno(r, "cannot lock %s: %m", p);
        r = sweep_dead_runs(edir, remove, found, userdata);
        if (r < 0 && r != -ENOMEM)
                return log_error_errno(r, "cannot read %s: %m", p);
        return r;
}

int instance_ephemeral_dir(Instance *i) {
        _cleanup_close_ int edir = -EBADF, guard = -EBADF;
        const char *name = i->name;
        int r;

        assert(i->ephemeral);
        if (i->dir_fd >= 0)
                return 0;
        r = open_ephemeral_dir(&edir);
        if (r < 0)
                return log_error_errno(r, "run %s: cannot create %s/" EPHEMERAL_DIR ": %m", name,
                                       runtime_dir());
        /* Runs make and lock their directories one at a time. */
        r = lock_ephemeral_dir(edir, &guard);
        if (r < 0)
                return log_error_errno(r, "run %s: cannot lock %s/" EPHEMERAL_DIR ": %m", name,
                                       runtime_dir());
        /* Nothing else would remove them: a random name never comes back. */
        (void)sweep_dead_runs(edir, true, warn_dead_run, NULL);
        if (mkdirat(edir, name, 0700) < 0) {
                if (errno != EEXIST)
                        return log_error_errno(errno, "run %s: cannot make its directory: %m",
                                               name);
                /* Another run's, or what the sweep could not remove. */
                _cleanup_close_ int old = -EBADF;

                r = lock_if_dead(edir, name, &old);
                if (r == 0)
                        return log_error_errno(EEXIST, "run %s: an instance of that name exists",
                                               name);
                if (r < 0)
                        return log_error_errno(r, "run %s: %m", name);
                r = rm_rf_at(edir, name);
                if (r < 0)
                        return log_error_errno(r, "run %s: cannot remove a leftover directory: %m",
                                               name);
                if (mkdirat(edir, name, 0700) < 0)
                        return log_error_errno(errno, "run %s: %m", name);
        }
        i->dir_fd = openat(edir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (i->dir_fd < 0)
                return log_error_errno(errno, "run %s: %m", name);
        r = instance_lock(i, "run", false);
        if (r < 0) {
                i->dir_fd = safe_close(i->dir_fd);
                (void)rm_rf_at(edir, name);
                return r;
        }
        return 0;
}

void instance_remove_ephemeral(Instance *i) {
        _cleanup_close_ int edir = -EBADF;
        int r;

        assert(i->ephemeral);
        if (i->dir_fd < 0)
                return;
        r = open_ephemeral_dir(&edir);
        if (r >= 0)
                r = rm_rf_at(edir, i->name);
        if (r < 0)
                log_warning_errno(r, "run %s: cannot delete %s/" EPHEMERAL_DIR "/%s: %m", i->name,
                                  runtime_dir(), i->name);
}

/* Parses the run record of name; -ENOENT unless its store is s. */
static int parse_run_record(Store *s, const char *name, const char *text, InstanceRow **ret) {
        _cleanup_(instance_row_freep) InstanceRow *row = NULL;
        unsigned long long dev = 0, ino = 0;
        long long created = 0;
        char image[IMAGE_ID_LEN + 2] = "", mode[16] = "";
        struct stat st;

        if (sscanf(text, "store=%llu:%llu\nimage=%65s\nmode=%15s\ncreated=%lld", &dev, &ino, image,
                   mode, &created) != 5 ||
            strlen(image) != IMAGE_ID_LEN)
                return -EBADMSG;
        if (fstat(store_dirfd(s), &st) < 0)
                return -errno;
        if (dev != (unsigned long long)st.st_dev || ino != (unsigned long long)st.st_ino)
                return -ENOENT;
        row = calloc(1, sizeof *row);
        if (!row)
                return -ENOMEM;
        row->name = strdup(name);
        row->mode = strdup(mode);
        if (!row->name || !row->mode)
                return -ENOMEM;
        memcpy(row->image, image, IMAGE_ID_LEN + 1);
        row->created = created;
        *ret = TAKE_PTR(row);
        return 0;
}

int instance_open_run(Store *s, const char *name, Instance **ret) {
        _cleanup_(instance_freep) Instance *i = NULL;
        _cleanup_free_ char *edir = NULL, *p = NULL, *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!instance_name_is_valid(name))
                return -ENOENT;
        edir = path_join(runtime_dir(), EPHEMERAL_DIR);
        p = edir ? path_join(edir, name) : NULL;
        if (!p)
                return log_oom();
        /* The common case, no run of that name (every create asks), ends
         * here. */
        fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR || errno == ELOOP
                               ? -ENOENT
                               : log_error_errno(errno, "%s: %m", p);
        i = calloc(1, sizeof *i);
        if (!i)
                return log_oom();
        i->dir_fd = TAKE_FD(fd);
        i->lock_fd = -EBADF;
        i->ephemeral = true;
        i->name = strdup(name);
        if (!i->name)
                return log_oom();
        /* A run that died left it: not an instance. */
        if (!instance_is_held(i))
                return -ENOENT;
        r = read_file_at(i->dir_fd, RUN_RECORD_FILE, &text, NULL, 4096);
        if (r == -ENOENT) /* not named, or not recorded yet */
                return -ENOENT;
        if (r >= 0)
                r = parse_run_record(s, name, text, &i->row);
        if (r == -ENOENT)
                return r;
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "run %s: cannot read %s/" RUN_RECORD_FILE ": %m", name,
                                       p);
        r = instance_identity_load(i->dir_fd, edir, name, &i->identity);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(i);
        return 0;
}

static int instance_name_compare(const void *a, const void *b) {
        return strcmp((*(Instance *const *)a)->name, (*(Instance *const *)b)->name);
}

int instance_list_runs(Store *s, Instance ***ret, size_t *ret_n) {
        _cleanup_close_ int edir = -EBADF;
        _cleanup_free_ char *p = path_join(runtime_dir(), EPHEMERAL_DIR);
        Instance **l = NULL;
        struct dirent *de;
        size_t n = 0;
        DIR *d;
        int r;

        if (!p)
                return log_oom();
        *ret = NULL;
        *ret_n = 0;
        edir = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (edir < 0 && errno == ENOENT)
                return 0;
        r = edir < 0 ? -errno : opendir_at(edir, ".", &d);
        if (r < 0)
                return log_error_errno(r, "cannot read %s: %m", p);
        while ((de = readdir(d))) {
                Instance *i = NULL, **grown;

                if (de->d_name[0] == '.' || instance_open_run(s, de->d_name, &i) < 0)
                        continue;
                grown = reallocarray(l, n + 1, sizeof *l);
                if (!grown) {
                        instance_free(i);
                        instance_list_free(l, n);
                        closedir(d);
                        return log_oom();
                }
                l = grown;
                l[n++] = i;
        }
        closedir(d);
        if (n > 0)
                qsort(l, n, sizeof *l, instance_name_compare);
        *ret = l;
        *ret_n = n;
        return 0;
}
