/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * oci: an instance as an OCI runtime bundle (runtime-spec 1.0.x).
 *
 * The plan is translated op by op into config.json's mount list. OCI has no
 * mount that is made but never attached, so an aside entry (the ro profile's
 * overlay "rw") is mounted where / shows it: the entry that binds @ENTRY onto
 * / becomes that entry's own mount at /, and every later @ENTRY/SUB bind reads
 * from BUNDLE/rootfs/SUB, which is the overlay once the runtime has mounted it
 * there (runtimes resolve bind sources in the container's mount namespace, in
 * list order). root.path is the bundle's empty rootfs/ and root.readonly is
 * the / entry's ro: the runtime makes / read-only after the other mounts, as
 * goldroot's bind does, and the writable binds under it stay writable.
 *
 * Bind sources are host paths to a runtime, which follows symlinks in them.
 * goldroot resolves state and image paths in-root; here every source is
 * checked, when the bundle is written, to be reachable without a symlink.
 */
#include "oci.h"

#include "assembly.h"
#include "fsutil.h"
#include "json.h"
#include "plan.h"
#include "profile.h"
#include "util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <sys/stat.h>

typedef struct Bundle {
        Instance *inst;
        const Plan *plan;
        int image_fd;
        int state_fd;
        char *image_path;
        char *state_path;
        char *rootfs;          /* absolute, canonical: BUNDLE/rootfs */
        const char **shown_at; /* per op: where the container sees its mount; NULL if not */
        JsonWriter *w;
} Bundle;

