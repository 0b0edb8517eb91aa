/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runner-internal: what runner.c, runner-exec.c, runner-monitor.c and
 * netdev.c share and nothing else needs: the one-message protocol by which a
 * child reports its failure (or its pid) to its parent, the log capture that
 * turns a child's one-line error into that message, and small process helpers.
 */
#pragma once

#include "runner.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>

/* A child's report to its parent over a CLOEXEC SOCK_SEQPACKET socketpair:
 * whole messages only, and sends never raise SIGPIPE. EOF without a message
 * means every copy of the child's end was closed by an exec. */
typedef struct RunnerMessage {
        int32_t error; /* positive errno; 0 for "ready" or a pid report */
        int32_t pid;
        /* Non-zero when the failure is the command's exec: the status a shell
         * gives for it (RUNNER_EXIT_NOT_FOUND or RUNNER_EXIT_CANNOT_EXEC). */
        int32_t exec_status;
        char text[1012];
} RunnerMessage;

int runner_message_send(int fd, int error, pid_t pid, const char *text);
/* A report (error 0) of pid that carries passed_fd along. */
int runner_message_send_fd(int fd, pid_t pid, int passed_fd);
/* 1 and *ret for a message, 0 at EOF, or -errno. A descriptor that came with
 * the message goes to *ret_fd (-EBADF if none), or is closed if ret_fd is
 * NULL. */
int runner_message_recv(int fd, RunnerMessage *ret, int *ret_fd);

/* A forked child logs into memory instead of the caller's stderr, so that its
 * one-line error can travel to the parent, which logs it once. */
typedef struct LogCapture {
        FILE *f;
        char *buf;
        size_t len;
} LogCapture;

void log_capture_begin(LogCapture *c);
/* Sends the last line the child logged (without the "goldroot: " prefix), or
 * fallback if it logged nothing, with error, and _exit()s with status. */
_noreturn_ void runner_child_fail(int fd, LogCapture *c, int error, const char *fallback,
                                  int status);
/* runner_child_fail() for a failed exec of the command (error as
 * runner_execute() returned it): the message carries the shell's status for
 * it, which is also the child's exit status. */
_noreturn_ void runner_child_exec_fail(int fd, LogCapture *c, int error);
/* Writes what the child logged so far (warnings) to stderr and stops capturing. */
void log_capture_flush(LogCapture *c);

/* A socketpair for RunnerMessages: [0] for the parent, [1] for the child. */
int runner_socketpair(int ret[2]);
/* In a child holding sock, its end of runner_socketpair(): asks for SIGKILL
 * when the parent dies, and _exit()s at once if it has already, its end of
 * the socketpair (the only copy) being closed. 0 or -errno (not logged). */
int runner_tie_to_parent(int sock);
/* Forks with clone3(), or clone() where clone3() answers ENOSYS. FLAGS are
 * clone flags of the first 32 bits (namespaces, CLONE_PIDFD, CLONE_PARENT);
 * with CLONE_PIDFD the pidfd is stored in *RET_PIDFD. Returns the pid, 0 in
 * the child, or -1 with errno set. */
pid_t runner_fork(uint64_t flags, int exit_signal, int *ret_pidfd);

/* Closes every fd >= 3 but the ones listed (negative entries are ignored). */
int close_all_fds_except(const int *keep, size_t n);

/* In a fork of the caller that never execs (goldroot's PID 1): zeros the
 * memory that /proc/PID/cmdline and /proc/PID/environ show, the caller's
 * argument and environment strings, and writes name as the command line.
 * Pointers into them (main's argv, environ) are dead afterwards; environ is
 * left empty. 0 or -errno (not logged). */
int runner_wipe_cmdline_environ(const char *name);

/* SIG_DFL for every signal and an empty mask: what a command expects at exec. */
void reset_signals(void);

/* The signals the foreground modes and goldroot's PID 1 pass on. */
void runner_forward_sigset(sigset_t *ret);

/* Waits for the process behind pidfd while forwarding the signals read from
 * sfd (a signalfd for runner_forward_sigset()) to it; reaps it and returns its
 * exit status. Terminal-generated signals (SI_KERNEL) are not forwarded.
 * With a command_pidfd (else -1), returns as soon as that process's exit
 * status can be read from it, without reaping pidfd's process. */
int runner_forward_until_exit(int pidfd, int sfd, int command_pidfd);

/* Exit status in the shell's convention from a waitpid() status. */
int exit_status_from_wait(int status);

/* The "Pid:" of a pidfd (-ESRCH once the process was reaped). */
int pidfd_get_pid(int pidfd, pid_t *ret);

/* Field 22 of /proc/PID/stat: the start time in clock ticks after boot, a
 * zombie's too; -ESRCH once the process is reaped. */
int pid_get_starttime(pid_t pid, uint64_t *ret);
/* Whether pid is still the process that started at start (a recycled pid is
 * not) and has not exited (a zombie has): 1, 0, or -errno. */
int pid_is_alive_since(pid_t pid, uint64_t start);

/* The CapBnd line of /proc/PID/status. */
int pid_get_capability_bounding_set(pid_t pid, uint64_t *ret);

/* Drops every capability outside keep from the bounding, ambient, effective,
 * permitted and inheritable sets. */
int capabilities_drop_to(uint64_t keep);

/* Execs argv with env in the current root (PATH from env); returns only on
 * failure, after logging it. */
int runner_execute(char *const *argv, char *const *env);

/* The status file (RUNNER_STATUS_FILE in dirfd) of an instance that this
 * process watches, the monitor's or a foreground run's: running, with PID 1's
 * pid and this process as the monitor, and later the exit. Log their errors. */
int runner_status_record_start(int dirfd, pid_t pid, RunnerStatus *ret);
int runner_status_record_exit(int dirfd, RunnerStatus *st, int exit_status);
