/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan: order a ProfileSet's entries and resolve them into an ordered list of
 * mount operations, the way bubblewrap keeps its setup ops between parsing and
 * applying. The list is plain data: printing it (`goldroot plan`) and applying
 * it (mount.c) see exactly the same thing.
 */
#pragma once

#include "profile.h"

#include <stdio.h>

/* Where a path lives, and so how it must be resolved. IMAGE, STATE and ROOT
 * paths are opened fd-relative with RESOLVE_IN_ROOT under their tree; HOST paths
 * are trusted host paths from the administrator's profiles. */
typedef enum PathBase {
        BASE_HOST,
        BASE_IMAGE,
        BASE_STATE,
        BASE_ROOT,  /* inside the assembly being built */
        BASE_ENTRY, /* inside the mount of an earlier op (@ENTRY), in-root under it */
        _BASE_MAX,
} PathBase;

typedef struct PlanPath {
        PathBase base;
        char *path; /* absolute within its base, placeholders expanded */
} PlanPath;

typedef enum OpKind {
        OP_BIND,
        OP_OVERLAY,
        OP_TMPFS,
        OP_LOOP,
        OP_DEV,
        _OP_KIND_MAX,
} OpKind;

/* Why an op waits for another (MountOp.dep_kinds), for the graph. */
enum {
        DEP_REF = 1u << 0,   /* its source is a FILE:ENTRY or @ENTRY of that op */
        DEP_NEST = 1u << 1,  /* that op's target is its nearest parent */
        DEP_AFTER = 1u << 2, /* after= */
};

typedef struct MountOp {
        OpKind kind;
        char *entry;       /* qualified entry name, for messages */
        const Entry *spec; /* the entry it came from */
        bool shared;       /* a FILE:ENTRY target: mounted once on the host */
        PlanPath source;   /* BIND, LOOP: what to mount; OVERLAY: the lower */
        size_t source_op;  /* source BASE_ENTRY: index in Plan.ops of the op it lies in */
        char *device;      /* DEV: path, UUID=... or LABEL=... */
        PlanPath upper;    /* OVERLAY with an upper on disk */
        PlanPath work;     /* its work directory, beside the upper */
        bool upper_tmpfs;  /* OVERLAY: upper and work on a private tmpfs */
        PlanPath target;   /* BASE_ROOT, or BASE_HOST when shared; no path if aside */
        bool aside;        /* mounted but never attached: only @ENTRY sources use it */
        unsigned flags;    /* ENTRY_* flags of the entry */
        uint64_t size;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        size_t *deps; /* indexes of earlier ops this one waits for, ascending */
        size_t n_deps;
        unsigned *dep_kinds; /* DEP_* bits, one per deps[] */
} MountOp;

typedef struct Plan {
        MountOp *ops; /* in the order they must be applied */
        size_t n_ops;
} Plan;

typedef struct PlanContext {
        Placeholders placeholders;
        bool have_image; /* image: sources and `image` entries are allowed */
        bool have_state; /* state: sources and state uppers are allowed */
} PlanContext;

/* Orders the entries of set (shared entries from other profiles first where
 * they are needed) and resolves each into a MountOp. Dependencies come from
 * FILE:ENTRY sources, after=, and nesting (an entry waits for the entry whose
 * target is its nearest parent path). Ties keep file order. A cycle is an
 * error naming the whole cycle ("a -> b -> c -> a"). */
int plan_build(const ProfileSet *set, const PlanContext *ctx, Plan **ret);
Plan *plan_free(Plan *p);
static inline void plan_freep(Plan **p) {
        if (*p)
                plan_free(*p);
}

/* One line per op: "ENTRY KIND SOURCE -> TARGET (FLAGS)"; an @ENTRY source
 * reads "@ENTRY:/PATH", an aside target "(aside)". */
void plan_print(const Plan *p, FILE *out);
/* The dependency graph in Graphviz dot syntax. */
void plan_print_dot(const Plan *p, FILE *out);
/* The plan as a JSON array, one object per step (docs/json/plan.schema.json);
 * returns -EIO if writing failed. */
int plan_print_json(const Plan *p, FILE *out);

const char *op_kind_to_string(OpKind k);
const char *path_base_to_string(PathBase b); /* "host", "image", "state", "root", "entry" */
