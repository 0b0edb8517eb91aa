/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the runner: real namespaces and processes on a busybox root.
 * The whole suite runs in a private mount namespace of its own, so the
 * "host" mounts it makes die with it; the bridge test runs in a network
 * namespace of its own and never touches the host's network. Needs root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fsutil.h"
#include "runner-internal.h"
#include "runner.h"
#include "util.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

typedef struct Fixture {
        char *tmp;   /* everything the suite creates lives below it */
        char *tree;  /* the busybox root */
        char *state; /* a directory for detached instances' status and log */
        int host_netns;
} Fixture;

static const char *const applets[] = {
        "sh",    "cat",  "echo",  "sleep", "mount", "ping",     "ls",   "hostname",
        "touch", "true", "false", "kill",  "grep",  "test",     "stat", "mkdir",
        "head",  "wc",   "tr",    "awk",   "ip",    "readlink", "date", "mknod",
};

static int setup_busybox_root(const char *root, int root_fd, void *userdata) {
        const char *tree = userdata;
        struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
        _cleanup_close_ int t = -EBADF;
        _cleanup_free_ char *tmp = NULL;

        t = open_tree(AT_FDCWD, tree, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (t < 0)
                return log_error_errno(errno, "test: binding %s: %m", tree);
        if (mount_setattr(t, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof ro) < 0)
                return log_error_errno(errno, "test: making %s read-only: %m", tree);
        if (move_mount(t, "", root_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return log_error_errno(errno, "test: mounting %s on %s: %m", tree, root);
        tmp = path_join(root, "tmp");
        if (!tmp)
                return log_oom();
        if (mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=1M") < 0)
                return log_error_errno(errno, "test: mounting a tmpfs on %s: %m", tmp);
        return 0;
}

static int setup_failing_root(const char *root, int root_fd, void *userdata) {
        return log_error_errno(EROFS, "test: simulated failure on %s", root);
}

static int build_tree(const char *tree) {
        static const char *const dirs[] = {"bin", "dev", "proc", "sys", "tmp", "etc", "root"};
        _cleanup_close_ int dfd = -EBADF, bin = -EBADF, src = -EBADF;

        if (mkdir(tree, 0755) < 0)
                return -errno;
        dfd = open(tree, O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (mkdirat(dfd, dirs[i], 0755) < 0)
                        return -errno;
        bin = openat(dfd, "bin", O_DIRECTORY | O_CLOEXEC);
        src = open("/bin", O_DIRECTORY | O_CLOEXEC);
        if (bin < 0 || src < 0)
                return -errno;
        if (copy_file_at(src, "busybox", bin, "busybox") < 0)
                return -EIO;
        for (size_t i = 0; i < ELEMENTSOF(applets); i++)
                if (symlinkat("busybox", bin, applets[i]) < 0)
                        return -errno;
        return 0;
}

static int group_setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        char tmpl[] = "/tmp/goldroot-runner-XXXXXX";

        assert_non_null(f);
        /* Mounts the suite makes on "the host" stay in this namespace. */
        assert_int_equal(unshare(CLONE_NEWNS), 0);
        assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        /* Monitors are double-forked; as subreaper the suite can wait for them. */
        assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);

        assert_non_null(mkdtemp(tmpl));
        f->tmp = strdup(tmpl);
        f->tree = path_join(tmpl, "rootfs");
        f->state = path_join(tmpl, "state");
        assert_int_equal(build_tree(f->tree), 0);
        assert_int_equal(mkdir(f->state, 0755), 0);
        f->host_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        assert_true(f->host_netns >= 0);
        {
                _cleanup_free_ char *run = path_join(tmpl, "run");
                assert_int_equal(setenv("GOLDROOT_RUNDIR", run, 1), 0);
        }
        *state = f;
        return 0;
}

/* After each test, whether it passed or not: kill and reap every child left
 * (instances, monitors reparented to us), and return to the suite's network
 * namespace. Killing an instance's PID 1 kills the whole instance. */
static int test_teardown(void **state) {
        Fixture *f = *state;
        _cleanup_(closedirp) DIR *d = opendir("/proc");
        struct dirent *de;

        assert_non_null(d);
        while ((de = readdir(d))) {
                _cleanup_free_ char *stat = NULL;
                char name[300];
                const char *p;
                int pid = atoi(de->d_name);

                if (pid <= 0)
                        continue;
                snprintf(name, sizeof name, "/proc/%d/stat", pid);
                if (read_file_at(AT_FDCWD, name, &stat, NULL, 4096) < 0)
                        continue;
                p = strrchr(stat, ')');
                if (p && atoi(p + 4) == (int)getpid())
                        (void)kill(pid, SIGKILL);
        }
        while (waitpid(-1, NULL, 0) > 0)
                ;
        assert_int_equal(setns(f->host_netns, CLONE_NEWNET), 0);
        return 0;
}

static int group_teardown(void **state) {
        Fixture *f = *state;

        (void)test_teardown(state);
        close(f->host_netns);

        (void)rm_rf_at(AT_FDCWD, f->tmp);
        free(f->tmp);
        free(f->tree);
        free(f->state);
        free(f);
        return 0;
}

static RunnerSpec spec_for(Fixture *f, char *const *argv) {
        RunnerSpec s = RUNNER_SPEC_INIT;

        s.argv = argv;
        s.hostname = "gr-test";
        s.setup_root = setup_busybox_root;
        s.userdata = f->tree;
        return s;
}

static char *read_all(int fd) {
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        char chunk[4096];
        ssize_t n;

        assert_non_null(m);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        while ((n = read(fd, chunk, sizeof chunk)) > 0)
                fwrite(chunk, 1, n, m);
        fclose(m);
        return buf;
}

/* Runs spec in the foreground with the console in a memfd. */
static int run_capture(RunnerSpec *s, char **out) {
        _cleanup_close_ int fd = memfd_create("console", MFD_CLOEXEC);
        int status;

        assert_true(fd >= 0);
        s->console_fd = fd;
        status = runner_run(s);
        *out = read_all(fd);
        return status;
}

static int sh_capture(Fixture *f, const char *script, char **out) {
        char *argv[] = {(char *)"sh", (char *)"-c", (char *)script, NULL};
        RunnerSpec s = spec_for(f, argv);
        return run_capture(&s, out);
}

static int exec_capture(int pidfd, const char *script, char **out) {
        char *argv[] = {(char *)"sh", (char *)"-c", (char *)script, NULL};
        RunnerExecOptions o = RUNNER_EXEC_OPTIONS_INIT;
        _cleanup_close_ int fd = memfd_create("exec", MFD_CLOEXEC);
        int status;

        assert_true(fd >= 0);
        o.console_fd = fd;
        status = runner_exec(pidfd, argv, &o);
        *out = read_all(fd);
        return status;
}

/* Reads from fd until line appears; returns everything read. */
static char *read_until(int fd, const char *line) {
        char buf[4096];
        size_t len = 0;

        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                ssize_t n;

                assert_int_equal(poll(&p, 1, 30000), 1);
                n = read(fd, buf + len, sizeof buf - 1 - len);
                assert_true(n > 0);
                len += n;
                buf[len] = 0;
                if (strstr(buf, line))
                        return strdup(buf);
        }
}

/* Captures what the library logs, to assert on the one-line errors. */
typedef struct LogBuf {
        FILE *f;
        char *buf;
        size_t len;
} LogBuf;

static void logbuf_begin(LogBuf *l) {
        *l = (LogBuf){};
        l->f = open_memstream(&l->buf, &l->len);
        assert_non_null(l->f);
        log_set_stream(l->f);
}

static char *logbuf_end(LogBuf *l) {
        log_set_stream(NULL);
        fclose(l->f);
        return l->buf;
}

static uint64_t capbnd_of(const char *status_text) {
        const char *p = strstr(status_text, "CapBnd:");
        assert_non_null(p);
        return strtoull(p + 7, NULL, 16);
}

static void test_exit_status(void **state) {
        Fixture *f = *state;
        char *out;

        assert_int_equal(sh_capture(f, "exit 0", &out), 0);
        free(out);
        assert_int_equal(sh_capture(f, "exit 3", &out), 3);
        free(out);
        assert_int_equal(sh_capture(f, "kill -KILL $$", &out), 128 + SIGKILL);
        free(out);
        assert_int_equal(sh_capture(f, "kill -TERM $$", &out), 128 + SIGTERM);
        free(out);
        assert_int_equal(sh_capture(f, "echo to-stdout; echo to-stderr >&2; exit 0", &out), 0);
        assert_string_equal(out, "to-stdout\nto-stderr\n");
        free(out);
}

static void test_hostname(void **state) {
        Fixture *f = *state;
        char *out;

        assert_int_equal(sh_capture(f, "hostname; cat /proc/sys/kernel/hostname", &out), 0);
        assert_string_equal(out, "gr-test\ngr-test\n");
        free(out);
}

static void test_pid1(void **state) {
        Fixture *f = *state;
        char *argv[] = {(char *)"sh", (char *)"-c", (char *)"echo $$; cat /proc/1/comm; true",
                        NULL};
        RunnerSpec s = spec_for(f, argv);
        char *out;

        /* Not an init: goldroot's reaper is PID 1 and the command is PID 2. */
        assert_int_equal(run_capture(&s, &out), 0);
        assert_string_equal(out, "2\ngoldroot-init\n");
        free(out);

        s.init = true;
        assert_int_equal(run_capture(&s, &out), 0);
        assert_string_equal(out, "1\nsh\n");
        free(out);
}

static void test_orphans_reaped(void **state) {
        Fixture *f = *state;
        char *out;

        /* The subshell exits at once and leaves its background child to PID 1.
         * A zombie keeps its /proc entry, so the entry vanishes only once PID 1
         * has reaped it. */
        assert_int_equal(
                sh_capture(f,
                           "( sleep 0 & echo $! > /tmp/orphan ); p=$(cat /tmp/orphan); "
                           "i=0; while [ -e /proc/$p ] && [ $i -lt 200 ]; do "
                           "sleep 0.05; i=$((i+1)); done; "
                           "if [ -e /proc/$p ]; then grep State /proc/$p/status; exit 1; fi; "
                           "echo reaped",
                           &out),
                0);
        assert_string_equal(out, "reaped\n");
        free(out);
}

static void test_host_mounts_invisible(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *marker = path_join(f->tmp, "marker-mnt");
        char source[64], *out;

        snprintf(source, sizeof source, "gr-marker-%d", (int)getpid());
        assert_int_equal(mkdir(marker, 0755), 0);
        assert_int_equal(mount(source, marker, "tmpfs", 0, "size=4k"), 0);

        assert_int_equal(sh_capture(f, "cat /proc/self/mountinfo", &out), 0);
        assert_null(strstr(out, source));
        assert_null(strstr(out, "marker-mnt"));
        /* The host's own file systems are gone too: only the instance's. */
        assert_non_null(strstr(out, " /proc "));
        assert_null(strstr(out, " /sys/fs/cgroup"));
        free(out);
        assert_int_equal(sh_capture(f, "awk '$5==\"/\" {print $6}' /proc/self/mountinfo", &out), 0);
        assert_string_equal(out, "ro,relatime\n");
        free(out);

        assert_int_equal(umount2(marker, 0), 0);
}

static void test_dev(void **state) {
        Fixture *f = *state;
        char *out;

        assert_int_equal(sh_capture(f, "ls -A /dev", &out), 0);
        assert_string_equal(out, "fd\nfull\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\n"
                                 "tty\nurandom\nzero\n");
        free(out);

        assert_int_equal(sh_capture(f,
                                    "stat -c '%n %F %t,%T' /dev/null /dev/zero /dev/full "
                                    "/dev/random /dev/urandom /dev/tty; "
                                    "readlink /dev/ptmx; readlink /dev/fd; readlink /dev/stdin; "
                                    "echo gone > /dev/null && head -c 5 /dev/zero | wc -c",
                                    &out),
                         0);
        assert_string_equal(out, "/dev/null character special file 1,3\n"
                                 "/dev/zero character special file 1,5\n"
                                 "/dev/full character special file 1,7\n"
                                 "/dev/random character special file 1,8\n"
                                 "/dev/urandom character special file 1,9\n"
                                 "/dev/tty character special file 5,0\n"
                                 "pts/ptmx\n/proc/self/fd\n/proc/self/fd/0\n5\n");
        free(out);

        /* A new devpts instance: empty but for ptmx, which anyone may open, and
         * opening it makes pty 0 in this instance only. */
        assert_int_equal(sh_capture(f,
                                    "ls /dev/pts; stat -c %a /dev/pts/ptmx; "
                                    "exec 3<>/dev/ptmx; ls /dev/pts; "
                                    "awk '$5==\"/dev/pts\" {print $8, $10}' /proc/self/mountinfo",
                                    &out),
                         0);
        assert_non_null(strstr(out, "ptmx\n666\n0\nptmx\ndevpts "));
        assert_non_null(strstr(out, "ptmxmode=666"));
        free(out);

        assert_int_equal(sh_capture(f, "echo x > /dev/shm/file && cat /dev/shm/file", &out), 0);
        assert_string_equal(out, "x\n");
        free(out);

        /* The tmpfs under the nodes is nodev: the bound nodes are mounts of
         * their own and work, a node made on it would not. */
        assert_int_equal(sh_capture(f,
                                    "awk '$5==\"/dev\" || $5==\"/dev/shm\" {print $5, $6}' "
                                    "/proc/self/mountinfo",
                                    &out),
                         0);
        assert_string_equal(out, "/dev rw,nosuid,nodev,noexec,relatime\n"
                                 "/dev/shm rw,nosuid,nodev,noexec,relatime\n");
        free(out);
}

/* An fd the caller forgot to mark CLOEXEC, to a host directory, would be a
 * way out of the instance: neither the command nor goldroot's PID 1 (whose
 * fds root in the instance can open through /proc/1/fd) nor an exec'd
 * command may hold it. */
static void test_no_fd_leaks(void **state) {
        Fixture *f = *state;
        char *script = NULL, *list_pid1 = NULL;
        char *argv[] = {(char *)"sh", (char *)"-c", NULL, NULL};
        int leak = open(f->tmp, O_RDONLY | O_DIRECTORY), pidfd, fds[2];
        struct rlimit nofile;
        pid_t pid;
        char *out;

        /* PID 1 is a forked copy of this test. Under valgrind it inherits
         * valgrind's own descriptors, which valgrind keeps at and above the
         * limit it reports to the program; the kernel hands out the lowest
         * free number, so no descriptor the runner opened can be up there. */
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &nofile), 0);
        assert_true(asprintf(&list_pid1,
                             "for f in /proc/1/fd/*; do n=${f##*/}; "
                             "[ \"$n\" -lt %llu ] && echo \"$n\"; done",
                             (unsigned long long)nofile.rlim_max) > 0);
        assert_true(asprintf(&script, "%s; ls /proc/self/fd; echo ready; exec sleep 1000",
                             list_pid1) > 0);
        argv[2] = script;
        RunnerSpec s = spec_for(f, argv);

        assert_true(leak >= 3);
        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        s.console_fd = fds[1];
        assert_int_equal(runner_start(&s, &pid, &pidfd), 0);
        close(fds[1]);
        out = read_until(fds[0], "ready\n");
        /* ls lists the fd it reads the directory with, as 3. */
        assert_string_equal(out, "0\n1\n2\n0\n1\n2\n3\nready\n");
        free(out);

        free(script);
        assert_true(asprintf(&script, "ls /proc/self/fd; %s", list_pid1) > 0);
        assert_int_equal(exec_capture(pidfd, script, &out), 0);
        assert_string_equal(out, "0\n1\n2\n3\n0\n1\n2\n");
        free(out);
        free(script);
        free(list_pid1);
        assert_int_equal(runner_stop(pidfd, 0, 30000, NULL), 0);
        assert_int_equal(runner_wait(pidfd), 128 + SIGTERM);
        close(pidfd);
        close(fds[0]);
        close(leak);
}

