/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runner: runs one instance in its own namespaces.
 *
 * runner_start() clones a process into new mount, PID, UTS, IPC and cgroup
 * namespaces (and a network namespace unless the network is the host's). In
 * the child the caller's setup_root callback assembles the root; the runner
 * adds a minimal /dev, a fresh /proc and a read-only /sys, pivots into the
 * root, drops the capability bounding set to the container default and execs
 * the command: as PID 1 when it is an init, otherwise under goldroot's own
 * small PID 1, which forwards signals and reaps orphans.
 *
 * Around that: wait, stop (SIGTERM, then SIGKILL), exec into a running
 * instance through its pidfd, a foreground mode that forwards signals, and a
 * detached mode in which a monitor process holds the pidfd, appends the
 * console to a log and records the instance's status in a file.
 *
 * Exit statuses follow the shell: 0..255 for an exit, 128+N when killed by
 * signal N. Functions return that status or -errno.
 *
 * Needs root (no user namespace is used) and Linux 5.8 (clone3 pidfds,
 * setns on a pidfd, the new mount API). The caller may have no thread but a
 * runner_netns_ahead_start() one when it starts an instance: the children run
 * library code between clone and exec, which must not find a lock held by a
 * thread the clone did not copy, and that thread takes none. The instance has no
 * cgroup of its own (no /sys/fs/cgroup inside, no device cgroup) and no
 * seccomp filter; see runner_default_capabilities().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum RunnerNetMode {
        RUNNER_NET_NONE,   /* a new network namespace with only lo, up */
        RUNNER_NET_HOST,   /* the caller's network namespace */
        RUNNER_NET_BRIDGE, /* a new namespace with eth0, a veth whose peer joins a bridge */
} RunnerNetMode;

/* The shell's statuses for a command that could not be executed: not found,
 * or found but not executable (EACCES, ENOEXEC and the like). */
#define RUNNER_EXIT_CANNOT_EXEC 126
#define RUNNER_EXIT_NOT_FOUND 127

/* The strings are borrowed; they must outlive runner_start(). */
typedef struct RunnerNet {
        RunnerNetMode mode;
        const char *bridge;      /* BRIDGE: an existing bridge in the caller's namespace */
        const char *address;     /* BRIDGE: "ADDR/PREFIX" for eth0, or NULL */
        const char *gateway;     /* BRIDGE: the default route, or NULL */
        const char *host_ifname; /* BRIDGE: the host end of the veth; NULL: "gr<pid>" */
} RunnerNet;

/* Parses the DESIGN's net syntax: "none", "host" or "bridge:BR". Sets mode and
 * bridge (pointing into s) and leaves the other fields alone. -EINVAL if s is
 * not one of them or BR is not a valid interface name. */
int runner_net_parse(const char *s, RunnerNet *ret);

/* Called in the child, inside its new mount namespace after "/" was made
 * recursively private, to assemble the instance's root on root (an empty
 * directory; root_fd is an O_PATH fd for it). It may mount anything on or
 * below it; if root is not a mount point afterwards the runner binds it onto
 * itself. Returns 0 or -errno, and logs its own error: the runner sends the
 * last line logged in the child to the parent, which logs it once. */
typedef int (*RunnerSetupRoot)(const char *root, int root_fd, void *userdata);

/* See runner_netns_ahead_start(). */
typedef struct RunnerNetnsAhead RunnerNetnsAhead;

typedef struct RunnerSpec {
        char *const *argv;    /* the command; argv[0] is searched in the instance's PATH */
        char *const *env;     /* NULL: runner_default_env() */
        const char *hostname; /* NULL: keep the host's */
        RunnerNet net;
        bool privileged;      /* keep the full bounding set, /proc unmasked, /sys read-write */
        bool init;            /* argv is an init: exec it as PID 1 */
        int console_fd;       /* stdout and stderr (stdin: /dev/null); < 0: inherit all three */
        const char *root_dir; /* mount point for the root; NULL: <runtime_dir()>/root */
        RunnerSetupRoot setup_root; /* required */
        void *userdata;
        /* If set, called with userdata in the caller right after the clone,
         * while the instance sets itself up (on another CPU if there is one):
         * for the caller's work that can go alongside. It must not fork. */
        void (*after_clone)(void *userdata);
        /* runner_run() only, and not with init: return the command's exit
         * status as soon as goldroot's PID 1 has reaped the command, while
         * the kernel is still tearing the instance down (PID 1's exit kills
         * whatever else runs in it and unmounts everything). Only for
         * instances whose writable state is not on the disk: a next start on
         * the same state could find the dying instance's overlay still
         * holding it. Needs Linux 6.15 (a pidfd's exit status); older
         * kernels wait for PID 1 as before. */
        bool return_at_command_exit;
        /* Network NONE or BRIDGE: a namespace being made on a thread, for
         * the instance to join instead of making one; NULL: make one. Its
         * thread may still be at work: the instance is cloned without it,
         * assembles its root meanwhile, and joins it before it mounts /sys.
         * If the thread failed, so does the start. Borrowed: the caller frees
         * it, after the start. */
        RunnerNetnsAhead *netns_ahead;
        /* runner_run() only, >= 0: a directory in which the run records the
         * instance's status as a detached instance's monitor does (see
         * runner_start_detached()), the caller standing for the monitor: so
         * that other processes find, enter and stop a foreground instance
         * too. */
        int status_dirfd;
        /* runner_run() only: a command that cannot be executed is, after its
         * one line is logged, returned as the shell's status for it
         * (RUNNER_EXIT_NOT_FOUND or RUNNER_EXIT_CANNOT_EXEC) rather than as
         * -errno, so that a caller passing statuses through tells it apart
         * from a command that ran and failed. */
        bool exec_failure_status;
        /* runner_run() only, if not NULL: set to whether the command was
         * started, so that a caller can tell a failed start (nothing ran)
         * from a failure after it. Not for an exec that failed. */
        bool *ret_started;
} RunnerSpec;

#define RUNNER_SPEC_INIT                                                                           \
        { .net = {.mode = RUNNER_NET_NONE}, .console_fd = -1, .status_dirfd = -1 }

/* A new network namespace with lo up, made on a thread of its own while the
 * caller goes on: it is the dearest part of an instance's namespaces (0.7 to
 * 2 ms here, against 0.25 ms for the other five and the fork together), so a
 * caller that has other work first (opening the store, planning, assembling
 * the root) gets it for free on a second CPU. NULL if no thread could be
 * started. A fork() copies the calling thread alone: the caller must join
 * the thread before it forks a process that will use the namespace. */
RunnerNetnsAhead *runner_netns_ahead_start(void);
/* Waits for the thread (once; later calls return at once): the namespace's
 * fd, O_CLOEXEC and still a's, or -errno (not logged). */
int runner_netns_ahead_join(RunnerNetnsAhead *a);
/* Joins the thread if need be, closes the namespace's fd and frees a. */
RunnerNetnsAhead *runner_netns_ahead_free(RunnerNetnsAhead *a);
static inline void runner_netns_ahead_freep(RunnerNetnsAhead **a) {
        runner_netns_ahead_free(*a);
}

/* The environment of a command when the caller gives none: PATH, HOME=/root,
 * container=goldroot, and the caller's TERM if it has one. */
int runner_default_env(char ***ret);

/* The capability bounding set inside an unprivileged instance: Docker's
 * default list without MKNOD (CHOWN, DAC_OVERRIDE, FSETID, FOWNER, NET_RAW,
 * SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL,
 * AUDIT_WRITE). Docker grants MKNOD behind a device cgroup; goldroot has none,
 * and mknod would open every host device to root in the instance. */
uint64_t runner_default_capabilities(void);

/* Starts the instance. Returns once the command was executed, with its pid
 * (in the caller's PID namespace) and a pidfd. The caller is its parent and
 * must reap it with runner_wait(). A failure anywhere before the exec, in the
 * parent or in the child, is logged as one line and returned as -errno, and
 * nothing is left behind. */
int runner_start(const RunnerSpec *spec, pid_t *ret_pid, int *ret_pidfd);

/* Waits for a child of the caller (by pidfd) to exit and reaps it. */
int runner_wait(int pidfd);

/* Foreground: starts the instance, forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT,
 * SIGUSR1 and SIGUSR2 from the caller to it until it exits (or, with
 * return_at_command_exit, until its command has), and returns its exit
 * status. Signals a terminal sent to the whole foreground process group
 * are not forwarded, as the instance received them already. */
int runner_run(const RunnerSpec *spec);

/* Sends sig (0: SIGTERM) and waits up to timeout_ms for the instance to exit;
 * then sends SIGKILL and waits again. Does not reap: a caller that is the
 * parent calls runner_wait() next. *ret_killed (if not NULL) tells whether
 * SIGKILL was needed. An instance that is already gone is success. */
int runner_stop(int pidfd, int sig, unsigned timeout_ms, bool *ret_killed);

typedef struct RunnerExecOptions {
        char *const *env;    /* NULL: runner_default_env() */
        const char *workdir; /* inside the instance; NULL: "/" */
        int console_fd;      /* as in RunnerSpec */
} RunnerExecOptions;

#define RUNNER_EXEC_OPTIONS_INIT                                                                   \
        { .console_fd = -1 }

/* Runs argv inside the running instance whose PID 1 pidfd refers to: joins all
 * its namespaces (mount, PID, UTS, IPC, cgroup, net) through the pidfd, takes
 * on the same capability bounding set as that PID 1, and execs. The new
 * process is the caller's child: *ret_pid and *ret_pidfd, reap it with
 * runner_wait(). It is killed if the caller's thread that called this dies
 * (PR_SET_PDEATHSIG; an exec of a set-user-ID program clears that). opts
 * may be NULL. */
int runner_exec_spawn(int pidfd, char *const *argv, const RunnerExecOptions *opts, pid_t *ret_pid,
                      int *ret_pidfd);
/* The same in the foreground: forwards signals as runner_run() does and
 * returns the command's exit status. A command that cannot be executed is
 * logged and returned as the shell's status for it, as with
 * exec_failure_status. */
int runner_exec(int pidfd, char *const *argv, const RunnerExecOptions *opts);

/* Detached mode. The status file in the directory given to
 * runner_start_detached() is written atomically as "key=value" lines. */
#define RUNNER_STATUS_FILE "status"

typedef enum RunnerState {
        RUNNER_STATE_RUNNING,
        RUNNER_STATE_EXITED, /* the monitor recorded the exit status */
        RUNNER_STATE_LOST,   /* recorded as running, but that process is gone */
} RunnerState;

typedef struct RunnerStatus {
        RunnerState state;
        pid_t pid; /* of the instance's PID 1, in the caller's namespace */
        pid_t monitor_pid;
        uint64_t pid_start;     /* /proc/PID/stat starttime, which tells pid reuse apart */
        uint64_t monitor_start; /* the same for monitor_pid */
        uint64_t started_usec;  /* CLOCK_REALTIME */
        uint64_t exited_usec;   /* EXITED only */
        int exit_status;        /* EXITED only */
} RunnerStatus;

/* Starts the instance under a monitor: a double-forked process in a new
 * session that holds the pidfd, appends the console (stdout and stderr) to
 * log_name in dirfd, writes RUNNER_STATUS_FILE into dirfd (running: pid, start
 * time; later the exit status) and exits when the instance does.
 * spec->console_fd is ignored. Returns once the command was executed (the
 * status file says running by then), with the instance's pid. */
int runner_start_detached(const RunnerSpec *spec, int dirfd, const char *log_name, pid_t *ret_pid);

/* Reads RUNNER_STATUS_FILE in dirfd (-ENOENT if there is none, -EBADMSG if it
 * is damaged). A status that says running is checked against the live
 * process and turns into RUNNER_STATE_LOST if it is gone. */
int runner_status_read(int dirfd, RunnerStatus *ret);

/* A pidfd for the running instance a status names, for runner_exec() and
 * runner_stop(); -ESRCH if it is no longer running. */
int runner_status_pidfd(const RunnerStatus *status, int *ret_pidfd);

/* After runner_stop(), say: waits up to timeout_ms for the monitor to record
 * the exit, then reads the status into *ret. -ETIMEDOUT if the monitor is
 * still running then; a monitor that is gone already is not waited for. */
int runner_status_wait_exited(int dirfd, unsigned timeout_ms, RunnerStatus *ret);
