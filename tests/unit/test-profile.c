/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the profile language: every type, source form, option,
 * placeholder, include, setting and reference, and the exact one-line error
 * (FILE:LINE:COL) for each malformed case. Fixtures live in tests/unit/data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "profile.h"
#include "log-capture.h"
#include "util.h"

#include <fcntl.h>
#include <sys/stat.h>

static const char *data_dir(void) {
        const char *d = getenv("GOLDROOT_TEST_DATA");
        assert_non_null(d);
        return d;
}

static char *data_path(const char *name) {
        char *p = path_join(data_dir(), name);
        assert_non_null(p);
        return p;
}

static ProfileSet *load_ok(const char *text) {
        char *sp[] = {(char *)data_dir(), NULL};
        ProfileSet *s = NULL;
        int r = profile_set_load_string("t.profile", text, sp, &s);
        if (r < 0)
                fail_msg("load failed (%d): %s", r, logged());
        assert_non_null(s);
        return s;
}

/* message with every "@/" replaced by the data directory and its slash (a
 * lone "@" is the profile language's own, as in @ENTRY). */
static char *with_data_dir(const char *message) {
        _cleanup_free_ char *out = strdup("");

        for (const char *s = message; *s; s++) {
                char c[2] = {*s, 0};
                char *t = strjoin(out, *s == '@' && s[1] == '/' ? data_dir() : c);
                assert_non_null(t);
                free(out);
                out = t;
        }
        return TAKE_PTR(out);
}

/* Loads text and asserts the one line it logs ("@/" is the data directory). */
static void expect_error(const char *text, const char *message) {
        char *sp[] = {(char *)data_dir(), NULL};
        _cleanup_free_ char *msg = with_data_dir(message), *want = strjoin("goldroot: ", msg);
        ProfileSet *s = NULL;

        assert_int_equal(profile_set_load_string("t.profile", text, sp, &s), -EBADMSG);
        assert_null(s);
        assert_string_equal(logged(), want);
}

/* Loads the fixture name and asserts the error ("@/" is the data directory). */
static void expect_file_error(const char *name, const char *message) {
        _cleanup_free_ char *path = data_path(name), *msg = with_data_dir(message),
                            *want = strjoin("goldroot: ", msg);
        char *sp[] = {(char *)data_dir(), NULL};
        ProfileSet *s = NULL;

        assert_int_equal(profile_set_load(path, sp, &s), -EBADMSG);
        assert_null(s);
        assert_string_equal(logged(), want);
}

/* ---- types and source forms ---- */

static void test_every_type(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load_ok("root image - / ro\n"
                        "etc overlay image:/etc /etc upper=state:etc\n"
                        "home bind state:home /home rw,create\n"
                        "tmp tmpfs - /tmp size=64M,mode=1777\n"
                        "bundle loop /srv/web.erofs /opt/web\n"
                        "data dev UUID=1234-abcd /data\n");
        const Profile *p = s->profiles[0];
        const EntryType want[] = {ENTRY_IMAGE, ENTRY_OVERLAY, ENTRY_BIND,
                                  ENTRY_TMPFS, ENTRY_LOOP,    ENTRY_DEV};

        assert_int_equal(s->n_profiles, 1);
        assert_int_equal(p->n_entries, 6);
        assert_false(p->shared);
        for (size_t i = 0; i < 6; i++) {
                assert_int_equal(p->entries[i]->type, want[i]);
                assert_int_equal(p->entries[i]->index, i);
                assert_ptr_equal(p->entries[i]->profile, p);
                assert_int_equal(p->entries[i]->loc.line, i + 1);
        }
        assert_string_equal(entry_type_to_string(p->entries[1]->type), "overlay");
        assert_string_equal(p->name, "t");
}

static void test_image_sources(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load_ok("root image - /\n"
                                                             "usr image image:usr/ /usr ro\n");
        const Entry *root = profile_set_find(s, "root"), *usr = profile_set_find(s, "usr");

        assert_int_equal(root->source.kind, SOURCE_NONE);
        assert_int_equal(usr->source.kind, SOURCE_IMAGE);
        assert_string_equal(usr->source.path, "/usr");
        assert_true(usr->flags & ENTRY_RO);
}

static void test_bind_source_forms(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load_ok("a bind image:/var/lib/dpkg /a\n"
                                                             "b bind state://home/./x /b\n"
                                                             "c bind /srv//data/ /c\n"
                                                             "d bind logs:share/%n//log/ /d\n"
                                                             "e bind logs:area /e\n");
        const Entry *e;

        e = profile_set_find(s, "a");
        assert_int_equal(e->source.kind, SOURCE_IMAGE);
        assert_string_equal(e->source.path, "/var/lib/dpkg");
        e = profile_set_find(s, "b");
        assert_int_equal(e->source.kind, SOURCE_STATE);
        assert_string_equal(e->source.path, "/home/x");
        e = profile_set_find(s, "c");
        assert_int_equal(e->source.kind, SOURCE_HOST);
        assert_string_equal(e->source.path, "/srv/data");
        assert_int_equal(e->source.loc.col, 8);
        e = profile_set_find(s, "d");
        assert_int_equal(e->source.kind, SOURCE_REF);
        assert_string_equal(e->source.ref_file, "logs");
        assert_string_equal(e->source.ref_entry, "share");
        assert_string_equal(e->source.path, "%n/log");
        assert_string_equal(e->source.raw, "logs:share/%n//log/");
        assert_non_null(e->source.ref);
        assert_string_equal(e->source.ref->name, "share");
        e = profile_set_find(s, "e");
        assert_string_equal(e->source.path, "");
        assert_string_equal(e->source.ref->name, "area");
}

