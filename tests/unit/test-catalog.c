/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for catalog.c: schema and migrations, images, tags and the
 * instance links that protect images from removal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "catalog.h"
#include "fsutil.h"
#include "util.h"

#include <math.h>
#include <sqlite3.h>

#define ID_A "aaaa000000000000000000000000000000000000000000000000000000000001"
#define ID_A2 "aaaa000000000000000000000000000000000000000000000000000000000002"
#define ID_B "bbbb000000000000000000000000000000000000000000000000000000000001"

typedef struct Fixture {
        char dir[32];
        char *db;
        Catalog *c;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        assert_non_null(f);
        strcpy(f->dir, "/tmp/gr-catalog-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->db = path_join(f->dir, "catalog.db");
        assert_int_equal(catalog_open(f->db, &f->c), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        catalog_close(f->c);
        assert_int_equal(rm_rf_at(AT_FDCWD, f->dir), 0);
        free(f->db);
        free(f);
        return 0;
}

static void add(Catalog *c, const char *id, int64_t created) {
        ImageInfo i = {.created = created, .size = 100, .files = 3};
        strcpy(i.id, id);
        assert_int_equal(catalog_add_image(c, &i), 1);
}

/* Runs one SQL statement on a separate connection and returns its first
 * column as text (or NULL). */
static char *raw_query(const char *db, const char *sql) {
        sqlite3 *h = NULL;
        sqlite3_stmt *s = NULL;
        char *r = NULL;

        assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
                r = strdup((const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
        sqlite3_close(h);
        return r;
}

static void test_schema(void **state) {
        Fixture *f = *state;
        char *mode;

        assert_int_equal(catalog_user_version(f->c), catalog_schema_version());
        assert_true(catalog_schema_version() >= 1);
        mode = raw_query(f->db, "PRAGMA journal_mode");
        assert_string_equal(mode, "wal");
        free(mode);

        /* Reopening an up-to-date catalog changes nothing. */
        catalog_close(f->c);
        assert_int_equal(catalog_open(f->db, &f->c), 0);
        assert_int_equal(catalog_user_version(f->c), catalog_schema_version());
}

static void test_newer_schema_refused(void **state) {
        Fixture *f = *state;
        Catalog *c = NULL;
        char *buf = NULL;
        size_t len = 0;
        FILE *log = open_memstream(&buf, &len);
        free(raw_query(f->db, "PRAGMA user_version = 999"));

        log_set_stream(log);
        assert_int_equal(catalog_open(f->db, &c), -EPROTO);
        log_set_stream(NULL);
        fclose(log);
        assert_null(c);
        assert_non_null(strstr(buf, "schema version 999 is newer"));
        free(buf);
}

static void test_images_and_tags(void **state) {
        Fixture *f = *state;
        ImageInfo *i = NULL, **l = NULL;
        char **ids = NULL, *id = NULL;
        size_t n = 0;
        ImageInfo dup = {.created = 5};

        add(f->c, ID_A, 10);
        add(f->c, ID_B, 20);
        strcpy(dup.id, ID_A);
        assert_int_equal(catalog_add_image(f->c, &dup), 0); /* already there */

        assert_int_equal(catalog_set_tag(f->c, "base", "v1", ID_A), 0);
        assert_int_equal(catalog_set_tag(f->c, "base", "gold", ID_A), 0);
        assert_int_equal(catalog_get_tag(f->c, "base", "gold", &id), 0);
        assert_string_equal(id, ID_A);
        free(id);

        /* Moving a tag is one upsert. */
        assert_int_equal(catalog_set_tag(f->c, "base", "gold", ID_B), 0);
        assert_int_equal(catalog_get_tag(f->c, "base", "gold", &id), 0);
        assert_string_equal(id, ID_B);
        free(id);
        assert_int_equal(catalog_get_tag(f->c, "base", "nope", &id), -ENOENT);

        assert_int_equal(catalog_get_image(f->c, ID_A, &i), 0);
        assert_int_equal(i->created, 10);
        assert_int_equal(i->size, 100);
        assert_int_equal(i->files, 3);
        assert_null(i->parent);
        assert_string_equal(i->tags[0], "base:v1");
        assert_null(i->tags[1]);
        image_info_free(i);
        assert_int_equal(catalog_get_image(f->c, ID_A2, &i), -ENOENT);

        assert_int_equal(catalog_list_images(f->c, &l, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(l[0]->id, ID_B); /* newest first */
        assert_string_equal(l[0]->tags[0], "base:gold");
        image_info_list_free(l, n);

        add(f->c, ID_A2, 30);
        assert_int_equal(catalog_image_ids(f->c, "aaaa", &ids), 0);
        assert_int_equal(strv_length(ids), 2);
        strv_free(ids);
        assert_int_equal(catalog_image_ids(f->c, "bbbb", &ids), 0);
        assert_int_equal(strv_length(ids), 1);
        strv_free(ids);
        assert_int_equal(catalog_image_ids(f->c, "cccc", &ids), 0);
        assert_null(ids[0]);
        strv_free(ids);

        assert_int_equal(catalog_remove_tag(f->c, "base", "v1"), 0);
        assert_int_equal(catalog_remove_tag(f->c, "base", "v1"), -ENOENT);
}

static void test_parent(void **state) {
        Fixture *f = *state;
        ImageInfo child = {.created = 2, .parent = (char *)ID_A}, *i = NULL;

        add(f->c, ID_A, 1);
        strcpy(child.id, ID_B);
        assert_int_equal(catalog_add_image(f->c, &child), 1);
        assert_int_equal(catalog_get_image(f->c, ID_B, &i), 0);
        assert_string_equal(i->parent, ID_A);
        image_info_free(i);
        /* Removing the parent keeps the child, without a parent. */
        assert_int_equal(catalog_remove_image(f->c, ID_A), 0);
        assert_int_equal(catalog_get_image(f->c, ID_B, &i), 0);
        assert_null(i->parent);
        image_info_free(i);
}

static void test_links_protect_images(void **state) {
        Fixture *f = *state;
        char **links = NULL, **ids = NULL, *id = NULL;

        add(f->c, ID_A, 1);
        add(f->c, ID_B, 2);
        assert_int_equal(catalog_set_tag(f->c, "base", "v1", ID_A), 0);
        assert_int_equal(catalog_link_instance(f->c, "web2", ID_A, "ro"), 0);
        assert_int_equal(catalog_link_instance(f->c, "web1", ID_A, "rw"), 0);
        assert_int_equal(catalog_link_instance(f->c, "ghost", ID_A2, "ro"), -ENOENT);

        assert_int_equal(catalog_image_links(f->c, ID_A, &links), 0);
        assert_int_equal(strv_length(links), 2);
        assert_string_equal(links[0], "web1");
        assert_string_equal(links[1], "web2");
        strv_free(links);

        assert_int_equal(catalog_remove_image(f->c, ID_A), -EBUSY);

        /* An upgrade moves an instance to another image. */
        assert_int_equal(catalog_link_instance(f->c, "web1", ID_B, "rw"), 0);
        assert_int_equal(catalog_unlink_instance(f->c, "web2"), 0);
        assert_int_equal(catalog_unlink_instance(f->c, "web2"), -ENOENT);
        assert_int_equal(catalog_image_links(f->c, ID_B, &links), 0);
        assert_string_equal(links[0], "web1");
        strv_free(links);

        assert_int_equal(catalog_remove_image(f->c, ID_A), 0);
        assert_int_equal(catalog_remove_image(f->c, ID_A), -ENOENT);
        /* Its tags went with it. */
        assert_int_equal(catalog_get_tag(f->c, "base", "v1", &id), -ENOENT);
        assert_int_equal(catalog_image_ids(f->c, "", &ids), 0);
        assert_int_equal(strv_length(ids), 1);
        strv_free(ids);
}

static void test_transaction_rollback(void **state) {
        Fixture *f = *state;
        char *id = NULL;

        add(f->c, ID_A, 1);
        assert_int_equal(catalog_begin(f->c), 0);
        assert_int_equal(catalog_set_tag(f->c, "base", "v1", ID_A), 0);
        catalog_rollback(f->c);
        assert_int_equal(catalog_get_tag(f->c, "base", "v1", &id), -ENOENT);
        catalog_rollback(f->c); /* no transaction: harmless */

        assert_int_equal(catalog_begin(f->c), 0);
        assert_int_equal(catalog_set_tag(f->c, "base", "v1", ID_A), 0);
        assert_int_equal(catalog_commit(f->c), 0);
        assert_int_equal(catalog_get_tag(f->c, "base", "v1", &id), 0);
        free(id);
}

/* SQLite's SQL math functions still work, through libm loaded at their
 * first call (sqlite-math.c). That goldroot itself does not load libm is
 * checked on the binary (tests/cli/run-rm.bats): the sanitizers this test
 * may be built with load it anyway. */
static void test_sql_math_loads_libm(void **state) {
        sqlite3 *db;
        sqlite3_stmt *st;
        static const struct {
                const char *sql;
                double want;
        } cases[] = {
                {"SELECT sin(0.5)", 0.479425538604203},
                {"SELECT pow(2, 10)", 1024},
                {"SELECT atan2(1, 1) * 4", 3.14159265358979},
                {"SELECT mod(7.5, 2)", 1.5},
                {"SELECT trunc(-2.7)", -2},
                {"SELECT sqrt(16) + ln(1) + exp(0)", 5},
        };

        (void)state;
        assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
        for (size_t k = 0; k < ELEMENTSOF(cases); k++) {
                assert_int_equal(sqlite3_prepare_v2(db, cases[k].sql, -1, &st, NULL), SQLITE_OK);
                assert_int_equal(sqlite3_step(st), SQLITE_ROW);
                assert_true(fabs(sqlite3_column_double(st, 0) - cases[k].want) < 1e-12);
                sqlite3_finalize(st);
        }
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sql_math_loads_libm),
                cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
                cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_images_and_tags, setup, teardown),
                cmocka_unit_test_setup_teardown(test_parent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_links_protect_images, setup, teardown),
                cmocka_unit_test_setup_teardown(test_transaction_rollback, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
