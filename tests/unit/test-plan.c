/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the planner: order (file order breaks ties), nesting under the
 * nearest parent, after=, references across profiles, cycles named whole,
 * placeholder expansion, and how each entry type resolves into a MountOp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plan.h"
#include "log-capture.h"
#include "util.h"

static const char *data_dir(void) {
        const char *d = getenv("GOLDROOT_TEST_DATA");
        assert_non_null(d);
        return d;
}

static const PlanContext full_ctx = {
        .placeholders = {.name = "web1", .hostname = "web1.example.org", .image_id = "ab12cd"},
        .have_image = true,
        .have_state = true,
};

static ProfileSet *load(const char *text) {
        char *sp[] = {(char *)data_dir(), NULL};
        ProfileSet *s = NULL;
        if (profile_set_load_string("t.profile", text, sp, &s) < 0)
                fail_msg("load failed: %s", logged());
        return s;
}

static Plan *plan_ok(const ProfileSet *s, const PlanContext *ctx) {
        Plan *p = NULL;
        if (plan_build(s, ctx, &p) < 0)
                fail_msg("plan failed: %s", logged());
        assert_non_null(p);
        return p;
}

/* The entry names of the plan, in order, joined by spaces. */
static char *order_of(const Plan *p) {
        char *out = strdup("");
        for (size_t i = 0; i < p->n_ops; i++) {
                char *t = strjoin(out, i ? " " : "", p->ops[i].entry);
                assert_non_null(t);
                free(out);
                out = t;
        }
        return out;
}

static void expect_order(const char *text, const char *want) {
        _cleanup_(profile_set_freep) ProfileSet *s = load(text);
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        _cleanup_free_ char *got = order_of(p);
        assert_string_equal(got, want);
}

static void expect_plan_error(const char *text, const PlanContext *ctx, const char *message) {
        _cleanup_(profile_set_freep) ProfileSet *s = load(text);
        _cleanup_free_ char *want = strjoin("goldroot: ", message);
        Plan *p = NULL;

        assert_int_equal(plan_build(s, ctx, &p), -EBADMSG);
        assert_null(p);
        assert_string_equal(logged(), want);
}

static const MountOp *op_named(const Plan *p, const char *name) {
        for (size_t i = 0; i < p->n_ops; i++)
                if (streq(p->ops[i].entry, name))
                        return &p->ops[i];
        fail_msg("no op '%s'", name);
        return NULL;
}

/* ---- order ---- */

static void test_file_order_breaks_ties(void **state) {
        expect_order("c tmpfs - /c\na tmpfs - /a\nb tmpfs - /b\n", "c a b");
}

