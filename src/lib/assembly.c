/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * assembly: records of host assemblies and reference counts of shared mounts,
 * under one runtime lock, and the teardown of an assembly.
 *
 * Records are small text files ("KEY VALUE" lines) written atomically. Each
 * names mounts by path and by mount id, so that a record can never make
 * goldroot detach a mount it did not make: a path whose mount id changed is
 * someone else's.
 */
#include "assembly.h"
#include "fsutil.h"
#include "sha256.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/file.h>
#include <sys/mount.h>

#define RECORD_MAX (1u << 20)

static int runtime_subdir(const char *sub, int *ret_fd) {
        _cleanup_close_ int slash = -EBADF;
        _cleanup_free_ char *p = NULL;

        slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (slash < 0)
                return -errno;
        p = path_join(runtime_dir(), sub);
        if (!p)
                return -ENOMEM;
        return mkdir_p_in_root(slash, p, 0755, ret_fd, NULL);
}

static int sha256_hex(const char *s, char ret[static 65]) {
        uint8_t md[SHA256_SIZE];
        int r;

        r = sha256_buffer(s, strlen(s), md);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < SHA256_SIZE; i++)
                snprintf(ret + 2 * i, 3, "%02x", md[i]);
        return 0;
}

int assembly_lock(int *ret_fd) {
        _cleanup_close_ int dir = -EBADF, fd = -EBADF;
        int r;

        assert(ret_fd);
        r = runtime_subdir(NULL, &dir);
        if (r < 0)
                return log_error_errno(r, "cannot create %s: %m", runtime_dir());
        fd = openat(dir, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return log_error_errno(errno, "cannot open %s/lock: %m", runtime_dir());
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "cannot lock %s/lock: %m", runtime_dir());
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* A record: "KEY VALUE" lines, kept in order. */
typedef struct Record {
        char **keys;
        char **values;
} Record;

static void record_done(Record *rec) {
        strv_free(rec->keys);
        strv_free(rec->values);
        *rec = (Record){};
}

static int record_add(Record *rec, const char *key, const char *value) {
        int r = strv_extend(&rec->keys, key);
        return r < 0 ? r : strv_extend(&rec->values, value);
}

static const char *record_get(const Record *rec, const char *key) {
        for (size_t i = 0; rec->keys && rec->keys[i]; i++)
                if (streq(rec->keys[i], key))
                        return rec->values[i];
        return NULL;
}

/* -ENOENT if there is no record. */
static int record_read(int dirfd, const char *name, Record *ret) {
        _cleanup_free_ char *text = NULL;
        Record rec = {};
        char *line, *save = NULL;
        int r;

        r = read_file_at(dirfd, name, &text, NULL, RECORD_MAX);
        if (r < 0)
                return r;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *sp = strchr(line, ' ');
                if (!sp)
                        continue;
                *sp = 0;
                r = record_add(&rec, line, sp + 1);
                if (r < 0) {
                        record_done(&rec);
                        return r;
                }
        }
        *ret = rec;
        return 0;
}

static int record_write(int dirfd, const char *name, const Record *rec) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; rec->keys && rec->keys[i]; i++)
                fprintf(f, "%s %s\n", rec->keys[i], rec->values[i]);
        if (fclose(f) != 0)
                return -ENOMEM;
        return write_file_replace_at(dirfd, name, text, len, 0644);
}

/* Shared mounts. */

static int shared_record(const char *target, int *ret_dir, char name[static 65]) {
        int r = sha256_hex(target, name);
        return r < 0 ? r : runtime_subdir("shared", ret_dir);
}

/* Whether the record still describes the mount on target. */
static bool shared_record_live(const Record *rec, const char *target) {
        const char *want = record_get(rec, "mount-id");
        char have[32];
        uint64_t id;

        if (!want || mount_id_at(AT_FDCWD, target, &id) < 0 ||
            is_mount_point_at(AT_FDCWD, target) <= 0)
                return false;
        snprintf(have, sizeof have, "%" PRIu64, id);
        return streq(want, have);
}

/* Whether the live mount that rec describes was made by another shared entry
 * than entry of profile: -EEXIST, with that entry's name in *ret_other. Records
 * without a profile (older ones) are compared by the entry's name alone. */