static void test_proc_sys(void **state) {
        Fixture *f = *state;
        char *out;

        assert_int_equal(sh_capture(f,
                                    "awk '$5==\"/proc\" || $5==\"/sys\" {print $5, $6}' "
                                    "/proc/self/mountinfo; ls /sys/class/net; "
                                    "cat /proc/1/comm",
                                    &out),
                         0);
        assert_string_equal(out, "/proc rw,nosuid,nodev,noexec,relatime\n"
                                 "/sys ro,nosuid,nodev,noexec,relatime\n"
                                 "lo\n"
                                 "goldroot-init\n");
        free(out);

        /* sysctls and IRQ settings are read-only; what leaks host state is
         * masked: a file with an empty one, a directory with an empty one. The
         * host has them, with content. */
        {
                _cleanup_free_ char *timers = NULL;
                _cleanup_(closedirp) DIR *fw = opendir("/sys/firmware");
                assert_int_equal(read_file_at(AT_FDCWD, "/proc/timer_list", &timers, NULL, 1 << 24),
                                 0);
                assert_true(strlen(timers) > 0);
                assert_non_null(fw);
        }
        assert_int_equal(sh_capture(f,
                                    "echo 3 > /proc/sys/vm/drop_caches && echo wrote-sysctl; "
                                    "echo 1 > /proc/irq/default_smp_affinity && echo wrote-irq; "
                                    "touch /sys/kernel/x 2>/dev/null && echo wrote-sys; "
                                    "wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l",
                                    &out),
                         0);
        assert_string_equal(
                out, "sh: can't create /proc/sys/vm/drop_caches: Read-only file system\n"
                     "sh: can't create /proc/irq/default_smp_affinity: Read-only file system\n"
                     "0\n0\n");
        free(out);
}

