/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * catalog: SQLite schema, migrations and the queries the store and the
 * instance code need.
 */
#include "catalog.h"

#include <sqlite3.h>
#include <time.h>

struct Catalog {
        sqlite3 *db;
        char *path;
};

/* Migration N brings user_version from N to N+1. Append only. */
static const char *const migrations[] = {
        /* 1: images, tags, instances. */
        "CREATE TABLE images ("
        "  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 64),"
        "  parent TEXT REFERENCES images(id) ON DELETE SET NULL,"
        "  created INTEGER NOT NULL,"
        "  size INTEGER NOT NULL DEFAULT 0,"
        "  files INTEGER NOT NULL DEFAULT 0,"
        "  hostname TEXT,"
        "  address TEXT"
        ");"
        "CREATE TABLE tags ("
        "  name TEXT NOT NULL,"
        "  tag TEXT NOT NULL,"
        "  image TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  PRIMARY KEY (name, tag)"
        ");"
        "CREATE INDEX tags_image ON tags(image);"
        "CREATE TABLE instances ("
        "  name TEXT PRIMARY KEY NOT NULL,"
        "  image TEXT NOT NULL REFERENCES images(id) ON DELETE RESTRICT,"
        "  mode TEXT NOT NULL DEFAULT 'ro' CHECK (mode IN ('ro', 'rw', 'volatile')),"
        "  created INTEGER NOT NULL"
        ");"
        "CREATE INDEX instances_image ON instances(image);",
        /* 2: the rollback point an upgrade leaves (issue 5). A backup does not
         * keep its image in the store: removing the image drops the row. */
        "CREATE TABLE backups ("
        "  instance TEXT PRIMARY KEY NOT NULL REFERENCES instances(name) ON DELETE CASCADE,"
        "  image TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  dir TEXT NOT NULL,"
        "  phase TEXT NOT NULL DEFAULT 'ready' CHECK (phase IN ('ready', 'rollback')),"
        "  created INTEGER NOT NULL"
        ");"
        "CREATE INDEX backups_image ON backups(image);",
        /* 3: the operations journal (issue 6, oplog.h): one row per multi-step
         * operation under way, from its intent to its end. */
        "CREATE TABLE operations ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  kind TEXT NOT NULL,"
        "  subject TEXT NOT NULL,"
        "  phase TEXT NOT NULL DEFAULT 'intent' CHECK (phase IN ('intent', 'committed')),"
        "  args TEXT NOT NULL DEFAULT '',"
        "  started INTEGER NOT NULL"
        ");",
        /* 4: versions stored as a delta over a base image (store-delta.c). A
         * base cannot go while a delta needs it: `image rm` makes its deltas
         * whole first. */
        "ALTER TABLE images ADD COLUMN base TEXT REFERENCES images(id) ON DELETE RESTRICT;"
        "CREATE INDEX images_base ON images(base);",
};

int catalog_schema_version(void) {
        return (int)ELEMENTSOF(migrations);
}

static int sqlite_to_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_DONE:
        case SQLITE_ROW:
                return 0;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        case SQLITE_CONSTRAINT:
                return -EEXIST;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EUCLEAN;
        default:
                return -EIO;
        }
}

/* Logs an unexpected SQLite failure with its message and returns -errno. */
static int catalog_fail(Catalog *c, int rc, const char *what) {
        int r = sqlite_to_errno(rc);
        return log_error_errno(r ?: -EIO, "catalog %s: %s: %s", c->path, what,
                               sqlite3_errmsg(c->db));
}

/* Not a leak: the list loops' rows live on in l, but gcc 12 drops a realloc'd buffer's contents
 * when it moves. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static void finalizep(sqlite3_stmt **s) {
        if (*s)
                sqlite3_finalize(*s);
}
#pragma GCC diagnostic pop
#define _cleanup_stmt_ _cleanup_(finalizep)

static int prepare(Catalog *c, const char *sql, sqlite3_stmt **ret) {
        int rc = sqlite3_prepare_v2(c->db, sql, -1, ret, NULL);
        if (rc != SQLITE_OK)
                return catalog_fail(c, rc, "prepare");
        return 0;
}

/* Binds each argument (NULL binds SQL NULL) as text, in order. */
static int bind_texts(Catalog *c, sqlite3_stmt *s, size_t n, const char *const *v) {
        for (size_t i = 0; i < n; i++) {
                int rc = sqlite3_bind_text(s, (int)i + 1, v[i], -1, SQLITE_TRANSIENT);
                if (rc != SQLITE_OK)
                        return catalog_fail(c, rc, "bind");
        }
        return 0;
}

