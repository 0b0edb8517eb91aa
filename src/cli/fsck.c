/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fsck: `goldroot fsck [--repair] [--full] [--json]`, over lib/fsck.
 * One line per problem on stderr ("goldroot: fsck: WHAT: WHY"); exit status 1
 * while problems remain.
 */
#include "cli.h"
#include "fsck.h"
#include "instance-cli.h"
#include "json.h"

#include <inttypes.h>

enum {
        ARG_FSCK_REPAIR = ARG_VERB_BASE,
        ARG_FSCK_FULL,
};

static int take_fsck(int c, void *userdata) {
        FsckOptions *o = userdata;

        switch (c) {
        case ARG_FSCK_REPAIR:
                o->repair = true;
                return 1;
        case ARG_FSCK_FULL:
                o->full = true;
                return 1;
        default:
                return 0;
        }
}

int verb_fsck(int argc, char **argv, GlobalOptions *g) {
        static const struct option own[] = {
                {"repair", no_argument, NULL, ARG_FSCK_REPAIR},
                {"full", no_argument, NULL, ARG_FSCK_FULL},
                {},
        };
        _cleanup_(store_freep) Store *s = NULL;
        FsckOptions o = {};
        FsckReport rep = {};
        size_t remaining;
        int i, r;

        i = parse_verb(argc, argv, g, "fsck",
                       "fsck [--repair] [--full] [--json]\n\n"
                       "Check the catalog against the store and the instance states.\n\n"
                       "Options:\n"
                       "  --repair  fix what is safely repairable (never deletes instance state)\n"
                       "  --full    hash every object, not a sample of 64\n"
                       "  --json    a JSON report (docs/json/fsck.schema.json)\n",
                       NULL, own, take_fsck, &o);
        if (i < 0)
                return verb_result(i);
        if (argc - i != 0)
                return cli_usage_error("fsck", "unexpected argument '%s'", argv[i]);
        /* Exclusive: nothing is built, upgraded or removed while we look. */
        r = store_open(g->store, STORE_EXCLUSIVE, &s);
        if (r < 0)
                return r;
        r = fsck_run(s, &o, &rep);
        if (r < 0) {
                fsck_report_done(&rep);
                return r;
        }
        for (size_t k = 0; k < rep.n; k++)
                log_error("fsck: %s: %s", rep.problems[k].what, rep.problems[k].why);
        remaining = fsck_report_remaining(&rep);
        if (g->json) {
                JsonWriter w;

                json_init(&w, stdout);
                json_begin_object(&w);
                json_kv_uint(&w, "images", rep.images_checked);
                json_kv_uint(&w, "instances", rep.instances_checked);
                json_kv_uint(&w, "objects_checked", rep.objects_checked);
                json_key(&w, "problems");
                json_begin_array(&w);
                for (size_t k = 0; k < rep.n; k++) {
                        json_begin_object(&w);
                        json_kv_string(&w, "what", rep.problems[k].what);
                        json_kv_string(&w, "why", rep.problems[k].why);
                        json_kv_bool(&w, "repaired", rep.problems[k].repaired);
                        json_end_object(&w);
                }
                json_end_array(&w);
                json_kv_uint(&w, "remaining", remaining);
                json_end_object(&w);
                r = json_finish(&w);
        } else if (!g->quiet)
                printf("fsck: %" PRIu64 " images, %" PRIu64 " instances, %" PRIu64
                       " objects hashed: %zu problems, %zu repaired\n",
                       rep.images_checked, rep.instances_checked, rep.objects_checked, rep.n,
                       rep.n - remaining);
        fsck_report_done(&rep);
        if (r < 0)
                return r;
        return remaining > 0 ? 1 : 0;
}
