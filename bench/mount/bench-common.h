/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-common: timing and setup shared by the benchmark programs. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

static inline void die(const char *fmt, ...) {
        int e = errno;
        va_list ap;
        fprintf(stderr, "bench: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, ": %s\n", strerror(e));
        exit(1);
}

static inline double now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static inline double median(double *v, long n) {
        qsort(v, n, sizeof *v, cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Both sides run in a private mount namespace, so that mount propagation to
 * the host's peers costs neither of them anything the other does not pay. */
static inline void bench_private_namespace(void) {
        if (unshare(CLONE_NEWNS) < 0)
                die("unshare");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                die("make / private");
}