static int exec_sql(Catalog *c, const char *sql) {
        int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return catalog_fail(c, rc, sql);
        return 0;
}

/* Runs a statement that returns no rows, with text arguments. Returns the
 * number of rows changed. */
static int run_texts(Catalog *c, const char *sql, size_t n, const char *const *v) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r, rc;

        r = prepare(c, sql, &s);
        if (r < 0)
                return r;
        r = bind_texts(c, s, n, v);
        if (r < 0)
                return r;
        rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return catalog_fail(c, rc, "step");
        return sqlite3_changes(c->db);
}

/* Collects the first column of every row as a string vector. */
static int query_strv(Catalog *c, const char *sql, size_t n, const char *const *v, char ***ret) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int r, rc;

        r = prepare(c, sql, &s);
        if (r < 0)
                return r;
        r = bind_texts(c, s, n, v);
        if (r < 0)
                return r;
        /* An empty result is an empty vector, not NULL. */
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                r = strv_extend(&l, (const char *)sqlite3_column_text(s, 0));
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return catalog_fail(c, rc, "step");
        *ret = TAKE_PTR(l);
        return 0;
}

static int migrate(Catalog *c) {
        int have = catalog_user_version(c);
        int r;

        if (have < 0)
                return have;
        if (have > catalog_schema_version())
                return log_error_errno(EPROTO,
                                       "catalog %s: schema version %d is newer than this "
                                       "goldroot's (%d): upgrade goldroot",
                                       c->path, have, catalog_schema_version());
        if (have == catalog_schema_version())
                return 0;

        r = catalog_begin(c);
        if (r < 0)
                return r;
        /* Another process may have migrated while we waited for the lock. */
        have = catalog_user_version(c);
        for (int v = have; v >= 0 && v < catalog_schema_version(); v++) {
                _cleanup_free_ char *bump = NULL;

                r = exec_sql(c, migrations[v]);
                if (r < 0)
                        goto fail;
                if (asprintf_safe(&bump, "PRAGMA user_version = %d", v + 1) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = exec_sql(c, bump);
                if (r < 0)
                        goto fail;
        }
        return catalog_commit(c);
fail:
        catalog_rollback(c);
        return r;
}

/* Replaces sqlite3_wal_autocheckpoint(64), whose PASSIVE checkpoint never
 * shrinks the WAL across processes: the WAL restarts from its beginning only
 * in a connection that saw it fully checkpointed, and each command's
 * connection is new, rebuilds the WAL index and counts nothing as
 * checkpointed. So once past 64 pages every write command scanned and
 * checkpointed the whole, ever-growing WAL again (three fdatasyncs for each
 * create). TRUNCATE empties it; it gives up at once (SQLITE_BUSY, having
 * done what PASSIVE would) rather than wait while another command reads. */
static int wal_hook(void *userdata, sqlite3 *db, const char *name, int pages) {
        if (pages < 64)
                return SQLITE_OK;
        sqlite3_busy_timeout(db, 0);
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        sqlite3_busy_timeout(db, 60000);
        return SQLITE_OK;
}

int catalog_open(const char *path, Catalog **ret) {
        Catalog *c;
        int rc, r;

        assert(path);
        assert(ret);
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->path = strdup(path);
        if (!c->path) {
                catalog_close(c);
                return -ENOMEM;
        }
        rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
        if (rc != SQLITE_OK) {
                r = c->db ? catalog_fail(c, rc, "open")
                          : log_error_errno(ENOMEM, "catalog %s: open: %m", path);
                catalog_close(c);
                return r;
        }
        /* Wait (up to a minute) for other goldroot commands rather than fail. */
        sqlite3_extended_result_codes(c->db, 1);
        sqlite3_busy_timeout(c->db, 60000);
        /* The last connection to close would checkpoint the WAL into the
         * database and fsync both: one command would pay for everyone's
         * writes. Checkpoint every 64 pages instead: few enough that the next
         * command's scan of the WAL (it rebuilds the WAL index when it is the
         * only connection) stays short, many enough to amortise the fsync. */
        sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        sqlite3_wal_hook(c->db, wal_hook, NULL);
        r = exec_sql(c, "PRAGMA journal_mode = WAL");
        /* In WAL mode NORMAL is still atomic and consistent after any crash;
         * only a power failure may roll back the last commits, never half of
         * one. FULL would cost an fsync per command, more than a whole clone. */
        if (r >= 0)
                r = exec_sql(c, "PRAGMA synchronous = NORMAL");
        /* ...and let a checkpoint truncate the WAL back to that size. */
        if (r >= 0)
                r = exec_sql(c, "PRAGMA journal_size_limit = 262144");
        if (r >= 0)
                r = exec_sql(c, "PRAGMA foreign_keys = ON");
        if (r >= 0)
                r = migrate(c);
        if (r < 0) {
                catalog_close(c);
                return r;
        }
        *ret = c;
        return 0;
}

Catalog *catalog_close(Catalog *c) {
        if (!c)
                return NULL;
        if (c->db)
                sqlite3_close_v2(c->db);
        free(c->path);
        free(c);
        return NULL;
}

int catalog_user_version(Catalog *c) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r, rc;

        r = prepare(c, "PRAGMA user_version", &s);
        if (r < 0)
                return r;
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW)
                return catalog_fail(c, rc, "user_version");
        return sqlite3_column_int(s, 0);
}

