/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * catalog: the SQLite database that knows every image, tag and instance.
 *
 * The file lives at STORE/catalog.db, in WAL mode with foreign keys on and a
 * busy timeout, so concurrent goldroot commands wait for each other instead of
 * failing. The schema version is PRAGMA user_version; catalog_open() applies
 * the missing migrations in order (see migrations[] in catalog.c: later
 * issues append to that list, never edit an entry that has shipped).
 *
 * Functions run one statement each; a caller that changes several rows wraps
 * them in catalog_begin()/catalog_commit() so the operation is one
 * transaction. Unexpected SQLite failures are logged here ("catalog: ...");
 * expected outcomes (-ENOENT: no such row, -EBUSY: an instance links the
 * image) are returned silently for the caller to report.
 */
#pragma once

#include "util.h"

#define IMAGE_ID_LEN 64 /* hex sha256 */

typedef struct Catalog Catalog;

typedef struct ImageInfo {
        char id[IMAGE_ID_LEN + 1];
        char *parent;    /* NULL: none */
        char *base;      /* stored as a delta over this image (store-delta.c); NULL: whole */
        int64_t created; /* seconds since the epoch */
        uint64_t size;   /* sum of the regular files' sizes */
        uint64_t files;  /* paths in the image, directories included */
        /* Identity defaults, for the instance issues; NULL until they set them. */
        char *hostname;
        char *address;
        char **tags; /* "NAME:TAG", sorted; filled by catalog_get_image/list_images */
} ImageInfo;

ImageInfo *image_info_free(ImageInfo *i);
static inline void image_info_freep(ImageInfo **i) {
        image_info_free(*i);
}
void image_info_list_free(ImageInfo **l, size_t n);

int catalog_open(const char *path, Catalog **ret);
Catalog *catalog_close(Catalog *c);
static inline void catalog_closep(Catalog **c) {
        catalog_close(*c);
}
/* The schema version this build writes; the catalog's own is user_version. */
int catalog_schema_version(void);
int catalog_user_version(Catalog *c);

/* BEGIN IMMEDIATE: takes the write lock up front, so the transaction cannot
 * fail half-way with SQLITE_BUSY. */
int catalog_begin(Catalog *c);
int catalog_commit(Catalog *c);
/* Safe to call when no transaction is open. */
void catalog_rollback(Catalog *c);

/* Inserts the image unless a row with its id exists. Returns 1 if inserted, 0
 * if it was there already. */
int catalog_add_image(Catalog *c, const ImageInfo *img);
int catalog_get_image(Catalog *c, const char *id, ImageInfo **ret);
/* Every image, newest first, with its tags. */
int catalog_list_images(Catalog *c, ImageInfo ***ret, size_t *ret_n);
/* Ids that start with prefix (all ids for ""), sorted. */
int catalog_image_ids(Catalog *c, const char *prefix, char ***ret);
/* Removes the image and its tags. -EBUSY if an instance links it. */
int catalog_remove_image(Catalog *c, const char *id);
/* The images stored as deltas over id. */
int catalog_image_dependants(Catalog *c, const char *id, char ***ret);
/* Records that id is stored over base (NULL: whole). */
int catalog_set_image_base(Catalog *c, const char *id, const char *base);
/* The newest image with a tag named name; -ENOENT if none. */
int catalog_newest_image_named(Catalog *c, const char *name, char **ret_id);

/* Points NAME:TAG at id, creating or moving the tag. */
int catalog_set_tag(Catalog *c, const char *name, const char *tag, const char *id);
/* -ENOENT if the tag does not exist. */
int catalog_get_tag(Catalog *c, const char *name, const char *tag, char **ret_id);
int catalog_remove_tag(Catalog *c, const char *name, const char *tag);
int catalog_image_tags(Catalog *c, const char *id, char ***ret);

/* Records that instance name links image_id (creating the instance row, or
 * moving an existing one to another image, as an upgrade does). mode is "ro",
 * "rw" or "volatile". -ENOENT if the image does not exist. */
