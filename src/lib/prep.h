/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prep: the sysprep operations (the seeds' cloneprep.sh), applied to an
 * image to make a new version from which clones start clean.
 *
 * Each operation picks paths from the image's manifest and removes them, or
 * rewrites them in place (keeping owner and mode); nothing is read but the
 * manifest, and the new version shares every other file with its parent
 * (store-derive). The machine-id is set to "uninitialized", systemd's
 * first-boot marker (machine-id(5), "First Boot Semantics", systemd 247 and
 * later): the file stays, so a read-only /etc still boots, and a boot of the
 * image outside goldroot counts as a first boot (ConditionFirstBoot= units
 * run, a fresh id is committed after first-boot-complete.target). An empty
 * file would give a fresh id but not a first boot. goldroot's own
 * personalization writes each instance's id over it anyway.
 */
#pragma once

#include "store.h"

typedef struct PrepOp {
        const char *name;
        const char *removes; /* what it does, for --list */
} PrepOp;

/* The operations, in the order they run. */
const PrepOp *prep_ops(size_t *ret_n);
/* "machine-id,logs" (or "all") to a bit mask over prep_ops(); -EINVAL
 * (logged) for an unknown name. */
int prep_ops_parse(const char *list, unsigned *ret_mask);

typedef struct PrepAction {
        char *path;
        const char *op;     /* the operation's name */
        const char *action; /* "remove", "truncate" or "rewrite" */
} PrepAction;

typedef struct PrepResult {
        char id[DIGEST_HEX_SIZE];
        PrepAction *actions;
        size_t n_actions;
} PrepResult;

void prep_result_done(PrepResult *r);

/* Runs the operations in mask on image id and publishes the result as
 * name:tag, parent id, with the parent's identity. */
int image_prep(Store *s, const char *id, unsigned mask, const char *name, const char *tag,
               PrepResult *ret);
