/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runner-exec: running a command inside a running instance.
 *
 * A helper process joins every namespace of the instance through its pidfd
 * (setns() on a pidfd, Linux 5.8) and clones the command with CLONE_PARENT:
 * the command is born in the instance's PID namespace, yet is the caller's
 * own child, so the caller waits for it and signals it directly. The helper
 * leaves the caller's namespaces untouched.
 */
#include "runner.h"
#include "runner-internal.h"
#include "util.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define RUNNER_EXEC_NS_FLAGS                                                                       \
        (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWNET)

typedef struct ExecChild {
        int pidfd;
        char *const *argv;
        char *const *env;
        const RunnerExecOptions *opts;
        uint64_t keep; /* the instance's capability bounding set */
        int sock;
} ExecChild;

static _noreturn_ void exec_command(const ExecChild *e, LogCapture *cap) {
        const char *workdir = e->opts->workdir ?: "/";
        int console = -EBADF, r;

#define FAIL(err) runner_child_fail(e->sock, cap, (err), "", 1)
        /* The command goes with its caller, even one killed with SIGKILL,
         * as a foreground run's instance does. */
        r = runner_tie_to_parent(e->sock);
        if (r < 0)
                FAIL(log_error_errno(r, "tying the command to goldroot: %m"));
        if (e->opts->console_fd >= 0) {
                console = fcntl(e->opts->console_fd, F_DUPFD_CLOEXEC, 3);
                if (console < 0)
                        FAIL(log_error_errno(errno, "taking the console fd: %m"));
        }
        /* No fd of the caller's may follow the command into the instance. */
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                FAIL(log_error_errno(errno, "closing inherited fds: %m"));
        if (chdir(workdir) < 0)
                FAIL(log_error_errno(errno, "entering %s in the instance: %m", workdir));
        if (console >= 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
                if (null < 0 || dup2(null, 0) < 0 || dup2(console, 1) < 0 || dup2(console, 2) < 0)
                        FAIL(log_error_errno(errno, "connecting the console: %m"));
        }
        r = capabilities_drop_to(e->keep);
        if (r < 0)
                FAIL(log_error_errno(r, "dropping capabilities: %m"));
        reset_signals();
        r = runner_execute(e->argv, e->env);
        runner_child_exec_fail(e->sock, cap, r);
#undef FAIL
}

static _noreturn_ void exec_helper(const ExecChild *e) {
        LogCapture cap;
        pid_t pid;

        log_capture_begin(&cap);
        if (setns(e->pidfd, RUNNER_EXEC_NS_FLAGS) < 0)
                runner_child_fail(e->sock, &cap,
                                  log_error_errno(errno, "joining the instance's namespaces: %m"),
                                  "", 1);
        /* setns() moved our root and working directory to the instance's;
         * CLONE_PARENT takes exit_signal from us, so it must be 0 here. */
        pid = runner_fork(CLONE_PARENT, 0, NULL);
        if (pid < 0)
                runner_child_fail(e->sock, &cap,
                                  log_error_errno(errno, "forking into the instance: %m"), "", 1);
        if (pid == 0)
                exec_command(e, &cap);
        (void)runner_message_send(e->sock, 0, pid, NULL);
        _exit(0);
}

/* runner_exec_spawn(), and on a failure of the command's exec the shell's
 * status for it in *ret_exec_status (0 for any other failure). */