static int shared_record_other(const Record *rec, const char *entry, const char *profile,
                               char **ret_other) {
        const char *e = record_get(rec, "entry"), *p = record_get(rec, "profile");
        int r;

        if (!entry || (streq_ptr(e, entry) && (!p || !profile || streq(p, profile))))
                return 0;
        if (ret_other) {
                if (streq_ptr(e, entry))
                        r = asprintf_safe(ret_other, "'%s' of %s", e, p);
                else
                        r = asprintf_safe(ret_other, "'%s'", e ?: "-");
                if (r < 0)
                        return r;
        }
        return -EEXIST;
}

int shared_ref_is_mounted(const char *target, const char *entry, const char *profile,
                          char **ret_other) {
        _cleanup_close_ int dir = -EBADF;
        _cleanup_(record_done) Record rec = {};
        char name[65];
        int r;

        r = shared_record(target, &dir, name);
        if (r < 0)
                return r;
        r = record_read(dir, name, &rec);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (!shared_record_live(&rec, target))
                return 0;
        r = shared_record_other(&rec, entry, profile, ret_other);
        return r < 0 ? r : 1;
}

int shared_ref_add(const char *target, const char *entry, const char *profile, const char *holder) {
        _cleanup_close_ int dir = -EBADF;
        _cleanup_(record_done) Record old = {}, rec = {};
        char name[65], id[32];
        uint64_t mnt;
        int r;

        r = shared_record(target, &dir, name);
        if (r < 0)
                return r;
        r = mount_id_at(AT_FDCWD, target, &mnt);
        if (r < 0)
                return r;
        snprintf(id, sizeof id, "%" PRIu64, mnt);
        r = record_read(dir, name, &old);
        if (r < 0 && r != -ENOENT)
                return r;
        /* Holders of a mount that is gone (a stale record) hold nothing. */
        if (streq_ptr(record_get(&old, "mount-id"), id)) {
                r = shared_record_other(&old, entry, profile, NULL);
                if (r < 0)
                        return r;
        }
        if ((r = record_add(&rec, "target", target)) < 0 ||
            (r = record_add(&rec, "entry", entry ?: "-")) < 0 ||
            (profile && (r = record_add(&rec, "profile", profile)) < 0) ||
            (r = record_add(&rec, "mount-id", id)) < 0)
                return r;
        if (streq_ptr(record_get(&old, "mount-id"), id))
                for (size_t i = 0; old.keys && old.keys[i]; i++)
                        if (streq(old.keys[i], "holder") && !streq(old.values[i], holder) &&
                            (r = record_add(&rec, "holder", old.values[i])) < 0)
                                return r;
        r = record_add(&rec, "holder", holder);
        if (r < 0)
                return r;
        return record_write(dir, name, &rec);
}

int shared_ref_release(const char *target, const char *holder) {
        _cleanup_close_ int dir = -EBADF;
        _cleanup_(record_done) Record old = {}, rec = {};
        bool held = false, others = false;
        char name[65];
        int r;

        r = shared_record(target, &dir, name);
        if (r < 0)
                return log_error_errno(r, "cannot open the shared mount records: %m");
        r = record_read(dir, name, &old);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "cannot read the record of shared mount %s: %m", target);
        for (size_t i = 0; old.keys && old.keys[i]; i++) {
                if (streq(old.keys[i], "holder") && streq(old.values[i], holder)) {
                        held = true;
                        continue;
                }
                others = others || streq(old.keys[i], "holder");
                r = record_add(&rec, old.keys[i], old.values[i]);
                if (r < 0)
                        return log_oom();
        }
        if (!held)
                return 0;
        if (others) {
                r = record_write(dir, name, &rec);
                if (r < 0)
                        return log_error_errno(r, "cannot update the record of %s: %m", target);
                return 0;
        }
        /* The last reference: unmount, but only the mount the record is about. */
        if (shared_record_live(&old, target) && umount2(target, UMOUNT_NOFOLLOW) < 0) {
                if (errno != EBUSY)
                        return log_error_errno(errno, "cannot unmount shared %s: %m", target);
                log_warning("shared mount %s is busy, detaching it", target);
                if (umount2(target, UMOUNT_NOFOLLOW | MNT_DETACH) < 0)
                        return log_error_errno(errno, "cannot unmount shared %s: %m", target);
        }
        if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
                return log_error_errno(errno, "cannot remove the record of %s: %m", target);
        return 0;
}

/* Assemblies. */

/* Detaches the mount recorded at path with id under dirfd, resolved without
 * following any symlink (one planted in the assembly must not redirect us to
 * a host path). 0 if it is gone already. */
