/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for textmerge.c: the Myers line diff and the diff3 merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "textmerge.h"
#include "util.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Merges NUL-terminated strings; returns the conflict count, output in *ret. */
static int merge(const char *base, const char *ours, const char *theirs, char **ret) {
        size_t len = 0;
        int r = text_merge3(base, strlen(base), ours, strlen(ours), theirs, strlen(theirs), ret,
                            &len);
        if (r >= 0)
                assert_int_equal(len, strlen(*ret));
        return r;
}

static void expect_clean(const char *base, const char *ours, const char *theirs, const char *want) {
        char *out = NULL;
        assert_int_equal(merge(base, ours, theirs, &out), 0);
        assert_string_equal(out, want);
        free(out);
}

static void test_clean_nonoverlapping(void **state) {
        (void)state;
        expect_clean("a\nb\nc\nd\ne\n", "A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n", "A\nb\nc\nd\nE\n");
        /* A deletion on one side and an edit elsewhere on the other. */
        expect_clean("1\n2\n3\n4\n5\n6\n", "1\n3\n4\n5\n6\n", "1\n2\n3\n4\n5\nsix\n",
                     "1\n3\n4\n5\nsix\n");
        /* Only one side changed anything. */
        expect_clean("x\ny\n", "x\ny\n", "x\nY\nz\n", "x\nY\nz\n");
        expect_clean("x\ny\n", "w\nx\ny\n", "x\ny\n", "w\nx\ny\n");
        /* Both sides inserted different lines in different places. */
        expect_clean("port 22\nlisten any\nlog info\n", "port 2222\nlisten any\nlog info\n",
                     "port 22\nlisten any\nlog info\nbanner /etc/issue\n",
                     "port 2222\nlisten any\nlog info\nbanner /etc/issue\n");
}

static void test_identical_edits(void **state) {
        (void)state;
        expect_clean("a\nb\nc\n", "a\nB\nc\n", "a\nB\nc\n", "a\nB\nc\n");
        /* The same edit plus a separate edit on one side. */
        expect_clean("a\nb\nc\nd\ne\n", "a\nB\nc\nd\ne\n", "a\nB\nc\nd\nE\n", "a\nB\nc\nd\nE\n");
        /* Both deleted everything. */
        expect_clean("a\nb\n", "", "", "");
}

static void test_conflict(void **state) {
        char *out = NULL;
        (void)state;
        assert_int_equal(merge("a\nb\nc\n", "a\nours\nc\n", "a\ntheirs\nc\n", &out), 1);
        assert_string_equal(out, "a\n"
                                 "<<<<<<< ours\nours\n"
                                 "||||||| base\nb\n"
                                 "=======\ntheirs\n"
                                 ">>>>>>> theirs\n"
                                 "c\n");
        free(out);

        /* Two separate conflicts, with a clean change between them. */
        assert_int_equal(merge("1\n2\n3\n4\n5\n", "o1\n2\n3\n4\no5\n", "t1\n2\nt3\n4\nt5\n", &out),
                         2);
        assert_non_null(strstr(out, "2\nt3\n4\n"));
        free(out);

        /* Adjacent edits have no stable line between them: a conflict, as in diff3. */
        assert_int_equal(merge("a\nb\n", "A\nb\n", "a\nB\n", &out), 1);
        free(out);

        /* Deleted on one side, edited on the other. */
        assert_int_equal(merge("k=1\nx\n", "x\n", "k=2\nx\n", &out), 1);
        free(out);
}

static void test_insertions_at_edges(void **state) {
        char *out = NULL;
        (void)state;
        /* Start on one side, end on the other. */
        expect_clean("m\n", "first\nm\n", "m\nlast\n", "first\nm\nlast\n");
        /* The same insertion at the start on both sides is taken once. */
        expect_clean("m\n", "h\nm\n", "h\nm\nt\n", "h\nm\nt\n");
        /* Different insertions at the same place conflict. */
        assert_int_equal(merge("m\n", "m\nours\n", "m\ntheirs\n", &out), 1);
        assert_string_equal(out, "m\n<<<<<<< ours\nours\n||||||| base\n=======\ntheirs\n"
                                 ">>>>>>> theirs\n");
        free(out);
        assert_int_equal(merge("m\n", "o\nm\n", "t\nm\n", &out), 1);
        free(out);
}

