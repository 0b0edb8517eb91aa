/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * instance-run: starting, personalizing, entering and stopping an instance.
 *
 * Start: the instance's profile is planned with its placeholders; shared
 * entries are taken in the host namespace (holder "instance:NAME", recorded
 * in run/shared and released at stop); the runner then clones the instance,
 * and our setup_root callback applies the rest of the plan onto its root in
 * the new mount namespace. Personalization at the first start writes its
 * files in that same callback, through the assembled root's fd, before the
 * pivot: no second assembly is needed. Only when the image has programs to
 * run first (ssh-keygen, firstboot.d) do they run in short-lived instances
 * before the real start, the first of which does the file work.
 */
#include "instance.h"
#include "upgrade.h"
#include "assembly.h"
#include "fsutil.h"
#include "mount.h"
#include "personalize.h"
#include "plan.h"
#include "profile.h"
#include "util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>

#define SHARED_FILE "shared"
#define RUN_DIR_NAME "run"
#define COMMAND_FILE "command"
#define COMMAND_MAX (4u * 1024 * 1024) /* more than the kernel takes for an exec */

typedef struct RunContext {
        Store *store;
        Instance *inst;
        ProfileSet *set;
        Plan *plan;
        ImageInfo *image;
        int image_fd; /* opened in the caller's mount namespace */
        int state_fd;
        char *image_path;    /* to open them again in the instance's */
        bool image_detached; /* image_fd is a detached mount: usable from any */
        char *state_path;
        char *holder;
        char *net_spec;
        RunnerNet net;
        char **env;
        char **rewrite;
        char **init_argv;
        /* The setup_root callback does the personalization file work. */
        bool personalize_files;
        /* ...and mounts a tmpfs on the state first (an ephemeral instance
         * whose state no other namespace needs to see). */
        bool state_tmpfs;
} RunContext;

static void run_context_done(RunContext *c) {
        profile_set_free(c->set);
        plan_free(c->plan);
        image_info_free(c->image);
        safe_close(c->image_fd);
        safe_close(c->state_fd);
        free(c->image_path);
        free(c->state_path);
        free(c->holder);
        free(c->net_spec);
        strv_free(c->env);
        strv_free(c->rewrite);
        strv_free(c->init_argv);
        *c = (RunContext){.image_fd = -EBADF, .state_fd = -EBADF};
}

static int env_add(char ***env, const char *key, const char *value) {
        return value ? strv_consume(env, strjoin(key, "=", value)) : 0;
}

/* The environment of the instance's commands: the runner's default, the
 * machine id as $container_uuid (systemd takes it at a first boot), and the
 * identity as GOLDROOT_* for firstboot hooks and init scripts. */