static void test_dev_sources(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load_ok("a dev UUID=0a1b-2c3d /a\n"
                                                             "b dev LABEL=data /b\n"
                                                             "c dev /dev/vdb1 /c ro\n");
        assert_int_equal(profile_set_find(s, "a")->source.kind, SOURCE_DEVTAG);
        assert_string_equal(profile_set_find(s, "a")->source.path, "UUID=0a1b-2c3d");
        assert_string_equal(profile_set_find(s, "b")->source.path, "LABEL=data");
        assert_int_equal(profile_set_find(s, "c")->source.kind, SOURCE_HOST);
        assert_string_equal(profile_set_find(s, "c")->source.path, "/dev/vdb1");
}

static void test_loop_and_overlay_sources(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load_ok("a loop image:/img/x.erofs /a\n"
                        "b loop state:b.squashfs /b ro\n"
                        "c loop logs:area/img.ext4 /c\n"
                        "d overlay /srv/lower /d upper=/srv/upper\n"
                        "e overlay state:lower /e upper=tmpfs\n"
                        "f overlay logs:area /f upper=state:f,ro\n");
        const Entry *d = profile_set_find(s, "d"), *e = profile_set_find(s, "e"),
                    *f = profile_set_find(s, "f");

        assert_int_equal(profile_set_find(s, "c")->source.kind, SOURCE_REF);
        assert_int_equal(d->upper.kind, SOURCE_HOST);
        assert_string_equal(d->upper.path, "/srv/upper");
        assert_true(d->flags & ENTRY_HAS_UPPER);
        assert_int_equal(e->upper.kind, SOURCE_TMPFS);
        assert_int_equal(f->upper.kind, SOURCE_STATE);
        assert_string_equal(f->upper.path, "/f");
        assert_int_equal(f->upper.loc.col, 30);
        assert_true(f->flags & ENTRY_RO);
}

/* ---- lines, comments, targets ---- */

static void test_comments_and_blanks(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load_ok("# a comment\n"
                        "\n"
                        "   \t \n"
                        "\tx\ttmpfs  -   /t#x   # the rest is a comment, ro,bogus\n"
                        "y tmpfs - /y\r\n"
                        "  # indented comment\n");
        const Entry *x = profile_set_find(s, "x");

        assert_int_equal(s->profiles[0]->n_entries, 2);
        assert_string_equal(x->target, "/t#x");
        assert_int_equal(x->loc.line, 4);
        assert_int_equal(x->loc.col, 2);
        assert_int_equal(x->target_loc.col, 15);
        assert_int_equal(x->flags, 0);
        assert_string_equal(profile_set_find(s, "y")->target, "/y");
}

static void test_target_normalized(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load_ok("x tmpfs - //srv/./a//b/\n"
                                                             "y.z-1_ tmpfs - /\n");
        assert_string_equal(profile_set_find(s, "x")->target, "/srv/a/b");
        assert_string_equal(profile_set_find(s, "x")->target_raw, "//srv/./a//b/");
        assert_string_equal(profile_set_find(s, "y.z-1_")->target, "/");
}

static void test_too_few_fields(void **state) {
        expect_error("x bind /a\n", "t.profile:1:10: missing TARGET: an entry is NAME TYPE "
                                    "SOURCE TARGET [OPTIONS]");
}

static void test_too_many_fields(void **state) {
        expect_error("x bind /a /b ro extra\n",
                     "t.profile:1:17: unexpected field 'extra': an entry is NAME TYPE SOURCE "
                     "TARGET [OPTIONS], with OPTIONS separated by commas");
}

static void test_bad_name(void **state) {
        expect_error("ok tmpfs - /ok\na/b tmpfs - /t\n",
                     "t.profile:2:1: bad entry name 'a/b': use letters, digits, '_', '.' and '-'");
}

static void test_unknown_type(void **state) {
        expect_error("x bogus - /t\n", "t.profile:1:3: unknown type 'bogus' (expected image, "
                                       "bind, overlay, tmpfs, loop or dev)");
}

static void test_relative_target(void **state) {
        expect_error("x tmpfs - tmp\n", "t.profile:1:11: target 'tmp' is not an absolute path");
}

