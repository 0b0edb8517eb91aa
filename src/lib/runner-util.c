/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runner-util: the plumbing the runner's files share: child-to-parent
 * messages, log capture in children, fd and signal hygiene before an exec,
 * capabilities, and what /proc says about a process.
 */
#include "runner-internal.h"
#include "fsutil.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/pidfd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Sends m whole, with passed_fd along (SCM_RIGHTS) unless it is negative. */
static int message_send(int fd, const RunnerMessage *m, int passed_fd) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof *m};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;

        if (passed_fd >= 0) {
                struct cmsghdr *cm;

                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof control.buf;
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &passed_fd, sizeof(int));
        }
        do
                n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return n == sizeof *m ? 0 : -EIO;
}

int runner_message_send(int fd, int error, pid_t pid, const char *text) {
        RunnerMessage m = {.error = error < 0 ? -error : error, .pid = pid};

        if (text)
                snprintf(m.text, sizeof m.text, "%s", text);
        return message_send(fd, &m, -EBADF);
}

int runner_message_send_fd(int fd, pid_t pid, int passed_fd) {
        assert(passed_fd >= 0);
        return message_send(fd, &(RunnerMessage){.pid = pid}, passed_fd);
}

int runner_message_recv(int fd, RunnerMessage *ret, int *ret_fd) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        struct iovec iov = {.iov_base = ret, .iov_len = sizeof *ret};
        struct msghdr mh = {};
        int passed = -EBADF;
        ssize_t n;

        assert(ret);
        if (ret_fd)
                *ret_fd = -EBADF;
        /* AF_UNIX reports ECONNRESET when the peer closed with data of ours
         * unread, ahead of the messages it had sent: read on past it. */
        do {
                mh = (struct msghdr){
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf,
                };
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        } while (n < 0 && (errno == EINTR || errno == ECONNRESET));
        if (n < 0)
                return -errno;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
                    cm->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&passed, CMSG_DATA(cm), sizeof(int));
        if (n == 0)
                return 0;
        if (n != sizeof *ret) {
                safe_close(passed);
                return -EIO;
        }
        ret->text[sizeof ret->text - 1] = 0;
        if (ret_fd)
                *ret_fd = passed;
        else
                safe_close(passed);
        return 1;
}

void log_capture_begin(LogCapture *c) {
        assert(c);
        *c = (LogCapture){};
        c->f = open_memstream(&c->buf, &c->len);
        /* Without memory the messages go to stderr, which is still better than
         * losing them. */
        if (c->f)
                log_set_stream(c->f);
}

void log_capture_flush(LogCapture *c) {
        assert(c);
        if (!c->f)
                return;
        log_set_stream(NULL);
        fflush(c->f);
        if (c->len > 0)
                fwrite(c->buf, 1, c->len, stderr);
        fclose(c->f);
        free(c->buf);
        *c = (LogCapture){};
}

static _noreturn_ void child_fail(int fd, LogCapture *c, int error, const char *fallback,
                                  int status, int exec_status) {
        RunnerMessage m = {.error = error < 0 ? -error : error, .exec_status = exec_status};
        const char *line = NULL;
        char *end;

        if (c && c->f && fflush(c->f) == 0 && c->len > 0) {
                /* The last complete line is the error; earlier ones are
                 * warnings. */
                end = c->buf + c->len;
                while (end > c->buf && end[-1] == '\n')
                        *--end = 0;
                line = memrchr(c->buf, '\n', end - c->buf);
                line = line ? line + 1 : c->buf;
                line = startswith(line, "goldroot: ") ?: line;
        }
        if (isempty(line))
                snprintf(m.text, sizeof m.text, "%s: %s", fallback, strerror(m.error));
        else
                snprintf(m.text, sizeof m.text, "%s", line);
        (void)message_send(fd, &m, -EBADF);
        _exit(status);
}

_noreturn_ void runner_child_fail(int fd, LogCapture *c, int error, const char *fallback,
                                  int status) {
        child_fail(fd, c, error, fallback, status, 0);
}

