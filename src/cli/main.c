/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main: global options, verb dispatch and the mapping from -errno to exit
 * status (0 success, 1 operational failure, 2 bad usage or bad input).
 */
#include "cli.h"
#include "store.h"

#include <stdarg.h>

#ifndef GOLDROOT_VERSION
#define GOLDROOT_VERSION "0"
#endif

static const struct {
        const char *name;
        VerbFunction fn;
        const char *summary;
} verbs[] = {
        {"image", verb_image, "manage gold images in the store"},
        {"mount", verb_mount, "assemble a profile onto a host directory"},
        {"umount", verb_umount, "take down an assembly made by mount"},
        {"plan", verb_plan, "print the ordered mount plan or its graph"},
        {"create", verb_create, "create an instance of an image"},
        {"start", verb_start, "start an instance, detached"},
        {"run", verb_run, "create and run an instance in the foreground"},
        {"exec", verb_exec, "run a command inside a running instance"},
        {"stop", verb_stop, "stop an instance"},
        {"ls", verb_ls, "list instances"},
        {"status", verb_status, "show an instance's state"},
        {"rm", verb_rm, "remove an instance"},
        {"personalize", verb_personalize, "do (or redo) an instance's first-start work"},
        {"diff", verb_diff, "show an instance's local changes against its image"},
        {"upgrade", verb_upgrade, "move instances to another image, merging their state"},
        {"rollback", verb_rollback, "undo an instance's last upgrade"},
        {"commit", verb_commit, "freeze an instance into a new image version"},
        {"fsck", verb_fsck, "check the catalog against the store and the instance states"},
        {"oci-bundle", verb_oci_bundle, "write an instance as an OCI runtime bundle"},
};

static void help(FILE *out) {
        fprintf(out, "Usage: goldroot [--store DIR] [--json] [-q] [-v] COMMAND [ARGS...]\n"
                     "\n"
                     "Run many Linux instances from one shared, versioned, read-only image.\n"
                     "\n"
                     "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(out, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(out, "\n"
                     "Options:\n"
                     "  --store DIR  the store (default $GOLDROOT_STORE or /var/lib/goldroot)\n"
                     "  --json       machine-readable output\n"
                     "  -q, --quiet  less output\n"
                     "  -v, --verbose  more output (repeat for debug)\n"
                     "  -h, --help   this help\n"
                     "  --version    print the version\n"
                     "\n"
                     "See goldroot(1) and goldroot-profile(5).\n");
}

int(cli_usage_error)(const char *verb, const char *fmt, ...) {
        char buf[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        return log_error_errno(EINVAL, "%s: %s", verb, buf);
}

/* What getopt_long() stumbled on, named as the user typed it: optopt is 0
 * for an unknown long option and the option's value for one whose argument
 * is missing or not allowed; a short option may sit inside a cluster, where
 * argv[optind - 1] is not it. */
static void bad_option(int c, char **argv, char *buf, size_t size, bool *ret_value) {
        const char *arg = optind > 1 ? argv[optind - 1] : "";
        bool is_long = startswith(arg, "--");

        *ret_value = c == ':' || (optopt != 0 && is_long && strchr(arg, '='));
        if (optopt > 0 && optopt < 0x100 && !(is_long && (c == ':' || strchr(arg, '='))))
                snprintf(buf, size, "-%c", optopt);
        else
                snprintf(buf, size, "%.*s", (int)strcspn(arg, "="), arg);
}

int(cli_option_error)(const char *verb, int c, char **argv) {
        char opt[256], msg[320];
        bool value;

        bad_option(c, argv, opt, sizeof opt, &value);
        if (!value)
                snprintf(msg, sizeof msg, "unknown option '%s'", opt);
        else if (c == ':')
                snprintf(msg, sizeof msg, "option '%s' needs a value", opt);
        else
                snprintf(msg, sizeof msg, "option '%s' takes no value", opt);
        if (!verb)
                return log_error_errno(EINVAL, "%s; see 'goldroot --help'", msg);
        return log_error_errno(EINVAL, "%s: %s; see 'goldroot %s --help'", verb, msg, verb);
}

bool cli_global_option(int c, GlobalOptions *g) {
        switch (c) {
        case ARG_GLOBAL_STORE:
                g->store = optarg;
                return true;
        case ARG_GLOBAL_JSON:
                g->json = true;
                return true;
        case 'q':
                g->quiet = true;
                log_set_max_level(LOG_ERR);
                return true;
        case 'v':
                g->verbose++;
                log_set_max_level(g->verbose > 1 ? LOG_DEBUG : LOG_INFO);
                return true;
        default:
                return false;
        }
}

static int exit_status(int r) {
        if (r >= 0)
                return r; /* verbs such as run pass a status through */
        return error_is_bad_input(r) ? 2 : 1;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                CLI_GLOBAL_LONGOPTIONS,
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_GLOBAL_HELP},
                {},
        };
        GlobalOptions g = {};
        const char *env;
        int c;

        /* Only image import makes a missing store (cmd_import). */
        store_set_may_create(false);
        env = getenv("GOLDROOT_STORE");
        g.store = isempty(env) ? "/var/lib/goldroot" : env;

        /* '+': stop at the verb; its own options are its business. ':' (and
         * opterr = 0): one error line, ours. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:hqv", options, NULL)) >= 0) {
                if (cli_global_option(c, &g))
                        continue;
                switch (c) {
                case 'h':
                        help(stdout);
                        return 0;
                case ARG_GLOBAL_HELP:
                        printf("goldroot %s\n", GOLDROOT_VERSION);
                        return 0;
                default:
                        (void)cli_option_error(NULL, c, argv);
                        return 2;
                }
        }
        if (optind >= argc) {
                help(stderr);
                return 2;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name)) {
                        int verb_argc = argc - optind;
                        char **verb_argv = argv + optind;

                        /* Each verb runs getopt_long over its own argv. */
                        optind = 0;
                        return exit_status(verbs[i].fn(verb_argc, verb_argv, &g));
                }
        fprintf(stderr, "goldroot: unknown command '%s': see 'goldroot --help'\n", argv[optind]);
        return 2;
}
