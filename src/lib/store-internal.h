/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-internal: what the store-*.c files share and nobody else needs.
 */
#pragma once

#include "store.h"

struct Store {
        char *path;
        int dirfd;
        int lock_fd;
        int objects_fd;
        int images_fd;
        int staging_fd;
        StoreLock lock;
        Catalog *catalog;
};

/* "ab/cdef..." for an object digest. */
#define OBJECT_PATH_SIZE (DIGEST_HEX_SIZE + 1)
void object_path(const uint8_t digest[static DIGEST_SIZE], char ret[static OBJECT_PATH_SIZE]);

/* xattrs of an open file, or of a name in a directory (for symlinks and
 * special files, which cannot be opened for f*xattr); sorted by name. */
int xattrs_read_fd(int fd, Xattr **ret, size_t *ret_n);
int xattrs_read_at(int dirfd, const char *name, Xattr **ret, size_t *ret_n);
int xattrs_apply_fd(int fd, const Xattr *x, size_t n);
int xattrs_apply_at(int dirfd, const char *name, const Xattr *x, size_t n);
