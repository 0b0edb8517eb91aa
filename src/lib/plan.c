/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan: from a validated ProfileSet to the ordered list of mount operations.
 *
 * The nodes are the main profile's entries and the shared entries they reach
 * through FILE:ENTRY sources, after= and nesting. Each node is resolved into a
 * MountOp first (so errors come in file order), then Kahn's algorithm orders
 * them, always taking the ready node that comes first in file order (a binary
 * heap of ready nodes). What is left when no node is ready lies on or behind a
 * cycle, which is reported whole. Nothing here is quadratic: a profile of
 * 10,000 entries plans in well under a second.
 */
#include "plan-internal.h"
#include "util.h"

#include <inttypes.h>

typedef struct Dep {
        size_t to; /* entry (flat index) while collecting, node index after */
        unsigned kinds;
} Dep;

typedef struct Node {
        size_t entry; /* flat index */
        Dep *deps;
        size_t n_deps;
        size_t *dependents;
        size_t n_dependents;
        size_t waiting; /* deps not placed yet */
        bool placed;
        MountOp op;
} Node;

typedef struct Planner {
        const ProfileSet *set;
        const PlanContext *ctx;
        /* Every entry of every profile gets a flat index: base[profile] + index. */
        size_t *base;
        const Entry **entries;
        char **targets;     /* expanded, normalized */
        StrMap *target_map; /* per profile: expanded target -> first flat index */
        size_t n_entries;
        ssize_t *node_of;
        Node *nodes;
        size_t n_nodes;
} Planner;

static const char *const op_kind_table[_OP_KIND_MAX] = {
        [OP_BIND] = "bind", [OP_OVERLAY] = "overlay", [OP_TMPFS] = "tmpfs",
        [OP_LOOP] = "loop", [OP_DEV] = "dev",
};

const char *op_kind_to_string(OpKind k) {
        return k >= 0 && k < _OP_KIND_MAX ? op_kind_table[k] : NULL;
}

static const char *const path_base_table[_BASE_MAX] = {
        [BASE_HOST] = "host", [BASE_IMAGE] = "image", [BASE_STATE] = "state",
        [BASE_ROOT] = "root", [BASE_ENTRY] = "entry",
};

const char *path_base_to_string(PathBase b) {
        return b >= 0 && b < _BASE_MAX ? path_base_table[b] : NULL;
}

static void mount_op_done(MountOp *op) {
        free(op->entry);
        free(op->source.path);
        free(op->device);
        free(op->upper.path);
        free(op->work.path);
        free(op->target.path);
        free(op->deps);
        free(op->dep_kinds);
        *op = (MountOp){};
}

Plan *plan_free(Plan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_ops; i++)
                mount_op_done(&p->ops[i]);
        free(p->ops);
        free(p);
        return NULL;
}

static void planner_done(Planner *pl) {
        for (size_t i = 0; i < pl->n_entries; i++)
                free(pl->targets ? pl->targets[i] : NULL);
        for (size_t i = 0; i < pl->n_nodes; i++) {
                free(pl->nodes[i].deps);
                free(pl->nodes[i].dependents);
                mount_op_done(&pl->nodes[i].op);
        }
        free(pl->nodes);
        for (size_t p = 0; pl->target_map && p < pl->set->n_profiles; p++)
                strmap_done(&pl->target_map[p]);
        free(pl->target_map);
        free(pl->targets);
        free(pl->entries);
        free(pl->node_of);
        free(pl->base);
}

static size_t flat_index(const Planner *pl, const Entry *e) {
        for (size_t p = 0; p < pl->set->n_profiles; p++)
                if (pl->set->profiles[p] == e->profile)
                        return pl->base[p] + e->index;
        assert(!"entry of a profile outside the set");
        return 0;
}

static const char *missing_what(char c) {
        switch (c) {
        case 'n':
                return "no instance name";
        case 'h':
                return "no hostname";
        case 'i':
                return "no image id";
        default:
                return "not a placeholder";
        }
}

/* Expands the placeholders of path (written as raw at loc) and normalizes the
 * result again, because a value may bring its own slashes. */
