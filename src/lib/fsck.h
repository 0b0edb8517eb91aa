/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fsck: checks the catalog against the store and the instance states, and
 * repairs what is safely repairable (`goldroot fsck [--repair] [--full]`).
 *
 * Checked: the catalog itself (SQLite's integrity and foreign-key checks);
 * unfinished journal entries; mounts left on the store (mounttab.h);
 * leftover staging trees; image trees without a
 * row, and each image's tree against its manifest (and its id); every
 * regular file's object in objects/; objects' names against their content
 * and metadata (a sample, or all with full); each instance's directory,
 * identity and state; directories under instances/ without a row; upgrade,
 * rollback and rm leftovers; and backups against their rows.
 *
 * Repairs never delete instance state: an orphaned instance directory, a
 * backup no row names or an upgrade's unpublished new state is moved to
 * STORE/lost+found/. Store-owned leftovers (staging, image trees without a
 * row) are deleted; a missing object is linked again from a tree that has
 * the file; a backup row whose directory is gone is dropped; a mount left
 * on the store is detached.
 */
#pragma once

#include "store.h"

typedef struct FsckOptions {
        bool repair;
        bool full; /* hash every object, not a sample */
} FsckOptions;

typedef struct FsckProblem {
        char *what; /* "image 0f57e2a9d268: /etc/passwd", "instances/web", ... */
        char *why;
        bool repaired;
} FsckProblem;

typedef struct FsckReport {
        FsckProblem *problems;
        size_t n;
        uint64_t objects_checked;
        uint64_t images_checked;
        uint64_t instances_checked;
} FsckReport;

void fsck_report_done(FsckReport *r);
/* Problems that are still there (not repaired). */
size_t fsck_report_remaining(const FsckReport *r);

/* Needs STORE_EXCLUSIVE (nobody may build or remove while we look). Returns
 * -errno only when the check itself cannot run; problems go to ret. */
int fsck_run(Store *s, const FsckOptions *o, FsckReport *ret);