static int detach_recorded(int dirfd, const char *path, const char *id) {
        _cleanup_close_ int fd = -EBADF;
        char buf[FD_PATH_MAX], have[32];
        uint64_t mnt;
        int r;

        fd = openat_in_root_nofollow(dirfd, path_relative(path), O_PATH, 0);
        if (fd < 0)
                return fd;
        r = is_mount_point_at(fd, "");
        if (r <= 0)
                return r < 0 ? r : 0;
        r = mount_id_at(fd, "", &mnt);
        if (r < 0)
                return r;
        snprintf(have, sizeof have, "%" PRIu64, mnt);
        if (!streq(have, id))
                return 0; /* not ours any more */
        /* MNT_DETACH: our fd keeps the mount busy; closing it finishes the job
         * (and lets an autoclear loop device go). */
        if (umount2(fd_path(fd, buf), MNT_DETACH) < 0)
                return -errno;
        return 1;
}

/* Is the mount that a "mount" record ("ID PATH") names still there? (A helper of
 * its own: gcc 12's analyzer misreads a cleanup variable inside a loop that
 * continues and returns.) */
static bool mount_record_live(const char *value, int dirfd) {
        _cleanup_close_ int fd = -EBADF;
        const char *sp = strchr(value, ' ');
        char have[32];
        uint64_t mnt;

        if (!sp)
                return false;
        fd = openat_in_root_nofollow(dirfd, path_relative(sp + 1), O_PATH, 0);
        if (fd < 0 || is_mount_point_at(fd, "") <= 0 || mount_id_at(fd, "", &mnt) < 0)
                return false;
        snprintf(have, sizeof have, "%" PRIu64, mnt);
        return strncmp(value, have, sp - value) == 0 && strlen(have) == (size_t)(sp - value);
}

static bool assembly_live(const Record *rec, int dirfd) {
        for (size_t i = 0; rec->keys && rec->keys[i]; i++)
                if (streq(rec->keys[i], "mount") && mount_record_live(rec->values[i], dirfd))
                        return true;
        return false;
}

static bool record_has_mount_id(const Record *rec, uint64_t id) {
        char want[32];

        snprintf(want, sizeof want, "%" PRIu64 " ", id);
        for (size_t i = 0; rec->keys && rec->keys[i]; i++)
                if (streq(rec->keys[i], "mount") && startswith(rec->values[i], want))
                        return true;
        return false;
}

/* A recorded mount that is still there, while its path now leads into a
 * mount the record does not name, is covered by someone else's mount (on
 * its path or on a parent). Detaching around it would either miss ours or
 * take theirs along, so nothing is touched: -EBUSY, logged. */
static int assembly_check_covered(const Record *rec, int dirfd, const char *dir) {
        for (size_t i = 0; rec->keys && rec->keys[i]; i++) {
                _cleanup_close_ int fd = -EBADF;
                const char *v = rec->values[i], *sp;
                uint64_t want, have;
                int r;

                if (!streq(rec->keys[i], "mount") || !(sp = strchr(v, ' ')))
                        continue;
                want = strtoull(v, NULL, 10);
                fd = openat_in_root_nofollow(dirfd, path_relative(sp + 1), O_PATH, 0);
                if (fd < 0 || mount_id_at(fd, "", &have) < 0)
                        continue; /* the teardown says what it cannot resolve */
                if (have == want || record_has_mount_id(rec, have))
                        continue;
                r = mount_id_exists(want);
                if (r < 0)
                        return log_error_errno(r, "umount %s: cannot look up the mount on %s: %m",
                                               dir, sp + 1);
                if (r > 0)
                        return log_error_errno(EBUSY,
                                               "umount %s: %s is covered by a mount goldroot did "
                                               "not make (unmount that first)",
                                               dir, sp + 1);
        }
        return 0;
}

/* A shared mount that an interrupted mount attached at target (with mount
 * id id, idlen characters) before it took its reference: unless the shared
 * record counts references on it, nobody else knows it, so it goes. */
static int shared_orphan_detach(const char *target, const char *id, size_t idlen) {
        _cleanup_(record_done) Record rec = {};
        _cleanup_close_ int dir = -EBADF, fd = -EBADF;
        char name[65], have[32], buf[FD_PATH_MAX];
        const char *counted;
        uint64_t mnt;

        if (shared_record(target, &dir, name) >= 0 && record_read(dir, name, &rec) >= 0 &&
            (counted = record_get(&rec, "mount-id")) && strlen(counted) == idlen &&
            strncmp(counted, id, idlen) == 0)
                return 0;
        fd = open(target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || is_mount_point_at(fd, "") <= 0 || mount_id_at(fd, "", &mnt) < 0)
                return 0;
        snprintf(have, sizeof have, "%" PRIu64, mnt);
        if (strlen(have) != idlen || strncmp(have, id, idlen) != 0)
                return 0;
        if (umount2(fd_path(fd, buf), MNT_DETACH) < 0)
                return log_error_errno(errno, "cannot unmount shared %s: %m", target);
        return 0;
}

