/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lifecycle: the maintenance commands, diff, commit, upgrade and rollback,
 * over upgrade.h, commit.h and the merge engine.
 */
#include "cli.h"
#include "commit.h"
#include "image-tree.h"
#include "instance-cli.h"
#include "instance.h"
#include "json.h"
#include "layers.h"
#include "merge.h"
#include "upgrade.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

/* The instance named by the one positional argument, opened and locked. */
static int open_locked(GlobalOptions *g, const char *verb, int argc, char **argv, int i,
                       StoreLock lock, Store **ret_store, Instance **ret) {
        int r;

        if (argc - i != 1)
                return cli_usage_error(verb, argc - i < 1 ? "expected NAME" : "expected one NAME");
        r = cli_open_instance(g, verb, argv[i], lock, ret_store, ret);
        if (r < 0)
                return r;
        return instance_lock(*ret, verb, false);
}

static const char *short_id(const char *id, char buf[static 13]) {
        snprintf(buf, 13, "%.12s", id);
        return buf;
}

/* "base:v2 (0123456789ab)", or the short id alone for an untagged image. */
static char *image_label(Store *s, const char *id) {
        _cleanup_(image_info_freep) ImageInfo *info = NULL;
        char b[13];

        short_id(id, b);
        if (catalog_get_image(store_catalog(s), id, &info) >= 0 && info->tags && info->tags[0])
                return strjoin(info->tags[0], " (", b, ")");
        return strdup(b);
}

/* diff */

