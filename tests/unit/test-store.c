/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the store: manifests (text form, ids, diff), the JSON
 * writer, the image builder (dedup, hardlink groups, hostile layouts),
 * references, rm of a linked image, gc and crash recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fsutil.h"
#include "json.h"
#include "manifest.h"
#include "store.h"
#include "util.h"

#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "store-fixture.h"

static void stat_in_image(Fixture *f, const char *id, const char *path, struct stat *st) {
        int root = -1;
        assert_int_equal(store_open_image_root(f->s, id, &root), 0);
        assert_int_equal(fstatat(root, path, st, AT_SYMLINK_NOFOLLOW), 0);
        close(root);
}

static void test_builder_dedup_and_groups(void **state) {
        Fixture *f = *state;
        Manifest *m = NULL, *m2 = NULL;
        char id[65], id2[65], id3[65], mid[65], *text = NULL;
        size_t len = 0;
        FILE *out;
        const ManifestEntry *a, *b, *x, *y, *sh;
        struct stat sa, sb, sx, sy;

        build_small(f, "v1", "one\n", id);
        expect_counts(f, 3, 1); /* "same" once, "one", the script */
        assert_int_equal(store_read_manifest(f->s, id, &m), 0);
        assert_int_equal(m->n, 9);
        assert_int_equal(manifest_id(m, mid), 0);
        assert_string_equal(mid, id);

        /* Identical files that were separate stay separate in the manifest,
         * though the tree shares one inode for them. */
        a = manifest_find(m, "/etc/a");
        b = manifest_find(m, "/etc/b");
        assert_non_null(a);
        assert_non_null(b);
        assert_null(a->link);
        assert_null(b->link);
        assert_memory_equal(a->digest, b->digest, DIGEST_SIZE);
        stat_in_image(f, id, "etc/a", &sa);
        stat_in_image(f, id, "etc/b", &sb);
        assert_int_equal(sa.st_ino, sb.st_ino);
        assert_int_equal(sa.st_mode, S_IFREG | 0644);

        /* A real hardlink group is named after its first path. */
        x = manifest_find(m, "/bin/x");
        y = manifest_find(m, "/bin/y");
        assert_string_equal(x->link, "/bin/x");
        assert_string_equal(y->link, "/bin/x");
        stat_in_image(f, id, "bin/x", &sx);
        stat_in_image(f, id, "bin/y", &sy);
        assert_int_equal(sx.st_ino, sy.st_ino);
        assert_int_equal(sx.st_mode, S_IFREG | 0755);
        sh = manifest_find(m, "/bin/sh");
        assert_true(S_ISLNK(sh->mode));
        assert_string_equal(sh->target, "x");

        /* The text form parses back to the same id. */
        out = open_memstream(&text, &len);
        assert_int_equal(manifest_write(m, out), 0);
        fclose(out);
        assert_int_equal(manifest_parse(text, len, "test", &m2), 0);
        assert_int_equal(manifest_id(m2, mid), 0);
        assert_string_equal(mid, id);
        free(text);
        manifest_free(m2);

        /* Same content: same id, only the tag is new. */
        build_small(f, "v2", "one\n", id2);
        assert_string_equal(id2, id);
        expect_counts(f, 3, 1);

        /* One changed file costs one object. */
        build_small(f, "v3", "two\n", id3);
        assert_string_not_equal(id3, id);
        expect_counts(f, 4, 2);
        manifest_free(m);
}

typedef struct Seen {
        char kinds[16];
        char paths[16][32];
        unsigned changes[16];
        size_t n;
} Seen;

static int record(DiffKind kind, const char *path, unsigned changes, const ManifestEntry *a,
                  const ManifestEntry *b, void *userdata) {
        Seen *s = userdata;
        assert_true(s->n < 16);
        s->kinds[s->n] = (char)kind;
        snprintf(s->paths[s->n], sizeof s->paths[0], "%s", path);
        s->changes[s->n] = changes;
        s->n++;
        return 0;
}

static void push(Manifest *m, const char *path, mode_t mode, uint8_t fill, const char *link) {
        ManifestEntry e = entry(path, mode);
        memset(e.digest, fill, DIGEST_SIZE);
        if (S_ISLNK(mode))
                e.target = strdup(link);
        else if (link)
                e.link = strdup(link);
        assert_int_equal(manifest_append(m, &e), 0);
}

