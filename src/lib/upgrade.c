/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * upgrade: upgrade, rollback, backups and their crash recovery, over the
 * merge engine and the catalog (see upgrade.h for the protocol).
 */
#include "upgrade.h"
#include "assembly.h"
#include "fsutil.h"
#include "image-tree.h"
#include "layers.h"
#include "oplog.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define STATE_DIR "state"
#define BACKUP_PREFIX "backup."
#define UPGRADE_PREFIX ".upgrade."
#define ROLLBACK_PREFIX ".rollback."
#define LOST_FOUND "lost+found"

typedef struct CachedImage {
        char id[DIGEST_HEX_SIZE];
        Manifest *manifest;
        MergeTree tree;
} CachedImage;

struct UpgradeCache {
        Store *store;
        CachedImage **images; /* each its own allocation: trees are handed out */
        size_t n;
};

int upgrade_cache_new(Store *s, UpgradeCache **ret) {
        UpgradeCache *c = calloc(1, sizeof *c);

        if (!c)
                return log_oom();
        c->store = s;
        *ret = c;
        return 0;
}

UpgradeCache *upgrade_cache_free(UpgradeCache *c) {
        if (!c)
                return NULL;
        for (size_t k = 0; k < c->n; k++) {
                merge_tree_done(&c->images[k]->tree);
                manifest_free(c->images[k]->manifest);
                free(c->images[k]);
        }
        free(c->images);
        free(c);
        return NULL;
}

int upgrade_cache_tree(UpgradeCache *c, const char *id, const MergeTree **ret) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_close_ int root = -EBADF;
        _cleanup_free_ CachedImage *t = NULL;
        CachedImage **l;
        int r;

        for (size_t k = 0; k < c->n; k++)
                if (streq(c->images[k]->id, id)) {
                        *ret = &c->images[k]->tree;
                        return 0;
                }
        r = store_read_manifest(c->store, id, &m);
        if (r < 0)
                return r;
        r = store_open_image_root(c->store, id, &root);
        if (r < 0)
                return log_error_errno(r, "image %.12s: cannot open its tree: %m", id);
        t = calloc(1, sizeof *t);
        if (!t)
                return log_oom();
        l = realloc(c->images, (c->n + 1) * sizeof *l);
        if (!l)
                return log_oom();
        c->images = l;
        snprintf(t->id, sizeof t->id, "%s", id);
        r = image_tree_new(m, root, &t->tree);
        if (r < 0)
                return log_oom();
        t->manifest = TAKE_PTR(m);
        *ret = &t->tree;
        c->images[c->n++] = TAKE_PTR(t);
        return 0;
}

#define TAKE_OP(x)                                                                                 \
        ({                                                                                         \
                int64_t _o = (x);                                                                  \
                (x) = 0;                                                                           \
                _o;                                                                                \
        })

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}

static int random_token(char ret[static MACHINE_ID_LEN + 1]) {
        return machine_id_generate(ret);
}

static bool name_exists(int dirfd, const char *name) {
        struct stat st;
        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0;
}

/* renameat that tells what it moved in its error. */
static int move(Instance *i, const char *verb, const char *from, const char *to) {
        if (renameat(i->dir_fd, from, i->dir_fd, to) < 0)
                return log_error_errno(errno, "%s %s: cannot rename %s to %s: %m", verb, i->name,
                                       from, to);
        return 0;
}

/* Moves instances/NAME/name to STORE/lost+found/NAME-name.TIMESTAMP, the
 * way fsck --repair does: never deletes. */
