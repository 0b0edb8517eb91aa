/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * instance: create, rm, ls, status and personalize, over the instance
 * library. The identity options are shared with `run` (instance-cli.h).
 */
#include "cli.h"
#include "assembly.h"
#include "instance-cli.h"
#include "instance.h"
#include "json.h"
#include "plan.h"
#include "profile.h"

#include <inttypes.h>
#include <limits.h>
#include <time.h>

int create_option(int c, CreateOptions *o) {
        switch (c) {
        case ARG_CREATE_IMAGE:
                o->image = optarg;
                return 1;
        case ARG_CREATE_MODE:
                o->mode = optarg;
                return 1;
        case ARG_CREATE_PROFILE:
                o->profile = optarg;
                return 1;
        case ARG_CREATE_HOSTNAME:
                o->hostname = optarg;
                return 1;
        case ARG_CREATE_IP:
                o->ip = optarg;
                return 1;
        case ARG_CREATE_GATEWAY:
                o->gateway = optarg;
                return 1;
        case ARG_CREATE_DNS:
                return strv_extend(&o->dns, optarg) < 0 ? log_oom() : 1;
        case ARG_CREATE_SET:
                return strv_extend(&o->set, optarg) < 0 ? log_oom() : 1;
        case ARG_CREATE_NET:
                o->net = optarg;
                return 1;
        case ARG_CREATE_PRIVILEGED:
                o->privileged = true;
                return 1;
        default:
                return 0;
        }
}

void create_options_done(CreateOptions *o) {
        strv_free(o->dns);
        strv_free(o->set);
        *o = (CreateOptions){};
}

/* An early check of a --profile file, so that its errors show at create
 * (exit 2) rather than at the first start. */
static int check_profile(const char *verb, const char *name, const char *path) {
        _cleanup_(profile_set_freep) ProfileSet *set = NULL;
        _cleanup_(plan_freep) Plan *plan = NULL;
        _cleanup_strv_free_ char **search = NULL;
        PlanContext ctx = {.have_image = true, .have_state = true};

        if (profile_default_search_path(path, &search) < 0)
                return log_oom();
        if (profile_set_load(path, search, &set) < 0)
                return -EBADMSG;
        ctx.placeholders.name = name;
        ctx.placeholders.hostname = name;
        ctx.placeholders.image_id = "0";
        if (plan_build(set, &ctx, &plan) < 0)
                return -EBADMSG;
        (void)verb;
        return 0;
}

