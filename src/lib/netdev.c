/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netdev: the instance's network: "none" (lo only), "host", or "bridge:BR"
 * (a veth pair, eth0 inside with a static address and default route). The
 * netlink work is iproute2's: two `ip -batch` runs, one in the caller's
 * namespace and one joined into the instance's through its pidfd.
 */
#include "netdev.h"
#include "runner-internal.h"
#include "util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* Linux's dev_valid_name(), minus what `ip -batch` would split or treat as a
 * comment, so a name can never smuggle a second command into a batch. */
static bool ifname_valid(const char *s) {
        size_t n;

        if (isempty(s) || streq(s, ".") || streq(s, ".."))
                return false;
        n = strlen(s);
        if (n >= IFNAMSIZ)
                return false;
        for (const char *p = s; *p; p++)
                if (*p <= ' ' || *p == 0x7f || strchr("/:#\"'\\", *p))
                        return false;
        return true;
}

int runner_net_parse(const char *s, RunnerNet *ret) {
        const char *br;

        assert(ret);
        if (isempty(s))
                return -EINVAL;
        if (streq(s, "none")) {
                ret->mode = RUNNER_NET_NONE;
                ret->bridge = NULL;
                return 0;
        }
        if (streq(s, "host")) {
                ret->mode = RUNNER_NET_HOST;
                ret->bridge = NULL;
                return 0;
        }
        br = startswith(s, "bridge:");
        if (!br || !ifname_valid(br))
                return -EINVAL;
        ret->mode = RUNNER_NET_BRIDGE;
        ret->bridge = br;
        return 0;
}

/* "ADDR/PREFIX" with a prefix that fits the family; returns the family. */
static int parse_prefixed(const char *s, int *ret_family) {
        unsigned char buf[sizeof(struct in6_addr)];
        _cleanup_free_ char *addr = NULL;
        const char *slash;
        unsigned long prefix;
        char *end;
        int family;

        slash = strchr(s, '/');
        if (!slash || !slash[1])
                return -EINVAL;
        addr = strndup(s, slash - s);
        if (!addr)
                return -ENOMEM;
        if (inet_pton(AF_INET, addr, buf) == 1)
                family = AF_INET;
        else if (inet_pton(AF_INET6, addr, buf) == 1)
                family = AF_INET6;
        else
                return -EINVAL;
        errno = 0;
        prefix = strtoul(slash + 1, &end, 10);
        if (errno != 0 || *end || slash[1] < '0' || slash[1] > '9' ||
            prefix > (family == AF_INET ? 32u : 128u))
                return -EINVAL;
        *ret_family = family;
        return 0;
}

int netdev_validate(const RunnerNet *net) {
        unsigned char buf[sizeof(struct in6_addr)];
        int family = AF_UNSPEC, r;

        assert(net);
        if (net->mode != RUNNER_NET_BRIDGE)
                return 0;
        if (!ifname_valid(net->bridge))
                return log_error_errno(EINVAL, "invalid bridge name '%s'",
                                       net->bridge ? net->bridge : "");
        if (net->host_ifname && !ifname_valid(net->host_ifname))
                return log_error_errno(EINVAL, "invalid interface name '%s'", net->host_ifname);
        if (net->address) {
                r = parse_prefixed(net->address, &family);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_error_errno(EINVAL, "invalid address '%s': expected ADDR/PREFIX",
                                               net->address);
        }
        if (net->gateway) {
                int gw_family = inet_pton(AF_INET, net->gateway, buf) == 1    ? AF_INET
                                : inet_pton(AF_INET6, net->gateway, buf) == 1 ? AF_INET6
                                                                              : AF_UNSPEC;
                if (gw_family == AF_UNSPEC)
                        return log_error_errno(EINVAL, "invalid gateway '%s'", net->gateway);
                if (family != AF_UNSPEC && gw_family != family)
                        return log_error_errno(EINVAL,
                                               "gateway '%s' is not of the family of address '%s'",
                                               net->gateway, net->address);
        }
        return 0;
}

static int loopback_up(void) {
        _cleanup_close_ int fd = -EBADF;
        struct ifreq ifr = {};

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return -errno;
        return 0;
}

int netdev_loopback_up(void) {
        int r = loopback_up();

        if (r < 0)
                return log_error_errno(r, "bringing up lo: %m");
        return 0;
}

struct RunnerNetnsAhead {
        pthread_t thread;
        bool joined;
        int fd;
        int error;
};

/* Nothing but system calls here, and no lock taken: the caller may clone an
 * instance while this runs, and that child runs library code (malloc, stdio)
 * which must not find a lock held by a thread it does not have. */
static void *netns_ahead_thread(void *userdata) {
        RunnerNetnsAhead *a = userdata;

        /* unshare() moves this thread alone; it ends right after, and the fd
         * keeps the namespace alive. */
        if (unshare(CLONE_NEWNET) < 0) {
                a->error = -errno;
                return NULL;
        }
        a->error = loopback_up();
        if (a->error < 0)
                return NULL;
        a->fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (a->fd < 0)
                a->error = -errno;
        return NULL;
}