_noreturn_ void runner_child_exec_fail(int fd, LogCapture *c, int error) {
        /* As the shells: not found (the file, or its script's interpreter)
         * is 127; found but not executable (no permission, a directory, a
         * format the kernel does not run) is 126. */
        int status = error == -ENOENT || error == ENOENT ? RUNNER_EXIT_NOT_FOUND
                                                         : RUNNER_EXIT_CANNOT_EXEC;

        child_fail(fd, c, error, "executing the command", status, status);
}

int close_all_fds_except(const int *keep, size_t n) {
        int sorted[16];
        unsigned lo = 3;
        size_t m = 0;

        assert(n <= ELEMENTSOF(sorted));
        for (size_t i = 0; i < n; i++) {
                size_t j;
                if (keep[i] < 3)
                        continue;
                for (j = m; j > 0 && sorted[j - 1] > keep[i]; j--)
                        sorted[j] = sorted[j - 1];
                sorted[j] = keep[i];
                m++;
        }
        for (size_t i = 0; i < m; i++) {
                if ((unsigned)sorted[i] > lo && close_range(lo, sorted[i] - 1, 0) < 0)
                        return -errno;
                if ((unsigned)sorted[i] >= lo)
                        lo = sorted[i] + 1;
        }
        if (close_range(lo, ~0U, 0) < 0)
                return -errno;
        return 0;
}

void reset_signals(void) {
        struct sigaction sa = {.sa_handler = SIG_DFL};
        sigset_t none;

        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void)sigaction(s, &sa, NULL);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

void runner_forward_sigset(sigset_t *ret) {
        sigemptyset(ret);
        sigaddset(ret, SIGTERM);
        sigaddset(ret, SIGINT);
        sigaddset(ret, SIGHUP);
        sigaddset(ret, SIGQUIT);
        sigaddset(ret, SIGUSR1);
        sigaddset(ret, SIGUSR2);
}

int exit_status_from_wait(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}

int runner_wait(int pidfd) {
        siginfo_t si = {};

        assert(pidfd >= 0);
        while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "waiting for the instance: %m");
        return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

/* struct pidfd_info as Linux 6.13 introduced it (PIDFD_INFO_SIZE_VER0); 6.15
 * turned its spare field into exit_code. Declared here because the system's
 * headers may predate both. */
struct pidfd_info_ver0 {
        uint64_t mask;
        uint64_t cgroupid;
        uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
        int32_t exit_code;
};
#define PIDFD_GET_INFO_VER0 _IOWR(0xFF, 11, struct pidfd_info_ver0)
#define PIDFD_INFO_EXIT_MASK (UINT64_C(1) << 3)

/* The exit status of a reaped process by its pidfd, which need not be a
 * child of the caller's (PIDFD_GET_INFO, Linux 6.15); -EAGAIN before the
 * reaping, -EOPNOTSUPP where the kernel cannot tell. */
static int pidfd_exit_status(int pidfd) {
        struct pidfd_info_ver0 info = {.mask = PIDFD_INFO_EXIT_MASK};
        int r;

        r = ioctl(pidfd, PIDFD_GET_INFO_VER0, &info);
        /* A call that the reaping overtakes fails with ESRCH even where the
         * kernel keeps the status (it had the process, then lost its pid):
         * asked again, it answers from what the reaping recorded. That
         * happened to about one call in twenty here, each then waiting for
         * PID 1's whole exit instead. */
        if (r < 0 && errno == ESRCH)
                r = ioctl(pidfd, PIDFD_GET_INFO_VER0, &info);
        if (r < 0)
                /* ENOTTY/EINVAL: no such ioctl; ESRCH: reaped, and a kernel
                 * older than 6.15 keeps no exit status for it. */
                return -EOPNOTSUPP;
        if (!(info.mask & PIDFD_INFO_EXIT_MASK))
                return -EAGAIN;
        return exit_status_from_wait(info.exit_code);
}

enum { WAIT_INSTANCE, WAIT_SIGNAL, WAIT_COMMAND };