int create_identity(const char *verb, const char *name, const CreateOptions *o, Identity **ret) {
        _cleanup_(identity_freep) Identity *id = NULL;
        _cleanup_free_ char *text = NULL;
        char mid[MACHINE_ID_LEN + 1];
        int r;

        r = instance_name_check(verb, name);
        if (r < 0)
                return r;
        id = calloc(1, sizeof *id);
        if (!id)
                return log_oom();

        if (o->mode && !mode_is_valid(o->mode))
                return log_error_errno(EINVAL,
                                       "%s %s: bad --mode '%s' (expected ro, rw or "
                                       "volatile)",
                                       verb, name, o->mode);
        id->mode = strdup(o->mode ?: "ro");
        if (o->hostname && !hostname_is_valid(o->hostname))
                return log_error_errno(EINVAL, "%s %s: bad --hostname '%s'", verb, name,
                                       o->hostname);
        if (!o->hostname && !hostname_is_valid(name))
                return log_error_errno(EINVAL,
                                       "%s %s: the name is not a valid hostname: give "
                                       "--hostname",
                                       verb, name);
        id->hostname = strdup(o->hostname ?: name);
        if (o->ip && !address_prefix_is_valid(o->ip))
                return log_error_errno(EINVAL, "%s %s: bad --ip '%s' (expected ADDR/PREFIX)", verb,
                                       name, o->ip);
        if (o->gateway && !address_is_valid(o->gateway))
                return log_error_errno(EINVAL, "%s %s: bad --gateway '%s'", verb, name, o->gateway);
        /* Both are valid addresses: only IPv6 ones have a ':'. */
        if (o->ip && o->gateway && !strchr(o->ip, ':') != !strchr(o->gateway, ':'))
                return log_error_errno(EINVAL,
                                       "%s %s: bad --gateway '%s': not of the family of --ip '%s'",
                                       verb, name, o->gateway, o->ip);
        for (size_t k = 0; o->dns && o->dns[k]; k++)
                if (!address_is_valid(o->dns[k]))
                        return log_error_errno(EINVAL, "%s %s: bad --dns '%s'", verb, name,
                                               o->dns[k]);
        if (o->net && !net_is_valid(o->net))
                return log_error_errno(EINVAL,
                                       "%s %s: bad --net '%s' (expected none, host or "
                                       "bridge:BRIDGE)",
                                       verb, name, o->net);
        for (size_t k = 0; o->set && o->set[k]; k++) {
                _cleanup_free_ char *key = strndup(o->set[k], strcspn(o->set[k], "="));
                if (!key)
                        return log_oom();
                if (!strchr(o->set[k], '=') || !identity_key_is_valid(key))
                        return log_error_errno(EINVAL,
                                               "%s %s: bad --set '%s' (expected "
                                               "KEY=VALUE, KEY of letters, digits and '_')",
                                               verb, name, o->set[k]);
                if (identity_key_is_reserved(key))
                        return log_error_errno(EINVAL,
                                               "%s %s: bad --set '%s': GOLDROOT_%s is reserved "
                                               "(goldroot sets it itself)",
                                               verb, name, key, key);
                for (const char *p = o->set[k]; *p; p++)
                        if ((unsigned char)*p < 0x20 || *p == 0x7f)
                                return log_error_errno(EINVAL,
                                                       "%s %s: bad --set '%s': control "
                                                       "character",
                                                       verb, name, key);
                for (size_t j = 0; j < k; j++)
                        if (strncmp(o->set[j], key, strlen(key)) == 0 &&
                            o->set[j][strlen(key)] == '=')
                                return log_error_errno(EINVAL, "%s %s: --set %s given twice", verb,
                                                       name, key);
        }
        if (o->profile) {
                _cleanup_free_ char *file = NULL;

                r = profile_find(o->profile, &file);
                if (r < 0)
                        return r;
                id->profile = realpath(file, NULL);
                if (!id->profile)
                        return log_error_errno(errno, "%s %s: --profile %s: %m", verb, name, file);
                r = check_profile(verb, name, id->profile);
                if (r < 0)
                        return r;
        }
        id->ip = o->ip ? strdup(o->ip) : NULL;
        id->gateway = o->gateway ? strdup(o->gateway) : NULL;
        id->net = o->net ? strdup(o->net) : NULL;
        id->privileged = o->privileged;
        for (size_t k = 0; o->dns && o->dns[k]; k++)
                if (strv_extend(&id->dns, o->dns[k]) < 0)
                        return log_oom();
        for (size_t k = 0; o->set && o->set[k]; k++)
                if (strv_extend(&id->extra, o->set[k]) < 0)
                        return log_oom();
        if (!id->mode || !id->hostname || (o->ip && !id->ip) || (o->gateway && !id->gateway) ||
            (o->net && !id->net))
                return log_oom();
        r = machine_id_generate(mid);
        if (r < 0)
                return log_error_errno(r, "%s %s: cannot make a machine id: %m", verb, name);
        id->machine_id = strdup(mid);
        if (!id->machine_id)
                return log_oom();
        /* Every later command reads the file with this bound: one larger
         * would make the instance unusable. */
        r = identity_format(id, &text);
        if (r < 0)
                return r;
        if (strlen(text) > IDENTITY_MAX_SIZE)
                return log_error_errno(EINVAL,
                                       "%s %s: the identity would be larger than %u bytes (its "
                                       "--set values are too long)",
                                       verb, name, IDENTITY_MAX_SIZE);
        *ret = TAKE_PTR(id);
        return 0;
}

int create_instance(Store *s, const char *verb, const char *name, const char *image_id,
                    const CreateOptions *o) {
        _cleanup_(identity_freep) Identity *id = NULL;
        int r;

        r = create_identity(verb, name, o, &id);
        if (r < 0)
                return r;
        return instance_create(s, name, image_id, id);
}

