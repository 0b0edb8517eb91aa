/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util: logging, string vectors, paths and small parsers shared by all modules.
 */
#include "util.h"

#include <dlfcn.h>
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/wait.h>

/* The log level and stream are process-wide settings made once by the command
 * line (or a test) before any work starts. */
static int log_max_level = LOG_NOTICE;
static FILE *log_stream;

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

void log_set_stream(FILE *f) {
        log_stream = f;
}

/* The longest message a line carries. A longer one (a path of thousands of
 * bytes in it) loses its middle, never its end: the reason comes last. */
#define LOG_MESSAGE_MAX 4096

static void log_write(const char *prefix, const char *fmt, va_list ap) {
        static const char ellipsis[] = "\u2026";
        FILE *out = log_stream ? log_stream : stderr;
        _cleanup_free_ char *buf = NULL;
        char fallback[256];
        va_list aq;
        int n;

        va_copy(aq, ap);
        n = vasprintf(&buf, fmt, ap);
        if (n < 0) {
                buf = NULL;
                vsnprintf(fallback, sizeof fallback, fmt, aq);
        } else if ((size_t)n > LOG_MESSAGE_MAX) {
                size_t head = LOG_MESSAGE_MAX / 4, tail = LOG_MESSAGE_MAX - head - strlen(ellipsis);
                size_t from = (size_t)n - tail;

                /* Cut between UTF-8 characters, not inside one. */
                while (head > 0 && ((unsigned char)buf[head] & 0xc0) == 0x80)
                        head--;
                while (((unsigned char)buf[from] & 0xc0) == 0x80)
                        from++;
                memcpy(buf + head, ellipsis, strlen(ellipsis));
                memmove(buf + head + strlen(ellipsis), buf + from, (size_t)n - from + 1);
        }
        va_end(aq);
        /* One line per message, whatever the caller's arguments contain. */
        for (char *p = buf ?: fallback; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        /* On a terminal, start from a clean line: a progress bar may be half drawn. */
        if (isatty(fileno(out)))
                fputs("\r\033[K", out);
        fprintf(out, "%s%s\n", prefix, buf ?: fallback);
        fflush(out);
}

int log_internal(int level, int error, const char *fmt, ...) {
        int saved = errno;
        va_list ap;

        if (error < 0)
                error = -error;
        if (level <= log_max_level) {
                errno = error;
                va_start(ap, fmt);
                log_write(level <= LOG_WARNING ? "goldroot: " : "", fmt, ap);
                va_end(ap);
        }
        errno = saved;
        return -error;
}

int(log_syntax)(const char *file, unsigned line, unsigned col, const char *fmt, ...) {
        char prefix[PATH_MAX + 64];
        va_list ap;

        if (LOG_ERR > log_max_level)
                return -EBADMSG;
        snprintf(prefix, sizeof prefix, "goldroot: %s:%u:%u: ", file ? file : "<input>", line, col);
        va_start(ap, fmt);
        log_write(prefix, fmt, ap);
        va_end(ap);
        return -EBADMSG;
}

void strv_free(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}

const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

char *strjoin_many(const char *first, ...) {
        va_list ap;
        size_t len = 0;
        char *r, *p;

        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                len += strlen(s);
        va_end(ap);

        r = malloc(len + 1);
        if (!r)
                return NULL;
        p = r;
        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                p = stpcpy(p, s);
        va_end(ap);
        *p = 0;
        return r;
}

int asprintf_safe(char **ret, const char *fmt, ...) {
        va_list ap;
        int r;

        assert(ret);
        va_start(ap, fmt);
        r = vasprintf(ret, fmt, ap);
        va_end(ap);
        if (r < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

int strv_consume(char ***l, char *s) {
        size_t n;
        char **t;

        assert(l);
        if (!s)
                return -ENOMEM;
        n = strv_length(*l);
        t = realloc(*l, sizeof(char *) * (n + 2));
        if (!t) {
                free(s);
                return -ENOMEM;
        }
        t[n] = s;
        t[n + 1] = NULL;
        *l = t;
        return 0;
}

int strv_split_blanks(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        assert(s && ret);
        for (const char *p = s; *p;) {
                size_t n;

                p += strspn(p, " \t");
                n = strcspn(p, " \t");
                if (n == 0)
                        break;
                if (strv_consume(&l, strndup(p, n)) < 0)
                        return -ENOMEM;
                p += n;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int strv_extend(char ***l, const char *s) {
        assert(s);
        return strv_consume(l, strdup(s));
}

int strv_compare_entries(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

bool strv_contains(char *const *l, const char *s) {
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

bool path_is_absolute(const char *p) {
        return p && p[0] == '/';
}

char *path_join_many(const char *first, ...) {
        va_list ap;
        size_t len = 0;
        char *r, *p;

        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                len += strlen(s) + 1;
        va_end(ap);

        r = malloc(len + 1);
        if (!r)
                return NULL;
        p = r;
        *p = 0;
        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *)) {
                if (isempty(s))
                        continue;
                if (p > r && p[-1] != '/' && *s != '/')
                        *p++ = '/';
                else if (p > r && p[-1] == '/' && *s == '/')
                        s++;
                p = stpcpy(p, s);
        }
        va_end(ap);
        return r;
}

int path_normalize(const char *p, char **ret) {
        _cleanup_free_ char *r = NULL;
        char *o;
        const char *s = p;
        bool absolute;

        assert(p);
        assert(ret);
        absolute = p[0] == '/';
        r = malloc(strlen(p) + 2);
        if (!r)
                return -ENOMEM;
        o = r;
        if (absolute)
                *o++ = '/';
        while (*s) {
                const char *e;
                size_t n;

                while (*s == '/')
                        s++;
                if (!*s)
                        break;
                e = strchrnul(s, '/');
                n = e - s;
                if (n == 1 && s[0] == '.') {
                        s = e;
                        continue;
                }
                if (n == 2 && s[0] == '.' && s[1] == '.')
                        return -EINVAL;
                if (o > r && o[-1] != '/')
                        *o++ = '/';
                memcpy(o, s, n);
                o += n;
                s = e;
        }
        if (o == r)
                *o++ = absolute ? '/' : '.';
        *o = 0;
        *ret = TAKE_PTR(r);
        return 0;
}

static size_t strmap_hash(const char *s) {
        size_t h = 14695981039346656037ULL; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

void strmap_done(StrMap *m) {
        free(m->keys);
        free(m->values);
        *m = (StrMap){};
}

/* The slot of key, or of the empty slot where it would go. cap is a power of 2. */
static size_t strmap_slot(const StrMap *m, const char *key) {
        size_t i = strmap_hash(key) & (m->cap - 1);
        while (m->keys[i] && !streq(m->keys[i], key))
                i = (i + 1) & (m->cap - 1);
        return i;
}

bool strmap_get(const StrMap *m, const char *key, size_t *ret_value) {
        size_t i;

        if (m->n == 0)
                return false;
        i = strmap_slot(m, key);
        if (!m->keys[i])
                return false;
        if (ret_value)
                *ret_value = m->values[i];
        return true;
}

int strmap_put(StrMap *m, const char *key, size_t value, size_t *ret_existing) {
        size_t i;

        assert(key);
        if ((m->n + 1) * 2 > m->cap) {
                StrMap g = {.cap = m->cap ? m->cap * 2 : 16};
                g.keys = calloc(g.cap, sizeof(char *));
                g.values = calloc(g.cap, sizeof(size_t));
                if (!g.keys || !g.values) {
                        strmap_done(&g);
                        return -ENOMEM;
                }
                for (size_t k = 0; k < m->cap; k++)
                        if (m->keys[k]) {
                                size_t j = strmap_slot(&g, m->keys[k]);
                                g.keys[j] = m->keys[k];
                                g.values[j] = m->values[k];
                                g.n++;
                        }
                strmap_done(m);
                *m = g;
        }
        i = strmap_slot(m, key);
        if (m->keys[i]) {
                if (ret_existing)
                        *ret_existing = m->values[i];
                return 1;
        }
        m->keys[i] = key;
        m->values[i] = value;
        m->n++;
        return 0;
}

bool path_is_under(const char *child, const char *parent) {
        size_t n;

        if (streq(parent, "/"))
                return child[0] == '/';
        n = strlen(parent);
        return strncmp(child, parent, n) == 0 && (child[n] == 0 || child[n] == '/');
}

const char *path_relative(const char *p) {
        while (*p == '/')
                p++;
        return *p ? p : ".";
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                char suffix;
                unsigned shift;
        } units[] = {{'k', 10}, {'K', 10}, {'m', 20}, {'M', 20},
                     {'g', 30}, {'G', 30}, {'t', 40}, {'T', 40}};
        unsigned long long v;
        char *end;

        if (isempty(s) || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -EINVAL;
        if (*end) {
                unsigned shift = 0;
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (*end == units[i].suffix)
                                shift = units[i].shift;
                if (shift == 0)
                        return -EINVAL;
                end++;
                if (*end == 'i' && end[1] == 'B')
                        end += 2;
                else if (*end == 'B')
                        end++;
                if (*end)
                        return -EINVAL;
                if (v > (UINT64_MAX >> shift))
                        return -EINVAL;
                v <<= shift;
        }
        if (v == 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_mode(const char *s, mode_t *ret) {
        unsigned long v;
        char *end;

        if (isempty(s))
                return -EINVAL;
        for (const char *p = s; *p; p++)
                if (*p < '0' || *p > '7')
                        return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 8);
        if (errno != 0 || *end || v > 07777)
                return -EINVAL;
        *ret = (mode_t)v;
        return 0;
}

int parse_unsigned(const char *s, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;

        /* By hand rather than strtoull(), which takes leading white space
         * and a sign (" 5", "+5", and "-5" as a huge number). */
        if (isempty(s))
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                uint64_t d = (uint64_t)(*p - '0');

                if (*p < '0' || *p > '9' || d > max || v > (max - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

static int parse_id(const char *s, uint32_t *ret) {
        uint64_t v;

        if (parse_unsigned(s, UINT32_MAX - 1, &v) < 0)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

int parse_uid(const char *s, uid_t *ret) {
        uint32_t v;
        int r = parse_id(s, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

int parse_gid(const char *s, gid_t *ret) {
        uint32_t v;
        int r = parse_id(s, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

int format_size(uint64_t bytes, char *buf, size_t len) {
        static const char units[] = "BKMGTP";
        double v = (double)bytes;
        size_t u = 0;

        while (v >= 1024 && u + 1 < sizeof units - 1) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                return snprintf(buf, len, "%" PRIu64 "B", bytes) < (int)len ? 0 : -ENOBUFS;
        return snprintf(buf, len, "%.1f%c", v, units[u]) < (int)len ? 0 : -ENOBUFS;
}

const char *runtime_dir(void) {
        const char *e = getenv("GOLDROOT_RUNDIR");
        return path_is_absolute(e) ? e : "/run/goldroot";
}

#ifdef GOLDROOT_CRASH_POINTS
void crash_point(const char *name) {
        const char *want = getenv("GOLDROOT_CRASH_AT");
        if (want && streq(want, name))
                _exit(137);
        test_hook(name);
}

void test_hook(const char *name) {
        const char *want = getenv("GOLDROOT_HOOK_AT"), *cmd = getenv("GOLDROOT_HOOK_CMD");
        int status;

        if (!want || !streq(want, name) || !cmd)
                return;
        /* Once, and not in the command's own goldroot runs. Not system(),
         * which makes us ignore SIGINT meanwhile: the command may signal us. */
        unsetenv("GOLDROOT_HOOK_AT");
        pid_t pid = fork();
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || status != 0)
                log_warning("test hook at %s: '%s' failed", name, cmd);
}
#endif

int dlopen_symbols(const char *soname, void **handle, const DlSym *syms, size_t n) {
        void *h;

        assert(soname);
        assert(handle);
        if (*handle)
                return 0;
        h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!h)
                return log_error_errno(EOPNOTSUPP, "cannot load %s: %s", soname, dlerror());
        for (size_t k = 0; k < n; k++) {
                *syms[k].fn = dlsym(h, syms[k].name);
                if (!*syms[k].fn)
                        return log_error_errno(EOPNOTSUPP, "%s lacks %s", soname, syms[k].name);
        }
        *handle = h;
        return 0;
}
