/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan-print: a plan as text (goldroot plan), JSON (--json) and a Graphviz
 * graph (--dot). Only reads the plan that plan.c built.
 */
#include "json.h"
#include "plan.h"
#include "util.h"

#include <inttypes.h>
#include <sys/param.h>

static char *plan_path_string(const PlanPath *p, bool bare_root) {
        if (!p->path)
                return strdup("-");
        if (p->base == BASE_ROOT && bare_root)
                return strdup(p->path);
        return strjoin(path_base_to_string(p->base), ":", p->path);
}

static char *op_source_string(const Plan *p, const MountOp *op) {
        switch (op->kind) {
        case OP_TMPFS:
                return strdup("tmpfs");
        case OP_DEV:
                return strdup(op->device ? op->device : "-");
        default:
                if (op->source.base == BASE_ENTRY && op->source.path)
                        return strjoin("@", p->ops[op->source_op].spec->name, ":", op->source.path);
                return plan_path_string(&op->source, false);
        }
}

static char *op_target_string(const MountOp *op) {
        return op->aside ? strdup("(aside)") : plan_path_string(&op->target, true);
}

static void size_string(uint64_t v, char *buf, size_t len) {
        static const char units[] = "KMGT";
        int u = -1;

        /* Exact units only, so the line reads back as the option it came from. */
        while (u + 1 < (int)strlen(units) && v >= 1024 && v % 1024 == 0) {
                v /= 1024;
                u++;
        }
        if (u < 0)
                snprintf(buf, len, "%" PRIu64, v);
        else
                snprintf(buf, len, "%" PRIu64 "%c", v, units[u]);
}

static char *op_flags_string(const MountOp *op) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        static const struct {
                unsigned flag;
                const char *name;
        } names[] = {
                {ENTRY_NOSUID, "nosuid"}, {ENTRY_NODEV, "nodev"}, {ENTRY_NOEXEC, "noexec"},
                {ENTRY_CREATE, "create"}, {ENTRY_COPY, "copy"},   {ENTRY_OPTIONAL, "optional"},
        };

        if (!f)
                return NULL;
        fputs(op->flags & ENTRY_RO ? "ro" : "rw", f);
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (op->flags & names[i].flag)
                        fprintf(f, ",%s", names[i].name);
        if (op->flags & ENTRY_HAS_SIZE) {
                char s[32];
                size_string(op->size, s, sizeof s);
                fprintf(f, ",size=%s", s);
        }
        if (op->flags & ENTRY_HAS_MODE)
                fprintf(f, ",mode=%04o", (unsigned)op->mode);
        if (op->flags & ENTRY_HAS_UID)
                fprintf(f, ",uid=%u", (unsigned)op->uid);
        if (op->flags & ENTRY_HAS_GID)
                fprintf(f, ",gid=%u", (unsigned)op->gid);
        if (op->kind == OP_OVERLAY) {
                if (op->upper_tmpfs)
                        fputs(",upper=tmpfs", f);
                else if (op->upper.path)
                        fprintf(f, ",upper=%s:%s,work=%s:%s", path_base_to_string(op->upper.base),
                                op->upper.path, path_base_to_string(op->work.base), op->work.path);
        }
        if (op->shared)
                fputs(",shared", f);
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(buf);
}

/* The names of the shared profiles that come from more than one file in the
 * plan (d1/c.profile and d1/sub/c.profile): "c:cc" alone would not say which. */
static int ambiguous_profiles(const Plan *p, StrMap *ret) {
        StrMap first = {}; /* profile name -> the first op of a profile of that name */
        int r = 0;

        for (size_t i = 0; i < p->n_ops && r >= 0; i++) {
                const Profile *prof = p->ops[i].spec->profile;
                size_t k;

                if (!p->ops[i].shared)
                        continue;
                r = strmap_put(&first, prof->name, i, &k);
                if (r == 1 && p->ops[k].spec->profile != prof)
                        r = strmap_put(ret, prof->name, 0, NULL);
        }
        strmap_done(&first);
        return r < 0 ? r : 0;
}

/* The entry as plan_print shows it: its qualified name, or for a shared
 * profile whose name is ambiguous, the profile's file and the entry. */
static char *op_display_name(const MountOp *op, const StrMap *ambiguous) {
        if (op->shared && strmap_get(ambiguous, op->spec->profile->name, NULL))
                return strjoin(op->spec->profile->path, ":", op->spec->name);
        return strdup(op->entry);
}

/* Not a leak: the out: loop frees every cols[i]; gcc 12 does not follow a loop over a symbolic
 * count. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
void plan_print(const Plan *p, FILE *out) {
        size_t w_entry = 0, w_kind = 0, w_source = 0, w_target = 0, w_index;
        StrMap ambiguous = {};
        char idx[32];

        assert(p);
        assert(out);
        w_index = snprintf(idx, sizeof idx, "%zu", p->n_ops);
        char **cols = calloc(p->n_ops * 4 + 1, sizeof(char *));
        if (!cols || ambiguous_profiles(p, &ambiguous) < 0) {
                log_oom();
                goto out;
        }
        for (size_t i = 0; i < p->n_ops; i++) {
                const MountOp *op = &p->ops[i];

                cols[4 * i] = op_source_string(p, op);
                cols[4 * i + 1] = op_target_string(op);
                cols[4 * i + 2] = op_flags_string(op);
                cols[4 * i + 3] = op_display_name(op, &ambiguous);
                if (!cols[4 * i] || !cols[4 * i + 1] || !cols[4 * i + 2] || !cols[4 * i + 3]) {
                        log_oom();
                        goto out;
                }
                w_entry = MAX(w_entry, strlen(cols[4 * i + 3]));
                /* The planner builds every op, never with an unknown kind. */
                const char *kind = op_kind_to_string(op->kind);
                assert(kind);
                w_kind = MAX(w_kind, strlen(kind));
                w_source = MAX(w_source, strlen(cols[4 * i]));
                w_target = MAX(w_target, strlen(cols[4 * i + 1]));
        }
        for (size_t i = 0; i < p->n_ops; i++)
                fprintf(out, "%*zu  %-*s  %-*s  %-*s  -> %-*s  %s\n", (int)w_index, i + 1,
                        (int)w_entry, cols[4 * i + 3], (int)w_kind,
                        op_kind_to_string(p->ops[i].kind), (int)w_source, cols[4 * i],
                        (int)w_target, cols[4 * i + 1], cols[4 * i + 2]);