static void test_empty(void **state) {
        char *out = NULL;
        (void)state;
        expect_clean("", "", "", "");
        expect_clean("", "new\n", "", "new\n");
        expect_clean("", "", "new\n", "new\n");
        expect_clean("", "same\n", "same\n", "same\n");
        expect_clean("gone\n", "", "gone\n", "");
        /* Both sides added different content to an empty base. */
        assert_int_equal(merge("", "a\n", "b\n", &out), 1);
        free(out);
}

static void test_no_trailing_newline(void **state) {
        char *out = NULL;
        (void)state;
        expect_clean("a\nb\nc", "A\nb\nc", "a\nb\nC", "A\nb\nC");
        /* Adding the final newline is an edit of the last line. */
        expect_clean("a\nb\nc", "A\nb\nc", "a\nb\nc\n", "A\nb\nc\n");
        expect_clean("a\nb\nc", "a\nb\nc\n", "a\nb\nc\n", "a\nb\nc\n");
        /* Markers still start their own lines when a side has no final newline. */
        assert_int_equal(merge("x\ny", "x\nours", "x\ntheirs", &out), 1);
        assert_string_equal(out, "x\n<<<<<<< ours\nours\n||||||| base\ny\n=======\ntheirs\n"
                                 ">>>>>>> theirs\n");
        free(out);
}

static void test_binary(void **state) {
        char *out = NULL;
        const char bin[] = "a\0b\n";
        (void)state;
        assert_true(text_is_binary(bin, sizeof bin - 1));
        assert_false(text_is_binary("plain\n", 6));
        assert_false(text_is_binary("", 0));
        assert_int_equal(text_merge3("a\n", 2, bin, sizeof bin - 1, "a\n", 2, &out, NULL),
                         -EMEDIUMTYPE);
        assert_int_equal(text_merge3(bin, sizeof bin - 1, "a\n", 2, "b\n", 2, &out, NULL),
                         -EMEDIUMTYPE);
        assert_int_equal(text_merge3("a\n", 2, "a\n", 2, bin, sizeof bin - 1, &out, NULL),
                         -EMEDIUMTYPE);
        assert_null(out);
}

static void test_diff_is_minimal(void **state) {
        size_t del = 0, ins = 0;
        (void)state;
        /* Myers' paper example: ABCABBA -> CBABAC has an edit script of length 5. */
        assert_int_equal(
                text_diff_count("A\nB\nC\nA\nB\nB\nA\n", 14, "C\nB\nA\nB\nA\nC\n", 12, &del, &ins),
                0);
        assert_int_equal(del + ins, 5);
        assert_int_equal(del, 3);
        assert_int_equal(ins, 2);

        assert_int_equal(text_diff_count("", 0, "x\ny\n", 4, &del, &ins), 0);
        assert_int_equal(del, 0);
        assert_int_equal(ins, 2);
        assert_int_equal(text_diff_count("x\ny\n", 4, "x\ny\n", 4, &del, &ins), 0);
        assert_int_equal(del + ins, 0);
        assert_int_equal(text_diff_count("a\n", 2, "b\n", 2, &del, &ins), 0);
        assert_int_equal(del, 1);
        assert_int_equal(ins, 1);
}

/* A larger random-ish file: one edit on each side far apart merges cleanly,
 * and the result holds both edits and nothing else changed. */