static int exec_spawn(int pidfd, char *const *argv, const RunnerExecOptions *opts, pid_t *ret_pid,
                      int *ret_pidfd, int *ret_exec_status) {
        static const RunnerExecOptions defaults = RUNNER_EXEC_OPTIONS_INIT;
        _cleanup_strv_free_ char **default_env = NULL;
        _cleanup_close_ int sock = -EBADF, child_sock = -EBADF, cmd_pidfd = -EBADF;
        char text[sizeof(((RunnerMessage *)NULL)->text)] = "";
        RunnerMessage m;
        uint64_t keep;
        pid_t target, helper, cmd = 0;
        int fds[2], status = 0, error = 0, exec_status = 0, r;

        assert(pidfd >= 0);
        assert(ret_pid);
        assert(ret_pidfd);
        assert(ret_exec_status);

        *ret_exec_status = 0;
        if (!opts)
                opts = &defaults;
        if (strv_length(argv) == 0)
                return log_error_errno(EINVAL, "exec: no command given");

        r = pidfd_get_pid(pidfd, &target);
        if (r == -ESRCH)
                return log_error_errno(ESRCH, "exec: the instance is not running");
        if (r < 0)
                return log_error_errno(r, "exec: reading the instance's pidfd: %m");
        r = pid_get_capability_bounding_set(target, &keep);
        /* The pid may have been reused between the two reads; the pidfd is
         * still alive only if it was not. */
        if (r == -ESRCH || pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
                return log_error_errno(ESRCH, "exec: the instance is not running");
        if (r < 0)
                return log_error_errno(r, "exec: reading the instance's capabilities: %m");

        if (!opts->env) {
                r = runner_default_env(&default_env);
                if (r < 0)
                        return log_oom();
        }
        r = runner_socketpair(fds);
        if (r < 0)
                return log_error_errno(r, "exec: creating a socketpair: %m");
        sock = fds[0];
        child_sock = fds[1];

        helper = fork();
        if (helper < 0)
                return log_error_errno(errno, "exec: fork: %m");
        if (helper == 0) {
                ExecChild e = {
                        .pidfd = pidfd,
                        .argv = argv,
                        .env = opts->env ?: default_env,
                        .opts = opts,
                        .keep = keep,
                        .sock = child_sock,
                };
                safe_close(sock);
                exec_helper(&e);
        }
        child_sock = safe_close(child_sock);

        /* The helper reports the command's pid, and either may report a
         * failure; the command can fail before the helper has reported, so
         * read until EOF (the helper exited, the command exec'd) and then
         * act on everything heard. */
        for (;;) {
                r = runner_message_recv(sock, &m, NULL);
                if (r <= 0)
                        break;
                if (m.pid > 0)
                        cmd = m.pid;
                if (m.error != 0 && error == 0) {
                        error = m.error;
                        exec_status = m.exec_status;
                        memcpy(text, m.text, sizeof text);
                }
        }
        if (r < 0 && error == 0) {
                error = -r;
                snprintf(text, sizeof text, "exec: reading from the helper: %s", strerror(-r));
        }
        while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
                ;
        if (cmd <= 0 && error == 0) {
                error = EIO;
                snprintf(text, sizeof text, "exec: the helper died (exit status %d)",
                         exit_status_from_wait(status));
        }

        /* The command is our child: its pid stays ours until we reap it. */
        if (cmd > 0) {
                cmd_pidfd = pidfd_open(cmd, 0);
                if (cmd_pidfd < 0) {
                        if (error == 0) {
                                error = errno;
                                snprintf(text, sizeof text,
                                         "exec: opening a pidfd for the command: %s",
                                         strerror(errno));
                        }
                        (void)kill(cmd, SIGKILL);
                        while (waitpid(cmd, &status, 0) < 0 && errno == EINTR)
                                ;
                } else if (error != 0) {
                        (void)pidfd_send_signal(cmd_pidfd, SIGKILL, NULL, 0);
                        (void)runner_wait(cmd_pidfd);
                }
        }
        if (error != 0) {
                *ret_exec_status = exec_status;
                return log_error_errno(error, "%s", text);
        }
        *ret_pid = cmd;
        *ret_pidfd = TAKE_FD(cmd_pidfd);
        return 0;
}

int runner_exec_spawn(int pidfd, char *const *argv, const RunnerExecOptions *opts, pid_t *ret_pid,
                      int *ret_pidfd) {
        int exec_status;

        return exec_spawn(pidfd, argv, opts, ret_pid, ret_pidfd, &exec_status);
}

int runner_exec(int pidfd, char *const *argv, const RunnerExecOptions *opts) {
        _cleanup_close_ int sfd = -EBADF, cmd_pidfd = -EBADF;
        sigset_t fwd, old;
        pid_t pid;
        int exec_status = 0, r;

        runner_forward_sigset(&fwd);
        if (sigprocmask(SIG_BLOCK, &fwd, &old) < 0)
                return log_error_errno(errno, "blocking signals: %m");
        sfd = signalfd(-1, &fwd, SFD_CLOEXEC);
        if (sfd < 0)
                r = log_error_errno(errno, "creating a signalfd: %m");
        else {
                r = exec_spawn(pidfd, argv, opts, &pid, &cmd_pidfd, &exec_status);
                if (r >= 0)
                        r = runner_forward_until_exit(cmd_pidfd, sfd, -1);
                else if (exec_status > 0)
                        r = exec_status; /* logged by exec_spawn() */
        }
        (void)sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