int verb_diff(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(instance_freep) Instance *inst = NULL;
        _cleanup_(instance_layers_done) InstanceLayers l = INSTANCE_LAYERS_INIT;
        _cleanup_(merge_diff_freep) MergeDiff *d = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(merge_tree_done) MergeTree base = {};
        _cleanup_close_ int root = -EBADF, state = -EBADF;
        int i, r;

        i = parse_verb(argc, argv, g, "diff",
                       "diff NAME [--json]\n\n"
                       "Show an instance's local changes against its image.\n\n"
                       "Options:\n"
                       "  --json  a JSON array (docs/json/diff.schema.json)\n",
                       NULL, NULL, NULL, NULL);
        if (i < 0)
                return verb_result(i);
        r = open_locked(g, "diff", argc, argv, i, STORE_SHARED, &s, &inst);
        if (r < 0)
                return r;
        r = upgrade_recover(s, inst);
        if (r < 0)
                return r;
        state = openat(inst->dir_fd, "state", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (state < 0)
                return log_error_errno(errno, "diff %s: cannot open its state: %m", inst->name);
        r = instance_layers_open(inst, "diff", state, &l);
        if (r < 0)
                return r;
        r = store_read_manifest(s, inst->row->image, &m);
        if (r < 0)
                return r;
        r = store_open_image_root(s, inst->row->image, &root);
        if (r < 0)
                return log_error_errno(r, "diff %s: cannot open its image: %m", inst->name);
        r = image_tree_new(m, root, &base);
        if (r < 0)
                return log_oom();
        r = merge_diff(&base, l.layers, l.n, &d);
        if (r < 0)
                return r;
        r = g->json ? merge_diff_print_json(d, stdout) : merge_diff_print(d, stdout);
        if (r < 0 || fflush(stdout) != 0)
                return log_error_errno(r < 0 ? r : -EIO, "diff %s: cannot write: %m", inst->name);
        return 0;
}

/* commit */

int verb_commit(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(instance_freep) Instance *inst = NULL;
        _cleanup_free_ char *name = NULL, *tag = NULL, *parent = NULL;
        CommitResult res;
        Progress p;
        int i, r;

        i = parse_verb(argc, argv, g, "commit",
                       "commit NAME NAME:TAG [--json]\n\n"
                       "Freeze a stopped instance into a new image version.\n\n"
                       "Options:\n"
                       "  --json  a JSON object (docs/json/commit.schema.json)\n",
                       NULL, NULL, NULL, NULL);
        if (i < 0)
                return verb_result(i);
        if (argc - i != 2)
                return cli_usage_error("commit", "expected NAME NAME:TAG");
        r = image_ref_parse_tag(argv[i + 1], &name, &tag);
        if (r < 0)
                return r;
        r = open_locked(g, "commit", 2, (char *[]){argv[0], argv[i], NULL}, 1, STORE_SHARED, &s,
                        &inst);
        if (r < 0)
                return r;
        parent = image_label(s, inst->row->image);
        if (!parent)
                return log_oom();
        progress_init(&p, stderr, progress_style_for(stderr, g->quiet, g->verbose > 0), "commit",
                      0);
        r = commit_instance(s, inst, name, tag, &p, &res);
        if (r < 0) {
                progress_abort(&p);
                return r;
        }
        progress_done(&p);
        if (g->json) {
                JsonWriter w;
                json_init(&w, stdout);
                json_begin_object(&w);
                json_kv_string(&w, "id", res.id);
                json_kv_string(&w, "parent", inst->row->image);
                json_kv_uint(&w, "changes", res.changes);
                json_end_object(&w);
                return json_finish(&w);
        }
        if (!g->quiet)
                printf("committed %s as %s:%s (%.12s, parent %s): %zu path%s changed\n", inst->name,
                       name, tag, res.id, parent, res.changes, res.changes == 1 ? "" : "s");
        return 0;
}

/* rollback */

int verb_rollback(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(instance_freep) Instance *inst = NULL;
        _cleanup_free_ char *image = NULL, *label = NULL;
        int i, r;

        i = parse_verb(argc, argv, g, "rollback",
                       "rollback NAME [--json]\n\n"
                       "Undo a stopped instance's last upgrade.\n\n"
                       "Options:\n"
                       "  --json  a JSON object (docs/json/rollback.schema.json)\n",
                       NULL, NULL, NULL, NULL);
        if (i < 0)
                return verb_result(i);
        r = open_locked(g, "rollback", argc, argv, i, STORE_SHARED, &s, &inst);
        if (r < 0)
                return r;
        r = rollback_instance(s, inst, &image);
        if (r < 0)
                return r;
        label = image_label(s, image);
        if (!label)
                return log_oom();
        if (g->json) {
                JsonWriter w;
                json_init(&w, stdout);
                json_begin_object(&w);
                json_kv_string(&w, "name", inst->name);
                json_kv_string(&w, "image", image);
                json_end_object(&w);
                return json_finish(&w);
        }
        if (!g->quiet)
                printf("%s: rolled back to %s\n", inst->name, label);
        return 0;
}

/* upgrade */

enum {
        ARG_TO = ARG_VERB_BASE,
        ARG_FROM,
        ARG_ALL,
        ARG_POLICY,
        ARG_DRY_RUN,
        ARG_RESTART,
        ARG_PRUNE,
};

typedef struct UpgradeArgs {
        const char *to, *from;
        bool all, prune;
        UpgradeOptions o;
} UpgradeArgs;

static int take_upgrade(int c, void *userdata) {
        UpgradeArgs *a = userdata;
        int p;

        switch (c) {
        case ARG_TO:
                a->to = optarg;
                return 1;
        case ARG_FROM:
                a->from = optarg;
                return 1;
        case ARG_ALL:
                a->all = true;
                return 1;
        case ARG_POLICY:
                p = merge_policy_from_string(optarg);
                if (p < 0)
                        return cli_usage_error("upgrade",
                                               "bad --policy '%s' (expected keep-local, merge or "
                                               "theirs)",
                                               optarg);
                a->o.policy = p;
                return 1;
        case ARG_DRY_RUN:
                a->o.dry_run = true;
                return 1;
        case ARG_RESTART:
                a->o.restart = true;
                return 1;
        case ARG_PRUNE:
                a->prune = true;
                return 1;
        default:
                return 0;
        }
}

static const char *node_type_name(MergeNodeType t) {
        static const char *const names[_MERGE_NODE_TYPE_MAX] = {
                [MERGE_NODE_ABSENT] = "nothing",
                [MERGE_NODE_REG] = "regular file",
                [MERGE_NODE_DIR] = "directory",
                [MERGE_NODE_LNK] = "symlink",
                [MERGE_NODE_FIFO] = "fifo",
                [MERGE_NODE_SOCK] = "socket",
                [MERGE_NODE_CHR] = "character device",
                [MERGE_NODE_BLK] = "block device",
        };
        return t >= 0 && t < _MERGE_NODE_TYPE_MAX ? names[t] : "unknown";
}

static void json_report_entries(JsonWriter *w, const MergeReport *r) {
        json_key(w, "entries");
        json_begin_array(w);
        for (size_t k = 0; r && k < r->n_entries; k++) {
                const MergeEntry *e = &r->entries[k];

                json_begin_object(w);
                json_kv_string(w, "path", e->path);
                json_kv_string(w, "outcome", merge_outcome_to_string(e->outcome));
                json_kv_bool(w, "conflict", merge_outcome_is_conflict(e->outcome));
                json_kv_string(w, "reason", e->reason);
                json_kv_string(w, "side", e->side_path);
                if (e->hunks > 0)
                        json_kv_uint(w, "hunks", e->hunks);
                if (e->outcome == MERGE_TYPE_CONFLICT) {
                        json_kv_string(w, "local_type", node_type_name(e->ours_type));
                        json_kv_string(w, "image_type", node_type_name(e->theirs_type));
                }
                json_end_object(w);
        }
        json_end_array(w);
}

typedef struct Bar {
        bool tty;
        bool plain;
        size_t total;
        struct timespec start;
} Bar;

static void bar_start(Bar *b) {
        clock_gettime(CLOCK_MONOTONIC, &b->start);
}

/* "1.5/s  0:12 left": instances a second so far, and the time the rest take
 * at that rate. */
static void bar_rate(const Bar *b, size_t done, char *buf, size_t len) {
        struct timespec now;
        double elapsed, rate;
        unsigned left;

        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = (double)(now.tv_sec - b->start.tv_sec) +
                  (double)(now.tv_nsec - b->start.tv_nsec) / 1e9;
        rate = elapsed > 0 ? (double)done / elapsed : 0;
        if (done == 0 || rate <= 0) {
                snprintf(buf, len, "-/s");
                return;
        }
        left = (unsigned)((double)(b->total - done) / rate + 0.5);
        snprintf(buf, len, "%.1f/s  %u:%02u left", rate, left / 60, left % 60);
}

/* A one-line bar on a terminal's stderr; it is wiped before anything else is
 * printed, so reports and errors never mix with it. */
static void bar_clear(Bar *b) {
        if (b->tty) {
                fputs("\r\033[K", stderr);
                fflush(stderr);
        }
}

static void bar_draw(Bar *b, size_t done, const char *name) {
        const int width = 30;
        int fill = b->total ? (int)(done * width / b->total) : width;
        char rate[48];

        if (!b->plain && !b->tty)
                return;
        bar_rate(b, done, rate, sizeof rate);
        if (b->plain)
                fprintf(stderr, "upgrade: %zu/%zu  %s  %s\n", done, b->total, rate, name ?: "");
        if (!b->tty)
                return;
        fputs("\r\033[Kupgrade [", stderr);
        for (int k = 0; k < width; k++)
                fputc(k < fill ? '#' : ' ', stderr);
        fprintf(stderr, "] %zu/%zu  %s  %s", done, b->total, rate, name ?: "");
        fflush(stderr);
}

/* Selected instance names: the arguments, every instance, or those linking
 * --from. */
static int select_instances(Store *s, const UpgradeArgs *a, char **names, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        char id[DIGEST_HEX_SIZE];
        int r;

        if (names && names[0]) {
                for (size_t k = 0; names[k]; k++) {
                        r = instance_name_check("upgrade", names[k]);
                        if (r < 0)
                                return r;
                        if (!strv_contains(l, names[k]) && strv_extend(&l, names[k]) < 0)
                                return log_oom();
                }
                /* A name that is no instance is bad input, not one
                 * instance's failure: nothing is done, as rm does. */
                assert(l);
                for (size_t k = 0; l[k]; k++) {
                        _cleanup_(instance_row_freep) InstanceRow *row = NULL;

                        r = catalog_get_instance(store_catalog(s), l[k], &row);
                        if (r == -ENOENT)
                                return log_error_errno(ENOENT, "instance %s: no such instance",
                                                       l[k]);
                        if (r < 0)
                                return r;
                }
        } else if (a->from) {
                r = store_resolve(s, a->from, id); /* logs a missing image */
                if (r < 0)
                        return r;
                r = catalog_image_links(store_catalog(s), id, &l);
                if (r < 0)
                        return r;
        } else {
                InstanceRow **rows = NULL;
                size_t n = 0;

                r = instance_list(s, &rows, &n);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < n && r >= 0; k++)
                        r = strv_extend(&l, rows[k]->name);
                instance_row_list_free(rows, n);
                if (r < 0)
                        return log_oom();
        }
        if (!l && !(l = calloc(1, sizeof(char *))))
                return log_oom();
        *ret = TAKE_PTR(l);
        return 0;
}

