/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store: the image store under --store DIR (layout in docs/STORE.md).
 *
 *   catalog.db        SQLite catalog (catalog.h)
 *   lock              flock: shared by commands that add or read, exclusive
 *                     by those that remove (rm, gc) and by crash recovery
 *   objects/XX/REST   content-addressed regular files (manifest.h:
 *                     object_digest); each inode carries its mode, owner
 *                     and xattrs, so image trees hardlink it as it is
 *   images/ID/root    an immutable image tree: real directories, hardlinks
 *                     to objects, symlinks and special files made in place
 *   images/ID/manifest  the tree's manifest; ID is its manifest_id()
 *   staging/RANDOM/   an image being built, flock'ed by its builder
 *
 * Opening a store recovers from crashes: an opener that gets the lock
 * exclusively first finishes or undoes every operation in the journal
 * (oplog.h), then removes image directories without a catalog row; any
 * opener removes staging directories whose builder is gone.
 *
 * Building an image (import, and later commit) goes through ImageBuilder:
 * entries are added in any order, regular files are hashed as they stream
 * in and linked to an existing object when one matches, and
 * image_builder_publish() makes the tree visible with one rename and one
 * catalog transaction.
 */
#pragma once

#include "catalog.h"
#include "manifest.h"
#include "progress.h"
#include "util.h"

typedef struct Store Store;

typedef enum StoreLock {
        STORE_SHARED,
        STORE_EXCLUSIVE,
} StoreLock;

/* Creates the layout if needed, takes the lock, opens the catalog and
 * recovers from earlier crashes. A missing directory is created (with its
 * parents) only while store_set_may_create() allows it, which it does until
 * told otherwise; else it is -ENOENT, "store DIR: no such store". The
 * command line allows it only for the commands that add images, so that a
 * mistyped --store is an error, not a new empty store. */
int store_open(const char *path, StoreLock lock, Store **ret);
void store_set_may_create(bool b);
Store *store_free(Store *s);
static inline void store_freep(Store **s) {
        store_free(*s);
}
Catalog *store_catalog(Store *s);
/* Closes the catalog ahead of store_free(), keeping the store's lock: for a
 * command that has read all it needs and goes on without it (store_catalog()
 * is NULL after). */
void store_close_catalog(Store *s);
const char *store_path(Store *s);
int store_dirfd(Store *s);
int store_objects_fd(Store *s);

/* References: "NAME:TAG" or an id prefix of at least 4 lowercase hex digits. */
#define IMAGE_ID_PREFIX_MIN 4
#define IMAGE_NAME_MAX 128
bool image_name_is_valid(const char *s); /* also used for tags */
/* Splits "NAME:TAG" (either return may be NULL); -EINVAL (logged) if malformed. */
int image_ref_parse_tag(const char *ref, char **ret_name, char **ret_tag);
/* Checks a reference's form, without a store: -EINVAL (logged) if malformed. */
int image_ref_check(const char *ref);
/* Resolves a reference to a full image id. Logs every failure, so callers add
 * no second line: -EINVAL for a malformed or ambiguous reference, -ENOENT for
 * an unknown one. */
int store_resolve(Store *s, const char *ref, char ret_id[static DIGEST_HEX_SIZE]);

/* images/ID (O_DIRECTORY). */
int store_open_image(Store *s, const char *id, int *ret_fd);
/* The image's tree, read-only: images/ID/root for a whole image; for a delta
 * image (store-delta.c) an O_PATH fd of a detached overlayfs mount of its
 * chain, which lives as long as the fd and which open_tree() can clone from
 * any namespace. Either way, open what you read below it with openat().
 * Returns 0 for a whole image, 1 for a delta (a detached mount). */
int store_open_image_root(Store *s, const char *id, int *ret_fd);
/* 1 if the image is stored as a delta (its tree is only reachable through
 * store_open_image_root), 0 if it is a whole tree. */
int store_image_is_delta(Store *s, const char *id);
/* Mounts the image's tree read-only (and nodev) on the host directory dir,
 * for looking into it; `umount dir` takes it down. */
int store_mount_image(Store *s, const char *id, const char *dir);
/* The host path of images/ID/root of a whole image, for mounting. */
char *store_image_root_path(Store *s, const char *id);
int store_read_manifest(Store *s, const char *id, Manifest **ret);

/* Removes an image (all its tags, its tree). ref is used in messages. Refused
 * with -EBUSY while instances link it: "image REF is linked by A, B: upgrade
 * or remove them first". Images stored as deltas over it are made whole
 * first. Needs STORE_EXCLUSIVE. */
int store_remove_image(Store *s, const char *ref);

typedef struct GcStats {
        uint64_t objects_removed;
        uint64_t bytes_freed;
        uint64_t objects_kept;
} GcStats;
/* Removes every object no image tree links (link count 1). Needs
 * STORE_EXCLUSIVE. */
int store_gc(Store *s, Progress *p, GcStats *ret);

/* Journal recovery (oplog.h) of image builds, image rm and gc: returns 1
 * if the operation was rolled forward, 0 if back. */
int image_builder_recover(Store *s, const OpRow *o);
int store_recover_op(Store *s, const OpRow *o);

/* Building images. */
typedef struct ImageBuilder ImageBuilder;

