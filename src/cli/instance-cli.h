/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * instance-cli: what `create` (instance.c) and `run` (run.c) share: the
 * identity options and creating an instance from them.
 */
#pragma once

#include "cli.h"
#include "store.h"

typedef struct CreateOptions {
        const char *image;
        const char *mode;
        const char *profile;
        const char *hostname;
        const char *ip;
        const char *gateway;
        const char *net;
        char **dns;
        char **set;
        bool privileged;
} CreateOptions;

enum {
        ARG_CREATE_IMAGE = ARG_VERB_BASE + 0x40,
        ARG_CREATE_MODE,
        ARG_CREATE_PROFILE,
        ARG_CREATE_HOSTNAME,
        ARG_CREATE_IP,
        ARG_CREATE_GATEWAY,
        ARG_CREATE_DNS,
        ARG_CREATE_SET,
        ARG_CREATE_NET,
        ARG_CREATE_PRIVILEGED,
};

#define CREATE_LONGOPTIONS                                                                         \
        {"image", required_argument, NULL, ARG_CREATE_IMAGE},                                      \
                {"mode", required_argument, NULL, ARG_CREATE_MODE},                                \
                {"profile", required_argument, NULL, ARG_CREATE_PROFILE},                          \
                {"hostname", required_argument, NULL, ARG_CREATE_HOSTNAME},                        \
                {"ip", required_argument, NULL, ARG_CREATE_IP},                                    \
                {"gateway", required_argument, NULL, ARG_CREATE_GATEWAY},                          \
                {"dns", required_argument, NULL, ARG_CREATE_DNS},                                  \
                {"set", required_argument, NULL, ARG_CREATE_SET},                                  \
                {"net", required_argument, NULL, ARG_CREATE_NET}, {                                \
                "privileged", no_argument, NULL, ARG_CREATE_PRIVILEGED                             \
        }

/* Takes option c (with optarg) if it is one of CREATE_LONGOPTIONS: 1 if it
 * did, 0 if c is not one, -errno on failure. */
/* The --help lines of the options create and run share (all but --image). */
#define CREATE_OPTIONS_HELP                                                                        \
        "  --mode MODE          ro (the default), rw or volatile\n"                                \
        "  --profile FILE       a profile (a file, or a name on the profile search path)\n"        \
        "                       instead of the mode's built-in one\n"                              \
        "  --hostname H         the hostname (default: NAME)\n"                                    \
        "  --ip ADDR/PREFIX     the instance's address\n"                                          \
        "  --gateway ADDR       its default route\n"                                               \
        "  --dns ADDR           a name server (repeatable)\n"                                      \
        "  --net NET            none, host or bridge:BR\n"                                         \
        "  --privileged         keep every capability, /proc unmasked and /sys writable\n"         \
        "  --set KEY=VALUE      an extra identity key for the first-start hooks (repeatable)\n"

int create_option(int c, CreateOptions *o);
void create_options_done(CreateOptions *o);

/* Validates the options and makes the identity of instance name, with a
 * fresh machine id. verb names the command in messages. */
struct Identity;
int create_identity(const char *verb, const char *name, const CreateOptions *o,
                    struct Identity **ret);
/* The same, then creates the instance from image_id (already resolved). */
int create_instance(Store *s, const char *verb, const char *name, const char *image_id,
                    const CreateOptions *o);

/* Runs getopt over argv with the global options, the short options in
 * shorts, and own (taken by take: 1 if it took the option, 0 if not, or
 * -errno). Returns the index of the first positional argument, -ECANCELED
 * after --help (see verb_result()), or -EINVAL. */
int parse_verb(int argc, char **argv, GlobalOptions *g, const char *verb, const char *usage,
               const char *shorts, const struct option *own, int (*take)(int c, void *userdata),
               void *userdata);
/* 0 for -ECANCELED (--help was shown), else r. */
int verb_result(int r);

/* Checks name, opens the store with lock and the instance in it (unlocked). */
struct Instance;
int cli_open_instance(GlobalOptions *g, const char *verb, const char *name, StoreLock lock,
                      Store **ret_store, struct Instance **ret);
/* The same, or if the catalog has no instance of that name, a named run
 * --rm of the store that is running (for ls, status, exec and stop). */
int cli_open_instance_or_run(GlobalOptions *g, const char *verb, const char *name, StoreLock lock,
                             Store **ret_store, struct Instance **ret);
