/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the merge module: every row of the merge table (DESIGN.md §5)
 * and every policy, on an /etc overlay layer with real whiteouts. */
#include "merge-fixture.h"

static void test_copyup_unchanged_dropped(void **state) {
        Fx *fx = *state;
        struct timespec ts[2] = {{.tv_sec = 1000}, {.tv_sec = 2000}};

        put(fx->base_etc, "hosts", "127.0.0.1 localhost\n", 0644);
        put(fx->theirs_etc, "hosts", "127.0.0.1 localhost\n::1 localhost\n", 0644);
        copy_up(fx, "hosts");
        /* A touch copies up too; times never count as a change. */
        assert_int_equal(utimensat(fx->state, "hosts", ts, 0), 0);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        assert_string_equal(expect(fx, "/etc/hosts", MERGE_DROP)->reason, "unchanged copy-up");
        expect(fx, "/etc", MERGE_DROP);
        assert_int_equal(fx->report->n_conflicts, 0);
        assert_int_equal(apply(fx), 0);
        assert_false(exists(fx->new_, "hosts"));
        /* The new image shows through. */
        assert_content(view(fx, "theirs/etc", "new"), "hosts",
                       "127.0.0.1 localhost\n::1 localhost\n");
}

static void test_local_edit_kept_while_image_changes_others(void **state) {
        Fx *fx = *state;
        int v;

        put(fx->base_etc, "motd", "welcome\n", 0644);
        put(fx->base_etc, "issue", "v1\n", 0644);
        put(fx->theirs_etc, "motd", "welcome\n", 0644);
        put(fx->theirs_etc, "issue", "v2\n", 0644);
        put(fx->theirs_etc, "added-by-image", "new\n", 0644);
        put(fx->state, "motd", "local welcome\n", 0640);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        assert_string_equal(expect(fx, "/etc/motd", MERGE_KEEP)->reason, "local change");
        assert_null(find(fx, "/etc/issue"));
        assert_int_equal(fx->report->n_entries, 2);
        assert_int_equal(apply(fx), 0);
        assert_content(fx->new_, "motd", "local welcome\n");
        assert_int_equal(mode_of(fx->new_, "motd") & 07777, 0640);

        v = view(fx, "theirs/etc", "new");
        assert_content(v, "motd", "local welcome\n");
        assert_content(v, "issue", "v2\n");
        assert_content(v, "added-by-image", "new\n");
}

static void test_same_change_dropped(void **state) {
        Fx *fx = *state;

        put(fx->base_etc, "a", "1\n", 0644);
        put(fx->theirs_etc, "a", "2\n", 0644);
        put(fx->state, "a", "2\n", 0644);
        /* A metadata-only local change that the image made too. */
        put(fx->base_etc, "b", "x\n", 0644);
        put(fx->theirs_etc, "b", "x\n", 0600);
        put(fx->state, "b", "x\n", 0600);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        assert_string_equal(expect(fx, "/etc/a", MERGE_DROP)->reason,
                            "the image made the same change");
        expect(fx, "/etc/b", MERGE_DROP);
        assert_int_equal(apply(fx), 0);
        assert_false(exists(fx->new_, "a"));
        assert_false(exists(fx->new_, "b"));
}

static void test_conflict_keep_local(void **state) {
        Fx *fx = *state;
        const MergeEntry *e;
        int v;

        put(fx->base_etc, "a", "base\n", 0644);
        put(fx->state, "a", "ours\n", 0644);
        put(fx->theirs_etc, "a", "theirs\n", 0600);
        assert_int_equal(symlinkat("base-target", fx->base_etc, "l"), 0);
        assert_int_equal(symlinkat("our-target", fx->state, "l"), 0);
        assert_int_equal(symlinkat("their-target", fx->theirs_etc, "l"), 0);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        e = expect(fx, "/etc/a", MERGE_CONFLICT_LOCAL);
        assert_string_equal(e->side_path, "/etc/a.goldnew");
        expect(fx, "/etc/l", MERGE_CONFLICT_LOCAL);
        assert_int_equal(fx->report->n_conflicts, 2);
        assert_false(merge_report_blocked(fx->report));
        assert_int_equal(apply(fx), 0);
        assert_content(fx->new_, "a", "ours\n");
        assert_content(fx->new_, "a.goldnew", "theirs\n");
        assert_int_equal(mode_of(fx->new_, "a.goldnew") & 07777, 0600);
        assert_link(fx->new_, "l", "our-target");
        assert_link(fx->new_, "l.goldnew", "their-target");

        v = view(fx, "theirs/etc", "new");
        assert_content(v, "a", "ours\n");
        assert_content(v, "a.goldnew", "theirs\n");
}

