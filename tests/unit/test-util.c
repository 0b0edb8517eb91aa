/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for util.c and fsutil.c: parsers, paths, logging and the
 * fd-relative helpers against real trees with hostile symlinks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fsutil.h"
#include "util.h"

#include <sys/stat.h>
#include <sys/xattr.h>

static void test_parse_size(void **state) {
        uint64_t v = 0;
        (void)state;
        assert_int_equal(parse_size("64M", &v), 0);
        assert_int_equal(v, 64ull << 20);
        assert_int_equal(parse_size("10k", &v), 0);
        assert_int_equal(v, 10240);
        assert_int_equal(parse_size("1GiB", &v), 0);
        assert_int_equal(v, 1ull << 30);
        assert_int_equal(parse_size("4096", &v), 0);
        assert_int_equal(v, 4096);
        assert_int_equal(parse_size("", &v), -EINVAL);
        assert_int_equal(parse_size("0", &v), -EINVAL);
        assert_int_equal(parse_size("12X", &v), -EINVAL);
        assert_int_equal(parse_size("-1M", &v), -EINVAL);
        assert_int_equal(parse_size("99999999999999999999", &v), -EINVAL);
        assert_int_equal(parse_size("17179869184T", &v), -EINVAL);
}

static void test_parse_unsigned(void **state) {
        uint64_t v = 7;
        (void)state;
        assert_int_equal(parse_unsigned("0", 10, &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_unsigned("86400", 86400, &v), 0);
        assert_int_equal(v, 86400);
        assert_int_equal(parse_unsigned("18446744073709551615", UINT64_MAX, &v), 0);
        assert_int_equal(v, UINT64_MAX);
        v = 7;
        /* strtoul() takes all of these. */
        assert_int_equal(parse_unsigned(" 5", 10, &v), -EINVAL);
        assert_int_equal(parse_unsigned("\t5", 10, &v), -EINVAL);
        assert_int_equal(parse_unsigned("+5", 10, &v), -EINVAL);
        assert_int_equal(parse_unsigned("-5", 10, &v), -EINVAL);
        assert_int_equal(parse_unsigned("5 ", 10, &v), -EINVAL);
        assert_int_equal(parse_unsigned("", 10, &v), -EINVAL);
        assert_int_equal(parse_unsigned("0x5", 10, &v), -EINVAL);
        assert_int_equal(parse_unsigned("11", 10, &v), -EINVAL);
        assert_int_equal(parse_unsigned("5", 0, &v), -EINVAL);
        assert_int_equal(parse_unsigned("86401", 86400, &v), -EINVAL);
        assert_int_equal(parse_unsigned("18446744073709551616", UINT64_MAX, &v), -EINVAL);
        assert_int_equal(parse_unsigned("99999999999999999999", UINT64_MAX, &v), -EINVAL);
        assert_int_equal(v, 7);
}

static void test_parse_mode(void **state) {
        mode_t m = 0;
        (void)state;
        assert_int_equal(parse_mode("1777", &m), 0);
        assert_int_equal(m, 01777);
        assert_int_equal(parse_mode("0755", &m), 0);
        assert_int_equal(m, 0755);
        assert_int_equal(parse_mode("999", &m), -EINVAL);
        assert_int_equal(parse_mode("17777", &m), -EINVAL);
        assert_int_equal(parse_mode("", &m), -EINVAL);
        assert_int_equal(parse_mode("rwx", &m), -EINVAL);
}

static void test_parse_ids(void **state) {
        uid_t u = 0;
        gid_t g = 0;
        (void)state;
        assert_int_equal(parse_uid("1000", &u), 0);
        assert_int_equal(u, 1000);
        assert_int_equal(parse_uid("4294967295", &u), -EINVAL);
        assert_int_equal(parse_uid("root", &u), -EINVAL);
        assert_int_equal(parse_uid(" 1000", &u), -EINVAL);
        assert_int_equal(parse_uid("+1000", &u), -EINVAL);
        assert_int_equal(parse_gid("0", &g), 0);
        assert_int_equal(g, 0);
}

static void test_path_normalize(void **state) {
        char *p = NULL;
        (void)state;
        assert_int_equal(path_normalize("//a/./b//", &p), 0);
        assert_string_equal(p, "/a/b");
        free(p);
        assert_int_equal(path_normalize("/", &p), 0);
        assert_string_equal(p, "/");
        free(p);
        assert_int_equal(path_normalize("a/b", &p), 0);
        assert_string_equal(p, "a/b");
        free(p);
        assert_int_equal(path_normalize("/a/../b", &p), -EINVAL);
}

static void test_path_helpers(void **state) {
        char *p;
        (void)state;
        assert_true(path_is_under("/a/b", "/a"));
        assert_true(path_is_under("/a", "/a"));
        assert_false(path_is_under("/ab", "/a"));
        assert_true(path_is_under("/x", "/"));
        assert_string_equal(path_relative("/"), ".");
        assert_string_equal(path_relative("/etc/x"), "etc/x");
        p = path_join("/a/", "/b", "c");
        assert_string_equal(p, "/a/b/c");
        free(p);
        assert_non_null(startswith("image:/etc", "image:"));
        assert_null(startswith("imag", "image:"));
        assert_true(endswith("x.profile", ".profile"));
}

static void test_log_one_line(void **state) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        int r;
        (void)state;

        log_set_stream(f);
        r = log_error_errno(ENOENT, "open %s: %m", "x\ny");
        log_set_stream(NULL);
        fclose(f);
        assert_int_equal(r, -ENOENT);
        assert_string_equal(buf, "goldroot: open x y: No such file or directory\n");
        free(buf);
}