static void test_capabilities(void **state) {
        Fixture *f = *state;
        char *out;
        uint64_t bnd;

        assert_int_equal(sh_capture(f, "cat /proc/self/status", &out), 0);
        bnd = capbnd_of(out);
        assert_int_equal(bnd, runner_default_capabilities());
        assert_false(bnd & (UINT64_C(1) << CAP_SYS_MODULE));
        assert_false(bnd & (UINT64_C(1) << CAP_SYS_RAWIO));
        assert_false(bnd & (UINT64_C(1) << CAP_SYS_TIME));
        assert_false(bnd & (UINT64_C(1) << CAP_SYS_ADMIN));
        assert_false(bnd & (UINT64_C(1) << CAP_MKNOD));
        assert_true(bnd & (UINT64_C(1) << CAP_NET_RAW));
        assert_true(bnd & (UINT64_C(1) << CAP_CHOWN));
        /* root's effective set is its bounding set after exec */
        {
                const char *p = strstr(out, "CapEff:");
                assert_non_null(p);
                assert_int_equal(strtoull(p + 7, NULL, 16), runner_default_capabilities());
        }
        free(out);

        assert_int_equal(sh_capture(f,
                                    "mount -o remount,rw / && echo remounted; "
                                    "touch /newfile 2>/dev/null && echo wrote; "
                                    "date -s 2000-01-01 2>&1 >/dev/null | grep -q 'not permitted' "
                                    "&& echo time-refused; "
                                    "mount -t tmpfs none /tmp && echo mounted; "
                                    "mknod /tmp/null2 c 1 3 && echo made-node; true",
                                    &out),
                         0);
        assert_null(strstr(out, "remounted"));
        assert_null(strstr(out, "wrote"));
        assert_non_null(strstr(out, "time-refused"));
        assert_null(strstr(out, "mounted\n"));
        assert_null(strstr(out, "made-node"));
        free(out);
}