static void test_policy_theirs_saves_goldsave(void **state) {
        Fx *fx = *state;
        const MergeEntry *e;

        put(fx->base_etc, "a", "base\n", 0644);
        put(fx->state, "a", "ours\n", 0644);
        put(fx->theirs_etc, "a", "theirs\n", 0644);
        /* Changed locally, removed by the image. */
        put(fx->base_etc, "gone", "base\n", 0644);
        put(fx->state, "gone", "ours\n", 0644);

        plan(fx, MERGE_POLICY_THEIRS);
        e = expect(fx, "/etc/a", MERGE_CONFLICT_THEIRS);
        assert_string_equal(e->side_path, "/etc/a.goldsave");
        e = expect(fx, "/etc/gone", MERGE_CONFLICT_THEIRS);
        assert_string_equal(e->side_path, "/etc/gone.goldsave");
        assert_int_equal(apply(fx), 0);
        assert_false(exists(fx->new_, "a"));
        assert_content(fx->new_, "a.goldsave", "ours\n");
        assert_content(fx->new_, "gone.goldsave", "ours\n");
        assert_content(view(fx, "theirs/etc", "new"), "a", "theirs\n");
        assert_false(exists(fx->view, "gone"));

        /* keep-local on the removed file keeps it, without a .goldnew. */
        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        e = expect(fx, "/etc/gone", MERGE_CONFLICT_LOCAL);
        assert_null(e->side_path);
        assert_string_equal(e->reason, "removed in the image");
}

static void test_policy_merge_clean(void **state) {
        Fx *fx = *state;

        put(fx->base_etc, "sshd_config", "Port 22\nPermitRootLogin no\nX11Forwarding no\n", 0644);
        put(fx->state, "sshd_config", "Port 2222\nPermitRootLogin no\nX11Forwarding no\n", 0644);
        put(fx->theirs_etc, "sshd_config",
            "Port 22\nPermitRootLogin no\nX11Forwarding no\nUsePAM yes\n", 0640);

        plan(fx, MERGE_POLICY_MERGE);
        expect(fx, "/etc/sshd_config", MERGE_MERGED);
        assert_int_equal(fx->report->n_conflicts, 0);
        assert_int_equal(apply(fx), 0);
        assert_content(fx->new_, "sshd_config",
                       "Port 2222\nPermitRootLogin no\nX11Forwarding no\nUsePAM yes\n");
        /* Ours left the mode alone, so the image's new mode wins. */
        assert_int_equal(mode_of(fx->new_, "sshd_config") & 07777, 0640);
        assert_false(exists(fx->new_, "sshd_config.goldnew"));
}

