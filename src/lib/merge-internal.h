/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * merge-internal: what the merge module's files (merge.c, merge-tree.c,
 * merge-apply.c, merge-report.c) share and nobody else needs.
 */
#pragma once

#include "merge.h"

#include <sys/stat.h>

/* The three versions of a path, as indexes into Item.n. */
enum { OURS, BASE, THEIRS };

/* MergeEntry.action: what merge_apply() writes at the entry's path. */
enum {
        ACTION_NONE,        /* nothing: the new image shows through, or stays hidden */
        ACTION_OURS,        /* a copy of ours (a directory: created with ours' metadata) */
        ACTION_THEIRS,      /* theirs' node (a directory: created with theirs' metadata) */
        ACTION_THEIRS_TREE, /* theirs' whole subtree, for a restore below a replacing dir */
        ACTION_MERGED,      /* the merged text */
};

/* MergeEntry.side: the file written beside the entry's path. */
enum {
        SIDE_NONE,
        SIDE_GOLDNEW,  /* theirs, as PATH.goldnew */
        SIDE_GOLDSAVE, /* ours, as PATH.goldsave */
};

/* Larger files are not merged line by line. */
#define MERGE_TEXT_MAX (16u << 20)

MergeNodeType merge_node_type_from_mode(mode_t mode);
const char *merge_node_type_to_string(MergeNodeType t);
/* Everything but a regular file's content digest, from an fd (O_PATH is fine)
 * and its stat. *ret_unsupported (if not NULL) is set when the node carries an
 * overlayfs redirect or metacopy xattr: its data then lives in the lower layer. */
int merge_node_from_fd(int fd, const struct stat *st, MergeNode *ret, bool *ret_unsupported);
/* overlayfs's own xattrs, which describe the old lower layer, not the file. */
bool merge_xattr_is_overlay(const char *name);
/* True if the overlay opaque marker is set on the directory fd. */
bool merge_fd_is_opaque(int fd);
/* Reads all of fd, at most max bytes (else -EFBIG), NUL-terminated. */
int merge_read_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* Entry names of an open directory, sorted with strcmp. */
int merge_list_dirfd(int dirfd, char ***ret);
/* lookup() with absence as a node: a NULL tree, or -ENOENT, gives ABSENT. */
int merge_tree_lookup(const MergeTree *t, const char *path, MergeNode *ret);
/* Fills n->digest if it is a regular file without one. */
int merge_tree_digest(const MergeTree *t, const char *path, MergeNode *n);
