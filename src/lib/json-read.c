/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * json-read: values out of JSON documents through an in-memory SQLite
 * connection's json_extract(), json_type() and json_array_length().
 */
#include "json-read.h"

#include "util.h"

#include <sqlite3.h>

struct JsonReader {
        sqlite3 *db;
        sqlite3_stmt *get; /* value and type at a path */
        sqlite3_stmt *len; /* type and array length at a path */
};

int json_reader_new(JsonReader **ret) {
        JsonReader *j = calloc(1, sizeof *j);

        if (!j)
                return -ENOMEM;
        if (sqlite3_open_v2(":memory:", &j->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(j->db, "SELECT json_extract(?1, ?2), json_type(?1, ?2)", -1, &j->get,
                               NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(j->db, "SELECT json_type(?1, ?2), json_array_length(?1, ?2)", -1,
                               &j->len, NULL) != SQLITE_OK) {
                json_reader_free(j);
                return -ENOMEM;
        }
        *ret = j;
        return 0;
}

JsonReader *json_reader_free(JsonReader *j) {
        if (!j)
                return NULL;
        sqlite3_finalize(j->get);
        sqlite3_finalize(j->len);
        sqlite3_close(j->db);
        free(j);
        return NULL;
}

/* Binds doc and path and steps once: 0 with a row, -EBADMSG if SQLite
 * refused the document (malformed JSON or a bad path). */
static int run(sqlite3_stmt *st, const char *doc, const char *path) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC) != SQLITE_OK)
                return -ENOMEM;
        return sqlite3_step(st) == SQLITE_ROW ? 0 : -EBADMSG;
}

int json_reader_get(JsonReader *j, const char *doc, const char *path, char **ret, char **ret_type) {
        _cleanup_free_ char *v = NULL, *t = NULL;
        const unsigned char *cv, *ct;
        int r;

        assert(j && doc && path && ret);
        r = run(j->get, doc, path);
        if (r >= 0) {
                cv = sqlite3_column_text(j->get, 0);
                ct = sqlite3_column_text(j->get, 1);
                if (!cv || !ct || streq((const char *)ct, "null"))
                        r = -ENOENT;
                else if (!(v = strdup((const char *)cv)) || !(t = strdup((const char *)ct)))
                        r = -ENOMEM;
        }
        sqlite3_reset(j->get);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        if (ret_type)
                *ret_type = TAKE_PTR(t);
        return 0;
}

int json_reader_array_length(JsonReader *j, const char *doc, const char *path, size_t *ret) {
        const unsigned char *t;
        int r;

        assert(j && doc && path && ret);
        r = run(j->len, doc, path);
        if (r >= 0) {
                t = sqlite3_column_text(j->len, 0);
                if (!t || streq((const char *)t, "null"))
                        r = -ENOENT;
                else if (!streq((const char *)t, "array"))
                        r = -EMEDIUMTYPE;
                else
                        *ret = (size_t)sqlite3_column_int64(j->len, 1);
        }
        sqlite3_reset(j->len);
        return r;
}
