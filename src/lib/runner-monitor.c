/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runner-monitor: detached instances and their status file.
 *
 * A double-forked monitor in its own session starts the instance with its
 * console on the log file, holds the pidfd, records the status file and exits
 * when the instance does. The status file is all that other goldroot
 * processes need to find, signal or enter the instance later; the start time
 * of the pid in it tells a live instance from a reused pid.
 */
#include "runner.h"
#include "fsutil.h"
#include "runner-internal.h"
#include "util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int status_write(int dirfd, const RunnerStatus *s) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = asprintf_safe(&text,
                          "state=%s\npid=%d\npid_start=%" PRIu64 "\nmonitor_pid=%d\n"
                          "monitor_start=%" PRIu64 "\nstarted_usec=%" PRIu64 "\n",
                          s->state == RUNNER_STATE_EXITED ? "exited" : "running", (int)s->pid,
                          s->pid_start, (int)s->monitor_pid, s->monitor_start, s->started_usec);
        if (r >= 0 && s->state == RUNNER_STATE_EXITED) {
                char *t = NULL;
                r = asprintf_safe(&t, "%sexited_usec=%" PRIu64 "\nexit_status=%d\n", text,
                                  s->exited_usec, s->exit_status);
                free(text);
                text = t;
        }
        if (r < 0)
                return r;
        return write_file_replace_at(dirfd, RUNNER_STATUS_FILE, text, strlen(text), 0644);
}

int runner_status_record_start(int dirfd, pid_t pid, RunnerStatus *ret) {
        RunnerStatus st = {.state = RUNNER_STATE_RUNNING,
                           .pid = pid,
                           .monitor_pid = getpid(),
                           .started_usec = now_usec()};
        int r;

        r = pid_get_starttime(st.monitor_pid, &st.monitor_start);
        if (r >= 0)
                r = pid_get_starttime(pid, &st.pid_start);
        if (r < 0)
                return log_error_errno(r, "reading the instance's start time: %m");
        r = status_write(dirfd, &st);
        if (r < 0)
                return log_error_errno(r, "writing the instance's status: %m");
        *ret = st;
        return 0;
}

int runner_status_record_exit(int dirfd, RunnerStatus *st, int exit_status) {
        int r;

        st->exit_status = exit_status;
        st->exited_usec = now_usec();
        st->state = RUNNER_STATE_EXITED;
        r = status_write(dirfd, st);
        if (r < 0)
                return log_error_errno(r, "writing the instance's exit status: %m");
        return 0;
}

static _noreturn_ void monitor_run(const RunnerSpec *spec, int dirfd, int log_fd, int sock) {
        RunnerSpec s = *spec;
        RunnerStatus st;
        pid_t pid;
        LogCapture cap;
        FILE *log;
        int pidfd, null, r;

        (void)prctl(PR_SET_NAME, "goldroot-mon");
        /* Holding the caller's terminal or output pipe open would keep, say,
         * $(goldroot start ...) waiting for the instance to exit. */
        null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
                runner_child_fail(sock, NULL, errno, "detaching the monitor", 1);
        safe_close(null);

        log_capture_begin(&cap);
        s.console_fd = log_fd;
        r = runner_start(&s, &pid, &pidfd);
        if (r < 0)
                runner_child_fail(sock, &cap, r, "starting the instance", 1);
        r = runner_status_record_start(dirfd, pid, &st);
        if (r < 0) {
                (void)pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
                (void)runner_wait(pidfd);
                runner_child_fail(sock, &cap, r, "", 1);
        }
        (void)runner_message_send(sock, 0, st.pid, NULL);

        /* From here on, what the monitor has to say goes to the console log. */
        log = fdopen(fcntl(log_fd, F_DUPFD_CLOEXEC, 3), "a");
        log_set_stream(log);
        fclose(cap.f);
        free(cap.buf);
        r = close_all_fds_except((const int[]){pidfd, dirfd, log ? fileno(log) : -1}, 3);
        if (r < 0)
                log_warning_errno(r, "monitor: closing inherited fds: %m");
        /* Do not pin the caller's working directory's file system. */
        (void)chdir("/");

        r = runner_wait(pidfd);
        r = runner_status_record_exit(dirfd, &st, r < 0 ? 255 : r);
        _exit(r < 0 ? 1 : 0);
}

