/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for image-tree: the manifest-backed MergeTree must answer
 * exactly as the directory-backed one does over the same image (types,
 * metadata, content and xattr digests, listings), and for store-derive:
 * a derived image is the parent plus the changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fsutil.h"
#include "image-tree.h"
#include "store-derive.h"
#include "store.h"
#include "util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

typedef struct Fixture {
        char dir[32];
        Store *s;
        char id[DIGEST_HEX_SIZE];
} Fixture;

static void put(const char *dir, const char *rel, const char *text, mode_t mode) {
        _cleanup_free_ char *p = path_join(dir, rel);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        assert_int_equal(chmod(p, mode), 0);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        _cleanup_free_ char *src = NULL, *store = NULL, *p = NULL;

        assert_non_null(f);
        strcpy(f->dir, "/tmp/gr-itree-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        src = path_join(f->dir, "src");
        store = path_join(f->dir, "store");
        assert_int_equal(mkdir(src, 0755), 0);
        p = path_join(src, "etc");
        assert_int_equal(mkdir(p, 0750), 0);
        free(p);
        p = path_join(src, "etc-x"); /* sorts between "etc" and "etc/..." */
        assert_int_equal(mkdir(p, 0755), 0);
        put(src, "etc/hosts", "127.0.0.1 localhost\n", 0644);
        put(src, "etc/shadow", "root:*:1:0:::::\n", 0600);
        put(src, "etc-x/a", "a\n", 0644);
        put(src, "etc.txt", "", 0444);
        free(p);
        p = path_join(src, "etc/hosts");
        assert_int_equal(setxattr(p, "user.b", "2", 1, 0), 0);
        assert_int_equal(setxattr(p, "user.a", "one", 3, 0), 0);
        assert_int_equal(chown(p, 12, 34), 0);
        free(p);
        p = path_join(src, "etc/link");
        assert_int_equal(symlink("../nowhere", p), 0);
        free(p);
        p = path_join(src, "etc/fifo");
        assert_int_equal(mkfifo(p, 0620), 0);
        free(p);
        p = path_join(src, "etc/null");
        assert_int_equal(mknod(p, S_IFCHR | 0666, makedev(1, 3)), 0);

        assert_int_equal(store_open(store, STORE_SHARED, &f->s), 0);
        assert_int_equal(store_import(f->s, src, &(ImportOptions){.name = "t", .tag = "1"}, f->id),
                         0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        store_free(f->s);
        assert_int_equal(rm_rf_at(AT_FDCWD, f->dir), 0);
        free(f);
        return 0;
}

static void assert_same(const MergeTree *a, const MergeTree *b, const char *path) {
        MergeNode x, y;
        char **la = NULL, **lb = NULL;

        assert_int_equal(a->lookup(a->userdata, path, &x), 0);
        assert_int_equal(b->lookup(b->userdata, path, &y), 0);
        if (x.type == MERGE_NODE_REG && !x.has_digest)
                assert_int_equal(a->digest(a->userdata, path, &x), 0);
        if (y.type == MERGE_NODE_REG && !y.has_digest)
                assert_int_equal(b->digest(b->userdata, path, &y), 0);
        assert_int_equal(x.type, y.type);
        assert_int_equal(x.mode, y.mode);
        assert_int_equal(x.uid, y.uid);
        assert_int_equal(x.gid, y.gid);
        assert_int_equal(x.size, y.size);
        assert_string_equal(x.digest, y.digest);
        assert_string_equal(x.xattr_digest, y.xattr_digest);
        if (x.type != MERGE_NODE_DIR)
                return;
        assert_int_equal(a->list(a->userdata, path, &la), 0);
        assert_int_equal(b->list(b->userdata, path, &lb), 0);
        for (size_t k = 0;; k++) {
                _cleanup_free_ char *child = NULL;
                assert_string_equal(la[k] ?: "(end)", lb[k] ?: "(end)");
                if (!la[k])
                        break;
                child = path_join(path, la[k]);
                assert_same(a, b, child);
        }
        strv_free(la);
        strv_free(lb);
}

static void test_manifest_tree_matches_directory(void **state) {
        Fixture *f = *state;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_close_ int root = -EBADF;
        MergeTree mt = {}, dt = {};
        MergeNode n;
        char *target = NULL;

        assert_int_equal(store_read_manifest(f->s, f->id, &m), 0);
        assert_int_equal(store_open_image_root(f->s, f->id, &root), 0);
        assert_int_equal(image_tree_new(m, root, &mt), 0);
        assert_int_equal(merge_tree_from_dir(root, &dt), 0);
        assert_same(&mt, &dt, "/");
        assert_int_equal(mt.lookup(mt.userdata, "/etc/missing", &n), -ENOENT);
        assert_int_equal(mt.lookup(mt.userdata, "/etc/link/below", &n), -ENOENT);
        assert_int_equal(mt.readlink(mt.userdata, "/etc/link", &target), 0);
        assert_string_equal(target, "../nowhere");
        free(target);
        merge_tree_done(&mt);
        merge_tree_done(&dt);
}

static void test_derive(void **state) {
        Fixture *f = *state;
        _cleanup_(image_derive_freep) ImageDerive *d = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *src = path_join(f->dir, "src");
        _cleanup_close_ int srcfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char id[DIGEST_HEX_SIZE];
        const ManifestEntry *e;
        ManifestEntry meta = {.mode = S_IFREG | 0640, .uid = 5, .gid = 6};

        assert_int_equal(image_derive_new(f->s, f->id, &d), 0);
        assert_int_equal(image_derive_remove(d, "/etc"), 0);
        assert_int_equal(image_derive_put_at(d, "/etc", srcfd, "etc-x"), 0);
        assert_int_equal(image_derive_put_at(d, "/etc/a", srcfd, "etc-x/a"), 0);
        assert_int_equal(image_derive_put_data(d, "/new", &meta, "data\n", 5), 0);
        assert_int_equal(image_derive_remove(d, "/etc.txt"), 0);
        assert_int_equal(
                image_derive_publish(d, &(ImagePublish){.name = "t", .tag = "2"}, NULL, id), 0);
        assert_int_equal(store_read_manifest(f->s, id, &m), 0);
        assert_null(manifest_find(m, "/etc/hosts"));
        assert_null(manifest_find(m, "/etc.txt"));
        assert_non_null(manifest_find(m, "/etc-x/a"));
        assert_non_null(e = manifest_find(m, "/etc/a"));
        assert_int_equal(e->size, 2);
        assert_non_null(e = manifest_find(m, "/new"));
        assert_int_equal(e->mode, S_IFREG | 0640);
        assert_int_equal(e->uid, 5);
        assert_int_equal(e->size, 5);
        assert_non_null(e = manifest_find(m, "/etc"));
        assert_int_equal(e->mode & 07777, 0755);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_manifest_tree_matches_directory, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_derive, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
