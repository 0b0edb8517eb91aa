/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the merge module: every row of the merge table (DESIGN.md §5)
 * and every policy, against real directories with real whiteouts and opaque
 * markers. Results are checked in the new layer and, where it matters, through
 * a real overlayfs mount of the new layer over the new image, in a private
 * mount namespace that dies with the test process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fsutil.h"
#include "merge.h"
#include "util.h"

#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

typedef struct Fx {
        char dir[64];
        char mnt[96];
        int base, theirs;         /* image roots */
        int base_etc, theirs_etc; /* their /etc */
        int state, new_;          /* the /etc layer, old and new */
        int view;                 /* an overlay mount of a layer over an image, or -1 */
        MergeTree tb, tt;
        MergeLayer layer;
        MergeReport *report;
} Fx;

static int opendir_at(int dirfd, const char *path) {
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static void mkdir_at(int dirfd, const char *path, mode_t mode) {
        assert_int_equal(mkdirat(dirfd, path, mode), 0);
        assert_int_equal(fchmodat(dirfd, path, mode, 0), 0);
}

static int setup(void **state) {
        Fx *fx = calloc(1, sizeof(Fx));
        int root;

        assert_non_null(fx);
        strcpy(fx->dir, "/tmp/goldroot-merge-XXXXXX");
        assert_non_null(mkdtemp(fx->dir));
        root = opendir_at(AT_FDCWD, fx->dir);
        for (const char *const *d = (const char *const[]){"base", "base/etc", "theirs",
                                                          "theirs/etc", "state", "new", NULL};
             *d; d++)
                mkdir_at(root, *d, 0755);
        fx->base = opendir_at(root, "base");
        fx->theirs = opendir_at(root, "theirs");
        fx->base_etc = opendir_at(root, "base/etc");
        fx->theirs_etc = opendir_at(root, "theirs/etc");
        fx->state = opendir_at(root, "state");
        fx->new_ = opendir_at(root, "new");
        close(root);
        fx->view = -1;
        assert_int_equal(merge_tree_from_dir(fx->base, &fx->tb), 0);
        assert_int_equal(merge_tree_from_dir(fx->theirs, &fx->tt), 0);
        fx->layer = (MergeLayer){.path = "/etc", .dirfd = fx->state, .kind = MERGE_LAYER_OVERLAY};
        *state = fx;
        return 0;
}

static void unview(Fx *fx) {
        char work[96];

        if (fx->view < 0)
                return;
        close(fx->view);
        fx->view = -1;
        assert_int_equal(umount2(fx->mnt, 0), 0);
        snprintf(work, sizeof work, "%s/work", fx->dir);
        assert_int_equal(rm_rf_at(AT_FDCWD, work), 0);
}

static int teardown(void **state) {
        Fx *fx = *state;

        unview(fx);
        merge_report_free(fx->report);
        merge_tree_done(&fx->tb);
        merge_tree_done(&fx->tt);
        close(fx->base);
        close(fx->theirs);
        close(fx->base_etc);
        close(fx->theirs_etc);
        close(fx->state);
        close(fx->new_);
        assert_int_equal(rm_rf_at(AT_FDCWD, fx->dir), 0);
        free(fx);
        return 0;
}

/* Mounts overlayfs with lower (relative to the fixture dir) under upper, and
 * returns an fd for the merged view: what the instance would see. */
static int view(Fx *fx, const char *lower, const char *upper) {
        char opts[512], work[96];

        unview(fx);
        snprintf(fx->mnt, sizeof fx->mnt, "%s/mnt", fx->dir);
        snprintf(work, sizeof work, "%s/work", fx->dir);
        (void)mkdir(fx->mnt, 0755);
        assert_int_equal(mkdir(work, 0700), 0);
        snprintf(opts, sizeof opts, "lowerdir=%s/%s,upperdir=%s/%s,workdir=%s", fx->dir, lower,
                 fx->dir, upper, work);
        assert_int_equal(mount("overlay", fx->mnt, "overlay", 0, opts), 0);
        fx->view = opendir_at(AT_FDCWD, fx->mnt);
        return fx->view;
}

/* Writes a file (and any missing parent directories, 0755). */
static void put(int dirfd, const char *path, const char *content, mode_t mode) {
        _cleanup_free_ char *parent = strdup(path);
        char *slash = strrchr(parent, '/');
        int fd;

        if (slash) {
                *slash = 0;
                assert_int_equal(mkdir_p_in_root(dirfd, parent, 0755, NULL, NULL), 0);
        }
        fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

/* What overlayfs does on copy-up: the lower file, its parents and their
 * metadata, copied into the upper layer. */
static void copy_up(Fx *fx, const char *path) {
        _cleanup_free_ char *p = strdup(path);
        struct stat st;

        for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                if (fstatat(fx->state, p, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        assert_int_equal(fstatat(fx->base_etc, p, &st, AT_SYMLINK_NOFOLLOW), 0);
                        mkdir_at(fx->state, p, st.st_mode & 07777);
                        assert_int_equal(fchownat(fx->state, p, st.st_uid, st.st_gid, 0), 0);
                }
                *s = '/';
        }
        assert_int_equal(fstatat(fx->base_etc, path, &st, AT_SYMLINK_NOFOLLOW), 0);
        if (S_ISDIR(st.st_mode)) {
                mkdir_at(fx->state, path, st.st_mode & 07777);
                assert_int_equal(fchownat(fx->state, path, st.st_uid, st.st_gid, 0), 0);
        } else if (S_ISLNK(st.st_mode)) {
                char target[256];
                ssize_t n = readlinkat(fx->base_etc, path, target, sizeof target - 1);
                assert_true(n > 0);
                target[n] = 0;
                assert_int_equal(symlinkat(target, fx->state, path), 0);
        } else
                assert_int_equal(copy_file_at(fx->base_etc, path, fx->state, path), 0);
}

static void whiteout(int dirfd, const char *path) {
        assert_int_equal(mknodat(dirfd, path, S_IFCHR | 0, makedev(0, 0)), 0);
}

static void set_opaque(int dirfd, const char *path) {
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0), 0);
        close(fd);
}

