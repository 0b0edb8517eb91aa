/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for oplog.c and the catalog's operations table: rows from
 * intent to end, their arguments, the committed phase, and that a rolled
 * back transaction takes its journal changes with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "catalog.h"
#include "fsutil.h"
#include "oplog.h"
#include "util.h"

typedef struct Fixture {
        char dir[32];
        char *db;
        Catalog *c;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        assert_non_null(f);
        strcpy(f->dir, "/tmp/gr-oplog-XXXXXX");
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

static size_t count_ops(Catalog *c, OpRow ***ret) {
        OpRow **l = NULL;
        size_t n = 0;
        assert_int_equal(catalog_list_ops(c, &l, &n), 0);
        if (ret)
                *ret = l;
        else
                op_row_list_free(l, n);
        return n;
}

static void test_begin_args_end(void **state) {
        Fixture *f = *state;
        int64_t a, b;
        OpRow **l;
        char *v;

        assert_int_equal(oplog_begin(f->c, OP_UPGRADE, "web", &a, "from", "x1", "to", "x2",
                                     "skipped", NULL, "token", "t", NULL),
                         0);
        assert_int_equal(oplog_begin(f->c, OP_GC, "objects", &b, NULL), 0);
        assert_true(b > a);
        assert_int_equal(count_ops(f->c, &l), 2);
        assert_string_equal(l[0]->kind, "upgrade");
        assert_string_equal(l[0]->subject, "web");
        assert_string_equal(l[0]->phase, "intent");
        assert_int_equal(oplog_arg(l[0], "to", &v), 0);
        assert_string_equal(v, "x2");
        free(v);
        assert_int_equal(oplog_arg(l[0], "token", &v), 0);
        assert_string_equal(v, "t");
        free(v);
        /* A NULL value leaves the key out; a prefix of a key is not the key. */
        assert_int_equal(oplog_arg(l[0], "skipped", &v), 0);
        assert_null(v);
        assert_int_equal(oplog_arg(l[0], "t", &v), 0);
        assert_null(v);
        op_row_list_free(l, 2);

        assert_int_equal(oplog_set_args(f->c, a, "to", "x3", NULL), 0);
        assert_int_equal(oplog_committed(f->c, a), 0);
        assert_int_equal(count_ops(f->c, &l), 2);
        assert_string_equal(l[0]->phase, "committed");
        assert_int_equal(oplog_arg(l[0], "to", &v), 0);
        assert_string_equal(v, "x3");
        free(v);
        assert_int_equal(oplog_arg(l[0], "from", &v), 0);
        assert_null(v); /* replaced, not merged */
        op_row_list_free(l, 2);

        assert_int_equal(oplog_end(f->c, a), 0);
        assert_int_equal(oplog_end(f->c, a), 0); /* ending twice is harmless */
        assert_int_equal(count_ops(f->c, NULL), 1);
        oplog_abandon(f->c, b);
        assert_int_equal(count_ops(f->c, NULL), 0);
}

/* The end of an operation lives in its publishing transaction: a rollback
 * keeps the row, a commit removes it together with the result. */
static void test_end_in_transaction(void **state) {
        Fixture *f = *state;
        int64_t a;

        assert_int_equal(oplog_begin(f->c, OP_CREATE, "web", &a, NULL), 0);
        assert_int_equal(catalog_begin(f->c), 0);
        assert_int_equal(oplog_end(f->c, a), 0);
        catalog_rollback(f->c);
        assert_int_equal(count_ops(f->c, NULL), 1);
        assert_int_equal(catalog_begin(f->c), 0);
        assert_int_equal(oplog_committed(f->c, a), 0);
        catalog_rollback(f->c);
        {
                OpRow **l;
                assert_int_equal(count_ops(f->c, &l), 1);
                assert_string_equal(l[0]->phase, "intent");
                op_row_list_free(l, 1);
        }
        assert_int_equal(catalog_begin(f->c), 0);
        assert_int_equal(oplog_end(f->c, a), 0);
        assert_int_equal(catalog_commit(f->c), 0);
        assert_int_equal(count_ops(f->c, NULL), 0);
}

static void test_catalog_check(void **state) {
        Fixture *f = *state;
        char **problems = NULL;

        assert_int_equal(catalog_check(f->c, &problems), 0);
        assert_non_null(problems);
        assert_null(problems[0]);
        strv_free(problems);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_begin_args_end, setup, teardown),
                cmocka_unit_test_setup_teardown(test_end_in_transaction, setup, teardown),
                cmocka_unit_test_setup_teardown(test_catalog_check, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