static int expand_path(const Planner *pl, const char *path, const char *raw, const Location *loc,
                       char **ret) {
        _cleanup_free_ char *x = NULL;
        char missing = 0;
        int r;

        r = placeholders_expand(path, &pl->ctx->placeholders, &x, &missing);
        if (r == -ENXIO || r == -EINVAL) {
                Location l = placeholder_location(loc, raw, missing);
                return log_syntax(l.file, l.line, l.col, "placeholder '%%%c' has no value: %s",
                                  missing, missing_what(missing));
        }
        if (r < 0)
                return log_oom();
        if (*x == 0) {
                *ret = TAKE_PTR(x);
                return 0;
        }
        r = path_normalize(x, ret);
        if (r == -EINVAL)
                return log_syntax(loc->file, loc->line, loc->col,
                                  "'%s' expands to '%s', which has a '..' component", raw, x);
        return r < 0 ? log_oom() : 0;
}

/* Shared entries of different profiles meet on the host: one target cannot
 * be two entries' mounts. */
static int check_host_target(const Planner *pl, StrMap *host, size_t i) {
        _cleanup_free_ char *name = NULL, *first = NULL;
        const Entry *e = pl->entries[i], *x;
        size_t j;
        int r;

        r = strmap_put(host, pl->targets[i], i, &j);
        if (r < 0)
                return log_oom();
        if (r == 0)
                return 0;
        x = pl->entries[j];
        if (x->profile == e->profile)
                return 0;
        if (entry_qualified_name(e, &name) < 0 || entry_qualified_name(x, &first) < 0)
                return log_oom();
        return log_syntax(e->target_loc.file, e->target_loc.line, e->target_loc.col,
                          "host target '%s' of shared entry '%s' is also the host target of "
                          "'%s' at %s:%u",
                          pl->targets[i], name, first, x->loc.file, x->loc.line);
}

static int expand_targets(Planner *pl) {
        _cleanup_(strmap_done) StrMap host = {};
        int r;

        for (size_t i = 0; i < pl->n_entries; i++) {
                const Entry *e = pl->entries[i];

                if (e->aside) /* no target: pl->targets[i] stays NULL */
                        continue;
                r = expand_path(pl, e->target, e->target_raw, &e->target_loc, &pl->targets[i]);
                if (r < 0)
                        return r;
        }
        pl->target_map = calloc(pl->set->n_profiles, sizeof(StrMap));
        if (!pl->target_map)
                return log_oom();
        for (size_t p = 0; p < pl->set->n_profiles; p++)
                for (size_t i = pl->base[p]; i < pl->base[p] + pl->set->profiles[p]->n_entries;
                     i++) {
                        size_t j;

                        if (!pl->targets[i])
                                continue;
                        if (p > 0 && (r = check_host_target(pl, &host, i)) < 0)
                                return r;
                        r = strmap_put(&pl->target_map[p], pl->targets[i], i, &j);
                        if (r < 0)
                                return log_oom();
                        /* Two targets can only meet after expansion ("/srv/%n" and
                         * "/srv/web"). Shared profiles are mounted by their own
                         * plans, which check them. */
                        if (r > 0 && p == 0) {
                                const Entry *e = pl->entries[i], *x = pl->entries[j];
                                return log_syntax(
                                        e->target_loc.file, e->target_loc.line, e->target_loc.col,
                                        "target '%s' of '%s' is also the target of "
                                        "'%s' at %s:%u",
                                        pl->targets[i], e->name, x->name, x->loc.file, x->loc.line);
                        }
                }
        return 0;
}

static int dep_add(Dep **deps, size_t *n, size_t to, unsigned kind) {
        Dep *t;

        for (size_t i = 0; i < *n; i++)
                if ((*deps)[i].to == to) {
                        (*deps)[i].kinds |= kind;
                        return 0;
                }
        t = realloc(*deps, sizeof(Dep) * (*n + 1));
        if (!t)
                return -ENOMEM;
        *deps = t;
        (*deps)[(*n)++] = (Dep){to, kind};
        return 0;
}