static void test_nesting_nearest_parent(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load("app tmpfs - /var/log/app\n"
                                                          "log tmpfs - /var/log\n"
                                                          "other tmpfs - /srv\n"
                                                          "var tmpfs - /var\n"
                                                          "root image - /\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        _cleanup_free_ char *got = order_of(p);
        const MountOp *app = op_named(p, "app");

        assert_string_equal(got, "root other var log app");
        /* Only the nearest parent, not every ancestor. */
        assert_int_equal(app->n_deps, 1);
        assert_string_equal(p->ops[app->deps[0]].entry, "log");
        assert_int_equal(app->dep_kinds[0], DEP_NEST);
        assert_int_equal(op_named(p, "root")->n_deps, 0);
}

static void test_nesting_is_by_component(void **state) {
        /* "/va" is not a parent of "/var"; "/" is. */
        _cleanup_(profile_set_freep) ProfileSet *s = load("var tmpfs - /var\n"
                                                          "va tmpfs - /va\n"
                                                          "root tmpfs - /\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        const MountOp *var = op_named(p, "var");

        assert_int_equal(var->n_deps, 1);
        assert_string_equal(p->ops[var->deps[0]].entry, "root");
}

static void test_after(void **state) {
        expect_order("a tmpfs - /a after=c\nb tmpfs - /b\nc tmpfs - /c after=b\n", "b c a");
}

static void test_deps_merge_kinds(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load("root tmpfs - /\n"
                                                          "x tmpfs - /x after=root,after=y\n"
                                                          "y tmpfs - /y\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        const MountOp *x = op_named(p, "x");

        assert_int_equal(x->n_deps, 2);
        assert_true(x->deps[0] < x->deps[1]);
        assert_string_equal(p->ops[x->deps[0]].entry, "root");
        assert_int_equal(x->dep_kinds[0], DEP_NEST | DEP_AFTER);
        assert_string_equal(p->ops[x->deps[1]].entry, "y");
        assert_int_equal(x->dep_kinds[1], DEP_AFTER);
}

/* ---- references across profiles ---- */

static void test_reference_resolution(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load("root image - /\n"
                     "log bind logs:share/%n/log /var/log rw\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        _cleanup_free_ char *got = order_of(p);
        const MountOp *log = op_named(p, "log"), *share = op_named(p, "logs:share"),
                      *area = op_named(p, "logs:area");

        /* Shared entries come in when needed; logs:unused is not. */
        assert_string_equal(got, "root logs:area logs:share log");
        assert_int_equal(log->source.base, BASE_HOST);
        assert_string_equal(log->source.path, "/srv/goldroot-share/web1/log");
        assert_false(log->shared);
        assert_int_equal(log->target.base, BASE_ROOT);
        assert_true(share->shared);
        assert_int_equal(share->target.base, BASE_HOST);
        assert_string_equal(share->target.path, "/srv/goldroot-share");
        assert_string_equal(share->source.path, "/srv/goldroot-logs/share");
        assert_ptr_equal(share->spec->profile, s->profiles[1]);
        assert_int_equal(area->kind, OP_TMPFS);
        assert_int_equal(area->size, 16u << 20);
        assert_int_equal(log->n_deps, 2);
        assert_int_equal(log->dep_kinds[0], DEP_NEST);
        assert_int_equal(log->dep_kinds[1], DEP_REF);
}

static void test_after_other_profile(void **state) {
        expect_order("b tmpfs - /b\na tmpfs - /a after=logs:area\n", "b logs:area a");
}

/* ---- cycles ---- */

static void test_cycle_three(void **state) {
        expect_plan_error("a tmpfs - /a after=b\nb tmpfs - /b after=c\nc tmpfs - /c after=a\n",
                          &full_ctx, "t.profile:1:1: dependency cycle: a -> b -> c -> a");
}

static void test_cycle_named_from_first_member(void **state) {
        /* x only waits for the cycle; the message starts at its first member, a. */
        expect_plan_error("x tmpfs - /x after=b\n"
                          "a tmpfs - /a after=c\n"
                          "b tmpfs - /b after=a\n"
                          "c tmpfs - /c after=b\n",
                          &full_ctx, "t.profile:2:1: dependency cycle: a -> c -> b -> a");
}

static void test_cycle_nesting_and_after(void **state) {
        expect_plan_error("  root tmpfs - / after=var\nvar tmpfs - /var\n", &full_ctx,
                          "t.profile:1:3: dependency cycle: root -> var -> root");
}

static void test_cycle_self(void **state) {
        expect_plan_error("a tmpfs - /a after=a\n", &full_ctx,
                          "t.profile:1:1: dependency cycle: a -> a");
}

static void test_cycle_in_shared_profile(void **state) {
        _cleanup_free_ char *msg = NULL;
        assert_true(asprintf(&msg,
                             "%s/xcyc.profile:2:1: dependency cycle: xcyc:p -> xcyc:q -> "
                             "xcyc:p",
                             data_dir()) > 0);
        expect_plan_error("m bind xcyc:p /m\n", &full_ctx, msg);
}

/* ---- the image stays read-only ---- */

static void test_rw_bind_of_image_entry(void **state) {
        expect_plan_error("lib bind image:/lib -\nx bind @lib/x /x rw\n", &full_ctx,
                          "t.profile:2:18: option 'rw' would write into the shared image, which "
                          "is always read-only: use an overlay with upper= for a writable view");
}

/* Through two binds mounted aside, rw would still reach the image's tree. */
static void test_rw_bind_of_image_chain(void **state) {
        expect_plan_error("lib bind image:/lib -\nx bind @lib -\ny bind @x/z /y create,rw\n",
                          &full_ctx,
                          "t.profile:3:23: option 'rw' would write into the shared image, which "
                          "is always read-only: use an overlay with upper= for a writable view");
}

/* @ENTRY of an attached entry is a path in the assembled tree, where another
 * mount may lie on the image's: decided when mounting (mount-bind.bats). */
static void test_rw_bind_through_attached_image_entry(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load("root image - / ro\ndata bind state:data /srv rw,create\n"
                     "www bind @root/srv/www /mnt rw,create,after=data\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);

        assert_false(op_named(p, "www")->flags & ENTRY_RO);
}

/* ---- placeholders ---- */

static void test_placeholders_expanded(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load("a bind state:%n/data /srv/%h/100%%\n"
                     "b overlay image:/img/%i /b upper=/var/lib/up/%n\n"
                     "c dev LABEL=%n-data /c\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        const MountOp *a = op_named(p, "a"), *b = op_named(p, "b"), *c = op_named(p, "c");

        assert_string_equal(a->source.path, "/web1/data");
        assert_string_equal(a->target.path, "/srv/web1.example.org/100%");
        assert_string_equal(b->source.path, "/img/ab12cd");
        assert_string_equal(b->upper.path, "/var/lib/up/web1");
        assert_string_equal(b->work.path, "/var/lib/up/.web1.work");
        assert_string_equal(c->device, "LABEL=web1-data");
}

static void test_placeholder_without_value(void **state) {
        PlanContext ctx = full_ctx;
        ctx.placeholders.image_id = NULL;
        expect_plan_error("ok tmpfs - /ok\nx bind image:/i/%i /x/%%i/%i\n", &ctx,
                          "t.profile:2:27: placeholder '%i' has no value: no image id");
}

static void test_placeholder_without_value_in_source(void **state) {
        PlanContext ctx = full_ctx;
        ctx.placeholders.hostname = NULL;
        expect_plan_error("x bind logs:share/%h /x\n", &ctx,
                          "t.profile:1:19: placeholder '%h' has no value: no hostname");
}

static void test_expanded_dotdot(void **state) {
        PlanContext ctx = full_ctx;
        ctx.placeholders.name = "..";
        expect_plan_error("x tmpfs - /srv/%n\n", &ctx,
                          "t.profile:1:11: '/srv/%n' expands to '/srv/..', which has a '..' "
                          "component");
}

static void test_expanded_duplicate_target(void **state) {
        expect_plan_error("a tmpfs - /srv/web1\nb tmpfs - /srv/%n\n", &full_ctx,
                          "t.profile:2:11: target '/srv/web1' of 'b' is also the target of 'a' "
                          "at t.profile:1");
}

/* ---- image and state availability ---- */

static void test_needs_image(void **state) {
        PlanContext ctx = full_ctx;
        ctx.have_image = false;
        expect_plan_error("tmp tmpfs - /tmp\nroot image - /\n", &ctx,
                          "t.profile:2:12: entry 'root' needs an image");
}

static void test_needs_image_source(void **state) {
        PlanContext ctx = full_ctx;
        ctx.have_image = false;
        expect_plan_error("dpkg bind image:/var/lib/dpkg /var/lib/dpkg ro\n", &ctx,
                          "t.profile:1:11: entry 'dpkg' needs an image");
}

static void test_needs_state(void **state) {
        PlanContext ctx = full_ctx;
        ctx.have_state = false;
        expect_plan_error("etc overlay /srv/etc /etc upper=state:etc\n", &ctx,
                          "t.profile:1:33: entry 'etc' needs an instance state");
}

static void test_host_only_without_image_or_state(void **state) {
        PlanContext ctx = {.placeholders = {.name = "x"}};
        _cleanup_(profile_set_freep) ProfileSet *s =
                load("t tmpfs - /\nb bind /srv /b\nl bind logs:area /l\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &ctx);
        assert_int_equal(p->n_ops, 4);
}

/* ---- resolution ---- */

static void test_op_resolution(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load("root image - /\n"
                     "usr image image:/usr /usr\n"
                     "lib bind image:/lib /lib\n"
                     "dpkgrw bind @etc/dpkg /etc/dpkg rw\n"
                     "etc overlay image:/etc /etc upper=state:etc\n"
                     "opt overlay /srv/opt /opt upper=/srv/up/opt\n"
                     "vol overlay image:/var /var upper=tmpfs\n"
                     "tmp tmpfs - /tmp size=64M,mode=1777,uid=1,gid=2\n"
                     "lp loop state:img.erofs /lp\n"
                     "disk dev /dev/vdb /disk\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        const MountOp *op;

        op = op_named(p, "root");
        assert_int_equal(op->kind, OP_BIND);
        assert_int_equal(op->source.base, BASE_IMAGE);
        assert_string_equal(op->source.path, "/");
        assert_true(op->flags & ENTRY_RO);
        assert_int_equal(op->target.base, BASE_ROOT);
        op = op_named(p, "usr");
        assert_string_equal(op->source.path, "/usr");
        assert_true(op->flags & ENTRY_RO);
        /* Binds that show the image are read-only without being told; a bind
         * of an overlay is not. */
        assert_true(op_named(p, "lib")->flags & ENTRY_RO);
        assert_false(op_named(p, "dpkgrw")->flags & ENTRY_RO);
        op = op_named(p, "etc");
        assert_int_equal(op->kind, OP_OVERLAY);
        assert_int_equal(op->upper.base, BASE_STATE);
        assert_string_equal(op->upper.path, "/etc");
        assert_int_equal(op->work.base, BASE_STATE);
        assert_string_equal(op->work.path, "/.work/etc");
        assert_false(op->upper_tmpfs);
        op = op_named(p, "opt");
        assert_int_equal(op->upper.base, BASE_HOST);
        assert_string_equal(op->work.path, "/srv/up/.opt.work");
        op = op_named(p, "vol");
        assert_true(op->upper_tmpfs);
        assert_null(op->upper.path);
        op = op_named(p, "tmp");
        assert_int_equal(op->kind, OP_TMPFS);
        assert_int_equal(op->size, 64u << 20);
        assert_int_equal(op->mode, 01777);
        assert_int_equal(op->uid, 1);
        assert_int_equal(op->gid, 2);
        op = op_named(p, "lp");
        assert_int_equal(op->kind, OP_LOOP);
        assert_int_equal(op->source.base, BASE_STATE);
        assert_true(op->flags & ENTRY_RO);
        op = op_named(p, "disk");
        assert_int_equal(op->kind, OP_DEV);
        assert_string_equal(op->device, "/dev/vdb");
}

static void test_plan_print(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load("root image - / nosuid\n"
                     "etc overlay image:/etc /etc upper=state:etc\n"
                     "tmp tmpfs - /tmp size=64M,mode=1777\n"
                     "log bind logs:share/%n /var/log create,optional\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        plan_print(p, f);
        fclose(f);
        assert_string_equal(
                buf,
                "1  root        bind     image:/                        -> /                    "
                "     ro,nosuid\n"
                "2  etc         overlay  image:/etc                     -> /etc                 "
                "     rw,upper=state:/etc,work=state:/.work/etc\n"
                "3  tmp         tmpfs    tmpfs                          -> /tmp                 "
                "     rw,size=64M,mode=1777\n"
                "4  logs:area   tmpfs    tmpfs                          -> host:/srv/goldroot-lo"
                "gs   rw,size=16M,mode=0755,shared\n"
                "5  logs:share  bind     host:/srv/goldroot-logs/share  -> host:/srv/goldroot-sh"
                "are  rw,create,shared\n"
                "6  log         bind     host:/srv/goldroot-share/web1  -> /var/log             "
                "     rw,create,optional\n");
}

static void test_plan_print_dot(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load("root image - /\n"
                                                          "log bind logs:share /var/log\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        plan_print_dot(p, f);
        fclose(f);
        assert_non_null(strstr(buf, "digraph goldroot {\n"));
        assert_non_null(strstr(buf, "n0 [label=\"root\\nimage\\n/\"];\n"));
        assert_non_null(strstr(buf, "subgraph \"cluster_1_logs\" {\n"));
        assert_non_null(strstr(buf, "n2 [label=\"logs:share\\nbind\\n/srv/goldroot-share\"];\n"));
        assert_non_null(strstr(buf, "n1 -> n2 [label=\"ref\"];\n"));
        assert_non_null(strstr(buf, "n0 -> n3 [label=\"nest\"];\n"));
        assert_non_null(strstr(buf, "n2 -> n3 [label=\"ref\"];\n"));
        assert_true(endswith(buf, "}\n"));
}

/* ---- aside entries and @ENTRY sources ---- */

static void test_aside_order_and_resolution(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load("root bind @rw / ro\n"
                                                          "rw overlay image:/ - upper=state:root\n"
                                                          "etc bind @rw/etc /etc rw,create\n"
                                                          "var bind @rw/var /var rw\n"
                                                          "log tmpfs - /var/log\n"
                                                          "sub bind @rw/srv/%n /srv\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        _cleanup_free_ char *got = order_of(p);
        const MountOp *rw = op_named(p, "rw"), *root = op_named(p, "root"),
                      *etc = op_named(p, "etc");

        /* root waits for rw, which it clones from. */
        assert_string_equal(got, "rw root etc var log sub");
        assert_true(rw->aside);
        assert_null(rw->target.path);
        assert_int_equal(rw->kind, OP_OVERLAY);
        assert_string_equal(rw->upper.path, "/root");
        assert_string_equal(rw->work.path, "/.work/rw");
        /* Aside, it nests under nothing, and nothing nests under it. */
        assert_int_equal(rw->n_deps, 0);
        assert_false(root->aside);
        assert_int_equal(root->source.base, BASE_ENTRY);
        assert_int_equal(root->source_op, 0);
        assert_string_equal(root->source.path, "/");
        assert_int_equal(root->n_deps, 1);
        assert_int_equal(root->dep_kinds[0], DEP_REF);
        assert_int_equal(etc->source.base, BASE_ENTRY);
        assert_int_equal(etc->source_op, 0);
        assert_string_equal(etc->source.path, "/etc");
        assert_int_equal(etc->n_deps, 2);
        assert_int_equal(etc->deps[0], 0);
        assert_int_equal(etc->dep_kinds[0], DEP_REF);
        assert_int_equal(etc->deps[1], 1);
        assert_int_equal(etc->dep_kinds[1], DEP_NEST);
        assert_string_equal(op_named(p, "sub")->source.path, "/srv/web1");
        assert_int_equal(op_named(p, "log")->deps[0], 3);
}

static void test_entry_source_of_attached_entry(void **state) {
        /* The op index follows the order, not the file. */
        _cleanup_(profile_set_freep) ProfileSet *s = load("x bind @t/a /x\n"
                                                          "t tmpfs - /t\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        _cleanup_free_ char *got = order_of(p);

        assert_string_equal(got, "t x");
        assert_int_equal(p->ops[1].source.base, BASE_ENTRY);
        assert_int_equal(p->ops[1].source_op, 0);
        assert_string_equal(p->ops[1].source.path, "/a");
        assert_false(p->ops[0].aside);
}

static void test_cycle_through_entry_source(void **state) {
        expect_plan_error("a bind @b /a\nb bind @a -\n", &full_ctx,
                          "t.profile:1:1: dependency cycle: a -> b -> a");
}

static void test_cycle_entry_source_self(void **state) {
        expect_plan_error("a bind @a/x /a\n", &full_ctx, "t.profile:1:1: dependency cycle: a -> a");
}

static void test_cycle_entry_source_and_nesting(void **state) {
        /* var clones from a subtree of log, which is mounted inside var. */
        expect_plan_error("var bind @log /var\nlog tmpfs - /var/log\n", &full_ctx,
                          "t.profile:1:1: dependency cycle: var -> log -> var");
}

static void test_shared_aside_plan(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load("x bind aside:a /x\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        _cleanup_free_ char *got = order_of(p);
        const MountOp *pool = op_named(p, "aside:pool"), *a = op_named(p, "aside:a");

        /* aside:b is not needed, so neither is it mounted. */
        assert_string_equal(got, "aside:pool aside:a x");
        assert_true(pool->aside);
        assert_true(pool->shared);
        assert_null(pool->target.path);
        assert_int_equal(a->source.base, BASE_ENTRY);
        assert_int_equal(a->source_op, 0);
        assert_string_equal(a->source.path, "/a");
        assert_int_equal(op_named(p, "x")->source.base, BASE_HOST);
        assert_string_equal(op_named(p, "x")->source.path, "/srv/goldroot-aside-a");
}

static void test_plan_print_aside(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load("rw overlay image:/ - upper=state:root\n"
                                                          "root bind @rw / ro\n"
                                                          "etc bind @rw/etc /etc rw,create\n");
        _cleanup_(plan_freep) Plan *p = plan_ok(s, &full_ctx);
        _cleanup_free_ char *buf = NULL, *dot = NULL;
        size_t size = 0, dsize = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        plan_print(p, f);
        fclose(f);
        assert_string_equal(buf, "1  rw    overlay  image:/   -> (aside)  "
                                 "rw,upper=state:/root,work=state:/.work/rw\n"
                                 "2  root  bind     @rw:/     -> /        ro\n"
                                 "3  etc   bind     @rw:/etc  -> /etc     rw,create\n");
        f = open_memstream(&dot, &dsize);
        assert_non_null(f);
        plan_print_dot(p, f);
        fclose(f);
        assert_non_null(strstr(dot, "n0 [label=\"rw\\noverlay\\n(aside)\", style=dashed];\n"));
        assert_non_null(strstr(dot, "n1 [label=\"root\\nbind\\n/\"];\n"));
        assert_non_null(strstr(dot, "n0 -> n2 [label=\"ref\"];\n"));
        assert_non_null(strstr(dot, "n1 -> n2 [label=\"nest\"];\n"));
}

static void test_kind_and_base_names(void **state) {
        assert_string_equal(op_kind_to_string(OP_OVERLAY), "overlay");
        assert_string_equal(op_kind_to_string(OP_DEV), "dev");
        assert_null(op_kind_to_string(_OP_KIND_MAX));
        assert_string_equal(path_base_to_string(BASE_STATE), "state");
        assert_string_equal(path_base_to_string(BASE_ROOT), "root");
        assert_string_equal(path_base_to_string(BASE_ENTRY), "entry");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_file_order_breaks_ties),
                T(test_nesting_nearest_parent),
                T(test_nesting_is_by_component),
                T(test_after),
                T(test_deps_merge_kinds),
                T(test_reference_resolution),
                T(test_after_other_profile),
                T(test_cycle_three),
                T(test_cycle_named_from_first_member),
                T(test_cycle_nesting_and_after),
                T(test_cycle_self),
                T(test_cycle_in_shared_profile),
                T(test_placeholders_expanded),
                T(test_placeholder_without_value),
                T(test_placeholder_without_value_in_source),
                T(test_expanded_dotdot),
                T(test_expanded_duplicate_target),
                T(test_needs_image),
                T(test_needs_image_source),
                T(test_needs_state),
                T(test_host_only_without_image_or_state),
                T(test_op_resolution),
                T(test_rw_bind_of_image_entry),
                T(test_rw_bind_of_image_chain),
                T(test_rw_bind_through_attached_image_entry),
                T(test_plan_print),
                T(test_plan_print_dot),
                T(test_aside_order_and_resolution),
                T(test_entry_source_of_attached_entry),
                T(test_cycle_through_entry_source),
                T(test_cycle_entry_source_self),
                T(test_cycle_entry_source_and_nesting),
                T(test_shared_aside_plan),
                T(test_plan_print_aside),
                T(test_kind_and_base_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