/* Runs getopt over argv with the global options plus own; returns the index
 * of the first positional argument, -ECANCELED after --help, or -EINVAL. */
int parse_verb(int argc, char **argv, GlobalOptions *g, const char *verb, const char *usage,
               const char *shorts, const struct option *own, int (*take)(int c, void *userdata),
               void *userdata) {
        struct option options[32] = {};
        const struct option globals[] = {CLI_GLOBAL_LONGOPTIONS, {"help", no_argument, NULL, 'h'}};
        char optstring[32];
        size_t n = 0;
        int c, r;

        for (size_t i = 0; own && own[i].name; i++)
                options[n++] = own[i];
        for (size_t i = 0; i < ELEMENTSOF(globals); i++)
                options[n++] = globals[i];
        assert(n < ELEMENTSOF(options));
        optind = 0;
        opterr = 0;
        snprintf(optstring, sizeof optstring, "hqv%s", shorts ?: "");
        /* Options may follow NAME; a command after "--" is the caller's to
         * split off first. */
        while ((c = getopt_long(argc, argv, optstring, options, NULL)) >= 0) {
                if (cli_global_option(c, g))
                        continue;
                if (c == 'h') {
                        /* A help text ends with a newline, a bare synopsis may not. */
                        printf("Usage: goldroot %s%s" CLI_HELP_GLOBALS, usage,
                               endswith(usage, "\n") ? "" : "\n");
                        return -ECANCELED;
                }
                if (c != '?' && take) {
                        r = take(c, userdata);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                continue;
                }
                return cli_usage_error(verb,
                                       "unknown option or missing argument: %s; usage: "
                                       "goldroot %.*s",
                                       argv[optind > 1 ? optind - 1 : 1], cli_usage_length(usage),
                                       usage);
        }
        return optind;
}

static int take_create(int c, void *userdata) {
        return create_option(c, userdata);
}

int verb_result(int r) {
        return r == -ECANCELED ? 0 : r;
}

#define CREATE_USAGE                                                                               \
        "create NAME... --image IMG [--mode ro|rw|volatile] [--profile FILE]\n"                    \
        "                [--hostname H] [--ip ADDR/PREFIX] [--gateway ADDR] [--dns ADDR]...\n"     \
        "                [--net none|host|bridge:BR] [--privileged] [--set KEY=VALUE]...\n"        \
        "\n"                                                                                       \
        "Create an instance of IMG (NAME:TAG or an image id prefix), or one for each NAME.\n"      \
        "\n"                                                                                       \
        "Options:\n"                                                                               \
        "  --image IMG          the image (required)\n" CREATE_OPTIONS_HELP

/* Several names: every identity is made (and so checked) before the library
 * makes all of the instances or none. */
static int create_several(Store *s, char **names, size_t n, const char *image_id,
                          const CreateOptions *o) {
        Identity **ids = calloc(n, sizeof *ids);
        int r = 0;

        if (!ids)
                return log_oom();
        for (size_t k = 0; k < n && r >= 0; k++)
                r = create_identity("create", names[k], o, &ids[k]);
        if (r >= 0)
                r = instance_create_several(s, names, ids, n, image_id);
        for (size_t k = 0; k < n; k++)
                identity_free(ids[k]);
        free(ids);
        return r;
}

int verb_create(int argc, char **argv, GlobalOptions *g) {
        static const struct option options[] = {CREATE_LONGOPTIONS, {}};
        _cleanup_(create_options_done) CreateOptions o = {};
        _cleanup_(store_freep) Store *s = NULL;
        char id[DIGEST_HEX_SIZE];
        size_t n;
        int i, r;

        i = parse_verb(argc, argv, g, "create", CREATE_USAGE, NULL, options, take_create, &o);
        if (i < 0)
                return verb_result(i);
        if (argc - i < 1)
                return cli_usage_error("create", "expected a NAME (see 'goldroot create --help')");
        n = (size_t)(argc - i);
        for (size_t k = 0; k < n; k++) {
                r = instance_name_check("create", argv[i + k]);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < k; j++)
                        if (streq(argv[i + j], argv[i + k]))
                                return cli_usage_error("create", "%s: name given twice",
                                                       argv[i + k]);
        }
        if (n > 1 && (o.hostname || o.ip))
                return cli_usage_error("create",
                                       "--hostname and --ip name one instance: with several "
                                       "NAMEs each takes its name as hostname, and an address "
                                       "needs a create of its own");
        if (!o.image)
                return cli_usage_error("create", "%s: --image IMG is required", argv[i]);

        r = store_open(g->store, STORE_SHARED, &s);
        if (r < 0)
                return r;
        r = store_resolve(s, o.image, id); /* logs a missing image */
        if (r < 0)
                return r;
        if (n == 1)
                return create_instance(s, "create", argv[i], id, &o);
        return create_several(s, argv + i, n, id, &o);
}