/* What entry i waits for, as flat indexes. */
static int collect_deps(const Planner *pl, size_t i, Dep **ret, size_t *ret_n) {
        const Entry *e = pl->entries[i];
        size_t p, parent = SIZE_MAX;
        _cleanup_free_ Dep *deps = NULL;
        size_t n = 0;

        if ((e->source.kind == SOURCE_REF || e->source.kind == SOURCE_ENTRY) &&
            dep_add(&deps, &n, flat_index(pl, e->source.ref), DEP_REF) < 0)
                return -ENOMEM;
        for (size_t j = 0; j < e->n_after; j++)
                if (dep_add(&deps, &n, flat_index(pl, e->after[j].ref), DEP_AFTER) < 0)
                        return -ENOMEM;

        /* Nesting: the entry of the same profile with the longest proper parent
         * target, found by looking up each ancestor of the target, longest
         * first. Aside entries have no place in the tree, so no parent either. */
        for (p = 0; pl->set->profiles[p] != e->profile; p++)
                ;
        if (pl->targets[i] && !streq(pl->targets[i], "/")) {
                _cleanup_free_ char *up = strdup(pl->targets[i]);
                char *slash;

                if (!up)
                        return -ENOMEM;
                while (parent == SIZE_MAX && (slash = strrchr(up, '/'))) {
                        if (slash == up) {
                                (void)strmap_get(&pl->target_map[p], "/", &parent);
                                break;
                        }
                        *slash = '\0';
                        (void)strmap_get(&pl->target_map[p], up, &parent);
                }
        }
        if (parent != SIZE_MAX && dep_add(&deps, &n, parent, DEP_NEST) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(deps);
        *ret_n = n;
        return 0;
}

static int build_nodes(Planner *pl) {
        _cleanup_free_ bool *reached = calloc(pl->n_entries, sizeof(bool));
        _cleanup_free_ size_t *stack = calloc(pl->n_entries, sizeof(size_t));
        size_t top = 0;
        int r;

        if (!reached || !stack)
                return -ENOMEM;
        for (size_t i = 0; i < pl->set->profiles[0]->n_entries; i++) {
                reached[i] = true;
                stack[top++] = i;
        }
        while (top > 0) {
                _cleanup_free_ Dep *deps = NULL;
                size_t n;

                r = collect_deps(pl, stack[--top], &deps, &n);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < n; j++)
                        if (!reached[deps[j].to]) {
                                reached[deps[j].to] = true;
                                stack[top++] = deps[j].to;
                        }
        }

        /* Flat order is file order, main profile first, shared ones in load order. */
        pl->nodes = calloc(pl->n_entries, sizeof(Node));
        if (!pl->nodes)
                return -ENOMEM;
        for (size_t i = 0; i < pl->n_entries; i++) {
                pl->node_of[i] = -1;
                if (reached[i]) {
                        pl->node_of[i] = pl->n_nodes;
                        pl->nodes[pl->n_nodes++].entry = i;
                }
        }

        for (size_t k = 0; k < pl->n_nodes; k++) {
                Node *nd = &pl->nodes[k];

                r = collect_deps(pl, nd->entry, &nd->deps, &nd->n_deps);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < nd->n_deps; j++)
                        nd->deps[j].to = pl->node_of[nd->deps[j].to];
                nd->waiting = nd->n_deps;
                for (size_t j = 0; j < nd->n_deps; j++) {
                        Node *d = &pl->nodes[nd->deps[j].to];
                        size_t *t = realloc(d->dependents, sizeof(size_t) * (d->n_dependents + 1));
                        if (!t)
                                return -ENOMEM;
                        d->dependents = t;
                        d->dependents[d->n_dependents++] = k;
                }
        }
        return 0;
}

static int needs(const Entry *e, const Location *loc, bool have, const char *what) {
        _cleanup_free_ char *name = NULL;

        if (have)
                return 0;
        if (entry_qualified_name(e, &name) < 0)
                return log_oom();
        return log_syntax(loc->file, loc->line, loc->col, "entry '%s' needs %s", name, what);
}

static int resolve_source(const Planner *pl, const Entry *e, PlanPath *ret, size_t *ret_op) {
        const Source *s = &e->source;
        _cleanup_free_ char *sub = NULL;
        int r;

        switch (s->kind) {
        case SOURCE_IMAGE:
                r = needs(e, &s->loc, pl->ctx->have_image, "an image");
                if (r < 0)
                        return r;
                ret->base = BASE_IMAGE;
                return expand_path(pl, s->path, s->raw, &s->loc, &ret->path);
        case SOURCE_STATE:
                r = needs(e, &s->loc, pl->ctx->have_state, "an instance state");
                if (r < 0)
                        return r;
                ret->base = BASE_STATE;
                return expand_path(pl, s->path, s->raw, &s->loc, &ret->path);
        case SOURCE_HOST:
                ret->base = BASE_HOST;
                return expand_path(pl, s->path, s->raw, &s->loc, &ret->path);
        case SOURCE_REF:
                /* The shared entry's target, on the host. */
                r = expand_path(pl, s->path, s->raw, &s->loc, &sub);
                if (r < 0)
                        return r;
                ret->base = BASE_HOST;
                ret->path = path_join(pl->targets[flat_index(pl, s->ref)], sub);
                return ret->path ? 0 : log_oom();
        case SOURCE_ENTRY:
                /* The node index for now; build_plan() turns it into the op's. */
                ret->base = BASE_ENTRY;
                *ret_op = pl->node_of[flat_index(pl, s->ref)];
                assert(pl->node_of[flat_index(pl, s->ref)] >= 0);
                return expand_path(pl, s->path, s->raw, &s->loc, &ret->path);
        default:
                return 0;
        }
}

