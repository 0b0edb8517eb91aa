/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runner: starting, waiting for and stopping an instance.
 *
 * The parent clones the first process into new namespaces and talks to it
 * over a socketpair: the child assembles its root (the caller's callback),
 * /dev, /proc and /sys, pivots and drops capabilities, then reports "ready"
 * or one line of error; in bridge mode it then waits while the parent
 * configures the network and says "go". The command's exec closes the
 * child's end, which the parent sees as success.
 */
#include "runner.h"
#include "fsutil.h"
#include "netdev.h"
#include "runner-internal.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define RUNNER_NS_FLAGS (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP)
/* How long stop waits after SIGKILL before it gives up on a process that is
 * stuck in the kernel. */
#define RUNNER_KILL_WAIT_MS 10000
/* The command's stack from its clone to its exec: execvp() and, when that
 * fails, the error's formatting run on it. */
#define COMMAND_STACK_SIZE (256 * 1024)

/* Docker's default list without MKNOD: Docker backs MKNOD with a device
 * cgroup that allows only a few nodes; goldroot has none, so mknod would hand
 * root in the instance any host device (a disk, /dev/kmsg, /dev/kvm) on any
 * writable file system mounted without nodev. */
uint64_t runner_default_capabilities(void) {
        static const int caps[] = {
                CAP_CHOWN,       CAP_DAC_OVERRIDE,     CAP_FSETID,     CAP_FOWNER,
                CAP_NET_RAW,     CAP_SETGID,           CAP_SETUID,     CAP_SETFCAP,
                CAP_SETPCAP,     CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,
                CAP_AUDIT_WRITE,
        };
        uint64_t mask = 0;

        for (size_t i = 0; i < ELEMENTSOF(caps); i++)
                mask |= UINT64_C(1) << caps[i];
        return mask;
}

int runner_default_env(char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        const char *term = getenv("TERM");

        assert(ret);
        if (strv_extend(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") <
                    0 ||
            strv_extend(&env, "HOME=/root") < 0 || strv_extend(&env, "container=goldroot") < 0)
                return -ENOMEM;
        if (!isempty(term) && strv_consume(&env, strjoin("TERM=", term)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(env);
        return 0;
}

/* A new detached mount of fstype. options holds key/value pairs and ends with
 * a NULL key; a NULL value makes the key a flag. */
static int fs_new(const char *fstype, const char *const *options, unsigned attr) {
        _cleanup_close_ int fs = -EBADF;
        int mnt;

        fs = fsopen(fstype, FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        for (const char *const *o = options; o && o[0]; o += 2)
                if (fsconfig(fs, o[1] ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, o[0], o[1], 0) < 0)
                        return -errno;
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, attr);
        return mnt < 0 ? -errno : mnt;
}

/* Attaches mount fd mnt on path below dirfd, or on dirfd itself if path is
 * NULL. move_mount() never follows a symlink in the last component. */
static int fs_attach(int mnt, int dirfd, const char *path) {
        unsigned flags = MOVE_MOUNT_F_EMPTY_PATH | (path ? 0 : MOVE_MOUNT_T_EMPTY_PATH);

        if (move_mount(mnt, "", dirfd, path ?: "", flags) < 0)
                return -errno;
        return 0;
}

/* Covers dirfd/path: a directory with an empty read-only tmpfs (one
 * superblock, cloned for every further directory through *empty), anything
 * else with /dev/null. Paths the kernel does not have are skipped. */
static int mask_path(int dirfd, const char *path, int *empty) {
        _cleanup_close_ int cover = -EBADF;
        struct stat st;
        int r;

        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                cover = open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        else if (*empty >= 0)
                cover = open_tree(*empty, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        else {
                cover = fs_new("tmpfs", (const char *const[]){"mode", "555", "size", "4k", NULL},
                               MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                       MOUNT_ATTR_NOEXEC);
                if (cover < 0)
                        return cover;
                r = fs_attach(cover, dirfd, path);
                if (r < 0)
                        return r;
                /* Attached, it is in our namespace and can be cloned. */
                *empty = TAKE_FD(cover);
                return 0;
        }
        if (cover < 0)
                return -errno;
        return fs_attach(cover, dirfd, path);
}

static int setup_dev(int rootfd) {
        static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
        static const char *const links[][2] = {
                {"ptmx", "pts/ptmx"},          {"fd", "/proc/self/fd"},
                {"stdin", "/proc/self/fd/0"},  {"stdout", "/proc/self/fd/1"},
                {"stderr", "/proc/self/fd/2"},
        };
        _cleanup_close_ int target = -EBADF, dev = -EBADF, pts = -EBADF, shm = -EBADF;
        int r;

        r = mkdir_p_in_root(rootfd, "/dev", 0755, &target, NULL);
        if (r < 0)
                return log_error_errno(r, "creating /dev in the instance's root: %m");
        /* nodev: only the bound nodes below (mounts of their own, with the
         * host's flags) work; a node made here later would not. */
        dev = fs_new("tmpfs", (const char *const[]){"mode", "755", "size", "65536k", NULL},
                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (dev < 0)
                return log_error_errno(dev, "creating the tmpfs for /dev: %m");
        r = fs_attach(dev, target, NULL);
        if (r < 0)
                return log_error_errno(r, "mounting /dev: %m");

        /* Bound from the host rather than made with mknod, so that the nodes
         * are the host's whatever the instance's mount flags. */
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                _cleanup_close_ int bind = -EBADF, fd = -EBADF;
                char host[32];

                fd = openat(dev, nodes[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
                            0644);
                if (fd < 0)
                        return log_error_errno(errno, "creating /dev/%s: %m", nodes[i]);
                snprintf(host, sizeof host, "/dev/%s", nodes[i]);
                bind = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                if (bind < 0)
                        return log_error_errno(errno, "binding the host's %s: %m", host);
                r = fs_attach(bind, dev, nodes[i]);
                if (r < 0)
                        return log_error_errno(r, "binding the host's %s: %m", host);
        }

        if (mkdirat(dev, "pts", 0755) < 0)
                return log_error_errno(errno, "creating /dev/pts: %m");
        pts = fs_new("devpts",
                     (const char *const[]){"newinstance", NULL, "ptmxmode", "0666", "mode", "0620",
                                           "gid", "5", NULL},
                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
        if (pts < 0)
                return log_error_errno(pts, "creating a devpts instance: %m");
        r = fs_attach(pts, dev, "pts");
        if (r < 0)
                return log_error_errno(r, "mounting /dev/pts: %m");

        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i][1], dev, links[i][0]) < 0)
                        return log_error_errno(errno, "creating /dev/%s: %m", links[i][0]);

        if (mkdirat(dev, "shm", 0755) < 0)
                return log_error_errno(errno, "creating /dev/shm: %m");
        shm = fs_new("tmpfs", (const char *const[]){"mode", "1777", "size", "65536k", NULL},
                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (shm < 0)
                return log_error_errno(shm, "creating the tmpfs for /dev/shm: %m");
        r = fs_attach(shm, dev, "shm");
        if (r < 0)
                return log_error_errno(r, "mounting /dev/shm: %m");
        return 0;
}

/* Binds /proc/path read-only over itself; a path this kernel lacks is skipped.
 * (A helper of its own: gcc 12's analyzer misreads a cleanup variable inside a
 * loop that continues and returns.) */
static int proc_bind_readonly(int proc, const char *path) {
        struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                            MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
        _cleanup_close_ int bind = -EBADF;
        int r;

        bind = open_tree(proc, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (bind < 0 && errno == ENOENT)
                return 0;
        if (bind < 0 || mount_setattr(bind, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0)
                return log_error_errno(errno, "making /proc/%s read-only: %m", path);
        r = fs_attach(bind, proc, path);
        if (r < 0)
                return log_error_errno(r, "making /proc/%s read-only: %m", path);
        return 0;
}

/* A fresh /proc for the new PID namespace. Unless privileged, the files that
 * reach past the instance (sysctls, sysrq, IRQ affinity) are read-only and the
 * ones that leak host state (kcore, keys, timers) are masked, as Docker does. */
static int setup_proc(int rootfd, bool privileged, int *empty) {
        static const char *const readonly[] = {"bus", "fs", "irq", "sys", "sysrq-trigger"};
        static const char *const masked[] = {"acpi", "asound",        "kcore",
                                             "keys", "latency_stats", "sched_debug",
                                             "scsi", "timer_list",    "timer_stats"};
        _cleanup_close_ int target = -EBADF, proc = -EBADF;
        int r;

        r = mkdir_p_in_root(rootfd, "/proc", 0555, &target, NULL);
        if (r < 0)
                return log_error_errno(r, "creating /proc in the instance's root: %m");
        proc = fs_new("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (proc < 0)
                return log_error_errno(proc, "creating the instance's procfs: %m");
        r = fs_attach(proc, target, NULL);
        if (r < 0)
                return log_error_errno(r, "mounting /proc: %m");
        if (privileged)
                return 0;

        for (size_t i = 0; i < ELEMENTSOF(readonly); i++) {
                r = proc_bind_readonly(proc, readonly[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(masked); i++) {
                r = mask_path(proc, masked[i], empty);
                if (r < 0)
                        return log_error_errno(r, "masking /proc/%s: %m", masked[i]);
        }
        return 0;
}

/* sysfs mounted from inside the new network namespace shows its devices
 * only. Read-only, so that no knob of the host's hardware can be turned. */
static int setup_sys(int rootfd, bool privileged, int *empty) {
        static const char *const masked[] = {"firmware", "devices/virtual/powercap"};
        _cleanup_close_ int target = -EBADF, sys = -EBADF;
        int r;

        r = mkdir_p_in_root(rootfd, "/sys", 0555, &target, NULL);
        if (r < 0)
                return log_error_errno(r, "creating /sys in the instance's root: %m");
        sys = fs_new("sysfs", NULL,
                     (privileged ? 0 : MOUNT_ATTR_RDONLY) | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                             MOUNT_ATTR_NOEXEC);
        if (sys < 0)
                return log_error_errno(sys, "creating the instance's sysfs: %m");
        r = fs_attach(sys, target, NULL);
        if (r < 0)
                return log_error_errno(r, "mounting /sys: %m");
        if (privileged)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(masked); i++) {
                r = mask_path(sys, masked[i], empty);
                if (r < 0)
                        return log_error_errno(r, "masking /sys/%s: %m", masked[i]);
        }
        return 0;
}

/* pivot_root(".", ".") stacks the old root on the new one, so no directory
 * for it is needed in a root that may be read-only; detaching it leaves none
 * of the host's mounts reachable. */
static int pivot_into(int rootfd) {
        _cleanup_close_ int oldroot = -EBADF;

        oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (oldroot < 0)
                return log_error_errno(errno, "opening the host's root: %m");
        if (fchdir(rootfd) < 0)
                return log_error_errno(errno, "entering the instance's root: %m");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return log_error_errno(errno, "pivoting into the instance's root: %m");
        if (fchdir(oldroot) < 0)
                return log_error_errno(errno, "entering the host's old root: %m");
        if (umount2(".", MNT_DETACH) < 0)
                return log_error_errno(errno, "detaching the host's root: %m");
        if (chdir("/") < 0)
                return log_error_errno(errno, "entering the new root: %m");
        return 0;
}

typedef struct Child {
        const RunnerSpec *spec;
        const char *root;
        char *const *env;
        int sock; /* the child's end of the socketpair */
        bool foreground;
} Child;

static void noop_handler(int sig) {
}

/* What the command's process needs between its clone and its exec. */
typedef struct CommandStart {
        const Child *c;
        LogCapture *cap;
        /* Copies of the command and its environment: what they were copied
         * from may lie in the caller's strings, which PID 1 wipes. */
        char **argv;
        char **env;
        int gate[2];
} CommandStart;

static int command_main(void *userdata) {
        CommandStart *s = userdata;
        char b;
        int r;

        safe_close(s->gate[1]);
        while (read(s->gate[0], &b, 1) < 0 && errno == EINTR)
                ;
        safe_close(s->gate[0]);
        reset_signals();
        r = runner_execute(s->argv, s->env);
        runner_child_exec_fail(s->c->sock, s->cap, r);
}

/* Starts command_main() in a new process. It shares PID 1's memory until it
 * execs (CLONE_VM): a fork would copy PID 1's page tables (a copy of all of
 * goldroot's) only for the exec to throw them away, about 0.3 ms here. It has
 * a stack of its own and its own copy of the descriptors, but PID 1's
 * thread-local storage (errno, malloc's caches). So the two never run
 * library code that touches shared state at the same time: until the gate
 * opens, the command only closes its copy of the gate's write end and waits
 * (system calls, errno their only trace), and PID 1 opens the gate as its
 * last act before it only waits for signals. Under valgrind, which aborts a
 * program that clones with CLONE_VM but without CLONE_THREAD (it announces
 * itself in LD_PRELOAD), it is an ordinary fork. */
static pid_t command_clone(CommandStart *s, bool valgrind, char *stack, size_t stack_size,
                           int *ret_pidfd) {
        int flags = CLONE_VM | (ret_pidfd ? CLONE_PIDFD : 0) | SIGCHLD;
        pid_t pid;

        if (!valgrind)
                return clone(command_main, stack + stack_size, flags, s, ret_pidfd);
        pid = runner_fork(ret_pidfd ? CLONE_PIDFD : 0, SIGCHLD, ret_pidfd);
        if (pid == 0)
                _exit(command_main(s));
        return pid;
}

/* goldroot's PID 1 when the command is not an init. The kernel drops signals
 * to a namespace's init that has no handler, so every forwarded signal gets
 * one; they stay blocked and are taken with sigwaitinfo(). */
static _noreturn_ void pid1_run(const Child *c, LogCapture *cap) {
        struct sigaction sa = {.sa_handler = noop_handler};
        bool report = c->spec->return_at_command_exit;
        CommandStart start = {.c = c, .cap = cap};
        /* PID 1 never returns from here: the frame outlives the command's
         * use of it. */
        _Alignas(16) char stack[COMMAND_STACK_SIZE];
        int *gate = start.gate, cmd_pidfd = -EBADF, r;
        const char *preload;
        bool valgrind;
        sigset_t mask;
        pid_t cmd;

        runner_forward_sigset(&mask);
        sigaddset(&mask, SIGCHLD);
        for (int s = 1; s < _NSIG; s++)
                if (sigismember(&mask, s))
                        (void)sigaction(s, &sa, NULL);
        (void)sigprocmask(SIG_SETMASK, &mask, NULL);

        /* Named before the command can look; its exec renames it. */
        (void)prctl(PR_SET_NAME, "goldroot-init");

        /* PID 1 is a fork of the caller that never execs: its
         * /proc/1/environ and /proc/1/cmdline would show the caller's
         * environment (tokens, passwords) and arguments to the instance. */
        preload = getenv("LD_PRELOAD");
        valgrind = preload && strstr(preload, "/vgpreload_");
        for (char *const *a = c->spec->argv; *a; a++)
                if (strv_extend(&start.argv, *a) < 0)
                        runner_child_fail(c->sock, cap, ENOMEM, "copying the command", 1);
        for (char *const *e = c->env; e && *e; e++)
                if (strv_extend(&start.env, *e) < 0)
                        runner_child_fail(c->sock, cap, ENOMEM, "copying the environment", 1);
        if (!start.env && !(start.env = calloc(1, sizeof(char *))))
                runner_child_fail(c->sock, cap, ENOMEM, "copying the environment", 1);
        /* Under valgrind, the strings the kernel shows are valgrind's own,
         * outside the program's memory. */
        r = valgrind ? 0 : runner_wipe_cmdline_environ("goldroot-init");
        if (r < 0)
                runner_child_fail(c->sock, cap, r, "hiding the caller's environment", 1);

        /* The command waits at the gate until PID 1 has dropped its end of
         * the socketpair, so nothing but 0, 1 and 2 is ever seen open in PID 1
         * from inside. */
        if (pipe2(gate, O_CLOEXEC) < 0)
                runner_child_fail(c->sock, cap, errno, "creating a pipe", 1);
        cmd = command_clone(&start, valgrind, stack, sizeof stack, report ? &cmd_pidfd : NULL);
        if (cmd < 0)
                runner_child_fail(c->sock, cap, errno, "forking the command", 1);
        safe_close(gate[0]);
        /* The parent learns the command's exit status from this pidfd as
         * soon as we reap it, before our own exit tears the namespaces down.
         * Without it, it waits for that. */
        if (cmd_pidfd >= 0) {
                (void)runner_message_send_fd(c->sock, cmd, cmd_pidfd);
                safe_close(cmd_pidfd);
        }
        safe_close(c->sock);
        /* Opens the gate. A plain close(): safe_close() would write errno
         * (which the command's process shares until its exec) after it. */
        (void)close(gate[1]);

        for (;;) {
                siginfo_t si;

                if (sigwaitinfo(&mask, &si) < 0)
                        continue;
                if (si.si_signo != SIGCHLD) {
                        /* Terminal signals reached the command directly. */
                        if (si.si_code != SI_KERNEL)
                                (void)kill(cmd, si.si_signo);
                        continue;
                }
                for (;;) {
                        int status;
                        pid_t p = waitpid(-1, &status, WNOHANG);
                        if (p <= 0)
                                break;
                        /* Our exit makes the kernel kill whatever is left. */
                        if (p == cmd)
                                _exit(exit_status_from_wait(status));
                }
        }
}

/* In the child, right after the clone: the network namespace it made (lo
 * still down), or the host's. One made ahead is joined later, by
 * join_network_ahead(). */
static int enter_network(const RunnerSpec *spec) {
        if (spec->net.mode == RUNNER_NET_HOST || spec->netns_ahead)
                return 0;
        return netdev_loopback_up();
}

/* In the child, with its root assembled: the namespace made ahead, which the
 * parent passes on once its thread is done. */
static int join_network_ahead(const Child *c) {
        _cleanup_close_ int netns = -EBADF;
        RunnerMessage m;
        int r;

        if (!c->spec->netns_ahead)
                return 0;
        r = runner_message_recv(c->sock, &m, &netns);
        if (r <= 0 || netns < 0) /* the parent gave up on us */
                _exit(1);
        if (setns(netns, CLONE_NEWNET) < 0)
                return log_error_errno(errno, "joining the instance's network namespace: %m");
        return 0;
}

static _noreturn_ void child_run(const Child *c) {
        const RunnerSpec *spec = c->spec;
        int rootfd = -EBADF, console = -EBADF, empty = -EBADF, r;
        LogCapture cap;
        char go;

#define FAIL(err, what) runner_child_fail(c->sock, &cap, (err), (what), 1)

        log_capture_begin(&cap);

        /* A foreground instance goes with goldroot, even one killed with
         * SIGKILL (from the caller's namespace, the signal reaches our PID
         * 1). */
        if (c->foreground && (r = runner_tie_to_parent(c->sock)) < 0)
                FAIL(log_error_errno(r, "tying the instance to goldroot: %m"), "");

        /* Nothing this process mounts may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                FAIL(log_error_errno(errno, "making the instance's mounts private: %m"), "");
        r = enter_network(spec);
        if (r < 0)
                FAIL(r, "");

        rootfd = open(c->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                FAIL(log_error_errno(errno, "opening %s: %m", c->root), "");
        r = spec->setup_root(c->root, rootfd, spec->userdata);
        if (r < 0)
                FAIL(r, "setting up the instance's root");
        rootfd = safe_close(rootfd);

        /* pivot_root() needs a mount point. */
        r = is_mount_point_at(AT_FDCWD, c->root);
        if (r == 0) {
                int bind = open_tree(AT_FDCWD, c->root,
                                     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
                if (bind < 0 || fs_attach(bind, AT_FDCWD, c->root) < 0)
                        FAIL(log_error_errno(errno, "binding %s onto itself: %m", c->root), "");
                safe_close(bind);
        } else if (r < 0)
                FAIL(log_error_errno(r, "checking %s: %m", c->root), "");
        rootfd = open(c->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                FAIL(log_error_errno(errno, "opening %s: %m", c->root), "");

        /* The callback was the last user of the caller's fds; none of them may
         * be reachable from the instance (through /proc/1/fd, say). */
        if (spec->console_fd >= 0) {
                console = fcntl(spec->console_fd, F_DUPFD_CLOEXEC, 3);
                if (console < 0)
                        FAIL(log_error_errno(errno, "taking the console fd: %m"), "");
        }
        r = close_all_fds_except((const int[]){c->sock, rootfd, console}, 3);
        if (r < 0)
                FAIL(log_error_errno(r, "closing inherited fds: %m"), "");

        r = setup_dev(rootfd);
        if (r >= 0)
                r = setup_proc(rootfd, spec->privileged, &empty);
        /* sysfs shows the network devices of its mounter's namespace. */
        if (r >= 0)
                r = join_network_ahead(c);
        if (r >= 0)
                r = setup_sys(rootfd, spec->privileged, &empty);
        if (r < 0)
                FAIL(r, "");
        empty = safe_close(empty);
        r = pivot_into(rootfd);
        if (r < 0)
                FAIL(r, "");
        rootfd = safe_close(rootfd);

        if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
                FAIL(log_error_errno(errno, "setting the hostname: %m"), "");

        if (console >= 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
                if (null < 0 || dup2(null, 0) < 0 || dup2(console, 1) < 0 || dup2(console, 2) < 0)
                        FAIL(log_error_errno(errno, "connecting the console: %m"), "");
                safe_close(null);
                console = safe_close(console);
        }

        if (!spec->privileged) {
                r = capabilities_drop_to(runner_default_capabilities());
                if (r < 0)
                        FAIL(log_error_errno(r, "dropping capabilities: %m"), "");
        }

        /* Warnings so far belong on the console; errors from here on still go
         * to the parent. */
        log_capture_flush(&cap);
        log_capture_begin(&cap);

        r = runner_message_send(c->sock, 0, 0, NULL);
        if (r < 0)
                _exit(1);
        /* Only a network to configure makes the child wait for the parent. */
        if (spec->net.mode == RUNNER_NET_BRIDGE) {
                do
                        r = (int)recv(c->sock, &go, 1, 0);
                while (r < 0 && errno == EINTR);
                if (r != 1) /* the parent gave up on us */
                        _exit(1);
        }

        if (spec->init) {
                reset_signals();
                r = runner_execute(spec->argv, c->env);
                runner_child_exec_fail(c->sock, &cap, r);
        }
        pid1_run(c, &cap);
#undef FAIL
}

static int send_go(int sock) {
        if (send(sock, "g", 1, MSG_NOSIGNAL) == 1)
                return 0;
        if (errno == EPIPE || errno == ECONNRESET)
                return log_error_errno(EIO, "the instance's first process died before its "
                                            "command started");
        return log_error_errno(errno, "releasing the instance's first process: %m");
}

/* Waits for the namespace made ahead and passes it to the child, which
 * assembles its root meanwhile. */
static int hand_over_netns(int sock, RunnerNetnsAhead *ahead) {
        int netns = runner_netns_ahead_join(ahead), r;

        if (netns < 0)
                return log_error_errno(netns, "making the instance's network namespace: %m");
        r = runner_message_send_fd(sock, 0, netns);
        /* A child that died first has sent why: the caller reads it next. */
        if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                return log_error_errno(r, "passing the network namespace to the instance: %m");
        return 0;
}

/* runner_start(); foreground for runner_run(), whose instance must not
 * outlive the caller, which also wants ret_command_pidfd: the pidfd of the
 * command under goldroot's PID 1 if it sent one (-EBADF otherwise), and
 * ret_exec_status: on a failure, the shell's status if it was the command's
 * exec that failed (0 otherwise). */
static int start_instance(const RunnerSpec *spec, bool foreground, pid_t *ret_pid, int *ret_pidfd,
                          int *ret_command_pidfd, int *ret_exec_status) {
        _cleanup_strv_free_ char **default_env = NULL;
        _cleanup_free_ char *root = NULL;
        _cleanup_close_ int slash = -EBADF, sock = -EBADF, child_sock = -EBADF, pidfd = -EBADF,
                            command_pidfd = -EBADF;
        RunnerMessage m;
        int fds[2], raw_pidfd = -1, r;
        pid_t pid;

        assert(spec);
        assert(ret_pid);
        assert(ret_pidfd);

        if (ret_exec_status)
                *ret_exec_status = 0;
        if (strv_length(spec->argv) == 0)
                return log_error_errno(EINVAL, "starting the instance: no command given");
        if (!spec->setup_root)
                return log_error_errno(EINVAL, "starting the instance: nothing sets up its root");
        if (spec->hostname && (isempty(spec->hostname) || strlen(spec->hostname) > HOST_NAME_MAX))
                return log_error_errno(EINVAL, "invalid hostname '%s'", spec->hostname);
        r = netdev_validate(&spec->net);
        if (r < 0)
                return r;

        root = spec->root_dir ? strdup(spec->root_dir) : path_join(runtime_dir(), "root");
        if (!root)
                return log_oom();
        if (!path_is_absolute(root))
                return log_error_errno(EINVAL, "the instance's root '%s' is not absolute", root);
        /* One empty directory serves every instance: each mounts its root on
         * it in its own mount namespace. */
        slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (slash < 0)
                return log_error_errno(errno, "opening /: %m");
        r = mkdir_p_in_root(slash, root, 0755, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "creating %s: %m", root);

        if (!spec->env) {
                r = runner_default_env(&default_env);
                if (r < 0)
                        return log_oom();
        }

        r = runner_socketpair(fds);
        if (r < 0)
                return log_error_errno(r, "creating a socketpair: %m");
        sock = fds[0];
        child_sock = fds[1];

        pid = runner_fork(
                CLONE_PIDFD | RUNNER_NS_FLAGS |
                        (spec->net.mode == RUNNER_NET_HOST || spec->netns_ahead ? 0 : CLONE_NEWNET),
                SIGCHLD, &raw_pidfd);
        if (pid < 0)
                return log_error_errno(errno, "creating the instance's namespaces: %m");
        if (pid == 0) {
                Child c = {
                        .spec = spec,
                        .root = root,
                        .env = spec->env ?: default_env,
                        .sock = child_sock,
                        .foreground = foreground,
                };
                safe_close(sock);
                child_run(&c);
        }
        pidfd = raw_pidfd;
        child_sock = safe_close(child_sock);
        if (spec->after_clone)
                spec->after_clone(spec->userdata);
        if (spec->netns_ahead) {
                r = hand_over_netns(sock, spec->netns_ahead);
                if (r < 0)
                        goto fail;
        }

        r = runner_message_recv(sock, &m, NULL);
        if (r == 0) {
                int status = runner_wait(pidfd);
                return log_error_errno(EIO,
                                       "the instance's first process died while setting up "
                                       "(exit status %d)",
                                       status);
        }
        if (r < 0) {
                r = log_error_errno(r, "reading from the instance's first process: %m");
                goto fail;
        }
        if (m.error != 0) {
                r = log_error_errno(m.error, "%s", m.text);
                goto fail;
        }
        if (spec->net.mode == RUNNER_NET_BRIDGE) {
                r = netdev_bridge_setup(pidfd, pid, &spec->net);
                if (r < 0)
                        goto fail;
                r = send_go(sock);
                if (r < 0)
                        goto fail;
        }

        /* EOF: every copy of the child's end was closed by an exec. Before
         * it, PID 1 may report the command with its pidfd. */
        for (;;) {
                int passed;

                r = runner_message_recv(sock, &m, &passed);
                if (r <= 0 || m.error != 0 || passed < 0) {
                        safe_close(passed);
                        break;
                }
                safe_close(command_pidfd);
                command_pidfd = passed;
        }
        if (r < 0) {
                r = log_error_errno(r, "reading from the instance's first process: %m");
                goto fail;
        }
        if (r > 0) {
                if (ret_exec_status)
                        *ret_exec_status = m.exec_status;
                r = log_error_errno(m.error ?: EIO, "%s", m.text);
                goto fail;
        }

        *ret_pid = pid;
        *ret_pidfd = TAKE_FD(pidfd);
        if (ret_command_pidfd)
                *ret_command_pidfd = TAKE_FD(command_pidfd);
        return 0;

fail:
        (void)pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
        (void)runner_wait(pidfd);
        return r;
}

int runner_start(const RunnerSpec *spec, pid_t *ret_pid, int *ret_pidfd) {
        return start_instance(spec, false, ret_pid, ret_pidfd, NULL, NULL);
}

int runner_run(const RunnerSpec *spec) {
        _cleanup_close_ int sfd = -EBADF, pidfd = -EBADF, command_pidfd = -EBADF;
        RunnerStatus st;
        bool recorded = false;
        sigset_t fwd, old;
        pid_t pid;
        int exec_status = 0, r;

        assert(spec);
        if (spec->ret_started)
                *spec->ret_started = false;
        /* Blocked before the clone, so that a signal in between is queued for
         * the instance instead of killing the caller. */
        runner_forward_sigset(&fwd);
        if (sigprocmask(SIG_BLOCK, &fwd, &old) < 0)
                return log_error_errno(errno, "blocking signals: %m");
        sfd = signalfd(-1, &fwd, SFD_CLOEXEC);
        if (sfd < 0)
                r = log_error_errno(errno, "creating a signalfd: %m");
        else {
                r = start_instance(spec, true, &pid, &pidfd, &command_pidfd, &exec_status);
                if (spec->ret_started)
                        *spec->ret_started = r >= 0;
                /* A status that cannot be written only hides the instance
                 * from other commands; it runs all the same. */
                if (r >= 0 && spec->status_dirfd >= 0)
                        recorded = runner_status_record_start(spec->status_dirfd, pid, &st) >= 0;
                /* With the command's status in hand, PID 1 is left to die
                 * and be reaped on its own (see return_at_command_exit). */
                if (r >= 0)
                        r = runner_forward_until_exit(pidfd, sfd, command_pidfd);
                else if (exec_status > 0 && spec->exec_failure_status)
                        r = exec_status; /* logged by start_instance() */
                if (recorded)
                        (void)runner_status_record_exit(spec->status_dirfd, &st, r < 0 ? 255 : r);
        }
        (void)sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 1 once the process behind pidfd has exited, 0 after timeout_ms. */
static int pidfd_wait_exit(int pidfd, unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;

        for (;;) {
                struct pollfd p = {.fd = pidfd, .events = POLLIN};
                uint64_t now = now_ms();
                int n;

                n = poll(&p, 1, now >= deadline ? 0 : (int)(deadline - now));
                if (n > 0)
                        return 1;
                if (n == 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int runner_stop(int pidfd, int sig, unsigned timeout_ms, bool *ret_killed) {
        int r;

        assert(pidfd >= 0);
        if (ret_killed)
                *ret_killed = false;
        if (sig == 0)
                sig = SIGTERM;
        if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0) {
                if (errno == ESRCH)
                        return 0;
                return log_error_errno(errno, "sending SIG%s to the instance: %m",
                                       sigabbrev_np(sig));
        }
        r = pidfd_wait_exit(pidfd, timeout_ms);
        if (r < 0)
                return log_error_errno(r, "waiting for the instance to stop: %m");
        if (r > 0)
                return 0;

        if (ret_killed)
                *ret_killed = true;
        if (pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                return log_error_errno(errno, "sending SIGKILL to the instance: %m");
        r = pidfd_wait_exit(pidfd, RUNNER_KILL_WAIT_MS);
        if (r < 0)
                return log_error_errno(r, "waiting for the instance to stop: %m");
        if (r == 0)
                return log_error_errno(ETIMEDOUT,
                                       "the instance did not exit %u s after SIGKILL: %m",
                                       RUNNER_KILL_WAIT_MS / 1000);
        return 0;
}
