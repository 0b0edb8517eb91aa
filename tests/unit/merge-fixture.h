/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fixture of the merge module's tests: an old and a new image, an /etc
 * layer and an empty new layer in a temporary directory, helpers that make
 * copy-ups, whiteouts and opaque directories, and overlayfs views that show what
 * an instance would see. Results are checked in the new layer and, where it
 * matters, through a real overlay mount of the new layer over the new image, in
 * a private mount namespace that dies with the test process. */
#pragma once

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

static _unused_ int open_dir_fd(int dirfd, const char *path) {
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static _unused_ void mkdir_at(int dirfd, const char *path, mode_t mode) {
        assert_int_equal(mkdirat(dirfd, path, mode), 0);
        assert_int_equal(fchmodat(dirfd, path, mode, 0), 0);
}

static _unused_ int setup(void **state) {
        Fx *fx = calloc(1, sizeof(Fx));
        int root;

        assert_non_null(fx);
        strcpy(fx->dir, "/tmp/goldroot-merge-XXXXXX");
        assert_non_null(mkdtemp(fx->dir));
        root = open_dir_fd(AT_FDCWD, fx->dir);
        for (const char *const *d = (const char *const[]){"base", "base/etc", "theirs",
                                                          "theirs/etc", "state", "new", NULL};
             *d; d++)
                mkdir_at(root, *d, 0755);
        fx->base = open_dir_fd(root, "base");
        fx->theirs = open_dir_fd(root, "theirs");
        fx->base_etc = open_dir_fd(root, "base/etc");
        fx->theirs_etc = open_dir_fd(root, "theirs/etc");
        fx->state = open_dir_fd(root, "state");
        fx->new_ = open_dir_fd(root, "new");
        close(root);
        fx->view = -1;
        assert_int_equal(merge_tree_from_dir(fx->base, &fx->tb), 0);
        assert_int_equal(merge_tree_from_dir(fx->theirs, &fx->tt), 0);
        fx->layer = (MergeLayer){.path = "/etc", .dirfd = fx->state, .kind = MERGE_LAYER_OVERLAY};
        *state = fx;
        return 0;
}

static _unused_ void unview(Fx *fx) {
        char work[96];

        if (fx->view < 0)
                return;
        close(fx->view);
        fx->view = -1;
        assert_int_equal(umount2(fx->mnt, 0), 0);
        snprintf(work, sizeof work, "%s/work", fx->dir);
        assert_int_equal(rm_rf_at(AT_FDCWD, work), 0);
}

static _unused_ int teardown(void **state) {
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
static _unused_ int view(Fx *fx, const char *lower, const char *upper) {
        char opts[512], work[96];

        unview(fx);
        snprintf(fx->mnt, sizeof fx->mnt, "%s/mnt", fx->dir);
        snprintf(work, sizeof work, "%s/work", fx->dir);
        (void)mkdir(fx->mnt, 0755);
        assert_int_equal(mkdir(work, 0700), 0);
        snprintf(opts, sizeof opts, "lowerdir=%s/%s,upperdir=%s/%s,workdir=%s", fx->dir, lower,
                 fx->dir, upper, work);
        assert_int_equal(mount("overlay", fx->mnt, "overlay", 0, opts), 0);
        fx->view = open_dir_fd(AT_FDCWD, fx->mnt);
        return fx->view;
}

/* Writes a file (and any missing parent directories, 0755). */
static _unused_ void put(int dirfd, const char *path, const char *content, mode_t mode) {
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
static _unused_ void copy_up(Fx *fx, const char *path) {
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

static _unused_ void whiteout(int dirfd, const char *path) {
        assert_int_equal(mknodat(dirfd, path, S_IFCHR | 0, makedev(0, 0)), 0);
}

static _unused_ void set_opaque(int dirfd, const char *path) {
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0), 0);
        close(fd);
}

static _unused_ bool is_opaque(int dirfd, const char *path) {
        char v[4] = {};
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        bool r;
        assert_true(fd >= 0);
        r = fgetxattr(fd, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
        close(fd);
        return r;
}

static _unused_ void fd_set_xattr(int dirfd, const char *path, const char *name,
                                  const char *value) {
        int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(fsetxattr(fd, name, value, strlen(value), 0), 0);
        close(fd);
}

/* The value's length, or -errno. */
static _unused_ int fd_get_xattr(int dirfd, const char *path, const char *name, char *buf,
                                 size_t size) {
        int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        ssize_t n;
        assert_true(fd >= 0);
        n = fgetxattr(fd, name, buf, size);
        n = n < 0 ? -errno : n;
        close(fd);
        return (int)n;
}

static _unused_ bool dir_is_empty(int dirfd) {
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

static _unused_ bool exists(int dirfd, const char *path) {
        struct stat st;
        return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static _unused_ bool is_whiteout(int dirfd, const char *path) {
        struct stat st;
        return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
               st.st_rdev == makedev(0, 0);
}

static _unused_ mode_t mode_of(int dirfd, const char *path) {
        struct stat st;
        assert_int_equal(fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
        return st.st_mode;
}

/* The file's content; the caller frees it. Fails the test if it is missing. */
static _unused_ char *slurp(int dirfd, const char *path) {
        char *s = NULL;
        assert_int_equal(read_file_at(dirfd, path, &s, NULL, 1 << 20), 0);
        return s;
}

static _unused_ void assert_content(int dirfd, const char *path, const char *want) {
        _cleanup_free_ char *s = slurp(dirfd, path);
        assert_string_equal(s, want);
}

static _unused_ void assert_link(int dirfd, const char *path, const char *want) {
        char target[512];
        ssize_t n = readlinkat(dirfd, path, target, sizeof target - 1);
        assert_true(n >= 0);
        target[n] = 0;
        assert_string_equal(target, want);
}

static _unused_ void plan(Fx *fx, MergePolicy policy) {
        fx->report = merge_report_free(fx->report);
        assert_int_equal(merge_plan(&fx->tb, &fx->tt, &fx->layer, 1, policy, &fx->report), 0);
}

static _unused_ int apply(Fx *fx) {
        return merge_apply(fx->report, &fx->layer, 1, &fx->new_);
}

static _unused_ const MergeEntry *find(Fx *fx, const char *path) {
        for (size_t i = 0; i < fx->report->n_entries; i++)
                if (streq(fx->report->entries[i].path, path))
                        return &fx->report->entries[i];
        return NULL;
}

static _unused_ const MergeEntry *expect(Fx *fx, const char *path, MergeOutcome o) {
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
static _unused_ char *report_text(Fx *fx) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        assert_int_equal(merge_report_print(fx->report, f), 0);
        fclose(f);
        return buf;
}

/* Sends the log to a string until capture_end(), which returns it. */
static char *captured;
static size_t captured_len;
static _unused_ FILE *capture_begin(void) {
        FILE *f = open_memstream(&captured, &captured_len);
        assert_non_null(f);
        log_set_stream(f);
        return f;
}
static _unused_ char *capture_end(FILE *f) {
        log_set_stream(NULL);
        fclose(f);
        return captured;
}

/* main() of a merge test program: a private mount namespace for the views. */
#define MERGE_TEST_MAIN(tests)                                                                     \
        int main(void) {                                                                           \
                if (unshare(CLONE_NEWNS) < 0 ||                                                    \
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {                       \
                        perror("private mount namespace");                                         \
                        return 1;                                                                  \
                }                                                                                  \
                umask(0);                                                                          \
                return cmocka_run_group_tests(tests, NULL, NULL);                                  \
        }