int catalog_begin(Catalog *c) {
        return exec_sql(c, "BEGIN IMMEDIATE");
}

int catalog_commit(Catalog *c) {
        int r = exec_sql(c, "COMMIT");
        if (r < 0)
                catalog_rollback(c);
        return r;
}

void catalog_rollback(Catalog *c) {
        if (!sqlite3_get_autocommit(c->db))
                (void)sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* The *_list_free() of each row type: the rows, then the array. */
#define DEFINE_ROW_LIST_FREE(name, type, free_row)                                                 \
        void name(type **l, size_t n) {                                                            \
                if (!l)                                                                            \
                        return;                                                                    \
                for (size_t i = 0; i < n; i++)                                                     \
                        free_row(l[i]);                                                            \
                free(l);                                                                           \
        }

ImageInfo *image_info_free(ImageInfo *i) {
        if (!i)
                return NULL;
        free(i->parent);
        free(i->base);
        free(i->hostname);
        free(i->address);
        strv_free(i->tags);
        free(i);
        return NULL;
}

DEFINE_ROW_LIST_FREE(image_info_list_free, ImageInfo, image_info_free)

int catalog_add_image(Catalog *c, const ImageInfo *img) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r, rc;

        assert(img);
        r = prepare(c,
                    "INSERT OR IGNORE INTO images (id, parent, created, size, files, hostname, "
                    "address, base) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    &s);
        if (r < 0)
                return r;
        if (sqlite3_bind_text(s, 1, img->id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
            sqlite3_bind_text(s, 2, img->parent, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
            sqlite3_bind_int64(s, 3, img->created) != SQLITE_OK ||
            sqlite3_bind_int64(s, 4, (sqlite3_int64)img->size) != SQLITE_OK ||
            sqlite3_bind_int64(s, 5, (sqlite3_int64)img->files) != SQLITE_OK ||
            sqlite3_bind_text(s, 6, img->hostname, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
            sqlite3_bind_text(s, 7, img->address, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
            sqlite3_bind_text(s, 8, img->base, -1, SQLITE_TRANSIENT) != SQLITE_OK)
                return catalog_fail(c, SQLITE_ERROR, "bind");
        rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return catalog_fail(c, rc, "add image");
        return sqlite3_changes(c->db) > 0 ? 1 : 0;
}

static char *column_strdup(sqlite3_stmt *s, int col) {
        const unsigned char *t = sqlite3_column_text(s, col);
        return t ? strdup((const char *)t) : NULL;
}

#define IMAGE_COLUMNS "id, parent, created, size, files, hostname, address, base"

static int image_from_row(Catalog *c, sqlite3_stmt *s, ImageInfo **ret) {
        ImageInfo *i;
        const unsigned char *id = sqlite3_column_text(s, 0);
        int r;

        i = calloc(1, sizeof *i);
        if (!i)
                return -ENOMEM;
        snprintf(i->id, sizeof i->id, "%s", id ? (const char *)id : "");
        i->parent = column_strdup(s, 1);
        i->created = sqlite3_column_int64(s, 2);
        i->size = (uint64_t)sqlite3_column_int64(s, 3);
        i->files = (uint64_t)sqlite3_column_int64(s, 4);
        i->hostname = column_strdup(s, 5);
        i->address = column_strdup(s, 6);
        i->base = column_strdup(s, 7);
        r = catalog_image_tags(c, i->id, &i->tags);
        if (r < 0) {
                image_info_free(i);
                return r;
        }
        *ret = i;
        return 0;
}

int catalog_get_image(Catalog *c, const char *id, ImageInfo **ret) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r, rc;

        r = prepare(c, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?", &s);
        if (r < 0)
                return r;
        r = bind_texts(c, s, 1, &id);
        if (r < 0)
                return r;
        rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return catalog_fail(c, rc, "get image");
        return image_from_row(c, s, ret);
}

int catalog_list_images(Catalog *c, ImageInfo ***ret, size_t *ret_n) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        ImageInfo **l = NULL;
        size_t n = 0;
        int r, rc;

        r = prepare(c, "SELECT " IMAGE_COLUMNS " FROM images ORDER BY created DESC, id", &s);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                ImageInfo **t = realloc(l, sizeof(ImageInfo *) * (n + 1));
                if (!t) {
                        image_info_list_free(l, n);
                        return -ENOMEM;
                }
                l = t;
                r = image_from_row(c, s, &l[n]);
                if (r < 0) {
                        image_info_list_free(l, n);
                        return r;
                }
                n++;
        }
        if (rc != SQLITE_DONE) {
                image_info_list_free(l, n);
                return catalog_fail(c, rc, "list images");
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

int catalog_image_ids(Catalog *c, const char *prefix, char ***ret) {
        _cleanup_free_ char *pattern = NULL;
        const char *v[1];

        assert(prefix);
        /* Ids are hex, so a prefix has no LIKE wildcards; substr keeps it exact. */
        pattern = strdup(prefix);
        if (!pattern)
                return -ENOMEM;
        v[0] = pattern;
        return query_strv(c,
                          "SELECT id FROM images WHERE substr(id, 1, length(?1)) = ?1 "
                          "ORDER BY id",
                          1, v, ret);
}

int catalog_remove_image(Catalog *c, const char *id) {
        _cleanup_strv_free_ char **links = NULL;
        int r;

        r = catalog_image_links(c, id, &links);
        if (r < 0)
                return r;
        if (links[0])
                return -EBUSY;
        r = run_texts(c, "DELETE FROM images WHERE id = ?", 1, (const char *[]){id});
        if (r < 0)
                return r;
        return r > 0 ? 0 : -ENOENT;
}

int catalog_image_dependants(Catalog *c, const char *id, char ***ret) {
        return query_strv(c, "SELECT id FROM images WHERE base = ? ORDER BY id", 1,
                          (const char *[]){id}, ret);
}

int catalog_set_image_base(Catalog *c, const char *id, const char *base) {
        int r = run_texts(c, "UPDATE images SET base = ?2 WHERE id = ?1", 2,
                          (const char *[]){id, base});
        if (r < 0)
                return r;
        return r > 0 ? 0 : -ENOENT;
}

int catalog_newest_image_named(Catalog *c, const char *name, char **ret_id) {
        _cleanup_strv_free_ char **ids = NULL;
        int r;

        r = query_strv(c,
                       "SELECT images.id FROM images JOIN tags ON tags.image = images.id "
                       "WHERE tags.name = ? "
                       "ORDER BY images.created DESC, images.rowid DESC LIMIT 1",
                       1, (const char *[]){name}, &ids);
        if (r < 0)
                return r;
        if (!ids[0])
                return -ENOENT;
        *ret_id = strdup(ids[0]);
        return *ret_id ? 0 : -ENOMEM;
}

int catalog_set_tag(Catalog *c, const char *name, const char *tag, const char *id) {
        int r = run_texts(c,
                          "INSERT INTO tags (name, tag, image) VALUES (?, ?, ?) "
                          "ON CONFLICT (name, tag) DO UPDATE SET image = excluded.image",
                          3, (const char *[]){name, tag, id});
        return r < 0 ? r : 0;
}

int catalog_get_tag(Catalog *c, const char *name, const char *tag, char **ret_id) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = query_strv(c, "SELECT image FROM tags WHERE name = ? AND tag = ?", 2,
                       (const char *[]){name, tag}, &l);
        if (r < 0)
                return r;
        if (!l[0])
                return -ENOENT;
        *ret_id = TAKE_PTR(l[0]);
        return 0;
}

int catalog_remove_tag(Catalog *c, const char *name, const char *tag) {
        int r = run_texts(c, "DELETE FROM tags WHERE name = ? AND tag = ?", 2,
                          (const char *[]){name, tag});
        if (r < 0)
                return r;
        return r > 0 ? 0 : -ENOENT;
}

int catalog_image_tags(Catalog *c, const char *id, char ***ret) {
        return query_strv(c,
                          "SELECT name || ':' || tag FROM tags WHERE image = ? "
                          "ORDER BY name, tag",
                          1, (const char *[]){id}, ret);
}

int catalog_link_instance(Catalog *c, const char *name, const char *image_id, const char *mode) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r, rc;

        assert(name);
        assert(image_id);
        r = prepare(c,
                    "INSERT INTO instances (name, image, mode, created) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET image = excluded.image",
                    &s);
        if (r < 0)
                return r;
        r = bind_texts(c, s, 3, (const char *[]){name, image_id, mode ?: "ro"});
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(s, 4, (sqlite3_int64)time(NULL)) != SQLITE_OK)
                return catalog_fail(c, SQLITE_ERROR, "bind");
        rc = sqlite3_step(s);
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
                return -ENOENT;
        if (rc != SQLITE_DONE)
                return catalog_fail(c, rc, "link instance");
        return 0;
}

int catalog_unlink_instance(Catalog *c, const char *name) {
        int r = run_texts(c, "DELETE FROM instances WHERE name = ?", 1, (const char *[]){name});
        if (r < 0)
                return r;
        return r > 0 ? 0 : -ENOENT;
}

int catalog_image_links(Catalog *c, const char *id, char ***ret) {
        return query_strv(c, "SELECT name FROM instances WHERE image = ? ORDER BY name", 1,
                          (const char *[]){id}, ret);
}

InstanceRow *instance_row_free(InstanceRow *i) {
        if (!i)
                return NULL;
        free(i->name);
        free(i->mode);
        free(i);
        return NULL;
}

DEFINE_ROW_LIST_FREE(instance_row_list_free, InstanceRow, instance_row_free)

int catalog_add_instance(Catalog *c, const char *name, const char *image_id, const char *mode) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r, rc;

        assert(name);
        assert(image_id);
        r = prepare(c, "INSERT INTO instances (name, image, mode, created) VALUES (?, ?, ?, ?)",
                    &s);
        if (r < 0)
                return r;
        r = bind_texts(c, s, 3, (const char *[]){name, image_id, mode ?: "ro"});
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(s, 4, (sqlite3_int64)time(NULL)) != SQLITE_OK)
                return catalog_fail(c, SQLITE_ERROR, "bind");
        rc = sqlite3_step(s);
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
                return -ENOENT;
        if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
                return -EEXIST;
        if (rc != SQLITE_DONE)
                return catalog_fail(c, rc, "add instance");
        return 0;
}

