/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run: start, run, exec and stop, over the instance library.
 */
#include "cli.h"
#include "instance-cli.h"
#include "instance.h"

/* Cuts argv at the first "--": the options and positionals before it stay
 * in argv (NULL-terminated at the cut), the command after it is returned. */
static char **split_command(int *argc, char **argv) {
        for (int k = 1; k < *argc; k++)
                if (streq(argv[k], "--")) {
                        char **cmd = argv + k + 1;
                        argv[k] = NULL;
                        *argc = k;
                        return cmd[0] ? cmd : NULL;
                }
        return NULL;
}

int verb_start(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(instance_freep) Instance *inst = NULL;
        char **cmd;
        int i, r;

        cmd = split_command(&argc, argv);
        i = parse_verb(argc, argv, g, "start",
                       "start NAME [-- CMD ARG...]\n\n"
                       "Start an instance, detached, with the profile's init or CMD.\n",
                       NULL, NULL, NULL, NULL);
        if (i < 0)
                return verb_result(i);
        if (argc - i != 1)
                return cli_usage_error("start", "expected one NAME");
        r = cli_open_instance(g, "start", argv[i], STORE_SHARED, &s, &inst);
        if (r < 0)
                return r;
        r = instance_lock_stopped(inst, "start");
        if (r < 0)
                return r;
        r = instance_start(s, inst, &(InstanceRunOptions){.argv = cmd});
        return r;
}

typedef struct RunArgs {
        CreateOptions create;
        const char *name;
        bool rm;
} RunArgs;

static int take_run(int c, void *userdata) {
        RunArgs *a = userdata;
        if (c == ARG_VERB_BASE) {
                a->rm = true;
                return 1;
        }
        if (c == ARG_VERB_BASE + 1) {
                a->name = optarg;
                return 1;
        }
        return create_option(c, &a->create);
}

#define RUN_USAGE                                                                                  \
        "run [--rm] [--name NAME] [create options] IMG [-- CMD ARG...]\n"                          \
        "\n"                                                                                       \
        "Create an instance of IMG and run it in the foreground.\n"                                \
        "\n"                                                                                       \
        "Options:\n"                                                                               \
        "  --rm                 remove the instance afterwards\n"                                  \
        "  --name NAME          the instance's name (default: run-XXXXXXXX)\n" CREATE_OPTIONS_HELP

int verb_run(int argc, char **argv, GlobalOptions *g) {
        static const struct option options[] = {
                {"rm", no_argument, NULL, ARG_VERB_BASE},
                {"name", required_argument, NULL, ARG_VERB_BASE + 1},
                CREATE_LONGOPTIONS,
                {},
        };
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(instance_freep) Instance *inst = NULL;
        _cleanup_free_ char *name = NULL;
        _cleanup_(runner_netns_ahead_freep) RunnerNetnsAhead *ahead = NULL;
        RunArgs a = {};
        char id[DIGEST_HEX_SIZE], rnd[MACHINE_ID_LEN + 1];
        bool started = false;
        char **cmd;
        int i, r;

        cmd = split_command(&argc, argv);
        i = parse_verb(argc, argv, g, "run", RUN_USAGE, NULL, options, take_run, &a);
        if (i < 0) {
                create_options_done(&a.create);
                return verb_result(i);
        }
        if (argc - i != 1) {
                create_options_done(&a.create);
                return cli_usage_error("run", "expected one IMG (see 'goldroot run --help')");
        }
        if (a.create.image) {
                create_options_done(&a.create);
                return cli_usage_error("run", "the image is the positional IMG, not --image");
        }
        if (a.name)
                name = strdup(a.name);
        else {
                r = machine_id_generate(rnd);
                if (r < 0) {
                        create_options_done(&a.create);
                        return log_error_errno(r, "run: %m");
                }
                rnd[8] = 0;
                name = strjoin("run-", rnd);
        }
        if (!name) {
                create_options_done(&a.create);
                return log_oom();
        }

        /* The instance's network namespace is made on a second thread while
         * this one opens the store and plans; unused if the network turns out
         * to be the host's. */
        if (!a.create.net || !streq(a.create.net, "host"))
                ahead = runner_netns_ahead_start();
        /* The shared store lock is held until the instance is gone: image rm
         * and gc take it exclusively, so the image cannot go away under a run
         * --rm, whose instance has no catalog row to link it. */
        r = store_open(g->store, STORE_SHARED, &s);
        if (r >= 0)
                r = store_resolve(s, argv[i], id); /* logs a missing image */
        if (r >= 0 && a.rm) {
                Identity *ident = NULL;

                r = create_identity("run", name, &a.create, &ident);
                if (r >= 0)
                        r = instance_create_ephemeral(s, name, id, ident, a.name != NULL, &inst);
                create_options_done(&a.create);
                if (r < 0)
                        return r;
                r = instance_start(s, inst,
                                   &(InstanceRunOptions){.argv = cmd,
                                                         .foreground = true,
                                                         .netns_ahead = TAKE_PTR(ahead)});
                instance_remove_ephemeral(inst);
                return r;
        }
        if (r >= 0)
                r = create_instance(s, "run", name, id, &a.create);
        create_options_done(&a.create);
        if (r < 0)
                return r;
        r = instance_open(s, name, &inst);
        if (r >= 0)
                r = instance_lock(inst, "run", true);
        if (r < 0) /* these name the instance, which another command got hold of */
                return r;
        r = instance_start(s, inst,
                           &(InstanceRunOptions){.argv = cmd,
                                                 .foreground = true,
                                                 .netns_ahead = TAKE_PTR(ahead),
                                                 .ret_started = &started});
        /* All or nothing: an instance that never ran goes again, and the
         * start's error is all there is to say. */
        if (r < 0 && !started) {
                int k = instance_remove(s, inst);
                if (k < 0)
                        log_error_errno(k, "run: the instance %s did not start and is left behind",
                                        name);
        }
        return r;
}