static void test_log_syntax(void **state) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        int r;
        (void)state;

        log_set_stream(f);
        r = log_syntax("a.profile", 3, 7, "unknown type '%s'", "nfs");
        log_set_stream(NULL);
        fclose(f);
        assert_int_equal(r, -EBADMSG);
        assert_string_equal(buf, "goldroot: a.profile:3:7: unknown type 'nfs'\n");
        free(buf);
}

static void test_strv(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        (void)state;
        assert_int_equal(strv_extend(&l, "a"), 0);
        assert_int_equal(strv_extend(&l, "b"), 0);
        assert_int_equal(strv_length(l), 2);
        assert_true(strv_contains(l, "b"));
        assert_false(strv_contains(l, "c"));
}

static void test_strv_split_blanks(void **state) {
        _cleanup_strv_free_ char **l = NULL, **none = NULL;
        (void)state;
        assert_int_equal(strv_split_blanks("  /sbin/init \t--log  x ", &l), 0);
        assert_int_equal(strv_length(l), 3);
        assert_string_equal(l[0], "/sbin/init");
        assert_string_equal(l[1], "--log");
        assert_string_equal(l[2], "x");
        assert_int_equal(strv_split_blanks(" \t ", &none), 0);
        assert_null(none);
}

static void test_opendir_at(void **state) {
        char dir[] = "/tmp/goldroot-test-XXXXXX";
        _cleanup_free_ char *link = NULL;
        DIR *d = NULL;
        size_t n = 0;
        int fd;
        (void)state;
        assert_non_null(mkdtemp(dir));
        fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(mkdirat(fd, "sub", 0700), 0);
        assert_int_equal(symlinkat("sub", fd, "link"), 0);
        /* The stream has an fd of its own: closing it leaves fd usable. */
        assert_int_equal(opendir_at(fd, ".", &d), 0);
        while (readdir(d))
                n++;
        closedir(d);
        assert_int_equal(n, 4); /* ., .., sub, link */
        assert_int_equal(opendir_at(fd, "link", &d), -ENOTDIR);
        assert_int_equal(opendir_at(fd, "missing", &d), -ENOENT);
        assert_int_equal(rm_rf_at(fd, "sub"), 0);
        assert_int_equal(unlinkat(fd, "link", 0), 0);
        close(fd);
        assert_int_equal(rmdir(dir), 0);
}

/* A tree with a symlink pointing at the host's /etc: resolving it in-root must
 * stay inside the tree. */