static void test_diff_kinds(void **state) {
        Manifest *a = manifest_new(), *b = manifest_new();
        Seen s = {};
        (void)state;

        push(a, "/", S_IFDIR | 0755, 0, NULL);
        push(a, "/gone", S_IFREG | 0644, 1, NULL);
        push(a, "/l", S_IFLNK | 0777, 0, "x");
        push(a, "/meta", S_IFREG | 0644, 2, NULL);
        push(a, "/same", S_IFREG | 0644, 3, NULL);
        push(a, "/text", S_IFREG | 0644, 4, NULL);
        push(a, "/type", S_IFREG | 0644, 5, NULL);

        push(b, "/", S_IFDIR | 0755, 0, NULL);
        push(b, "/l", S_IFLNK | 0777, 0, "y");
        push(b, "/meta", S_IFREG | 0600, 2, "/meta");
        push(b, "/new", S_IFREG | 0644, 6, NULL);
        push(b, "/same", S_IFREG | 0644, 3, NULL);
        push(b, "/text", S_IFREG | 0644, 7, NULL);
        push(b, "/type", S_IFDIR | 0755, 0, NULL);

        assert_int_equal(manifest_diff(a, b, record, &s), 0);
        assert_int_equal(s.n, 6);
        assert_string_equal(s.paths[0], "/gone");
        assert_int_equal(s.kinds[0], 'D');
        assert_string_equal(s.paths[1], "/l");
        assert_int_equal(s.kinds[1], 'M');
        assert_string_equal(s.paths[2], "/meta");
        assert_int_equal(s.kinds[2], 'm'); /* metadata only */
        assert_int_equal(s.changes[2], CHANGE_MODE | CHANGE_LINKS);
        assert_string_equal(s.paths[3], "/new");
        assert_int_equal(s.kinds[3], 'A');
        assert_string_equal(s.paths[4], "/text");
        assert_int_equal(s.kinds[4], 'M');
        assert_int_equal(s.changes[4], CHANGE_CONTENT);
        assert_string_equal(s.paths[5], "/type");
        assert_int_equal(s.changes[5], CHANGE_TYPE);
        manifest_free(a);
        manifest_free(b);
}

static void test_manifest_escaping_and_errors(void **state) {
        Manifest *m = manifest_new(), *p = NULL;
        char *text = NULL, *e;
        size_t len = 0;
        FILE *out;
        Capture c;
        ManifestEntry x = entry("/we ird\n\\name,=", S_IFREG | 04755);
        static const char *const bad[] = {
                "nope\n",
                "goldroot-manifest 1\n/ d 0755 0 0 - - - -\n",
                "goldroot-manifest 1\n/ q 0755 0 0 - - - - 0.0\n",
                "goldroot-manifest 1\n/b d 0755 0 0 - - - - 0.0\n/a d 0755 0 0 - - - - 0.0\n",
        };
        (void)state;

        x.uid = 12345;
        x.gid = 54321;
        x.size = 3;
        x.n_xattrs = 1;
        x.xattrs = calloc(1, sizeof(Xattr));
        x.xattrs[0].name = strdup("user.a,b=c");
        x.xattrs[0].value = strdup("\001\002");
        x.xattrs[0].size = 2;
        x.mtime_sec = 1700000000;
        x.mtime_nsec = 42;
        push(m, "/", S_IFDIR | 0755, 0, NULL);
        assert_int_equal(manifest_append(m, &x), 0);
        manifest_sort(m);
        out = open_memstream(&text, &len);
        assert_int_equal(manifest_write(m, out), 0);
        fclose(out);
        /* One line per entry whatever the names hold. */
        assert_non_null(strstr(text, "/we\\x20ird\\x0a\\x5cname,= f 4755 12345 54321 3 "));
        assert_non_null(strstr(text, "user.a\\x2cb\\x3dc=0102"));
        assert_int_equal(manifest_parse(text, len, "m", &p), 0);
        assert_int_equal(p->n, 2);
        assert_string_equal(p->entries[1].path, "/we ird\n\\name,=");
        assert_string_equal(p->entries[1].xattrs[0].name, "user.a,b=c");
        assert_int_equal(p->entries[1].mtime_nsec, 42);
        assert_int_equal(manifest_entry_compare(&m->entries[1], &p->entries[1]), 0);
        manifest_free(p);
        free(text);
        manifest_free(m);

        e = escape_path("a b\nc", false);
        assert_string_equal(e, "a b\\x0ac");
        free(e);

        capture_start(&c);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(manifest_parse(bad[i], strlen(bad[i]), "m", &p), -EBADMSG);
        text = capture_end(&c);
        assert_non_null(strstr(text, "goldroot: m:1:1: not a goldroot manifest\n"));
        assert_non_null(strstr(text, "goldroot: m:2:21: missing field\n"));
        assert_non_null(strstr(text, "goldroot: m:2:3: bad type\n"));
        assert_non_null(strstr(text, "goldroot: m:3:1: entries out of order\n"));
        free(text);
}

