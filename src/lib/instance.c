/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * instance: names, the instance directory and catalog row kept in step,
 * locks, status and removal. Starting and stopping are in instance-run.c,
 * the throwaway instances of run --rm in instance-ephemeral.c.
 */
#include "instance-internal.h"
#include "instance.h"
#include "fsutil.h"
#include "oplog.h"
#include "plan.h"
#include "profile.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>

#define INSTANCES_DIR "instances"
#define REMOVING_PREFIX ".removing."

bool instance_name_is_valid(const char *s) {
        if (isempty(s) || strlen(s) > INSTANCE_NAME_MAX || s[0] == '.' || s[0] == '-' ||
            strstr(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
                        return false;
        return true;
}

int instance_name_check(const char *verb, const char *name) {
        const char *why = NULL;

        if (isempty(name))
                why = "it is empty";
        else if (strlen(name) > INSTANCE_NAME_MAX)
                why = "longer than 64 characters";
        else if (strchr(name, '/'))
                why = "it contains '/'";
        else if (strstr(name, ".."))
                why = "it contains '..'";
        else if (name[0] == '.' || name[0] == '-')
                why = "it starts with '.' or '-'";
        else if (!instance_name_is_valid(name))
                why = "only letters, digits, '_', '.' and '-' are allowed";
        if (!why)
                return 0;
        return log_error_errno(EINVAL, "%s %s: invalid instance name: %s", verb, name, why);
}

Instance *instance_free(Instance *i) {
        if (!i)
                return NULL;
        free(i->name);
        instance_row_free(i->row);
        identity_free(i->identity);
        safe_close(i->dir_fd);
        safe_close(i->lock_fd);
        free(i);
        return NULL;
}

static int open_instances_dir(Store *s, int *ret_fd) {
        int fd;

        if (mkdirat(store_dirfd(s), INSTANCES_DIR, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "cannot create %s/" INSTANCES_DIR ": %m",
                                       store_path(s));
        fd = openat(store_dirfd(s), INSTANCES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "cannot open %s/" INSTANCES_DIR ": %m",
                                       store_path(s));
        *ret_fd = fd;
        return 0;
}

/* Deletes a directory that has no catalog row: renamed aside first, so that
 * a half-deleted tree never carries a valid instance name. */
static int remove_leftover(int instances_fd, const char *name, bool lock, bool by_rm) {
        _cleanup_free_ char *aside = NULL;
        _cleanup_close_ int fd = -EBADF;
        char rnd[MACHINE_ID_LEN + 1];
        int r;

        /* An rm that is still deleting it holds its lock: wait for it. A
         * caller that holds the lock itself passes lock=false (flock locks
         * belong to open files, so taking it again would wait for ourselves). */
        fd = openat(instances_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (lock)
                while (flock(fd, LOCK_EX) < 0)
                        if (errno != EINTR)
                                return -errno;
        r = machine_id_generate(rnd);
        if (r < 0)
                return r;
        aside = strjoin(REMOVING_PREFIX, name, ".", rnd);
        if (!aside)
                return -ENOMEM;
        if (renameat(instances_fd, name, instances_fd, aside) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (by_rm)
                crash_point("rm-after-rename-aside");
        return rm_rf_at(instances_fd, aside);
}

/* Names stay unique across the store's instances and its running runs. */
static int check_no_run(Store *s, const char *verb, const char *name) {
        _cleanup_(instance_freep) Instance *run = NULL;
        int r = instance_open_run(s, name, &run);

        if (r >= 0)
                return log_error_errno(EEXIST, "%s %s: a run --rm of that name is running", verb,
                                       name);
        return r == -ENOENT ? 0 : r;
}

int instance_create(Store *s, const char *name, const char *image_id, const Identity *id) {
        _cleanup_close_ int idir = -EBADF, dir = -EBADF;
        _cleanup_free_ char *text = NULL;
        _cleanup_(instance_row_freep) InstanceRow *row = NULL;
        Catalog *c = store_catalog(s);
        bool made = false;
        int64_t op = 0;
        int r;

        assert(instance_name_is_valid(name));
        r = check_no_run(s, "create", name);
        if (r < 0)
                return r;
        r = identity_format(id, &text);
        if (r < 0)
                return r;
        r = open_instances_dir(s, &idir);
        if (r < 0)
                return r;
        r = oplog_begin(c, OP_CREATE, name, &op, "image", image_id, "mode", id->mode, NULL);
        if (r < 0)
                return r;
        crash_point("create-after-journal");

        /* The write lock first: any other create of this name is then either
         * committed (row present) or not started (its directory absent). */
        r = catalog_begin(c);
        if (r < 0)
                goto fail;
        r = catalog_get_instance(c, name, &row);
        if (r >= 0) {
                r = log_error_errno(EEXIST,
                                    "create %s: an instance of that name exists: pick another "
                                    "name, or remove it first ('goldroot rm %s')",
                                    name, name);
                goto fail;
        }
        if (r != -ENOENT)
                goto fail;
        if (mkdirat(idir, name, 0700) < 0) {
                if (errno != EEXIST) {
                        r = log_error_errno(errno, "create %s: cannot make its directory: %m",
                                            name);
                        goto fail;
                }
                log_info("create %s: removing the leftover directory of a crashed command", name);
                r = remove_leftover(idir, name, true, false);
                if (r == -ENOTDIR || r == -ELOOP) {
                        /* goldroot makes directories there; anything else is
                         * someone's, and fsck --repair sets it aside. */
                        r = log_error_errno(EEXIST,
                                            "create %s: instances/%s is not a directory goldroot "
                                            "made: 'goldroot fsck --repair' moves it to lost+found",
                                            name, name);
                        goto fail;
                }
                if (r < 0) {
                        log_error_errno(r, "create %s: cannot remove a leftover directory: %m",
                                        name);
                        goto fail;
                }
                if (mkdirat(idir, name, 0700) < 0) {
                        r = log_error_errno(errno, "create %s: %m", name);
                        goto fail;
                }
        }
        made = true;
        crash_point("create-after-mkdir");
        dir = openat(idir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0) {
                r = log_error_errno(errno, "create %s: %m", name);
                goto fail;
        }
        r = write_file_replace_at(dir, IDENTITY_FILE, text, strlen(text), 0600);
        if (r < 0) {
                log_error_errno(r, "create %s: cannot write its identity: %m", name);
                goto fail;
        }
        crash_point("create-after-identity");
        if (mkdirat(dir, "state", 0755) < 0) {
                r = log_error_errno(errno, "create %s: cannot make its state directory: %m", name);
                goto fail;
        }
        crash_point("instance-create-before-commit");
        r = catalog_add_instance(c, name, image_id, id->mode);
        if (r == -ENOENT) {
                r = log_error_errno(ENOENT, "create %s: image %s is gone", name, image_id);
                goto fail;
        }
        if (r >= 0)
                r = oplog_end(c, op);
        if (r < 0)
                goto fail;
        r = catalog_commit(c);
        if (r < 0)
                goto fail;
        crash_point("create-after-commit");
        return 0;
fail:
        catalog_rollback(c);
        oplog_abandon(c, op);
        if (made) {
                int k = remove_leftover(idir, name, false, false);
                if (k < 0)
                        log_warning_errno(k, "create %s: cannot remove its directory again: %m",
                                          name);
        }
        return r;
}

/* Takes away what instance_create_several() made before one name failed. */
static void remove_created(Store *s, char *const *names, size_t n) {
        for (size_t k = n; k-- > 0;) {
                _cleanup_(instance_freep) Instance *inst = NULL;

                if (instance_open_for_removal(s, names[k], &inst) < 0 ||
                    instance_lock(inst, "create", true) < 0 || instance_remove(s, inst) < 0)
                        log_warning("create %s: could not remove it again: 'goldroot rm %s' will",
                                    names[k], names[k]);
        }
}

int instance_create_several(Store *s, char *const *names, Identity *const *ids, size_t n,
                            const char *image_id) {
        size_t made = 0;
        int r = 0;

        for (size_t k = 0; k < n && r >= 0; k++) {
                _cleanup_(instance_row_freep) InstanceRow *row = NULL;

                r = catalog_get_instance(store_catalog(s), names[k], &row);
                if (r >= 0)
                        r = log_error_errno(EEXIST,
                                            "create %s: an instance of that name exists: nothing "
                                            "was created",
                                            names[k]);
                else if (r == -ENOENT)
                        r = 0;
        }
        while (r >= 0 && made < n) {
                r = instance_create(s, names[made], image_id, ids[made]);
                if (r >= 0)
                        made++;
        }
        if (r < 0)
                remove_created(s, names, made);
        return r;
}

int instance_identity_load(int dirfd, const char *parent, const char *name, Identity **ret) {
        _cleanup_free_ char *text = NULL, *label = NULL;
        size_t len;
        int r;

        r = read_file_at(dirfd, IDENTITY_FILE, &text, &len, IDENTITY_MAX_SIZE);
        if (r == -EBADFD)
                return log_error_errno(
                        r, "instance %s: cannot read its identity: not a regular file", name);
        if (r < 0)
                return log_error_errno(r, "instance %s: cannot read its identity: %m", name);
        label = strjoin(parent, "/", name, "/" IDENTITY_FILE);
        if (!label)
                return log_oom();
        return identity_parse(text, len, label, ret);
}

static int instance_open_full(Store *s, const char *name, bool identity, Instance **ret) {
        _cleanup_(instance_freep) Instance *i = NULL;
        _cleanup_close_ int idir = -EBADF;
        int r;

        r = instance_name_check("instance", name);
        if (r < 0)
                return r;
        i = calloc(1, sizeof *i);
        if (!i)
                return log_oom();
        i->dir_fd = i->lock_fd = -EBADF;
        i->name = strdup(name);
        if (!i->name)
                return log_oom();
        r = catalog_get_instance(store_catalog(s), name, &i->row);
        if (r == -ENOENT)
                return log_error_errno(ENOENT, "instance %s: no such instance", name);
        if (r < 0)
                return r;
        r = open_instances_dir(s, &idir);
        if (r < 0)
                return r;
        i->dir_fd = openat(idir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (i->dir_fd < 0) {
                _cleanup_(instance_row_freep) InstanceRow *again = NULL;
                r = -errno;
                /* An rm that ran between the two looks: its row is gone too. */
                if (r == -ENOENT && catalog_get_instance(store_catalog(s), name, &again) == -ENOENT)
                        return log_error_errno(ENOENT, "instance %s: no such instance", name);
                return log_error_errno(r, "instance %s: cannot open its directory: %m", name);
        }
        if (identity) {
                r = instance_identity_load(i->dir_fd, "instances", name, &i->identity);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(i);
        return 0;
}

void instance_list_free(Instance **l, size_t n) {
        for (size_t k = 0; k < n; k++)
                instance_free(l[k]);
        free(l);
}

int instance_open(Store *s, const char *name, Instance **ret) {
        return instance_open_full(s, name, true, ret);
}

int instance_open_for_removal(Store *s, const char *name, Instance **ret) {
        return instance_open_full(s, name, false, ret);
}

int instance_list(Store *s, InstanceRow ***ret, size_t *ret_n) {
        return catalog_list_instances(store_catalog(s), ret, ret_n);
}

static bool instance_dir_is_current(int dirfd, const char *name) {
        _cleanup_close_ int parent = openat(dirfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct stat a, b;

        return parent >= 0 && fstat(dirfd, &a) >= 0 && a.st_nlink > 0 &&
               fstatat(parent, name, &b, AT_SYMLINK_NOFOLLOW) >= 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

/* instance_lock(); without wait, -EWOULDBLOCK (not logged) if another
 * command holds the lock. */
static int lock_take(Instance *i, const char *verb, bool wait) {
        int fd;

        assert(i);
        if (i->lock_fd >= 0)
                return 0;
        /* Its own open file description, so the lock is this command's only. */
        fd = openat(i->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "%s %s: %m", verb, i->name);
        while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
                int e = errno;
                if (e == EINTR)
                        continue;
                safe_close(fd);
                if (e == EWOULDBLOCK)
                        return -EWOULDBLOCK;
                return log_error_errno(e, "%s %s: cannot lock the instance: %m", verb, i->name);
        }
        /* An rm that held the lock before us has removed the instance since we
         * opened it: its directory is no longer instances/NAME. */
        if (!instance_dir_is_current(fd, i->name)) {
                safe_close(fd);
                return log_error_errno(ENOENT, "%s %s: no such instance", verb, i->name);
        }
        i->lock_fd = fd;
        return 0;
}

int instance_lock(Instance *i, const char *verb, bool wait) {
        int r = lock_take(i, verb, wait);

        if (r == -EWOULDBLOCK)
                return log_error_errno(EBUSY,
                                       "%s %s: the instance is busy (another goldroot command or "
                                       "a foreground run holds it)",
                                       verb, i->name);
        return r;
}

int instance_lock_stopped(Instance *i, const char *verb) {
        for (;;) {
                InstanceStatus st;
                int r;

                r = lock_take(i, verb, false);
                if (r != -EWOULDBLOCK)
                        return r;
                /* A foreground run holds the lock for as long as it runs:
                 * waiting for it would only act once it is gone (start would
                 * start it again). Another command holds it briefly (or
                 * until it runs the instance, which then shows). */
                r = instance_status(i, &st);
                if (r < 0)
                        return r;
                if (st.state == INSTANCE_RUNNING)
                        return log_error_errno(EBUSY, "%s %s: the instance is running (pid %d)",
                                               verb, i->name, (int)st.runner.pid);
                (void)poll(NULL, 0, 50);
        }
}

int instance_open_run_dir(Instance *i, bool create, int *ret_fd) {
        int fd;

        if (create && mkdirat(i->dir_fd, "run", 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(i->dir_fd, "run", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

const char *instance_state_to_string(InstanceState s) {
        switch (s) {
        case INSTANCE_RUNNING:
                return "running";
        case INSTANCE_BUSY:
                return "busy";
        default:
                return "stopped";
        }
}

int instance_status(Instance *i, InstanceStatus *ret) {
        _cleanup_close_ int run = -EBADF;
        InstanceStatus st = {.state = INSTANCE_STOPPED};
        int r;

        r = instance_open_run_dir(i, false, &run);
        if (r >= 0) {
                r = runner_status_read(run, &st.runner);
                if (r >= 0) {
                        st.has_status = true;
                        if (st.runner.state == RUNNER_STATE_RUNNING)
                                st.state = INSTANCE_RUNNING;
                } else if (r != -ENOENT)
                        return log_error_errno(r, "instance %s: cannot read its status: %m",
                                               i->name);
        } else if (r != -ENOENT)
                return log_error_errno(r, "instance %s: cannot open run/: %m", i->name);

        /* Not running, but someone holds it: a command in progress. */
        if (st.state == INSTANCE_STOPPED && instance_is_held(i))
                st.state = INSTANCE_BUSY;
        *ret = st;
        return 0;
}

int instance_wait_released(Instance *i) {
        _cleanup_close_ int fd = openat(i->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return log_error_errno(errno, "instance %s: %m", i->name);
        while (flock(fd, LOCK_SH) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "instance %s: %m", i->name);
        return 0;
}

bool instance_is_held(Instance *i) {
        _cleanup_close_ int probe = -EBADF;

        /* We hold the lock ourselves only if we took it. */
        if (i->lock_fd >= 0)
                return false;
        probe = openat(i->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return probe >= 0 && flock(probe, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

int instance_remove(Store *s, Instance *i) {
        _cleanup_close_ int idir = -EBADF;
        Catalog *c = store_catalog(s);
        int64_t op;
        int r;

        assert(i->lock_fd >= 0);
        r = open_instances_dir(s, &idir);
        if (r < 0)
                return r;
        r = oplog_begin(c, OP_RM, i->name, &op, NULL);
        if (r < 0)
                return r;
        crash_point("rm-after-journal");
        r = catalog_begin(c);
        if (r < 0) {
                oplog_abandon(c, op);
                return r;
        }
        r = catalog_unlink_instance(c, i->name);
        if (r >= 0 || r == -ENOENT)
                r = oplog_committed(c, op);
        if (r < 0) {
                catalog_rollback(c);
                oplog_abandon(c, op);
                return r;
        }
        crash_point("instance-rm-before-commit");
        r = catalog_commit(c);
        if (r < 0) {
                oplog_abandon(c, op);
                return r;
        }
        /* The instance is gone. A crash from here on leaves a directory
         * without a row, which the next command removes; until we are done,
         * our lock on it keeps that command waiting. */
        crash_point("instance-rm-after-commit");
        r = remove_leftover(idir, i->name, false, true);
        if (r < 0) {
                log_warning_errno(r,
                                  "rm %s: cannot delete its directory (the next command "
                                  "will): %m",
                                  i->name);
                return 0;
        }
        crash_point("rm-after-delete");
        return oplog_end(c, op);
}

/* Deletes .removing.NAME.* trees: an rm's directory, renamed aside. */
static int remove_aside(int idir, const char *name) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *prefix = strjoin(REMOVING_PREFIX, name, ".");
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (!prefix)
                return -ENOMEM;
        r = opendir_at(idir, ".", &d);
        if (r < 0)
                return r;
        while ((de = readdir(d)))
                if (startswith(de->d_name, prefix) && strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        closedir(d);
        for (size_t k = 0; names && names[k]; k++) {
                int q = rm_rf_at(idir, names[k]);
                if (q < 0)
                        r = q;
        }
        return r;
}

int instance_recover_op(Store *s, const OpRow *o) {
        _cleanup_(instance_row_freep) InstanceRow *row = NULL;
        _cleanup_close_ int idir = -EBADF;
        bool create = streq(o->kind, OP_CREATE);
        int r;

        if (!instance_name_is_valid(o->subject))
                return log_error_errno(EBADMSG, "journal: %s of a bad instance name '%s'", o->kind,
                                       o->subject);
        /* An rm before its commit did nothing. */
        if (!create && !streq(o->phase, "committed"))
                return 0;
        r = open_instances_dir(s, &idir);
        if (r < 0)
                return r;
        r = catalog_get_instance(store_catalog(s), o->subject, &row);
        if (r >= 0)
                /* create: it committed after all (the row and the journal go
                 * together, so only a later create of the name); rm: a new
                 * instance of that name since. Either way not ours to touch. */
                return create ? 1 : 0;
        if (r != -ENOENT)
                return r;
        /* create: undo the half-made directory. rm: finish deleting it. */
        r = remove_leftover(idir, o->subject, true, false);
        if (r >= 0)
                r = remove_aside(idir, o->subject);
        if (r < 0)
                return log_error_errno(r, "journal: %s %s: cannot delete its directory: %m",
                                       o->kind, o->subject);
        return create ? 0 : 1;
}

int instance_recover(Store *s) {
        _cleanup_close_ int idir = -EBADF;
        _cleanup_strv_free_ char **names = NULL;
        DIR *d;
        struct dirent *de;
        int r;

        r = open_instances_dir(s, &idir);
        if (r < 0)
                return r;
        r = opendir_at(idir, ".", &d);
        if (r < 0)
                return r;
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && startswith(de->d_name, REMOVING_PREFIX) &&
                    strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return log_oom();
                }
        closedir(d);

        /* What rm set aside after its row was gone is deleted. A directory
         * without a row is left alone: the journal finishes or undoes a
         * create or rm that a crash cut short, so anything else may be an
         * administrator's data (after a lost catalog, say). fsck reports it;
         * fsck --repair moves it to lost+found/. */
        for (size_t k = 0; names && names[k]; k++) {
                r = rm_rf_at(idir, names[k]);
                if (r < 0)
                        log_warning_errno(r, "cannot delete %s/" INSTANCES_DIR "/%s: %m",
                                          store_path(s), names[k]);
        }
        return 0;
}

/* The mode's built-in profile: MODE.profile on the profile search path. */
static int builtin_profile(const char *mode, char **ret) {
        _cleanup_strv_free_ char **search = NULL;
        _cleanup_free_ char *file = strjoin(mode, ".profile");

        if (!file || profile_default_search_path(NULL, &search) < 0)
                return log_oom();
        for (size_t k = 0; search[k]; k++) {
                _cleanup_free_ char *p = path_join(search[k], file);
                if (!p)
                        return log_oom();
                if (access(p, R_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        return log_error_errno(
                ENOENT, "cannot find the built-in profile %s on the profile search path", file);
}

int instance_plan(const Instance *i, ProfileSet **ret_set, Plan **ret_plan) {
        _cleanup_(profile_set_freep) ProfileSet *set = NULL;
        _cleanup_(plan_freep) Plan *plan = NULL;
        _cleanup_strv_free_ char **search = NULL;
        _cleanup_free_ char *builtin = NULL;
        const char *profile = i->identity->profile;
        PlanContext ctx = {.have_image = true, .have_state = true};
        int r;

        assert(i);
        assert(ret_set);
        assert(ret_plan);
        if (!profile) {
                r = builtin_profile(i->identity->mode, &builtin);
                if (r < 0)
                        return r;
                profile = builtin;
        }
        if (profile_default_search_path(profile, &search) < 0)
                return log_oom();
        r = profile_set_load(profile, search, &set);
        if (r < 0)
                return r;
        ctx.placeholders.name = i->name;
        ctx.placeholders.hostname = i->identity->hostname;
        ctx.placeholders.image_id = i->row->image;
        r = plan_build(set, &ctx, &plan);
        if (r < 0)
                return r;
        *ret_set = TAKE_PTR(set);
        *ret_plan = TAKE_PTR(plan);
        return 0;
}