static void test_large_clean(void **state) {
        _cleanup_free_ char *base = NULL, *ours = NULL, *theirs = NULL, *out = NULL;
        size_t len = 0, cap = 5000 * 16;
        char *p;
        (void)state;

        base = malloc(cap);
        assert_non_null(base);
        p = base;
        for (unsigned i = 0; i < 5000; i++)
                p += sprintf(p, "line %u %u\n", i, (i * 7919u) % 13);
        len = p - base;
        ours = strdup(base);
        theirs = strdup(base);
        assert_non_null(ours);
        assert_non_null(theirs);
        memcpy(strstr(ours, "line 100 "), "LINE", 4);
        memcpy(strstr(theirs, "line 4000 "), "LINE", 4);
        assert_int_equal(text_merge3(base, len, ours, len, theirs, len, &out, NULL), 0);
        assert_non_null(strstr(out, "LINE 100 "));
        assert_non_null(strstr(out, "LINE 4000 "));
        assert_int_equal(strlen(out), len);
        assert_int_equal(memcmp(out, ours, strstr(ours, "line 3999 ") - ours), 0);
}

/* Random small files over a tiny alphabet: the diff's length equals the one an
 * O(N·M) LCS table gives, and merging with an unchanged side yields the other. */
static size_t lcs_dp(const char *a, size_t n, const char *b, size_t m) {
        _cleanup_free_ size_t *t = calloc((n + 1) * (m + 1), sizeof(size_t));
        assert_non_null(t);
        for (size_t i = 1; i <= n; i++)
                for (size_t j = 1; j <= m; j++)
                        t[i * (m + 1) + j] = a[i - 1] == b[j - 1] ? t[(i - 1) * (m + 1) + j - 1] + 1
                                                                  : MAX(t[(i - 1) * (m + 1) + j],
                                                                        t[i * (m + 1) + j - 1]);
        return t[n * (m + 1) + m];
}

/* One letter per line: "abca" becomes "a\nb\nc\na\n". */
static char *as_lines(const char *letters) {
        size_t n = strlen(letters);
        char *s = malloc(2 * n + 1);
        assert_non_null(s);
        for (size_t i = 0; i < n; i++) {
                s[2 * i] = letters[i];
                s[2 * i + 1] = '\n';
        }
        s[2 * n] = 0;
        return s;
}

static void test_random_against_lcs(void **state) {
        unsigned seed = 12345;
        (void)state;
        for (unsigned round = 0; round < 2000; round++) {
                char a[40], b[40];
                size_t n, m, del = 0, ins = 0, lcs;
                _cleanup_free_ char *la = NULL, *lb = NULL, *out = NULL;

                n = rand_r(&seed) % 30;
                m = rand_r(&seed) % 30;
                for (size_t i = 0; i < n; i++)
                        a[i] = "abc"[rand_r(&seed) % 3];
                for (size_t i = 0; i < m; i++)
                        b[i] = "abc"[rand_r(&seed) % 3];
                a[n] = b[m] = 0;
                la = as_lines(a);
                lb = as_lines(b);
                lcs = lcs_dp(a, n, b, m);
                assert_int_equal(text_diff_count(la, 2 * n, lb, 2 * m, &del, &ins), 0);
                assert_int_equal(del, n - lcs);
                assert_int_equal(ins, m - lcs);

                assert_int_equal(merge(la, la, lb, &out), 0);
                assert_string_equal(out, lb);
                free(TAKE_PTR(out));
                assert_int_equal(merge(la, lb, la, &out), 0);
                assert_string_equal(out, lb);
                free(TAKE_PTR(out));
                assert_int_equal(merge(la, lb, lb, &out), 0);
                assert_string_equal(out, lb);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clean_nonoverlapping),
                cmocka_unit_test(test_identical_edits),
                cmocka_unit_test(test_conflict),
                cmocka_unit_test(test_insertions_at_edges),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_no_trailing_newline),
                cmocka_unit_test(test_binary),
                cmocka_unit_test(test_diff_is_minimal),
                cmocka_unit_test(test_large_clean),
                cmocka_unit_test(test_random_against_lcs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
