/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * merge: three-way merge of an instance's writable state onto a new image
 * (DESIGN.md §5), and the instance's diff against its image.
 *
 * The state is a set of layers: overlay upper directories (with whiteouts and
 * opaque directories) and state directories bound over an image path. Only the
 * layers are walked; the old image (base) and the new one (theirs) are asked
 * about single paths through MergeTree, so the cost follows the size of the
 * state, never the size of the image.
 *
 * Two phases: merge_plan() only reads and decides an outcome for every path;
 * merge_apply() writes the merged state into new, empty layer directories and
 * never modifies the old ones, which stay behind as the rollback backup. A plan
 * with a type conflict is refused by merge_apply() before anything is written.
 *
 * Where §5 leaves room, these are the rules:
 * - "Unchanged" means same type, mode, owner, xattrs and content (a link's
 *   target, a device's numbers); times never count. A directory the state
 *   holds has no content: only its metadata is compared, so image files
 *   appearing in a directory the state copied up simply show through. A
 *   directory the state deleted, hides or replaced by a non-directory is
 *   changed by the new image if anything below it was added or changed
 *   (removals do not count): deleted or hidden, that is a conflict like a
 *   deleted file's ("conflict-deleted", or "restored" under `theirs`, which
 *   brings back the image's whole directory), with every path the image
 *   added or changed below it reported too; replaced, a type conflict.
 * - An opaque directory (and the root of a MERGE_LAYER_BIND layer) replaces the
 *   image's directory. It is kept, marker included, under every policy. The
 *   image entries it hides are reported as deletions (and a conflict if the new
 *   image changed them; `theirs` restores them by copying them in); an entry
 *   the new image adds below it is a conflict of the same kind (reported;
 *   hidden, or copied in under `theirs`). Below such a directory nothing
 *   shows through, so "drop ours" writes theirs' version instead.
 * - A directory kept only because it holds kept entries gets theirs' metadata;
 *   if the new image removed it, ours ("directory removed by the image holds
 *   local files"); if the new image put a non-directory there, a type conflict.
 * - FIFOs, sockets and devices are carried over unless the new image changed
 *   the path to another type (a type conflict).
 * - Conflicts on directories only concern metadata: no .goldnew/.goldsave.
 * - A .goldnew/.goldsave never overwrites anything: when ours or theirs has
 *   something at PATH.goldnew (PATH.goldsave), the plan picks the first free
 *   PATH.goldnew.N (PATH.goldsave.N), and the report names it. The exception
 *   is an earlier .goldnew that still holds the old image's version of PATH
 *   (what the last upgrade wrote, untouched): it is replaced ("drop").
 * - overlayfs's bookkeeping xattrs (trusted.overlay.origin, impure, ...) are
 *   neither compared nor copied; the opaque marker is rewritten explicitly. An
 *   entry with a redirect or metacopy xattr (data in the lower layer) makes the
 *   plan fail with -EOPNOTSUPP rather than lose data.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* sha256 in hex, plus the NUL. */
#define MERGE_DIGEST_MAX 65

typedef enum MergeNodeType {
        MERGE_NODE_ABSENT,
        MERGE_NODE_REG,
        MERGE_NODE_DIR,
        MERGE_NODE_LNK,
        MERGE_NODE_FIFO,
        MERGE_NODE_SOCK,
        MERGE_NODE_CHR,
        MERGE_NODE_BLK,
        _MERGE_NODE_TYPE_MAX,
} MergeNodeType;

typedef struct MergeNode {
        MergeNodeType type;
        mode_t mode; /* permission bits only, at most 07777 */
        uid_t uid;
        gid_t gid;
        uint64_t size;
        /* REG: sha256 hex of the content. A lookup may leave it out (has_digest
         * false); MergeTree.digest then fills it when a comparison needs it.
         * LNK: sha256 hex of the target. CHR, BLK: "MAJOR:MINOR". Else "". */
        bool has_digest;
        char digest[MERGE_DIGEST_MAX];
        /* sha256 hex over the xattrs sorted by name (see merge_xattr_digest_fd),
         * overlayfs's own trusted.overlay.* and user.overlay.* left out; "" if
         * there are none. Times never count as a change. */
        char xattr_digest[MERGE_DIGEST_MAX];
} MergeNode;

/* A read-only image tree, so that the store can answer from its manifests.
 * Paths are absolute inside the tree and already normalized. No callback ever
 * follows a symlink, not even in a parent component: a path below a symlink is
 * absent. All callbacks return -errno on failure. */
typedef struct MergeTree {
        /* 0 and *ret filled, or -ENOENT if absent. */
        int (*lookup)(void *userdata, const char *path, MergeNode *ret);
        /* Fills node->digest of a regular file that lookup() left without one. */
        int (*digest)(void *userdata, const char *path, MergeNode *node);
        /* The node itself: flags O_RDONLY for a regular file's content, or O_PATH
         * for any type (xattrs, times and device numbers are read through it). */
        int (*open)(void *userdata, const char *path, int flags);
        int (*readlink)(void *userdata, const char *path, char **ret);
        /* A directory's entry names, sorted with strcmp, as a NULL-terminated strv. */
        int (*list)(void *userdata, const char *path, char ***ret);
        void (*free)(void *userdata); /* may be NULL */
        void *userdata;
} MergeTree;

/* A tree backed by a real directory (an image's root), read fd-relative and
 * in-root, hashing with sha256 on demand. dirfd is duplicated. */
int merge_tree_from_dir(int dirfd, MergeTree *ret);
void merge_tree_done(MergeTree *t);

/* The digests the tree implementations must agree on: sha256 hex of an open
 * file's content, and of its xattrs (for each name in strcmp order, the name,
 * its NUL, the value length as 8 bytes little-endian and the value). fd may be
 * an O_PATH fd for the xattr digest. */
int merge_content_digest_fd(int fd, char ret[static MERGE_DIGEST_MAX]);
int merge_xattr_digest_fd(int fd, char ret[static MERGE_DIGEST_MAX]);

typedef enum MergeLayerKind {
        MERGE_LAYER_OVERLAY, /* an overlay upper: whiteouts and opaque dirs count */
        MERGE_LAYER_BIND,    /* a state dir bound over the image path: it replaces it */
} MergeLayerKind;

typedef struct MergeLayer {
        const char *path; /* absolute image path the layer covers: "/etc", or "/" */
        int dirfd;        /* the layer directory in the instance's state */
        MergeLayerKind kind;
} MergeLayer;

typedef enum MergePolicy {
        MERGE_POLICY_KEEP_LOCAL,
        MERGE_POLICY_MERGE,
        MERGE_POLICY_THEIRS,
        _MERGE_POLICY_MAX,
} MergePolicy;

const char *merge_policy_to_string(MergePolicy p);
/* Returns the policy, or -EINVAL. */
int merge_policy_from_string(const char *s);

typedef enum MergeOutcome {
        MERGE_KEEP,             /* ours kept: changed locally only, or added */
        MERGE_DROP,             /* ours dropped: unchanged, or the image made the same change */
        MERGE_DELETED,          /* deleted locally, image unchanged: stays deleted */
        MERGE_CARRY,            /* FIFO, socket or device node: carried over untouched */
        MERGE_MERGED,           /* both changed a text file; clean line merge written */
        MERGE_CONFLICT_LOCAL,   /* both changed: ours kept, theirs beside it as PATH.goldnew */
        MERGE_CONFLICT_THEIRS,  /* both changed: theirs taken, ours saved as PATH.goldsave */
        MERGE_CONFLICT_DELETED, /* deleted locally, changed by the image: stays deleted */
        MERGE_RESTORED,         /* deleted locally, changed by the image: theirs restored */
        MERGE_TYPE_CONFLICT,    /* types differ: the upgrade is refused */
        _MERGE_OUTCOME_MAX,
} MergeOutcome;

/* "keep", "drop", "deleted", "carry", "merged", "conflict-keep-local",
 * "conflict-theirs", "conflict-deleted", "restored", "type-conflict". */
const char *merge_outcome_to_string(MergeOutcome o);
bool merge_outcome_is_conflict(MergeOutcome o);

typedef struct MergeEntry {
        char *path; /* absolute in the image */
        MergeOutcome outcome;
        const char *reason; /* static text: why this outcome */
        char *side_path;    /* PATH.goldnew or PATH.goldsave that apply writes, or NULL */
        unsigned hunks;     /* merge policy fallback: conflicting hunks found */
        MergeNodeType ours_type, theirs_type; /* ABSENT for deleted or missing */

        /* What merge_apply() does; private to the merge module. */
        size_t layer;
        char *rel; /* relative to the layer directory, "." for its root */
        int action;
        int side;
        bool opaque;    /* write the overlay opaque marker on this directory */
        bool meta_ours; /* merged text: metadata from ours (else from theirs) */
        char *merged;   /* merged text */
        size_t merged_len;
} MergeEntry;

typedef struct MergeReport {
        MergeEntry *entries; /* in walk order: a directory before its contents */
        size_t n_entries;
        size_t n_conflicts;      /* entries with a conflict outcome, type conflicts included */
        size_t n_type_conflicts; /* non-zero: the upgrade is blocked */
        MergePolicy policy;
        MergeTree theirs; /* a copy of the caller's; it must outlive merge_apply() */
} MergeReport;

/* Decides the outcome of every path the layers hold (and of every image path a
 * replacing directory hides). Reads only. */
int merge_plan(const MergeTree *base, const MergeTree *theirs, const MergeLayer *layers,
               size_t n_layers, MergePolicy policy, MergeReport **ret);

/* Writes the merged state: layer i into new_layer_dirfds[i], which must be an
 * empty directory. The old layers are only read. Refuses with -ECANCELED if the
 * report has type conflicts, before writing anything. On any other failure the
 * new directories hold a partial state, which the caller throws away. */
int merge_apply(const MergeReport *report, const MergeLayer *layers, size_t n_layers,
                const int *new_layer_dirfds);

static inline bool merge_report_blocked(const MergeReport *r) {
        return r->n_type_conflicts > 0;
}
MergeReport *merge_report_free(MergeReport *r);
static inline void merge_report_freep(MergeReport **r) {
        merge_report_free(*r);
}

/* One line per entry: "keep /etc/foo (local change)", "drop /etc/bar (unchanged
 * copy-up)", "conflict /etc/x: kept local, theirs in /etc/x.goldnew", ... */
int merge_report_print(const MergeReport *r, FILE *f);
int merge_report_print_json(const MergeReport *r, FILE *f);

/* goldroot diff: the instance's local changes against its image. */
typedef enum MergeChange {
        MERGE_CHANGE_ADDED,    /* "A" */
        MERGE_CHANGE_MODIFIED, /* "M": content, link target or type */
        MERGE_CHANGE_METADATA, /* "m": mode, owner or xattrs only */
        MERGE_CHANGE_DELETED,  /* "D" */
        _MERGE_CHANGE_MAX,
} MergeChange;

typedef struct MergeDiffEntry {
        char *path;
        MergeChange change;
} MergeDiffEntry;

typedef struct MergeDiff {
        MergeDiffEntry *entries;
        size_t n_entries;
} MergeDiff;

/* Copy-ups without a change are not listed; whiteouts and image entries hidden
 * by an opaque directory are "D". */
int merge_diff(const MergeTree *base, const MergeLayer *layers, size_t n_layers, MergeDiff **ret);
MergeDiff *merge_diff_free(MergeDiff *d);
static inline void merge_diff_freep(MergeDiff **d) {
        merge_diff_free(*d);
}
/* "A /etc/foo", "M /etc/bar", "m /etc/baz", "D /etc/old", one a line. */
int merge_diff_print(const MergeDiff *d, FILE *f);
int merge_diff_print_json(const MergeDiff *d, FILE *f);
