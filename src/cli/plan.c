/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan: `goldroot plan (NAME | --profile FILE) [--dot | --json]` prints the
 * ordered mount plan of a profile or of an instance, or its dependency graph
 * for Graphviz, without mounting anything.
 */
#include "cli.h"
#include "instance-cli.h"
#include "instance.h"
#include "plan.h"
#include "profile.h"

static void plan_help(FILE *out) {
        fprintf(out,
                "Usage: goldroot plan --profile FILE [--dot | --json] [--name N] [--hostname H]\n"
                "                     [--image-id ID]\n"
                "       goldroot plan NAME [--dot | --json]\n"
                "\n"
                "Print the ordered mount plan of a profile or of instance NAME: one line per\n"
                "mount operation with its resolved source, target and flags. Nothing is\n"
                "mounted.\n"
                "\n"
                "Options:\n"
                "  --profile FILE  the profile: a file, or a name on the profile search path\n"
                "  --dot           print the dependency graph in Graphviz dot syntax\n"
                "  --json          a JSON array (docs/json/plan.schema.json)\n"
                "  --name N        %%n (default: the profile's name)\n"
                "  --hostname H    %%h (default: the name)\n"
                "  --image-id ID   %%i (default: none, so %%i is an error)\n"
                "  -h, --help      this help\n"
                "\n"
                "See goldroot-mount(1) and goldroot-profile(5).\n" CLI_HELP_GLOBALS);
}

static int print_plan(const Plan *plan, bool dot, bool json) {
        int r = 0;

        if (json)
                r = plan_print_json(plan, stdout);
        else if (dot)
                plan_print_dot(plan, stdout);
        else
                plan_print(plan, stdout);
        if (r < 0 || fflush(stdout) != 0)
                return log_error_errno(r < 0 ? r : errno, "plan: cannot write the plan: %m");
        return 0;
}

/* The plan `goldroot start NAME` would apply: the instance's profile, with
 * its own name, hostname and image id. The plan points into the set. */
static int plan_instance(GlobalOptions *g, const char *name, ProfileSet **ret_set, Plan **ret) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(instance_freep) Instance *inst = NULL;
        int r;

        r = cli_open_instance(g, "plan", name, STORE_SHARED, &s, &inst);
        if (r < 0)
                return r;
        return instance_plan(inst, ret_set, ret);
}

int verb_plan(int argc, char **argv, GlobalOptions *g) {
        enum {
                ARG_PROFILE = ARG_VERB_BASE,
                ARG_DOT,
                ARG_NAME,
                ARG_HOSTNAME,
                ARG_IMAGE_ID,
        };
        static const struct option options[] = {
                CLI_GLOBAL_LONGOPTIONS,
                {"help", no_argument, NULL, 'h'},
                {"profile", required_argument, NULL, ARG_PROFILE},
                {"dot", no_argument, NULL, ARG_DOT},
                {"name", required_argument, NULL, ARG_NAME},
                {"hostname", required_argument, NULL, ARG_HOSTNAME},
                {"image-id", required_argument, NULL, ARG_IMAGE_ID},
                {},
        };
        const char *profile = NULL, *name = NULL, *hostname = NULL, *image_id = NULL;
        _cleanup_strv_free_ char **search_path = NULL;
        _cleanup_(profile_set_freep) ProfileSet *set = NULL;
        _cleanup_(plan_freep) Plan *plan = NULL;
        _cleanup_free_ char *default_name = NULL, *file = NULL;
        bool dot = false;
        PlanContext ctx;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":hqv", options, NULL)) >= 0) {
                if (cli_global_option(c, g))
                        continue;
                switch (c) {
                case 'h':
                        plan_help(stdout);
                        return 0;
                case ARG_PROFILE:
                        profile = optarg;
                        break;
                case ARG_DOT:
                        dot = true;
                        break;
                case ARG_NAME:
                        name = optarg;
                        break;
                case ARG_HOSTNAME:
                        hostname = optarg;
                        break;
                case ARG_IMAGE_ID:
                        image_id = optarg;
                        break;
                case ':':
                        return cli_usage_error("plan", "option '%s' needs a value",
                                               argv[optind - 1]);
                default:
                        return cli_usage_error("plan", "unknown option '%s'", argv[optind - 1]);
                }
        }

        if (profile && optind < argc)
                return cli_usage_error("plan", "give an instance NAME or --profile FILE, not both");
        if (dot && g->json)
                return cli_usage_error("plan", "give --dot or --json, not both");
        if (!profile) {
                if (optind >= argc)
                        return cli_usage_error("plan", "missing instance NAME or --profile FILE");
                if (optind + 1 < argc)
                        return cli_usage_error("plan", "unexpected argument '%s'",
                                               argv[optind + 1]);
                if (name || hostname || image_id)
                        return cli_usage_error("plan", "--name, --hostname and --image-id go with "
                                                       "--profile; an instance has its own");
                r = plan_instance(g, argv[optind], &set, &plan);
                if (r < 0)
                        return r;
                return print_plan(plan, dot, g->json);
        }
        if (optind < argc)
                return cli_usage_error("plan", "unexpected argument '%s'", argv[optind]);
        if (isempty(profile))
                return cli_usage_error("plan", "--profile needs a file name");

        r = profile_find(profile, &file);
        if (r < 0)
                return r;
        profile = file;
        if (!name) {
                default_name = profile_name_from_path(profile);
                if (!default_name)
                        return log_oom();
                name = default_name;
        }
        r = profile_default_search_path(profile, &search_path);
        if (r < 0)
                return log_oom();
        r = profile_set_load(profile, search_path, &set);
        if (r < 0)
                return r;

        ctx = (PlanContext){
                .placeholders = {.name = name,
                                 .hostname = hostname ? hostname : name,
                                 .image_id = image_id},
                .have_image = true,
                .have_state = true,
        };
        r = plan_build(set, &ctx, &plan);
        if (r < 0)
                return r;
        return print_plan(plan, dot, g->json);
}
