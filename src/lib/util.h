/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util: the conventions every goldroot module shares.
 *
 * Cleanup attributes, one-line logging that returns the error it logs, string
 * vectors and the small parsers (sizes, modes, ids) that profiles and the
 * command line both need.
 */
#pragma once

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <syslog.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                typeof(p) _taken = (p);                                                            \
                (p) = NULL;                                                                        \
                _taken;                                                                            \
        })
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _taken = (fd);                                                                 \
                (fd) = -EBADF;                                                                     \
                _taken;                                                                            \
        })

static inline void freep(void *p) {
        free(*(void **)p);
}

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        safe_close(*fd);
}

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

void strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Logging. Every message is one line, "goldroot: <what>: <why>". The helpers
 * set errno from the error first, so "%m" in a format names the cause, and they
 * return -abs(error) so that callers can write `return log_error_errno(r, ...)`. */
void log_set_max_level(int level);
int log_get_max_level(void);
/* Tests point the log at a memstream to assert on messages. */
void log_set_stream(FILE *f);
int log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);
/* A parse error: "goldroot: FILE:LINE:COL: message"; returns -EBADMSG. */
int log_syntax(const char *file, unsigned line, unsigned col, const char *fmt, ...) _printf_(4, 5);

/* The error-returning helpers are defined in other translation units, where gcc's
 * analyzer (one unit at a time) cannot see that their result is negative; it then
 * follows "failed, yet r >= 0" paths that do not exist and reports out-parameters
 * used after `if (r < 0) return r;`. Stating the result here closes those paths,
 * and catches a zero error (an error path that would report success) at run time. */
#define ERRNO_RESULT(expr)                                                                         \
        ({                                                                                         \
                int _errno_result = (expr);                                                        \
                assert(_errno_result < 0);                                                         \
                _errno_result;                                                                     \
        })

/* -errno after a failed call, where POSIX makes errno positive. Saying so lets the
 * analyzer, which does not model errno, see that the result is an error. */
static inline int negative_errno(void) {
        int r = -errno;

        assert(r < 0);
        return r;
}

#define log_error_errno(e, ...) ERRNO_RESULT(log_internal(LOG_ERR, (e), __VA_ARGS__))
#define log_warning_errno(e, ...) ERRNO_RESULT(log_internal(LOG_WARNING, (e), __VA_ARGS__))
#define log_syntax(...) ERRNO_RESULT((log_syntax)(__VA_ARGS__))
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_oom() log_error_errno(ENOMEM, "out of memory")

/* Strings. */
static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}
static inline bool isempty(const char *s) {
        return !s || !*s;
}
/* Returns the rest of s after prefix, or NULL. */
const char *startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);
char *strjoin_many(const char *first, ...) __attribute__((sentinel));
#define strjoin(...) strjoin_many(__VA_ARGS__, NULL)
int asprintf_safe(char **ret, const char *fmt, ...) _printf_(2, 3);

/* Inline so that the analyzer sees that a NULL vector has no elements. */
static inline size_t strv_length(char *const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}
/* Appends a copy of s; the vector stays NULL-terminated. */
int strv_extend(char ***l, const char *s);
/* Appends s itself, taking ownership (freed on failure). */
int strv_consume(char ***l, char *s);
/* Splits s at runs of blanks (a profile's `set init` or `set rewrite`); an
 * empty or all-blank s gives NULL. */
int strv_split_blanks(const char *s, char ***ret);
bool strv_contains(char *const *l, const char *s);
/* strcmp() of two char *, for qsort() and bsearch() over a string vector. */
int strv_compare_entries(const void *a, const void *b);

/* Paths. */
/* A string -> size_t hash map with borrowed keys (they must outlive it), for
 * lookups that would otherwise scan a list: profiles of 10,000 entries. */
typedef struct StrMap {
        const char **keys;
        size_t *values;
        size_t cap, n;
} StrMap;
void strmap_done(StrMap *m);
/* Adds key -> value unless key is there: 0 if added, 1 if present (its value
 * in *ret_existing when not NULL), -ENOMEM. */
int strmap_put(StrMap *m, const char *key, size_t value, size_t *ret_existing);
bool strmap_get(const StrMap *m, const char *key, size_t *ret_value);

bool path_is_absolute(const char *p);
/* Joins with exactly one '/' between parts; NULL or empty parts are skipped. */
char *path_join_many(const char *first, ...) __attribute__((sentinel));
#define path_join(...) path_join_many(__VA_ARGS__, NULL)
/* Collapses "//" and "/./", strips a trailing '/', keeps "/" alone. Refuses ".."
 * components with -EINVAL, because goldroot never needs them and they are the
 * usual way out of a tree. */
int path_normalize(const char *p, char **ret);
/* True if child equals parent or lies below it ("/a" is under "/", "/ab" is not under "/a"). */
bool path_is_under(const char *child, const char *parent);
/* Strips the leading '/', so that an absolute in-tree path becomes relative to a
 * root fd ("/" becomes "."). Returns a pointer into p. */
const char *path_relative(const char *p);

/* Parsers. Each returns 0 or -EINVAL and leaves *ret untouched on failure. */
/* A decimal number of digits alone (no sign, no white space), at most max. */
int parse_unsigned(const char *s, uint64_t max, uint64_t *ret);
int parse_size(const char *s, uint64_t *ret); /* 64M, 10k, 1G, 4096 */
int parse_mode(const char *s, mode_t *ret);   /* octal, at most 07777 */
int parse_uid(const char *s, uid_t *ret);     /* numeric, not (uid_t)-1 */
int parse_gid(const char *s, gid_t *ret);
int format_size(uint64_t bytes, char *buf, size_t len); /* "1.5M" */

/* Errors that mean "the input was bad" (exit status 2) rather than "the
 * operation failed" (exit status 1). */
static inline bool error_is_bad_input(int r) {
        return r == -EINVAL || r == -EBADMSG;
}

/* A library that only some commands need, loaded with dlopen() by the first
 * of them (as systemd's dlopen helpers do). DLSYM_ENTRY(f) names libc-style
 * function f and the pointer sym_f that receives it. */
typedef struct DlSym {
        void **fn;
        const char *name;
} DlSym;
#define DLSYM_ENTRY(f) {(void **)&sym_##f, #f},
/* The file-local pointer sym_f, for a module's own use of f. */
#define DLSYM_DEFINE(f) static typeof(f) *sym_##f;
/* Opens SONAME (once: *handle keeps it for the life of the process) and
 * fills every symbol's pointer; -EOPNOTSUPP (logged) if the library or one
 * of the symbols is missing. */
int dlopen_symbols(const char *soname, void **handle, const DlSym *syms, size_t n);

/* Environment-configurable places, so that tests can run beside a real install. */
const char *runtime_dir(void); /* $GOLDROOT_RUNDIR or /run/goldroot */

/* Test builds name steps where GOLDROOT_CRASH_AT=<point> makes the process
 * _exit(137), for the crash-consistency tests. Release builds compile it away.
 * At a crash point or a test_hook() point named by GOLDROOT_HOOK_AT, the
 * shell command GOLDROOT_HOOK_CMD runs once, for tests that need something to
 * happen at an exact step (a file changing, another command running). */
#ifdef GOLDROOT_CRASH_POINTS
void crash_point(const char *name);
void test_hook(const char *name);
#else
static inline void crash_point(const char *name _unused_) {
}
static inline void test_hook(const char *name _unused_) {
}
#endif