/* Opens the store and the instance named by the single positional argument. */
static int open_one(GlobalOptions *g, const char *verb, int argc, char **argv, int i,
                    StoreLock lock, bool runs_too, Store **ret_store, Instance **ret) {
        if (argc - i != 1)
                return cli_usage_error(verb, argc - i < 1 ? "expected NAME" : "expected one NAME");
        if (runs_too)
                return cli_open_instance_or_run(g, verb, argv[i], lock, ret_store, ret);
        return cli_open_instance(g, verb, argv[i], lock, ret_store, ret);
}

typedef struct RmArgs {
        bool force;
} RmArgs;

static int take_rm(int c, void *userdata) {
        RmArgs *a = userdata;
        if (c != 'f')
                return 0;
        a->force = true;
        return 1;
}

/* What rm checks of one instance before it removes any: that it is not
 * running (unless force, which stops it) and not assembled. Without force
 * the instance's lock is taken (not waited for) and kept, so that nothing
 * starts it between the check and the removal. */
static int rm_check(Instance *inst, bool force) {
        InstanceStatus st;
        int r;

        if (!force) {
                r = instance_lock(inst, "rm", false);
                if (r < 0)
                        return r;
                r = instance_status(inst, &st);
                if (r < 0)
                        return r;
                if (st.state == INSTANCE_RUNNING)
                        return log_error_errno(EBUSY,
                                               "rm %s: the instance is running: stop it "
                                               "first or use --force",
                                               inst->name);
        }
        /* Not even with --force: its state is an assembly's layer. */
        return assembly_check_instance(inst->dir_fd, "rm", inst->name);
}

static int rm_one(Store *s, Instance *inst, bool force) {
        int r;

        if (force) {
                /* A foreground run lets the lock go only when it ends. */
                r = instance_stop_foreground(inst, 10, NULL);
                if (r >= 0)
                        r = instance_lock(inst, "rm", true);
                /* Checked again under the lock, which mount NAME takes. */
                if (r >= 0)
                        r = assembly_check_instance(inst->dir_fd, "rm", inst->name);
                if (r < 0)
                        return r;
        }
        /* Also the teardown of an instance that exited by itself. */
        r = instance_stop(inst, 10, NULL);
        if (r < 0)
                return r;
        return instance_remove(s, inst);
}

int verb_rm(int argc, char **argv, GlobalOptions *g) {
        static const struct option options[] = {{"force", no_argument, NULL, 'f'}, {}};
        _cleanup_(store_freep) Store *s = NULL;
        Instance **list = NULL;
        size_t n = 0;
        RmArgs a = {};
        int i, r;

        i = parse_verb(argc, argv, g, "rm",
                       "rm NAME... [--force]\n\n"
                       "Remove instances and their state.\n\n"
                       "Options:\n"
                       "  -f, --force  stop a running instance first\n",
                       "f", options, take_rm, &a);
        if (i < 0)
                return verb_result(i);
        if (argc - i < 1)
                return cli_usage_error("rm", "expected NAME");
        for (int k = i; k < argc; k++) {
                r = instance_name_check("rm", argv[k]);
                if (r < 0)
                        return r;
        }
        r = store_open(g->store, STORE_SHARED, &s);
        if (r < 0)
                return r;
        (void)instance_recover(s);
        list = calloc(argc - i, sizeof *list);
        if (!list)
                return log_oom();
        /* All or nothing: every name is checked before any is removed. */
        for (int k = i; k < argc; k++) {
                bool seen = false;

                for (size_t j = 0; j < n && !seen; j++)
                        seen = streq(list[j]->name, argv[k]);
                if (seen)
                        continue;
                r = instance_open_for_removal(s, argv[k], &list[n]);
                if (r < 0)
                        goto finish;
                r = rm_check(list[n++], a.force);
                if (r < 0)
                        goto finish;
        }
        for (size_t j = 0; j < n; j++) {
                r = rm_one(s, list[j], a.force);
                if (r < 0)
                        goto finish;
        }
        r = 0;
finish:
        instance_list_free(list, n);
        return r;
}