static void test_privileged(void **state) {
        Fixture *f = *state;
        char *argv[] = {(char *)"cat", (char *)"/proc/self/status", NULL};
        RunnerSpec s = spec_for(f, argv);
        _cleanup_free_ char *mine = NULL;
        char *out;

        assert_int_equal(read_file_at(AT_FDCWD, "/proc/self/status", &mine, NULL, 65536), 0);
        s.privileged = true;
        assert_int_equal(run_capture(&s, &out), 0);
        assert_int_equal(capbnd_of(out), capbnd_of(mine));
        assert_true(capbnd_of(out) & (UINT64_C(1) << CAP_SYS_ADMIN));
        free(out);

        /* Even privileged, a node made in /dev cannot be used. */
        {
                char *sh[] = {(char *)"sh", (char *)"-c",
                              (char *)"mknod /dev/null2 c 1 3 && echo made; "
                                      "echo x > /dev/null2 && echo used; true",
                              NULL};
                s.argv = sh;
                assert_int_equal(run_capture(&s, &out), 0);
                assert_string_equal(out, "made\nsh: can't create /dev/null2: Permission denied\n");
                free(out);
        }
}

static void test_exec(void **state) {
        Fixture *f = *state;
        char *argv[] = {(char *)"sh", (char *)"-c",
                        (char *)"echo hello > /tmp/shared; echo ready; exec sleep 1000", NULL};
        RunnerSpec s = spec_for(f, argv);
        _cleanup_close_ int pidfd = -EBADF;
        char *missing[] = {(char *)"/no/such/command", NULL};
        int fds[2], status;
        bool killed;
        pid_t pid;
        LogBuf l;
        char *out, *log;

        s.init = true;
        s.hostname = "gr-exec";
        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        s.console_fd = fds[1];
        assert_int_equal(runner_start(&s, &pid, &pidfd), 0);
        close(fds[1]);
        free(read_until(fds[0], "ready\n"));

        /* "ready" comes just before PID 1 execs sleep: give it that moment. */
        status = exec_capture(pidfd,
                              "i=0; while [ \"$(cat /proc/1/comm)\" != sleep ] && [ $i -lt 500 ]; "
                              "do sleep 0.02; i=$((i+1)); done; "
                              "hostname; cat /tmp/shared; tr '\\0' ' ' < /proc/1/cmdline; echo; "
                              "grep CapBnd /proc/self/status; pwd",
                              &out);
        assert_int_equal(status, 0);
        {
                char expect[256];
                snprintf(expect, sizeof expect,
                         "gr-exec\nhello\nsleep 1000 \nCapBnd:\t%016llx\n/\n",
                         (unsigned long long)runner_default_capabilities());
                assert_string_equal(out, expect);
        }
        free(out);

        assert_int_equal(exec_capture(pidfd, "exit 7", &out), 7);
        free(out);

        /* Not found: logged, and the shell's status, not -errno, so that it is
         * told apart from a command that ran and failed. */
        logbuf_begin(&l);
        assert_int_equal(runner_exec(pidfd, missing, NULL), RUNNER_EXIT_NOT_FOUND);
        log = logbuf_end(&l);
        assert_string_equal(log,
                            "goldroot: executing /no/such/command: No such file or directory\n");
        free(log);

        /* sleep as PID 1 has no SIGTERM handler, so the kernel drops the
         * signal and stop must fall back to SIGKILL. */
        assert_int_equal(runner_stop(pidfd, 0, 200, &killed), 0);
        assert_true(killed);
        assert_int_equal(runner_wait(pidfd), 128 + SIGKILL);
        close(fds[0]);

        /* Gone: exec says so in one line. */
        logbuf_begin(&l);
        assert_int_equal(runner_exec(pidfd, missing, NULL), -ESRCH);
        log = logbuf_end(&l);
        assert_string_equal(log, "goldroot: exec: the instance is not running\n");
        free(log);
}

static void test_stop(void **state) {
        Fixture *f = *state;
        char *sleeper[] = {(char *)"sleep", (char *)"1000", NULL};
        char *stubborn[] = {(char *)"sh", (char *)"-c",
                            (char *)"trap '' TERM; echo ready; while :; do sleep 1; done", NULL};
        RunnerSpec s = spec_for(f, sleeper);
        int pidfd, fds[2];
        bool killed = true;
        pid_t pid;

        /* goldroot's PID 1 forwards SIGTERM, and sleep dies of it. */
        assert_int_equal(runner_start(&s, &pid, &pidfd), 0);
        assert_int_equal(runner_stop(pidfd, 0, 30000, &killed), 0);
        assert_false(killed);
        assert_int_equal(runner_wait(pidfd), 128 + SIGTERM);
        close(pidfd);

        s = spec_for(f, stubborn);
        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        s.console_fd = fds[1];
        assert_int_equal(runner_start(&s, &pid, &pidfd), 0);
        close(fds[1]);
        free(read_until(fds[0], "ready\n"));
        assert_int_equal(runner_stop(pidfd, 0, 300, &killed), 0);
        assert_true(killed);
        assert_int_equal(runner_wait(pidfd), 128 + SIGKILL);
        /* Everything in the instance died with its PID 1: the console pipe
         * has no writer left. */
        {
                char c;
                assert_int_equal(read(fds[0], &c, 1), 0);
        }
        close(fds[0]);

        /* Stopping what is gone already is fine. */
        assert_int_equal(runner_stop(pidfd, 0, 100, &killed), 0);
        assert_false(killed);
        close(pidfd);
}

