/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * oplog: the operations journal and crash recovery (issue 6).
 *
 * Every multi-step operation (image import, commit and prep; instance
 * create and rm; upgrade; rollback; image rm; gc) writes a row to the
 * catalog's operations table BEFORE it touches the file system: its kind, its
 * subject and the inputs its steps need to be rolled forward or back. The
 * transaction that publishes the result removes the row, or, when file-system
 * work is left after it (the renames of an upgrade, the deletion of a removed
 * instance's directory), marks it "committed" in that same transaction and
 * removes it once that work is done. Every step is idempotent.
 *
 * Recovery: whoever opens the store and gets its lock exclusively (nobody else
 * is running) calls oplog_recover(), which finishes each row: "intent" rows
 * are rolled back (nothing they did is published), "committed" rows are
 * rolled forward; an image build whose tree was already renamed into images/
 * (durable: it was synced first) is rolled forward too. Each module owns the
 * recovery of its own operations; this one dispatches by kind.
 */
#pragma once

#include "catalog.h"
#include "util.h"

typedef struct Store Store;

/* Journal kinds. */
#define OP_IMPORT "import"     /* any image build: import, commit, prep */
#define OP_CREATE "create"     /* subject: instance */
#define OP_RM "rm"             /* subject: instance */
#define OP_UPGRADE "upgrade"   /* subject: instance */
#define OP_ROLLBACK "rollback" /* subject: instance */
#define OP_IMAGE_RM "image-rm" /* subject: image id */
#define OP_GC "gc"             /* subject: "objects" */

/* Records an operation's intent, in its own transaction. The arguments after
 * ret_id are key, value pairs (values may be NULL: left out), ended by NULL;
 * keys and values are single lines. */
int oplog_begin(Catalog *c, const char *kind, const char *subject, int64_t *ret_id, ...)
        __attribute__((sentinel));
/* Replaces the row's arguments (same pairs). */
int oplog_set_args(Catalog *c, int64_t id, ...) __attribute__((sentinel));
/* Inside the caller's publishing transaction. */
int oplog_committed(Catalog *c, int64_t id);
/* Removes the row: inside the publishing transaction, or alone at the end. */
int oplog_end(Catalog *c, int64_t id);
/* Ends an operation that failed cleanly (the caller undid its steps);
 * a failure to do so is only logged, the next recovery finds the row. */
void oplog_abandon(Catalog *c, int64_t id);

/* The value of key in an operation's arguments, newly allocated; NULL (and
 * *ret NULL) if absent. Returns -ENOMEM or 0. */
int oplog_arg(const OpRow *o, const char *key, char **ret);

/* Finishes or undoes every journaled operation. Needs the store to itself
 * (its exclusive lock). Logs one line per operation at -v. */
int oplog_recover(Store *s);
