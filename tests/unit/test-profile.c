/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for profile.c (placeholder until the module lands). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "profile.h"

static void test_placeholder(void **state) {
        (void)state;
        assert_true(1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_placeholder),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