static void test_json_writer(void **state) {
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        JsonWriter w;
        (void)state;

        json_init(&w, out);
        json_begin_object(&w);
        json_kv_string(&w, "s", "a\"b\\c\nd\te\001");
        json_kv_string(&w, "bad", "caf\351");
        json_kv_string(&w, "utf8", "na\303\257ve");
        json_kv_string(&w, "null", NULL);
        json_kv_int(&w, "i", -5);
        json_kv_uint(&w, "u", 18446744073709551615ull);
        json_kv_bool(&w, "b", true);
        json_key(&w, "a");
        json_begin_array(&w);
        json_int(&w, 1);
        json_begin_object(&w);
        json_end_object(&w);
        json_begin_array(&w);
        json_end_array(&w);
        json_end_array(&w);
        json_end_object(&w);
        assert_int_equal(json_finish(&w), 0);
        fclose(out);
        assert_string_equal(buf, "{\"s\":\"a\\\"b\\\\c\\nd\\te\\u0001\",\"bad\":\"caf\\ufffd\","
                                 "\"utf8\":\"na\303\257ve\",\"null\":null,\"i\":-5,"
                                 "\"u\":18446744073709551615,\"b\":true,\"a\":[1,{},[]]}\n");
        free(buf);
}

static void expect_refused(Fixture *f, const char *why, int (*step)(ImageBuilder *b)) {
        ImageBuilder *b = NULL;
        Capture c;
        char *log;

        assert_int_equal(image_builder_new(f->s, &(ImageBuilderOptions){.what = "t"}, &b), 0);
        add_dir(b, "/etc", 0755);
        add_file(b, "/etc/passwd", "root\n", 0644);
        capture_start(&c);
        assert_int_equal(step(b), -EBADMSG);
        log = capture_end(&c);
        /* One line, naming the problem. */
        assert_non_null(strstr(log, why));
        assert_ptr_equal(strchr(log, '\n'), log + strlen(log) - 1);
        free(log);
        image_builder_free(b);
        expect_counts(f, 0, 0);
}

static int step_dotdot(ImageBuilder *b) {
        ManifestEntry e = entry("/etc/../../x", S_IFDIR | 0755);
        int r = image_builder_add(b, &e);
        manifest_entry_done(&e);
        return r;
}

static int step_duplicate(ImageBuilder *b) {
        ManifestEntry e = entry("/etc/passwd", S_IFREG | 0644);
        int r = image_builder_begin_file(b, &e);
        manifest_entry_done(&e);
        return r;
}

static int step_through_symlink(ImageBuilder *b) {
        ManifestEntry l = entry("/l", S_IFLNK | 0777), e = entry("/l/shadow", S_IFREG | 0644);
        int r;
        l.target = strdup("/etc");
        assert_int_equal(image_builder_add(b, &l), 0);
        r = image_builder_begin_file(b, &e);
        manifest_entry_done(&e);
        return r;
}

static int step_hardlink_missing(ImageBuilder *b) {
        return image_builder_add_hardlink(b, "/etc/h", "/etc/shadow");
}

static int step_hardlink_dir(ImageBuilder *b) {
        return image_builder_add_hardlink(b, "/etc/h", "/etc");
}