static void test_policy_merge_fallback(void **state) {
        Fx *fx = *state;
        const MergeEntry *e;

        put(fx->base_etc, "conf", "a=1\nb=1\nc=1\n", 0644);
        put(fx->state, "conf", "a=1\nb=ours\nc=1\n", 0644);
        put(fx->theirs_etc, "conf", "a=1\nb=theirs\nc=1\n", 0644);
        put(fx->base_etc, "bin", "x", 0644);
        put(fx->state, "bin", "local\n", 0644);
        assert_int_equal(mkdirat(fx->theirs_etc, "d", 0755), 0);
        {
                int fd = openat(fx->theirs_etc, "bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
                assert_int_equal(write(fd, "\0elf", 4), 4);
                close(fd);
        }

        plan(fx, MERGE_POLICY_MERGE);
        e = expect(fx, "/etc/conf", MERGE_CONFLICT_LOCAL);
        assert_int_equal(e->hunks, 1);
        assert_string_equal(e->side_path, "/etc/conf.goldnew");
        e = expect(fx, "/etc/bin", MERGE_CONFLICT_LOCAL);
        assert_string_equal(e->reason, "binary content");
        assert_int_equal(apply(fx), 0);
        assert_content(fx->new_, "conf", "a=1\nb=ours\nc=1\n");
        assert_content(fx->new_, "conf.goldnew", "a=1\nb=theirs\nc=1\n");
        assert_content(fx->new_, "bin", "local\n");
        assert_true(exists(fx->new_, "bin.goldnew"));
}

static void test_whiteouts(void **state) {
        Fx *fx = *state;
        int v;

        put(fx->base_etc, "same", "1\n", 0644);
        put(fx->base_etc, "changed", "1\n", 0644);
        put(fx->base_etc, "gone", "1\n", 0644);
        put(fx->theirs_etc, "same", "1\n", 0644);
        put(fx->theirs_etc, "changed", "2\n", 0644);
        whiteout(fx->state, "same");
        whiteout(fx->state, "changed");
        whiteout(fx->state, "gone");
        whiteout(fx->state, "never-there");

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        expect(fx, "/etc/same", MERGE_DELETED);
        expect(fx, "/etc/changed", MERGE_CONFLICT_DELETED);
        assert_string_equal(expect(fx, "/etc/gone", MERGE_DROP)->reason,
                            "deleted in the image too");
        assert_string_equal(expect(fx, "/etc/never-there", MERGE_DROP)->reason,
                            "nothing to delete");
        assert_int_equal(apply(fx), 0);
        assert_true(is_whiteout(fx->new_, "same"));
        assert_true(is_whiteout(fx->new_, "changed"));
        assert_false(exists(fx->new_, "gone"));
        assert_false(exists(fx->new_, "never-there"));
        v = view(fx, "theirs/etc", "new");
        assert_false(exists(v, "same"));
        assert_false(exists(v, "changed"));
        unview(fx);

        /* theirs restores what the image changed. */
        assert_int_equal(rm_rf_at(fx->new_, "same"), 0);
        assert_int_equal(rm_rf_at(fx->new_, "changed"), 0);
        plan(fx, MERGE_POLICY_THEIRS);
        expect(fx, "/etc/changed", MERGE_RESTORED);
        expect(fx, "/etc/same", MERGE_DELETED);
        assert_int_equal(apply(fx), 0);
        assert_false(exists(fx->new_, "changed"));
        assert_content(view(fx, "theirs/etc", "new"), "changed", "2\n");
        assert_false(exists(fx->view, "same"));
}

static void test_deleted_dir_stays_deleted(void **state) {
        Fx *fx = *state;

        put(fx->base_etc, "cron.d/a", "a\n", 0644);
        put(fx->base_etc, "cron.d/old", "o\n", 0644);
        put(fx->theirs_etc, "cron.d/a", "a\n", 0644);
        /* The image removing something below is no change to conflict with. */
        whiteout(fx->state, "cron.d");

        plan(fx, MERGE_POLICY_THEIRS);
        expect(fx, "/etc/cron.d", MERGE_DELETED);
        assert_int_equal(fx->report->n_conflicts, 0);
        assert_int_equal(apply(fx), 0);
        assert_true(is_whiteout(fx->new_, "cron.d"));
        assert_false(exists(view(fx, "theirs/etc", "new"), "cron.d"));
}

static void test_deleted_dir_changed_in_image_conflicts(void **state) {
        Fx *fx = *state;
        int v;

        put(fx->base_etc, "cron.d/a", "a\n", 0644);
        put(fx->base_etc, "cron.d/same", "s\n", 0644);
        put(fx->theirs_etc, "cron.d/a", "a v2\n", 0644);
        put(fx->theirs_etc, "cron.d/same", "s\n", 0644);
        put(fx->theirs_etc, "cron.d/new/job", "b\n", 0644);
        whiteout(fx->state, "cron.d");

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        assert_string_equal(expect(fx, "/etc/cron.d", MERGE_CONFLICT_DELETED)->reason,
                            "deleted locally, changed in the image");
        assert_string_equal(expect(fx, "/etc/cron.d/a", MERGE_CONFLICT_DELETED)->reason,
                            "changed in the image");
        assert_string_equal(expect(fx, "/etc/cron.d/new", MERGE_CONFLICT_DELETED)->reason,
                            "added in the image");
        expect(fx, "/etc/cron.d/new/job", MERGE_CONFLICT_DELETED);
        assert_null(find(fx, "/etc/cron.d/same"));
        assert_int_equal(apply(fx), 0);
        assert_true(is_whiteout(fx->new_, "cron.d"));
        assert_false(exists(view(fx, "theirs/etc", "new"), "cron.d"));
        unview(fx);

        /* theirs restores the image's directory, as it restores a file. */
        assert_int_equal(rm_rf_at(fx->new_, "cron.d"), 0);
        plan(fx, MERGE_POLICY_THEIRS);
        expect(fx, "/etc/cron.d", MERGE_RESTORED);
        expect(fx, "/etc/cron.d/new/job", MERGE_RESTORED);
        assert_int_equal(apply(fx), 0);
        v = view(fx, "theirs/etc", "new");
        assert_content(v, "cron.d/a", "a v2\n");
        assert_content(v, "cron.d/new/job", "b\n");
}

static void test_dir_replaced_by_file_is_a_type_conflict(void **state) {
        Fx *fx = *state;

        put(fx->base_etc, "d/a", "a\n", 0644);
        put(fx->theirs_etc, "d/a", "a\n", 0644);
        put(fx->state, "d", "a file now\n", 0644);
        plan(fx, MERGE_POLICY_THEIRS);
        expect(fx, "/etc/d", MERGE_KEEP);

        /* Once the image changes something below, both changed the type. */
        put(fx->theirs_etc, "d/new", "n\n", 0644);
        plan(fx, MERGE_POLICY_THEIRS);
        expect(fx, "/etc/d", MERGE_TYPE_CONFLICT);
        assert_true(merge_report_blocked(fx->report));
}

static void test_new_image_files_appear_in_existing_dir(void **state) {
        Fx *fx = *state;
        int v;

        mkdir_at(fx->base_etc, "conf.d", 0755);
        put(fx->base_etc, "conf.d/old", "o\n", 0644);
        mkdir_at(fx->theirs_etc, "conf.d", 0750);
        put(fx->theirs_etc, "conf.d/old", "o\n", 0644);
        put(fx->theirs_etc, "conf.d/new", "n\n", 0644);
        copy_up(fx, "conf.d");
        put(fx->state, "conf.d/local", "l\n", 0644);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        expect(fx, "/etc/conf.d", MERGE_DROP);
        expect(fx, "/etc/conf.d/local", MERGE_KEEP);
        assert_int_equal(apply(fx), 0);
        /* The directory is only a container now: it carries the image's metadata. */
        assert_int_equal(mode_of(fx->new_, "conf.d") & 07777, 0750);
        assert_false(exists(fx->new_, "conf.d/new"));
        v = view(fx, "theirs/etc", "new");
        assert_content(v, "conf.d/new", "n\n");
        assert_content(v, "conf.d/old", "o\n");
        assert_content(v, "conf.d/local", "l\n");
}

static void test_type_conflict_refused(void **state) {
        Fx *fx = *state;
        _cleanup_free_ char *text = NULL;
        const MergeEntry *e;

        put(fx->state, "x", "local file\n", 0644);
        put(fx->theirs_etc, "x/inside", "image dir\n", 0644);
        put(fx->state, "keep-me", "local\n", 0644);
        /* The image turned a directory holding local files into a file. */
        put(fx->base_etc, "d/a", "a\n", 0644);
        put(fx->theirs_etc, "d", "now a file\n", 0644);
        copy_up(fx, "d/a");
        put(fx->state, "d/mine", "m\n", 0644);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        e = expect(fx, "/etc/x", MERGE_TYPE_CONFLICT);
        assert_int_equal(e->ours_type, MERGE_NODE_REG);
        assert_int_equal(e->theirs_type, MERGE_NODE_DIR);
        expect(fx, "/etc/d", MERGE_TYPE_CONFLICT);
        expect(fx, "/etc/keep-me", MERGE_KEEP);
        assert_true(merge_report_blocked(fx->report));
        assert_int_equal(fx->report->n_type_conflicts, 2);
        text = report_text(fx);
        assert_non_null(strstr(text, "conflict /etc/x: type conflict, local regular file, image "
                                     "directory"));

        {
                FILE *log = capture_begin();
                _cleanup_free_ char *msg = NULL;
                assert_int_equal(apply(fx), -ECANCELED);
                msg = capture_end(log);
                assert_string_equal(msg, "goldroot: refusing to merge: 2 type conflicts, nothing "
                                         "changed\n");
        }
        assert_true(dir_is_empty(fx->new_));
        /* No policy gets past it. */
        plan(fx, MERGE_POLICY_THEIRS);
        assert_true(merge_report_blocked(fx->report));
}

static void test_dir_removed_by_image_keeps_local_file(void **state) {
        Fx *fx = *state;
        _cleanup_free_ char *text = NULL;

        put(fx->base_etc, "old.d/x", "x\n", 0644);
        copy_up(fx, "old.d/x");
        put(fx->state, "old.d/local", "mine\n", 0644);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        assert_string_equal(expect(fx, "/etc/old.d", MERGE_KEEP)->reason,
                            "directory removed by the image holds local files");
        expect(fx, "/etc/old.d/local", MERGE_KEEP);
        expect(fx, "/etc/old.d/x", MERGE_DROP);
        text = report_text(fx);
        assert_non_null(strstr(text, "keep /etc/old.d (directory removed by the image holds local "
                                     "files)\n"));
        assert_int_equal(apply(fx), 0);
        assert_content(fx->new_, "old.d/local", "mine\n");
        assert_false(exists(fx->new_, "old.d/x"));
        assert_content(view(fx, "theirs/etc", "new"), "old.d/local", "mine\n");
        assert_false(exists(fx->view, "old.d/x"));
}

static void test_both_added(void **state) {
        Fx *fx = *state;

        put(fx->state, "same", "identical\n", 0644);
        put(fx->theirs_etc, "same", "identical\n", 0644);
        put(fx->state, "diff", "ours\n", 0644);
        put(fx->theirs_etc, "diff", "theirs\n", 0644);
        put(fx->state, "only-ours", "mine\n", 0644);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        expect(fx, "/etc/same", MERGE_DROP);
        assert_string_equal(expect(fx, "/etc/diff", MERGE_CONFLICT_LOCAL)->side_path,
                            "/etc/diff.goldnew");
        assert_string_equal(expect(fx, "/etc/only-ours", MERGE_KEEP)->reason, "local addition");
        assert_int_equal(apply(fx), 0);
        assert_false(exists(fx->new_, "same"));
        assert_content(fx->new_, "diff", "ours\n");
        assert_content(fx->new_, "diff.goldnew", "theirs\n");
        assert_content(fx->new_, "only-ours", "mine\n");
}

static void test_dir_metadata_conflict(void **state) {
        Fx *fx = *state;

        mkdir_at(fx->base_etc, "d", 0755);
        mkdir_at(fx->theirs_etc, "d", 0750);
        mkdir_at(fx->state, "d", 0700);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        assert_null(expect(fx, "/etc/d", MERGE_CONFLICT_LOCAL)->side_path);
        assert_int_equal(apply(fx), 0);
        assert_int_equal(mode_of(fx->new_, "d"), S_IFDIR | 0700);
        assert_int_equal(rm_rf_at(fx->new_, "d"), 0);

        plan(fx, MERGE_POLICY_THEIRS);
        assert_null(expect(fx, "/etc/d", MERGE_CONFLICT_THEIRS)->side_path);
        assert_int_equal(apply(fx), 0);
        assert_int_equal(mode_of(fx->new_, "d"), S_IFDIR | 0750);
}

static void test_old_state_untouched(void **state) {
        Fx *fx = *state;
        struct stat old, new;

        put(fx->base_etc, "a", "base\n", 0644);
        put(fx->theirs_etc, "a", "theirs\n", 0644);
        put(fx->state, "a", "ours\n", 0644);
        put(fx->state, "sub/b", "added\n", 0644);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        assert_int_equal(apply(fx), 0);
        assert_content(fx->state, "a", "ours\n");
        assert_false(exists(fx->state, "a.goldnew"));
        /* Copies, never hardlinks: writing the new state cannot touch the backup. */
        assert_int_equal(fstatat(fx->state, "sub/b", &old, 0), 0);
        assert_int_equal(fstatat(fx->new_, "sub/b", &new, 0), 0);
        assert_int_equal(old.st_nlink, 1);
        assert_true(old.st_ino != new.st_ino);
        put(fx->new_, "sub/b", "changed in new\n", 0644);
        assert_content(fx->state, "sub/b", "added\n");

        /* The new layer must be empty. */
        {
                FILE *log = capture_begin();
                _cleanup_free_ char *msg = NULL;
                assert_int_equal(apply(fx), -ENOTEMPTY);
                msg = capture_end(log);
                assert_string_equal(
                        msg, "goldroot: cannot write the merged /etc layer: Directory not empty\n");
        }
}

static void test_hardlinks_kept(void **state) {
        Fx *fx = *state;
        struct stat h1, h2, h3, o1, solo;

        /* h1, sub/h2 and h3 are one inode in the state. h3 is a conflict
         * with the image, but keep-local keeps ours there too: all three
         * names keep ours, so they stay one inode. */
        put(fx->state, "h1", "shared\n", 0640);
        assert_int_equal(mkdirat(fx->state, "sub", 0755), 0);
        assert_int_equal(linkat(fx->state, "h1", fx->state, "sub/h2", 0), 0);
        put(fx->state, "solo", "alone\n", 0644);
        put(fx->base_etc, "h3", "base\n", 0644);
        put(fx->theirs_etc, "h3", "theirs\n", 0644);
        assert_int_equal(linkat(fx->state, "h1", fx->state, "h3", 0), 0);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        expect(fx, "/etc/h1", MERGE_KEEP);
        expect(fx, "/etc/sub/h2", MERGE_KEEP);
        expect(fx, "/etc/h3", MERGE_CONFLICT_LOCAL);
        assert_int_equal(apply(fx), 0);
        assert_int_equal(fstatat(fx->new_, "h1", &h1, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(fstatat(fx->new_, "sub/h2", &h2, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(fstatat(fx->new_, "h3", &h3, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(fstatat(fx->new_, "solo", &solo, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(fstatat(fx->state, "h1", &o1, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(h1.st_ino == h2.st_ino);
        assert_true(h1.st_ino == h3.st_ino);
        assert_int_equal(h1.st_nlink, 3);
        assert_int_equal(solo.st_nlink, 1);
        assert_int_equal(h1.st_mode & 07777, 0640);
        /* The new group is its own inode: the backup is not shared. */
        assert_true(h1.st_ino != o1.st_ino);
        assert_int_equal(o1.st_nlink, 3);
        assert_content(fx->new_, "sub/h2", "shared\n");
        assert_content(fx->new_, "h3.goldnew", "theirs\n");
}

static void test_stale_goldnew_replaced(void **state) {
        Fx *fx = *state;
        const MergeEntry *e;

        put(fx->base_etc, "a", "base\n", 0644);
        put(fx->state, "a", "ours\n", 0644);
        /* What the last upgrade wrote: its theirs, the base of this one. */
        put(fx->state, "a.goldnew", "base\n", 0644);
        put(fx->theirs_etc, "a", "theirs v3\n", 0644);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        e = expect(fx, "/etc/a", MERGE_CONFLICT_LOCAL);
        assert_string_equal(e->side_path, "/etc/a.goldnew");
        assert_string_equal(expect(fx, "/etc/a.goldnew", MERGE_DROP)->reason,
                            "the last upgrade's .goldnew, replaced");
        assert_int_equal(apply(fx), 0);
        assert_content(fx->new_, "a", "ours\n");
        assert_content(fx->new_, "a.goldnew", "theirs v3\n");
}

static void test_goldnew_never_overwrites_local_data(void **state) {
        Fx *fx = *state;
        const MergeEntry *e;
        int v;

        /* An earlier .goldnew edited since, a local directory and an image
         * file at the names a conflict's .goldnew would take. */
        put(fx->base_etc, "a", "base\n", 0644);
        put(fx->state, "a", "ours\n", 0644);
        put(fx->theirs_etc, "a", "theirs\n", 0644);
        put(fx->state, "a.goldnew", "my notes\n", 0644);
        put(fx->base_etc, "conf", "base\n", 0644);
        put(fx->state, "conf", "ours\n", 0644);
        put(fx->theirs_etc, "conf", "theirs\n", 0644);
        put(fx->state, "conf.goldnew/data", "precious\n", 0600);
        put(fx->base_etc, "img", "base\n", 0644);
        put(fx->state, "img", "ours\n", 0644);
        put(fx->theirs_etc, "img", "theirs\n", 0644);
        put(fx->theirs_etc, "img.goldnew", "shipped\n", 0644);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        e = expect(fx, "/etc/a", MERGE_CONFLICT_LOCAL);
        assert_string_equal(e->side_path, "/etc/a.goldnew.1");
        expect(fx, "/etc/a.goldnew", MERGE_KEEP);
        e = expect(fx, "/etc/conf", MERGE_CONFLICT_LOCAL);
        assert_string_equal(e->side_path, "/etc/conf.goldnew.1");
        expect(fx, "/etc/conf.goldnew/data", MERGE_KEEP);
        e = expect(fx, "/etc/img", MERGE_CONFLICT_LOCAL);
        assert_string_equal(e->side_path, "/etc/img.goldnew.1");
        assert_int_equal(apply(fx), 0);
        v = view(fx, "theirs/etc", "new");
        assert_content(v, "a.goldnew", "my notes\n");
        assert_content(v, "a.goldnew.1", "theirs\n");
        assert_content(v, "conf.goldnew/data", "precious\n");
        assert_content(v, "conf.goldnew.1", "theirs\n");
        assert_content(v, "img.goldnew", "shipped\n");
        assert_content(v, "img.goldnew.1", "theirs\n");
}

static void test_goldsave_never_overwritten(void **state) {
        Fx *fx = *state;
        const MergeEntry *e;

        /* The first upgrade with theirs saved local1; local2 came since. */
        put(fx->base_etc, "conf", "v2\n", 0644);
        put(fx->state, "conf", "v2\nlocal2\n", 0644);
        put(fx->state, "conf.goldsave", "v1\nlocal1\n", 0644);
        put(fx->state, "conf.goldsave.1", "older\n", 0644);
        put(fx->theirs_etc, "conf", "v3\n", 0644);

        plan(fx, MERGE_POLICY_THEIRS);
        e = expect(fx, "/etc/conf", MERGE_CONFLICT_THEIRS);
        assert_string_equal(e->side_path, "/etc/conf.goldsave.2");
        assert_string_equal(expect(fx, "/etc/conf.goldsave", MERGE_KEEP)->reason, "local addition");
        assert_int_equal(apply(fx), 0);
        assert_content(fx->new_, "conf.goldsave", "v1\nlocal1\n");
        assert_content(fx->new_, "conf.goldsave.1", "older\n");
        assert_content(fx->new_, "conf.goldsave.2", "v2\nlocal2\n");
        assert_false(exists(fx->new_, "conf"));
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copyup_unchanged_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_edit_kept_while_image_changes_others, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_same_change_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_keep_local, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_theirs_saves_goldsave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_merge_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_merge_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_dir_stays_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_dir_changed_in_image_conflicts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dir_replaced_by_file_is_a_type_conflict, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_new_image_files_appear_in_existing_dir, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_type_conflict_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_removed_by_image_keeps_local_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_both_added, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_metadata_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_state_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_goldnew_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hardlinks_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_goldnew_never_overwrites_local_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_goldsave_never_overwritten, setup, teardown),
};

MERGE_TEST_MAIN(tests)