static void test_dotdot_target(void **state) {
        expect_error("x tmpfs - /a/../b\n", "t.profile:1:14: '..' is not allowed in a path");
}

static void test_dotdot_source(void **state) {
        expect_error("x bind state:a/.. /t\n", "t.profile:1:16: '..' is not allowed in a path");
}

/* ---- source errors ---- */

static void test_bad_source(void **state) {
        expect_error("x bind relative /t\n",
                     "t.profile:1:8: bad source 'relative': expected '-', image:PATH, "
                     "state:PATH, an absolute path, FILE:ENTRY or @ENTRY");
}

static void test_tmpfs_wrong_source(void **state) {
        expect_error("x tmpfs /src /t\n", "t.profile:1:9: a tmpfs entry takes '-' as its source");
}

static void test_image_wrong_source(void **state) {
        expect_error("x image state:a /\n",
                     "t.profile:1:9: an image entry takes '-' or image:PATH as its source");
}

static void test_bind_wrong_source(void **state) {
        expect_error("x bind - /t\n",
                     "t.profile:1:8: a bind entry takes image:PATH, state:PATH, an absolute host "
                     "path, FILE:ENTRY or @ENTRY as its source");
}

static void test_overlay_devtag_source(void **state) {
        expect_error("x overlay UUID=abc /t upper=tmpfs\n",
                     "t.profile:1:11: an overlay entry takes image:PATH, state:PATH, an absolute "
                     "host path, FILE:ENTRY or @ENTRY as its source");
}

static void test_dev_wrong_source(void **state) {
        expect_error("x dev /srv/disk.img /t\n",
                     "t.profile:1:7: a dev entry takes a /dev path, UUID=... or LABEL=... as its "
                     "source");
}

static void test_empty_tree_path(void **state) {
        expect_error("x bind image: /t\n", "t.profile:1:14: empty path after 'image:'");
}

static void test_bad_ref_syntax(void **state) {
        expect_error("x bind l+gs:e /t\n", "t.profile:1:8: bad profile name 'l+gs' in FILE:ENTRY");
        teardown(state);
        setup(state);
        expect_error("x bind logs:/e /t\n", "t.profile:1:13: bad entry name '' in FILE:ENTRY");
}

/* ---- options ---- */

static void test_flag_options(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load_ok("a bind /a /a ro,nosuid,nodev,noexec,optional\n"
                        "b bind state:b /b rw,create\n"
                        "c tmpfs - /c copy,size=10M,mode=0700,uid=1000,gid=100\n");
        const Entry *a = profile_set_find(s, "a"), *b = profile_set_find(s, "b"),
                    *c = profile_set_find(s, "c");

        assert_int_equal(a->flags,
                         ENTRY_RO | ENTRY_NOSUID | ENTRY_NODEV | ENTRY_NOEXEC | ENTRY_OPTIONAL);
        assert_int_equal(b->flags, ENTRY_RW | ENTRY_CREATE);
        assert_int_equal(c->flags, ENTRY_COPY | ENTRY_HAS_SIZE | ENTRY_HAS_MODE | ENTRY_HAS_UID |
                                           ENTRY_HAS_GID);
        assert_int_equal(c->size, 10ull << 20);
        assert_int_equal(c->mode, 0700);
        assert_int_equal(c->uid, 1000);
        assert_int_equal(c->gid, 100);
}

static void test_after_option(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load_ok("a tmpfs - /a after=c,after=logs:area\n"
                        "b tmpfs - /b\n"
                        "c tmpfs - /c after=b\n");
        const Entry *a = profile_set_find(s, "a");

        assert_int_equal(a->n_after, 2);
        assert_null(a->after[0].ref_file);
        assert_ptr_equal(a->after[0].ref, profile_set_find(s, "c"));
        assert_int_equal(a->after[0].loc.col, 20);
        assert_string_equal(a->after[1].ref_file, "logs");
        assert_string_equal(a->after[1].ref->name, "area");
        assert_true(a->after[1].ref->profile->shared);
}

static void test_unknown_option(void **state) {
        expect_error("x tmpfs - /t size=1M,bogus\n", "t.profile:1:22: unknown option 'bogus'");
}

static void test_bad_size(void **state) {
        expect_error("x tmpfs - /t size=12X\n", "t.profile:1:19: bad size '12X'");
}

static void test_bad_mode(void **state) {
        expect_error("x tmpfs - /t mode=999\n",
                     "t.profile:1:19: bad mode '999' (expected octal, at most 07777)");
}

static void test_bad_uid_gid(void **state) {
        expect_error("x tmpfs - /t uid=root\n", "t.profile:1:18: bad uid 'root'");
        teardown(state);
        setup(state);
        expect_error("x tmpfs - /t uid=0,gid=-1\n", "t.profile:1:24: bad gid '-1'");
}

static void test_ro_rw_conflict(void **state) {
        expect_error("x bind /a /t ro,rw\n", "t.profile:1:17: options 'ro' and 'rw' conflict");
}