int instance_env(const Instance *i, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        const Identity *id = i->identity;
        char uuid[37];
        int r;

        r = runner_default_env(&env);
        if (r < 0)
                return r;
        if (machine_id_to_uuid(id->machine_id, uuid) >= 0 &&
            (r = env_add(&env, "container_uuid", uuid)) < 0)
                return r;
        if ((r = env_add(&env, "GOLDROOT_NAME", i->name)) < 0 ||
            (r = env_add(&env, "GOLDROOT_HOSTNAME", id->hostname)) < 0 ||
            (r = env_add(&env, "GOLDROOT_IP", id->ip)) < 0 ||
            (r = env_add(&env, "GOLDROOT_GATEWAY", id->gateway)) < 0)
                return r;
        if (id->dns) {
                _cleanup_free_ char *dns = NULL;
                for (size_t k = 0; id->dns[k]; k++) {
                        char *t = dns ? strjoin(dns, " ", id->dns[k]) : strdup(id->dns[k]);
                        if (!t)
                                return -ENOMEM;
                        free(dns);
                        dns = t;
                }
                if ((r = env_add(&env, "GOLDROOT_DNS", dns)) < 0)
                        return r;
        }
        for (size_t k = 0; id->extra && id->extra[k]; k++) {
                /* Keys are at most 64 characters (identity_key_is_valid()). */
                char key[65] = "";
                size_t n = strcspn(id->extra[k], "=");

                if (n < sizeof key)
                        memcpy(key, id->extra[k], n);
                /* An identity written before create refused these: the
                 * built-in values win. */
                if (identity_key_is_reserved(key))
                        continue;
                if (strv_consume(&env, strjoin("GOLDROOT_", id->extra[k])) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(env);
        return 0;
}

/* The instance's state directory on disk, made first if make (an ephemeral
 * instance's, when it must be on disk). */
static int open_state(RunContext *c, const char *verb, bool make) {
        Instance *i = c->inst;

        if (make && mkdirat(i->dir_fd, "state", 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "%s %s: cannot make its state directory: %m", verb,
                                       i->name);
        c->state_fd = openat(i->dir_fd, "state", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c->state_fd < 0)
                return log_error_errno(errno, "%s %s: cannot open its state: %m", verb, i->name);
        return 0;
}

static int run_context_load(Store *s, Instance *i, const char *verb, RunContext *c) {
        const Profile *main_profile;
        const char *v;
        int r;

        *c = (RunContext){.store = s, .inst = i, .image_fd = -EBADF, .state_fd = -EBADF};
        r = instance_plan(i, &c->set, &c->plan);
        if (r < 0)
                return r;
        main_profile = c->set->profiles[0];

        r = store_open_image_root(s, i->row->image, &c->image_fd);
        if (r < 0)
                return log_error_errno(r, "%s %s: cannot open image %s: %m", verb, i->name,
                                       i->row->image);
        c->image_detached = r > 0;
        c->image_path = store_image_root_path(s, i->row->image);
        c->state_path = i->ephemeral ? path_join(runtime_dir(), "ephemeral", i->name, "state")
                                     : path_join(store_path(s), "instances", i->name, "state");
        if (!c->image_path || !c->state_path)
                return log_oom();
        /* An ephemeral instance's state is made on disk only if it must be
         * (open_state() in instance_start()); otherwise it lives in the instance's
         * mount namespace alone. */
        if (!i->ephemeral) {
                r = open_state(c, verb, false);
                if (r < 0)
                        return r;
        }
        r = catalog_get_image(store_catalog(s), i->row->image, &c->image);
        if (r < 0)
                return log_error_errno(r, "%s %s: cannot read image %s: %m", verb, i->name,
                                       i->row->image);

        c->holder = strjoin("instance:", i->name);
        if (!c->holder)
                return log_oom();
        v = i->identity->net ?: profile_get_setting(main_profile, "network");
        c->net_spec = strdup(v ?: "none");
        if (!c->net_spec)
                return log_oom();
        r = runner_net_parse(c->net_spec, &c->net);
        if (r < 0)
                return log_error_errno(EINVAL, "%s %s: bad network '%s'", verb, i->name,
                                       c->net_spec);
        if (c->net.mode == RUNNER_NET_BRIDGE) {
                c->net.address = i->identity->ip;
                c->net.gateway = i->identity->gateway;
        }
        v = profile_get_setting(main_profile, "rewrite");
        if (v && strv_split_blanks(v, &c->rewrite) < 0)
                return log_oom();
        v = profile_get_setting(main_profile, "init");
        if (v && strv_split_blanks(v, &c->init_argv) < 0)
                return log_oom();
        r = instance_env(i, &c->env);
        if (r < 0)
                return log_oom();
        return 0;
}

static PersonalizeContext personalize_context(const RunContext *c) {
        return (PersonalizeContext){
                .id = c->inst->identity,
                .image_hostname = c->image->hostname,
                .image_address = c->image->address,
                .rewrite = c->rewrite,
                .no_sync = c->inst->ephemeral,
        };
}

/* The runner's callback, in the instance's new mount namespace. */
static int setup_root(const char *root, int root_fd, void *userdata) {
        RunContext *c = userdata;
        MountTrees t = MOUNT_TREES_INIT;
        _cleanup_close_ int assembled = -EBADF, image = -EBADF, state = -EBADF;
        PersonalizeContext pc;
        int r;

        /* open_tree() clones only mounts of the caller's own namespace: the
         * fds opened before the clone point into the host's. The paths are
         * the store's, not the guest's. */
        if (c->image_detached)
                image = fcntl(c->image_fd, F_DUPFD_CLOEXEC, 3);
        else
                image = open(c->image_path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (image < 0)
                return log_error_errno(errno, "cannot open the image tree %s: %m", c->image_path);
        /* Attached nowhere and gone with the instance: nothing on the host's
         * disk to make or remove, and an overlay upper on tmpfs mounts in a
         * third of the time of one on ext4. */
        if (c->state_tmpfs) {
                r = mount_detached_tmpfs("0755", 0, &state);
                if (r < 0)
                        return log_error_errno(r, "cannot make a tmpfs for the state: %m");
        } else {
                state = open(c->state_path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (state < 0)
                        return log_error_errno(errno, "cannot open the state %s: %m",
                                               c->state_path);
        }
        t.image_fd = image;
        t.state_fd = state;
        t.root_fd = root_fd;
        t.root_path = root;
        t.holder = c->holder;
        t.shared = MOUNT_SHARED_SKIP;
        r = mount_apply(c->plan, &t, NULL);
        /* What the kernel refuses is an operational failure (exit 1), even
         * as EINVAL: the profile was valid. */
        if (error_is_bad_input(r))
                return -EIO;
        if (r < 0)
                return r;
        if (!c->personalize_files)
                return 0;
        /* root_fd is the directory under the mounts; the guest's view is
         * what lies on top now. */
        assembled = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (assembled < 0)
                return log_error_errno(errno, "personalize: cannot open the assembled root: %m");
        pc = personalize_context(c);
        return personalize_files(assembled, &pc);
}

/* The runner's after_clone callback of a throwaway instance: nothing needs
 * the catalog any more, and closing it is worth doing while the instance
 * sets itself up. */
static void close_catalog(void *userdata) {
        RunContext *c = userdata;
        store_close_catalog(c->store);
}

static bool plan_has_shared(const Plan *p) {
        for (size_t k = 0; k < p->n_ops; k++)
                if (p->ops[k].shared)
                        return true;
        return false;
}

/* Releases the shared mounts recorded in run/shared. */
static int release_shared(Instance *i) {
        _cleanup_close_ int run = -EBADF, lock = -EBADF;
        _cleanup_free_ char *text = NULL, *holder = NULL;
        char *line, *save = NULL;
        int r, ret = 0;

        if (i->dir_fd < 0) /* an ephemeral instance with nothing on disk */
                return 0;
        r = instance_open_run_dir(i, false, &run);
        if (r < 0)
                return r == -ENOENT ? 0 : log_error_errno(r, "instance %s: run/: %m", i->name);
        r = read_file_at(run, SHARED_FILE, &text, NULL, 1u << 20);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "instance %s: cannot read run/" SHARED_FILE ": %m",
                                       i->name);
        holder = strjoin("instance:", i->name);
        if (!holder)
                return log_oom();
        r = assembly_lock(&lock);
        if (r < 0)
                return r;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                r = shared_ref_release(line, holder);
                ret = ret ?: r;
        }
        if (ret >= 0 && unlinkat(run, SHARED_FILE, 0) < 0 && errno != ENOENT)
                ret = log_error_errno(errno, "instance %s: cannot remove run/" SHARED_FILE ": %m",
                                      i->name);
        return ret;
}

/* Takes the shared entries in the host namespace and records them. */
static int take_shared(RunContext *c, int run_fd, MountUndo **ret) {
        _cleanup_(mount_undo_freep) MountUndo *undo = NULL;
        _cleanup_free_ char *text = NULL;
        MountTrees t = MOUNT_TREES_INIT;
        size_t size = 0;
        FILE *f;
        int r;

        *ret = NULL;
        if (!plan_has_shared(c->plan))
                return 0;
        t.image_fd = c->image_fd;
        t.state_fd = c->state_fd;
        t.holder = c->holder;
        t.shared = MOUNT_SHARED_ONLY;
        r = mount_apply(c->plan, &t, &undo);
        if (r < 0)
                return r;
        f = open_memstream(&text, &size);
        if (!f)
                r = -ENOMEM;
        else {
                for (size_t k = 0; k < undo->n_steps; k++)
                        if (undo->steps[k].kind == UNDO_SHARED_REF)
                                fprintf(f, "%s\n", undo->steps[k].path);
                r = fclose(f) == 0 ? 0 : -ENOMEM;
        }
        if (r >= 0)
                r = write_file_replace_at(run_fd, SHARED_FILE, text, size, 0600);
        if (r < 0) {
                (void)mount_undo_run(undo, -EBADF);
                return log_error_errno(r, "instance %s: cannot record its shared mounts: %m",
                                       c->inst->name);
        }
        *ret = TAKE_PTR(undo);
        return 0;
}

/* Only a regular file counts: a symlink (to anything, even a regular file)
 * or any other kind of file was not written by goldroot, so the
 * personalization is done again and the marker replaced. */
static int marker_check(const RunContext *c) {
        _cleanup_close_ int fd =
                openat(c->state_fd, INSTANCE_PERSONALIZED_MARKER, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;

        return fd >= 0 && fstat(fd, &st) >= 0 && S_ISREG(st.st_mode);
}

static int marker_write(RunContext *c) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int dir = -EBADF;
        struct stat st;
        int r;

        r = asprintf_safe(&text, "personalized=%" PRIi64 "\nhostname=%s\nmachine_id=%s\n",
                          (int64_t)time(NULL), c->inst->identity->hostname,
                          c->inst->identity->machine_id);
        if (r < 0)
                return log_oom();
        /* state_fd is O_PATH; writing needs a real directory fd. */
        dir = openat(c->inst->dir_fd, "state", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0)
                return log_error_errno(errno, "instance %s: cannot open its state: %m",
                                       c->inst->name);
        /* What marker_check() did not count goes first: the rename below
         * would not replace a directory. */
        r = 0;
        if (fstatat(dir, INSTANCE_PERSONALIZED_MARKER, &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
            !S_ISREG(st.st_mode))
                r = rm_rf_at(dir, INSTANCE_PERSONALIZED_MARKER);
        if (r >= 0)
                r = write_file_atomic_at(dir, INSTANCE_PERSONALIZED_MARKER, text, strlen(text),
                                         0644);
        if (r < 0)
                return log_error_errno(r, "instance %s: cannot record the personalization: %m",
                                       c->inst->name);
        return 0;
}

static RunnerSpec base_spec(RunContext *c) {
        RunnerSpec spec = RUNNER_SPEC_INIT;

        spec.env = c->env;
        spec.hostname = c->inst->identity->hostname;
        spec.privileged = c->inst->identity->privileged;
        spec.setup_root = setup_root;
        spec.userdata = c;
        return spec;
}

/* Runs the personalization programs, each in a short-lived instance without
 * a network, recorded as the instance running; the first one's setup does the
 * file work. Their output goes to the console log, or for a foreground run to
 * stderr. */
static int run_programs(RunContext *c, int run_fd, char ***programs, bool foreground) {
        _cleanup_close_ int log = -EBADF;
        int r;

        /* A foreground run's console is the terminal (and a run --rm's
         * console log would go with it). stderr: the command's stdout is
         * its own. */
        log = foreground ? fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)
                         : openat_in_root_nofollow(run_fd, INSTANCE_CONSOLE_LOG,
                                                   O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY, 0640);
        if (log < 0 && foreground)
                return log_error_errno(errno, "instance %s: cannot take stderr: %m", c->inst->name);
        if (log < 0)
                return log_error_errno(log, "instance %s: cannot open its console log: %m",
                                       c->inst->name);
        for (size_t k = 0; programs[k]; k++) {
                RunnerSpec spec = base_spec(c);

                spec.argv = programs[k];
                spec.console_fd = log;
                spec.net.mode = RUNNER_NET_NONE;
                /* Running for status, exec and stop, which can end a hook
                 * that hangs; the start that runs it holds the lock. */
                spec.status_dirfd = run_fd;
                r = runner_run(&spec);
                if (r < 0)
                        return r;
                c->personalize_files = false;
                if (r != 0)
                        return log_error_errno(
                                EIO, "personalize %s: %s failed with exit status %d%s",
                                c->inst->name, programs[k][0], r,
                                foreground ? "" : " (see run/" INSTANCE_CONSOLE_LOG ")");
        }
        return 0;
}

/* The file work alone, on a temporary assembly in a private mount namespace
 * of a child process: for `personalize` when there is nothing to run. */
static int files_in_private_namespace(RunContext *c) {
        _cleanup_free_ char *root = NULL;
        pid_t pid;
        int status;

        root = path_join(runtime_dir(), "root");
        if (!root)
                return log_oom();
        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "personalize %s: cannot fork: %m", c->inst->name);
        if (pid == 0) {
                _cleanup_close_ int slash = -EBADF, rootfd = -EBADF;
                int r;

                if (unshare(CLONE_NEWNS) < 0 ||
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                        log_error_errno(errno,
                                        "personalize %s: cannot make a private mount "
                                        "namespace: %m",
                                        c->inst->name);
                        _exit(1);
                }
                slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                r = slash < 0 ? -errno : mkdir_p_in_root(slash, root, 0755, &rootfd, NULL);
                if (r < 0) {
                        log_error_errno(r, "personalize %s: cannot create %s: %m", c->inst->name,
                                        root);
                        _exit(1);
                }
                c->personalize_files = true;
                r = setup_root(root, rootfd, c);
                /* The mounts die with this namespace. */
                _exit(r < 0 ? 1 : 0);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "personalize %s: %m", c->inst->name);
        /* The child logged its own error. */
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int check_not_running(Instance *i, const char *verb) {
        InstanceStatus st;
        int r;

        r = instance_status(i, &st);
        if (r < 0)
                return r;
        if (st.state == INSTANCE_RUNNING)
                return log_error_errno(EBUSY, "%s %s: the instance is running (pid %d)", verb,
                                       i->name, (int)st.runner.pid);
        return assembly_check_instance(i->dir_fd, verb, i->name);
}

/* run/command: the command a detached start was given, each argument ended
 * by a NUL; none when it runs the profile's init. upgrade --restart reads it
 * to start the instance again the way it ran. */
static int command_record(int run_fd, char *const *argv) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        if (!argv || !argv[0]) {
                if (unlinkat(run_fd, COMMAND_FILE, 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        for (size_t k = 0; argv[k]; k++)
                len += strlen(argv[k]) + 1;
        buf = malloc(len);
        if (!buf)
                return -ENOMEM;
        len = 0;
        for (size_t k = 0; argv[k]; k++) {
                size_t n = strlen(argv[k]) + 1;

                memcpy(buf + len, argv[k], n);
                len += n;
        }
        return write_file_replace_at(run_fd, COMMAND_FILE, buf, len, 0600);
}

int instance_start_command(Instance *i, char ***ret) {
        _cleanup_close_ int run = -EBADF;
        _cleanup_free_ char *buf = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        size_t len;
        int r;

        assert(ret);
        *ret = NULL;
        r = instance_open_run_dir(i, false, &run);
        if (r == -ENOENT)
                return 0;
        if (r >= 0)
                r = read_file_at(run, COMMAND_FILE, &buf, &len, COMMAND_MAX);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "%s: cannot read run/%s: %m", i->name, COMMAND_FILE);
        if (len == 0 || buf[len - 1] != '\0')
                return log_error_errno(EBADMSG, "%s: run/%s is damaged", i->name, COMMAND_FILE);
        for (size_t at = 0; at < len; at += strlen(buf + at) + 1) {
                r = strv_extend(&argv, buf + at);
                if (r < 0)
                        return log_oom();
        }
        *ret = TAKE_PTR(argv);
        return 0;
}

int instance_start(Store *s, Instance *i, const InstanceRunOptions *o) {
        _cleanup_(run_context_done) RunContext c = {.image_fd = -EBADF, .state_fd = -EBADF};
        _cleanup_(mount_undo_freep) MountUndo *shared = NULL;
        _cleanup_(runner_netns_ahead_freep) RunnerNetnsAhead *netns_ahead = o->netns_ahead;
        _cleanup_close_ int run = -EBADF;
        char ***programs = NULL;
        const char *verb = o->foreground ? "run" : "start";
        bool volatile_mode, personalize;
        RunnerSpec spec;
        pid_t pid;
        int r;

        /* An ephemeral instance with a random name has no directory yet. */
        assert(i->lock_fd >= 0 || (i->ephemeral && i->dir_fd < 0));
        assert(!i->ephemeral || o->foreground);
        if (o->ret_started)
                *o->ret_started = false;
        if (i->dir_fd >= 0) {
                r = check_not_running(i, verb);
                if (r < 0)
                        return r;
                /* An upgrade that crashed after its catalog commit is
                 * finished first, so the instance never starts on the old
                 * state with the new image. */
                r = i->ephemeral ? 0 : upgrade_recover(s, i);
                if (r < 0)
                        return r;
        }
        /* What an instance that exited by itself still held. */
        r = release_shared(i);
        if (r < 0)
                return r;
        r = run_context_load(s, i, verb, &c);
        if (r < 0)
                return r;

        spec = base_spec(&c);
        spec.net = c.net;
        if (c.net.mode == RUNNER_NET_HOST)
                netns_ahead = runner_netns_ahead_free(netns_ahead);
        /* In the foreground the instance joins it when it is ready; the fork
         * of a detached start would copy this thread alone. */
        else if (netns_ahead && !o->foreground)
                (void)runner_netns_ahead_join(netns_ahead);
        spec.netns_ahead = netns_ahead;
        if (o->argv && o->argv[0])
                spec.argv = o->argv;
        else {
                _cleanup_close_ int init = -EBADF;

                if (!c.init_argv || !c.init_argv[0])
                        return log_error_errno(EINVAL,
                                               "%s %s: the profile sets no init: give a "
                                               "command after --",
                                               verb, i->name);
                init = openat_in_root(c.image_fd, path_relative(c.init_argv[0]), O_PATH, 0);
                if (init < 0)
                        return log_error_errno(ENOENT,
                                               "%s %s: the image has no %s: give a command "
                                               "after --",
                                               verb, i->name, c.init_argv[0]);
                spec.argv = c.init_argv;
                spec.init = true;
        }

        volatile_mode = streq(i->identity->mode, "volatile");
        personalize = volatile_mode || i->ephemeral || !marker_check(&c);
        if (personalize && !volatile_mode) {
                r = personalize_programs(c.image_fd, &programs);
                if (r < 0)
                        return log_error_errno(r,
                                               "%s %s: cannot list the personalization "
                                               "programs: %m",
                                               verb, i->name);
        }

        /* The programs run in instances of their own, before this one: they
         * need the state on disk to pass on what they made; shared entries
         * are taken in the host's namespace, where only the disk is. */
        c.state_tmpfs = i->ephemeral && !(programs && programs[0]) && !plan_has_shared(c.plan);
        if (i->ephemeral && !c.state_tmpfs) {
                r = instance_ephemeral_dir(i);
                if (r >= 0)
                        r = open_state(&c, verb, true);
                if (r < 0)
                        goto finish;
        }
        /* A named run --rm records its status there too. */
        if (!c.state_tmpfs || i->dir_fd >= 0) {
                r = instance_open_run_dir(i, true, &run);
                if (r < 0) {
                        r = log_error_errno(r, "%s %s: cannot make run/: %m", verb, i->name);
                        goto finish;
                }
        }

        r = take_shared(&c, run, &shared);
        if (r < 0)
                goto finish;

        c.personalize_files = personalize;
        if (programs && programs[0]) {
                r = run_programs(&c, run, programs, o->foreground);
                if (r < 0)
                        goto fail;
        }
        if (o->foreground) {
                /* A state in memory dies with the instance: nothing to wait
                 * for once the command's status is known. */
                spec.return_at_command_exit = c.state_tmpfs;
                if (c.state_tmpfs)
                        spec.after_clone = close_catalog;
                /* For ls, status, exec and stop, which look there. */
                spec.status_dirfd = run;
                /* run passes the command's status through: a missing
                 * command must not look like one that ran and failed. */
                spec.exec_failure_status = true;
                spec.ret_started = o->ret_started;
                r = runner_run(&spec);
                if (r >= 0 && personalize && !volatile_mode && !i->ephemeral) {
                        int k = marker_write(&c);
                        r = k < 0 ? k : r;
                }
                /* The instance is gone: so are its holds. */
                mount_undo_free(TAKE_PTR(shared));
                (void)release_shared(i);
                goto finish;
        }
        r = command_record(run, o->argv);
        if (r < 0) {
                r = log_error_errno(r, "start %s: cannot record its command: %m", i->name);
                goto fail;
        }
        r = runner_start_detached(&spec, run, INSTANCE_CONSOLE_LOG, &pid);
        if (r < 0)
                goto fail;
        if (personalize && !volatile_mode && !i->ephemeral) {
                r = marker_write(&c);
                if (r < 0)
                        goto finish;
        }
        log_debug("started %s, pid %d", i->name, (int)pid);
        r = 0;
        goto finish;
fail:
        mount_undo_free(TAKE_PTR(shared));
        (void)release_shared(i);
finish:
        personalize_programs_free(programs);
        return r;
}

int instance_personalize(Store *s, Instance *i, bool again) {
        _cleanup_(run_context_done) RunContext c = {.image_fd = -EBADF, .state_fd = -EBADF};
        _cleanup_(mount_undo_freep) MountUndo *shared = NULL;
        _cleanup_close_ int run = -EBADF;
        char ***programs = NULL;
        int r;

        assert(i->lock_fd >= 0);
        r = check_not_running(i, "personalize");
        if (r < 0)
                return r;
        if (streq(i->identity->mode, "volatile")) {
                log_info("personalize %s: a volatile instance is personalized at every start",
                         i->name);
                return 0;
        }
        r = run_context_load(s, i, "personalize", &c);
        if (r < 0)
                return r;
        if (marker_check(&c) && !again) {
                log_info("personalize %s: done already (use --again to redo it)", i->name);
                return 0;
        }
        r = release_shared(i);
        if (r < 0)
                return r;
        r = instance_open_run_dir(i, true, &run);
        if (r < 0)
                return log_error_errno(r, "personalize %s: cannot make run/: %m", i->name);
        r = personalize_programs(c.image_fd, &programs);
        if (r < 0)
                return log_error_errno(r, "personalize %s: cannot list the programs: %m", i->name);
        r = take_shared(&c, run, &shared);
        if (r >= 0) {
                c.personalize_files = true;
                r = programs[0] ? run_programs(&c, run, programs, false)
                                : files_in_private_namespace(&c);
                if (r >= 0)
                        r = marker_write(&c);
                mount_undo_free(TAKE_PTR(shared));
                (void)release_shared(i);
        }
        personalize_programs_free(programs);
        return r;
}

int instance_stop(Instance *i, unsigned timeout_s, bool *ret_killed) {
        _cleanup_close_ int run = -EBADF, pidfd = -EBADF;
        InstanceStatus st;
        RunnerStatus after;
        int r;

        assert(i->lock_fd >= 0);
        if (ret_killed)
                *ret_killed = false;
        r = instance_status(i, &st);
        if (r < 0)
                return r;
        if (st.state == INSTANCE_RUNNING) {
                r = runner_status_pidfd(&st.runner, &pidfd);
                if (r < 0 && r != -ESRCH)
                        return log_error_errno(r, "stop %s: cannot find its process: %m", i->name);
                if (pidfd >= 0) {
                        r = runner_stop(pidfd, SIGTERM, timeout_s * 1000u, ret_killed);
                        if (r < 0)
                                return r;
                }
                r = instance_open_run_dir(i, false, &run);
                if (r >= 0) {
                        /* The monitor records the exit; it is quick once the
                         * instance is gone. */
                        r = runner_status_wait_exited(run, 10000, &after);
                        if (r < 0 && r != -ENOENT)
                                log_warning_errno(r,
                                                  "stop %s: the monitor did not record the "
                                                  "exit: %m",
                                                  i->name);
                }
        }
        /* The mount namespace died with the instance's last process; what is
         * left are its holds on shared mounts. */
        return release_shared(i);
}

int instance_stop_foreground(Instance *i, unsigned timeout_s, bool *ret_killed) {
        _cleanup_close_ int pidfd = -EBADF;
        InstanceStatus st;
        int r;

        assert(i->lock_fd < 0);
        if (ret_killed)
                *ret_killed = false;
        r = instance_status(i, &st);
        if (r < 0)
                return r;
        /* A detached instance leaves its lock free while it runs. */
        if (st.state != INSTANCE_RUNNING || !instance_is_held(i))
                return 0;
        r = runner_status_pidfd(&st.runner, &pidfd);
        if (r == -ESRCH)
                return 0;
        if (r < 0)
                return log_error_errno(r, "stop %s: cannot find its process: %m", i->name);
        return runner_stop(pidfd, SIGTERM, timeout_s * 1000u, ret_killed);
}

int instance_exec(Instance *i, char *const *argv) {
        _cleanup_close_ int pidfd = -EBADF;
        _cleanup_strv_free_ char **env = NULL;
        RunnerExecOptions o = RUNNER_EXEC_OPTIONS_INIT;
        InstanceStatus st;
        int r;

        r = instance_status(i, &st);
        if (r < 0)
                return r;
        if (st.state != INSTANCE_RUNNING)
                return log_error_errno(ESRCH,
                                       "exec %s: the instance is not running (start it "
                                       "first)",
                                       i->name);
        r = runner_status_pidfd(&st.runner, &pidfd);
        if (r == -ESRCH)
                return log_error_errno(ESRCH, "exec %s: the instance is not running", i->name);
        if (r < 0)
                return log_error_errno(r, "exec %s: cannot find its process: %m", i->name);
        r = instance_env(i, &env);
        if (r < 0)
                return log_oom();
        o.env = env;
        return runner_exec(pidfd, argv, &o);
}