#define INSTANCE_COLUMNS "name, image, mode, created"

static int instance_from_row(sqlite3_stmt *s, InstanceRow **ret) {
        const unsigned char *image = sqlite3_column_text(s, 1);
        InstanceRow *i;

        i = calloc(1, sizeof *i);
        if (!i)
                return -ENOMEM;
        i->name = column_strdup(s, 0);
        snprintf(i->image, sizeof i->image, "%s", image ? (const char *)image : "");
        i->mode = column_strdup(s, 2);
        i->created = sqlite3_column_int64(s, 3);
        if (!i->name || !i->mode) {
                instance_row_free(i);
                return -ENOMEM;
        }
        *ret = i;
        return 0;
}

int catalog_get_instance(Catalog *c, const char *name, InstanceRow **ret) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r, rc;

        r = prepare(c, "SELECT " INSTANCE_COLUMNS " FROM instances WHERE name = ?", &s);
        if (r < 0)
                return r;
        r = bind_texts(c, s, 1, &name);
        if (r < 0)
                return r;
        rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return catalog_fail(c, rc, "get instance");
        return instance_from_row(s, ret);
}

int catalog_list_instances(Catalog *c, InstanceRow ***ret, size_t *ret_n) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        InstanceRow **l = NULL;
        size_t n = 0;
        int r, rc;

        r = prepare(c, "SELECT " INSTANCE_COLUMNS " FROM instances ORDER BY name", &s);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                InstanceRow **t = realloc(l, sizeof(InstanceRow *) * (n + 1));
                if (!t) {
                        instance_row_list_free(l, n);
                        return -ENOMEM;
                }
                l = t;
                r = instance_from_row(s, &l[n]);
                if (r < 0) {
                        instance_row_list_free(l, n);
                        return r;
                }
                n++;
        }
        if (rc != SQLITE_DONE) {
                instance_row_list_free(l, n);
                return catalog_fail(c, rc, "list instances");
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

int catalog_set_image_identity(Catalog *c, const char *id, const char *hostname,
                               const char *address) {
        int r = run_texts(c, "UPDATE images SET hostname = ?, address = ? WHERE id = ?", 3,
                          (const char *[]){hostname, address, id});
        if (r < 0)
                return r;
        return r == 0 ? -ENOENT : 0;
}

BackupRow *backup_row_free(BackupRow *b) {
        if (!b)
                return NULL;
        free(b->instance);
        free(b->dir);
        free(b->phase);
        free(b);
        return NULL;
}

int catalog_set_backup(Catalog *c, const char *instance, const char *image_id, const char *dir) {
        _cleanup_free_ char *now = NULL;
        int r;

        if (asprintf_safe(&now, "%lld", (long long)time(NULL)) < 0)
                return -ENOMEM;
        r = run_texts(c,
                      "INSERT INTO backups (instance, image, dir, phase, created) "
                      "VALUES (?, ?, ?, 'ready', CAST(? AS INTEGER)) "
                      "ON CONFLICT (instance) DO UPDATE SET image = excluded.image, "
                      "dir = excluded.dir, phase = 'ready', created = excluded.created",
                      4, (const char *[]){instance, image_id, dir, now});
        return r < 0 ? r : 0;
}

int catalog_get_backup(Catalog *c, const char *instance, BackupRow **ret) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        _cleanup_(backup_row_freep) BackupRow *b = NULL;
        const unsigned char *image;
        int r, rc;

        r = prepare(c,
                    "SELECT instance, image, dir, phase, created FROM backups WHERE instance = ?",
                    &s);
        if (r < 0)
                return r;
        r = bind_texts(c, s, 1, &instance);
        if (r < 0)
                return r;
        rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return catalog_fail(c, rc, "get backup");
        b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->instance = column_strdup(s, 0);
        image = sqlite3_column_text(s, 1);
        snprintf(b->image, sizeof b->image, "%s", image ? (const char *)image : "");
        b->dir = column_strdup(s, 2);
        b->phase = column_strdup(s, 3);
        b->created = sqlite3_column_int64(s, 4);
        if (!b->instance || !b->dir || !b->phase)
                return -ENOMEM;
        *ret = TAKE_PTR(b);
        return 0;
}