static void test_upper_on_bind(void **state) {
        expect_error("x bind /a /t upper=tmpfs\n",
                     "t.profile:1:14: option 'upper=' is only valid for overlay entries, not bind");
}

static void test_copy_on_bind(void **state) {
        expect_error("x bind /a /t copy\n",
                     "t.profile:1:14: option 'copy' is only valid for tmpfs entries, not bind");
}

static void test_size_on_bind(void **state) {
        expect_error("x bind /a /t ro,size=1M\n",
                     "t.profile:1:17: option 'size=' is only valid for tmpfs entries and "
                     "overlays with upper=tmpfs, not bind");
}

/* An overlay's size= limits its tmpfs upper layer, in either order of the
 * options; with an upper on disk it is an error at the later option. */
static void test_size_on_overlay(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *set = NULL;
        const Entry *e;

        set = load_ok("a overlay /a /a upper=tmpfs,size=2M\n"
                      "b overlay /b /b size=1G,upper=tmpfs\n");
        e = set->profiles[0]->entries[0];
        assert_true(e->flags & ENTRY_HAS_SIZE);
        assert_true(e->size == 2 * 1024 * 1024);
        e = set->profiles[0]->entries[1];
        assert_true(e->size == UINT64_C(1024) * 1024 * 1024);
}

static void test_size_then_upper_on_disk(void **state) {
        expect_error("x overlay /a /t size=1M,upper=/srv/up\n",
                     "t.profile:1:31: option 'size=' on an overlay needs upper=tmpfs: it limits "
                     "that tmpfs, and an upper layer on disk has none");
}

static void test_bad_size_on_overlay(void **state) {
        expect_error("x overlay /a /t upper=tmpfs,size=lots\n", "t.profile:1:34: bad size 'lots'");
}

static void test_upper_on_disk_then_size(void **state) {
        expect_error("x overlay /a /t upper=state:x,size=1M\n",
                     "t.profile:1:31: option 'size=' on an overlay needs upper=tmpfs: it limits "
                     "that tmpfs, and an upper layer on disk has none");
}

static void test_mode_on_overlay(void **state) {
        expect_error("x overlay /a /t upper=tmpfs,mode=0755\n",
                     "t.profile:1:29: option 'mode=' is only valid for tmpfs entries, not "
                     "overlay");
}

/* Writes would reach every instance of the image and its shared objects. */
static void test_rw_on_image(void **state) {
        expect_error("root image - / rw\n",
                     "t.profile:1:16: option 'rw' would write into the shared image, which is "
                     "always read-only: use an overlay with upper= for a writable view");
}

static void test_rw_on_image_bind(void **state) {
        expect_error("etc bind image:/etc /etc nosuid,rw\n",
                     "t.profile:1:33: option 'rw' would write into the shared image, which is "
                     "always read-only: use an overlay with upper= for a writable view");
}

static void test_rw_on_loop(void **state) {
        expect_error("x loop /img /t rw\n", "t.profile:1:16: option 'rw' is not valid for a loop "
                                            "entry: loop images are mounted read-only");
}

static void test_create_on_tmpfs(void **state) {
        expect_error("x tmpfs - /t create\n",
                     "t.profile:1:14: option 'create' is only valid for bind entries, not tmpfs");
}

static void test_option_twice(void **state) {
        expect_error("x bind /a /t ro,nosuid,ro\n", "t.profile:1:24: option 'ro' given twice");
}

static void test_option_value_rules(void **state) {
        expect_error("x bind /a /t ro=1\n", "t.profile:1:14: option 'ro' takes no value");
        teardown(state);
        setup(state);
        expect_error("x tmpfs - /t size=\n", "t.profile:1:14: option 'size=' needs a value");
}

static void test_empty_option(void **state) {
        expect_error("x bind /a /t ro,,nodev\n", "t.profile:1:17: empty option");
}

static void test_overlay_needs_upper(void **state) {
        expect_error("x overlay image:/a /a ro\n",
                     "t.profile:1:23: overlay entry 'x' needs upper= (state:PATH, an absolute "
                     "path or tmpfs)");
}

static void test_bad_upper(void **state) {
        expect_error("x overlay image:/a /a upper=image:/b\n",
                     "t.profile:1:29: bad upper 'image:/b': expected state:PATH, an absolute path "
                     "or tmpfs");
}

/* ---- placeholders ---- */

static void test_placeholders_accepted(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load_ok("a bind state:%n /srv/%h/%i/100%% rw\n"
                        "b overlay image:/x /x upper=/var/lib/up/%n\n");
        assert_string_equal(profile_set_find(s, "a")->target, "/srv/%h/%i/100%%");
        assert_string_equal(profile_set_find(s, "b")->upper.path, "/var/lib/up/%n");
}

static void test_undefined_placeholder_target(void **state) {
        expect_error("x tmpfs - /srv/%x/y\n", "t.profile:1:16: undefined placeholder '%x'");
}

static void test_undefined_placeholder_source(void **state) {
        expect_error("x bind /a% /t\n", "t.profile:1:10: undefined placeholder '%'");
}