int runner_start_detached(const RunnerSpec *spec, int dirfd, const char *log_name, pid_t *ret_pid) {
        _cleanup_close_ int log_fd = -EBADF, sock = -EBADF, child_sock = -EBADF;
        RunnerMessage m;
        int fds[2], status, r;
        pid_t pid;

        assert(spec);
        assert(dirfd >= 0);
        assert(log_name);
        assert(ret_pid);

        /* The log may sit in the instance's state, which the guest writes: a
         * symlink planted there must not make goldroot append elsewhere. */
        log_fd = openat_in_root_nofollow(dirfd, log_name, O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY,
                                         0640);
        if (log_fd < 0)
                return log_error_errno(log_fd, "opening the console log %s: %m", log_name);
        r = runner_socketpair(fds);
        if (r < 0)
                return log_error_errno(r, "creating a socketpair: %m");
        sock = fds[0];
        child_sock = fds[1];

        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "forking the monitor: %m");
        if (pid == 0) {
                pid_t monitor;

                safe_close(sock);
                if (setsid() < 0)
                        runner_child_fail(child_sock, NULL, errno, "creating a session", 1);
                monitor = fork();
                if (monitor < 0)
                        runner_child_fail(child_sock, NULL, errno, "forking the monitor", 1);
                if (monitor > 0)
                        _exit(0);
                monitor_run(spec, dirfd, log_fd, child_sock);
        }
        child_sock = safe_close(child_sock);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;

        r = runner_message_recv(sock, &m, NULL);
        if (r < 0)
                return log_error_errno(r, "reading from the monitor: %m");
        if (r == 0)
                return log_error_errno(EIO, "the monitor died before the instance started");
        if (m.error != 0)
                return log_error_errno(m.error, "%s", m.text);
        *ret_pid = m.pid;
        return 0;
}

static int parse_u64(const char *s, uint64_t *ret) {
        char *end;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        *ret = strtoull(s, &end, 10);
        return errno != 0 || *end ? -EINVAL : 0;
}

