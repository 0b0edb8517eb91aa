/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mounttab: reads /proc/self/mountinfo through libmount, dlopen()ed on
 * first use (see mounttab.h).
 */
#include "mounttab.h"
#include "util.h"

#include <libmount.h>
#include <stdbool.h>
#include <stdlib.h>

#define LIBMOUNT_SONAME "libmount.so.1"

#define MOUNT_SYMBOLS(X)                                                                           \
        X(mnt_new_table)                                                                           \
        X(mnt_unref_table)                                                                         \
        X(mnt_table_parse_mtab)                                                                    \
        X(mnt_new_iter)                                                                            \
        X(mnt_free_iter)                                                                           \
        X(mnt_reset_iter)                                                                          \
        X(mnt_table_next_fs)                                                                       \
        X(mnt_fs_get_target)                                                                       \
        X(mnt_fs_get_fstype)                                                                       \
        X(mnt_fs_get_source)                                                                       \
        X(mnt_fs_get_id)                                                                           \
        X(mnt_fs_get_root)                                                                         \
        X(mnt_fs_get_devno)                                                                        \
        X(mnt_fs_get_fs_options)

/* Set once by dlopen_libmount() before the first use, never written again. */
MOUNT_SYMBOLS(DLSYM_DEFINE)

static int dlopen_libmount(void) {
        static void *dl = NULL;
        static const DlSym syms[] = {MOUNT_SYMBOLS(DLSYM_ENTRY)};

        return dlopen_symbols(LIBMOUNT_SONAME, &dl, syms, ELEMENTSOF(syms));
}

static void mnt_tablep(struct libmnt_table **t) {
        if (*t)
                sym_mnt_unref_table(*t);
}

static void mnt_iterp(struct libmnt_iter **i) {
        if (*i)
                sym_mnt_free_iter(*i);
}

void mount_entries_free(MountEntry *l, size_t n) {
        for (size_t k = 0; k < n; k++) {
                free(l[k].target);
                free(l[k].fstype);
                free(l[k].source);
        }
        free(l);
}

/* Our namespace's mount table, and an iterator over it from the start. */
static int read_table(struct libmnt_table **ret_table, struct libmnt_iter **ret_iter) {
        _cleanup_(mnt_tablep) struct libmnt_table *table = NULL;
        _cleanup_(mnt_iterp) struct libmnt_iter *iter = NULL;
        int r;

        r = dlopen_libmount();
        if (r < 0)
                return r;
        table = sym_mnt_new_table();
        iter = sym_mnt_new_iter(MNT_ITER_FORWARD);
        if (!table || !iter)
                return -ENOMEM;
        /* NULL: the kernel's table, /proc/self/mountinfo. */
        r = sym_mnt_table_parse_mtab(table, NULL);
        if (r < 0)
                return r;
        *ret_table = TAKE_PTR(table);
        *ret_iter = TAKE_PTR(iter);
        return 0;
}

static bool strictly_below(const char *target, const char *dir, size_t len) {
        return target && strncmp(target, dir, len) == 0 && target[len] == '/' && target[len + 1];
}

int mounttab_below(const char *dir, MountEntry **ret, size_t *ret_n) {
        _cleanup_(mnt_tablep) struct libmnt_table *table = NULL;
        _cleanup_(mnt_iterp) struct libmnt_iter *iter = NULL;
        _cleanup_free_ char *real = NULL;
        struct libmnt_fs *fs;
        MountEntry *l;
        size_t n = 0, k = 0, len;
        int r;

        assert(dir);
        assert(ret);
        assert(ret_n);
        real = realpath(dir, NULL);
        if (!real)
                return negative_errno();
        len = streq(real, "/") ? 0 : strlen(real);
        r = read_table(&table, &iter);
        if (r < 0)
                return r;
        /* Counted first, so that the array is allocated once. */
        while (sym_mnt_table_next_fs(table, iter, &fs) == 0)
                n += strictly_below(sym_mnt_fs_get_target(fs), real, len);
        l = calloc(n ?: 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        sym_mnt_reset_iter(iter, MNT_ITER_FORWARD);
        while (k < n && sym_mnt_table_next_fs(table, iter, &fs) == 0) {
                if (!strictly_below(sym_mnt_fs_get_target(fs), real, len))
                        continue;
                l[k] = (MountEntry){
                        .target = strdup(sym_mnt_fs_get_target(fs)),
                        .fstype = strdup(sym_mnt_fs_get_fstype(fs) ?: "-"),
                        .source = strdup(sym_mnt_fs_get_source(fs) ?: "none"),
                };
                if (!l[k].target || !l[k].fstype || !l[k].source) {
                        mount_entries_free(l, k + 1);
                        return -ENOMEM;
                }
                l[k].relative = l[k].target + len + 1;
                l[k].id = sym_mnt_fs_get_id(fs);
                k++;
        }
        *ret = l;
        *ret_n = k;
        return 0;
}

/* needle in s, ending where a path component does. */
static bool has_path_part(const char *s, const char *needle) {
        size_t len = strlen(needle);

        for (const char *p = s ? strstr(s, needle) : NULL; p; p = strstr(p + 1, needle))
                if (p[len] == '\0' || p[len] == '/' || p[len] == ',')
                        return true;
        return false;
}

int mounttab_find_showing(dev_t dev, const char *needle, char **ret_target) {
        _cleanup_(mnt_tablep) struct libmnt_table *table = NULL;
        _cleanup_(mnt_iterp) struct libmnt_iter *iter = NULL;
        struct libmnt_fs *fs;
        int r;

        assert(needle);
        assert(ret_target);
        r = read_table(&table, &iter);
        if (r < 0)
                return r;
        while (sym_mnt_table_next_fs(table, iter, &fs) == 0) {
                const char *type = sym_mnt_fs_get_fstype(fs);
                bool shows = type && streq(type, "overlay")
                                     ? has_path_part(sym_mnt_fs_get_fs_options(fs), needle)
                                     : sym_mnt_fs_get_devno(fs) == dev &&
                                               has_path_part(sym_mnt_fs_get_root(fs), needle);

                if (!shows)
                        continue;
                *ret_target = strdup(sym_mnt_fs_get_target(fs) ?: "?");
                return *ret_target ? 1 : -ENOMEM;
        }
        return 0;
}