static void format_uptime(uint64_t usec, char *buf, size_t len) {
        uint64_t s = usec / 1000000;

        if (s < 60)
                snprintf(buf, len, "%" PRIu64 "s", s);
        else if (s < 3600)
                snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, (s / 60) % 60);
        else
                snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, (s / 3600) % 24);
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* What a listing shows of one instance. */
typedef struct Row {
        const char *name;
        const char *image_id;
        char *image_ref;    /* first tag, or NULL */
        const char *mode;   /* the mode, or the name of a --profile instance's profile */
        const Identity *id; /* NULL if the identity could not be read */
        InstanceStatus st;
        uint64_t uptime_usec;
        char profile_name[256];
} Row;

/* An instance made with --profile runs that profile, not its mode's: it shows
 * the profile's name, the file's name without ".profile". */
static const char *row_mode(const Instance *inst, Row *row) {
        const char *base;
        size_t len;

        if (!inst->identity || isempty(inst->identity->profile))
                return inst->row->mode;
        base = strrchr(inst->identity->profile, '/');
        base = base ? base + 1 : inst->identity->profile;
        len = strlen(base);
        if (len > strlen(".profile") && streq(base + len - strlen(".profile"), ".profile"))
                len -= strlen(".profile");
        if (len == 0 || len >= sizeof row->profile_name)
                return inst->row->mode;
        memcpy(row->profile_name, base, len);
        row->profile_name[len] = 0;
        return row->profile_name;
}

static int row_fill(Store *s, Instance *inst, Row *ret) {
        _cleanup_strv_free_ char **tags = NULL;
        int r;

        *ret = (Row){.name = inst->name, .image_id = inst->row->image, .id = inst->identity};
        ret->mode = row_mode(inst, ret);
        r = instance_status(inst, &ret->st);
        if (r < 0)
                return r;
        if (ret->st.state == INSTANCE_RUNNING) {
                uint64_t now = now_usec();
                ret->uptime_usec =
                        now > ret->st.runner.started_usec ? now - ret->st.runner.started_usec : 0;
        }
        r = catalog_image_tags(store_catalog(s), inst->row->image, &tags);
        if (r < 0)
                return r;
        if (tags[0])
                ret->image_ref = strdup(tags[0]);
        return 0;
}

static void row_json(JsonWriter *w, const Row *row) {
        bool running = row->st.state == INSTANCE_RUNNING;

        json_begin_object(w);
        json_kv_string(w, "name", row->name);
        json_kv_string(w, "state", instance_state_to_string(row->st.state));
        json_key(w, "pid");
        if (running)
                json_int(w, row->st.runner.pid);
        else
                json_null(w);
        json_kv_string(w, "image", row->image_id);
        json_kv_string(w, "image_ref", row->image_ref);
        json_kv_string(w, "mode", row->mode);
        json_kv_string(w, "hostname", row->id ? row->id->hostname : NULL);
        json_kv_string(w, "ip", row->id ? row->id->ip : NULL);
        json_kv_string(w, "net", row->id ? row->id->net : NULL);
        json_key(w, "uptime");
        if (running)
                json_uint(w, row->uptime_usec / 1000000);
        else
                json_null(w);
        json_key(w, "started");
        if (row->st.has_status)
                json_uint(w, row->st.runner.started_usec / 1000000);
        else
                json_null(w);
        json_key(w, "exit_status");
        if (row->st.has_status && row->st.runner.state == RUNNER_STATE_EXITED)
                json_int(w, row->st.runner.exit_status);
        else
                json_null(w);
        json_end_object(w);
}