int catalog_image_backups(Catalog *c, const char *image, char ***ret) {
        return query_strv(c, "SELECT instance FROM backups WHERE image = ? ORDER BY instance", 1,
                          (const char *[]){image}, ret);
}

int catalog_set_backup_phase(Catalog *c, const char *instance, const char *phase) {
        int r = run_texts(c, "UPDATE backups SET phase = ? WHERE instance = ?", 2,
                          (const char *[]){phase, instance});
        if (r < 0)
                return r;
        return r == 0 ? -ENOENT : 0;
}

int catalog_remove_backup(Catalog *c, const char *instance) {
        int r = run_texts(c, "DELETE FROM backups WHERE instance = ?", 1,
                          (const char *[]){instance});
        if (r < 0)
                return r;
        return r == 0 ? -ENOENT : 0;
}

OpRow *op_row_free(OpRow *o) {
        if (!o)
                return NULL;
        free(o->kind);
        free(o->subject);
        free(o->phase);
        free(o->args);
        free(o);
        return NULL;
}

DEFINE_ROW_LIST_FREE(op_row_list_free, OpRow, op_row_free)

int catalog_add_op(Catalog *c, const char *kind, const char *subject, const char *args,
                   int64_t *ret_id) {
        _cleanup_free_ char *now = NULL;
        int r;

        assert(kind && subject && ret_id);
        if (asprintf_safe(&now, "%lld", (long long)time(NULL)) < 0)
                return -ENOMEM;
        r = run_texts(c,
                      "INSERT INTO operations (kind, subject, args, started) "
                      "VALUES (?, ?, ?, CAST(? AS INTEGER))",
                      4, (const char *[]){kind, subject, args ?: "", now});
        if (r < 0)
                return r;
        *ret_id = sqlite3_last_insert_rowid(c->db);
        return 0;
}

