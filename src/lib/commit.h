/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * commit: freeze an instance's merged view (its image plus its state) into a
 * new image version whose parent is the instance's image (the seeds'
 * MNT2GOLD, without copying disks).
 *
 * Only the state is walked: each layer's entries are applied to the parent
 * image's manifest as overlayfs shows them (a whiteout removes, an opaque
 * directory or a bound state directory replaces, anything else is put), and
 * store-derive links every untouched file to the object the parent already
 * has. The cost follows the files the instance changed, not the image.
 *
 * The instance must be stopped: a running one is refused rather than frozen,
 * so that what is committed is exactly what is on disk. Its hostname and
 * address become the new image's identity, which personalization rewrites to
 * each new instance's own.
 */
#pragma once

#include "instance.h"
#include "store.h"

typedef struct CommitResult {
        char id[DIGEST_HEX_SIZE];
        size_t changes; /* the paths `image diff PARENT ID` lists */
} CommitResult;

/* i is locked by the caller. name:tag is moved to the new image. */
int commit_instance(Store *s, Instance *i, const char *name, const char *tag, Progress *p,
                    CommitResult *ret);
