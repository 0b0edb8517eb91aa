/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cli: what the command-group files share: the global options and the verb
 * signature. Each group lives in its own file and only parses its own options.
 */
#pragma once

#include "util.h"

#include <getopt.h>

typedef struct GlobalOptions {
        const char *store; /* --store, $GOLDROOT_STORE, or /var/lib/goldroot */
        bool json;
        bool quiet;
        int verbose;
} GlobalOptions;

/* argv[0] is the verb itself ("mount", "image", ...). Returns 0 or -errno; main
 * turns that into the exit status (2 for bad input, 1 otherwise). A verb may
 * also return a positive exit status directly (for example `run`). Usage errors
 * are logged by the verb and returned as -EINVAL. */
typedef int (*VerbFunction)(int argc, char **argv, GlobalOptions *g);

int verb_mount(int argc, char **argv, GlobalOptions *g);
int verb_umount(int argc, char **argv, GlobalOptions *g);
int verb_plan(int argc, char **argv, GlobalOptions *g);
int verb_image(int argc, char **argv, GlobalOptions *g);
int verb_create(int argc, char **argv, GlobalOptions *g);
int verb_rm(int argc, char **argv, GlobalOptions *g);
int verb_ls(int argc, char **argv, GlobalOptions *g);
int verb_status(int argc, char **argv, GlobalOptions *g);
int verb_personalize(int argc, char **argv, GlobalOptions *g);
int verb_start(int argc, char **argv, GlobalOptions *g);
int verb_run(int argc, char **argv, GlobalOptions *g);
int verb_exec(int argc, char **argv, GlobalOptions *g);
int verb_stop(int argc, char **argv, GlobalOptions *g);
int verb_diff(int argc, char **argv, GlobalOptions *g);
int verb_upgrade(int argc, char **argv, GlobalOptions *g);
int verb_rollback(int argc, char **argv, GlobalOptions *g);
int verb_commit(int argc, char **argv, GlobalOptions *g);
int verb_fsck(int argc, char **argv, GlobalOptions *g);
int verb_oci_bundle(int argc, char **argv, GlobalOptions *g);
/* `goldroot image prep` (prep.c), a sub-command of image.c's table. */
int image_prep_command(int argc, char **argv, GlobalOptions *g);

/* Every verb's --help is "Usage: goldroot SYNOPSIS", a blank line, a short
 * description and an "Options:" list with one "  --opt ARG  text" line per
 * option the verb takes; tests/cli/docs-help.bats compares that list with the
 * verb's man page, and completion/goldroot.bash completes from it. The
 * global options are only named at the end. */
#define CLI_HELP_GLOBALS "\nGlobal options: --store DIR, -q, -v, -h (see goldroot --help).\n"

/* The length of a help text's synopsis: everything before its first blank
 * line, which is what a usage error repeats. */
static inline int cli_usage_length(const char *help) {
        const char *e = strstr(help, "\n\n");
        return e ? (int)(e - help) : (int)strlen(help);
}

/* A usage error: logs "goldroot: <verb>: <message>" and returns -EINVAL. */
int cli_usage_error(const char *verb, const char *fmt, ...) _printf_(2, 3);
#define cli_usage_error(...) ERRNO_RESULT((cli_usage_error)(__VA_ARGS__))

/* An option getopt_long() refused (c is '?' or ':', with ':' leading the
 * optstring and opterr = 0, so that getopt says nothing itself): logs
 * "goldroot: <verb>: unknown option '--x'; see 'goldroot <verb> --help'" (or
 * "needs a value", "takes no value") and returns -EINVAL. verb may be NULL. */
int cli_option_error(const char *verb, int c, char **argv);
#define cli_option_error(...) ERRNO_RESULT((cli_option_error)(__VA_ARGS__))

/* The global options are accepted after the verb too, so that
 * `goldroot image ls --json` works like `goldroot --json image ls`. Put
 * CLI_GLOBAL_LONGOPTIONS in each verb's option table and "qv" in its short
 * options, and pass unknown option characters to cli_global_option(), which
 * returns true if it took the option. */
enum {
        ARG_GLOBAL_STORE = 0x1000,
        ARG_GLOBAL_JSON,
        ARG_GLOBAL_HELP,
        ARG_VERB_BASE = 0x1100, /* verbs number their own long-only options from here */
};
#define CLI_GLOBAL_LONGOPTIONS                                                                     \
        {"store", required_argument, NULL, ARG_GLOBAL_STORE},                                      \
                {"json", no_argument, NULL, ARG_GLOBAL_JSON}, {"quiet", no_argument, NULL, 'q'}, { \
                "verbose", no_argument, NULL, 'v'                                                  \
        }
bool cli_global_option(int c, GlobalOptions *g);
