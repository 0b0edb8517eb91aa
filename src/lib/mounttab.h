/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mounttab: what the mount table says, read with util-linux's libmount
 * (loaded with dlopen() by the commands that look, so that the others do not
 * pay for libmount, libselinux and libpcre2 at every start).
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

typedef struct MountEntry {
        char *target;
        const char *relative; /* target below the directory asked about (in target) */
        char *fstype;
        char *source;
        int id; /* the mount id, as statx(STATX_MNT_ID) gives it */
} MountEntry;

void mount_entries_free(MountEntry *l, size_t n);

/* The mounts of our mount namespace whose target lies strictly below DIR (an
 * absolute path; its symlinks are resolved first), in the table's order:
 * parents before the mounts on top of them. */
int mounttab_below(const char *dir, MountEntry **ret, size_t *ret_n);

/* Whether a mount of our namespace shows a directory whose path contains
 * needle (a whole component sequence, "/images/ID"): a bind of it or of
 * something below it, on the filesystem dev, or an overlay with a layer
 * there. 1 with the first such mount's target in *ret_target, 0 if none. */
int mounttab_find_showing(dev_t dev, const char *needle, char **ret_target);