static const char *const cap_names[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

static int unsupported(const Bundle *b, const MountOp *op, const char *why) {
        return log_error_errno(EOPNOTSUPP,
                               "oci-bundle %s: entry '%s': %s cannot be expressed in "
                               "an OCI bundle",
                               b->inst->name, op->entry, why);
}

/* Checks that path (absolute, inside the tree at fd) is reachable without a
 * symlink. 0 if it is, -ENOENT if it is missing; other errors are logged. */
static int check_in_tree(const Bundle *b, const MountOp *op, int fd, const char *what,
                         const char *path) {
        _cleanup_close_ int f = -EBADF;

        f = openat_in_root_nofollow(fd, path, O_PATH, 0);
        if (f == -ENOENT)
                return f;
        if (f == -ELOOP)
                return log_error_errno(ELOOP,
                                       "oci-bundle %s: entry '%s': %s%s is or crosses a "
                                       "symlink, which a runtime would follow on the host",
                                       b->inst->name, op->entry, what, path);
        if (f < 0)
                return log_error_errno(f, "oci-bundle %s: entry '%s': cannot open %s%s: %m",
                                       b->inst->name, op->entry, what, path);
        return 0;
}

/* A state directory goldroot itself makes on demand (an upper, a work dir,
 * a create source), made here and checked. */
static int state_dir(const Bundle *b, const MountOp *op, const char *path, char **ret) {
        int r;

        r = mkdir_p_in_root(b->state_fd, path, 0755, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "oci-bundle %s: entry '%s': cannot make state:%s: %m",
                                       b->inst->name, op->entry, path);
        r = check_in_tree(b, op, b->state_fd, "state:", path);
        if (r < 0)
                return r == -ENOENT ? log_error_errno(r, "oci-bundle %s: state:%s vanished",
                                                      b->inst->name, path)
                                    : r;
        *ret = path_join(b->state_path, path);
        return *ret ? 0 : log_oom();
}

/* The host path of a plan path outside the assembly; *ret NULL: an optional
 * source that is missing, so the entry is skipped. */
static int host_path(const Bundle *b, const MountOp *op, const PlanPath *p, bool create,
                     char **ret) {
        int r;

        *ret = NULL;
        switch (p->base) {
        case BASE_HOST:
                if (access(p->path, F_OK) < 0 && (op->flags & ENTRY_OPTIONAL))
                        return 0;
                *ret = strdup(p->path);
                break;
        case BASE_IMAGE:
                r = check_in_tree(b, op, b->image_fd, "image:", p->path);
                if (r == -ENOENT && (op->flags & ENTRY_OPTIONAL))
                        return 0;
                if (r == -ENOENT)
                        return log_error_errno(r, "oci-bundle %s: entry '%s': image:%s: %m",
                                               b->inst->name, op->entry, p->path);
                if (r < 0)
                        return r;
                *ret = path_join(b->image_path, p->path);
                break;
        case BASE_STATE:
                if (create)
                        return state_dir(b, op, p->path, ret);
                r = check_in_tree(b, op, b->state_fd, "state:", p->path);
                if (r == -ENOENT && (op->flags & ENTRY_OPTIONAL))
                        return 0;
                if (r == -ENOENT)
                        return log_error_errno(r, "oci-bundle %s: entry '%s': state:%s: %m",
                                               b->inst->name, op->entry, p->path);
                if (r < 0)
                        return r;
                *ret = path_join(b->state_path, p->path);
                break;
        default:
                return unsupported(b, op, "a source inside the assembly");
        }
        return *ret ? 0 : log_oom();
}

/* Overlay options are comma-separated and lowerdir is colon-separated. */
static bool overlay_path_ok(const char *p) {
        return !strpbrk(p, ",:\\");
}

static void flag_options(JsonWriter *w, unsigned flags) {
        if (flags & ENTRY_NOSUID)
                json_string(w, "nosuid");
        if (flags & ENTRY_NODEV)
                json_string(w, "nodev");
        if (flags & ENTRY_NOEXEC)
                json_string(w, "noexec");
}

/* Writes one mount object: op's own mount (mnt, which may be an aside op
 * that / shows) at target, with ro/rw and nosuid... from flags. */
static int write_mount(Bundle *b, const MountOp *mnt, const char *target, unsigned flags,
                       bool at_root) {
        _cleanup_free_ char *src = NULL, *upper = NULL, *work = NULL, *opt = NULL;
        JsonWriter *w = b->w;
        char buf[64];
        int r;

        switch (mnt->kind) {
        case OP_BIND:
                if (mnt->source.base == BASE_ENTRY) {
                        /* Resolved by the caller. */
                        abort();
                }
                r = host_path(b, mnt, &mnt->source, mnt->flags & ENTRY_CREATE, &src);
                if (r < 0 || !src)
                        return r;
                json_begin_object(w);
                json_kv_string(w, "destination", target);
                json_kv_string(w, "type", "bind");
                json_kv_string(w, "source", src);
                json_key(w, "options");
                json_begin_array(w);
                json_string(w, "rbind");
                json_string(w, at_root || !(flags & ENTRY_RO) ? "rw" : "ro");
                flag_options(w, flags);
                json_end_array(w);
                json_end_object(w);
                return 0;
        case OP_OVERLAY:
                if (mnt->upper_tmpfs)
                        return unsupported(b, mnt, "an overlay with upper=tmpfs");
                r = host_path(b, mnt, &mnt->source, false, &src);
                if (r < 0 || !src)
                        return r;
                if (mnt->upper.base != BASE_STATE || mnt->work.base != BASE_STATE)
                        return unsupported(b, mnt, "an overlay upper outside the state");
                r = state_dir(b, mnt, mnt->upper.path, &upper);
                if (r < 0)
                        return r;
                r = state_dir(b, mnt, mnt->work.path, &work);
                if (r < 0)
                        return r;
                if (!overlay_path_ok(src) || !overlay_path_ok(upper) || !overlay_path_ok(work))
                        return unsupported(b, mnt, "a path with ',', ':' or '\\'");
                opt = strjoin("lowerdir=", src, ",upperdir=", upper, ",workdir=", work);
                if (!opt)
                        return log_oom();
                json_begin_object(w);
                json_kv_string(w, "destination", target);
                json_kv_string(w, "type", "overlay");
                json_kv_string(w, "source", "overlay");
                json_key(w, "options");
                json_begin_array(w);
                json_string(w, opt);
                if (!at_root && (flags & ENTRY_RO))
                        json_string(w, "ro");
                flag_options(w, flags);
                json_end_array(w);
                json_end_object(w);
                return 0;
        case OP_TMPFS:
                if (mnt->flags & ENTRY_COPY)
                        return unsupported(b, mnt, "tmpfs copy (seeding from underneath)");
                json_begin_object(w);
                json_kv_string(w, "destination", target);
                json_kv_string(w, "type", "tmpfs");
                json_kv_string(w, "source", "tmpfs");
                json_key(w, "options");
                json_begin_array(w);
                if (!at_root && (flags & ENTRY_RO))
                        json_string(w, "ro");
                flag_options(w, flags);
                if (mnt->flags & ENTRY_HAS_SIZE) {
                        snprintf(buf, sizeof buf, "size=%" PRIu64, mnt->size);
                        json_string(w, buf);
                }
                if (mnt->flags & ENTRY_HAS_MODE) {
                        snprintf(buf, sizeof buf, "mode=%04o", (unsigned)mnt->mode);
                        json_string(w, buf);
                }
                if (mnt->flags & ENTRY_HAS_UID) {
                        snprintf(buf, sizeof buf, "uid=%u", (unsigned)mnt->uid);
                        json_string(w, buf);
                }
                if (mnt->flags & ENTRY_HAS_GID) {
                        snprintf(buf, sizeof buf, "gid=%u", (unsigned)mnt->gid);
                        json_string(w, buf);
                }
                json_end_array(w);
                json_end_object(w);
                return 0;
        case OP_LOOP:
                return unsupported(b, mnt, "a loop mount");
        case OP_DEV:
                return unsupported(b, mnt, "a block device mount");
        default:
                abort();
        }
}

/* A bind of @ENTRY/SUB: a bind from where the container shows that entry. */
static int write_entry_bind(Bundle *b, const MountOp *op) {
        const MountOp *ref = &b->plan->ops[op->source_op];
        const char *shown = b->shown_at[op->source_op];
        _cleanup_free_ char *src = NULL;
        JsonWriter *w = b->w;
        int r;

        if (!shown)
                return unsupported(b, op, "a bind from an aside entry that / does not show");
        /* What exists at bundle time is the entry's source (and its upper): a
         * missing SUB is made where goldroot's mkdir through the overlay would
         * land, in the upper, only when the lower lacks it too. */
        if ((ref->kind == OP_OVERLAY || ref->kind == OP_BIND) &&
            (ref->source.base == BASE_IMAGE || ref->source.base == BASE_STATE)) {
                _cleanup_free_ char *lower = path_join(ref->source.path, op->source.path);
                int in_lower = -ENOENT, in_upper = -ENOENT;

                if (!lower)
                        return log_oom();
                bool img = ref->source.base == BASE_IMAGE;
                in_lower = check_in_tree(b, op, img ? b->image_fd : b->state_fd,
                                         img ? "image:" : "state:", lower);
                if (in_lower < 0 && in_lower != -ENOENT)
                        return in_lower;
                if (ref->kind == OP_OVERLAY && ref->upper.base == BASE_STATE) {
                        _cleanup_free_ char *up = path_join(ref->upper.path, op->source.path);
                        if (!up)
                                return log_oom();
                        in_upper = check_in_tree(b, op, b->state_fd, "state:", up);
                        if (in_upper < 0 && in_upper != -ENOENT)
                                return in_upper;
                        if (in_lower == -ENOENT && in_upper == -ENOENT &&
                            (op->flags & ENTRY_CREATE)) {
                                _cleanup_free_ char *made = NULL;
                                r = state_dir(b, op, up, &made);
                                if (r < 0)
                                        return r;
                                in_upper = 0;
                        }
                }
                if (in_lower == -ENOENT && in_upper == -ENOENT) {
                        if (op->flags & ENTRY_OPTIONAL)
                                return 0;
                        return log_error_errno(ENOENT, "oci-bundle %s: entry '%s': @%s%s: %m",
                                               b->inst->name, op->entry, ref->entry,
                                               op->source.path);
                }
        }
        src = path_join(b->rootfs, shown, op->source.path);
        if (!src)
                return log_oom();
        json_begin_object(w);
        json_kv_string(w, "destination", op->target.path);
        json_kv_string(w, "type", "bind");
        json_kv_string(w, "source", src);
        json_key(w, "options");
        json_begin_array(w);
        json_string(w, "rbind");
        json_string(w, op->flags & ENTRY_RO ? "ro" : "rw");
        flag_options(w, op->flags);
        json_end_array(w);
        json_end_object(w);
        return 0;
}

/* Finds the op that makes /, and whether / shows an aside entry. */
static int find_root(Bundle *b, size_t *ret_root) {
        const Plan *p = b->plan;

        for (size_t k = 0; k < p->n_ops; k++) {
                const MountOp *op = &p->ops[k];

                if (op->aside || op->shared || op->target.base != BASE_ROOT ||
                    !streq(op->target.path, "/"))
                        continue;
                if (op->kind == OP_BIND && op->source.base == BASE_ENTRY) {
                        if (!streq(op->source.path, "/") || !p->ops[op->source_op].aside)
                                return unsupported(b, op, "/ as a part of another entry");
                        b->shown_at[op->source_op] = "/";
                }
                b->shown_at[k] = "/";
                *ret_root = k;
                return 0;
        }
        return log_error_errno(EOPNOTSUPP, "oci-bundle %s: the profile has no entry for /",
                               b->inst->name);
}

static int write_mounts(Bundle *b, size_t root, bool privileged) {
        const Plan *p = b->plan;
        JsonWriter *w = b->w;
        int r;

        json_key(w, "mounts");
        json_begin_array(w);
        for (size_t k = 0; k < p->n_ops; k++) {
                const MountOp *op = &p->ops[k];

                if (op->shared)
                        return unsupported(b, op, "a shared mount of another profile");
                if (op->aside) {
                        if (!b->shown_at[k])
                                return unsupported(b, op, "an aside entry that / does not show");
                        continue;
                }
                if (k == root && op->kind == OP_BIND && op->source.base == BASE_ENTRY)
                        r = write_mount(b, &p->ops[op->source_op], "/", op->flags, true);
                else if (k == root)
                        r = write_mount(b, op, "/", op->flags, true);
                else if (op->kind == OP_BIND && op->source.base == BASE_ENTRY)
                        r = write_entry_bind(b, op);
                else
                        r = write_mount(b, op, op->target.path, op->flags, false);
                if (r < 0)
                        return r;
                if (!b->shown_at[k] && op->target.base == BASE_ROOT)
                        b->shown_at[k] = op->target.path;
        }

        /* What the runner adds after the profile's mounts. */
        static const struct {
                const char *dest, *type, *source, *options;
        } sys[] = {
                {"/proc", "proc", "proc", "nosuid,nodev,noexec"},
                {"/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"},
                {"/dev/pts", "devpts", "devpts",
                 "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"},
                {"/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k"},
                {"/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"},
                {"/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"},
        };
        for (size_t k = 0; k < ELEMENTSOF(sys); k++) {
                const char *o = sys[k].options;

                json_begin_object(w);
                json_kv_string(w, "destination", sys[k].dest);
                json_kv_string(w, "type", sys[k].type);
                json_kv_string(w, "source", sys[k].source);
                json_key(w, "options");
                json_begin_array(w);
                while (*o) {
                        size_t n = strcspn(o, ",");
                        char opt[64];

                        snprintf(opt, sizeof opt, "%.*s", (int)n, o);
                        if (!(privileged && streq(opt, "ro")))
                                json_string(w, opt);
                        o += n + (o[n] == ',');
                }
                json_end_array(w);
                json_end_object(w);
        }
        json_end_array(w);
        return 0;
}

static void write_strv(JsonWriter *w, const char *key, char *const *l) {
        json_key(w, key);
        json_begin_array(w);
        for (size_t k = 0; l && l[k]; k++)
                json_string(w, l[k]);
        json_end_array(w);
}

static void write_caps(JsonWriter *w, uint64_t caps) {
        static const char *const sets[] = {"bounding", "effective", "permitted"};

        json_key(w, "capabilities");
        json_begin_object(w);
        for (size_t s = 0; s < ELEMENTSOF(sets); s++) {
                json_key(w, sets[s]);
                json_begin_array(w);
                for (size_t c = 0; c < ELEMENTSOF(cap_names); c++)
                        if (caps & (UINT64_C(1) << c))
                                json_string(w, cap_names[c]);
                json_end_array(w);
        }
        json_end_object(w);
}

static void write_linux(JsonWriter *w, bool netns, bool privileged) {
        static const char *const masked[] = {
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/sched_debug",
                "/proc/scsi",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/sys/firmware",
                "/sys/devices/virtual/powercap",
        };
        static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                               "/proc/sysrq-trigger"};
        static const char *const ns[] = {"pid", "ipc", "uts", "mount", "cgroup", "network"};

        json_key(w, "linux");
        json_begin_object(w);
        json_key(w, "namespaces");
        json_begin_array(w);
        for (size_t k = 0; k < ELEMENTSOF(ns); k++) {
                if (streq(ns[k], "network") && !netns)
                        continue;
                json_begin_object(w);
                json_kv_string(w, "type", ns[k]);
                json_end_object(w);
        }
        json_end_array(w);
        if (!privileged) {
                json_key(w, "maskedPaths");
                json_begin_array(w);
                for (size_t k = 0; k < ELEMENTSOF(masked); k++)
                        json_string(w, masked[k]);
                json_end_array(w);
                json_key(w, "readonlyPaths");
                json_begin_array(w);
                for (size_t k = 0; k < ELEMENTSOF(readonly); k++)
                        json_string(w, readonly[k]);
                json_end_array(w);
        }
        json_end_object(w);
}