static int resolve_upper(const Planner *pl, const Entry *e, MountOp *op) {
        const Source *u = &e->upper;
        const char *slash;
        int r;

        switch (u->kind) {
        case SOURCE_TMPFS:
                op->upper_tmpfs = true;
                return 0;
        case SOURCE_STATE:
                r = needs(e, &u->loc, pl->ctx->have_state, "an instance state");
                if (r < 0)
                        return r;
                op->upper.base = op->work.base = BASE_STATE;
                r = expand_path(pl, u->path, u->raw, &u->loc, &op->upper.path);
                if (r < 0)
                        return r;
                /* One work directory per entry, outside every upper. */
                op->work.path = strjoin("/.work/", e->name);
                return op->work.path ? 0 : log_oom();
        case SOURCE_HOST:
                op->upper.base = op->work.base = BASE_HOST;
                r = expand_path(pl, u->path, u->raw, &u->loc, &op->upper.path);
                if (r < 0)
                        return r;
                if (streq(op->upper.path, "/"))
                        return log_syntax(u->loc.file, u->loc.line, u->loc.col,
                                          "upper= '%s' expands to '/'", u->raw);
                /* overlayfs wants work beside upper, on the same file system. */
                slash = strrchr(op->upper.path, '/');
                r = asprintf_safe(&op->work.path, "%.*s/.%s.work", (int)(slash - op->upper.path),
                                  op->upper.path, slash + 1);
                return r < 0 ? log_oom() : 0;
        default:
                return 0;
        }
}

/* Whether e mounts a view of the image itself: an image entry, or a bind of
 * image:PATH or of such an entry mounted aside. @ENTRY of an attached entry
 * names a path in the assembled tree, where other mounts may lie on the
 * image's: mount_apply() decides those by the mount the source lies on. An
 * @ENTRY cycle is reported later, when the order is built, so the walk stops
 * after one step per entry. */
static bool entry_shows_image(const Planner *pl, const Entry *e) {
        for (size_t steps = 0; steps <= pl->n_entries; steps++) {
                if (e->type == ENTRY_IMAGE)
                        return true;
                if (e->type != ENTRY_BIND)
                        return false;
                if (e->source.kind == SOURCE_IMAGE)
                        return true;
                if (e->source.kind != SOURCE_ENTRY || !e->source.ref->aside)
                        return false;
                e = e->source.ref;
        }
        return false;
}

static int resolve_op(const Planner *pl, size_t i, MountOp *op) {
        const Entry *e = pl->entries[i];
        int r;

        if (entry_qualified_name(e, &op->entry) < 0)
                return log_oom();
        op->spec = e;
        op->shared = e->profile->shared;
        op->aside = e->aside;
        op->target.base = op->shared ? BASE_HOST : BASE_ROOT;
        if (!op->aside) {
                op->target.path = strdup(pl->targets[i]);
                if (!op->target.path)
                        return log_oom();
        }
        op->flags = e->flags;
        op->size = e->size;
        op->mode = e->mode;
        op->uid = e->uid;
        op->gid = e->gid;

        switch (e->type) {
        case ENTRY_IMAGE:
                op->kind = OP_BIND;
                r = needs(e, &e->source.loc, pl->ctx->have_image, "an image");
                if (r < 0)
                        return r;
                op->flags |= ENTRY_RO; /* rw is refused when parsing */
                if (e->source.kind == SOURCE_NONE) {
                        op->source = (PlanPath){BASE_IMAGE, strdup("/")};
                        return op->source.path ? 0 : log_oom();
                }
                return resolve_source(pl, e, &op->source, &op->source_op);
        case ENTRY_BIND:
                op->kind = OP_BIND;
                if (entry_shows_image(pl, e)) {
                        if (op->flags & ENTRY_RW)
                                return profile_error_rw_on_image(&e->rw_loc);
                        op->flags |= ENTRY_RO;
                }
                return resolve_source(pl, e, &op->source, &op->source_op);
        case ENTRY_OVERLAY:
                op->kind = OP_OVERLAY;
                r = resolve_source(pl, e, &op->source, &op->source_op);
                if (r < 0)
                        return r;
                return resolve_upper(pl, e, op);
        case ENTRY_TMPFS:
                op->kind = OP_TMPFS;
                return 0;
        case ENTRY_LOOP:
                op->kind = OP_LOOP;
                op->flags |= ENTRY_RO;
                return resolve_source(pl, e, &op->source, &op->source_op);
        case ENTRY_DEV:
                op->kind = OP_DEV;
                if (e->source.kind == SOURCE_DEVTAG) {
                        char missing = 0;
                        r = placeholders_expand(e->source.path, &pl->ctx->placeholders, &op->device,
                                                &missing);
                        if (r == -ENXIO) {
                                Location l = placeholder_location(&e->source.loc, e->source.raw,
                                                                  missing);
                                return log_syntax(l.file, l.line, l.col,
                                                  "placeholder '%%%c' has no value: %s", missing,
                                                  missing_what(missing));
                        }
                        return r < 0 ? log_oom() : 0;
                }
                return expand_path(pl, e->source.path, e->source.raw, &e->source.loc, &op->device);
        default:
                assert(!"unknown entry type");
                return -EINVAL;
        }
}