RunnerNetnsAhead *runner_netns_ahead_start(void) {
        RunnerNetnsAhead *a = calloc(1, sizeof *a);
        pthread_attr_t attr;
        cpu_set_t cpus;
        int cpu, r;

        if (!a)
                return NULL;
        a->fd = -EBADF;
        /* Off the caller's CPU: a new thread would otherwise often wait
         * for it, or take it from the caller, until the scheduler spreads
         * them (a millisecond, here). */
        cpu = sched_getcpu();
        pthread_attr_init(&attr);
        if (cpu >= 0 && sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_ISSET(cpu, &cpus) &&
            CPU_COUNT(&cpus) > 1) {
                CPU_CLR(cpu, &cpus);
                (void)pthread_attr_setaffinity_np(&attr, sizeof cpus, &cpus);
        }
        r = pthread_create(&a->thread, &attr, netns_ahead_thread, a);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                free(a);
                return NULL;
        }
        return a;
}

int runner_netns_ahead_join(RunnerNetnsAhead *a) {
        assert(a);
        if (!a->joined) {
                (void)pthread_join(a->thread, NULL);
                a->joined = true;
        }
        return a->error < 0 ? a->error : a->fd;
}

RunnerNetnsAhead *runner_netns_ahead_free(RunnerNetnsAhead *a) {
        if (!a)
                return NULL;
        (void)runner_netns_ahead_join(a);
        safe_close(a->fd);
        free(a);
        return NULL;
}

static _noreturn_ void ip_child(int netns_pidfd, int in_fd, int err_fd) {
        static const char *const fallbacks[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip",
                                                "/bin/ip"};
        char *argv[] = {(char *)"ip", (char *)"-batch", (char *)"-", NULL};
        int null_fd;

        if (netns_pidfd >= 0 && setns(netns_pidfd, CLONE_NEWNET) < 0) {
                dprintf(err_fd, "joining the instance's network namespace: %s\n", strerror(errno));
                _exit(126);
        }
        null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (dup2(in_fd, 0) < 0 || dup2(err_fd, 2) < 0 || (null_fd >= 0 && dup2(null_fd, 1) < 0))
                _exit(126);
        reset_signals();
        execvp(argv[0], argv);
        for (size_t i = 0; i < ELEMENTSOF(fallbacks); i++)
                execv(fallbacks[i], argv);
        dprintf(2, "cannot execute ip: %s\n", strerror(errno));
        _exit(127);
}

/* Runs `ip -batch -` on batch, inside the network namespace of netns_pidfd's
 * process (or the caller's when it is negative). ip's first error line becomes
 * the logged reason. The batch comes from a memfd rather than a pipe, so an ip
 * that dies early cannot SIGPIPE the caller. */
static int run_ip(int netns_pidfd, const char *batch) {
        _cleanup_close_ int in_fd = -EBADF, err_r = -EBADF, err_w = -EBADF;
        char err[1024];
        size_t len = 0;
        int fds[2], status;
        pid_t pid;

        in_fd = memfd_create("goldroot-ip-batch", MFD_CLOEXEC);
        if (in_fd < 0)
                return log_error_errno(errno, "configuring the instance's network: memfd: %m");
        if (write(in_fd, batch, strlen(batch)) != (ssize_t)strlen(batch) ||
            lseek(in_fd, 0, SEEK_SET) < 0)
                return log_error_errno(errno, "configuring the instance's network: %m");
        if (pipe2(fds, O_CLOEXEC) < 0)
                return log_error_errno(errno, "configuring the instance's network: pipe: %m");
        err_r = fds[0];
        err_w = fds[1];

        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "configuring the instance's network: fork: %m");
        if (pid == 0)
                ip_child(netns_pidfd, in_fd, err_w);
        err_w = safe_close(err_w);

        for (;;) {
                ssize_t n = read(err_r, err + len, sizeof err - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += n;
                if (len == sizeof err - 1)
                        break;
        }
        err[len] = 0;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "configuring the instance's network: %m");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;

        err[strcspn(err, "\n")] = 0;
        if (!*err)
                snprintf(err, sizeof err, "ip exited with status %d",
                         exit_status_from_wait(status));
        return log_error_errno(EIO, "configuring the instance's network: %s", err);
}

int netdev_bridge_setup(int pidfd, pid_t pid, const RunnerNet *net) {
        _cleanup_free_ char *host_batch = NULL, *inner_batch = NULL;
        char host_if[IFNAMSIZ];
        int r;

        assert(pidfd >= 0);
        assert(net && net->mode == RUNNER_NET_BRIDGE);

        if (net->host_ifname)
                snprintf(host_if, sizeof host_if, "%s", net->host_ifname);
        else
                snprintf(host_if, sizeof host_if, "gr%d", (int)pid);

        /* The peer is born inside the instance's namespace, so if anything
         * below fails, killing the instance removes the pair. */
        r = asprintf_safe(&host_batch,
                          "link add %s type veth peer name eth0 netns %d\n"
                          "link set %s master %s\n"
                          "link set %s up\n",
                          host_if, (int)pid, host_if, net->bridge, host_if);
        if (r < 0)
                return log_oom();
        r = run_ip(-EBADF, host_batch);
        if (r < 0)
                return r;

        r = asprintf_safe(&inner_batch, "%s%s%slink set eth0 up\n%s%s%s",
                          net->address ? "addr add " : "", net->address ?: "",
                          net->address ? " dev eth0\n" : "",
                          net->gateway ? "route add default via " : "", net->gateway ?: "",
                          net->gateway ? " dev eth0\n" : "");
        if (r < 0)
                return log_oom();
        return run_ip(pidfd, inner_batch);
}