typedef struct ImageBuilderOptions {
        /* Create missing parent directories (0755 root:root), as tar does; when
         * false a missing parent is an error. */
        bool implicit_parents;
        /* Name used in error messages ("import SOURCE"). */
        const char *what;
        /* What builds it, for the crash points ("KIND-before-rename"):
         * "import" (default), "commit" or "prep". */
        const char *kind;
        Progress *progress;
} ImageBuilderOptions;

int image_builder_new(Store *s, const ImageBuilderOptions *o, ImageBuilder **ret);
/* Without a successful publish, frees everything the builder made. */
ImageBuilder *image_builder_free(ImageBuilder *b);
static inline void image_builder_freep(ImageBuilder **b) {
        image_builder_free(*b);
}

/* Adds a directory, symlink, device, FIFO or socket. e->path is absolute
 * ("/" is the root); the entry is moved into the builder. Errors are logged
 * with the path; hostile paths and layouts give -EBADMSG. */
int image_builder_add(ImageBuilder *b, ManifestEntry *e);
/* A regular file whose size and digest are known (an entry of another image
 * of this store): linked to its object without reading it. Only when the
 * object cannot be linked (gone, or at the link limit) is the file copied
 * from e->path under src_rootfd. e's hardlink group is not kept. */
int image_builder_add_known_file(ImageBuilder *b, ManifestEntry *e, int src_rootfd);
/* path becomes another name of the regular file target, added earlier. */
int image_builder_add_hardlink(ImageBuilder *b, const char *path, const char *target);
/* A regular file whose content follows through image_builder_write(). e's
 * size and digest are computed; the entry is moved into the builder. */
int image_builder_begin_file(ImageBuilder *b, ManifestEntry *e);
int image_builder_write(ImageBuilder *b, const void *data, size_t n);
int image_builder_end_file(ImageBuilder *b);
/* A regular file read from fd (reflinked or copied only if its object is new). */
int image_builder_add_file_fd(ImageBuilder *b, ManifestEntry *e, int fd);
/* Free bytes where the tree is built, for refusing absurd sizes early. */
uint64_t image_builder_space_left(ImageBuilder *b);

typedef struct ImagePublish {
        const char *name; /* tag to set; NULL: none */
        const char *tag;
        const char *parent; /* full id or NULL */
        /* The image exists as a delta: store this build as its whole tree,
         * swapped in for the delta (store_flatten_image). */
        bool flatten;
        /* The image's identity (catalog_set_image_identity), set in the same
         * transaction; NULL: none. */
        const char *hostname;
        const char *address;
        const char *kind; /* image_derive_publish(): ImageBuilderOptions.kind */
} ImagePublish;

/* Finishes the tree, links new objects, syncs, renames it into images/ and
 * records it in the catalog (moving the tag). If an identical image exists,
 * only the tag moves. */
int image_builder_publish(ImageBuilder *b, const ImagePublish *p,
                          char ret_id[static DIGEST_HEX_SIZE]);

/* Import from a directory (walked fd-relative, symlinks never followed) or a
 * tarball; source "-" reads a tar stream from standard input. */
typedef struct ImportOptions {
        const char *name, *tag; /* NAME:TAG to set */
        const char *parent;     /* full id or NULL */
        Progress *progress;
} ImportOptions;
int store_import(Store *s, const char *source, const ImportOptions *o,
                 char ret_id[static DIGEST_HEX_SIZE]);

/* The tar importer (archive.c), for a source already opened. */
int archive_import(ImageBuilder *b, int fd, const char *what, Progress *p, uint64_t total_bytes);
/* The same, asking keep about each member first (index counts every member
 * from 0; path and hardlink are normalized absolute paths, hardlink NULL for
 * other members): 1 imports it, 0 skips it, -errno fails. An archive with
 * nothing kept is not an error. */
typedef int (*ArchiveKeep)(void *userdata, size_t index, const char *path, const char *hardlink);
int archive_import_filtered(ImageBuilder *b, int fd, const char *what, Progress *p,
                            uint64_t total_bytes, ArchiveKeep keep, void *userdata);
/* An archive member's name as an absolute in-image path; names that are
 * absolute or hold ".." are refused (-EBADMSG, logged). */
int archive_member_path(const char *what, const char *name, char **ret);

/* Container images (store-oci.c): "oci:DIR[:REF]" (an OCI image layout),
 * "oci-archive:FILE[:REF]" (a tar of one) and "docker-archive:FILE" (as
 * `docker save` and `podman save` write it). Every blob's digest is checked
 * before it is read; the layers are applied in order, with whiteouts
 * (.wh.NAME) and opaque directories (.wh..wh..opq), each layer member under
 * the tar importer's rules. */
bool store_import_is_container(const char *source);
int store_import_container(Store *s, const char *source, const ImportOptions *o,
                           char ret_id[static DIGEST_HEX_SIZE]);

typedef enum ExportFormat {
        EXPORT_TAR,
        EXPORT_EROFS,
} ExportFormat;
/* Writes the image to path ("-": standard output, tar only) through a
 * temporary file and a rename. tar output is compressed by path suffix (.gz,
 * .xz, .zst, .bz2); erofs is made by mkfs.erofs from the image tree. */
int store_export(Store *s, const char *id, const char *path, ExportFormat format, Progress *p);
/* The tar writer (archive.c): the manifest's entries, hardlink groups and
 * mtimes, with file data from the tree. */
int archive_export(const Manifest *m, int rootfd, int outfd, const char *path, Progress *p);