static int prune_backups(GlobalOptions *g, Store *s, char **names) {
        JsonWriter w;
        int ret = 0;

        if (g->json) {
                json_init(&w, stdout);
                json_begin_object(&w);
                json_key(&w, "pruned");
                json_begin_array(&w);
        }
        for (size_t k = 0; names[k]; k++) {
                _cleanup_(instance_freep) Instance *inst = NULL;
                int r;

                r = instance_open(s, names[k], &inst);
                if (r >= 0)
                        r = instance_lock(inst, "upgrade", false);
                if (r >= 0)
                        r = backup_prune(s, inst);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                if (r == 0)
                        continue;
                if (g->json)
                        json_string(&w, names[k]);
                else if (!g->quiet)
                        printf("%s: backup dropped\n", names[k]);
        }
        if (g->json) {
                json_end_array(&w);
                json_end_object(&w);
                int r = json_finish(&w);
                ret = ret < 0 ? ret : r;
        }
        return ret < 0 ? -EIO : 0;
}

/* Instances prepared before one sync of the file system. */
#define UPGRADE_BATCH 64

typedef struct Slot {
        Instance *inst;
        MergeReport *rep;
        UpgradePending *pending;
        UpgradeResult res;
        int r;
        char from[IMAGE_ID_LEN + 1];
} Slot;

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