/* Takes down a recorded assembly, last step first. dirfd may be -EBADF when
 * dir is gone; then only shared references are dropped. */
static int assembly_teardown(const Record *rec, int dirfd, const char *dir) {
        const char *holder = record_get(rec, "holder");
        bool has_root = record_get(rec, "root");
        size_t n = strv_length(rec->keys);
        int ret = 0, r;

        if (dirfd >= 0) {
                r = assembly_check_covered(rec, dirfd, dir);
                if (r < 0)
                        return r;
        }

        for (size_t i = n; i-- > 0;) {
                const char *k = rec->keys[i], *v = rec->values[i], *sp;

                if (streq(k, "shared") && holder) {
                        r = shared_ref_release(v, holder);
                        ret = ret ?: r;
                } else if (streq(k, "shared-mount") && (sp = strchr(v, ' '))) {
                        r = shared_orphan_detach(sp + 1, v, sp - v);
                        ret = ret ?: r;
                } else if (streq(k, "mount") && dirfd >= 0 && (sp = strchr(v, ' '))) {
                        _cleanup_free_ char *id = strndup(v, sp - v);

                        if (!id)
                                return log_oom();
                        r = detach_recorded(dirfd, sp + 1, id);
                        /* A mount whose path cannot be resolved any more goes
                         * with the assembly's root, which is detached
                         * recursively; without one it stays, and we say so. */
                        if (r < 0 && (!has_root || streq(sp + 1, "/"))) {
                                log_error_errno(r, "umount %s: cannot unmount %s: %m", dir, sp + 1);
                                ret = ret ?: r;
                        }
                }
        }
        return ret;
}

int assembly_instance_key(int instance_dir_fd, char **ret) {
        char buf[FD_PATH_MAX];
        _cleanup_free_ char *p = NULL;

        assert(ret);
        p = realpath(fd_path(instance_dir_fd, buf), NULL);
        if (!p)
                return -errno;
        *ret = TAKE_PTR(p);
        return 0;
}

/* Is the record named name under adir a live assembly of instance? */
static int record_is_instance(int adir, const char *name, const char *instance, char **ret_dir) {
        _cleanup_(record_done) Record rec = {};
        _cleanup_close_ int fd = -EBADF;
        const char *dir;

        if (strlen(name) != 64 || record_read(adir, name, &rec) < 0 ||
            !streq_ptr(record_get(&rec, "instance"), instance) || !(dir = record_get(&rec, "dir")))
                return 0;
        fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || !assembly_live(&rec, fd))
                return 0;
        *ret_dir = strdup(dir);
        return *ret_dir ? 1 : -ENOMEM;
}