static void test_openat_in_root_stays_inside(void **state) {
        char tmpl[] = "/tmp/gr-util-XXXXXX";
        _cleanup_close_ int root = -EBADF, fd = -EBADF;
        char **created = NULL;
        struct stat st;
        (void)state;

        assert_non_null(mkdtemp(tmpl));
        root = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(root >= 0);
        assert_int_equal(symlinkat("/etc", root, "evil"), 0);
        assert_int_equal(symlinkat("../../../../etc/passwd", root, "dots"), 0);

        /* "evil" -> "/etc" resolves to <root>/etc, which does not exist. */
        assert_int_equal(openat_in_root(root, "evil/passwd", O_RDONLY, 0), -ENOENT);
        assert_int_equal(openat_in_root(root, "dots", O_RDONLY, 0), -ENOENT);
        assert_int_equal(openat_in_root_nofollow(root, "evil", O_PATH, 0), -ELOOP);

        /* mkdir -p through a dangling in-tree symlink fails; once the link's
         * in-tree target exists, it creates there and never in the host's /etc. */
        assert_int_equal(mkdir_p_in_root(root, "/evil/goldroot-test-dir", 0755, &fd, &created),
                         -ENOENT);
        assert_int_equal(mkdirat(root, "etc", 0755), 0);
        assert_int_equal(mkdir_p_in_root(root, "/evil/goldroot-test-dir/x", 0755, &fd, &created),
                         0);
        assert_true(fstatat(AT_FDCWD, "/etc/goldroot-test-dir", &st, 0) < 0);
        assert_int_equal(fstatat(root, "etc/goldroot-test-dir/x", &st, 0), 0);
        assert_int_equal(strv_length(created), 2);
        assert_string_equal(created[0], "evil/goldroot-test-dir");
        strv_free(created);

        assert_int_equal(rm_rf_at(AT_FDCWD, tmpl), 0);
        assert_true(fstatat(AT_FDCWD, tmpl, &st, 0) < 0);
}

/* The userspace fallback resolves exactly as the kernel's openat2 does: the
 * same inode, or the same error, for paths full of traps. */
static void test_openat_in_root_userspace_matches_kernel(void **state) {
        static const char *const paths[] = {
                "evil/passwd",
                "dots",
                "a/b/file",
                "a/up/up/up/a/b/file",
                "rel/file",
                "rel",
                "loop1",
                "../../../a/b",
                "/a/../../b/../a/b/./file",
                "a/b/file/x",
                "abs/file",
                "missing/x",
                "a//b///file",
                ".",
                "a/b/",
                "evil",
                "dangling",
        };
        static const int flags[] = {O_RDONLY, O_PATH, O_PATH | O_NOFOLLOW, O_RDONLY | O_DIRECTORY,
                                    O_PATH | O_DIRECTORY};
        char tmpl[] = "/tmp/gr-util-XXXXXX";
        _cleanup_close_ int root = -EBADF;
        (void)state;

        assert_non_null(mkdtemp(tmpl));
        root = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(root >= 0);
        assert_int_equal(mkdirat(root, "a", 0755), 0);
        assert_int_equal(mkdirat(root, "a/b", 0755), 0);
        assert_int_equal(write_file_atomic_at(root, "a/b/file", "x", 1, 0644), 0);
        assert_int_equal(symlinkat("/etc", root, "evil"), 0);
        assert_int_equal(symlinkat("../../../../etc/passwd", root, "dots"), 0);
        assert_int_equal(symlinkat("..", root, "a/up"), 0);
        assert_int_equal(symlinkat("a/b", root, "rel"), 0);
        assert_int_equal(symlinkat("/a/b", root, "abs"), 0);
        assert_int_equal(symlinkat("loop2", root, "loop1"), 0);
        assert_int_equal(symlinkat("loop1", root, "loop2"), 0);
        assert_int_equal(symlinkat("/nowhere", root, "dangling"), 0);

        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                for (size_t j = 0; j < ELEMENTSOF(flags); j++)
                        for (int nofollow = 0; nofollow <= 1; nofollow++) {
                                int k = nofollow ? openat_in_root_nofollow(root, paths[i], flags[j],
                                                                           0)
                                                 : openat_in_root(root, paths[i], flags[j], 0);
                                int u = openat_in_root_userspace(root, paths[i], flags[j], 0,
                                                                 nofollow);
                                struct stat ks, us;

                                if (k < 0 || u < 0) {
                                        if (k != u)
                                                print_error("%s flags %o nofollow %d: kernel %d, "
                                                            "userspace %d\n",
                                                            paths[i], flags[j], nofollow, k, u);
                                        assert_int_equal(k, u);
                                        continue;
                                }
                                assert_int_equal(fstat(k, &ks), 0);
                                assert_int_equal(fstat(u, &us), 0);
                                assert_int_equal(ks.st_ino, us.st_ino);
                                assert_int_equal(ks.st_dev, us.st_dev);
                                safe_close(k);
                                safe_close(u);
                        }
        assert_int_equal(rm_rf_at(AT_FDCWD, tmpl), 0);
}