static void print_human(GlobalOptions *g, Store *s, const char *name, const char *from,
                        const char *to, const UpgradeArgs *a, UpgradeResult res,
                        const MergeReport *rep) {
        _cleanup_free_ char *lf = NULL, *lt = NULL;
        size_t kept = 0;

        if (res == UPGRADE_CURRENT) {
                if (!g->quiet)
                        printf("%s: already on %s\n", name, (lt = image_label(s, to)) ?: to);
                return;
        }
        lf = image_label(s, from);
        lt = image_label(s, to);
        if (!g->quiet)
                printf("upgrade %s: %s -> %s, policy %s%s\n", name, lf ?: from, lt ?: to,
                       merge_policy_to_string(a->o.policy), a->o.dry_run ? " (dry run)" : "");
        for (size_t k = 0; k < rep->n_entries; k++) {
                const MergeEntry *e = &rep->entries[k];
                kept += e->outcome == MERGE_KEEP || e->outcome == MERGE_MERGED ||
                        e->outcome == MERGE_CARRY || e->outcome == MERGE_CONFLICT_LOCAL;
        }
        if (!g->quiet)
                (void)merge_report_print(rep, stdout);
        switch (res) {
        case UPGRADE_BLOCKED:
                fflush(stdout);
                log_error("upgrade %s: refused: %zu type conflict%s; nothing changed", name,
                          rep->n_type_conflicts, rep->n_type_conflicts == 1 ? "" : "s");
                break;
        case UPGRADE_DRY_RUN:
                if (!g->quiet)
                        printf("%s: dry run: %zu path%s, %zu conflict%s; nothing changed\n", name,
                               rep->n_entries, rep->n_entries == 1 ? "" : "s", rep->n_conflicts,
                               rep->n_conflicts == 1 ? "" : "s");
                break;
        default:
                if (!g->quiet)
                        printf("%s: upgraded to %s: %zu kept, %zu conflict%s; backup kept for "
                               "rollback\n",
                               name, lt ?: to, kept, rep->n_conflicts,
                               rep->n_conflicts == 1 ? "" : "s");
                break;
        }
}

