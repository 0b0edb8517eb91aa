/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-internal: what the store-*.c files share and nobody else needs.
 */
#pragma once

#include "sha256.h"
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

/* Creates staging/PREFIX<random> and takes its flock, which the recovery of
 * staging respects while we hold it; what names the operation in messages. */
int store_make_staging(Store *s, const char *prefix, const char *what, char **ret_name,
                       int *ret_fd);

/* "ab/cdef..." for an object digest. */
#define OBJECT_PATH_SIZE (DIGEST_HEX_SIZE + 1)
void object_path(const uint8_t digest[static DIGEST_SIZE], char ret[static OBJECT_PATH_SIZE]);

/* xattrs of an open file, or of a name in a directory (for symlinks and
 * special files, which cannot be opened for f*xattr); sorted by name. */
int xattrs_read_fd(int fd, Xattr **ret, size_t *ret_n);
int xattrs_read_at(int dirfd, const char *name, Xattr **ret, size_t *ret_n);
/* On failure, *ret_failed (if given) is the xattr the file system refused. */
int xattrs_apply_fd(int fd, const Xattr *x, size_t n, const Xattr **ret_failed);
int xattrs_apply_at(int dirfd, const char *name, const Xattr *x, size_t n,
                    const Xattr **ret_failed);
int xattrs_copy(const Xattr *x, size_t n, Xattr **ret);

/* Owner, xattrs, mode and mtime of e onto a file we made (chown first: it
 * clears set-id bits and security.capability). The _at form does not follow
 * a symlink at name. */
int metadata_apply_fd(int fd, const ManifestEntry *e);
int metadata_apply_at(int dirfd, const char *name, const ManifestEntry *e);
/* The same; on failure *ret_failed is the xattr that the file system refused,
 * or NULL when something else failed. */
int metadata_apply_fd_full(int fd, const ManifestEntry *e, const Xattr **ret_failed);
int metadata_apply_at_full(int dirfd, const char *name, const ManifestEntry *e,
                           const Xattr **ret_failed);

/* ImageBuilder's state, shared by store-build.c (adding entries) and
 * store-publish.c (finishing). */
typedef struct BuildEntry {
        ManifestEntry e;
        uint64_t group; /* hardlink group, 0: none */
        bool implicit;  /* a parent made up because the source had none */
} BuildEntry;

typedef struct PathKey {
        const char *path; /* the entry's own string */
        size_t index;
} PathKey;

typedef struct NewObject {
        uint8_t digest[DIGEST_SIZE];
        char *relpath; /* a staging file that holds it */
        bool replace;  /* the store's copy hit the link limit: replace it */
        bool adopt;    /* another build stored it first: link its inode */
        ino_t ino;     /* with adopt: our own inode, which the tree gives up */
} NewObject;

/* tsearch order of NewObjects, by digest. */
static inline int object_compare(const void *a, const void *b) {
        return memcmp(((const NewObject *)a)->digest, ((const NewObject *)b)->digest, DIGEST_SIZE);
}

struct ImageBuilder {
        Store *store;
        ImageBuilderOptions opts;
        char *staging_name;
        int staging_fd; /* staging/NAME, flock'ed while we live */
        int root_fd;    /* staging/NAME/root */

        BuildEntry *entries;
        size_t n_entries, allocated;
        void *paths; /* tsearch: PathKey */
        uint64_t next_group;

        void *objects; /* tsearch: NewObject by digest */
        NewObject **new_objects;
        size_t n_new_objects;

        char *parent_rel; /* cached parent directory */
        int parent_fd;

        /* The regular file being written. */
        bool in_file;
        size_t cur;
        Sha256 *md;
        uint8_t *buf;
        size_t buf_len;
        uint64_t file_size;
        int spill_fd;
        int source_fd;     /* add_file_fd: copy from here if new */
        bool buf_overflow; /* source_fd mode: too big to keep in buf */

        const Xattr *failed_xattr; /* what the last metadata_apply_*_full() could not set */
        int64_t op;                /* its journal row (oplog.h); 0 once ended */
        char **linked;             /* objects linked at publish, for undo */
        uint64_t items, bytes;
        bool published;
};

/* Relative form of an absolute in-image path: "/a/b" -> "a/b", "/" -> ".". */
static inline const char *rel(const char *path) {
        return path_relative(path);
}
/* One line for a failure at path. After a metadata_apply_*_full() that set
 * b->failed_xattr, the line names that xattr, and one the store's file
 * system refuses is bad input (-EBADMSG). */
int builder_fail(ImageBuilder *b, int r, const char *path, const char *why);

/* mkfs.erofs [extra...] out src; what prefixes its one-line error. With
 * tree_fd >= 0, that tree is first mounted on src (an empty directory) in a
 * mount namespace of the tool's own. */
int run_mkfs_erofs(const char *const *extra, const char *out, const char *src, int tree_fd,
                   const char *what);

/* A delta's links are images/ID/TOKEN.N, TOKEN the id's first characters. */
#define DELTA_TOKEN_LEN 12

/* Deltas (store-delta.c). The chain of an image: itself, its base, the base's
 * base..., ending with a whole tree. */
int store_image_chain(Store *s, const char *id, char ***ret);
/* images/ID/root of a whole image. */
int store_open_tree_dir(Store *s, const char *id, int *ret_fd);
int delta_read_manifest(Store *s, char **chain, Manifest **ret);
/* Rebuilds a delta image as a whole tree with the same id, swapped in with
 * one rename, then forgets its base in the catalog. */
int store_flatten_image(Store *s, const char *id);
int delta_open_view(Store *s, char **chain, int *ret_fd);
/* 1 if the delta links its objects as images/ID/r.N, the first format, whose
 * redirects /r.N can find another delta's link or the base's own file. */
int delta_is_legacy(Store *s, const char *id);
/* A delta's view (rootfd) against m, its manifest: every regular file that a
 * delta of chain provides (and each of top, the changed entries of a delta
 * not yet published over chain) is read and hashed; bad() is called for
 * each that does not give its manifest entry's sha256 (a negative return
 * stops). store-delta-check.c. */
typedef int (*DeltaBadFile)(const char *path, const char *why, void *userdata);
int delta_check_content(Store *s, char **chain, const ManifestEntry *const *top, size_t n_top,
                        const Manifest *m, int rootfd, DeltaBadFile bad, void *userdata);
/* The real inode behind a regular file of the view of chain (a delta's link
 * to its object, or the bottom tree's file), opened read-only: the view's
 * own inode cannot be linked into objects/ (another file system). */
int delta_open_file_source(Store *s, char **chain, const ManifestEntry *e, int *ret_fd);
/* At publish, after the objects are linked: stores the image as a delta if a
 * good base exists (returns 1 and the base; the staging tree is replaced by
 * the delta), else returns 0 and leaves the whole tree. */
int delta_prepare(ImageBuilder *b, const ImagePublish *p, const Manifest *m, const char *id,
                  char ret_base[static DIGEST_HEX_SIZE]);
/* crash_point("KIND-STEP") for the builder's kind. */
void builder_crash_point(ImageBuilder *b, const char *step);