int runner_status_read(int dirfd, RunnerStatus *ret) {
        static const char *const known_keys[] = {
                "pid",          "pid_start",   "monitor_pid", "monitor_start",
                "started_usec", "exited_usec", "exit_status", NULL};
        _cleanup_free_ char *text = NULL;
        RunnerStatus s = {.exit_status = -1};
        char path[FD_PATH_MAX], dir[4096], file[4200];
        bool have_state = false, have_pid = false;
        unsigned line = 0;
        ssize_t n;
        int r;

        assert(ret);
        r = read_file_at(dirfd, RUNNER_STATUS_FILE, &text, NULL, 4096);
        if (r == -ENOENT)
                return r;
        n = readlink(fd_path(dirfd, path), dir, sizeof dir - 1);
        dir[n < 0 ? 0 : n] = 0;
        snprintf(file, sizeof file, "%s/%s", dir, RUNNER_STATUS_FILE);
        if (r < 0)
                return log_error_errno(r, "reading %s: %m", file);

        for (char *p = text, *next; *p; p = next) {
                char *eq, *val;
                uint64_t v = 0;

                next = strchrnul(p, '\n');
                if (*next)
                        *next++ = 0;
                line++;
                if (!*p)
                        continue;
                eq = strchr(p, '=');
                if (!eq)
                        return log_syntax(file, line, 1, "expected KEY=VALUE");
                *eq = 0;
                val = eq + 1;
                if (streq(p, "state")) {
                        if (streq(val, "running"))
                                s.state = RUNNER_STATE_RUNNING;
                        else if (streq(val, "exited"))
                                s.state = RUNNER_STATE_EXITED;
                        else
                                return log_syntax(file, line, 7, "unknown state '%s'", val);
                        have_state = true;
                        continue;
                }
                /* Newer keys are ignored, so that an older goldroot can still
                 * read the file. */
                if (!strv_contains((char **)known_keys, p))
                        continue;
                if (parse_u64(val, &v) < 0 ||
                    ((streq(p, "pid") || streq(p, "monitor_pid")) && (v == 0 || v > INT32_MAX)) ||
                    (streq(p, "exit_status") && v > 255))
                        return log_syntax(file, line, (unsigned)(val - p) + 1,
                                          "invalid value '%s' for %s", val, p);
                if (streq(p, "pid")) {
                        s.pid = (pid_t)v;
                        have_pid = true;
                } else if (streq(p, "pid_start"))
                        s.pid_start = v;
                else if (streq(p, "monitor_pid"))
                        s.monitor_pid = (pid_t)v;
                else if (streq(p, "monitor_start"))
                        s.monitor_start = v;
                else if (streq(p, "started_usec"))
                        s.started_usec = v;
                else if (streq(p, "exited_usec"))
                        s.exited_usec = v;
                else
                        s.exit_status = (int)v;
        }
        if (!have_state || !have_pid)
                return log_syntax(file, line, 1, "state= or pid= is missing");
        if (s.state == RUNNER_STATE_EXITED && s.exit_status < 0)
                return log_syntax(file, line, 1, "exit_status= is missing");

        if (s.state == RUNNER_STATE_RUNNING) {
                r = pid_is_alive_since(s.pid, s.pid_start);
                if (r == 0)
                        s.state = RUNNER_STATE_LOST;
                else if (r < 0)
                        return log_error_errno(r, "checking process %d: %m", (int)s.pid);
        }
        *ret = s;
        return 0;
}

int runner_status_pidfd(const RunnerStatus *status, int *ret_pidfd) {
        _cleanup_close_ int fd = -EBADF;

        assert(status);
        assert(ret_pidfd);
        if (status->state != RUNNER_STATE_RUNNING || status->pid <= 0)
                return -ESRCH;
        fd = pidfd_open(status->pid, 0);
        if (fd < 0)
                return errno == ESRCH ? -ESRCH
                                      : log_error_errno(errno, "opening a pidfd for %d: %m",
                                                        (int)status->pid);
        /* fd is the process that held the pid when it was opened; if that one
         * is still alive and has the recorded start time, it is ours. */
        if (pid_is_alive_since(status->pid, status->pid_start) <= 0 ||
            pidfd_send_signal(fd, 0, NULL, 0) < 0)
                return -ESRCH;
        *ret_pidfd = TAKE_FD(fd);
        return 0;
}

int runner_status_wait_exited(int dirfd, unsigned timeout_ms, RunnerStatus *ret) {
        _cleanup_close_ int fd = -EBADF;
        RunnerStatus st;
        int r;

        assert(ret);
        r = runner_status_read(dirfd, &st);
        if (r < 0 || st.state == RUNNER_STATE_EXITED || st.monitor_pid <= 0)
                goto done;
        fd = pidfd_open(st.monitor_pid, 0);
        /* As for the instance: the monitor is ours only if it is alive with
         * the recorded start time. */
        if (fd >= 0 && pid_is_alive_since(st.monitor_pid, st.monitor_start) > 0 &&
            pidfd_send_signal(fd, 0, NULL, 0) >= 0) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int n;

                do
                        n = poll(&p, 1, (int)timeout_ms);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                        return log_error_errno(errno, "waiting for the monitor: %m");
                if (n == 0)
                        return -ETIMEDOUT;
        }
        r = runner_status_read(dirfd, &st);
done:
        if (r < 0)
                return r;
        *ret = st;
        return 0;
}