static void test_undefined_placeholder_upper(void **state) {
        expect_error("x overlay image:/a /a upper=state:%%%z\n",
                     "t.profile:1:37: undefined placeholder '%z'");
}

static void test_placeholders_expand(void **state) {
        Placeholders p = {.name = "web1", .hostname = "web1.example", .image_id = NULL};
        _cleanup_free_ char *out = NULL;
        char missing = 0;

        assert_int_equal(placeholders_expand("/srv/%n/%h/50%%", &p, &out, &missing), 0);
        assert_string_equal(out, "/srv/web1/web1.example/50%");
        assert_int_equal(placeholders_expand("/img/%i", &p, &out, &missing), -ENXIO);
        assert_int_equal(missing, 'i');
        assert_int_equal(placeholders_expand("/x/%q", &p, &out, &missing), -EINVAL);
        assert_int_equal(missing, 'q');
        assert_int_equal(placeholders_expand("/x/%", &p, &out, &missing), -EINVAL);
}

static void test_placeholder_location(void **state) {
        Location loc = {"f", 3, 10}, l;

        l = placeholder_location(&loc, "/a/%%n/%n", 'n');
        assert_int_equal(l.col, 17);
        assert_int_equal(l.line, 3);
        l = placeholder_location(&loc, "/a", 'n');
        assert_int_equal(l.col, 10);
}

/* ---- names and targets ---- */

static void test_duplicate_name(void **state) {
        expect_error("a tmpfs - /a\n\na tmpfs - /b\n",
                     "t.profile:3:1: duplicate entry name 'a' (first defined at t.profile:1)");
}

static void test_duplicate_target(void **state) {
        expect_error("a tmpfs - /a\nb tmpfs - /a/\n",
                     "t.profile:2:11: duplicate target '/a' (also the target of 'a' at "
                     "t.profile:1)");
}

/* ---- set lines ---- */

static void test_settings(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load_ok("set init /bin/sh -c 'exec sleep  1'   # comment\n"
                        "set rewrite /etc/hosts  //etc/./hostname\n"
                        "set network none\n"
                        "set network bridge:br0\n");
        const Profile *p = s->profiles[0];

        assert_string_equal(profile_get_setting(p, "init"), "/bin/sh -c 'exec sleep  1'");
        assert_string_equal(profile_get_setting(p, "rewrite"), "/etc/hosts /etc/hostname");
        /* The later line wins. */
        assert_string_equal(profile_get_setting(p, "network"), "bridge:br0");
        assert_null(profile_get_setting(p, "colour"));
        assert_int_equal(strv_length(p->settings), 6);
        assert_int_equal(p->n_entries, 0);
}

static void test_unknown_setting(void **state) {
        expect_error("set colour blue\n",
                     "t.profile:1:5: unknown setting 'colour' (expected init, rewrite or network)");
}

static void test_setting_needs_value(void **state) {
        expect_error("set init   # nothing\n", "t.profile:1:5: setting 'init' needs a value");
}

static void test_bad_network(void **state) {
        expect_error("set network bridge:\n", "t.profile:1:13: bad network 'bridge:' (expected "
                                              "none, host or bridge:BRIDGE)");
        teardown(state);
        setup(state);
        expect_error("set network host none\n",
                     "t.profile:1:18: setting 'network' takes one value");
}

static void test_rewrite_relative(void **state) {
        expect_error("set rewrite /etc/hosts etc/motd\n",
                     "t.profile:1:24: rewrite path 'etc/motd' is not absolute");
}

/* ---- include ---- */

static void test_include_and_reference(void **state) {
        _cleanup_free_ char *path = data_path("web.profile"), *common = data_path("common.profile"),
                            *logs = data_path("logs.profile");
        _cleanup_(profile_set_freep) ProfileSet *s = NULL;
        const Profile *p, *lp;
        const Entry *root, *log;

        /* No search path: include and FILE:ENTRY look in the file's own directory. */
        assert_int_equal(profile_set_load(path, NULL, &s), 0);
        assert_int_equal(s->n_profiles, 2);
        p = s->profiles[0];
        assert_string_equal(p->name, "web");
        assert_string_equal(p->path, path);
        assert_int_equal(p->n_entries, 2);
        root = p->entries[0];
        log = p->entries[1];
        /* Spliced in where the include line is, with its own location. */
        assert_string_equal(root->name, "root");
        assert_string_equal(root->loc.file, common);
        assert_int_equal(root->loc.line, 2);
        assert_string_equal(log->loc.file, path);
        assert_int_equal(log->loc.line, 3);
        assert_string_equal(profile_get_setting(p, "init"), "/sbin/init --log-level=info");
        assert_string_equal(profile_get_setting(p, "network"), "host");

        lp = s->profiles[1];
        assert_true(lp->shared);
        assert_string_equal(lp->name, "logs");
        assert_string_equal(lp->path, logs);
        assert_ptr_equal(log->source.ref, lp->entries[1]);
        /* logs refers to its own entry, which does not load it twice. */
        assert_ptr_equal(lp->entries[1]->source.ref, lp->entries[0]);
}

