/* bench/spawn-time: runs one command N times in a row, each as a fresh
 * process started with posix_spawn() (a vfork, so the parent's size does not
 * matter), and prints the wall time of each run in microseconds, one a line.
 * "{i}" in an argument becomes the run's number (1..N), so that every clone
 * gets its own name. The benchmarks time goldroot and its peers through this
 * one harness: a shell's fork of itself costs more than some of the commands
 * it would be timing.
 *
 * Usage: spawn-time [--output FILE] N CMD [ARG...]
 *   --output FILE  each run's stdout and stderr replace FILE's content, so
 *                  that after a failure FILE holds the failing run's error
 * Exits 1 with the failing run's number if a run does not exit 0. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Returns ARG with every "{i}" replaced by RUN, or NULL if there is none. */
static char *substitute(const char *arg, unsigned long run) {
        const char *hit = strstr(arg, "{i}");
        if (!hit)
                return NULL;
        size_t size = strlen(arg) + 32;
        char *out = malloc(size), *w = out;
        if (!out)
                return NULL;
        for (const char *r = arg; *r;) {
                if (strncmp(r, "{i}", 3) == 0) {
                        w += snprintf(w, size - (size_t)(w - out), "%lu", run);
                        r += 3;
                } else
                        *w++ = *r++;
        }
        *w = '\0';
        return out;
}

int main(int argc, char **argv) {
        const char *output = NULL;
        int first = 1;
        if (argc > 2 && strcmp(argv[1], "--output") == 0) {
                output = argv[2];
                first += 2;
        }
        if (argc - first < 2) {
                fprintf(stderr, "usage: spawn-time [--output FILE] N CMD [ARG...]\n");
                return 2;
        }
        char *end;
        unsigned long runs = strtoul(argv[first], &end, 10);
        if (*end || runs == 0) {
                fprintf(stderr, "spawn-time: N must be a positive number: %s\n", argv[first]);
                return 2;
        }
        int nargs = argc - first - 1;
        char **cmd = calloc((size_t)nargs + 1, sizeof(char *));
        long long *samples = calloc(runs, sizeof(long long));
        if (!cmd || !samples)
                return 1;

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        if (output) {
                posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC,
                                                 0644);
                posix_spawn_file_actions_adddup2(&actions, 1, 2);
        }

        for (unsigned long run = 1; run <= runs; run++) {
                for (int a = 0; a < nargs; a++) {
                        char *with_run = substitute(argv[first + 1 + a], run);
                        cmd[a] = with_run ? with_run : argv[first + 1 + a];
                }
                long long start = now_ns();
                pid_t pid;
                int r = posix_spawnp(&pid, cmd[0], &actions, NULL, cmd, environ);
                if (r != 0) {
                        fprintf(stderr, "spawn-time: cannot run %s: %s\n", cmd[0], strerror(r));
                        return 1;
                }
                int status;
                while (waitpid(pid, &status, 0) < 0)
                        if (errno != EINTR) {
                                perror("spawn-time: waitpid");
                                return 1;
                        }
                samples[run - 1] = now_ns() - start;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "spawn-time: run %lu of %s failed (status %#x)\n", run,
                                cmd[0], status);
                        return 1;
                }
                for (int a = 0; a < nargs; a++)
                        if (cmd[a] != argv[first + 1 + a])
                                free(cmd[a]);
        }
        /* Printed at the end so that writing them does not disturb the runs. */
        for (unsigned long run = 0; run < runs; run++)
                printf("%lld\n", samples[run] / 1000);
        return 0;
}