static const char *result_status(UpgradeResult res) {
        switch (res) {
        case UPGRADE_DONE:
                return "upgraded";
        case UPGRADE_DRY_RUN:
                return "dry-run";
        case UPGRADE_CURRENT:
                return "current";
        case UPGRADE_BLOCKED:
                return "refused";
        }
        return "failed";
}

#define UPGRADE_USAGE                                                                              \
        "upgrade (NAME... | --all | --from IMG) --to IMG [--policy keep-local|merge|theirs]\n"     \
        "                [--dry-run] [--restart] [--json]\n"                                       \
        "       goldroot upgrade --prune-backups [NAME... | --all | --from IMG] [--json]\n"        \
        "\n"                                                                                       \
        "Move instances to another image, merging each one's state three ways.\n"                  \
        "\n"                                                                                       \
        "Options:\n"                                                                               \
        "  --to IMG          the image to move to\n"                                               \
        "  --all             every instance\n"                                                     \
        "  --from IMG        every instance that links IMG\n"                                      \
        "  --policy POLICY   conflicts: keep-local (the default), merge or theirs\n"               \
        "  --dry-run         only report what would happen\n"                                      \
        "  --restart         stop a running instance and start it again on the new image\n"        \
        "  --prune-backups   drop the rollback backups instead\n"                                  \
        "  --json            a JSON report (docs/json/upgrade.schema.json)\n"

