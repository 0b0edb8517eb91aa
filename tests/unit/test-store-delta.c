/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Delta images through the store API: their trees are overlayfs mounts made
 * with the new mount API, so this suite needs the kernel (and, under
 * valgrind, one that wraps that API: tests/lib/valgrind.bash). */
#include "store-fixture.h"

static void test_rm_of_a_base_makes_its_delta_whole(void **state) {
        Fixture *f = *state;
        char v1[65], v3[65];
        GcStats st = {};

        build_small(f, "v1", "one\n", v1);
        build_small(f, "v3", "three\n", v3);
        expect_counts(f, 4, 2);

        /* Nothing is unreferenced yet. */
        assert_int_equal(store_gc(f->s, NULL, &st), 0);
        assert_int_equal(st.objects_removed, 0);
        assert_int_equal(st.objects_kept, 4);

        /* v3 is stored as a delta over v1. Removing v1 makes v3 whole first
         * (same id, its own tree), so v1's own object becomes garbage. */
        assert_int_equal(store_image_is_delta(f->s, v3), 1);
        assert_int_equal(store_image_is_delta(f->s, v1), 0);
        assert_int_equal(store_remove_image(f->s, "base:v1"), 0);
        assert_int_equal(store_image_is_delta(f->s, v3), 0);
        assert_int_equal(store_resolve(f->s, "base:v1", v1), -ENOENT);
        assert_int_equal(store_gc(f->s, NULL, &st), 0);
        assert_int_equal(st.objects_removed, 1); /* "one\n", v1's own */
        assert_int_equal(st.bytes_freed, 4);
        assert_int_equal(st.objects_kept, 3);
        expect_counts(f, 3, 1);

        expect_image_file(f, v3, "etc/v", "three\n");
        expect_image_file(f, v3, "etc/a", "same\n");
}

static void test_delta_reads_back_and_composes(void **state) {
        Fixture *f = *state;
        _cleanup_(manifest_freep) Manifest *m1 = NULL, *m2 = NULL;
        char v1[65], v2[65];

        build_small(f, "v1", "one\n", v1);
        build_small(f, "v2", "two\n", v2);
        assert_int_equal(store_image_is_delta(f->s, v2), 1);
        /* Its manifest is the base's with the change laid over it. */
        assert_int_equal(store_read_manifest(f->s, v1, &m1), 0);
        assert_int_equal(store_read_manifest(f->s, v2, &m2), 0);
        assert_int_equal(m1->n, m2->n);
        assert_int_equal(manifest_find(m2, "/etc/v")->size, 4);
        assert_non_null(manifest_find(m2, "/bin/sh"));
        /* Its tree reads the new file and the base's others. */
        expect_image_file(f, v2, "etc/v", "two\n");
        expect_image_file(f, v2, "bin/x", "#!/bin/sh\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_delta_reads_back_and_composes, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_rm_of_a_base_makes_its_delta_whole, setup,
                                                teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