static void test_include_search_path(void **state) {
        _cleanup_free_ char *dir = data_path("search");
        char *sp[] = {dir, NULL};
        _cleanup_(profile_set_freep) ProfileSet *s = NULL;

        assert_int_equal(profile_set_load_string("t", "include extra\ninclude dironly\n", sp, &s),
                         0);
        assert_int_equal(s->profiles[0]->n_entries, 2);
        assert_string_equal(s->profiles[0]->entries[0]->name, "extra");
        /* The directory "dironly" is skipped for dironly.profile. */
        assert_string_equal(s->profiles[0]->entries[1]->name, "fromfile");
}

static void test_include_arity(void **state) {
        expect_error("include\n", "t.profile:1:8: missing FILE: include FILE");
        teardown(state);
        setup(state);
        expect_error("include a b\n", "t.profile:1:11: unexpected 'b' after the included file");
}

static void test_missing_include(void **state) {
        expect_file_error("missing-include.profile",
                          "@/missing-include.profile:2:11: included profile 'nothere' not found");
}

static void test_include_cycle(void **state) {
        expect_file_error("cycle-a.profile",
                          "@/cycle-b.profile:1:11: include cycle: @/cycle-a.profile -> "
                          "@/cycle-b.profile -> @/cycle-a.profile");
}

static void test_duplicate_across_include(void **state) {
        expect_file_error("dup-a.profile", "@/dup-b.profile:1:1: duplicate entry name 'tmp' "
                                           "(first defined at @/dup-a.profile:1)");
}

/* The second include of a file is the error, not the duplicate names it would
 * bring in (which pointed into the included file itself). */
static void test_include_twice(void **state) {
        expect_error("include common\nx tmpfs - /x\ninclude common\n",
                     "t.profile:3:9: 'common' is already included at t.profile:1");
        teardown(state);
        setup(state);
        /* Through another file (web includes common), and by another name. */
        expect_error("include web\ninclude common.profile\n",
                     "t.profile:2:9: 'common.profile' is already included at @/web.profile:2");
}

/* ---- references ---- */

static void test_unknown_profile(void **state) {
        expect_error("x bind nope:e /t\n",
                     "t.profile:1:8: unknown profile 'nope' (not found on the search path)");
}

static void test_unknown_entry(void **state) {
        expect_error("x bind logs:nope /t\n",
                     "t.profile:1:13: unknown entry 'nope' in profile 'logs' (@/logs.profile)");
}

static void test_unknown_after(void **state) {
        expect_error("x tmpfs - /t after=y\n",
                     "t.profile:1:20: unknown entry 'y' in profile 't' (t.profile)");
}

static void test_unknown_after_ref(void **state) {
        expect_error("x tmpfs - /t after=logs:nope\n",
                     "t.profile:1:25: unknown entry 'nope' in profile 'logs' (@/logs.profile)");
}

static void test_shared_placeholder(void **state) {
        expect_error("x bind bad-shared:x /t\n",
                     "@/bad-shared.profile:2:46: placeholder '%n' cannot be used in shared "
                     "profile 'bad-shared': its entries are mounted once for every instance");
}

static void test_shared_state_source(void **state) {
        expect_error("x bind state-shared:y /t\n",
                     "@/state-shared.profile:1:20: shared profile 'state-shared' cannot use "
                     "state: sources: its entries are mounted once on the host");
}

static void test_main_self_reference(void **state) {
        expect_file_error("selfref.profile", "@/selfref.profile:1:20: 'selfref' is the profile "
                                             "being planned: its entries cannot be shared");
}

/* A file the main profile includes is part of it: as FILE:ENTRY it would be
 * loaded again as a shared profile, its entries mounted twice. */
static void test_main_included_reference(void **state) {
        expect_error("include common\nx bind common:root /x\n",
                     "t.profile:2:8: 'common' is included in the profile being planned (at "
                     "t.profile:1): its entries cannot be shared");
        teardown(state);
        setup(state);
        expect_error("include common\nx bind refs-common:c /x\n",
                     "@/refs-common.profile:2:20: 'common' is included in the profile being "
                     "planned (at t.profile:1): its entries cannot be shared");
}

/* after= only orders, so it may name an entry of an included file that way. */
static void test_main_included_after(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load_ok("include common\nx tmpfs - /x after=common:root\n");

        assert_int_equal(s->n_profiles, 1);
        assert_ptr_equal(profile_set_find(s, "x")->after[0].ref, profile_set_find(s, "root"));
}

static void test_qualified_name(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load_ok("x bind logs:share /x\n");
        _cleanup_free_ char *a = NULL, *b = NULL;

        assert_int_equal(entry_qualified_name(profile_set_find(s, "x"), &a), 0);
        assert_string_equal(a, "x");
        assert_int_equal(entry_qualified_name(s->profiles[1]->entries[0], &b), 0);
        assert_string_equal(b, "logs:area");
}

