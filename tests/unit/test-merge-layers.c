/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the merge module: file types (symlinks never followed, modes,
 * FIFOs, devices), opaque directories, bind and whole-root layers, a state made
 * by a real overlayfs mount, hostile states, the diff and the report output. */
#include "merge-fixture.h"

static void test_symlinks_never_followed(void **state) {
        Fx *fx = *state;
        char secret[128];
        int fd;

        /* A host file with the same content as the image's motd: if the state's
         * symlink to it were followed, the copy-up would look unchanged. */
        snprintf(secret, sizeof secret, "%s/secret", fx->dir);
        fd = open(secret, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_int_equal(write(fd, "hello\n", 6), 6);
        close(fd);
        put(fx->base_etc, "motd", "hello\n", 0644);
        put(fx->theirs_etc, "motd", "hello\n", 0644);
        assert_int_equal(symlinkat(secret, fx->state, "motd"), 0);
        assert_int_equal(symlinkat("/etc/shadow", fx->state, "shadow-link"), 0);
        assert_int_equal(symlinkat("/nonexistent/dangling", fx->state, "dangling"), 0);
        assert_int_equal(symlinkat("/", fx->state, "rootlink"), 0);
        assert_int_equal(symlinkat("target", fx->base_etc, "same"), 0);
        assert_int_equal(symlinkat("target", fx->theirs_etc, "same"), 0);
        copy_up(fx, "same");

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        expect(fx, "/etc/motd", MERGE_KEEP);
        assert_int_equal(find(fx, "/etc/motd")->ours_type, MERGE_NODE_LNK);
        expect(fx, "/etc/shadow-link", MERGE_KEEP);
        expect(fx, "/etc/dangling", MERGE_KEEP);
        expect(fx, "/etc/rootlink", MERGE_KEEP);
        expect(fx, "/etc/same", MERGE_DROP);
        for (size_t i = 0; i < fx->report->n_entries; i++)
                assert_null(startswith(fx->report->entries[i].path, "/etc/rootlink/"));
        assert_int_equal(apply(fx), 0);
        assert_link(fx->new_, "motd", secret);
        assert_link(fx->new_, "shadow-link", "/etc/shadow");
        assert_link(fx->new_, "dangling", "/nonexistent/dangling");
        assert_link(fx->new_, "rootlink", "/");
        assert_false(exists(fx->new_, "same"));
        assert_true(S_ISLNK(mode_of(fx->new_, "rootlink")));
}

static void test_dir_modes_recreated(void **state) {
        Fx *fx = *state;

        mkdir_at(fx->state, "a", 0700);
        mkdir_at(fx->state, "a/b", 0770);
        mkdir_at(fx->state, "a/b/c", 0707);
        put(fx->state, "a/b/c/f", "deep\n", 0600);
        assert_int_equal(fchownat(fx->state, "a/b", 1234, 5678, 0), 0);
        assert_int_equal(fchownat(fx->state, "a/b/c/f", 4321, 8765, 0), 0);
        /* A copied-up directory whose mode was changed locally. */
        mkdir_at(fx->base_etc, "ssl", 0755);
        mkdir_at(fx->theirs_etc, "ssl", 0755);
        mkdir_at(fx->state, "ssl", 0700);
        /* A local xattr is carried; overlayfs's own bookkeeping is not. */
        put(fx->state, "x", "x\n", 0644);
        fd_set_xattr(fx->state, "x", "user.tag", "v");
        fd_set_xattr(fx->state, "x", "trusted.overlay.origin", "stale");

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        assert_string_equal(expect(fx, "/etc/a", MERGE_KEEP)->reason, "local addition");
        expect(fx, "/etc/a/b/c/f", MERGE_KEEP);
        assert_string_equal(expect(fx, "/etc/ssl", MERGE_KEEP)->reason, "local change");
        assert_int_equal(apply(fx), 0);
        assert_int_equal(mode_of(fx->new_, "a"), S_IFDIR | 0700);
        assert_int_equal(mode_of(fx->new_, "a/b"), S_IFDIR | 0770);
        assert_int_equal(mode_of(fx->new_, "a/b/c"), S_IFDIR | 0707);
        assert_int_equal(mode_of(fx->new_, "a/b/c/f"), S_IFREG | 0600);
        assert_int_equal(mode_of(fx->new_, "ssl"), S_IFDIR | 0700);
        {
                struct stat st;
                char v[16] = {};
                assert_int_equal(fstatat(fx->new_, "a/b", &st, 0), 0);
                assert_int_equal(st.st_uid, 1234);
                assert_int_equal(st.st_gid, 5678);
                assert_int_equal(fstatat(fx->new_, "a/b/c/f", &st, 0), 0);
                assert_int_equal(st.st_uid, 4321);
                assert_int_equal(st.st_gid, 8765);
                assert_content(fx->new_, "a/b/c/f", "deep\n");
                assert_int_equal(fd_get_xattr(fx->new_, "x", "user.tag", v, sizeof v), 1);
                assert_string_equal(v, "v");
                assert_int_equal(fd_get_xattr(fx->new_, "x", "trusted.overlay.origin", v, sizeof v),
                                 -ENODATA);
        }
}

static void test_fifos_and_devices_carried(void **state) {
        Fx *fx = *state;

        assert_int_equal(mkfifoat(fx->state, "initctl", 0620), 0);
        assert_int_equal(fchmodat(fx->state, "initctl", 0620, 0), 0);
        assert_int_equal(mknodat(fx->state, "null", S_IFCHR | 0666, makedev(1, 3)), 0);
        assert_int_equal(fchmodat(fx->state, "null", 0666, 0), 0);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        expect(fx, "/etc/initctl", MERGE_CARRY);
        expect(fx, "/etc/null", MERGE_CARRY);
        assert_int_equal(apply(fx), 0);
        assert_int_equal(mode_of(fx->new_, "initctl"), S_IFIFO | 0620);
        {
                struct stat st;
                assert_int_equal(fstatat(fx->new_, "null", &st, AT_SYMLINK_NOFOLLOW), 0);
                assert_true(S_ISCHR(st.st_mode));
                assert_int_equal(st.st_rdev, makedev(1, 3));
                assert_int_equal(st.st_mode & 07777, 0666);
        }
}

static void test_opaque_dir(void **state) {
        Fx *fx = *state;
        int v;

        put(fx->base_etc, "d/kept", "k\n", 0644);
        put(fx->base_etc, "d/changed", "1\n", 0644);
        put(fx->base_etc, "d/removed", "r\n", 0644);
        put(fx->theirs_etc, "d/kept", "k\n", 0644);
        put(fx->theirs_etc, "d/changed", "2\n", 0644);
        put(fx->theirs_etc, "d/brand-new", "n\n", 0644);
        put(fx->base_etc, "d/sub/x", "1\n", 0644);
        put(fx->theirs_etc, "d/sub/x", "2\n", 0644);
        mkdir_at(fx->state, "d", 0755);
        set_opaque(fx->state, "d");
        put(fx->state, "d/mine", "m\n", 0644);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        assert_string_equal(expect(fx, "/etc/d", MERGE_KEEP)->reason,
                            "replaces the image directory");
        expect(fx, "/etc/d/mine", MERGE_KEEP);
        expect(fx, "/etc/d/kept", MERGE_DELETED);
        expect(fx, "/etc/d/changed", MERGE_CONFLICT_DELETED);
        expect(fx, "/etc/d/removed", MERGE_DROP);
        /* What the image adds is hidden too: a conflict, reported. */
        assert_string_equal(expect(fx, "/etc/d/brand-new", MERGE_CONFLICT_DELETED)->reason,
                            "added in the image, hidden locally");
        expect(fx, "/etc/d/sub", MERGE_CONFLICT_DELETED);
        assert_string_equal(expect(fx, "/etc/d/sub/x", MERGE_CONFLICT_DELETED)->reason,
                            "changed in the image");
        assert_int_equal(apply(fx), 0);
        assert_true(is_opaque(fx->new_, "d"));
        v = view(fx, "theirs/etc", "new");
        assert_content(v, "d/mine", "m\n");
        assert_false(exists(v, "d/kept"));
        assert_false(exists(v, "d/changed"));
        assert_false(exists(v, "d/brand-new"));
        unview(fx);

        /* theirs restores the entry the image changed, inside the opaque dir. */
        assert_int_equal(rm_rf_at(fx->new_, "d"), 0);
        plan(fx, MERGE_POLICY_THEIRS);
        expect(fx, "/etc/d/changed", MERGE_RESTORED);
        expect(fx, "/etc/d/brand-new", MERGE_RESTORED);
        expect(fx, "/etc/d/sub", MERGE_RESTORED);
        assert_int_equal(apply(fx), 0);
        assert_true(is_opaque(fx->new_, "d"));
        assert_content(fx->new_, "d/changed", "2\n");
        v = view(fx, "theirs/etc", "new");
        assert_content(v, "d/changed", "2\n");
        assert_content(v, "d/brand-new", "n\n");
        assert_content(v, "d/sub/x", "2\n");
        assert_false(exists(v, "d/kept"));
}

static void test_bind_layer_replaces(void **state) {
        Fx *fx = *state;
        int srv_state;
        MergeLayer bind;

        put(fx->base, "srv/www/index.html", "v1\n", 0644);
        put(fx->base, "srv/www/old.html", "o\n", 0644);
        put(fx->theirs, "srv/www/index.html", "v2\n", 0644);
        put(fx->theirs, "srv/www/old.html", "o\n", 0644);
        put(fx->theirs, "srv/www/extra.html", "e\n", 0644);
        assert_int_equal(fchmodat(fx->base, "srv", 0755, 0), 0);
        assert_int_equal(fchmodat(fx->theirs, "srv", 0755, 0), 0);
        /* The bound state directory was seeded from the image, then edited. */
        srv_state = openat(fx->state, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        put(srv_state, "www/index.html", "v1\n", 0644);
        put(srv_state, "data/db", "mine\n", 0600);
        bind = (MergeLayer){.path = "/srv", .dirfd = srv_state, .kind = MERGE_LAYER_BIND};

        fx->report = merge_report_free(fx->report);
        assert_int_equal(
                merge_plan(&fx->tb, &fx->tt, &bind, 1, MERGE_POLICY_KEEP_LOCAL, &fx->report), 0);
        expect(fx, "/srv/www/index.html", MERGE_DROP);
        expect(fx, "/srv/www/old.html", MERGE_DELETED);
        expect(fx, "/srv/data/db", MERGE_KEEP);
        expect(fx, "/srv/www/extra.html", MERGE_CONFLICT_DELETED);
        assert_int_equal(merge_apply(fx->report, &bind, 1, &fx->new_), 0);
        /* Nothing shows through a bind: the unchanged copy becomes the image's. */
        assert_content(fx->new_, "www/index.html", "v2\n");
        assert_content(fx->new_, "data/db", "mine\n");
        assert_false(exists(fx->new_, "www/extra.html"));
        assert_false(exists(fx->new_, "www/old.html"));
        assert_false(is_opaque(fx->new_, "www"));
        close(srv_state);
}

static void test_redirect_and_metacopy_refused(void **state) {
        Fx *fx = *state;
        _cleanup_free_ char *msg = NULL;
        FILE *log;

        put(fx->base_etc, "old/f", "f\n", 0644);
        mkdir_at(fx->state, "renamed", 0755);
        fd_set_xattr(fx->state, "renamed", "trusted.overlay.redirect", "/old");
        log = capture_begin();
        assert_int_equal(
                merge_plan(&fx->tb, &fx->tt, &fx->layer, 1, MERGE_POLICY_KEEP_LOCAL, &fx->report),
                -EOPNOTSUPP);
        msg = capture_end(log);
        assert_null(fx->report);
        assert_string_equal(msg, "goldroot: cannot merge /etc/renamed: an overlayfs redirect or "
                                 "metacopy entry: Operation not supported\n");
}

/* The state is hostile and may change between plan and apply: a directory
 * swapped for a symlink to a host directory is never read through. */
static void test_state_swapped_before_apply(void **state) {
        Fx *fx = *state;
        char host[96];
        _cleanup_close_ int hostfd = -EBADF;
        _cleanup_free_ char *msg = NULL;
        FILE *log;

        snprintf(host, sizeof host, "%s/host", fx->dir);
        assert_int_equal(mkdir(host, 0755), 0);
        hostfd = open_dir_fd(AT_FDCWD, host);
        put(hostfd, "f", "SECRET\n", 0600);
        put(fx->state, "d/f", "local\n", 0644);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        expect(fx, "/etc/d/f", MERGE_KEEP);
        assert_int_equal(rm_rf_at(fx->state, "d"), 0);
        assert_int_equal(symlinkat(host, fx->state, "d"), 0);
        log = capture_begin();
        assert_true(apply(fx) < 0);
        msg = capture_end(log);
        assert_non_null(strstr(msg, "goldroot: failed to write /etc/d/f into the new state: "));
        /* Nothing was written through the link, and the host file is as it was. */
        assert_true(!exists(fx->new_, "d") || S_ISLNK(mode_of(fx->new_, "d")));
        assert_content(hostfd, "f", "SECRET\n");
        assert_int_equal(mode_of(hostfd, "f"), S_IFREG | 0600);
        assert_false(exists(hostfd, "f.goldnew"));
        {
                DIR *dd = fdopendir(openat(hostfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
                struct dirent *de;
                unsigned n = 0;
                assert_non_null(dd);
                while ((de = readdir(dd)))
                        n += !streq(de->d_name, ".") && !streq(de->d_name, "..");
                closedir(dd);
                assert_int_equal(n, 1);
        }
}

/* rw mode: one upper for the whole root, next to a bound state directory. */
static void test_whole_root_and_two_layers(void **state) {
        Fx *fx = *state;
        _cleanup_close_ int root_state = -EBADF, home_state = -EBADF, new_root = -EBADF,
                            new_home = -EBADF;
        MergeLayer layers[2];
        int fds[2];

        assert_int_equal(fchmodat(fx->theirs, ".", 0755, 0), 0);
        assert_int_equal(fchmodat(fx->base, ".", 0755, 0), 0);
        put(fx->base, "usr/bin/tool", "v1\n", 0755);
        put(fx->theirs, "usr/bin/tool", "v2\n", 0755);
        put(fx->base, "etc/x", "x1\n", 0644);
        put(fx->theirs, "etc/x", "x1\n", 0644);
        mkdir_at(fx->base, "home", 0755);
        mkdir_at(fx->theirs, "home", 0755);
        mkdir_at(fx->state, "root", 0755);
        mkdir_at(fx->state, "home", 0755);
        root_state = open_dir_fd(fx->state, "root");
        home_state = open_dir_fd(fx->state, "home");
        put(root_state, "usr/bin/tool", "patched\n", 0755);
        put(root_state, "etc/x", "x2\n", 0644);
        put(home_state, "alice/.profile", "p\n", 0644);
        mkdir_at(fx->new_, "root", 0755);
        mkdir_at(fx->new_, "home", 0755);
        new_root = open_dir_fd(fx->new_, "root");
        new_home = open_dir_fd(fx->new_, "home");
        layers[0] = (MergeLayer){.path = "/", .dirfd = root_state, .kind = MERGE_LAYER_OVERLAY};
        layers[1] = (MergeLayer){.path = "/home", .dirfd = home_state, .kind = MERGE_LAYER_BIND};
        fds[0] = new_root;
        fds[1] = new_home;

        assert_int_equal(
                merge_plan(&fx->tb, &fx->tt, layers, 2, MERGE_POLICY_KEEP_LOCAL, &fx->report), 0);
        expect(fx, "/", MERGE_DROP);
        expect(fx, "/usr/bin/tool", MERGE_CONFLICT_LOCAL);
        expect(fx, "/etc/x", MERGE_KEEP);
        expect(fx, "/home", MERGE_DROP);
        assert_int_equal(expect(fx, "/home/alice/.profile", MERGE_KEEP)->layer, 1);
        assert_int_equal(merge_apply(fx->report, layers, 2, fds), 0);
        assert_content(new_root, "usr/bin/tool", "patched\n");
        assert_content(new_root, "usr/bin/tool.goldnew", "v2\n");
        assert_int_equal(mode_of(new_root, "usr/bin/tool.goldnew") & 07777, 0755);
        assert_content(new_root, "etc/x", "x2\n");
        assert_content(new_home, "alice/.profile", "p\n");
}

static void test_diff(void **state) {
        Fx *fx = *state;
        _cleanup_(merge_diff_freep) MergeDiff *d = NULL;
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        put(fx->base_etc, "content", "1\n", 0644);
        put(fx->base_etc, "mode", "1\n", 0644);
        put(fx->base_etc, "removed", "1\n", 0644);
        put(fx->base_etc, "copied", "1\n", 0644);
        put(fx->base_etc, "opq/p", "p\n", 0644);
        put(fx->base_etc, "opq/q", "q\n", 0644);
        assert_int_equal(fchmodat(fx->base_etc, "opq", 0755, 0), 0);
        put(fx->state, "content", "2\n", 0644);
        put(fx->state, "mode", "1\n", 0600);
        whiteout(fx->state, "removed");
        whiteout(fx->state, "phantom");
        copy_up(fx, "copied");
        put(fx->state, "added", "new\n", 0644);
        mkdir_at(fx->state, "opq", 0755);
        set_opaque(fx->state, "opq");
        put(fx->state, "opq/q", "q\n", 0644);

        assert_int_equal(merge_diff(&fx->tb, &fx->layer, 1, &d), 0);
        f = open_memstream(&buf, &len);
        assert_int_equal(merge_diff_print(d, f), 0);
        fclose(f);
        assert_string_equal(buf, "A /etc/added\n"
                                 "M /etc/content\n"
                                 "m /etc/mode\n"
                                 "D /etc/opq/p\n"
                                 "D /etc/removed\n");
        free(buf);
        buf = NULL;
        f = open_memstream(&buf, &len);
        assert_int_equal(merge_diff_print_json(d, f), 0);
        fclose(f);
        assert_non_null(
                strstr(buf, "{\"path\":\"/etc/mode\",\"change\":\"metadata\",\"code\":\"m\"}"));
        free(buf);
}

static void test_report_output(void **state) {
        Fx *fx = *state;
        _cleanup_free_ char *text = NULL;
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        put(fx->base_etc, "hosts", "h\n", 0644);
        copy_up(fx, "hosts");
        put(fx->base_etc, "x", "b\n", 0644);
        put(fx->state, "x", "o\n", 0644);
        put(fx->theirs_etc, "x", "t\n", 0644);
        put(fx->state, "we\"ird\nname", "q\n", 0644);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        text = report_text(fx);
        assert_non_null(strstr(text, "drop /etc/hosts (unchanged copy-up)\n"));
        assert_non_null(strstr(text, "conflict /etc/x: kept local, theirs in /etc/x.goldnew "
                                     "(changed in the image too)\n"));
        f = open_memstream(&buf, &len);
        assert_int_equal(merge_report_print_json(fx->report, f), 0);
        fclose(f);
        assert_non_null(strstr(buf, "\"policy\":\"keep-local\",\"blocked\":false,\"conflicts\":1"));
        assert_non_null(strstr(buf, "{\"path\":\"/etc/we\\\"ird\\nname\",\"outcome\":\"keep\""));
        assert_non_null(strstr(buf, "\"side\":\"/etc/x.goldnew\""));
        free(buf);

        assert_int_equal(merge_policy_from_string("merge"), MERGE_POLICY_MERGE);
        assert_int_equal(merge_policy_from_string("mine"), -EINVAL);
        assert_string_equal(merge_policy_to_string(MERGE_POLICY_THEIRS), "theirs");
}

/* The kernel makes the state: copy-ups, whiteouts, an opaque directory and
 * its bookkeeping xattrs come from a real overlayfs mount over the old image. */
static void test_kernel_overlay_state(void **state) {
        Fx *fx = *state;
        int v;

        put(fx->base_etc, "hostname", "gold\n", 0644);
        put(fx->base_etc, "fstab", "# fstab\n", 0644);
        put(fx->base_etc, "group", "root:x:0:\n", 0644);
        put(fx->base_etc, "profile.d/a.sh", "a\n", 0644);
        put(fx->base_etc, "profile.d/b.sh", "b\n", 0644);
        put(fx->base_etc, "default/grub", "g1\n", 0644);
        put(fx->theirs_etc, "hostname", "gold\n", 0644);
        put(fx->theirs_etc, "fstab", "# fstab v2\n", 0644);
        put(fx->theirs_etc, "group", "root:x:0:\nstaff:x:50:\n", 0644);
        put(fx->theirs_etc, "profile.d/a.sh", "a2\n", 0644);
        put(fx->theirs_etc, "default/grub", "g2\n", 0644);
        put(fx->theirs_etc, "default/new", "n\n", 0644);

        v = view(fx, "base/etc", "state");
        put(v, "hostname", "web1\n", 0644);                 /* local edit */
        assert_int_equal(unlinkat(v, "fstab", 0), 0);       /* deleted, image changed it */
        assert_int_equal(fchmodat(v, "group", 0640, 0), 0); /* metadata-only change */
        assert_int_equal(rm_rf_at(v, "profile.d"), 0);      /* replaced directory */
        put(v, "profile.d/local.sh", "l\n", 0644);
        put(v, "default/mine", "m\n", 0644); /* copy-up of the parent */
        unview(fx);
        assert_true(is_opaque(fx->state, "profile.d"));
        assert_true(is_whiteout(fx->state, "fstab"));

        plan(fx, MERGE_POLICY_MERGE);
        expect(fx, "/etc/hostname", MERGE_KEEP);
        expect(fx, "/etc/fstab", MERGE_CONFLICT_DELETED);
        expect(fx, "/etc/group", MERGE_MERGED);
        expect(fx, "/etc/profile.d", MERGE_KEEP);
        expect(fx, "/etc/profile.d/a.sh", MERGE_CONFLICT_DELETED);
        expect(fx, "/etc/profile.d/b.sh", MERGE_DROP);
        expect(fx, "/etc/default", MERGE_DROP);
        expect(fx, "/etc/default/mine", MERGE_KEEP);
        assert_int_equal(apply(fx), 0);

        v = view(fx, "theirs/etc", "new");
        assert_content(v, "hostname", "web1\n");
        assert_false(exists(v, "fstab"));
        assert_content(v, "group", "root:x:0:\nstaff:x:50:\n");
        assert_int_equal(mode_of(v, "group") & 07777, 0640);
        assert_content(v, "profile.d/local.sh", "l\n");
        assert_false(exists(v, "profile.d/a.sh"));
        assert_content(v, "default/grub", "g2\n");
        assert_content(v, "default/new", "n\n");
        assert_content(v, "default/mine", "m\n");
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_symlinks_never_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_modes_recreated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifos_and_devices_carried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_opaque_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_layer_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_and_metacopy_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_swapped_before_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whole_root_and_two_layers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kernel_overlay_state, setup, teardown),
};

MERGE_TEST_MAIN(tests)