out:
        for (size_t i = 0; cols && i < p->n_ops * 4; i++)
                free(cols[i]);
        free(cols);
        strmap_done(&ambiguous);
}
#pragma GCC diagnostic pop

int plan_print_json(const Plan *p, FILE *out) {
        JsonWriter w;
        int r = 0;

        assert(p);
        assert(out);
        json_init(&w, out);
        json_begin_array(&w);
        for (size_t i = 0; i < p->n_ops && r >= 0; i++) {
                const MountOp *op = &p->ops[i];
                _cleanup_free_ char *source = op_source_string(p, op);
                _cleanup_free_ char *target = op->aside ? NULL : op_target_string(op);
                _cleanup_free_ char *options = op_flags_string(op);

                if (!source || (!op->aside && !target) || !options) {
                        r = log_oom();
                        break;
                }
                json_begin_object(&w);
                json_kv_uint(&w, "step", i + 1);
                json_kv_string(&w, "entry", op->entry);
                json_kv_string(&w, "type", entry_type_to_string(op->spec->type));
                json_kv_string(&w, "kind", op_kind_to_string(op->kind));
                json_kv_string(&w, "source", source);
                json_kv_string(&w, "target", target);
                json_kv_string(&w, "options", options);
                json_kv_bool(&w, "shared", op->shared);
                json_key(&w, "after");
                json_begin_array(&w);
                for (size_t k = 0; k < op->n_deps; k++)
                        json_uint(&w, op->deps[k] + 1);
                json_end_array(&w);
                json_end_object(&w);
        }
        json_end_array(&w);
        if (r < 0)
                return r;
        return json_finish(&w);
}

/* A double-quoted dot string. */
static void dot_string(FILE *out, const char *s) {
        fputc('"', out);
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        fputc('\\', out);
                fputc(*s, out);
        }
        fputc('"', out);
}

static void dot_node(FILE *out, const Plan *p, size_t i, const char *indent) {
        const MountOp *op = &p->ops[i];
        _cleanup_free_ char *label = strjoin(op->entry, "\n", entry_type_to_string(op->spec->type),
                                             "\n", op->aside ? "(aside)" : op->target.path);

        fprintf(out, "%sn%zu [label=", indent, i);
        /* dot_string escapes; the newlines become dot's "\n" line breaks. */
        fputc('"', out);
        for (const char *s = label ? label : op->entry; *s; s++) {
                if (*s == '\n')
                        fputs("\\n", out);
                else {
                        if (*s == '"' || *s == '\\')
                                fputc('\\', out);
                        fputc(*s, out);
                }
        }
        /* Dashed like a cluster of shared entries: not part of the tree. */
        fputs(op->aside ? "\", style=dashed];\n" : "\"];\n", out);
}

void plan_print_dot(const Plan *p, FILE *out) {
        static const char *const kind_names[] = {"ref", "nest", "after"};
        size_t n_clusters = 0;

        assert(p);
        assert(out);
        fputs("digraph goldroot {\n"
              "        rankdir=TB;\n"
              "        node [shape=box, fontname=\"monospace\"];\n",
              out);
        for (size_t i = 0; i < p->n_ops; i++)
                if (!p->ops[i].shared)
                        dot_node(out, p, i, "        ");
        /* One cluster per shared profile, in the order the plan meets them. The
         * id is numbered: two profiles of one name (from two directories)
         * would otherwise be one cluster to Graphviz. */
        for (size_t i = 0; i < p->n_ops; i++) {
                const Profile *prof = p->ops[i].spec->profile;
                bool seen = false;
                _cleanup_free_ char *id = NULL;

                if (!p->ops[i].shared)
                        continue;
                for (size_t j = 0; j < i; j++)
                        if (p->ops[j].spec->profile == prof)
                                seen = true;
                if (seen)
                        continue;
                /* Out of memory, id is NULL and the cluster is drawn as "cluster". */
                (void)asprintf_safe(&id, "cluster_%zu_%s", ++n_clusters, prof->name);
                fputs("        subgraph ", out);
                dot_string(out, id ? id : "cluster");
                fputs(" {\n                label=", out);
                dot_string(out, prof->name);
                fputs(";\n                style=dashed;\n", out);
                for (size_t j = i; j < p->n_ops; j++)
                        if (p->ops[j].spec->profile == prof)
                                dot_node(out, p, j, "                ");
                fputs("        }\n", out);
        }
        /* Edges point the way mounting goes: from what is mounted first. */
        for (size_t i = 0; i < p->n_ops; i++)
                for (size_t j = 0; j < p->ops[i].n_deps; j++) {
                        bool first = true;

                        fprintf(out, "        n%zu -> n%zu [label=\"", p->ops[i].deps[j], i);
                        for (size_t k = 0; k < ELEMENTSOF(kind_names); k++)
                                if (p->ops[i].dep_kinds[j] & (1u << k)) {
                                        fprintf(out, "%s%s", first ? "" : ",", kind_names[k]);
                                        first = false;
                                }
                        fputs("\"];\n", out);
                }
        fputs("}\n", out);
}