static int epoll_watch(int ep, int fd, uint32_t events, uint64_t tag) {
        struct epoll_event ev = {.events = events, .data.u64 = tag};
        return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void forward_signal(int pidfd, int sfd) {
        struct signalfd_siginfo si;

        if (read(sfd, &si, sizeof si) != sizeof si)
                return;
        /* A terminal signals its whole foreground process group, the instance
         * included: passing it on would deliver it twice. */
        if (si.ssi_code == SI_KERNEL)
                return;
        if (pidfd_send_signal(pidfd, (int)si.ssi_signo, NULL, 0) < 0 && errno != ESRCH)
                log_warning_errno(errno, "forwarding signal %s: %m",
                                  sigabbrev_np((int)si.ssi_signo));
}

int runner_forward_until_exit(int pidfd, int sfd, int command_pidfd) {
        _cleanup_close_ int ep = -EBADF;
        int r;

        ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0)
                return log_error_errno(errno, "waiting for the instance: %m");
        r = epoll_watch(ep, pidfd, EPOLLIN, WAIT_INSTANCE);
        if (r >= 0)
                r = epoll_watch(ep, sfd, EPOLLIN, WAIT_SIGNAL);
        /* Edge-triggered: a pidfd reports an exit at once and stays readable;
         * the exit status is there only once the command's parent (goldroot's
         * PID 1) has reaped it, which wakes the pidfd's waiters again. */
        if (r >= 0 && command_pidfd >= 0)
                r = epoll_watch(ep, command_pidfd, EPOLLIN | EPOLLET, WAIT_COMMAND);
        if (r < 0)
                return log_error_errno(r, "waiting for the instance: %m");

        for (;;) {
                struct epoll_event ev[3];
                bool instance = false, command = false, signal = false;
                int n;

                n = epoll_wait(ep, ev, ELEMENTSOF(ev), -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "waiting for the instance: %m");
                }
                for (int k = 0; k < n; k++) {
                        instance |= ev[k].data.u64 == WAIT_INSTANCE;
                        signal |= ev[k].data.u64 == WAIT_SIGNAL;
                        command |= ev[k].data.u64 == WAIT_COMMAND;
                }
                if (instance)
                        return runner_wait(pidfd);
                if (command) {
                        r = pidfd_exit_status(command_pidfd);
                        if (r >= 0)
                                return r;
                        if (r != -EAGAIN)
                                (void)epoll_ctl(ep, EPOLL_CTL_DEL, command_pidfd, NULL);
                }
                if (signal)
                        forward_signal(pidfd, sfd);
        }
}

int pidfd_get_pid(int pidfd, pid_t *ret) {
        _cleanup_free_ char *info = NULL;
        char name[64];
        const char *p;
        long pid;

        snprintf(name, sizeof name, "/proc/self/fdinfo/%d", pidfd);
        if (read_file_at(AT_FDCWD, name, &info, NULL, 4096) < 0)
                return -EBADF;
        p = strstr(info, "\nPid:");
        if (!p)
                return -EBADF;
        pid = strtol(p + 5, NULL, 10);
        if (pid <= 0)
                return -ESRCH;
        *ret = (pid_t)pid;
        return 0;
}

/* The start time of pid, and whether it has exited and only waits to be
 * reaped (a zombie). */