static int to_lost_found(Store *s, Instance *i, const char *name, char **ret_dest) {
        _cleanup_close_ int lfd = -EBADF;
        _cleanup_free_ char *dest = NULL;

        if (mkdirat(store_dirfd(s), LOST_FOUND, 0700) < 0 && errno != EEXIST)
                return -errno;
        lfd = openat(store_dirfd(s), LOST_FOUND, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (lfd < 0)
                return -errno;
        for (unsigned n = 0;; n++) {
                free(dest);
                if ((n == 0 ? asprintf_safe(&dest, "%s-%s.%lld", i->name, name,
                                            (long long)time(NULL))
                            : asprintf_safe(&dest, "%s-%s.%lld.%u", i->name, name,
                                            (long long)time(NULL), n)) < 0)
                        return -ENOMEM;
                if (renameat2(i->dir_fd, name, lfd, dest, RENAME_NOREPLACE) >= 0)
                        break;
                if (errno != EEXIST || n > 100)
                        return -errno;
        }
        *ret_dest = TAKE_PTR(dest);
        return 0;
}

/* Clears the leftovers that no backup row names. .upgrade.* (a crash before
 * the commit: built from the state, which is intact) and .rollback.* (the
 * state a finished rollback replaced) are deleted, and so is drop, a backup
 * this operation gave up. Any other backup.* but keep may be the only copy
 * of a state (how it came to be unnamed is unknown), so it goes to
 * lost+found/, as fsck --repair moves it. */
static int remove_leftovers(Store *s, Instance *i, const char *keep, const char *drop) {
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        DIR *d;
        int r = 0;

        r = opendir_at(i->dir_fd, ".", &d);
        if (r < 0)
                return r;
        while ((de = readdir(d)))
                if ((startswith(de->d_name, UPGRADE_PREFIX) ||
                     startswith(de->d_name, ROLLBACK_PREFIX) ||
                     startswith(de->d_name, BACKUP_PREFIX)) &&
                    !streq_ptr(de->d_name, keep) && strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return log_oom();
                }
        closedir(d);
        for (size_t k = 0; names && names[k]; k++) {
                _cleanup_free_ char *dest = NULL;
                int q;

                if (startswith(names[k], BACKUP_PREFIX) && !streq_ptr(names[k], drop)) {
                        q = to_lost_found(s, i, names[k], &dest);
                        if (q < 0)
                                r = log_warning_errno(q,
                                                      "instance %s: cannot move %s, which no "
                                                      "backup row names, to " LOST_FOUND "/: %m",
                                                      i->name, names[k]);
                        else
                                log_warning("instance %s: %s, which no backup row names, moved "
                                            "to " LOST_FOUND "/%s",
                                            i->name, names[k], dest);
                        continue;
                }
                q = rm_rf_at(i->dir_fd, names[k]);
                if (q < 0)
                        r = log_warning_errno(q, "instance %s: cannot delete %s: %m", i->name,
                                              names[k]);
        }
        return r;
}

/* After a committed rollback: backup.T becomes the state again. */
static int finish_rollback(Store *s, Instance *i, const BackupRow *b) {
        _cleanup_free_ char *trash = NULL;
        const char *token = startswith(b->dir, BACKUP_PREFIX);
        int r;

        if (!token)
                return log_error_errno(EBADMSG, "instance %s: bad backup name %s", i->name, b->dir);
        trash = strjoin(ROLLBACK_PREFIX, token);
        if (!trash)
                return log_oom();
        if (name_exists(i->dir_fd, b->dir)) {
                if (name_exists(i->dir_fd, STATE_DIR)) {
                        r = move(i, "rollback", STATE_DIR, trash);
                        if (r < 0)
                                return r;
                }
                crash_point("rollback-between-renames");
                r = move(i, "rollback", b->dir, STATE_DIR);
                if (r < 0)
                        return r;
                crash_point("rollback-after-renames");
        }
        r = catalog_remove_backup(store_catalog(s), i->name);
        if (r < 0 && r != -ENOENT)
                return r;
        crash_point("rollback-after-backup-row");
        return remove_leftovers(s, i, NULL, NULL);
}

/* After a committed upgrade: state becomes backup.T, .upgrade.T the state. */
static int finish_upgrade(Instance *i, const BackupRow *b) {
        _cleanup_free_ char *fresh = NULL;
        const char *token = startswith(b->dir, BACKUP_PREFIX);
        int r;

        if (!token)
                return log_error_errno(EBADMSG, "instance %s: bad backup name %s", i->name, b->dir);
        fresh = strjoin(UPGRADE_PREFIX, token);
        if (!fresh)
                return log_oom();
        if (!name_exists(i->dir_fd, fresh))
                return 0; /* done already */
        if (!name_exists(i->dir_fd, b->dir)) {
                r = move(i, "upgrade", STATE_DIR, b->dir);
                if (r < 0)
                        return r;
        }
        crash_point("upgrade-between-renames");
        r = move(i, "upgrade", fresh, STATE_DIR);
        if (r < 0)
                return r;
        crash_point("upgrade-after-renames");
        return 0;
}

/* upgrade_recover(), deleting drop (a backup whose row a committed operation
 * removed: a prune, an image rm) rather than moving it to lost+found/. */
static int recover_dropping(Store *s, Instance *i, const char *drop) {
        _cleanup_(backup_row_freep) BackupRow *b = NULL;
        int r;

        r = catalog_get_backup(store_catalog(s), i->name, &b);
        if (r == -ENOENT)
                return remove_leftovers(s, i, NULL, drop);
        if (r < 0)
                return r;
        if (streq(b->phase, "rollback"))
                return finish_rollback(s, i, b);
        r = finish_upgrade(i, b);
        if (r < 0)
                return r;
        /* A backup whose directory is gone cannot be rolled back to. */
        if (!name_exists(i->dir_fd, b->dir)) {
                log_warning("instance %s: its backup %s is missing; dropping it", i->name, b->dir);
                r = catalog_remove_backup(store_catalog(s), i->name);
                if (r < 0 && r != -ENOENT)
                        return r;
                return remove_leftovers(s, i, NULL, drop);
        }
        return remove_leftovers(s, i, b->dir, drop);
}

int upgrade_recover(Store *s, Instance *i) {
        return recover_dropping(s, i, NULL);
}

static int check_stopped(Instance *i, const char *verb, bool *ret_running) {
        InstanceStatus st;
        int r;

        r = instance_status(i, &st);
        if (r < 0)
                return r;
        *ret_running = st.state == INSTANCE_RUNNING;
        if (st.state == INSTANCE_BUSY)
                return log_error_errno(EBUSY, "%s %s: the instance is busy (a foreground run?)",
                                       verb, i->name);
        return assembly_check_instance(i->dir_fd, verb, i->name);
}

/* The state's top-level entries that are no layer's (the personalization
 * marker, ...) are copied into the new state as they are. */
static int copy_unreserved(Instance *i, int oldfd, int newfd, char **reserved) {
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        DIR *d;
        int r;

        r = opendir_at(oldfd, ".", &d);
        if (r < 0)
                return r;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    !strv_contains(reserved, de->d_name) && strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        closedir(d);
        for (size_t k = 0; names && names[k]; k++) {
                const char *n = names[k];
                struct stat st;

                if (fstatat(oldfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (S_ISREG(st.st_mode))
                        r = copy_file_at(oldfd, n, newfd, n);
                else if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int src = -EBADF, dst = -EBADF;
                        if (mkdirat(newfd, n, 0700) < 0)
                                return -errno;
                        src = openat(oldfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        dst = openat(newfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (src < 0 || dst < 0)
                                return -errno;
                        r = copy_tree_contents_at(src, dst);
                        if (r >= 0)
                                r = copy_metadata_fd(src, &st, dst, true);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t len = readlinkat(oldfd, n, target, sizeof target - 1);
                        if (len < 0)
                                return -errno;
                        target[len] = 0;
                        r = symlinkat(target, newfd, n) < 0 ? -errno : 0;
                } else {
                        log_warning("upgrade %s: not carrying over state/%s (a special file)",
                                    i->name, n);
                        r = 0;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Writes the merged state into instances/NAME/fresh. */
static int build_new_state(Instance *i, int oldfd, const InstanceLayers *l,
                           const MergeReport *report, const char *fresh) {
        _cleanup_close_ int newfd = -EBADF;
        _cleanup_free_ int *fds = NULL;
        struct stat st;
        int r;

        if (fstat(oldfd, &st) < 0)
                return log_error_errno(errno, "upgrade %s: %m", i->name);
        if (mkdirat(i->dir_fd, fresh, 0700) < 0)
                return log_error_errno(errno, "upgrade %s: cannot make %s: %m", i->name, fresh);
        newfd = openat(i->dir_fd, fresh, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (newfd < 0)
                return log_error_errno(errno, "upgrade %s: cannot open %s: %m", i->name, fresh);
        fds = calloc(l->n + 1, sizeof *fds);
        if (!fds)
                return log_oom();
        for (size_t k = 0; k < l->n; k++)
                fds[k] = -EBADF;
        for (size_t k = 0; k < l->n; k++) {
                r = mkdir_p_in_root(newfd, path_relative(l->dirs[k]), 0755, NULL, NULL);
                if (r >= 0) {
                        fds[k] = openat_in_root_nofollow(newfd, path_relative(l->dirs[k]),
                                                         O_RDONLY | O_DIRECTORY, 0);
                        r = fds[k] < 0 ? fds[k] : 0;
                }
                if (r < 0) {
                        log_error_errno(r, "upgrade %s: cannot make state:%s: %m", i->name,
                                        l->dirs[k]);
                        goto out;
                }
        }
        r = merge_apply(report, l->layers, l->n, fds);
        if (r < 0)
                goto out;
        r = copy_unreserved(i, oldfd, newfd, l->reserved);
        if (r < 0) {
                log_error_errno(r, "upgrade %s: cannot carry over the rest of the state: %m",
                                i->name);
                goto out;
        }
        if (fchown(newfd, st.st_uid, st.st_gid) < 0 || fchmod(newfd, st.st_mode & 07777) < 0) {
                r = log_error_errno(errno, "upgrade %s: %m", i->name);
                goto out;
        }
out:
        for (size_t k = 0; k < l->n; k++)
                safe_close(fds[k]);
        return r;
}

struct UpgradePending {
        Instance *inst; /* borrowed */
        Store *store;   /* borrowed */
        Catalog *cat;
        int64_t op; /* journal row; 0 once ended */
        char *to;
        char *fresh, *backup;
        bool stopped; /* stopped for --restart and not started again yet */
        char **argv;  /* the command it ran, to start it again; NULL: the init */
};

/* --restart stopped it: start it again with the command it ran, on whatever
 * image the catalog links, so that a failed upgrade does not leave it down. */
static void restart_stopped(Store *s, Instance *i, char *const *argv) {
        int r = instance_start(s, i, &(InstanceRunOptions){.argv = argv});
        if (r < 0)
                log_warning_errno(r, "upgrade %s: cannot start it again: %m", i->name);
}

UpgradePending *upgrade_pending_free(UpgradePending *p) {
        if (!p)
                return NULL;
        /* Never finished: the new state goes, the instance stays as it was. */
        if (p->fresh) {
                int k = rm_rf_at(p->inst->dir_fd, p->fresh);
                if (k < 0)
                        log_warning_errno(k, "upgrade %s: cannot delete %s: %m", p->inst->name,
                                          p->fresh);
        }
        /* Before its commit: nothing published, the row goes. */
        if (p->op > 0)
                oplog_abandon(p->cat, p->op);
        if (p->stopped)
                restart_stopped(p->store, p->inst, p->argv);
        strv_free(p->argv);
        free(p->to);
        free(p->fresh);
        free(p->backup);
        free(p);
        return NULL;
}

/* Plans the merge of the instance's state (reading only); *ret_oldfd and *l
 * are what build_new_state() needs. */
static int plan_merge(UpgradeCache *c, Instance *i, const char *to_id, const UpgradeOptions *o,
                      int *ret_oldfd, InstanceLayers *l, MergeReport **ret_report) {
        _cleanup_close_ int oldfd = -EBADF;
        const MergeTree *base, *theirs;
        int r;

        oldfd = openat(i->dir_fd, STATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (oldfd < 0)
                return log_error_errno(errno, "upgrade %s: cannot open its state: %m", i->name);
        r = instance_layers_open(i, "upgrade", oldfd, l);
        if (r < 0)
                return r;
        r = upgrade_cache_tree(c, i->row->image, &base);
        if (r < 0)
                return r;
        r = upgrade_cache_tree(c, to_id, &theirs);
        if (r < 0)
                return r;
        /* merge_plan() logs its failures with the path that caused them. */
        r = merge_plan(base, theirs, l->layers, l->n, o->policy, ret_report);
        if (r < 0)
                return r;
        *ret_oldfd = TAKE_FD(oldfd);
        return 0;
}

/* The merge planned against the state of the running instance: 1 with the
 * report if it is refused, which then costs the instance no stop. */
static int plan_live(UpgradeCache *c, Instance *i, const char *to_id, const UpgradeOptions *o,
                     MergeReport **ret_report) {
        _cleanup_(instance_layers_done) InstanceLayers l = INSTANCE_LAYERS_INIT;
        _cleanup_(merge_report_freep) MergeReport *report = NULL;
        _cleanup_close_ int oldfd = -EBADF;
        int r;

        r = plan_merge(c, i, to_id, o, &oldfd, &l, &report);
        if (r < 0)
                return r;
        if (!merge_report_blocked(report))
                return 0;
        *ret_report = TAKE_PTR(report);
        return 1;
}

/* stopped: --restart stopped it; *argv (taken) is the command to start it
 * again with once the upgrade is done or given up. */
static int upgrade_prepare_stopped(UpgradeCache *c, Instance *i, const char *to_id,
                                   const UpgradeOptions *o, bool stopped, char ***argv,
                                   UpgradeResult *ret_result, MergeReport **ret_report,
                                   UpgradePending **ret_pending) {
        _cleanup_(instance_layers_done) InstanceLayers l = INSTANCE_LAYERS_INIT;
        _cleanup_(merge_report_freep) MergeReport *report = NULL;
        _cleanup_(upgrade_pending_freep) UpgradePending *p = NULL;
        _cleanup_close_ int oldfd = -EBADF;
        char token[MACHINE_ID_LEN + 1];
        int r;

        r = plan_merge(c, i, to_id, o, &oldfd, &l, &report);
        if (r < 0)
                return r;
        if (merge_report_blocked(report) || o->dry_run) {
                *ret_result = merge_report_blocked(report) ? UPGRADE_BLOCKED : UPGRADE_DRY_RUN;
                *ret_report = TAKE_PTR(report);
                return 0;
        }

        r = random_token(token);
        if (r < 0)
                return log_error_errno(r, "upgrade %s: %m", i->name);
        p = calloc(1, sizeof *p);
        if (!p)
                return log_oom();
        p->inst = i;
        p->store = c->store;
        p->cat = store_catalog(c->store);
        p->to = strdup(to_id);
        p->backup = strjoin(BACKUP_PREFIX, token);
        if (!p->to || !p->backup)
                return log_oom();
        r = oplog_begin(p->cat, OP_UPGRADE, i->name, &p->op, "from", i->row->image, "to", to_id,
                        "token", token, NULL);
        if (r < 0)
                return r;
        crash_point("upgrade-after-journal");
        /* Set before the directory exists, so that a failure removes it. */
        p->fresh = strjoin(UPGRADE_PREFIX, token);
        if (!p->fresh)
                return log_oom();
        r = build_new_state(i, oldfd, &l, report, p->fresh);
        if (r < 0)
                return r;
        crash_point("upgrade-after-build");
        *ret_result = UPGRADE_DONE;
        *ret_report = TAKE_PTR(report);
        p->stopped = stopped;
        p->argv = TAKE_PTR(*argv);
        *ret_pending = TAKE_PTR(p);
        return 0;
}

int upgrade_prepare(UpgradeCache *c, Instance *i, const char *to_id, const UpgradeOptions *o,
                    UpgradeResult *ret_result, MergeReport **ret_report,
                    UpgradePending **ret_pending) {
        _cleanup_strv_free_ char **argv = NULL;
        bool running, stopped = false;
        int r;

        assert(i->lock_fd >= 0);
        *ret_report = NULL;
        *ret_pending = NULL;
        /* A dry run changes nothing, not even leftovers: opening the store
         * has finished any journaled upgrade or rollback already. */
        r = o->dry_run ? 0 : upgrade_recover(c->store, i);
        if (r < 0)
                return r;
        if (streq(i->row->image, to_id)) {
                *ret_result = UPGRADE_CURRENT;
                return 0;
        }
        r = check_stopped(i, "upgrade", &running);
        if (r < 0)
                return r;
        if (running && !o->restart && !o->dry_run)
                return log_error_errno(EBUSY,
                                       "upgrade %s: the instance is running: stop it first, or "
                                       "use --restart",
                                       i->name);
        /* The state is read only once nothing writes it any more: what the
         * instance writes until it stops must reach the new state too. A
         * refusal that the running state shows already is told without a
         * stop; the state is planned again once it is stopped, as it may have
         * changed until then. */
        if (running && !o->dry_run) {
                r = plan_live(c, i, to_id, o, ret_report);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret_result = UPGRADE_BLOCKED;
                        return 0;
                }
                r = instance_start_command(i, &argv);
                if (r < 0)
                        return r;
                r = instance_stop(i, 10, NULL);
                if (r < 0)
                        return r;
                stopped = true;
        }
        r = upgrade_prepare_stopped(c, i, to_id, o, stopped, &argv, ret_result, ret_report,
                                    ret_pending);
        if (stopped && (r < 0 || !*ret_pending))
                restart_stopped(c->store, i, argv);
        return r;
}

int upgrade_sync(Store *s) {
        /* The new states must be on disk before the catalog says they are
         * the ones; one syncfs covers every state prepared so far. */
        if (syncfs(store_dirfd(s)) < 0)
                return log_error_errno(errno, "upgrade: cannot sync the new states: %m");
        crash_point("upgrade-after-sync");
        return 0;
}

int upgrade_finish(UpgradeCache *c, UpgradePending *p) {
        _cleanup_(backup_row_freep) BackupRow *old = NULL;
        Instance *i = p->inst;
        Store *s = c->store;
        Catalog *cat = store_catalog(s);
        char from[IMAGE_ID_LEN + 1];
        int64_t op;
        int r;

        crash_point("upgrade-before-commit");
        snprintf(from, sizeof from, "%s", i->row->image);
        /* The backup this upgrade replaces, deleted once it is done. */
        r = catalog_get_backup(cat, i->name, &old);
        if (r < 0 && r != -ENOENT)
                return r;
        r = catalog_begin(cat);
        if (r < 0)
                return r;
        r = catalog_link_instance(cat, i->name, p->to, i->row->mode);
        if (r >= 0)
                r = catalog_set_backup(cat, i->name, from, p->backup);
        if (r >= 0)
                r = oplog_committed(cat, p->op);
        if (r >= 0) {
                crash_point("upgrade-in-commit");
                r = catalog_commit(cat);
        }
        if (r < 0) {
                catalog_rollback(cat);
                return log_error_errno(r, "upgrade %s: cannot record the upgrade: %m", i->name);
        }
        snprintf(i->row->image, sizeof i->row->image, "%s", p->to);
        op = TAKE_OP(p->op);
        crash_point("upgrade-after-commit");

        /* From here the upgrade is done; a failure is finished by the next
         * command's recovery, so the new state must not be deleted. */
        {
                BackupRow b = {.dir = p->backup};
                p->fresh = mfree_str(p->fresh);
                r = finish_upgrade(i, &b);
                if (r < 0)
                        return r;
        }
        r = remove_leftovers(s, i, p->backup, old ? old->dir : NULL);
        if (r < 0)
                log_warning_errno(r, "upgrade %s: old backups are left behind: %m", i->name);
        crash_point("upgrade-after-cleanup");
        r = oplog_end(cat, op);
        if (r < 0)
                return r;
        if (p->stopped) {
                p->stopped = false;
                r = instance_start(s, i, &(InstanceRunOptions){.argv = p->argv});
                if (r < 0)
                        return log_error_errno(r,
                                               "upgrade %s: upgraded, but cannot start it "
                                               "again: %m",
                                               i->name);
        }
        return 0;
}

int upgrade_instance(UpgradeCache *c, Instance *i, const char *to_id, const UpgradeOptions *o,
                     UpgradeResult *ret_result, MergeReport **ret_report) {
        _cleanup_(upgrade_pending_freep) UpgradePending *p = NULL;
        _cleanup_(merge_report_freep) MergeReport *report = NULL;
        int r;

        r = upgrade_prepare(c, i, to_id, o, ret_result, &report, &p);
        if (r < 0)
                return r;
        if (p) {
                r = upgrade_sync(c->store);
                if (r < 0)
                        return r;
                r = upgrade_finish(c, p);
                if (r < 0)
                        return r;
        }
        *ret_report = TAKE_PTR(report);
        return 0;
}

int rollback_instance(Store *s, Instance *i, char **ret_image) {
        _cleanup_(backup_row_freep) BackupRow *b = NULL;
        Catalog *cat = store_catalog(s);
        bool running;
        int64_t op;
        int r;

        assert(i->lock_fd >= 0);
        r = upgrade_recover(s, i);
        if (r < 0)
                return r;
        r = catalog_get_backup(cat, i->name, &b);
        if (r == -ENOENT)
                return log_error_errno(ENOENT,
                                       "rollback %s: nothing to roll back (no upgrade since the "
                                       "last rollback, or its backup was pruned)",
                                       i->name);
        if (r < 0)
                return r;
        r = check_stopped(i, "rollback", &running);
        if (r < 0)
                return r;
        if (running)
                return log_error_errno(EBUSY, "rollback %s: the instance is running: stop it first",
                                       i->name);

        r = oplog_begin(cat, OP_ROLLBACK, i->name, &op, "image", b->image, "backup", b->dir, NULL);
        if (r < 0)
                return r;
        crash_point("rollback-after-journal");
        r = catalog_begin(cat);
        if (r < 0) {
                oplog_abandon(cat, op);
                return r;
        }
        r = catalog_link_instance(cat, i->name, b->image, i->row->mode);
        if (r == -ENOENT)
                r = log_error_errno(ENOENT, "rollback %s: image %.12s is gone", i->name, b->image);
        if (r >= 0)
                r = catalog_set_backup_phase(cat, i->name, "rollback");
        if (r >= 0)
                r = oplog_committed(cat, op);
        if (r >= 0) {
                crash_point("rollback-in-commit");
                r = catalog_commit(cat);
        }
        if (r < 0) {
                catalog_rollback(cat);
                oplog_abandon(cat, op);
                return r;
        }
        snprintf(i->row->image, sizeof i->row->image, "%s", b->image);
        crash_point("rollback-after-commit");
        r = finish_rollback(s, i, b);
        if (r < 0)
                return r;
        crash_point("rollback-after-cleanup");
        r = oplog_end(cat, op);
        if (r < 0)
                return r;
        if (ret_image) {
                *ret_image = strdup(b->image);
                if (!*ret_image)
                        return log_oom();
        }
        return 0;
}

int backup_prune(Store *s, Instance *i) {
        _cleanup_(backup_row_freep) BackupRow *b = NULL;
        int r;

        assert(i->lock_fd >= 0);
        r = upgrade_recover(s, i);
        if (r < 0)
                return r;
        r = catalog_get_backup(store_catalog(s), i->name, &b);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = catalog_remove_backup(store_catalog(s), i->name);
        if (r < 0 && r != -ENOENT)
                return r;
        r = recover_dropping(s, i, b->dir);
        if (r < 0)
                return r;
        return 1;
}

/* Not instance_lock(): the callers run under the store's exclusive lock,
 * where a busy instance is no error of theirs to log. -EBUSY if held. */
static int lock_now(Instance *i) {
        i->lock_fd = openat(i->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (i->lock_fd < 0)
                return -errno;
        if (flock(i->lock_fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        return 0;
}

struct BackupDrops {
        Instance **inst;
        char **dirs;
        size_t n;
};

BackupDrops *backup_drops_free(BackupDrops *d) {
        if (!d)
                return NULL;
        instance_list_free(d->inst, d->n);
        strv_free(d->dirs);
        free(d);
        return NULL;
}

int backup_drops_take(Store *s, const char *id, const char *ref, BackupDrops **ret,
                      char **ret_list) {
        _cleanup_(backup_drops_freep) BackupDrops *d = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *list = NULL;
        int r;

        r = catalog_image_backups(store_catalog(s), id, &names);
        if (r < 0)
                return r;
        d = calloc(1, sizeof *d);
        if (!d)
                return log_oom();
        d->inst = calloc(strv_length(names) + 1, sizeof *d->inst);
        if (!d->inst)
                return log_oom();
        for (size_t k = 0; names[k]; k++) {
                _cleanup_(backup_row_freep) BackupRow *b = NULL;
                _cleanup_(instance_freep) Instance *i = NULL;
                char *t;

                r = instance_open_for_removal(s, names[k], &i);
                if (r < 0)
                        return r;
                r = lock_now(i);
                if (r == -EBUSY)
                        return log_error_errno(EBUSY,
                                               "image %s: instance %s, which could roll back to "
                                               "it, is busy (another goldroot command holds it): "
                                               "try again",
                                               ref, names[k]);
                if (r < 0)
                        return log_error_errno(r, "image %s: cannot lock instance %s: %m", ref,
                                               names[k]);
                /* Locked: finish what a crash left, so that the row is current. */
                r = upgrade_recover(s, i);
                if (r < 0)
                        return r;
                r = catalog_get_backup(store_catalog(s), names[k], &b);
                if (r == -ENOENT) /* its directory was missing: nothing to drop */
                        continue;
                if (r < 0)
                        return r;
                r = strv_extend(&d->dirs, b->dir);
                if (r < 0)
                        return log_oom();
                t = strjoin(list ?: "", list ? " " : "", names[k], "=", b->dir);
                if (!t)
                        return log_oom();
                free(list);
                list = t;
                d->inst[d->n++] = TAKE_PTR(i);
        }
        *ret = TAKE_PTR(d);
        *ret_list = TAKE_PTR(list);
        return 0;
}

int backup_drops_finish(Store *s, BackupDrops *d) {
        int r, ret = 0;

        if (!d)
                return 0;
        for (size_t k = 0; k < d->n; k++) {
                r = recover_dropping(s, d->inst[k], d->dirs[k]);
                if (r < 0)
                        ret = ret ?: r;
        }
        return ret;
}

int backup_drops_recover(Store *s, const char *list) {
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;
        int ret = 0;

        if (!copy)
                return log_oom();
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
                _cleanup_(instance_row_freep) InstanceRow *row = NULL;
                _cleanup_(instance_freep) Instance *i = NULL;
                char *dir = strchr(w, '=');
                int r;

                if (!dir)
                        return log_error_errno(EBADMSG, "journal: bad backup entry '%s'", w);
                *dir++ = '\0';
                /* Removed since: its directory went with it. */
                r = catalog_get_instance(store_catalog(s), w, &row);
                if (r == -ENOENT)
                        continue;
                if (r >= 0)
                        r = instance_open_for_removal(s, w, &i);
                if (r >= 0)
                        r = lock_now(i);
                if (r >= 0)
                        r = recover_dropping(s, i, dir);
                if (r < 0)
                        ret = ret == -EBUSY || ret == 0 ? r : ret;
        }
        return ret;
}

int upgrade_recover_op(Store *s, const OpRow *o) {
        _cleanup_(instance_row_freep) InstanceRow *row = NULL;
        _cleanup_(instance_freep) Instance *i = NULL;
        int r;

        /* Gone since (rm): its directories went with it. */
        r = catalog_get_instance(store_catalog(s), o->subject, &row);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = instance_open(s, o->subject, &i);
        if (r < 0)
                return r;
        r = lock_now(i);
        if (r < 0)
                return r;
        /* The backup row says where the switch stands: before the commit the
         * new state is deleted, after it the renames are finished. */
        r = upgrade_recover(s, i);
        if (r < 0)
                return r;
        return streq(o->phase, "committed") ? 1 : 0;
}
