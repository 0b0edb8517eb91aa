/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * image-tree: the merge engine's MergeTree answered from an image's manifest.
 *
 * The store computed every digest at import, so an upgrade or a diff never
 * hashes an image file: lookups, content digests, symlink targets and
 * directory listings come from the manifest (a binary search per path), and
 * only the files the merge actually copies are opened, in the image's tree.
 * The digests are the ones merge_content_digest_fd() and
 * merge_xattr_digest_fd() define, computed from the manifest's fields.
 */
#pragma once

#include "manifest.h"
#include "merge.h"

/* m is borrowed and must outlive the tree; rootfd (the image's root
 * directory, for open) is duplicated. */
int image_tree_new(const Manifest *m, int rootfd, MergeTree *ret);