/* ---- aside entries and @ENTRY sources ---- */

static void test_aside_and_entry_sources(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s =
                load_ok("rw overlay image:/ - upper=state:root\n"
                        "root bind @rw / ro\n"
                        "etc bind @rw//etc/ /etc rw,create\n"
                        "sub bind @rw/srv/%n /srv/x\n"
                        "pool tmpfs - - size=1M\n"
                        "lp loop @pool/img.erofs /lp\n");
        const Entry *rw = profile_set_find(s, "rw"), *e;

        assert_true(rw->aside);
        assert_null(rw->target);
        assert_string_equal(rw->target_raw, "-");
        assert_int_equal(rw->target_loc.col, 20);
        assert_true(profile_set_find(s, "pool")->aside);
        e = profile_set_find(s, "root");
        assert_false(e->aside);
        assert_int_equal(e->source.kind, SOURCE_ENTRY);
        assert_string_equal(e->source.ref_entry, "rw");
        assert_ptr_equal(e->source.ref, rw);
        assert_string_equal(e->source.path, "/");
        assert_null(e->source.ref_file);
        e = profile_set_find(s, "etc");
        assert_string_equal(e->source.path, "/etc");
        assert_int_equal(e->source.loc.col, 10);
        assert_string_equal(profile_set_find(s, "sub")->source.path, "/srv/%n");
        e = profile_set_find(s, "lp");
        assert_ptr_equal(e->source.ref, profile_set_find(s, "pool"));
        assert_string_equal(e->source.path, "/img.erofs");
}

static void test_aside_targets_never_collide(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load_ok("a tmpfs - -\n"
                                                             "b tmpfs - -\n"
                                                             "x bind @a /x\n"
                                                             "y bind @b /y\n");
        assert_int_equal(s->profiles[0]->n_entries, 4);
}

static void test_aside_unused(void **state) {
        expect_error("a tmpfs - -\n",
                     "t.profile:1:11: entry 'a' is mounted aside but nothing uses it");
}

static void test_aside_after_is_no_use(void **state) {
        /* after= only orders: nothing would ever see the mount. */
        expect_error("a tmpfs - -\nb tmpfs - /b after=a\n",
                     "t.profile:1:11: entry 'a' is mounted aside but nothing uses it");
}

static void test_aside_image(void **state) {
        expect_error("r image - -\n",
                     "t.profile:1:11: an image entry cannot be mounted aside (target '-'): use "
                     "an overlay or a bind of image:PATH");
}

static void test_aside_copy(void **state) {
        expect_error("a tmpfs - - copy\nb bind @a /b\n",
                     "t.profile:1:13: option 'copy' cannot be used on an entry mounted aside: "
                     "nothing lies underneath it");
}

static void test_entry_source_unknown(void **state) {
        expect_error("ok tmpfs - /ok\nx bind @nope/sub /t\n",
                     "t.profile:2:9: unknown entry 'nope' in profile 't' (t.profile)");
}

static void test_entry_source_syntax(void **state) {
        expect_error("x bind @/sub /t\n", "t.profile:1:9: bad entry name '' in @ENTRY");
        teardown(state);
        setup(state);
        expect_error("x bind @a/../b /t\n", "t.profile:1:11: '..' is not allowed in a path");
        teardown(state);
        setup(state);
        expect_error("a tmpfs - -\nx tmpfs @a /t\n",
                     "t.profile:2:9: a tmpfs entry takes '-' as its source");
        teardown(state);
        setup(state);
        expect_error("a tmpfs - -\nx bind @a/%q /t\n",
                     "t.profile:2:11: undefined placeholder '%q'");
}

static void test_ref_to_aside_entry(void **state) {
        expect_error("x bind aside:pool /t\n",
                     "t.profile:1:14: entry 'pool' of profile 'aside' is mounted aside: only its "
                     "own profile can use it, as @pool");
}

static void test_shared_aside(void **state) {
        _cleanup_(profile_set_freep) ProfileSet *s = load_ok("x bind aside:a /x\n");
        const Profile *ap = s->profiles[1];

        assert_int_equal(s->n_profiles, 2);
        assert_true(ap->shared);
        assert_true(ap->entries[0]->aside);
        assert_ptr_equal(ap->entries[1]->source.ref, ap->entries[0]);
        assert_ptr_equal(ap->entries[2]->source.ref, ap->entries[0]);
        assert_ptr_equal(profile_set_find(s, "x")->source.ref, ap->entries[1]);
}

static void test_shared_entry_source_outside(void **state) {
        /* @ names an entry of the profile it is written in, never another's. */
        expect_error("x bind aside-outside:x /t\n",
                     "@/aside-outside.profile:2:21: unknown entry 'area' in profile "
                     "'aside-outside' (@/aside-outside.profile)");
}

/* ---- files and the search path ---- */

