/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * upgrade: moving an instance to another image with a three-way merge of its
 * state (DESIGN.md §5), rolling it back, and the backups in between.
 *
 * An upgrade plans the merge first (reading only); a type conflict stops it
 * there, with nothing changed. Otherwise the merged state is written into a
 * fresh directory, instances/NAME/.upgrade.TOKEN, beside the untouched old
 * state, and one catalog transaction links the new image and records the
 * old state as the instance's backup (backups row: old image, backup.TOKEN).
 * Only then are the directories switched: state becomes backup.TOKEN (a
 * rename: the backup is the old state itself, never a copy, and shares no
 * inode with the new one) and .upgrade.TOKEN becomes state. The previous
 * backup, if any, is deleted.
 *
 * A rollback links the backup's image again and marks the row "rollback" in
 * one transaction, then puts backup.TOKEN back as state and drops the row:
 * the state is exactly what it was before the upgrade, content and metadata.
 *
 * The catalog is the journal: upgrade_recover() finishes whatever a crash
 * interrupted after a commit (the renames) and deletes what a crash left
 * before one (.upgrade.* directories). A backup.* that no row names may hold
 * the only copy of a state: it is moved to STORE/lost+found/, as fsck
 * --repair does, never deleted; only the backup an upgrade replaces, a
 * prune drops or an image rm gives up is deleted. A dry run recovers nothing.
 */
#pragma once

#include "instance.h"
#include "merge.h"
#include "store.h"

/* Images opened for merging, kept across the instances of one command so
 * that each manifest is read once. */
typedef struct UpgradeCache UpgradeCache;

int upgrade_cache_new(Store *s, UpgradeCache **ret);
UpgradeCache *upgrade_cache_free(UpgradeCache *c);
static inline void upgrade_cache_freep(UpgradeCache **c) {
        upgrade_cache_free(*c);
}
/* The image's tree for the merge engine (answered from its manifest). */
int upgrade_cache_tree(UpgradeCache *c, const char *id, const MergeTree **ret);

typedef struct UpgradeOptions {
        MergePolicy policy;
        bool dry_run;
        bool restart; /* stop a running instance before reading its state, start it again */
} UpgradeOptions;

typedef enum UpgradeResult {
        UPGRADE_DONE,
        UPGRADE_DRY_RUN,
        UPGRADE_CURRENT, /* already on the image: nothing to do */
        UPGRADE_BLOCKED, /* type conflicts: nothing changed */
} UpgradeResult;

/* Upgrades instance i (locked by the caller) to image to_id. *ret_report is
 * the merge report (NULL for UPGRADE_CURRENT). Returns -EBUSY (logged) for a
 * running instance without o->restart. */
int upgrade_instance(UpgradeCache *c, Instance *i, const char *to_id, const UpgradeOptions *o,
                     UpgradeResult *ret_result, MergeReport **ret_report);

/* The same in steps, so that a command upgrading many instances syncs the
 * file system once for a batch of them rather than once each: prepare plans
 * and writes the new state (*ret_pending is NULL unless the result is
 * UPGRADE_DONE, and a pending upgrade that is freed unfinished leaves the
 * instance as it was); sync makes every prepared state durable; finish
 * commits the switch and renames the directories. The instance must stay
 * locked and alive until its pending upgrade is finished or freed. */
typedef struct UpgradePending UpgradePending;
int upgrade_prepare(UpgradeCache *c, Instance *i, const char *to_id, const UpgradeOptions *o,
                    UpgradeResult *ret_result, MergeReport **ret_report,
                    UpgradePending **ret_pending);
int upgrade_sync(Store *s);
int upgrade_finish(UpgradeCache *c, UpgradePending *p);
UpgradePending *upgrade_pending_free(UpgradePending *p);
static inline void upgrade_pending_freep(UpgradePending **p) {
        upgrade_pending_free(*p);
}

/* Restores the image link and the state from before the last upgrade.
 * -ENOENT (logged) if there is nothing to roll back; -EBUSY (logged) if the
 * instance runs. On success *ret_image (if not NULL) is the image it links
 * again. */
int rollback_instance(Store *s, Instance *i, char **ret_image);

/* Drops the instance's backup. Returns 1 if there was one, else 0. */
int backup_prune(Store *s, Instance *i);

/* An image rm gives up the rollbacks to its image: the backup rows go with
 * the image's row, and the backup directories are deleted after that commit,
 * the way a prune deletes them. The instances stay locked in between; one
 * another command holds refuses the image rm. A running instance does not
 * use its backup: it is dropped all the same. */
typedef struct BackupDrops BackupDrops;
/* Opens and locks every instance whose backup is on image id (ref is for
 * messages). *ret_list names them for the journal ("NAME=DIR ..."), NULL if
 * there are none. -EBUSY, logged, if another command holds one. */
int backup_drops_take(Store *s, const char *id, const char *ref, BackupDrops **ret,
                      char **ret_list);
/* Once the rows are gone: deletes the backup directories. */
int backup_drops_finish(Store *s, BackupDrops *d);
BackupDrops *backup_drops_free(BackupDrops *d);
static inline void backup_drops_freep(BackupDrops **d) {
        backup_drops_free(*d);
}
/* Journal recovery of a committed image rm: the same for a journaled list.
 * -EBUSY if an instance is held by someone (the row waits for later). */
int backup_drops_recover(Store *s, const char *list);

/* Finishes or undoes an upgrade or rollback a crash interrupted (see above).
 * The caller holds the instance's lock. */
int upgrade_recover(Store *s, Instance *i);
/* Journal recovery (oplog.h) of an upgrade or rollback: 1 if rolled forward,
 * 0 if back, -EBUSY if the instance is held by someone. */
int upgrade_recover_op(Store *s, const OpRow *o);