static int open_bundle_dir(const char *verb, const char *dir, int *ret_fd, char **ret_rootfs,
                           bool made[2]) {
        _cleanup_close_ int fd = -EBADF, rootfs = -EBADF;
        _cleanup_free_ char *canon = NULL;

        if (mkdir(dir, 0755) >= 0)
                made[0] = true;
        else if (errno != EEXIST)
                return log_error_errno(errno, "%s: cannot make %s: %m", verb, dir);
        fd = open(dir, O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "%s: cannot open %s: %m", verb, dir);
        if (mkdirat(fd, "rootfs", 0755) >= 0)
                made[1] = true;
        else if (errno != EEXIST)
                return log_error_errno(errno, "%s: cannot make %s/rootfs: %m", verb, dir);
        rootfs = openat(fd, "rootfs", O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfs < 0)
                return log_error_errno(errno, "%s: %s/rootfs is not a directory: %m", verb, dir);
        canon = realpath(dir, NULL);
        if (!canon)
                return log_error_errno(errno, "%s: %s: %m", verb, dir);
        *ret_rootfs = path_join(canon, "rootfs");
        if (!*ret_rootfs)
                return log_oom();
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int bundle_write(Store *s, Instance *i, const char *dir, char *const *argv, bool made[2]) {
        _cleanup_(profile_set_freep) ProfileSet *set = NULL;
        _cleanup_(plan_freep) Plan *plan = NULL;
        _cleanup_close_ int image_fd = -EBADF, state_fd = -EBADF, dir_fd = -EBADF;
        _cleanup_free_ char *image_path = NULL, *state_path = NULL, *rootfs = NULL, *text = NULL;
        _cleanup_free_ const char **shown = NULL;
        _cleanup_strv_free_ char **init = NULL, **env = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        const Profile *main_profile;
        const char *net_spec;
        RunnerNet net = {};
        InstanceStatus st;
        JsonWriter w;
        size_t len = 0, root = 0;
        Bundle b;
        uint64_t caps;
        int r;

        assert(s);
        assert(i);
        assert(dir);

        r = instance_status(i, &st);
        if (r < 0)
                return r;
        if (st.state == INSTANCE_RUNNING)
                return log_error_errno(EBUSY, "oci-bundle %s: the instance is running (pid %d)",
                                       i->name, (int)st.runner.pid);
        r = assembly_check_instance(i->dir_fd, "oci-bundle", i->name);
        if (r < 0)
                return r;
        r = instance_plan(i, &set, &plan);
        if (r < 0)
                return r;
        main_profile = set->profiles[0];

        net_spec = i->identity->net ?: profile_get_setting(main_profile, "network") ?: "none";
        if (runner_net_parse(net_spec, &net) < 0)
                return log_error_errno(EINVAL, "oci-bundle %s: bad network '%s'", i->name,
                                       net_spec);
        if (net.mode == RUNNER_NET_BRIDGE)
                return log_error_errno(EOPNOTSUPP,
                                       "oci-bundle %s: network %s cannot be expressed in an OCI "
                                       "bundle (a runtime makes no veth): use --net none or host, "
                                       "or join the network with a hook",
                                       i->name, net_spec);
        if (!argv) {
                const char *v = profile_get_setting(main_profile, "init");
                if (!v)
                        return log_error_errno(EINVAL,
                                               "oci-bundle %s: no command given and the profile "
                                               "sets no init",
                                               i->name);
                if (strv_split_blanks(v, &init) < 0)
                        return log_oom();
                argv = init;
        }
        r = instance_env(i, &env);
        if (r < 0)
                return log_oom();

        r = store_open_image_root(s, i->row->image, &image_fd);
        if (r < 0)
                return log_error_errno(r, "oci-bundle %s: cannot open image %s: %m", i->name,
                                       i->row->image);
        state_fd = openat(i->dir_fd, "state", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (state_fd < 0)
                return log_error_errno(errno, "oci-bundle %s: cannot open its state: %m", i->name);
        image_path = store_image_root_path(s, i->row->image);
        state_path = path_join(store_path(s), "instances", i->name, "state");
        shown = calloc(plan->n_ops ?: 1, sizeof *shown);
        if (!image_path || !state_path || !shown)
                return log_oom();
        r = open_bundle_dir("oci-bundle", dir, &dir_fd, &rootfs, made);
        if (r < 0)
                return r;

        f = open_memstream(&text, &len);
        if (!f)
                return log_oom();
        json_init(&w, f);
        b = (Bundle){
                .inst = i,
                .plan = plan,
                .image_fd = image_fd,
                .state_fd = state_fd,
                .image_path = image_path,
                .state_path = state_path,
                .rootfs = rootfs,
                .shown_at = shown,
                .w = &w,
        };
        r = find_root(&b, &root);
        if (r < 0)
                return r;

        json_begin_object(&w);
        json_kv_string(&w, "ociVersion", "1.0.2");
        json_key(&w, "process");
        json_begin_object(&w);
        json_kv_bool(&w, "terminal", false);
        json_key(&w, "user");
        json_begin_object(&w);
        json_kv_uint(&w, "uid", 0);
        json_kv_uint(&w, "gid", 0);
        json_end_object(&w);
        write_strv(&w, "args", argv);
        write_strv(&w, "env", env);
        json_kv_string(&w, "cwd", "/");
        caps = i->identity->privileged ? (UINT64_C(1) << ELEMENTSOF(cap_names)) - 1
                                       : runner_default_capabilities();
        write_caps(&w, caps);
        json_end_object(&w);

        json_key(&w, "root");
        json_begin_object(&w);
        json_kv_string(&w, "path", "rootfs");
        json_kv_bool(&w, "readonly", plan->ops[root].flags & ENTRY_RO);
        json_end_object(&w);
        json_kv_string(&w, "hostname", i->identity->hostname);

        r = write_mounts(&b, root, i->identity->privileged);
        if (r < 0)
                return r;
        write_linux(&w, net.mode != RUNNER_NET_HOST, i->identity->privileged);

        json_key(&w, "annotations");
        json_begin_object(&w);
        json_kv_string(&w, "org.goldroot.instance", i->name);
        json_kv_string(&w, "org.goldroot.image", i->row->image);
        json_kv_string(&w, "org.goldroot.mode", i->identity->mode);
        json_end_object(&w);
        json_end_object(&w);
        r = json_finish(&w);
        if (r < 0 || fflush(f) != 0)
                return log_error_errno(r < 0 ? r : EIO, "oci-bundle %s: cannot format config.json",
                                       i->name);
        /* The bundle runs the same instance: its first-start work is done
         * before a runtime sees it, as start would do it. */
        r = instance_personalize(s, i, false);
        if (r < 0)
                return error_is_bad_input(r) ? -EIO : r;
        r = write_file_atomic_at(dir_fd, "config.json", text, len, 0644);
        if (r < 0)
                return log_error_errno(r, "oci-bundle %s: cannot write %s/config.json: %m", i->name,
                                       dir);
        return 0;
}

int oci_bundle_write(Store *s, Instance *i, const char *dir, char *const *argv) {
        bool made[2] = {};
        int r;

        r = bundle_write(s, i, dir, argv, made);
        if (r < 0) {
                /* Nothing left behind but what was there. */
                _cleanup_free_ char *rootfs = path_join(dir, "rootfs");
                if (made[1] && rootfs)
                        (void)rmdir(rootfs);
                if (made[0])
                        (void)rmdir(dir);
        }
        return r;
}
