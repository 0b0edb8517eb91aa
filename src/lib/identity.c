/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * identity: the strict parser and writer of an instance's identity file, and
 * the value checkers that the command line shares with it.
 */
#include "identity.h"
#include "util.h"

#include <arpa/inet.h>
#include <limits.h>
#include <sys/random.h>

Identity *identity_free(Identity *id) {
        if (!id)
                return NULL;
        free(id->hostname);
        free(id->ip);
        free(id->gateway);
        strv_free(id->dns);
        free(id->machine_id);
        free(id->mode);
        free(id->profile);
        free(id->net);
        strv_free(id->extra);
        free(id);
        return NULL;
}

bool hostname_is_valid(const char *s) {
        size_t label = 0, n = 0;

        if (isempty(s) || strlen(s) > 64 || *s == '.' || *s == '-')
                return false;
        for (const char *p = s; *p; p++, n++) {
                if (*p == '.') {
                        /* No empty label, no label ending in '-'. */
                        if (label == 0 || p[-1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-'))
                        return false;
                if (label == 0 && *p == '-')
                        return false;
                if (++label > 63)
                        return false;
        }
        return label > 0 && s[n - 1] != '-';
}

bool address_is_valid(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];

        if (isempty(s))
                return false;
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool address_prefix_is_valid(const char *s) {
        _cleanup_free_ char *addr = NULL;
        unsigned char buf[sizeof(struct in6_addr)];
        const char *slash, *p;
        unsigned prefix = 0;
        bool v4;

        if (isempty(s) || !(slash = strchr(s, '/')) || !slash[1] || strlen(slash + 1) > 3)
                return false;
        addr = strndup(s, slash - s);
        if (!addr)
                return false;
        v4 = inet_pton(AF_INET, addr, buf) == 1;
        if (!v4 && inet_pton(AF_INET6, addr, buf) != 1)
                return false;
        for (p = slash + 1; *p; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                prefix = prefix * 10 + (unsigned)(*p - '0');
        }
        /* "024" is not a prefix length anyone writes. */
        if (slash[1] == '0' && slash[2])
                return false;
        return prefix <= (v4 ? 32u : 128u);
}

char *address_strip_prefix(const char *s) {
        return s ? strndup(s, strcspn(s, "/")) : NULL;
}

bool machine_id_is_valid(const char *s) {
        bool nonzero = false;

        if (!s || strlen(s) != MACHINE_ID_LEN)
                return false;
        for (const char *p = s; *p; p++) {
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
                nonzero = nonzero || *p != '0';
        }
        return nonzero;
}

bool identity_key_is_valid(const char *s) {
        if (isempty(s) || strlen(s) > 64 || (*s >= '0' && *s <= '9'))
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

bool identity_key_is_reserved(const char *s) {
        /* instance_env()'s own GOLDROOT_* variables. */
        static const char *const reserved[] = {"NAME", "HOSTNAME", "IP", "GATEWAY", "DNS"};

        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (streq_ptr(s, reserved[i]))
                        return true;
        return false;
}

bool net_is_valid(const char *s) {
        const char *br;

        if (!s)
                return false;
        if (streq(s, "none") || streq(s, "host"))
                return true;
        br = startswith(s, "bridge:");
        /* A Linux interface name: 1..15 bytes, no '/', ':' or blanks. */
        return br && *br && strlen(br) < 16 && !strpbrk(br, "/: \t");
}

bool mode_is_valid(const char *s) {
        return s && (streq(s, "ro") || streq(s, "rw") || streq(s, "volatile"));
}

int machine_id_generate(char ret[static MACHINE_ID_LEN + 1]) {
        uint8_t b[MACHINE_ID_LEN / 2];
        size_t got = 0;

        while (got < sizeof b) {
                ssize_t n = getrandom(b + got, sizeof b - got, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t)n;
        }
        /* Like systemd: a v4 UUID's version and variant bits, so that the id
         * can also be handed over as $container_uuid. */
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        for (size_t i = 0; i < sizeof b; i++)
                snprintf(ret + 2 * i, 3, "%02x", b[i]);
        return 0;
}

/* The keys, in the order identity_format() writes them. */
typedef enum Key {
        KEY_HOSTNAME,
        KEY_IP,
        KEY_GATEWAY,
        KEY_DNS,
        KEY_MACHINE_ID,
        KEY_MODE,
        KEY_PROFILE,
        KEY_NET,
        KEY_PRIVILEGED,
        _KEY_MAX,
} Key;

static const char *const key_names[_KEY_MAX] = {
        [KEY_HOSTNAME] = "hostname",     [KEY_IP] = "ip",
        [KEY_GATEWAY] = "gateway",       [KEY_DNS] = "dns",
        [KEY_MACHINE_ID] = "machine_id", [KEY_MODE] = "mode",
        [KEY_PROFILE] = "profile",       [KEY_NET] = "net",
        [KEY_PRIVILEGED] = "privileged",
};

static bool value_is_clean(const char *s) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

/* Why value is bad for key, or NULL if it is good. */
static const char *value_problem(Key k, const char *v) {
        switch (k) {
        case KEY_HOSTNAME:
                return hostname_is_valid(v) ? NULL : "not a valid hostname";
        case KEY_IP:
                return address_prefix_is_valid(v) ? NULL : "not an ADDR/PREFIX";
        case KEY_GATEWAY:
        case KEY_DNS:
                return address_is_valid(v) ? NULL : "not an IPv4 or IPv6 address";
        case KEY_MACHINE_ID:
                return machine_id_is_valid(v) ? NULL : "not 32 lowercase hex digits";
        case KEY_MODE:
                return mode_is_valid(v) ? NULL : "not ro, rw or volatile";
        case KEY_PROFILE:
                return path_is_absolute(v) && strlen(v) < PATH_MAX ? NULL : "not an absolute path";
        case KEY_NET:
                return net_is_valid(v) ? NULL : "not none, host or bridge:BRIDGE";
        case KEY_PRIVILEGED:
                return streq(v, "yes") || streq(v, "no") ? NULL : "not yes or no";
        default:
                return "unknown key";
        }
}

static int key_store(Identity *id, Key k, char *v) {
        char **slot = NULL;

        switch (k) {
        case KEY_HOSTNAME:
                slot = &id->hostname;
                break;
        case KEY_IP:
                slot = &id->ip;
                break;
        case KEY_GATEWAY:
                slot = &id->gateway;
                break;
        case KEY_DNS:
                return strv_consume(&id->dns, v);
        case KEY_MACHINE_ID:
                slot = &id->machine_id;
                break;
        case KEY_MODE:
                slot = &id->mode;
                break;
        case KEY_PROFILE:
                slot = &id->profile;
                break;
        case KEY_NET:
                slot = &id->net;
                break;
        case KEY_PRIVILEGED:
                id->privileged = streq(v, "yes");
                free(v);
                return 0;
        default:
                free(v);
                return -EINVAL;
        }
        free(*slot);
        *slot = v;
        return 0;
}

typedef struct Parser {
        const char *file;
        unsigned seen_line[_KEY_MAX]; /* where each key was first set, 0: not yet */
        char **extra_keys;            /* set.KEY names seen, for duplicates */
        unsigned *extra_lines;
} Parser;

static int parse_line(Parser *p, Identity *id, const char *line, size_t len, unsigned lineno) {
        _cleanup_free_ char *key = NULL, *value = NULL;
        const char *eq, *extra;
        Key k;

        if (len == 0 || line[0] == '#')
                return 0;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
                        return log_syntax(p->file, lineno, (unsigned)i + 1,
                                          "control character 0x%02x", (unsigned char)line[i]);
        eq = memchr(line, '=', len);
        if (!eq)
                return log_syntax(p->file, lineno, 1, "expected KEY=VALUE");
        if (eq == line)
                return log_syntax(p->file, lineno, 1, "missing KEY before '='");
        key = strndup(line, eq - line);
        value = strndup(eq + 1, len - (size_t)(eq + 1 - line));
        if (!key || !value)
                return log_oom();

        extra = startswith(key, "set.");
        if (extra) {
                char *kv;

                if (!identity_key_is_valid(extra))
                        return log_syntax(p->file, lineno, 5,
                                          "bad key '%s' (letters, digits and '_', not starting "
                                          "with a digit, at most 64)",
                                          extra);
                for (size_t i = 0; p->extra_keys && p->extra_keys[i]; i++)
                        if (streq(p->extra_keys[i], extra))
                                return log_syntax(p->file, lineno, 1,
                                                  "'%s' is set twice (first on line %u)", key,
                                                  p->extra_lines[i]);
                unsigned *t = realloc(p->extra_lines,
                                      sizeof(unsigned) * (strv_length(p->extra_keys) + 1));
                if (!t)
                        return log_oom();
                p->extra_lines = t;
                t[strv_length(p->extra_keys)] = lineno;
                if (strv_extend(&p->extra_keys, extra) < 0)
                        return log_oom();
                kv = strjoin(extra, "=", value);
                if (!kv || strv_consume(&id->extra, kv) < 0)
                        return log_oom();
                return 0;
        }

        for (k = 0; k < _KEY_MAX; k++)
                if (streq(key, key_names[k]))
                        break;
        if (k >= _KEY_MAX)
                return log_syntax(p->file, lineno, 1, "unknown key '%s'", key);
        if (p->seen_line[k] && k != KEY_DNS)
                return log_syntax(p->file, lineno, 1, "'%s' is set twice (first on line %u)", key,
                                  p->seen_line[k]);
        const char *why = value_problem(k, value);
        if (why)
                return log_syntax(p->file, lineno, (unsigned)(eq - line) + 2, "%s: %s '%s'", key,
                                  why, value);
        if (!p->seen_line[k])
                p->seen_line[k] = lineno;
        if (key_store(id, k, TAKE_PTR(value)) < 0)
                return log_oom();
        return 0;
}

int identity_parse(const char *buf, size_t len, const char *file, Identity **ret) {
        _cleanup_(identity_freep) Identity *id = NULL;
        Parser p = {.file = file ?: "identity"};
        unsigned lineno = 0;
        size_t off = 0;
        int r = 0;

        assert(buf || len == 0);
        assert(ret);
        if (len > IDENTITY_MAX_SIZE)
                return log_syntax(p.file, 1, 1, "larger than %u bytes", IDENTITY_MAX_SIZE);
        id = calloc(1, sizeof *id);
        if (!id)
                return log_oom();

        while (off < len) {
                const char *nl = memchr(buf + off, '\n', len - off);
                size_t n;

                lineno++;
                if (!nl) {
                        r = log_syntax(p.file, lineno, (unsigned)(len - off) + 1,
                                       "missing newline at the end of the file");
                        goto done;
                }
                n = (size_t)(nl - (buf + off));
                r = parse_line(&p, id, buf + off, n, lineno);
                if (r < 0)
                        goto done;
                off += n + 1;
        }
        for (Key k = 0; k < _KEY_MAX; k++)
                if (!p.seen_line[k] &&
                    (k == KEY_HOSTNAME || k == KEY_MACHINE_ID || k == KEY_MODE)) {
                        r = log_syntax(p.file, lineno + 1, 1, "missing key '%s'", key_names[k]);
                        goto done;
                }
        *ret = TAKE_PTR(id);
done:
        strv_free(p.extra_keys);
        free(p.extra_lines);
        return r;
}

int identity_validate(const Identity *id) {
        const char *v[_KEY_MAX] = {
                [KEY_HOSTNAME] = id->hostname, [KEY_IP] = id->ip,
                [KEY_GATEWAY] = id->gateway,   [KEY_MACHINE_ID] = id->machine_id,
                [KEY_MODE] = id->mode,         [KEY_PROFILE] = id->profile,
                [KEY_NET] = id->net,
        };

        assert(id);
        if (!id->hostname || !id->machine_id || !id->mode)
                return log_error_errno(EINVAL, "identity: hostname, machine_id and mode are "
                                               "required");
        for (Key k = 0; k < _KEY_MAX; k++) {
                const char *why;

                if (!v[k])
                        continue;
                why = value_problem(k, v[k]);
                if (why)
                        return log_error_errno(EINVAL, "identity: %s: %s '%s'", key_names[k], why,
                                               v[k]);
        }
        for (size_t i = 0; id->dns && id->dns[i]; i++)
                if (!address_is_valid(id->dns[i]))
                        return log_error_errno(EINVAL,
                                               "identity: dns: not an IPv4 or IPv6 "
                                               "address '%s'",
                                               id->dns[i]);
        for (size_t i = 0; id->extra && id->extra[i]; i++) {
                _cleanup_free_ char *k = strndup(id->extra[i], strcspn(id->extra[i], "="));

                if (!k)
                        return log_oom();
                if (!strchr(id->extra[i], '=') || !identity_key_is_valid(k) ||
                    !value_is_clean(id->extra[i]))
                        return log_error_errno(EINVAL,
                                               "identity: bad extra setting '%s' "
                                               "(expected KEY=VALUE)",
                                               id->extra[i]);
                for (size_t j = 0; j < i; j++)
                        if (strncmp(id->extra[j], k, strlen(k)) == 0 &&
                            id->extra[j][strlen(k)] == '=')
                                return log_error_errno(EINVAL, "identity: '%s' is set twice", k);
        }
        return 0;
}

int identity_format(const Identity *id, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        assert(id);
        assert(ret);
        r = identity_validate(id);
        if (r < 0)
                return r;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "# goldroot instance identity\n");
        fprintf(f, "hostname=%s\n", id->hostname);
        if (id->ip)
                fprintf(f, "ip=%s\n", id->ip);
        if (id->gateway)
                fprintf(f, "gateway=%s\n", id->gateway);
        for (size_t i = 0; id->dns && id->dns[i]; i++)
                fprintf(f, "dns=%s\n", id->dns[i]);
        fprintf(f, "machine_id=%s\n", id->machine_id);
        fprintf(f, "mode=%s\n", id->mode);
        if (id->profile)
                fprintf(f, "profile=%s\n", id->profile);
        if (id->net)
                fprintf(f, "net=%s\n", id->net);
        fprintf(f, "privileged=%s\n", id->privileged ? "yes" : "no");
        for (size_t i = 0; id->extra && id->extra[i]; i++)
                fprintf(f, "set.%s\n", id->extra[i]);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}
