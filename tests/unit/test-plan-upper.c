/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the overlay directory checks of the planner: a state: upper
 * may not overlap state:/.work (where the work directories are), and no two
 * overlays share an upper or work directory or have one inside the other's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plan.h"
#include "log-capture.h"
#include "util.h"

static const PlanContext ctx = {
        .placeholders = {.name = "web1", .hostname = "web1", .image_id = "ab12"},
        .have_image = true,
        .have_state = true,
};

static ProfileSet *load(const char *text) {
        char *sp[] = {getenv("GOLDROOT_TEST_DATA"), NULL};
        ProfileSet *s = NULL;

        assert_non_null(sp[0]);
        if (profile_set_load_string("t.profile", text, sp, &s) < 0)
                fail_msg("load failed: %s", logged());
        return s;
}

static void expect_ok(const char *text) {
        _cleanup_(profile_set_freep) ProfileSet *s = load(text);
        _cleanup_(plan_freep) Plan *p = NULL;

        if (plan_build(s, &ctx, &p) < 0)
                fail_msg("plan failed: %s", logged());
}

static void expect_error(const char *text, const char *message) {
        _cleanup_(profile_set_freep) ProfileSet *s = load(text);
        _cleanup_free_ char *want = strjoin("goldroot: ", message);
        Plan *p = NULL;

        assert_int_equal(plan_build(s, &ctx, &p), -EBADMSG);
        assert_null(p);
        assert_string_equal(logged(), want);
}

#define RESERVED ", which is reserved for the overlays' work directories (this entry's is "

/* state:/ and state:/.work hold the entry's work directory, which the kernel
 * refuses; anything else under state:/.work is another entry's. */
static void test_upper_overlaps_work_root(void **state) {
        expect_error("o overlay image:/ /o upper=state:/\n",
                     "t.profile:1:28: upper= 'state:/' overlaps state:/.work" RESERVED
                     "state:/.work/o)");
        teardown(state);
        setup(state);
        expect_error("o overlay image:/ /o upper=state:.work\n",
                     "t.profile:1:28: upper= 'state:.work' overlaps state:/.work" RESERVED
                     "state:/.work/o)");
        teardown(state);
        setup(state);
        expect_error("o overlay image:/ /o upper=state:.work/o\n",
                     "t.profile:1:28: upper= 'state:.work/o' overlaps state:/.work" RESERVED
                     "state:/.work/o)");
        teardown(state);
        setup(state);
        expect_error("o overlay image:/ /o upper=state:/.work/p/x\n",
                     "t.profile:1:28: upper= 'state:/.work/p/x' overlaps state:/.work" RESERVED
                     "state:/.work/o)");
        teardown(state);
        setup(state);
        /* After expansion: %n is the instance's name. */
        expect_error("o overlay image:/ /o upper=state:/.work/%n\n",
                     "t.profile:1:28: upper= 'state:/.work/%n' overlaps state:/.work" RESERVED
                     "state:/.work/o)");
}

static void test_upper_beside_work_root(void **state) {
        expect_ok("o overlay image:/ /o upper=state:.workshop\n"
                  "p overlay image:/ /p upper=state:/x/.work\n");
}

static void test_same_upper(void **state) {
        expect_error("a overlay image:/a /a upper=state:x\n"
                     "b overlay image:/b /b upper=state:/x\n",
                     "t.profile:2:29: upper= 'state:/x': its upper layer state:/x is also the "
                     "upper layer of 'a' (t.profile:1); overlays cannot share directories");
        teardown(state);
        setup(state);
        expect_error("a overlay image:/a /a upper=/srv/up\n"
                     "b overlay image:/b /b upper=/srv/up/\n",
                     "t.profile:2:29: upper= '/srv/up/': its upper layer host:/srv/up is also the "
                     "upper layer of 'a' (t.profile:1); overlays cannot share directories");
}

/* Blamed on the later entry in the file, whichever holds the other. */
static void test_nested_uppers(void **state) {
        expect_error("a overlay image:/a /a upper=state:x\n"
                     "b overlay image:/b /b upper=state:x/y/z\n",
                     "t.profile:2:29: upper= 'state:x/y/z': its upper layer state:/x/y/z is inside "
                     "the upper layer of 'a' (t.profile:1); overlays cannot share directories");
        teardown(state);
        setup(state);
        expect_error("a overlay image:/a /a upper=state:x/y/z\n"
                     "b overlay image:/b /b upper=state:x\n",
                     "t.profile:2:29: upper= 'state:x': its upper layer state:/x contains the "
                     "upper layer of 'a' (t.profile:1); overlays cannot share directories");
        teardown(state);
        setup(state);
        expect_error("a overlay image:/a /a upper=/srv/up/a\n"
                     "b overlay image:/b /b upper=/srv\n",
                     "t.profile:2:29: upper= '/srv': its upper layer host:/srv contains the "
                     "upper layer of 'a' (t.profile:1); overlays cannot share directories");
}

/* A host upper's work directory is .BASENAME.work beside it. */
static void test_host_work_directory(void **state) {
        expect_error("a overlay image:/a /a upper=/srv/up/a\n"
                     "b overlay image:/b /b upper=/srv/up/.a.work\n",
                     "t.profile:2:29: upper= '/srv/up/.a.work': its upper layer "
                     "host:/srv/up/.a.work is also the work directory of 'a' (t.profile:1); "
                     "overlays cannot share directories");
        teardown(state);
        setup(state);
        expect_error("a overlay image:/a /a upper=/srv/up/.b.work/x\n"
                     "b overlay image:/b /b upper=/srv/up/b\n",
                     "t.profile:2:29: upper= '/srv/up/b': its work directory "
                     "host:/srv/up/.b.work contains the upper layer of 'a' (t.profile:1); "
                     "overlays cannot share directories");
}

/* Neighbours, prefixes that are not parents, the two bases and tmpfs uppers. */
static void test_distinct_uppers(void **state) {
        expect_ok("a overlay image:/a /a upper=state:x\n"
                  "b overlay image:/b /b upper=state:xy\n"
                  "c overlay image:/c /c upper=state:y/x\n"
                  "d overlay image:/d /d upper=/x\n"
                  "e overlay image:/e /e upper=tmpfs\n"
                  "f overlay image:/f /f upper=tmpfs\n"
                  "g overlay image:/g /g upper=/srv/up/g\n"
                  "h overlay image:/h /h upper=/srv/up/h\n");
}

/* A shared profile's overlay counts too: it is in the same plan. */
static void test_shared_upper(void **state) {
        _cleanup_free_ char *msg = NULL;

        msg = strjoin(getenv("GOLDROOT_TEST_DATA"),
                      "/upper-shared.profile:2:46: upper= '/srv/shared-up': its upper layer "
                      "host:/srv/shared-up is also the upper layer of 'a' (t.profile:1); "
                      "overlays cannot share directories");
        expect_error("a overlay image:/a /a upper=/srv/shared-up\n"
                     "b bind upper-shared:o /b\n",
                     msg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_upper_overlaps_work_root),
                T(test_upper_beside_work_root),
                T(test_same_upper),
                T(test_nested_uppers),
                T(test_host_work_directory),
                T(test_distinct_uppers),
                T(test_shared_upper),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