int verb_exec(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(instance_freep) Instance *inst = NULL;
        char **cmd;
        int i, r;

        cmd = split_command(&argc, argv);
        i = parse_verb(argc, argv, g, "exec",
                       "exec NAME -- CMD ARG...\n\n"
                       "Run a command inside a running instance.\n",
                       NULL, NULL, NULL, NULL);
        if (i < 0)
                return verb_result(i);
        if (argc - i != 1)
                return cli_usage_error("exec", "expected one NAME");
        if (!cmd)
                return cli_usage_error("exec", "expected a command after --");
        r = cli_open_instance_or_run(g, "exec", argv[i], STORE_SHARED, &s, &inst);
        if (r < 0)
                return r;
        /* Nothing of the store is needed inside: let go of its lock before
         * a command that may run for long. */
        s = store_free(s);
        return instance_exec(inst, cmd);
}

typedef struct StopArgs {
        unsigned timeout;
} StopArgs;

static int take_stop(int c, void *userdata) {
        StopArgs *a = userdata;
        uint64_t v;

        if (c != ARG_VERB_BASE && c != 't')
                return 0;
        if (parse_unsigned(optarg, 86400, &v) < 0)
                return cli_usage_error("stop", "bad --timeout '%s' (seconds, 0 to 86400)", optarg);
        a->timeout = (unsigned)v;
        return 1;
}

int verb_stop(int argc, char **argv, GlobalOptions *g) {
        static const struct option options[] = {
                {"timeout", required_argument, NULL, ARG_VERB_BASE},
                {},
        };
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(instance_freep) Instance *inst = NULL;
        StopArgs a = {.timeout = 10};
        bool killed_foreground = false, killed = false;
        int i, r;

        i = parse_verb(argc, argv, g, "stop",
                       "stop NAME [--timeout SEC]\n\n"
                       "Stop an instance: SIGTERM, then SIGKILL after the timeout.\n\n"
                       "Options:\n"
                       "  -t, --timeout SEC  seconds to wait before SIGKILL (default 10)\n",
                       "t:", options, take_stop, &a);
        if (i < 0)
                return verb_result(i);
        if (argc - i != 1)
                return cli_usage_error("stop", "expected one NAME");
        r = cli_open_instance_or_run(g, "stop", argv[i], STORE_SHARED, &s, &inst);
        if (r < 0)
                return r;
        s = store_free(s);
        r = instance_stop_foreground(inst, a.timeout, &killed_foreground);
        /* A run --rm removes itself as it ends; the lock tells when. */
        if (r >= 0 && inst->ephemeral)
                r = instance_wait_released(inst);
        else if (r >= 0)
                r = instance_lock(inst, "stop", true);
        if (r < 0)
                return r;
        if (!inst->ephemeral)
                r = instance_stop(inst, a.timeout, &killed);
        if (r >= 0 && (killed_foreground || killed))
                log_info("stop %s: killed after %u s", inst->name, a.timeout);
        return r;
}
