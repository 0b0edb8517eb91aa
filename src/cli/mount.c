/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mount, umount: assemble a profile onto a host directory and take it down
 * again, like vmount did for vservers (`vmount webapp /vservers/x`).
 */
#include "cli.h"

#include "assembly.h"
#include "instance.h"
#include "plan.h"
#include "profile.h"
#include "store.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

static void mount_help(FILE *out) {
        fprintf(out, "Usage: goldroot mount --profile FILE [--name N] [--hostname H]\n"
                     "                      [--image DIR] [--state DIR] DIR\n"
                     "       goldroot mount NAME DIR\n"
                     "\n"
                     "Assemble the mounts of a profile, or of instance NAME, onto the host\n"
                     "directory DIR.\n"
                     "\n"
                     "Options:\n"
                     "  --profile FILE  the profile: a file, or a name on the profile search path\n"
                     "  --name N        %%n in the profile (default: DIR's basename)\n"
                     "  --hostname H    %%h in the profile (default: the name)\n"
                     "  --image DIR     the tree that image: sources refer to\n"
                     "  --state DIR     the tree that state: sources and uppers refer "
                     "to\n" CLI_HELP_GLOBALS);
}

/* DIR as the records know it: absolute, canonical, and a directory. */
static int canonical_dir(const char *verb, const char *dir, char **ret) {
        _cleanup_free_ char *p = NULL;
        struct stat st;

        p = realpath(dir, NULL);
        if (!p)
                return log_error_errno(errno, "%s %s: %m", verb, dir);
        if (stat(p, &st) < 0)
                return log_error_errno(errno, "%s %s: %m", verb, dir);
        if (!S_ISDIR(st.st_mode))
                return log_error_errno(ENOTDIR, "%s %s: %m", verb, dir);
        *ret = TAKE_PTR(p);
        return 0;
}

/* DIR when it is gone (umount after rm -rf): absolute, "." and ".." taken
 * lexically, and its longest existing ancestor canonical, so that it names
 * what canonical_dir() gave when DIR was assembled. */
static int missing_dir(const char *arg, char **ret) {
        _cleanup_free_ char *cwd = NULL, *abs = NULL, *norm = NULL, *real = NULL;
        const char *s;
        char *o, *tail;

        if (!path_is_absolute(arg)) {
                cwd = getcwd(NULL, 0);
                if (!cwd)
                        return -errno;
        }
        abs = cwd ? path_join(cwd, arg) : strdup(arg);
        norm = abs ? malloc(strlen(abs) + 2) : NULL;
        if (!norm)
                return -ENOMEM;
        o = norm;
        for (s = abs; *s;) {
                size_t n;

                s += strspn(s, "/");
                n = strcspn(s, "/");
                if (n == 0 || (n == 1 && s[0] == '.')) {
                        s += n;
                        continue;
                }
                if (n == 2 && s[0] == '.' && s[1] == '.') {
                        while (o > norm && *--o != '/')
                                ;
                } else {
                        *o++ = '/';
                        memcpy(o, s, n);
                        o += n;
                }
                s += n;
        }
        *o = 0;
        /* Back to the longest ancestor that exists; what follows it is kept. */
        for (tail = o;;) {
                char c = *tail;

                *tail = 0;
                real = realpath(isempty(norm) ? "/" : norm, NULL);
                *tail = c;
                if (real)
                        break;
                if (errno != ENOENT && errno != ENOTDIR)
                        return -errno;
                if (tail == norm)
                        return -ENOENT;
                while (tail > norm && *--tail != '/')
                        ;
        }
        *ret = path_join(real, tail);
        return *ret ? 0 : -ENOMEM;
}