static int step_root_file(ImageBuilder *b) {
        ManifestEntry e = entry("/", S_IFLNK | 0777);
        int r;
        e.target = strdup("/etc");
        r = image_builder_add(b, &e);
        manifest_entry_done(&e);
        return r;
}

static int step_overlay_xattr(ImageBuilder *b) {
        ManifestEntry e = entry("/etc/opaque", S_IFDIR | 0755);
        int r;
        e.n_xattrs = 1;
        e.xattrs = calloc(1, sizeof(Xattr));
        e.xattrs[0].name = strdup("trusted.overlay.opaque");
        e.xattrs[0].value = strdup("y");
        e.xattrs[0].size = 1;
        r = image_builder_add(b, &e);
        manifest_entry_done(&e);
        return r;
}

static void test_hostile_layouts(void **state) {
        Fixture *f = *state;

        expect_refused(f, "path leaves the image", step_dotdot);
        expect_refused(f, "duplicate entry", step_duplicate);
        expect_refused(f, "parent is a symlink", step_through_symlink);
        expect_refused(f, "not in the image", step_hardlink_missing);
        expect_refused(f, "not a regular file", step_hardlink_dir);
        expect_refused(f, "root can only be a directory", step_root_file);
        expect_refused(f, "xattr trusted.overlay.opaque is reserved for overlayfs",
                       step_overlay_xattr);
}

static void test_resolve(void **state) {
        Fixture *f = *state;
        ImageInfo i1 = {.created = 1}, i2 = {.created = 2};
        char id[65], *log;
        Capture c;

        strcpy(i1.id, "abcd000000000000000000000000000000000000000000000000000000000001");
        strcpy(i2.id, "abcd000000000000000000000000000000000000000000000000000000000002");
        assert_int_equal(catalog_add_image(store_catalog(f->s), &i1), 1);
        assert_int_equal(catalog_add_image(store_catalog(f->s), &i2), 1);
        assert_int_equal(catalog_set_tag(store_catalog(f->s), "base", "v1", i2.id), 0);

        assert_int_equal(store_resolve(f->s, "base:v1", id), 0);
        assert_string_equal(id, i2.id);
        assert_int_equal(store_resolve(f->s,
                                       "abcd00000000000000000000000000000000000000000000000"
                                       "0000000000001",
                                       id),
                         0);
        assert_string_equal(id, i1.id);

        capture_start(&c);
        assert_int_equal(store_resolve(f->s, "abcd", id), -EINVAL);
        assert_int_equal(store_resolve(f->s, "abc", id), -EINVAL);
        assert_int_equal(store_resolve(f->s, "Base", id), -EINVAL);
        assert_int_equal(store_resolve(f->s, "base:", id), -EINVAL);
        assert_int_equal(store_resolve(f->s, "ba se:v1", id), -EINVAL);
        assert_int_equal(store_resolve(f->s, "base:v9", id), -ENOENT);
        assert_int_equal(store_resolve(f->s, "ffff", id), -ENOENT);
        log = capture_end(&c);
        assert_non_null(strstr(log, "goldroot: image abcd: ambiguous id prefix, matches "
                                    "abcd00000000, abcd00000000\n"));
        assert_non_null(strstr(log, "goldroot: image base:v9: no such image\n"));
        free(log);
}

static void test_rm_linked_image_refused(void **state) {
        Fixture *f = *state;
        char id[65], id2[65], *log;
        Capture c;

        build_small(f, "v1", "one\n", id);
        assert_int_equal(catalog_link_instance(store_catalog(f->s), "web2", id, "ro"), 0);
        assert_int_equal(catalog_link_instance(store_catalog(f->s), "web1", id, "rw"), 0);

        capture_start(&c);
        assert_int_equal(store_remove_image(f->s, "base:v1"), -EBUSY);
        log = capture_end(&c);
        assert_string_equal(log, "goldroot: image base:v1 is linked by web1, web2: upgrade or "
                                 "remove them first\n");
        free(log);
        /* Nothing changed. */
        assert_int_equal(store_resolve(f->s, "base:v1", id2), 0);
        expect_counts(f, 3, 1);

        assert_int_equal(catalog_unlink_instance(store_catalog(f->s), "web1"), 0);
        assert_int_equal(catalog_unlink_instance(store_catalog(f->s), "web2"), 0);
        assert_int_equal(store_remove_image(f->s, "base:v1"), 0);
        expect_counts(f, 3, 0);
        capture_start(&c);
        assert_int_equal(store_resolve(f->s, "base:v1", id2), -ENOENT);
        free(capture_end(&c));
}

