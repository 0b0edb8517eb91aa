/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-derive: a new image version made from a parent image plus changes
 * (goldroot commit, goldroot image prep).
 *
 * The changes are recorded against the parent's manifest: paths removed
 * (with everything below them) and paths put (from a file in some tree, or
 * from memory). Publishing walks the parent's manifest and the changes in
 * path order and feeds an ImageBuilder: every file the changes do not touch
 * is linked to the object the parent already uses, without reading it, so
 * the bytes read and hashed are those of the changed files only. The new
 * image records the parent as its parent.
 */
#pragma once

#include "store.h"

typedef struct ImageDerive ImageDerive;

int image_derive_new(Store *s, const char *parent_id, ImageDerive **ret);
ImageDerive *image_derive_free(ImageDerive *d);
static inline void image_derive_freep(ImageDerive **d) {
        image_derive_free(*d);
}
/* The parent's manifest, for callers that look for paths to change. */
const Manifest *image_derive_parent(const ImageDerive *d);

/* Removes path and its subtree from the parent's view, and drops any
 * earlier put at or below it. Removing an absent path is not an error. */
int image_derive_remove(ImageDerive *d, const char *path);
/* Puts the node at rel below rootfd (resolved in-root, never through a
 * symlink) at path: its type, mode, owner, xattrs (overlayfs's own left out)
 * and mtime are taken now, a regular file's content at publish, so rootfd
 * must stay open until then. A directory brings only itself: the parent's
 * entries below it stay unless removed. A non-directory replaces the
 * parent's subtree at path. */
int image_derive_put_at(ImageDerive *d, const char *path, int rootfd, const char *rel);
/* Puts a regular file with the given content and meta's mode, owner, xattrs
 * and mtime. */
int image_derive_put_data(ImageDerive *d, const char *path, const ManifestEntry *meta,
                          const void *data, size_t len);
/* The number of paths `image diff PARENT ID` lists (added, deleted,
 * modified) for the image id that d published. */
int image_derive_count_changes(const ImageDerive *d, const char *id, size_t *ret);

/* Builds and publishes the image (p->parent is ignored: it is the parent). */
int image_derive_publish(ImageDerive *d, const ImagePublish *p, Progress *progress,
                         char ret_id[static DIGEST_HEX_SIZE]);
