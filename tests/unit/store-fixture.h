/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The store suites' fixture: a fresh store per test, small images built
 * through the ImageBuilder, and counts of what the store holds. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fsutil.h"
#include "manifest.h"
#include "store.h"
#include "util.h"

#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>

typedef struct Fixture {
        char dir[32];
        char *store;
        Store *s;
} Fixture;

static _unused_ int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        assert_non_null(f);
        strcpy(f->dir, "/tmp/gr-store-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->store = path_join(f->dir, "store");
        assert_int_equal(store_open(f->store, STORE_EXCLUSIVE, &f->s), 0);
        *state = f;
        return 0;
}

static _unused_ int teardown(void **state) {
        Fixture *f = *state;
        store_free(f->s);
        assert_int_equal(rm_rf_at(AT_FDCWD, f->dir), 0);
        free(f->store);
        free(f);
        return 0;
}

/* Captures what the code under test logs. */
typedef struct Capture {
        char *buf;
        size_t len;
        FILE *f;
} Capture;

static _unused_ void capture_start(Capture *c) {
        *c = (Capture){};
        c->f = open_memstream(&c->buf, &c->len);
        assert_non_null(c->f);
        log_set_stream(c->f);
}

static _unused_ char *capture_end(Capture *c) {
        log_set_stream(NULL);
        fclose(c->f);
        return c->buf;
}

static _unused_ ManifestEntry entry(const char *path, mode_t mode) {
        ManifestEntry e = {.path = strdup(path), .mode = mode};
        assert_non_null(e.path);
        return e;
}

static _unused_ void add_dir(ImageBuilder *b, const char *path, mode_t perm) {
        ManifestEntry e = entry(path, S_IFDIR | perm);
        assert_int_equal(image_builder_add(b, &e), 0);
}

static _unused_ void add_file(ImageBuilder *b, const char *path, const char *content, mode_t perm) {
        ManifestEntry e = entry(path, S_IFREG | perm);
        assert_int_equal(image_builder_begin_file(b, &e), 0);
        assert_int_equal(image_builder_write(b, content, strlen(content)), 0);
        assert_int_equal(image_builder_end_file(b), 0);
}

static _unused_ void add_symlink(ImageBuilder *b, const char *path, const char *target) {
        ManifestEntry e = entry(path, S_IFLNK | 0777);
        e.target = strdup(target);
        assert_int_equal(image_builder_add(b, &e), 0);
}

/* Counts regular files under objects/. */
static _unused_ unsigned count_objects(Fixture *f) {
        unsigned n = 0;
        for (unsigned i = 0; i < 256; i++) {
                char sub[3];
                DIR *d;
                struct dirent *de;
                int fd;

                snprintf(sub, sizeof sub, "%02x", i);
                fd = openat(store_objects_fd(f->s), sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                d = fdopendir(fd);
                assert_non_null(d);
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.')
                                n++;
                closedir(d);
        }
        return n;
}

static _unused_ unsigned count_dir(Fixture *f, const char *sub) {
        unsigned n = 0;
        _cleanup_free_ char *p = path_join(f->store, sub);
        DIR *d = opendir(p);
        struct dirent *de;
        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

/* A small image: /etc/{a,b} identical but separate, /bin/x with a hardlink
 * /bin/y, a symlink. */
static _unused_ void build_small_named(Fixture *f, const char *name, const char *tag,
                                       const char *variant, char id[65]) {
        ImageBuilder *b = NULL;

        assert_int_equal(image_builder_new(f->s, NULL, &b), 0);
        add_dir(b, "/etc", 0755);
        add_file(b, "/etc/a", "same\n", 0644);
        add_file(b, "/etc/b", "same\n", 0644);
        add_file(b, "/etc/v", variant, 0600);
        add_dir(b, "/bin", 0755);
        add_file(b, "/bin/x", "#!/bin/sh\n", 0755);
        assert_int_equal(image_builder_add_hardlink(b, "/bin/y", "/bin/x"), 0);
        add_symlink(b, "/bin/sh", "x");
        assert_int_equal(image_builder_publish(b, &(ImagePublish){.name = name, .tag = tag}, id),
                         0);
        image_builder_free(b);
}

static _unused_ void build_small(Fixture *f, const char *tag, const char *variant, char id[65]) {
        build_small_named(f, "base", tag, variant, id);
}

static _unused_ void expect_counts(Fixture *f, unsigned objects, unsigned images) {
        assert_int_equal(count_objects(f), objects);
        assert_int_equal(count_dir(f, "images"), images);
        assert_int_equal(count_dir(f, "staging"), 0);
}

/* The file path of image id, read through its tree, is content. */
static _unused_ void expect_image_file(Fixture *f, const char *id, const char *path,
                                       const char *content) {
        _cleanup_free_ char *data = NULL;
        int root = -1;

        assert_true(store_open_image_root(f->s, id, &root) >= 0);
        assert_int_equal(read_file_at(root, path, &data, NULL, 100), 0);
        assert_string_equal(data, content);
        close(root);
}