int verb_upgrade(int argc, char **argv, GlobalOptions *g) {
        static const struct option options[] = {
                {"to", required_argument, NULL, ARG_TO},
                {"from", required_argument, NULL, ARG_FROM},
                {"all", no_argument, NULL, ARG_ALL},
                {"policy", required_argument, NULL, ARG_POLICY},
                {"dry-run", no_argument, NULL, ARG_DRY_RUN},
                {"restart", no_argument, NULL, ARG_RESTART},
                {"prune-backups", no_argument, NULL, ARG_PRUNE},
                {},
        };
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(upgrade_cache_freep) UpgradeCache *cache = NULL;
        _cleanup_strv_free_ char **names = NULL, **failed = NULL;
        UpgradeArgs a = {.o.policy = MERGE_POLICY_KEEP_LOCAL};
        char to[DIGEST_HEX_SIZE];
        Bar bar = {};
        JsonWriter w;
        int i, r, selections;
        size_t n, done = 0;

        i = parse_verb(argc, argv, g, "upgrade", UPGRADE_USAGE, NULL, options, take_upgrade, &a);
        if (i < 0)
                return verb_result(i);
        selections = (argc - i > 0) + a.all + !!a.from;
        if (selections > 1)
                return cli_usage_error("upgrade", "give NAME..., --all or --from IMG, not several");
        if (a.prune) {
                if (a.to || a.o.dry_run || a.o.restart)
                        return cli_usage_error("upgrade",
                                               "--prune-backups takes no --to, --dry-run or "
                                               "--restart");
        } else {
                if (selections == 0)
                        return cli_usage_error("upgrade", "give NAME..., --all or --from IMG");
                if (!a.to)
                        return cli_usage_error("upgrade", "--to IMG is required");
        }
        r = store_open(g->store, STORE_SHARED, &s);
        if (r < 0)
                return r;
        r = select_instances(s, &a, argc - i > 0 ? argv + i : NULL, &names);
        if (r < 0)
                return r;
        if (a.prune)
                return prune_backups(g, s, names);

        r = store_resolve(s, a.to, to); /* logs a missing image */
        if (r < 0)
                return r;
        r = upgrade_cache_new(s, &cache);
        if (r < 0)
                return r;

        n = strv_length(names);
        bar.total = n;
        bar.tty = n > 1 && !g->quiet && isatty(STDERR_FILENO);
        bar.plain = n > 1 && !bar.tty && g->verbose > 0;
        bar_start(&bar);
        if (g->json) {
                json_init(&w, stdout);
                json_begin_object(&w);
                json_kv_string(&w, "to", to);
                json_kv_string(&w, "policy", merge_policy_to_string(a.o.policy));
                json_kv_bool(&w, "dry_run", a.o.dry_run);
                json_key(&w, "instances");
                json_begin_array(&w);
        }
        /* In batches: every state of a batch is prepared, then one sync makes
         * them all durable, then each switch is committed in turn. */
        r = 0;
        for (size_t k0 = 0; k0 < n; k0 += UPGRADE_BATCH) {
                Slot slots[UPGRADE_BATCH] = {};
                size_t nb = MIN(n - k0, (size_t)UPGRADE_BATCH);
                bool any = false;
                int rs = 0;

                for (size_t j = 0; j < nb; j++) {
                        Slot *sl = &slots[j];

                        bar_draw(&bar, done, names[k0 + j]);
                        sl->r = instance_open(s, names[k0 + j], &sl->inst);
                        if (sl->r >= 0) {
                                snprintf(sl->from, sizeof sl->from, "%s", sl->inst->row->image);
                                sl->r = instance_lock(sl->inst, "upgrade", false);
                        }
                        bar_clear(&bar);
                        if (sl->r >= 0)
                                sl->r = upgrade_prepare(cache, sl->inst, to, &a.o, &sl->res,
                                                        &sl->rep, &sl->pending);
                        any = any || sl->pending;
                }
                if (any)
                        rs = upgrade_sync(s);
                for (size_t j = 0; j < nb; j++) {
                        Slot *sl = &slots[j];
                        const char *name = names[k0 + j];

                        if (sl->pending && sl->r >= 0)
                                sl->r = rs < 0 ? rs : upgrade_finish(cache, sl->pending);
                        bar_clear(&bar);
                        if (sl->r < 0 || sl->res == UPGRADE_BLOCKED)
                                if (strv_extend(&failed, name) < 0)
                                        r = log_oom();
                        if (g->json) {
                                json_begin_object(&w);
                                json_kv_string(&w, "name", name);
                                json_kv_string(&w, "from", sl->from[0] ? sl->from : NULL);
                                json_kv_string(&w, "status",
                                               sl->r < 0 ? "failed" : result_status(sl->res));
                                if (sl->r < 0)
                                        json_kv_string(&w, "error", strerror(-sl->r));
                                if (sl->rep && sl->r >= 0) {
                                        json_kv_uint(&w, "conflicts", sl->rep->n_conflicts);
                                        json_kv_uint(&w, "type_conflicts",
                                                     sl->rep->n_type_conflicts);
                                        json_report_entries(&w, sl->rep);
                                }
                                json_end_object(&w);
                        } else if (sl->r >= 0)
                                print_human(g, s, name, sl->from, to, &a, sl->res, sl->rep);
                        fflush(stdout);
                        done++;
                        bar_draw(&bar, done, name);
                        upgrade_pending_free(sl->pending);
                        merge_report_free(sl->rep);
                        instance_free(sl->inst);
                        if (done == 1)
                                crash_point("upgrade-all-between-instances");
                }
                if (r == -ENOMEM)
                        return r;
        }
        bar_draw(&bar, done, NULL);
        bar_clear(&bar);
        if (g->json) {
                json_end_array(&w);
                json_key(&w, "failed");
                json_begin_array(&w);
                for (size_t k = 0; failed && failed[k]; k++)
                        json_string(&w, failed[k]);
                json_end_array(&w);
                json_end_object(&w);
                r = json_finish(&w);
                if (r < 0)
                        return r;
        } else if (n > 1) {
                size_t nf = strv_length(failed);
                printf("%zu of %zu instance%s %s", n - nf, n, n == 1 ? "" : "s",
                       a.o.dry_run ? "can be upgraded" : "upgraded or current");
                if (nf > 0) {
                        printf("; failed:");
                        for (size_t k = 0; failed[k]; k++)
                                printf(" %s", failed[k]);
                }
                printf("\n");
        }
        /* Each failure was reported where it happened. */
        return failed ? -EIO : 0;
}
