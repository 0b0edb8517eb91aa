/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manifest: the sorted description of an image tree, and what is derived
 * from it: the image id, object digests and the difference of two images.
 *
 * One entry per path (directories included), sorted by path in byte order,
 * so a parent always comes before its children. An entry holds everything
 * that makes up the image: type, mode, owner, xattrs, the content's sha256
 * (regular files), the target (symlinks) or the device number, and for
 * regular files the source's hardlink group. The store shares one object
 * (one inode) between all files with the same content and metadata, whether
 * or not they were hardlinked in the source, so the manifest, not the tree's
 * inodes, is the truth about hardlinks. mtimes are recorded so that export
 * reproduces them, but they are not part of the image id (as in OSTree).
 *
 * The text form is documented in docs/STORE.md.
 */
#pragma once

#include "util.h"

#include <sys/stat.h>

#define DIGEST_SIZE 32
#define DIGEST_HEX_SIZE (2 * DIGEST_SIZE + 1)

typedef struct Xattr {
        char *name;
        void *value;
        size_t size;
} Xattr;

typedef struct ManifestEntry {
        char *path;  /* "/" or "/usr/bin/env" */
        mode_t mode; /* file type and permission bits */
        uid_t uid;
        gid_t gid;
        uint64_t size;               /* regular files */
        uint8_t digest[DIGEST_SIZE]; /* regular files: sha256 of the content */
        char *target;                /* symlinks */
        dev_t rdev;                  /* character and block devices */
        Xattr *xattrs;               /* sorted by name */
        size_t n_xattrs;
        char *link; /* regular files: the first path of the hardlink group, or NULL */
        int64_t mtime_sec;
        uint32_t mtime_nsec;
} ManifestEntry;

typedef struct Manifest {
        ManifestEntry *entries;
        size_t n, allocated;
} Manifest;

void xattrs_free(Xattr *x, size_t n);
/* Sorts by name; duplicates are an error (-EBADMSG). */
int xattrs_sort(Xattr *x, size_t n);
void manifest_entry_done(ManifestEntry *e);

Manifest *manifest_new(void);
Manifest *manifest_free(Manifest *m);
static inline void manifest_freep(Manifest **m) {
        manifest_free(*m);
}
/* Moves *e into the manifest (e is zeroed). */
int manifest_append(Manifest *m, ManifestEntry *e);
void manifest_sort(Manifest *m);
/* Binary search in a sorted manifest; NULL if absent. */
const ManifestEntry *manifest_find(const Manifest *m, const char *path);

/* The text form: a header line, then one line per entry. */
int manifest_write(const Manifest *m, FILE *f);
int manifest_write_at(int dirfd, const char *name, const Manifest *m);
/* name is used in error messages (FILE:LINE:COL). */
int manifest_parse(const char *text, size_t len, const char *name, Manifest **ret);
int manifest_read_at(int dirfd, const char *path, Manifest **ret);

/* The image id: sha256 over the canonical form (the text without mtimes). */
int manifest_id(const Manifest *m, char ret[static DIGEST_HEX_SIZE]);
/* Totals for the catalog: paths, and bytes of regular files. */
void manifest_totals(const Manifest *m, uint64_t *ret_files, uint64_t *ret_size);

/* The store object a regular file lives in: sha256 over the content digest
 * and the metadata the object's inode carries (mode, uid, gid, xattrs). */
int object_digest(const ManifestEntry *e, uint8_t ret[static DIGEST_SIZE]);

void digest_to_hex(const uint8_t d[static DIGEST_SIZE], char ret[static DIGEST_HEX_SIZE]);
int digest_from_hex(const char *s, uint8_t ret[static DIGEST_SIZE]);
bool string_is_hex(const char *s);

/* Escapes a path or target for one-line output: backslash, control bytes and
 * (if escape_space) spaces and bytes >= 0x7f become \xHH. */
char *escape_path(const char *s, bool escape_space);

/* What differs between two entries for the same path. */
enum {
        CHANGE_TYPE = 1u << 0,
        CHANGE_CONTENT = 1u << 1, /* digest, symlink target or device number */
        CHANGE_MODE = 1u << 2,
        CHANGE_OWNER = 1u << 3,
        CHANGE_XATTRS = 1u << 4,
        CHANGE_LINKS = 1u << 5, /* hardlink group */
        CHANGE_CONTENT_MASK = CHANGE_TYPE | CHANGE_CONTENT,
};
unsigned manifest_entry_compare(const ManifestEntry *a, const ManifestEntry *b);
/* Names of the changed fields, ", "-free for JSON: "type", "content", ... */
const char *change_field_name(unsigned bit);

/* The kinds `image diff` prints: A added, D deleted, M content (or type)
 * changed, m metadata only (mode, owner, xattrs, hardlink group). */
typedef enum DiffKind {
        DIFF_ADDED = 'A',
        DIFF_DELETED = 'D',
        DIFF_MODIFIED = 'M',
        DIFF_METADATA = 'm',
} DiffKind;

/* Calls cb for each differing path in path order; a or b is NULL for added
 * and deleted paths. A non-zero return from cb stops the walk and is returned. */
typedef int (*manifest_diff_cb)(DiffKind kind, const char *path, unsigned changes,
                                const ManifestEntry *a, const ManifestEntry *b, void *userdata);
int manifest_diff(const Manifest *a, const Manifest *b, manifest_diff_cb cb, void *userdata);