static void test_gc_frees_only_unreferenced(void **state) {
        Fixture *f = *state;
        char v1[65], v3[65];
        GcStats st = {};

        /* Another name: v3 is a whole tree (test-store-delta covers deltas). */
        build_small(f, "v1", "one\n", v1);
        build_small_named(f, "other", "v3", "three\n", v3);
        assert_int_equal(store_image_is_delta(f->s, v3), 0);
        expect_counts(f, 4, 2);

        /* Nothing is unreferenced yet. */
        assert_int_equal(store_gc(f->s, NULL, &st), 0);
        assert_int_equal(st.objects_removed, 0);
        assert_int_equal(st.objects_kept, 4);

        assert_int_equal(store_remove_image(f->s, "base:v1"), 0);
        assert_int_equal(store_gc(f->s, NULL, &st), 0);
        assert_int_equal(st.objects_removed, 1); /* "one\n", v1's own */
        assert_int_equal(st.bytes_freed, 4);
        assert_int_equal(st.objects_kept, 3);
        expect_counts(f, 3, 1);

        expect_image_file(f, v3, "etc/v", "three\n");
        expect_image_file(f, v3, "etc/a", "same\n");
}

static void test_failed_build_leaves_nothing(void **state) {
        Fixture *f = *state;
        ImageBuilder *b = NULL;

        assert_int_equal(image_builder_new(f->s, NULL, &b), 0);
        add_dir(b, "/etc", 0755);
        add_file(b, "/etc/a", "a\n", 0644);
        add_file(b, "/etc/b", "b\n", 0644);
        assert_int_equal(count_dir(f, "staging"), 1);
        image_builder_free(b);
        expect_counts(f, 0, 0);
}

static void test_recovery(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *stale = path_join(f->store, "staging", "stale");
        _cleanup_free_ char *live = path_join(f->store, "staging", "live");
        _cleanup_free_ char *orphan =
                path_join(f->store, "images",
                          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        _cleanup_free_ char *inner = path_join(stale, "root");
        char id[65], id2[65], id3[65];
        int lockfd;

        /* Three known trees: the orphan is looked up among several. */
        build_small(f, "v1", "one\n", id);
        build_small(f, "v2", "two\n", id2);
        build_small(f, "v3", "three\n", id3);
        assert_int_equal(mkdir(stale, 0700), 0);
        assert_int_equal(mkdir(inner, 0555), 0);
        assert_int_equal(mkdir(live, 0700), 0);
        assert_int_equal(mkdir(orphan, 0700), 0);
        /* A builder that is still running holds its staging directory's lock. */
        lockfd = open(live, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(lockfd >= 0);
        assert_int_equal(flock(lockfd, LOCK_EX), 0);

        store_free(f->s);
        assert_int_equal(store_open(f->store, STORE_SHARED, &f->s), 0);
        assert_true(access(stale, F_OK) < 0);
        assert_int_equal(access(live, F_OK), 0);
        /* The only opener got the lock to itself, so it also removed the orphan,
         * and kept the images the catalog knows. */
        assert_true(access(orphan, F_OK) < 0);
        assert_int_equal(count_dir(f, "images"), 3);
        assert_int_equal(store_resolve(f->s, "base:v1", id), 0);
        assert_int_equal(store_resolve(f->s, "base:v2", id2), 0);
        assert_int_equal(store_resolve(f->s, "base:v3", id3), 0);

        close(lockfd);
        store_free(f->s);
        assert_int_equal(store_open(f->store, STORE_EXCLUSIVE, &f->s), 0);
        assert_true(access(live, F_OK) < 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_builder_dedup_and_groups, setup, teardown),
                cmocka_unit_test(test_diff_kinds),
                cmocka_unit_test(test_manifest_escaping_and_errors),
                cmocka_unit_test(test_json_writer),
                cmocka_unit_test_setup_teardown(test_hostile_layouts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rm_linked_image_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gc_frees_only_unreferenced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failed_build_leaves_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recovery, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