static void test_missing_file(void **state) {
        ProfileSet *s = NULL;

        assert_int_equal(profile_set_load("/nonexistent/x.profile", NULL, &s), -ENOENT);
        assert_string_equal(logged(), "goldroot: cannot read profile '/nonexistent/x.profile': No "
                                      "such file or directory");
}

static void test_nul_byte(void **state) {
        char path[] = "/tmp/goldroot-test-XXXXXX";
        _cleanup_free_ char *want = NULL;
        ProfileSet *s = NULL;
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "a tmpfs - /a\nb tm\0pfs - /b\n", 27), 27);
        close(fd);
        assert_int_equal(profile_set_load(path, NULL, &s), -EBADMSG);
        unlink(path);
        assert_true(asprintf(&want, "goldroot: %s:2:5: NUL byte in profile text", path) > 0);
        assert_string_equal(logged(), want);
}

static void test_default_search_path(void **state) {
        _cleanup_strv_free_ char **a = NULL, **b = NULL;
        const char *builtin;

        setenv("GOLDROOT_PROFILE_DIR", "/one::/two", 1);
        assert_int_equal(profile_default_search_path("/x/y/web.profile", &a), 0);
        assert_int_equal(strv_length(a), 4);
        assert_string_equal(a[0], "/x/y");
        assert_string_equal(a[1], "/one");
        assert_string_equal(a[2], "/two");
        builtin = a[3];
        assert_true(streq(builtin, GOLDROOT_BUILTIN_PROFILE_DIR) ||
                    streq(builtin, GOLDROOT_SOURCE_PROFILE_DIR));

        unsetenv("GOLDROOT_PROFILE_DIR");
        assert_int_equal(profile_default_search_path("web.profile", &b), 0);
        assert_int_equal(strv_length(b), 3);
        assert_string_equal(b[0], ".");
        assert_string_equal(b[1], "/etc/goldroot/profiles");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_every_type),
                T(test_image_sources),
                T(test_rw_on_image),
                T(test_rw_on_image_bind),
                T(test_bind_source_forms),
                T(test_dev_sources),
                T(test_loop_and_overlay_sources),
                T(test_comments_and_blanks),
                T(test_target_normalized),
                T(test_too_few_fields),
                T(test_too_many_fields),
                T(test_bad_name),
                T(test_unknown_type),
                T(test_relative_target),
                T(test_dotdot_target),
                T(test_dotdot_source),
                T(test_bad_source),
                T(test_tmpfs_wrong_source),
                T(test_image_wrong_source),
                T(test_bind_wrong_source),
                T(test_overlay_devtag_source),
                T(test_dev_wrong_source),
                T(test_empty_tree_path),
                T(test_bad_ref_syntax),
                T(test_flag_options),
                T(test_after_option),
                T(test_unknown_option),
                T(test_bad_size),
                T(test_bad_mode),
                T(test_bad_uid_gid),
                T(test_ro_rw_conflict),
                T(test_upper_on_bind),
                T(test_copy_on_bind),
                T(test_size_on_bind),
                T(test_size_on_overlay),
                T(test_size_then_upper_on_disk),
                T(test_upper_on_disk_then_size),
                T(test_bad_size_on_overlay),
                T(test_mode_on_overlay),
                T(test_rw_on_loop),
                T(test_create_on_tmpfs),
                T(test_option_twice),
                T(test_option_value_rules),
                T(test_empty_option),
                T(test_overlay_needs_upper),
                T(test_bad_upper),
                T(test_placeholders_accepted),
                T(test_undefined_placeholder_target),
                T(test_undefined_placeholder_source),
                T(test_undefined_placeholder_upper),
                T(test_placeholders_expand),
                T(test_placeholder_location),
                T(test_duplicate_name),
                T(test_duplicate_target),
                T(test_settings),
                T(test_unknown_setting),
                T(test_setting_needs_value),
                T(test_bad_network),
                T(test_rewrite_relative),
                T(test_include_and_reference),
                T(test_include_search_path),
                T(test_include_arity),
                T(test_missing_include),
                T(test_include_cycle),
                T(test_duplicate_across_include),
                T(test_include_twice),
                T(test_unknown_profile),
                T(test_unknown_entry),
                T(test_unknown_after),
                T(test_unknown_after_ref),
                T(test_shared_placeholder),
                T(test_shared_state_source),
                T(test_main_self_reference),
                T(test_main_included_reference),
                T(test_main_included_after),
                T(test_qualified_name),
                T(test_aside_and_entry_sources),
                T(test_aside_targets_never_collide),
                T(test_aside_unused),
                T(test_aside_after_is_no_use),
                T(test_aside_image),
                T(test_aside_copy),
                T(test_entry_source_unknown),
                T(test_entry_source_syntax),
                T(test_ref_to_aside_entry),
                T(test_shared_aside),
                T(test_shared_entry_source_outside),
                T(test_missing_file),
                T(test_nul_byte),
                T(test_default_search_path),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