static void test_foreground_forwards_signals(void **state) {
        Fixture *f = *state;
        char *argv[] = {(char *)"sh", (char *)"-c",
                        (char *)"trap 'echo got-USR1; exit 42' USR1; echo ready; "
                                "while :; do sleep 0.05; done",
                        NULL};
        RunnerSpec s = spec_for(f, argv);
        int fds[2], status;
        pid_t runner;

        /* A forked caller runs the instance in the foreground; a signal to
         * the caller reaches the command, and its exit status comes back,
         * whether the caller waits for PID 1 or for the command. */
        for (int early = 0; early <= 1; early++) {
                s.return_at_command_exit = early;
                assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
                runner = fork();
                assert_true(runner >= 0);
                if (runner == 0) {
                        close(fds[0]);
                        s.console_fd = fds[1];
                        _exit(runner_run(&s) & 0xff);
                }
                close(fds[1]);
                free(read_until(fds[0], "ready\n"));
                assert_int_equal(kill(runner, SIGUSR1), 0);
                free(read_until(fds[0], "got-USR1\n"));
                assert_int_equal(waitpid(runner, &status, 0), runner);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 42);
                close(fds[0]);
        }
}

static void test_return_at_command_exit(void **state) {
        Fixture *f = *state;
        char *exits[] = {(char *)"sh", (char *)"-c", (char *)"sleep 1000 & exit 7", NULL};
        char *killed[] = {(char *)"sh", (char *)"-c", (char *)"kill -TERM $$", NULL};
        RunnerSpec s = spec_for(f, exits);
        int status;
        pid_t pid1;

        /* The status is the command's, read from its pidfd once goldroot's
         * PID 1 reaped it; PID 1 itself (which then exits, taking the
         * orphaned sleep with it) is left unreaped to the caller. */
        s.return_at_command_exit = true;
        assert_int_equal(runner_run(&s), 7);
        pid1 = waitpid(-1, &status, 0);
        assert_true(pid1 > 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 7);

        s = spec_for(f, killed);
        s.return_at_command_exit = true;
        assert_int_equal(runner_run(&s), 128 + SIGTERM);
        assert_true(waitpid(-1, &status, 0) > 0);
        assert_int_equal(exit_status_from_wait(status), 128 + SIGTERM);

        /* Without it, runner_run() reaps PID 1: nothing is left. */
        s = spec_for(f, exits);
        assert_int_equal(runner_run(&s), 7);
        assert_int_equal(waitpid(-1, &status, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
}

/* The command's status is read from its pidfd as soon as its parent (here
 * a stand-in for goldroot's PID 1, which stays until released) has reaped
 * it, even when the reading races with the reaping, which a few of the
 * rounds do: the stand-in's own exit is never waited for. */
static void test_command_status_before_pid1_exit(void **state) {
        sigset_t none;
        int sfd;

        (void)state;
        sigemptyset(&none);
        sfd = signalfd(-1, &none, SFD_CLOEXEC);
        assert_true(sfd >= 0);
        for (int round = 0; round < 300; round++) {
                int go[2], release[2], report[2], pid1_fd, command_fd;
                struct pollfd p;
                pid_t pid1, command;

                assert_int_equal(pipe2(go, O_CLOEXEC), 0);
                assert_int_equal(pipe2(release, O_CLOEXEC), 0);
                assert_int_equal(pipe2(report, O_CLOEXEC), 0);
                pid1 = fork();
                assert_true(pid1 >= 0);
                if (pid1 == 0) {
                        char c;

                        close(release[1]);
                        command = fork();
                        if (command == 0)
                                _exit(read(go[0], &c, 1) == 1 ? 7 : 1);
                        if (write(report[1], &command, sizeof command) != sizeof command)
                                _exit(1);
                        (void)waitpid(command, NULL, 0);
                        p = (struct pollfd){.fd = release[0], .events = POLLIN};
                        (void)poll(&p, 1, 2000);
                        _exit(99);
                }
                close(release[0]);
                close(report[1]);
                assert_int_equal(read(report[0], &command, sizeof command), sizeof command);
                pid1_fd = pidfd_open(pid1, 0);
                command_fd = pidfd_open(command, 0);
                assert_true(pid1_fd >= 0 && command_fd >= 0);
                assert_int_equal(write(go[1], "g", 1), 1);

                assert_int_equal(runner_forward_until_exit(pid1_fd, sfd, command_fd), 7);
                p = (struct pollfd){.fd = pid1_fd, .events = POLLIN};
                assert_int_equal(poll(&p, 1, 0), 0);

                close(release[1]);
                assert_int_equal(waitpid(pid1, NULL, 0), pid1);
                close(pid1_fd);
                close(command_fd);
                close(go[0]);
                close(go[1]);
                close(report[0]);
        }
        close(sfd);
}

/* A PID 1 whose command was quick may have exited (a zombie) by the time
 * its foreground run records it: it is recorded all the same, reads as
 * lost rather than running, and its exit is recorded over it. */
static void test_status_record_exited_pid1(void **state) {
        char dir[] = "/tmp/gr-status-XXXXXX";
        _cleanup_close_ int dirfd = -EBADF;
        RunnerStatus st, read;
        siginfo_t si;
        uint64_t start;
        pid_t pid;

        (void)state;
        assert_non_null(mkdtemp(dir));
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dirfd >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(0);
        assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);

        assert_int_equal(runner_status_record_start(dirfd, pid, &st), 0);
        assert_int_equal(pid_get_starttime(pid, &start), 0);
        assert_true(st.pid_start == start);
        assert_int_equal(pid_is_alive_since(pid, start), 0);
        assert_int_equal(runner_status_read(dirfd, &read), 0);
        assert_int_equal(read.state, RUNNER_STATE_LOST);
        assert_int_equal(runner_status_record_exit(dirfd, &st, 0), 0);
        assert_int_equal(runner_status_read(dirfd, &read), 0);
        assert_int_equal(read.state, RUNNER_STATE_EXITED);
        assert_int_equal(read.exit_status, 0);

        assert_int_equal(waitpid(pid, NULL, 0), pid);
        assert_int_equal(pid_is_alive_since(pid, start), 0);
        assert_int_equal(rm_rf_at(AT_FDCWD, dir), 0);
}

static void wait_monitor(const RunnerStatus *st) {
        int status;
        /* We are the subreaper the monitor was reparented to. */
        assert_int_equal(waitpid(st->monitor_pid, &status, 0), st->monitor_pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_detached(void **state) {
        Fixture *f = *state;
        char *sleeper[] = {(char *)"sleep", (char *)"1000", NULL};
        char *chatty[] = {(char *)"sh", (char *)"-c", (char *)"echo out; echo err >&2; exit 5",
                          NULL};
        RunnerSpec s = spec_for(f, sleeper);
        _cleanup_close_ int dirfd = open(f->state, O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *log = NULL;
        RunnerStatus st, st2;
        int pidfd;
        bool killed;
        pid_t pid;
        uint64_t start;

        assert_true(dirfd >= 0);
        assert_int_equal(runner_status_read(dirfd, &st), -ENOENT);

        assert_int_equal(runner_start_detached(&s, dirfd, "console.log", &pid), 0);
        assert_int_equal(runner_status_read(dirfd, &st), 0);
        assert_int_equal(st.state, RUNNER_STATE_RUNNING);
        assert_int_equal(st.pid, pid);
        assert_true(st.monitor_pid > 0 && st.monitor_pid != pid);
        assert_true(st.started_usec > 0);
        assert_int_equal(pid_get_starttime(pid, &start), 0);
        assert_int_equal(st.pid_start, start);

        assert_true(st.monitor_start > 0);
        assert_int_equal(runner_status_pidfd(&st, &pidfd), 0);
        assert_int_equal(runner_stop(pidfd, 0, 30000, &killed), 0);
        assert_false(killed);
        close(pidfd);
        assert_int_equal(runner_status_wait_exited(dirfd, 30000, &st2), 0);
        assert_int_equal(st2.state, RUNNER_STATE_EXITED);
        wait_monitor(&st);
        assert_int_equal(st2.pid, pid);
        assert_int_equal(st2.exit_status, 128 + SIGTERM);
        assert_true(st2.exited_usec >= st2.started_usec);
        assert_int_equal(runner_status_pidfd(&st2, &pidfd), -ESRCH);

        /* The console goes to the log, appended across starts. */
        s = spec_for(f, chatty);
        assert_int_equal(runner_start_detached(&s, dirfd, "console.log", &pid), 0);
        assert_int_equal(runner_status_read(dirfd, &st), 0);
        wait_monitor(&st);
        assert_int_equal(runner_start_detached(&s, dirfd, "console.log", &pid), 0);
        assert_int_equal(runner_status_read(dirfd, &st), 0);
        wait_monitor(&st);
        assert_int_equal(runner_status_read(dirfd, &st), 0);
        assert_int_equal(st.state, RUNNER_STATE_EXITED);
        assert_int_equal(st.exit_status, 5);
        assert_int_equal(read_file_at(dirfd, "console.log", &log, NULL, 4096), 0);
        assert_string_equal(log, "out\nerr\nout\nerr\n");
}

static void test_status_file(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *dir = path_join(f->tmp, "status-test");
        _cleanup_close_ int dirfd = -EBADF;
        RunnerStatus st;
        LogBuf l;
        char text[256], *log;
        pid_t child;
        int status;

        assert_int_equal(mkdir(dir, 0755), 0);
        dirfd = open(dir, O_DIRECTORY | O_CLOEXEC);
        assert_true(dirfd >= 0);

        /* A status that says running, for a process that is gone. */
        child = fork();
        if (child == 0)
                _exit(0);
        assert_int_equal(waitpid(child, &status, 0), child);
        snprintf(text, sizeof text, "state=running\npid=%d\npid_start=1\nmonitor_pid=1\n",
                 (int)child);
        assert_int_equal(write_file_atomic_at(dirfd, "status", text, strlen(text), 0644), 0);
        assert_int_equal(runner_status_read(dirfd, &st), 0);
        assert_int_equal(st.state, RUNNER_STATE_LOST);
        assert_int_equal(runner_status_pidfd(&st, &status), -ESRCH);

        /* Our own pid with a different start time: a reused pid. */
        snprintf(text, sizeof text, "state=running\npid=%d\npid_start=1\n", (int)getpid());
        assert_int_equal(write_file_atomic_at(dirfd, "status", text, strlen(text), 0644), 0);
        assert_int_equal(runner_status_read(dirfd, &st), 0);
        assert_int_equal(st.state, RUNNER_STATE_LOST);

        /* Unknown keys are fine; a damaged line is a parse error with its place. */
        snprintf(text, sizeof text, "state=exited\npid=12\nfuture=x\nexit_status=3\n");
        assert_int_equal(write_file_atomic_at(dirfd, "status", text, strlen(text), 0644), 0);
        assert_int_equal(runner_status_read(dirfd, &st), 0);
        assert_int_equal(st.state, RUNNER_STATE_EXITED);
        assert_int_equal(st.exit_status, 3);

        snprintf(text, sizeof text, "state=exited\npid=twelve\n");
        assert_int_equal(write_file_atomic_at(dirfd, "status", text, strlen(text), 0644), 0);
        logbuf_begin(&l);
        assert_int_equal(runner_status_read(dirfd, &st), -EBADMSG);
        log = logbuf_end(&l);
        snprintf(text, sizeof text, "goldroot: %s/status:2:5: invalid value 'twelve' for pid\n",
                 dir);
        assert_string_equal(log, text);
        free(log);
}

static void test_errors(void **state) {
        Fixture *f = *state;
        char *missing[] = {(char *)"/no/such/command", NULL};
        char *not_executable[] = {(char *)"/etc", NULL}; /* a directory */
        char *argv[] = {(char *)"true", NULL};
        RunnerSpec s = spec_for(f, missing);
        bool started;
        LogBuf l;
        char *log, *out;

        /* One line, and from the child that failed, not a generic one. */
        logbuf_begin(&l);
        assert_int_equal(runner_run(&s), -ENOENT);
        log = logbuf_end(&l);
        assert_string_equal(log,
                            "goldroot: executing /no/such/command: No such file or directory\n");
        free(log);

        s.init = true;
        logbuf_begin(&l);
        assert_int_equal(runner_run(&s), -ENOENT);
        log = logbuf_end(&l);
        assert_string_equal(log,
                            "goldroot: executing /no/such/command: No such file or directory\n");
        free(log);

        /* With exec_failure_status: the same line, and the shell's status. */
        s = spec_for(f, missing);
        s.exec_failure_status = true;
        logbuf_begin(&l);
        assert_int_equal(runner_run(&s), RUNNER_EXIT_NOT_FOUND);
        log = logbuf_end(&l);
        assert_string_equal(log,
                            "goldroot: executing /no/such/command: No such file or directory\n");
        free(log);
        s.init = true;
        logbuf_begin(&l);
        assert_int_equal(runner_run(&s), RUNNER_EXIT_NOT_FOUND);
        free(logbuf_end(&l));
        s = spec_for(f, not_executable);
        s.exec_failure_status = true;
        logbuf_begin(&l);
        assert_int_equal(runner_run(&s), RUNNER_EXIT_CANNOT_EXEC);
        log = logbuf_end(&l);
        assert_string_equal(log, "goldroot: executing /etc: Permission denied\n");
        free(log);

        s = spec_for(f, argv);
        s.setup_root = setup_failing_root;
        s.ret_started = &started;
        started = true;
        logbuf_begin(&l);
        assert_int_equal(runner_run(&s), -EROFS);
        assert_false(started);
        log = logbuf_end(&l);
        assert_non_null(startswith(log, "goldroot: test: simulated failure on /"));
        assert_non_null(strstr(log, "/root\n"));
        assert_ptr_equal(strchr(log, '\n'), log + strlen(log) - 1);
        free(log);

        s = spec_for(f, argv);
        s.hostname = "";
        logbuf_begin(&l);
        assert_int_equal(runner_run(&s), -EINVAL);
        log = logbuf_end(&l);
        assert_string_equal(log, "goldroot: invalid hostname ''\n");
        free(log);

        /* A failed start leaves no process behind. */
        assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);

        /* The runner still works after all that. */
        s = spec_for(f, argv);
        s.ret_started = &started;
        assert_int_equal(run_capture(&s, &out), 0);
        assert_true(started);
        free(out);
}

static void test_net_parse(void **state) {
        RunnerNet n = {};

        assert_int_equal(runner_net_parse("none", &n), 0);
        assert_int_equal(n.mode, RUNNER_NET_NONE);
        assert_int_equal(runner_net_parse("host", &n), 0);
        assert_int_equal(n.mode, RUNNER_NET_HOST);
        assert_int_equal(runner_net_parse("bridge:br0", &n), 0);
        assert_int_equal(n.mode, RUNNER_NET_BRIDGE);
        assert_string_equal(n.bridge, "br0");
        assert_int_equal(runner_net_parse("bridge:", &n), -EINVAL);
        assert_int_equal(runner_net_parse("bridge:a b", &n), -EINVAL);
        assert_int_equal(runner_net_parse("bridge:br0\nlink del lo", &n), -EINVAL);
        assert_int_equal(runner_net_parse("bridge:waytoolongbridgename", &n), -EINVAL);
        assert_int_equal(runner_net_parse("bridged", &n), -EINVAL);
        assert_int_equal(runner_net_parse("", &n), -EINVAL);
}

static void test_net_host(void **state) {
        Fixture *f = *state;
        char *argv[] = {(char *)"sh", (char *)"-c",
                        (char *)"readlink /proc/1/ns/net; ls /sys/class/net", NULL};
        RunnerSpec s = spec_for(f, argv);
        char mine[64], *out;
        ssize_t n;

        n = readlink("/proc/self/ns/net", mine, sizeof mine - 1);
        assert_true(n > 0);
        mine[n] = 0;
        s.net.mode = RUNNER_NET_HOST;
        assert_int_equal(run_capture(&s, &out), 0);
        assert_non_null(startswith(out, mine));
        free(out);

        s.net.mode = RUNNER_NET_NONE;
        assert_int_equal(run_capture(&s, &out), 0);
        assert_null(startswith(out, mine));
        assert_non_null(strstr(out, "]\nlo\n"));
        free(out);
}

static void test_netns_ahead(void **state) {
        Fixture *f = *state;
        char *argv[] = {(char *)"sh", (char *)"-c",
                        (char *)"readlink /proc/1/ns/net; ls /sys/class/net; "
                                "cat /sys/class/net/lo/flags",
                        NULL};
        RunnerSpec s = spec_for(f, argv);
        RunnerNetnsAhead *a = runner_netns_ahead_start();
        char expect[128], *out;
        struct stat st;
        int fd;

        /* Handed over while its thread may still be at work: the namespace
         * made there is the instance's, with lo up (IFF_UP | IFF_LOOPBACK),
         * its /sys shows that namespace's devices, and the caller's fd stays
         * its own. */
        assert_non_null(a);
        s.netns_ahead = a;
        assert_int_equal(run_capture(&s, &out), 0);
        fd = runner_netns_ahead_join(a);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        snprintf(expect, sizeof expect, "net:[%llu]\nlo\n0x9\n", (unsigned long long)st.st_ino);
        assert_string_equal(out, expect);
        free(out);
        assert_int_equal(fcntl(fd, F_GETFD), FD_CLOEXEC);
        runner_netns_ahead_free(a);
}

/* In a child process that may make no namespace (a seccomp filter answers
 * EPERM to unshare()), starts an instance with a namespace made ahead;
 * writes what runner_run() returned and what it logged to fd. */
static _noreturn_ void run_with_failing_netns_ahead(Fixture *f, int fd) {
        struct sock_filter deny_unshare[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unshare, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = ELEMENTSOF(deny_unshare), .filter = deny_unshare};
        char *argv[] = {(char *)"true", NULL};
        RunnerSpec s = spec_for(f, argv);
        LogBuf l;
        int r;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                _exit(2);
        s.netns_ahead = runner_netns_ahead_start();
        if (!s.netns_ahead)
                _exit(3);
        logbuf_begin(&l);
        r = runner_run(&s);
        /* The instance's first process was killed and reaped. */
        dprintf(fd, "%d %s %s", r,
                waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD ? "gone" : "left",
                logbuf_end(&l));
        runner_netns_ahead_free(s.netns_ahead);
        _exit(0);
}

static void test_netns_ahead_fails(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = memfd_create("report", MFD_CLOEXEC);
        int status;
        char *out;
        pid_t pid;

        /* The thread's failure fails the start, in one line, and leaves no
         * instance behind. */
        assert_true(fd >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                run_with_failing_netns_ahead(f, fd);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(status, 0);
        out = read_all(fd);
        assert_string_equal(out, "-1 gone goldroot: making the instance's network namespace: "
                                 "Operation not permitted\n");
        free(out);
}

static int sh(const char *cmd) {
        int status = system(cmd);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_bridge(void **state) {
        Fixture *f = *state;
        char *sleeper[] = {(char *)"sleep", (char *)"1000", NULL};
        _cleanup_close_ int host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        RunnerSpec a = spec_for(f, sleeper), b = spec_for(f, sleeper);
        int pidfd_a, pidfd_b;
        pid_t pid_a, pid_b;
        int host_had_br0;
        LogBuf l;
        char *out, *log;

        /* The test's own network namespace: the bridge and the traffic stay
         * in it, and it goes away when the test leaves it. */
        assert_true(host_ns >= 0);
        host_had_br0 = sh("ip link show br0 >/dev/null 2>&1");
        assert_int_equal(unshare(CLONE_NEWNET), 0);
        assert_int_equal(sh("ip link set lo up && ip link add br0 type bridge && "
                            "ip addr add 10.77.0.1/24 dev br0 && ip link set br0 up"),
                         0);

        a.hostname = "gr-a";
        a.net = (RunnerNet){.mode = RUNNER_NET_BRIDGE,
                            .bridge = "br0",
                            .address = "10.77.0.2/24",
                            .gateway = "10.77.0.1"};
        b.hostname = "gr-b";
        b.net = a.net;
        b.net.address = "10.77.0.3/24";
        b.net.host_ifname = "gr-b-host";
        assert_int_equal(runner_start(&a, &pid_a, &pidfd_a), 0);
        assert_int_equal(runner_start(&b, &pid_b, &pidfd_b), 0);

        assert_int_equal(exec_capture(pidfd_a,
                                      "ping -c1 -W2 10.77.0.3 >/dev/null && echo ok; "
                                      "ip -4 -o addr show dev eth0 | "
                                      "awk '{print $4}'; ip route | grep ^default",
                                      &out),
                         0);
        assert_string_equal(out, "ok\n10.77.0.2/24\ndefault via 10.77.0.1 dev eth0 \n");
        free(out);
        assert_int_equal(
                exec_capture(pidfd_b, "ping -c1 -W2 10.77.0.2 >/dev/null && echo ok", &out), 0);
        assert_string_equal(out, "ok\n");
        free(out);
        /* The host ends are on the bridge, under the given or default name. */
        {
                char cmd[128];
                snprintf(cmd, sizeof cmd,
                         "ip -o link show master br0 | grep -q 'gr%d@' && "
                         "ip -o link show master br0 | grep -q 'gr-b-host@'",
                         (int)pid_a);
                assert_int_equal(sh(cmd), 0);
        }

        assert_int_equal(runner_stop(pidfd_a, 0, 30000, NULL), 0);
        assert_int_equal(runner_wait(pidfd_a), 128 + SIGTERM);
        assert_int_equal(runner_stop(pidfd_b, 0, 30000, NULL), 0);
        assert_int_equal(runner_wait(pidfd_b), 128 + SIGTERM);
        close(pidfd_a);
        close(pidfd_b);

        /* A bridge that does not exist: ip's reason, one line, nothing left. */
        a.net.bridge = "nobr0";
        logbuf_begin(&l);
        assert_int_equal(runner_start(&a, &pid_a, &pidfd_a), -EIO);
        log = logbuf_end(&l);
        assert_non_null(startswith(log, "goldroot: configuring the instance's network: "));
        assert_non_null(strstr(log, "nobr0"));
        assert_ptr_equal(strchr(log, '\n'), log + strlen(log) - 1);
        free(log);
        assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);

        a.net.address = "10.77.0.300/24";
        logbuf_begin(&l);
        assert_int_equal(runner_start(&a, &pid_a, &pidfd_a), -EINVAL);
        log = logbuf_end(&l);
        assert_string_equal(log,
                            "goldroot: invalid address '10.77.0.300/24': expected ADDR/PREFIX\n");
        free(log);

        assert_int_equal(setns(host_ns, CLONE_NEWNET), 0);
        /* The host's view is what it was. */
        assert_int_equal(sh("ip link show br0 >/dev/null 2>&1"), host_had_br0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_net_parse, test_teardown),
                cmocka_unit_test_teardown(test_exit_status, test_teardown),
                cmocka_unit_test_teardown(test_hostname, test_teardown),
                cmocka_unit_test_teardown(test_pid1, test_teardown),
                cmocka_unit_test_teardown(test_orphans_reaped, test_teardown),
                cmocka_unit_test_teardown(test_host_mounts_invisible, test_teardown),
                cmocka_unit_test_teardown(test_dev, test_teardown),
                cmocka_unit_test_teardown(test_no_fd_leaks, test_teardown),
                cmocka_unit_test_teardown(test_proc_sys, test_teardown),
                cmocka_unit_test_teardown(test_capabilities, test_teardown),
                cmocka_unit_test_teardown(test_privileged, test_teardown),
                cmocka_unit_test_teardown(test_exec, test_teardown),
                cmocka_unit_test_teardown(test_stop, test_teardown),
                cmocka_unit_test_teardown(test_foreground_forwards_signals, test_teardown),
                cmocka_unit_test_teardown(test_return_at_command_exit, test_teardown),
                cmocka_unit_test(test_command_status_before_pid1_exit),
                cmocka_unit_test(test_status_record_exited_pid1),
                cmocka_unit_test_teardown(test_detached, test_teardown),
                cmocka_unit_test_teardown(test_status_file, test_teardown),
                cmocka_unit_test_teardown(test_errors, test_teardown),
                cmocka_unit_test_teardown(test_net_host, test_teardown),
                cmocka_unit_test_teardown(test_netns_ahead, test_teardown),
                cmocka_unit_test_teardown(test_netns_ahead_fails, test_teardown),
                cmocka_unit_test_teardown(test_bridge, test_teardown),
        };

        return cmocka_run_group_tests_name("runner", tests, group_setup, group_teardown);
}