/* The live assembly of instance (its key), if any: 1 with its DIR. */
static int assembly_find_instance(int adir, const char *instance, char **ret_dir) {
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        DIR *d;
        int r;

        r = opendir_at(adir, ".", &d);
        if (r < 0)
                return r;
        while ((errno = 0, de = readdir(d)))
                if (de->d_name[0] != '.' && strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        r = errno > 0 ? -errno : 0;
        closedir(d);
        for (size_t i = 0; r >= 0 && names && names[i]; i++) {
                r = record_is_instance(adir, names[i], instance, ret_dir);
                if (r != 0)
                        return r;
        }
        return r;
}

int assembly_check_instance(int instance_dir_fd, const char *verb, const char *name) {
        _cleanup_close_ int adir = -EBADF;
        _cleanup_free_ char *key = NULL, *dir = NULL, *p = NULL;
        int r;

        r = assembly_instance_key(instance_dir_fd, &key);
        if (r < 0)
                return log_error_errno(r, "%s %s: %m", verb, name);
        /* No runtime lock: records are replaced atomically, and mount NAME
         * writes the record under the instance's lock, which the caller
         * holds. Without a records directory nothing was ever assembled. */
        p = path_join(runtime_dir(), "assemblies");
        if (!p)
                return log_oom();
        adir = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (adir < 0 && errno == ENOENT)
                return 0;
        if (adir < 0)
                return log_error_errno(errno, "%s %s: cannot open %s: %m", verb, name, p);
        r = assembly_find_instance(adir, key, &dir);
        if (r < 0)
                return log_error_errno(r, "%s %s: cannot read the assembly records: %m", verb,
                                       name);
        if (r > 0)
                return log_error_errno(EBUSY,
                                       "%s %s: the instance is assembled on %s by goldroot mount "
                                       "(goldroot umount it first)",
                                       verb, name, dir);
        return 0;
}

/* The record of an assembly being made: written before the first mount and
 * again before each mount and shared reference (MountTrees.journal), so that
 * what a killed `goldroot mount` made is on record for the next umount or
 * mount of the directory. */
typedef struct Journal {
        int adir;
        const char *name;
        Record rec;
        bool root;
} Journal;

static int journal_step(void *userdata, PathBase base, const char *path, int mnt_fd) {
        Journal *j = userdata;
        _cleanup_free_ char *v = NULL;
        uint64_t mnt;
        int r;

        if (mnt_fd < 0)
                r = record_add(&j->rec, "shared", path);
        else {
                /* A detached mount keeps its id when it is attached. */
                r = mount_id_at(mnt_fd, "", &mnt);
                if (r >= 0)
                        r = asprintf_safe(&v, "%" PRIu64 " %s", mnt, path);
                if (r >= 0)
                        r = record_add(&j->rec, base == BASE_HOST ? "shared-mount" : "mount", v);
                if (r >= 0 && base != BASE_HOST && streq(path, "/") && !j->root) {
                        j->root = true;
                        r = record_add(&j->rec, "root", "/");
                }
        }
        if (r < 0)
                return r;
        return record_write(j->adir, j->name, &j->rec);
}

int assembly_mount(const Plan *plan, const char *dir, int image_fd, int state_fd,
                   const char *instance) {
        _cleanup_(mount_undo_freep) MountUndo *undo = NULL;
        _cleanup_close_ int lock = -EBADF, adir = -EBADF, dirfd = -EBADF;
        _cleanup_(record_done) Record old = {}, rec = {};
        MountTrees trees = MOUNT_TREES_INIT;
        Journal journal = {};
        bool root = false;
        char id[65];
        int r;

        assert(plan);
        assert(path_is_absolute(dir));
        if (strpbrk(dir, "\n\r"))
                return log_error_errno(EINVAL, "mount %s: bad directory name", dir);
        /* The record is one "KEY VALUE" line per mount. */
        for (size_t i = 0; i < plan->n_ops; i++)
                if (plan->ops[i].target.path && strpbrk(plan->ops[i].target.path, "\n\r"))
                        return log_error_errno(
                                EINVAL, "mount %s: the target of entry '%s' has a line break", dir,
                                plan->ops[i].entry);
        r = sha256_hex(dir, id);
        if (r < 0)
                return log_error_errno(r, "mount %s: cannot hash the directory name: %m", dir);
        r = assembly_lock(&lock);
        if (r < 0)
                return r;
        r = runtime_subdir("assemblies", &adir);
        if (r < 0)
                return log_error_errno(r, "cannot create %s/assemblies: %m", runtime_dir());
        dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return log_error_errno(errno, "mount %s: %m", dir);

        r = record_read(adir, id, &old);
        if (r >= 0 && record_get(&old, "incomplete")) {
                /* We hold the lock its writer held: that run was killed. */
                log_info("%s: taking down what an interrupted goldroot mount made", dir);
                r = assembly_teardown(&old, dirfd, dir);
                if (r < 0)
                        return r;
                if (unlinkat(adir, id, 0) < 0 && errno != ENOENT)
                        return log_error_errno(errno, "cannot remove a stale record: %m");
                /* dirfd was opened on top of the leftovers (their root bind,
                 * say), which are detached now: mounting through it would
                 * attach to a tree that is gone. */
                dirfd = safe_close(dirfd);
                dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dirfd < 0)
                        return log_error_errno(errno, "mount %s: %m", dir);
        } else if (r >= 0) {
                if (assembly_live(&old, dirfd))
                        return log_error_errno(EBUSY,
                                               "mount %s: already assembled by goldroot "
                                               "(goldroot umount it first)",
                                               dir);
                log_info("%s: cleaning up the record of an assembly that is gone", dir);
                (void)assembly_teardown(&old, -EBADF, dir);
                if (unlinkat(adir, id, 0) < 0 && errno != ENOENT)
                        return log_error_errno(errno, "cannot remove a stale record: %m");
        } else if (r != -ENOENT)
                return log_error_errno(r, "cannot read the record of %s: %m", dir);

        /* Two overlays on one upper is undefined behaviour: an instance is
         * assembled once. */
        if (instance) {
                _cleanup_free_ char *other = NULL;

                r = assembly_find_instance(adir, instance, &other);
                if (r < 0)
                        return log_error_errno(r, "mount %s: cannot read the assembly records: %m",
                                               dir);
                if (r > 0)
                        return log_error_errno(EBUSY,
                                               "mount %s: the instance is already assembled on %s "
                                               "(goldroot umount it first)",
                                               dir, other);
        }

        journal.adir = adir;
        journal.name = id;
        if ((r = record_add(&journal.rec, "incomplete", "yes")) < 0 ||
            (r = record_add(&journal.rec, "dir", dir)) < 0 ||
            (r = record_add(&journal.rec, "holder", id)) < 0 ||
            (instance && (r = record_add(&journal.rec, "instance", instance)) < 0) ||
            (r = record_write(adir, id, &journal.rec)) < 0) {
                record_done(&journal.rec);
                return log_error_errno(r, "mount %s: cannot record the assembly: %m", dir);
        }

        trees.image_fd = image_fd;
        trees.state_fd = state_fd;
        trees.root_fd = dirfd;
        trees.root_path = dir;
        trees.holder = id;
        trees.lock_fd = lock;
        trees.journal = journal_step;
        trees.journal_data = &journal;
        r = mount_apply(plan, &trees, &undo);
        record_done(&journal.rec);
        if (r < 0) {
                /* Undone: nothing of it is left to record. */
                (void)unlinkat(adir, id, 0);
                return r;
        }

        if ((r = record_add(&rec, "dir", dir)) < 0 || (r = record_add(&rec, "holder", id)) < 0 ||
            (instance && (r = record_add(&rec, "instance", instance)) < 0))
                goto fail;
        for (size_t i = 0; i < undo->n_steps; i++) {
                const UndoStep *s = &undo->steps[i];
                _cleanup_free_ char *v = NULL;
                uint64_t mnt;

                if (s->kind == UNDO_SHARED_REF)
                        r = record_add(&rec, "shared", s->path);
                else if (s->kind == UNDO_UNMOUNT) {
                        r = mount_id_at(s->fd, "", &mnt);
                        if (r >= 0)
                                r = asprintf_safe(&v, "%" PRIu64 " %s", mnt, s->path);
                        if (r >= 0)
                                r = record_add(&rec, "mount", v);
                        if (r >= 0 && streq(s->path, "/") && !root) {
                                root = true;
                                r = record_add(&rec, "root", "/");
                        }
                } else
                        continue;
                if (r < 0)
                        goto fail;
        }
        r = record_write(adir, id, &rec);
        if (r < 0)
                goto fail;
        return 0;
fail:
        log_error_errno(r, "mount %s: cannot record the assembly: %m", dir);
        if (mount_undo_run(undo, lock) >= 0)
                (void)unlinkat(adir, id, 0);
        return r;
}

int assembly_umount(const char *dir) {
        _cleanup_close_ int lock = -EBADF, adir = -EBADF, dirfd = -EBADF;
        _cleanup_(record_done) Record rec = {};
        char id[65];
        int r;

        assert(dir);
        r = sha256_hex(dir, id);
        if (r < 0)
                return log_error_errno(r, "umount %s: %m", dir);
        r = assembly_lock(&lock);
        if (r < 0)
                return r;
        r = runtime_subdir("assemblies", &adir);
        if (r < 0)
                return log_error_errno(r, "cannot create %s/assemblies: %m", runtime_dir());
        r = record_read(adir, id, &rec);
        if (r == -ENOENT)
                return log_error_errno(ENOENT, "umount %s: not assembled by goldroot", dir);
        if (r < 0)
                return log_error_errno(r, "umount %s: cannot read its record: %m", dir);

        dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                log_warning_errno(errno, "umount %s: %m; dropping its shared references only", dir);
        r = assembly_teardown(&rec, dirfd, dir);
        if (r < 0)
                return r;
        if (unlinkat(adir, id, 0) < 0 && errno != ENOENT)
                return log_error_errno(errno, "umount %s: cannot remove its record: %m", dir);
        return 0;
}