/* Runs sql with ?1 = text (may be NULL: not bound) and ?2 = id. */
static int run_op(Catalog *c, const char *sql, const char *text, int64_t id) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r, rc;

        r = prepare(c, sql, &s);
        if (r < 0)
                return r;
        if ((text && sqlite3_bind_text(s, 1, text, -1, SQLITE_TRANSIENT) != SQLITE_OK) ||
            sqlite3_bind_int64(s, 2, id) != SQLITE_OK)
                return catalog_fail(c, SQLITE_ERROR, "bind");
        rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return catalog_fail(c, rc, "operations");
        return sqlite3_changes(c->db) > 0 ? 0 : -ENOENT;
}

int catalog_set_op_args(Catalog *c, int64_t id, const char *args) {
        return run_op(c, "UPDATE operations SET args = ?1 WHERE id = ?2", args, id);
}

int catalog_set_op_committed(Catalog *c, int64_t id) {
        return run_op(c, "UPDATE operations SET phase = 'committed' WHERE id = ?2", NULL, id);
}

int catalog_remove_op(Catalog *c, int64_t id) {
        return run_op(c, "DELETE FROM operations WHERE id = ?2", NULL, id);
}

int catalog_list_ops(Catalog *c, OpRow ***ret, size_t *ret_n) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        OpRow **l = NULL;
        size_t n = 0;
        int r, rc;

        r = prepare(c, "SELECT id, kind, subject, phase, args, started FROM operations ORDER BY id",
                    &s);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                OpRow **t = realloc(l, sizeof(OpRow *) * (n + 1));
                OpRow *o = calloc(1, sizeof *o);
                if (!t || !o) {
                        free(o);
                        op_row_list_free(t ?: l, n);
                        return -ENOMEM;
                }
                l = t;
                l[n++] = o;
                o->id = sqlite3_column_int64(s, 0);
                o->kind = column_strdup(s, 1);
                o->subject = column_strdup(s, 2);
                o->phase = column_strdup(s, 3);
                o->args = column_strdup(s, 4);
                o->started = sqlite3_column_int64(s, 5);
                if (!o->kind || !o->subject || !o->phase || !o->args) {
                        op_row_list_free(l, n);
                        return -ENOMEM;
                }
        }
        if (rc != SQLITE_DONE) {
                op_row_list_free(l, n);
                return catalog_fail(c, rc, "list operations");
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

/* Collects every row of a check pragma that is not "ok". */
static int check_pragma(Catalog *c, const char *sql, char ***problems) {
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r, rc;

        r = prepare(c, sql, &s);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                _cleanup_free_ char *line = NULL;
                int cols = sqlite3_column_count(s);

                for (int k = 0; k < cols; k++) {
                        const char *t = (const char *)sqlite3_column_text(s, k);
                        char *n = strjoin(line ?: "", line ? " " : "", t ?: "-");
                        if (!n)
                                return -ENOMEM;
                        free(line);
                        line = n;
                }
                if (line && streq(line, "ok"))
                        continue;
                r = strv_consume(problems, TAKE_PTR(line));
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return catalog_fail(c, rc, sql);
        return 0;
}

int catalog_check(Catalog *c, char ***ret_problems) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        r = check_pragma(c, "PRAGMA integrity_check", &l);
        if (r >= 0)
                r = check_pragma(c, "PRAGMA foreign_key_check", &l);
        if (r < 0)
                return r;
        *ret_problems = TAKE_PTR(l);
        return 0;
}