static bool is_opaque(int dirfd, const char *path) {
        char v[4] = {};
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        bool r;
        assert_true(fd >= 0);
        r = fgetxattr(fd, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
        close(fd);
        return r;
}

static void fd_set_xattr(int dirfd, const char *path, const char *name, const char *value) {
        int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(fsetxattr(fd, name, value, strlen(value), 0), 0);
        close(fd);
}

/* The value's length, or -errno. */
static int fd_get_xattr(int dirfd, const char *path, const char *name, char *buf, size_t size) {
        int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        ssize_t n;
        assert_true(fd >= 0);
        n = fgetxattr(fd, name, buf, size);
        n = n < 0 ? -errno : n;
        close(fd);
        return (int)n;
}

static bool dir_is_empty(int dirfd) {
        _cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fdopendir(fd);
        struct dirent *de;
        bool empty = true;

        assert_non_null(d);
        fd = -EBADF;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        empty = false;
        closedir(d);
        return empty;
}

static bool exists(int dirfd, const char *path) {
        struct stat st;
        return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool is_whiteout(int dirfd, const char *path) {
        struct stat st;
        return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
               st.st_rdev == makedev(0, 0);
}

static mode_t mode_of(int dirfd, const char *path) {
        struct stat st;
        assert_int_equal(fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
        return st.st_mode;
}

/* The file's content; the caller frees it. Fails the test if it is missing. */
static char *slurp(int dirfd, const char *path) {
        char *s = NULL;
        assert_int_equal(read_file_at(dirfd, path, &s, NULL, 1 << 20), 0);
        return s;
}

static void assert_content(int dirfd, const char *path, const char *want) {
        _cleanup_free_ char *s = slurp(dirfd, path);
        assert_string_equal(s, want);
}

static void assert_link(int dirfd, const char *path, const char *want) {
        char target[512];
        ssize_t n = readlinkat(dirfd, path, target, sizeof target - 1);
        assert_true(n >= 0);
        target[n] = 0;
        assert_string_equal(target, want);
}

static void plan(Fx *fx, MergePolicy policy) {
        fx->report = merge_report_free(fx->report);
        assert_int_equal(merge_plan(&fx->tb, &fx->tt, &fx->layer, 1, policy, &fx->report), 0);
}

static int apply(Fx *fx) {
        return merge_apply(fx->report, &fx->layer, 1, &fx->new_);
}

static const MergeEntry *find(Fx *fx, const char *path) {
        for (size_t i = 0; i < fx->report->n_entries; i++)
                if (streq(fx->report->entries[i].path, path))
                        return &fx->report->entries[i];
        return NULL;
}

static const MergeEntry *expect(Fx *fx, const char *path, MergeOutcome o) {
        const MergeEntry *e = find(fx, path);
        if (!e)
                fail_msg("no report entry for %s", path);
        if (e->outcome != o)
                fail_msg("%s: outcome %s (%s), expected %s", path,
                         merge_outcome_to_string(e->outcome), e->reason,
                         merge_outcome_to_string(o));
        return e;
}

/* The report in human form, for substring checks. */
static char *report_text(Fx *fx) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        assert_int_equal(merge_report_print(fx->report, f), 0);
        fclose(f);
        return buf;
}

/* Runs f with the log going to a string; returns what was logged. */
static char *captured;
static size_t captured_len;
static FILE *capture_begin(void) {
        FILE *f = open_memstream(&captured, &captured_len);
        assert_non_null(f);
        log_set_stream(f);
        return f;
}
static char *capture_end(FILE *f) {
        log_set_stream(NULL);
        fclose(f);
        return captured;
}

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
        put(fx->theirs_etc, "cron.d/a", "a\n", 0644);
        put(fx->theirs_etc, "cron.d/new-job", "b\n", 0644);
        whiteout(fx->state, "cron.d");

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        expect(fx, "/etc/cron.d", MERGE_DELETED);
        assert_int_equal(apply(fx), 0);
        assert_true(is_whiteout(fx->new_, "cron.d"));
        assert_false(exists(view(fx, "theirs/etc", "new"), "cron.d"));
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

static void test_opaque_dir(void **state) {
        Fx *fx = *state;
        int v;

        put(fx->base_etc, "d/kept", "k\n", 0644);
        put(fx->base_etc, "d/changed", "1\n", 0644);
        put(fx->base_etc, "d/removed", "r\n", 0644);
        put(fx->theirs_etc, "d/kept", "k\n", 0644);
        put(fx->theirs_etc, "d/changed", "2\n", 0644);
        put(fx->theirs_etc, "d/brand-new", "n\n", 0644);
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
        assert_null(find(fx, "/etc/d/brand-new"));
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
        assert_int_equal(apply(fx), 0);
        assert_true(is_opaque(fx->new_, "d"));
        assert_content(fx->new_, "d/changed", "2\n");
        v = view(fx, "theirs/etc", "new");
        assert_content(v, "d/changed", "2\n");
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
        assert_null(find(fx, "/srv/www/extra.html"));
        assert_int_equal(merge_apply(fx->report, &bind, 1, &fx->new_), 0);
        /* Nothing shows through a bind: the unchanged copy becomes the image's. */
        assert_content(fx->new_, "www/index.html", "v2\n");
        assert_content(fx->new_, "data/db", "mine\n");
        assert_false(exists(fx->new_, "www/extra.html"));
        assert_false(exists(fx->new_, "www/old.html"));
        assert_false(is_opaque(fx->new_, "www"));
        close(srv_state);
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
        hostfd = opendir_at(AT_FDCWD, host);
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

static void test_stale_goldnew_replaced(void **state) {
        Fx *fx = *state;

        put(fx->base_etc, "a", "base\n", 0644);
        put(fx->state, "a", "ours\n", 0644);
        put(fx->state, "a.goldnew", "from the last upgrade\n", 0644);
        put(fx->theirs_etc, "a", "theirs v3\n", 0644);

        plan(fx, MERGE_POLICY_KEEP_LOCAL);
        expect(fx, "/etc/a", MERGE_CONFLICT_LOCAL);
        assert_int_equal(apply(fx), 0);
        assert_content(fx->new_, "a", "ours\n");
        assert_content(fx->new_, "a.goldnew", "theirs v3\n");
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
        root_state = opendir_at(fx->state, "root");
        home_state = opendir_at(fx->state, "home");
        put(root_state, "usr/bin/tool", "patched\n", 0755);
        put(root_state, "etc/x", "x2\n", 0644);
        put(home_state, "alice/.profile", "p\n", 0644);
        mkdir_at(fx->new_, "root", 0755);
        mkdir_at(fx->new_, "home", 0755);
        new_root = opendir_at(fx->new_, "root");
        new_home = opendir_at(fx->new_, "home");
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_copyup_unchanged_dropped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_local_edit_kept_while_image_changes_others,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_same_change_dropped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_conflict_keep_local, setup, teardown),
                cmocka_unit_test_setup_teardown(test_policy_theirs_saves_goldsave, setup, teardown),
                cmocka_unit_test_setup_teardown(test_policy_merge_clean, setup, teardown),
                cmocka_unit_test_setup_teardown(test_policy_merge_fallback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_deleted_dir_stays_deleted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_new_image_files_appear_in_existing_dir, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_type_conflict_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlinks_never_followed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dir_modes_recreated, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fifos_and_devices_carried, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dir_removed_by_image_keeps_local_file, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_both_added, setup, teardown),
                cmocka_unit_test_setup_teardown(test_opaque_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bind_layer_replaces, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dir_metadata_conflict, setup, teardown),
                cmocka_unit_test_setup_teardown(test_old_state_untouched, setup, teardown),
                cmocka_unit_test_setup_teardown(test_diff, setup, teardown),
                cmocka_unit_test_setup_teardown(test_report_output, setup, teardown),
                cmocka_unit_test_setup_teardown(test_kernel_overlay_state, setup, teardown),
                cmocka_unit_test_setup_teardown(test_redirect_and_metacopy_refused, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_stale_goldnew_replaced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_state_swapped_before_apply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_whole_root_and_two_layers, setup, teardown),
        };

        /* Overlay mounts live in a private mount namespace that dies with us. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                perror("test-merge: private mount namespace");
                return 1;
        }
        umask(0);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