static int check_uppers(const Planner *pl) {
        _cleanup_free_ const MountOp **ops = calloc(pl->n_nodes + 1, sizeof(MountOp *));

        if (!ops)
                return log_oom();
        for (size_t k = 0; k < pl->n_nodes; k++)
                ops[k] = &pl->nodes[k].op;
        return plan_check_uppers(ops, pl->n_nodes);
}

/* Called when no node is ready: every unplaced node waits for another unplaced
 * one, so walking "first unplaced dependency" from any of them must loop. */
static int report_cycle(const Planner *pl) {
        _cleanup_free_ size_t *pos = malloc(sizeof(size_t) * pl->n_nodes),
                              *path = malloc(sizeof(size_t) * pl->n_nodes);
        _cleanup_free_ char *chain = NULL;
        size_t len = 0, cur = 0, start, first;
        const Entry *fe;

        if (!pos || !path)
                return log_oom();
        for (size_t i = 0; i < pl->n_nodes; i++)
                pos[i] = SIZE_MAX;
        while (pl->nodes[cur].placed)
                cur++;
        while (pos[cur] == SIZE_MAX) {
                const Node *nd = &pl->nodes[cur];
                size_t next = SIZE_MAX;

                pos[cur] = len;
                path[len++] = cur;
                for (size_t j = 0; j < nd->n_deps; j++)
                        if (!pl->nodes[nd->deps[j].to].placed &&
                            (next == SIZE_MAX || nd->deps[j].to < next))
                                next = nd->deps[j].to;
                assert(next != SIZE_MAX);
                cur = next;
        }
        start = pos[cur];
        /* Name it from the member that comes first in file order. */
        first = start;
        for (size_t i = start; i < len; i++)
                if (path[i] < path[first])
                        first = i;
        for (size_t k = 0; k <= len - start; k++) {
                size_t i = start + (first - start + k) % (len - start);
                _cleanup_free_ char *name = NULL;
                char *t;

                if (entry_qualified_name(pl->entries[pl->nodes[path[i]].entry], &name) < 0)
                        return log_oom();
                t = chain ? strjoin(chain, " -> ", name) : strdup(name);
                if (!t)
                        return log_oom();
                free(chain);
                chain = t;
        }
        fe = pl->entries[pl->nodes[path[first]].entry];
        return log_syntax(fe->loc.file, fe->loc.line, fe->loc.col, "dependency cycle: %s", chain);
}

/* A min-heap of ready node indexes: the ready node first in file order on top. */
static void heap_push(size_t *heap, size_t *n, size_t v) {
        size_t i = (*n)++;

        for (; i > 0 && heap[(i - 1) / 2] > v; i = (i - 1) / 2)
                heap[i] = heap[(i - 1) / 2];
        heap[i] = v;
}

static size_t heap_pop(size_t *heap, size_t *n) {
        size_t top = heap[0], last = heap[--*n], i = 0;

        for (;;) {
                size_t c = 2 * i + 1;
                if (c >= *n)
                        break;
                if (c + 1 < *n && heap[c + 1] < heap[c])
                        c++;
                if (heap[c] >= last)
                        break;
                heap[i] = heap[c];
                i = c;
        }
        if (*n > 0)
                heap[i] = last;
        return top;
}