static bool has_control(const char *s) {
        for (; s && *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

static int open_tree_dir(const char *what, const char *path, int *ret_fd) {
        int fd;

        if (!path) {
                *ret_fd = -EBADF;
                return 0;
        }
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "mount: cannot open %s %s: %m", what, path);
        *ret_fd = fd;
        return 0;
}

/* goldroot mount NAME DIR: the instance's own profile, image and state,
 * assembled on the host (vmount's `vmount webapp /vservers/x`). */
static int mount_instance(GlobalOptions *g, const char *name, const char *dir_arg) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(instance_freep) Instance *inst = NULL;
        _cleanup_(profile_set_freep) ProfileSet *set = NULL;
        _cleanup_(plan_freep) Plan *plan = NULL;
        _cleanup_free_ char *dir = NULL, *key = NULL;
        _cleanup_close_ int image_fd = -EBADF, state_fd = -EBADF;
        InstanceStatus st;
        int r;

        r = canonical_dir("mount", dir_arg, &dir);
        if (r < 0)
                return r;
        r = store_open(g->store, STORE_SHARED, &s);
        if (r < 0)
                return r;
        r = instance_open(s, name, &inst);
        if (r < 0)
                return r;
        /* Held until the assembly is recorded: start and the other commands
         * that use the state take it, then look for the record. */
        r = instance_lock(inst, "mount", false);
        if (r < 0)
                return r;
        r = instance_status(inst, &st);
        if (r < 0)
                return r;
        if (st.state == INSTANCE_RUNNING)
                return log_error_errno(EBUSY,
                                       "mount %s: the instance is running (pid %d): stop it first",
                                       name, (int)st.runner.pid);
        r = assembly_instance_key(inst->dir_fd, &key);
        if (r < 0)
                return log_error_errno(r, "mount %s: %m", name);
        r = instance_plan(inst, &set, &plan);
        if (r < 0)
                return r;
        r = store_open_image_root(s, inst->row->image, &image_fd);
        if (r < 0)
                return log_error_errno(r, "mount %s: cannot open its image: %m", name);
        state_fd = openat(inst->dir_fd, "state", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (state_fd < 0)
                return log_error_errno(errno, "mount %s: cannot open its state: %m", name);
        r = assembly_mount(plan, dir, image_fd, state_fd, key);
        return error_is_bad_input(r) ? -EIO : r;
}

int verb_mount(int argc, char **argv, GlobalOptions *g) {
        enum {
                ARG_PROFILE = ARG_VERB_BASE,
                ARG_NAME,
                ARG_HOSTNAME,
                ARG_IMAGE,
                ARG_STATE,
        };
        static const struct option options[] = {
                CLI_GLOBAL_LONGOPTIONS,
                {"help", no_argument, NULL, 'h'},
                {"profile", required_argument, NULL, ARG_PROFILE},
                {"name", required_argument, NULL, ARG_NAME},
                {"hostname", required_argument, NULL, ARG_HOSTNAME},
                {"image", required_argument, NULL, ARG_IMAGE},
                {"state", required_argument, NULL, ARG_STATE},
                {},
        };
        const char *profile = NULL, *name = NULL, *hostname = NULL, *image = NULL, *state = NULL;
        _cleanup_(profile_set_freep) ProfileSet *set = NULL;
        _cleanup_(plan_freep) Plan *plan = NULL;
        _cleanup_strv_free_ char **search = NULL;
        _cleanup_free_ char *dir = NULL, *file = NULL;
        _cleanup_close_ int image_fd = -EBADF, state_fd = -EBADF;
        PlanContext ctx = {};
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":hqv", options, NULL)) >= 0) {
                if (cli_global_option(c, g))
                        continue;
                switch (c) {
                case 'h':
                        mount_help(stdout);
                        return 0;
                case ARG_PROFILE:
                        profile = optarg;
                        break;
                case ARG_NAME:
                        name = optarg;
                        break;
                case ARG_HOSTNAME:
                        hostname = optarg;
                        break;
                case ARG_IMAGE:
                        image = optarg;
                        break;
                case ARG_STATE:
                        state = optarg;
                        break;
                default:
                        return cli_option_error("mount", c, argv);
                }
        }
        if (!profile) {
                if (argc - optind != 2)
                        return cli_usage_error("mount", "expected NAME DIR or --profile FILE DIR");
                return mount_instance(g, argv[optind], argv[optind + 1]);
        }
        if (argc - optind != 1)
                return cli_usage_error("mount", "expected one DIR after the options");
        /* Their values end in paths, and paths in the line-based record: a
         * newline would split it into lines umount cannot read back. */
        if (has_control(name))
                return cli_usage_error("mount", "--name must not contain control characters");
        if (has_control(hostname))
                return cli_usage_error("mount", "--hostname must not contain control characters");

        r = canonical_dir("mount", argv[optind], &dir);
        if (r < 0)
                return r;
        r = open_tree_dir("image", image, &image_fd);
        if (r < 0)
                return r;
        r = open_tree_dir("state", state, &state_fd);
        if (r < 0)
                return r;

        r = profile_find(profile, &file);
        if (r < 0)
                return r;
        r = profile_default_search_path(file, &search);
        if (r < 0)
                return log_error_errno(r, "mount: cannot build the profile search path: %m");
        r = profile_set_load(file, search, &set);
        if (r < 0)
                return r;

        ctx.placeholders.name = name ?: (streq(dir, "/") ? "root" : strrchr(dir, '/') + 1);
        ctx.placeholders.hostname = hostname ?: ctx.placeholders.name;
        ctx.have_image = image;
        ctx.have_state = state;
        r = plan_build(set, &ctx, &plan);
        if (r < 0)
                return r;

        r = assembly_mount(plan, dir, image_fd, state_fd, NULL);
        /* What the kernel refuses while mounting is an operational failure
         * (exit 1), even when its errno is EINVAL; the profile was valid. */
        if (error_is_bad_input(r))
                return -EIO;
        return r;
}

int verb_umount(int argc, char **argv, GlobalOptions *g) {
        static const struct option options[] = {
                CLI_GLOBAL_LONGOPTIONS,
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_free_ char *dir = NULL;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":hqv", options, NULL)) >= 0) {
                if (cli_global_option(c, g))
                        continue;
                switch (c) {
                case 'h':
                        printf("Usage: goldroot umount DIR\n"
                               "\n"
                               "Take down an assembly made by goldroot mount: every mount in\n"
                               "reverse order, loop devices, and references on shared "
                               "mounts.\n" CLI_HELP_GLOBALS);
                        return 0;
                default:
                        return cli_option_error("umount", c, argv);
                }
        }
        if (argc - optind != 1)
                return cli_usage_error("umount", "expected one DIR");
        /* A removed DIR may still hold shared references: its record is
         * found by the path it had. */
        if (access(argv[optind], F_OK) < 0 && errno == ENOENT) {
                r = missing_dir(argv[optind], &dir);
                if (r < 0)
                        return log_error_errno(r, "umount %s: %m", argv[optind]);
        } else {
                r = canonical_dir("umount", argv[optind], &dir);
                if (r < 0)
                        return r;
        }
        r = assembly_umount(dir);
        return error_is_bad_input(r) ? -EIO : r;
}