static int pid_read_stat(pid_t pid, uint64_t *ret_start, bool *ret_zombie) {
        _cleanup_free_ char *stat = NULL;
        char name[64];
        const char *p;
        int r;

        snprintf(name, sizeof name, "/proc/%d/stat", (int)pid);
        r = read_file_at(AT_FDCWD, name, &stat, NULL, 4096);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        /* comm may hold spaces and parentheses; the fields start after the
         * last ')'. starttime is field 22, the 20th after it. */
        p = strrchr(stat, ')');
        if (!p || p[1] != ' ' || !p[2])
                return -EBADMSG;
        *ret_zombie = p[2] == 'Z' || p[2] == 'X';
        for (int field = 2; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        *ret_start = strtoull(p + 1, NULL, 10);
        return 0;
}

/* Overwrites the strings behind this process's /proc/PID/cmdline and
 * /proc/PID/environ (fields 48 to 51 of its stat: arg_start, arg_end,
 * env_start, env_end) with zeros, and puts name at the start of the first. */
int runner_wipe_cmdline_environ(const char *name) {
        extern char **environ;
        static char *empty_env[] = {NULL};
        _cleanup_free_ char *stat = NULL;
        unsigned long long v[4];
        const char *p;
        int r;

        assert(name);
        r = read_file_at(AT_FDCWD, "/proc/self/stat", &stat, NULL, 4096);
        if (r < 0)
                return r;
        p = strrchr(stat, ')');
        if (!p)
                return -EBADMSG;
        /* comm may hold spaces and parentheses; the fields start after the
         * last ')'. arg_start is field 48, the 46th after it. */
        for (int field = 2; field < 48; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        if (sscanf(p + 1, "%llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]) != 4 || v[1] < v[0] ||
            v[3] < v[2] || v[0] == 0 || v[2] == 0)
                return -EBADMSG;
        memset((void *)(uintptr_t)v[2], 0, (size_t)(v[3] - v[2]));
        memset((void *)(uintptr_t)v[0], 0, (size_t)(v[1] - v[0]));
        if (v[1] > v[0]) {
                size_t n = strlen(name), room = (size_t)(v[1] - v[0] - 1);

                memcpy((void *)(uintptr_t)v[0], name, n < room ? n : room);
        }
        /* What environ pointed to is gone. */
        environ = empty_env;
        return 0;
}

int pid_get_starttime(pid_t pid, uint64_t *ret) {
        bool zombie;

        return pid_read_stat(pid, ret, &zombie);
}

int pid_is_alive_since(pid_t pid, uint64_t start) {
        uint64_t actual;
        bool zombie;
        int r;

        r = pid_read_stat(pid, &actual, &zombie);
        if (r == -ESRCH)
                return 0;
        if (r < 0)
                return r;
        /* A zombie has exited; it only waits for its parent (init, for an
         * instance whose goldroot was killed) to reap it. */
        return actual == start && !zombie;
}

int pid_get_capability_bounding_set(pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *status = NULL;
        char name[64];
        const char *p;
        int r;

        snprintf(name, sizeof name, "/proc/%d/status", (int)pid);
        r = read_file_at(AT_FDCWD, name, &status, NULL, 65536);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        p = strstr(status, "\nCapBnd:");
        if (!p)
                return -EBADMSG;
        *ret = strtoull(p + 8, NULL, 16);
        return 0;
}

int capabilities_drop_to(uint64_t keep) {
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[2];

        for (unsigned c = 0; c < 64; c++) {
                if (keep & (UINT64_C(1) << c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
                        if (errno == EINVAL) /* past the kernel's last capability */
                                break;
                        return -errno;
                }
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        if (syscall(SYS_capget, &h, d) < 0)
                return -errno;
        for (int i = 0; i < 2; i++) {
                uint32_t k = (uint32_t)(keep >> (32 * i));
                d[i].effective &= k;
                d[i].permitted &= k;
                d[i].inheritable &= k;
        }
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        return 0;
}

int runner_execute(char *const *argv, char *const *env) {
        extern char **environ;

        /* execvp() searches the PATH of environ, which must be the
         * instance's, not the caller's. */
        environ = (char **)env;
        execvp(argv[0], argv);
        return log_error_errno(errno, "executing %s: %m", argv[0]);
}

int runner_socketpair(int ret[2]) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ret) < 0)
                return -errno;
        return 0;
}

int runner_tie_to_parent(int sock) {
        struct pollfd p = {.fd = sock, .events = POLLIN};

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                return -errno;
        if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP))
                _exit(1);
        return 0;
}

pid_t runner_fork(uint64_t flags, int exit_signal, int *ret_pidfd) {
        struct clone_args args = {
                .flags = flags,
                .exit_signal = (uint64_t)exit_signal,
                .pidfd = (uint64_t)(uintptr_t)ret_pidfd,
        };
        pid_t pid;

        assert(!(flags & ~(uint64_t)UINT32_MAX));
        assert(!!(flags & CLONE_PIDFD) == !!ret_pidfd);
        pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
        if (pid >= 0 || errno != ENOSYS)
                return pid;
        /* clone3() is missing where a seccomp filter answers ENOSYS for it so
         * that glibc falls back (container runtimes' default profiles do), on
         * kernels before 5.3, and under valgrind. clone() with a NULL stack
         * forks the same way; CLONE_PIDFD stores the pidfd through parent_tid. */
        return (pid_t)syscall(SYS_clone, (unsigned long)flags | (unsigned)exit_signal, NULL,
                              ret_pidfd, NULL, 0);
}
