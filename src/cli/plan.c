/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan: `goldroot plan (NAME | --profile FILE) [--dot]` prints the ordered
 * mount plan of a profile, or its dependency graph for Graphviz, without
 * mounting anything.
 */
#include "cli.h"
#include "plan.h"
#include "profile.h"

static void plan_help(FILE *out) {
        fprintf(out,
                "Usage: goldroot plan (NAME | --profile FILE) [--dot] [--name N] [--hostname H]\n"
                "                     [--image-id ID]\n"
                "\n"
                "Print the ordered mount plan: one line per mount operation with its resolved\n"
                "source, target and flags. Nothing is mounted.\n"
                "\n"
                "Options:\n"
                "  --profile FILE  plan this profile file (looked up like an include)\n"
                "  --dot           print the dependency graph in Graphviz dot syntax\n"
                "  --name N        %%n (default: the profile's name)\n"
                "  --hostname H    %%h (default: the name)\n"
                "  --image-id ID   %%i (default: none, so %%i is an error)\n"
                "  -h, --help      this help\n"
                "\n"
                "See goldroot-mount(1) and goldroot-profile(5).\n" CLI_HELP_GLOBALS);
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
        _cleanup_free_ char *default_name = NULL;
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
        if (!profile) {
                if (optind >= argc)
                        return cli_usage_error("plan", "missing instance NAME or --profile FILE");
                if (optind + 1 < argc)
                        return cli_usage_error("plan", "unexpected argument '%s'",
                                               argv[optind + 1]);
                return log_error_errno(EOPNOTSUPP,
                                       "plan: instance '%s': instances are not available yet, "
                                       "use --profile FILE",
                                       argv[optind]);
        }
        if (optind < argc)
                return cli_usage_error("plan", "unexpected argument '%s'", argv[optind]);
        if (isempty(profile))
                return cli_usage_error("plan", "--profile needs a file name");

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
        if (dot)
                plan_print_dot(plan, stdout);
        else
                plan_print(plan, stdout);
        if (fflush(stdout) != 0)
                return log_error_errno(errno, "plan: cannot write the plan: %m");
        return 0;
}