/* One line, or one JSON object, of ls. */
static int ls_print(GlobalOptions *g, JsonWriter *w, Store *s, Instance *inst, size_t width) {
        char pid[16] = "-", up[32] = "-", image[32];
        Row row;
        int r;

        r = row_fill(s, inst, &row);
        if (r < 0)
                return r;
        if (g->json)
                row_json(w, &row);
        else {
                if (row.st.state == INSTANCE_RUNNING) {
                        snprintf(pid, sizeof pid, "%d", (int)row.st.runner.pid);
                        format_uptime(row.uptime_usec, up, sizeof up);
                }
                snprintf(image, sizeof image, "%s", row.image_ref ?: row.image_id);
                if (!row.image_ref)
                        image[12] = 0;
                printf("%-*s  %-8s  %7s  %-24s  %-8s  %s\n", (int)width, row.name,
                       instance_state_to_string(row.st.state), pid, image, row.mode, up);
        }
        free(row.image_ref);
        return 0;
}

int verb_ls(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        InstanceRow **rows = NULL;
        Instance **runs = NULL;
        size_t n = 0, n_runs = 0, width = strlen("NAME");
        bool broken = false;
        JsonWriter w;
        int i, r;

        i = parse_verb(argc, argv, g, "ls",
                       "ls [-q] [--json]\n\n"
                       "List the instances.\n\n"
                       "Options:\n"
                       "  -q, --quiet  the names only, one a line\n"
                       "  --json       a JSON array (docs/json/instance-ls.schema.json)\n",
                       NULL, NULL, NULL, NULL);
        if (i < 0)
                return verb_result(i);
        if (argc - i != 0)
                return cli_usage_error("ls", "unexpected argument '%s'", argv[i]);
        r = store_open(g->store, STORE_SHARED, &s);
        if (r < 0)
                return r;
        (void)instance_recover(s);
        r = instance_list(s, &rows, &n);
        if (r >= 0)
                r = instance_list_runs(s, &runs, &n_runs);
        if (r < 0)
                goto finish;
        for (size_t k = 0; k < n; k++)
                if (strlen(rows[k]->name) > width)
                        width = strlen(rows[k]->name);
        for (size_t k = 0; k < n_runs; k++)
                if (strlen(runs[k]->name) > width)
                        width = strlen(runs[k]->name);
        if (g->quiet && !g->json) {
                for (size_t k = 0; k < n; k++)
                        printf("%s\n", rows[k]->name);
                for (size_t k = 0; k < n_runs; k++)
                        printf("%s\n", runs[k]->name);
                goto finish;
        }
        if (g->json) {
                json_init(&w, stdout);
                json_begin_array(&w);
        } else
                printf("%-*s  %-8s  %7s  %-24s  %-8s  %s\n", (int)width, "NAME", "STATE", "PID",
                       "IMAGE", "MODE", "UPTIME");
        /* The store's instances, then its named runs. One whose identity
         * cannot be read (damaged, too large) is one line on stderr and is
         * listed with what the catalog knows; the others are listed too. */
        for (size_t k = 0; k < n && r >= 0; k++) {
                _cleanup_(instance_freep) Instance *inst = NULL;

                if (instance_open(s, rows[k]->name, &inst) < 0) {
                        broken = true;
                        if (instance_open_for_removal(s, rows[k]->name, &inst) < 0)
                                continue;
                }
                r = ls_print(g, &w, s, inst, width);
        }
        for (size_t k = 0; k < n_runs && r >= 0; k++)
                r = ls_print(g, &w, s, runs[k], width);
        if (g->json) {
                json_end_array(&w);
                if (r >= 0)
                        r = json_finish(&w);
        }
        if (r >= 0 && broken)
                r = -EIO;
finish:
        instance_row_list_free(rows, n);
        instance_list_free(runs, n_runs);
        return r;
}

