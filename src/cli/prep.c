/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prep: `goldroot image prep IMG NAME:TAG [--ops LIST] [--list]`, the
 * sysprep operations of prep.h into a new image version.
 */
#include "cli.h"
#include "instance-cli.h"
#include "json.h"
#include "prep.h"

enum {
        ARG_OPS = ARG_VERB_BASE + 0x80,
        ARG_LIST,
};

typedef struct PrepArgs {
        const char *ops;
        bool list;
} PrepArgs;

static int take_prep(int c, void *userdata) {
        PrepArgs *a = userdata;

        switch (c) {
        case ARG_OPS:
                a->ops = optarg;
                return 1;
        case ARG_LIST:
                a->list = true;
                return 1;
        default:
                return 0;
        }
}

static int list_ops(GlobalOptions *g) {
        const PrepOp *ops;
        size_t n;

        ops = prep_ops(&n);
        if (g->json) {
                JsonWriter w;
                json_init(&w, stdout);
                json_begin_array(&w);
                for (size_t k = 0; k < n; k++) {
                        json_begin_object(&w);
                        json_kv_string(&w, "name", ops[k].name);
                        json_kv_string(&w, "removes", ops[k].removes);
                        json_end_object(&w);
                }
                json_end_array(&w);
                return json_finish(&w);
        }
        for (size_t k = 0; k < n; k++)
                printf("%-15s %s\n", ops[k].name, ops[k].removes);
        return 0;
}

#define PREP_USAGE                                                                                 \
        "image prep IMG NAME:TAG [--ops OP,...] [--json]\n"                                        \
        "       goldroot image prep --list [--json]\n"                                             \
        "\n"                                                                                       \
        "Run the sysprep operations on IMG into a new version tagged NAME:TAG.\n"                  \
        "\n"                                                                                       \
        "Options:\n"                                                                               \
        "  --ops OP,...  run only these operations (see --list)\n"                                 \
        "  --list        list the operations and what each removes\n"                              \
        "  --json        a JSON report (docs/json/image-prep.schema.json)\n"

int image_prep_command(int argc, char **argv, GlobalOptions *g) {
        static const struct option options[] = {
                {"ops", required_argument, NULL, ARG_OPS},
                {"list", no_argument, NULL, ARG_LIST},
                {},
        };
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *name = NULL, *tag = NULL;
        _cleanup_(prep_result_done) PrepResult res = {};
        char id[DIGEST_HEX_SIZE];
        PrepArgs a = {};
        unsigned mask;
        int i, r;

        i = parse_verb(argc, argv, g, "image prep", PREP_USAGE, NULL, options, take_prep, &a);
        if (i < 0)
                return verb_result(i);
        if (a.list)
                return argc - i == 0 ? list_ops(g)
                                     : cli_usage_error("image", "prep --list takes no arguments");
        if (argc - i != 2)
                return cli_usage_error("image", "prep: expected IMG NAME:TAG");
        r = prep_ops_parse(a.ops, &mask);
        if (r < 0)
                return r;
        r = image_ref_parse_tag(argv[i + 1], &name, &tag);
        if (r < 0)
                return r;
        r = store_open(g->store, STORE_SHARED, &s);
        if (r < 0)
                return r;
        r = store_resolve(s, argv[i], id); /* logs a missing image */
        if (r < 0)
                return r;
        r = image_prep(s, id, mask, name, tag, &res);
        if (r < 0)
                return r;
        if (g->json) {
                JsonWriter w;
                json_init(&w, stdout);
                json_begin_object(&w);
                json_kv_string(&w, "id", res.id);
                json_kv_string(&w, "parent", id);
                json_key(&w, "actions");
                json_begin_array(&w);
                for (size_t k = 0; k < res.n_actions; k++) {
                        json_begin_object(&w);
                        json_kv_string(&w, "path", res.actions[k].path);
                        json_kv_string(&w, "op", res.actions[k].op);
                        json_kv_string(&w, "action", res.actions[k].action);
                        json_end_object(&w);
                }
                json_end_array(&w);
                json_end_object(&w);
                return json_finish(&w);
        }
        if (g->quiet)
                return 0;
        for (size_t k = 0; k < res.n_actions; k++)
                printf("%s %s (%s)\n", res.actions[k].action, res.actions[k].path,
                       res.actions[k].op);
        printf("prepared %s as %s:%s (%.12s): %zu path%s\n", argv[i], name, tag, res.id,
               res.n_actions, res.n_actions == 1 ? "" : "s");
        return 0;
}