int catalog_link_instance(Catalog *c, const char *name, const char *image_id, const char *mode);
/* -ENOENT if there is no such instance. */
int catalog_unlink_instance(Catalog *c, const char *name);
/* Names of the instances that link id, sorted. */
int catalog_image_links(Catalog *c, const char *id, char ***ret);

/* Instance rows (the instance modules keep everything else in the instance's
 * directory). */
typedef struct InstanceRow {
        char *name;
        char image[IMAGE_ID_LEN + 1];
        char *mode;
        int64_t created; /* seconds since the epoch */
} InstanceRow;

InstanceRow *instance_row_free(InstanceRow *i);
static inline void instance_row_freep(InstanceRow **i) {
        instance_row_free(*i);
}
void instance_row_list_free(InstanceRow **l, size_t n);

/* Creates the row for a new instance: -EEXIST if the name is taken, -ENOENT if
 * the image does not exist. Unlike catalog_link_instance() it never moves an
 * existing instance. */
int catalog_add_instance(Catalog *c, const char *name, const char *image_id, const char *mode);
/* -ENOENT if there is no such instance. */
int catalog_get_instance(Catalog *c, const char *name, InstanceRow **ret);
/* Every instance, by name. */
int catalog_list_instances(Catalog *c, InstanceRow ***ret, size_t *ret_n);

/* Sets an image's identity: the hostname and address its files carry, which
 * personalization rewrites to each instance's own. -ENOENT if no such image. */
int catalog_set_image_identity(Catalog *c, const char *id, const char *hostname,
                               const char *address);

/* The rollback point an upgrade leaves, one per instance (upgrade.h). The row
 * goes with its instance, and with its image: removing the old image gives up
 * the rollback. */
typedef struct BackupRow {
        char *instance;
        char image[IMAGE_ID_LEN + 1]; /* the image the instance linked before */
        char *dir;                    /* the old state's name in instances/NAME/ */
        char *phase;                  /* "ready", or "rollback" while one is under way */
        int64_t created;
} BackupRow;

BackupRow *backup_row_free(BackupRow *b);
static inline void backup_row_freep(BackupRow **b) {
        backup_row_free(*b);
}
/* Creates or replaces the instance's backup row, phase "ready". */
int catalog_set_backup(Catalog *c, const char *instance, const char *image_id, const char *dir);
/* -ENOENT if the instance has no backup. */
int catalog_get_backup(Catalog *c, const char *instance, BackupRow **ret);
/* The instances whose backup is on image (that could roll back to it). */
int catalog_image_backups(Catalog *c, const char *image, char ***ret);
int catalog_set_backup_phase(Catalog *c, const char *instance, const char *phase);
/* -ENOENT if there was none. */
int catalog_remove_backup(Catalog *c, const char *instance);

/* The operations journal (oplog.h owns its protocol): one row per
 * multi-step operation under way. phase is "intent" until the transaction
 * that publishes the operation's result, "committed" after it for an
 * operation that still has file-system work to finish. args is oplog's
 * "key=value" lines. */
typedef struct OpRow {
        int64_t id;
        char *kind;
        char *subject;
        char *phase;
        char *args;
        int64_t started;
} OpRow;

OpRow *op_row_free(OpRow *o);
static inline void op_row_freep(OpRow **o) {
        op_row_free(*o);
}
void op_row_list_free(OpRow **l, size_t n);
int catalog_add_op(Catalog *c, const char *kind, const char *subject, const char *args,
                   int64_t *ret_id);
/* -ENOENT if there is no such row. */
int catalog_set_op_args(Catalog *c, int64_t id, const char *args);
int catalog_set_op_committed(Catalog *c, int64_t id);
int catalog_remove_op(Catalog *c, int64_t id);
/* Oldest first. */
int catalog_list_ops(Catalog *c, OpRow ***ret, size_t *ret_n);

/* PRAGMA integrity_check and foreign_key_check: one string per problem
 * (an empty vector when the catalog is sound). */
int catalog_check(Catalog *c, char ***ret_problems);