int verb_status(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(instance_freep) Instance *inst = NULL;
        Row row;
        int i, r;

        i = parse_verb(argc, argv, g, "status",
                       "status NAME [--json]\n\n"
                       "Show an instance's state, image, mode and network.\n\n"
                       "Options:\n"
                       "  --json  a JSON object (docs/json/instance-status.schema.json)\n",
                       NULL, NULL, NULL, NULL);
        if (i < 0)
                return verb_result(i);
        r = open_one(g, "status", argc, argv, i, STORE_SHARED, true, &s, &inst);
        if (r < 0)
                return r;
        r = row_fill(s, inst, &row);
        if (r < 0)
                return r;
        if (g->json) {
                JsonWriter w;
                json_init(&w, stdout);
                row_json(&w, &row);
                r = json_finish(&w);
        } else {
                char up[32];

                printf("name:     %s\n", row.name);
                printf("state:    %s\n", instance_state_to_string(row.st.state));
                if (row.st.state == INSTANCE_RUNNING) {
                        format_uptime(row.uptime_usec, up, sizeof up);
                        printf("pid:      %d\n", (int)row.st.runner.pid);
                        printf("uptime:   %s\n", up);
                } else if (row.st.has_status && row.st.runner.state == RUNNER_STATE_EXITED)
                        printf("exited:   status %d\n", row.st.runner.exit_status);
                printf("image:    %s%s%s%s\n", row.image_id, row.image_ref ? " (" : "",
                       row.image_ref ?: "", row.image_ref ? ")" : "");
                printf("mode:     %s\n", row.mode);
                printf("hostname: %s\n", inst->identity->hostname);
                if (inst->identity->ip)
                        printf("ip:       %s\n", inst->identity->ip);
                printf("net:      %s\n", inst->identity->net ?: "(profile)");
        }
        free(row.image_ref);
        return r;
}

typedef struct PersonalizeArgs {
        bool again;
} PersonalizeArgs;

static int take_personalize(int c, void *userdata) {
        PersonalizeArgs *a = userdata;
        if (c != ARG_VERB_BASE)
                return 0;
        a->again = true;
        return 1;
}

int verb_personalize(int argc, char **argv, GlobalOptions *g) {
        static const struct option options[] = {{"again", no_argument, NULL, ARG_VERB_BASE}, {}};
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(instance_freep) Instance *inst = NULL;
        PersonalizeArgs a = {};
        int i, r;

        i = parse_verb(argc, argv, g, "personalize",
                       "personalize NAME [--again]\n\n"
                       "Do a stopped instance's first-start work now.\n\n"
                       "Options:\n"
                       "  --again  redo it, even if it was done\n",
                       NULL, options, take_personalize, &a);
        if (i < 0)
                return verb_result(i);
        r = open_one(g, "personalize", argc, argv, i, STORE_SHARED, false, &s, &inst);
        if (r < 0)
                return r;
        r = instance_lock_stopped(inst, "personalize");
        if (r < 0)
                return r;
        r = instance_personalize(s, inst, a.again);
        return error_is_bad_input(r) ? -EIO : r;
}

static int open_instance(GlobalOptions *g, const char *verb, const char *name, StoreLock lock,
                         bool runs_too, Store **ret_store, Instance **ret) {
        int r;

        r = instance_name_check(verb, name);
        if (r < 0)
                return r;
        r = store_open(g->store, lock, ret_store);
        if (r < 0)
                return r;
        /* Names are unique across the catalog and the running runs (create
         * and run refuse a taken one). The run is looked for first: without
         * one, that is a single open(), where the catalog is a query that
         * instance_open() makes anyway. */
        if (runs_too) {
                r = instance_open_run(*ret_store, name, ret);
                if (r != -ENOENT)
                        return r;
        }
        return instance_open(*ret_store, name, ret);
}

int cli_open_instance_or_run(GlobalOptions *g, const char *verb, const char *name, StoreLock lock,
                             Store **ret_store, Instance **ret) {
        return open_instance(g, verb, name, lock, true, ret_store, ret);
}

int cli_open_instance(GlobalOptions *g, const char *verb, const char *name, StoreLock lock,
                      Store **ret_store, Instance **ret) {
        return open_instance(g, verb, name, lock, false, ret_store, ret);
}
