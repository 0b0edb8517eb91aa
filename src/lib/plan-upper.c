/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan-upper: the directories the overlays of one plan write to.
 *
 * overlayfs wants its upper and work directories to itself. An upper that
 * holds its own work directory (state:/ holds state:/.work/NAME) is refused by
 * the kernel with EINVAL, long after the plan said yes; two overlays on one
 * upper, or one upper inside another, is undefined behaviour. So a state:
 * upper may not overlap state:/.work, where every state: upper's work directory
 * is, and each overlay's upper and work directory (a host upper's is
 * .BASENAME.work beside it) are checked against every earlier overlay's, with
 * hash lookups of the path and its parents: nothing here is quadratic.
 */
#include "plan-internal.h"
#include "util.h"

#define WORK_ROOT "/.work"

/* One directory an overlay writes to. */
typedef struct Claim {
        const MountOp *op;
        const char *what; /* "upper layer" or "work directory" */
} Claim;

typedef struct Checker {
        Claim *claims;
        size_t n_claims;
        char **keys; /* "state:/a/b": every map key, owned */
        size_t n_keys, cap_keys;
        StrMap exact;   /* claimed path -> claim */
        StrMap parents; /* proper parent of a claimed path -> first claim below it */
} Checker;

static void checker_done(Checker *c) {
        strmap_done(&c->exact);
        strmap_done(&c->parents);
        for (size_t i = 0; i < c->n_keys; i++)
                free(c->keys[i]);
        free(c->keys);
        free(c->claims);
}

/* The length of the parent of the first len bytes of a normalized path ("/a/b"
 * gives "/a", "/a" gives "/"), 0 above the root. */
static size_t parent_len(const char *path, size_t len) {
        const char *s;

        if (len <= 1)
                return 0;
        s = memrchr(path, '/', len);
        return s == path ? 1 : (size_t)(s - path);
}

/* "state:/a" for the first len bytes of p. */
static char *path_key(const PlanPath *p, size_t len) {
        char *k;

        if (asprintf_safe(&k, "%s:%.*s", path_base_to_string(p->base), (int)len, p->path) < 0)
                return NULL;
        return k;
}

/* The same, kept for as long as the maps that borrow it. */
static const char *keep_key(Checker *c, const PlanPath *p, size_t len) {
        char *k;

        if (c->n_keys == c->cap_keys) {
                size_t cap = c->cap_keys ? 2 * c->cap_keys : 16;
                char **t = realloc(c->keys, sizeof(char *) * cap);

                if (!t)
                        return NULL;
                c->keys = t;
                c->cap_keys = cap;
        }
        k = path_key(p, len);
        if (k)
                c->keys[c->n_keys++] = k;
        return k;
}

static int conflict(const MountOp *op, const char *what, const PlanPath *p, const char *relation,
                    const Claim *other) {
        const Source *u = &op->spec->upper;
        const Entry *oe = other->op->spec;

        return log_syntax(u->loc.file, u->loc.line, u->loc.col,
                          "upper= '%s': its %s %s:%s %s the %s of '%s' (%s:%u); overlays cannot "
                          "share directories",
                          u->raw, what, path_base_to_string(p->base), p->path, relation,
                          other->what, other->op->entry, oe->loc.file, oe->loc.line);
}

/* Checks p against the claims of the earlier overlays. */
static int claim(Checker *c, const MountOp *op, const char *what, const PlanPath *p) {
        _cleanup_free_ char *key = path_key(p, strlen(p->path));
        size_t k;

        if (!key)
                return log_oom();
        if (strmap_get(&c->exact, key, &k))
                return conflict(op, what, p, "is also", &c->claims[k]);
        if (strmap_get(&c->parents, key, &k))
                return conflict(op, what, p, "contains", &c->claims[k]);
        for (size_t n = parent_len(p->path, strlen(p->path)); n > 0; n = parent_len(p->path, n)) {
                _cleanup_free_ char *parent = path_key(p, n);

                if (!parent)
                        return log_oom();
                if (strmap_get(&c->exact, parent, &k))
                        return conflict(op, what, p, "is inside", &c->claims[k]);
        }
        return 0;
}

/* Claims p for op. */
static int record(Checker *c, const MountOp *op, const char *what, const PlanPath *p) {
        Claim *t;
        const char *key;
        int r;

        t = realloc(c->claims, sizeof(Claim) * (c->n_claims + 1));
        if (!t)
                return log_oom();
        c->claims = t;
        c->claims[c->n_claims] = (Claim){op, what};
        key = keep_key(c, p, strlen(p->path));
        r = key ? strmap_put(&c->exact, key, c->n_claims, NULL) : -ENOMEM;
        for (size_t n = parent_len(p->path, strlen(p->path)); r >= 0 && n > 0;
             n = parent_len(p->path, n)) {
                key = keep_key(c, p, n);
                r = key ? strmap_put(&c->parents, key, c->n_claims, NULL) : -ENOMEM;
        }
        if (r < 0)
                return log_oom();
        c->n_claims++;
        return 0;
}

int plan_check_uppers(const MountOp *const *ops, size_t n_ops) {
        _cleanup_(checker_done) Checker c = {};
        int r;

        assert(ops || n_ops == 0);
        for (size_t i = 0; i < n_ops; i++) {
                const MountOp *op = ops[i];
                const Source *u;

                if (op->kind != OP_OVERLAY || !op->upper.path)
                        continue;
                u = &op->spec->upper;
                if (op->upper.base == BASE_STATE && (path_is_under(op->upper.path, WORK_ROOT) ||
                                                     path_is_under(WORK_ROOT, op->upper.path)))
                        return log_syntax(u->loc.file, u->loc.line, u->loc.col,
                                          "upper= '%s' overlaps state:" WORK_ROOT
                                          ", which is reserved for the overlays' work directories "
                                          "(this entry's is state:%s)",
                                          u->raw, op->work.path);
                /* Both checked before either is recorded: an op's own upper and
                 * work directory sit side by side. */
                r = claim(&c, op, "upper layer", &op->upper);
                if (r >= 0)
                        r = claim(&c, op, "work directory", &op->work);
                if (r >= 0)
                        r = record(&c, op, "upper layer", &op->upper);
                if (r >= 0)
                        r = record(&c, op, "work directory", &op->work);
                if (r < 0)
                        return r;
        }
        return 0;
}