static void test_copy_tree_and_atomic_write(void **state) {
        char src[] = "/tmp/gr-src-XXXXXX", dst[] = "/tmp/gr-dst-XXXXXX";
        _cleanup_close_ int s = -EBADF, d = -EBADF;
        _cleanup_free_ char *data = NULL;
        char link[64];
        struct stat st;
        ssize_t n;
        (void)state;

        assert_non_null(mkdtemp(src));
        assert_non_null(mkdtemp(dst));
        s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(mkdirat(s, "sub", 0710), 0);
        assert_int_equal(write_file_atomic_at(s, "sub/file", "hello\n", 6, 0640), 0);
        assert_int_equal(symlinkat("/nowhere", s, "dangling"), 0);
        assert_int_equal(mkfifoat(s, "fifo", 0600), 0);

        assert_int_equal(copy_tree_contents_at(s, d), 0);
        assert_int_equal(read_file_at(d, "sub/file", &data, NULL, 1024), 0);
        assert_string_equal(data, "hello\n");
        assert_int_equal(fstatat(d, "sub/file", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(fstatat(d, "sub", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0710);
        n = readlinkat(d, "dangling", link, sizeof link - 1);
        assert_true(n > 0);
        link[n] = 0;
        assert_string_equal(link, "/nowhere");
        assert_int_equal(fstatat(d, "fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISFIFO(st.st_mode));
        /* Reading a FIFO where a file is expected is refused, not a hang. */
        assert_int_equal(read_file_at(d, "fifo", &data, NULL, 1024), -EBADFD);

        assert_int_equal(rm_rf_at(AT_FDCWD, src), 0);
        assert_int_equal(rm_rf_at(AT_FDCWD, dst), 0);
}

static void test_copy_keeps_holes(void **state) {
        char dir[] = "/tmp/gr-sparse-XXXXXX";
        _cleanup_close_ int d = -EBADF, in = -EBADF, out = -EBADF, out2 = -EBADF;
        const off_t size = 64 << 20, at = 8 << 20;
        char buf[4096], got[4096];
        struct stat st;
        (void)state;

        assert_non_null(mkdtemp(dir));
        d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(d >= 0);
        /* 4 KiB of data at 8 MiB, in a 64 MiB file that ends in a hole. */
        in = openat(d, "in", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(in >= 0);
        memset(buf, 'x', sizeof buf);
        assert_int_equal(pwrite(in, buf, sizeof buf, at), (ssize_t)sizeof buf);
        assert_int_equal(ftruncate(in, size), 0);

        out = openat(d, "out", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(out >= 0);
        assert_int_equal(copy_fd_data(in, out), 0);
        assert_int_equal(fstat(out, &st), 0);
        assert_int_equal(st.st_size, size);
        assert_true(st.st_blocks * 512 < 1 << 20);
        assert_int_equal(lseek(out, 0, SEEK_CUR), size);
        assert_int_equal(pread(out, got, sizeof got, at), (ssize_t)sizeof got);
        assert_memory_equal(got, buf, sizeof buf);
        assert_int_equal(pread(out, got, sizeof got, at - (off_t)sizeof got), (ssize_t)sizeof got);
        memset(buf, 0, sizeof buf);
        assert_memory_equal(got, buf, sizeof buf);

        /* A file that is all data is copied whole. */
        assert_int_equal(ftruncate(in, 0), 0);
        memset(buf, 'y', sizeof buf);
        assert_int_equal(pwrite(in, buf, sizeof buf, 0), (ssize_t)sizeof buf);
        out2 = openat(d, "out2", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(out2 >= 0);
        assert_int_equal(copy_fd_data(in, out2), 0);
        assert_int_equal(fstat(out2, &st), 0);
        assert_int_equal(st.st_size, (off_t)sizeof buf);
        assert_int_equal(pread(out2, got, sizeof got, 0), (ssize_t)sizeof got);
        assert_memory_equal(got, buf, sizeof buf);

        assert_int_equal(rm_rf_at(AT_FDCWD, dir), 0);
}

static void test_copy_xattrs(void **state) {
        char src[] = "/tmp/gr-xsrc-XXXXXX", dst[] = "/tmp/gr-xdst-XXXXXX";
        _cleanup_close_ int s = -EBADF, d = -EBADF, f = -EBADF;
        char v[8] = {};
        (void)state;

        assert_non_null(mkdtemp(src));
        assert_non_null(mkdtemp(dst));
        s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(write_file_atomic_at(s, "file", "x", 1, 0644), 0);
        f = openat(s, "file", O_RDONLY | O_CLOEXEC);
        assert_int_equal(fsetxattr(f, "user.goldroot", "kept", 4, 0), 0);
        assert_int_equal(copy_tree_contents_at(s, d), 0);
        f = safe_close(f);
        f = openat(d, "file", O_RDONLY | O_CLOEXEC);
        assert_int_equal(fgetxattr(f, "user.goldroot", v, sizeof v), 4);
        assert_string_equal(v, "kept");
        assert_int_equal(rm_rf_at(AT_FDCWD, src), 0);
        assert_int_equal(rm_rf_at(AT_FDCWD, dst), 0);
}

static void test_strmap(void **state) {
        StrMap m = {};
        char keys[1000][16];
        size_t v;

        (void)state;
        assert_false(strmap_get(&m, "none", &v));
        for (size_t i = 0; i < 1000; i++) {
                snprintf(keys[i], sizeof keys[i], "/k/%zu", i);
                assert_int_equal(strmap_put(&m, keys[i], i, NULL), 0);
        }
        /* The first value stays; the caller learns it. */
        assert_int_equal(strmap_put(&m, "/k/7", 99, &v), 1);
        assert_int_equal(v, 7);
        for (size_t i = 0; i < 1000; i++) {
                assert_true(strmap_get(&m, keys[i], &v));
                assert_int_equal(v, i);
        }
        assert_false(strmap_get(&m, "/k/1000", &v));
        assert_int_equal(m.n, 1000);
        strmap_done(&m);
        assert_false(strmap_get(&m, "/k/1", NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_size),
                cmocka_unit_test(test_parse_unsigned),
                cmocka_unit_test(test_parse_mode),
                cmocka_unit_test(test_parse_ids),
                cmocka_unit_test(test_path_normalize),
                cmocka_unit_test(test_path_helpers),
                cmocka_unit_test(test_strmap),
                cmocka_unit_test(test_openat_in_root_userspace_matches_kernel),
                cmocka_unit_test(test_log_one_line),
                cmocka_unit_test(test_log_syntax),
                cmocka_unit_test(test_strv),
                cmocka_unit_test(test_strv_split_blanks),
                cmocka_unit_test(test_opendir_at),
                cmocka_unit_test(test_openat_in_root_stays_inside),
                cmocka_unit_test(test_copy_tree_and_atomic_write),
                cmocka_unit_test(test_copy_xattrs),
                cmocka_unit_test(test_copy_keeps_holes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