static int order(Planner *pl, size_t *out) {
        _cleanup_free_ size_t *heap = malloc(sizeof(size_t) * (pl->n_nodes + 1));
        size_t n_heap = 0;

        if (!heap)
                return log_oom();
        for (size_t k = 0; k < pl->n_nodes; k++)
                if (pl->nodes[k].waiting == 0)
                        heap_push(heap, &n_heap, k);
        for (size_t step = 0; step < pl->n_nodes; step++) {
                size_t k;

                if (n_heap == 0)
                        return report_cycle(pl);
                k = heap_pop(heap, &n_heap);
                pl->nodes[k].placed = true;
                out[step] = k;
                for (size_t j = 0; j < pl->nodes[k].n_dependents; j++) {
                        Node *d = &pl->nodes[pl->nodes[k].dependents[j]];
                        if (--d->waiting == 0)
                                heap_push(heap, &n_heap, pl->nodes[k].dependents[j]);
                }
        }
        return 0;
}

static int build_plan(Planner *pl, const size_t *seq, Plan **ret) {
        _cleanup_free_ size_t *op_of = malloc(sizeof(size_t) * (pl->n_nodes + 1));
        _cleanup_(plan_freep) Plan *p = calloc(1, sizeof(Plan));

        if (!op_of || !p)
                return log_oom();
        p->ops = calloc(pl->n_nodes + 1, sizeof(MountOp));
        if (!p->ops)
                return log_oom();
        for (size_t i = 0; i < pl->n_nodes; i++)
                op_of[seq[i]] = i;
        for (size_t i = 0; i < pl->n_nodes; i++) {
                Node *nd = &pl->nodes[seq[i]];
                MountOp *op = &p->ops[i];

                *op = nd->op;
                nd->op = (MountOp){};
                p->n_ops++;
                if (op->source.base == BASE_ENTRY)
                        op->source_op = op_of[op->source_op];
                op->deps = calloc(nd->n_deps + 1, sizeof(size_t));
                op->dep_kinds = calloc(nd->n_deps + 1, sizeof(unsigned));
                if (!op->deps || !op->dep_kinds)
                        return log_oom();
                /* Insertion sort by op index: a node has a handful of deps. */
                for (size_t j = 0; j < nd->n_deps; j++) {
                        size_t d = op_of[nd->deps[j].to], m = op->n_deps;

                        while (m > 0 && op->deps[m - 1] > d) {
                                op->deps[m] = op->deps[m - 1];
                                op->dep_kinds[m] = op->dep_kinds[m - 1];
                                m--;
                        }
                        op->deps[m] = d;
                        op->dep_kinds[m] = nd->deps[j].kinds;
                        op->n_deps++;
                }
        }
        *ret = TAKE_PTR(p);
        return 0;
}

int plan_build(const ProfileSet *set, const PlanContext *ctx, Plan **ret) {
        _cleanup_(planner_done) Planner pl = {.set = set, .ctx = ctx};
        _cleanup_free_ size_t *seq = NULL;
        int r;

        assert(set);
        assert(set->n_profiles > 0);
        assert(ctx);
        assert(ret);

        pl.base = calloc(set->n_profiles, sizeof(size_t));
        if (!pl.base)
                return log_oom();
        for (size_t p = 0; p < set->n_profiles; p++) {
                pl.base[p] = pl.n_entries;
                pl.n_entries += set->profiles[p]->n_entries;
        }
        pl.entries = calloc(pl.n_entries + 1, sizeof(Entry *));
        pl.targets = calloc(pl.n_entries + 1, sizeof(char *));
        pl.node_of = calloc(pl.n_entries + 1, sizeof(ssize_t));
        seq = calloc(pl.n_entries + 1, sizeof(size_t));
        if (!pl.entries || !pl.targets || !pl.node_of || !seq)
                return log_oom();
        for (size_t p = 0; p < set->n_profiles; p++)
                for (size_t i = 0; i < set->profiles[p]->n_entries; i++)
                        pl.entries[pl.base[p] + i] = set->profiles[p]->entries[i];

        r = expand_targets(&pl);
        if (r < 0)
                return r;
        r = build_nodes(&pl);
        if (r < 0)
                return log_oom();
        for (size_t k = 0; k < pl.n_nodes; k++) {
                r = resolve_op(&pl, pl.nodes[k].entry, &pl.nodes[k].op);
                if (r < 0)
                        return r;
        }
        r = check_uppers(&pl);
        if (r < 0)
                return r;
        r = order(&pl, seq);
        if (r < 0)
                return r;
        return build_plan(&pl, seq, ret);
}
