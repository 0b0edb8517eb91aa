/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manifest: in-memory manifests, their text form, image ids, object digests
 * and the sorted-merge diff.
 */
#include "manifest.h"
#include "sha256.h"
#include "fsutil.h"

#include <ctype.h>
#include <inttypes.h>
#include <sys/sysmacros.h>
#include <zlib.h>

#define MANIFEST_HEADER "goldroot-manifest 1\n"
#define MANIFEST_MAX_SIZE (1ull << 32)

void xattrs_free(Xattr *x, size_t n) {
        if (!x)
                return;
        for (size_t i = 0; i < n; i++) {
                free(x[i].name);
                free(x[i].value);
        }
        free(x);
}

static int xattr_compare(const void *a, const void *b) {
        return strcmp(((const Xattr *)a)->name, ((const Xattr *)b)->name);
}

int xattrs_sort(Xattr *x, size_t n) {
        if (n == 0)
                return 0;
        qsort(x, n, sizeof *x, xattr_compare);
        for (size_t i = 1; i < n; i++)
                if (streq(x[i - 1].name, x[i].name))
                        return -EBADMSG;
        return 0;
}

void manifest_entry_done(ManifestEntry *e) {
        if (!e)
                return;
        free(e->path);
        free(e->target);
        free(e->link);
        xattrs_free(e->xattrs, e->n_xattrs);
        *e = (ManifestEntry){};
}

Manifest *manifest_new(void) {
        return calloc(1, sizeof(Manifest));
}

Manifest *manifest_free(Manifest *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n; i++)
                manifest_entry_done(&m->entries[i]);
        free(m->entries);
        free(m);
        return NULL;
}

int manifest_append(Manifest *m, ManifestEntry *e) {
        assert(m);
        assert(e && e->path);
        if (m->n == m->allocated) {
                size_t na = m->allocated ? m->allocated * 2 : 256;
                ManifestEntry *t = realloc(m->entries, na * sizeof *t);
                if (!t)
                        return -ENOMEM;
                m->entries = t;
                m->allocated = na;
        }
        m->entries[m->n++] = *e;
        *e = (ManifestEntry){};
        return 0;
}

static int entry_compare(const void *a, const void *b) {
        return strcmp(((const ManifestEntry *)a)->path, ((const ManifestEntry *)b)->path);
}

void manifest_sort(Manifest *m) {
        if (m->n > 1)
                qsort(m->entries, m->n, sizeof *m->entries, entry_compare);
}

const ManifestEntry *manifest_find(const Manifest *m, const char *path) {
        ManifestEntry key = {.path = (char *)path};
        if (m->n == 0)
                return NULL;
        return bsearch(&key, m->entries, m->n, sizeof key, entry_compare);
}

void digest_to_hex(const uint8_t d[static DIGEST_SIZE], char ret[static DIGEST_HEX_SIZE]) {
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < DIGEST_SIZE; i++) {
                ret[2 * i] = hex[d[i] >> 4];
                ret[2 * i + 1] = hex[d[i] & 15];
        }
        ret[2 * DIGEST_SIZE] = 0;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int digest_from_hex(const char *s, uint8_t ret[static DIGEST_SIZE]) {
        if (strlen(s) != 2 * DIGEST_SIZE)
                return -EINVAL;
        for (size_t i = 0; i < DIGEST_SIZE; i++) {
                int hi = unhex(s[2 * i]), lo = unhex(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                ret[i] = (uint8_t)(hi << 4 | lo);
        }
        return 0;
}

bool string_is_hex(const char *s) {
        if (isempty(s))
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

static bool needs_escape(unsigned char c, bool escape_space, const char *extra) {
        if (c == '\\' || c < 0x20 || c == 0x7f)
                return true;
        if (escape_space && (c == ' ' || c >= 0x7f))
                return true;
        return extra && c && strchr(extra, c);
}

static void write_escaped(FILE *f, const char *s, const char *extra) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (needs_escape(*p, true, extra))
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
}

char *escape_path(const char *s, bool escape_space) {
        char *r, *o;

        r = malloc(strlen(s) * 4 + 1);
        if (!r)
                return NULL;
        o = r;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (needs_escape(*p, escape_space, NULL))
                        o += sprintf(o, "\\x%02x", *p);
                else
                        *o++ = (char)*p;
        *o = 0;
        return r;
}

static char type_letter(mode_t mode) {
        switch (mode & S_IFMT) {
        case S_IFDIR:
                return 'd';
        case S_IFREG:
                return 'f';
        case S_IFLNK:
                return 'l';
        case S_IFCHR:
                return 'c';
        case S_IFBLK:
                return 'b';
        case S_IFIFO:
                return 'p';
        case S_IFSOCK:
                return 's';
        default:
                return '?';
        }
}

static mode_t type_from_letter(char c) {
        switch (c) {
        case 'd':
                return S_IFDIR;
        case 'f':
                return S_IFREG;
        case 'l':
                return S_IFLNK;
        case 'c':
                return S_IFCHR;
        case 'b':
                return S_IFBLK;
        case 'p':
                return S_IFIFO;
        case 's':
                return S_IFSOCK;
        default:
                return 0;
        }
}

/* PATH TYPE MODE UID GID SIZE DATA XATTRS LINK [MTIME] */
static void write_entry(FILE *f, const ManifestEntry *e, bool with_mtime) {
        write_escaped(f, e->path, NULL);
        fprintf(f, " %c %04o %" PRIu32 " %" PRIu32 " ", type_letter(e->mode),
                (unsigned)(e->mode & 07777), (uint32_t)e->uid, (uint32_t)e->gid);
        if (S_ISREG(e->mode)) {
                char hex[DIGEST_HEX_SIZE];
                digest_to_hex(e->digest, hex);
                fprintf(f, "%" PRIu64 " %s", e->size, hex);
        } else if (S_ISLNK(e->mode)) {
                fputs("- ", f);
                write_escaped(f, e->target ?: "", NULL);
        } else if (S_ISCHR(e->mode) || S_ISBLK(e->mode))
                fprintf(f, "- %u,%u", major(e->rdev), minor(e->rdev));
        else
                fputs("- -", f);
        fputc(' ', f);
        if (e->n_xattrs == 0)
                fputc('-', f);
        for (size_t i = 0; i < e->n_xattrs; i++) {
                if (i > 0)
                        fputc(',', f);
                write_escaped(f, e->xattrs[i].name, ",=");
                fputc('=', f);
                for (size_t j = 0; j < e->xattrs[i].size; j++)
                        fprintf(f, "%02x", ((const uint8_t *)e->xattrs[i].value)[j]);
        }
        fputc(' ', f);
        if (e->link)
                write_escaped(f, e->link, NULL);
        else
                fputc('-', f);
        if (with_mtime)
                fprintf(f, " %" PRId64 ".%09" PRIu32, e->mtime_sec, e->mtime_nsec);
        fputc('\n', f);
}

int manifest_write(const Manifest *m, FILE *f) {
        fputs(MANIFEST_HEADER, f);
        for (size_t i = 0; i < m->n; i++)
                write_entry(f, &m->entries[i], true);
        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        return 0;
}

/* Manifests are stored gzip-compressed: a third of the text's size (the
 * digests hardly compress, the rest does), for a few milliseconds. */
static int gzip_buffer(const char *in, size_t len, char **ret, size_t *ret_len) {
        _cleanup_free_ char *out = NULL;
        z_stream z = {};
        size_t cap;
        int rc;

        if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
            Z_OK)
                return -ENOMEM;
        cap = deflateBound(&z, len) + 32;
        out = malloc(cap);
        if (!out) {
                deflateEnd(&z);
                return -ENOMEM;
        }
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)cap;
        rc = deflate(&z, Z_FINISH);
        *ret_len = z.total_out;
        deflateEnd(&z);
        if (rc != Z_STREAM_END || len > UINT32_MAX)
                return -EIO;
        *ret = TAKE_PTR(out);
        return 0;
}

static int gunzip_buffer(const char *in, size_t len, const char *name, char **ret,
                         size_t *ret_len) {
        _cleanup_free_ char *out = NULL;
        size_t cap = len * 4 + 4096, n = 0;
        z_stream z = {};
        int rc;

        if (inflateInit2(&z, 15 + 16) != Z_OK)
                return -ENOMEM;
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)len;
        do {
                if (cap - n < 4096 || !out) {
                        char *t;
                        if (cap > MANIFEST_MAX_SIZE) {
                                inflateEnd(&z);
                                return log_syntax(name, 1, 1, "manifest too large");
                        }
                        cap *= 2;
                        t = realloc(out, cap + 1);
                        if (!t) {
                                inflateEnd(&z);
                                return -ENOMEM;
                        }
                        out = t;
                }
                z.next_out = (Bytef *)out + n;
                z.avail_out = (uInt)(cap - n);
                rc = inflate(&z, Z_NO_FLUSH);
                n = cap - z.avail_out;
        } while (rc == Z_OK);
        inflateEnd(&z);
        if (rc != Z_STREAM_END)
                return log_syntax(name, 1, 1, "corrupt compressed manifest");
        out[n] = 0;
        *ret_len = n;
        *ret = TAKE_PTR(out);
        return 0;
}

int manifest_write_at(int dirfd, const char *name, const Manifest *m) {
        _cleanup_free_ char *buf = NULL, *gz = NULL;
        size_t len = 0, gz_len = 0;
        FILE *f;
        int r;

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        r = manifest_write(m, f);
        fclose(f);
        if (r < 0)
                return r;
        r = gzip_buffer(buf, len, &gz, &gz_len);
        if (r < 0)
                return r;
        return write_file_atomic_at(dirfd, name, gz, gz_len, 0444);
}

static ssize_t digest_cookie_write(void *cookie, const char *buf, size_t n) {
        if (sha256_update(cookie, buf, n) < 0)
                return -1;
        return (ssize_t)n;
}

int manifest_id(const Manifest *m, char ret[static DIGEST_HEX_SIZE]) {
        _cleanup_(sha256_freep) Sha256 *ctx = NULL;
        uint8_t d[DIGEST_SIZE];
        FILE *f;
        int r;

        r = sha256_new(&ctx);
        if (r < 0)
                return r;
        f = fopencookie(ctx, "w", (cookie_io_functions_t){.write = digest_cookie_write});
        if (!f)
                return -ENOMEM;
        fputs(MANIFEST_HEADER, f);
        for (size_t i = 0; i < m->n; i++)
                write_entry(f, &m->entries[i], false);
        if (fclose(f) != 0 || sha256_final(ctx, d) < 0)
                return -EIO;
        digest_to_hex(d, ret);
        return 0;
}

void manifest_totals(const Manifest *m, uint64_t *ret_files, uint64_t *ret_size) {
        uint64_t size = 0;
        for (size_t i = 0; i < m->n; i++)
                if (S_ISREG(m->entries[i].mode))
                        size += m->entries[i].size;
        if (ret_files)
                *ret_files = m->n;
        if (ret_size)
                *ret_size = size;
}

static int put_u32(Sha256 *ctx, uint32_t v) {
        uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
        return sha256_update(ctx, b, sizeof b);
}

int object_digest(const ManifestEntry *e, uint8_t ret[static DIGEST_SIZE]) {
        static const char magic[] = "goldroot-object 1";
        _cleanup_(sha256_freep) Sha256 *ctx = NULL;
        int r;

        r = sha256_new(&ctx);
        if (r < 0)
                return r;
        r = sha256_update(ctx, magic, sizeof magic);
        if (r >= 0)
                r = put_u32(ctx, (uint32_t)e->mode);
        if (r >= 0)
                r = put_u32(ctx, (uint32_t)e->uid);
        if (r >= 0)
                r = put_u32(ctx, (uint32_t)e->gid);
        if (r >= 0)
                r = put_u32(ctx, (uint32_t)e->n_xattrs);
        for (size_t i = 0; i < e->n_xattrs && r >= 0; i++) {
                r = sha256_update(ctx, e->xattrs[i].name, strlen(e->xattrs[i].name) + 1);
                if (r >= 0)
                        r = put_u32(ctx, (uint32_t)e->xattrs[i].size);
                if (r >= 0)
                        r = sha256_update(ctx, e->xattrs[i].value, e->xattrs[i].size);
        }
        if (r >= 0)
                r = sha256_update(ctx, e->digest, DIGEST_SIZE);
        if (r >= 0)
                r = sha256_final(ctx, ret);
        return r;
}

/* Parsing. A manifest is ours, but a damaged store must not crash us. */

typedef struct Parser {
        const char *name;
        unsigned line;
        char *p; /* current position in the (mutable) line */
        char *start;
} Parser;

static int parse_fail(Parser *ps, const char *what) {
        return log_syntax(ps->name, ps->line, (unsigned)(ps->p - ps->start) + 1, "%s", what);
}

/* Cuts the next space-separated field out of the line. */
static char *next_field(Parser *ps) {
        char *f = ps->p, *e;
        if (!*f)
                return NULL;
        e = strchrnul(f, ' ');
        ps->p = *e ? e + 1 : e;
        *e = 0;
        return f;
}

/* Undoes write_escaped() in place; returns -EBADMSG on a bad escape. */
static int unescape(char *s, size_t *ret_len) {
        char *o = s;
        for (char *p = s; *p; p++) {
                if (*p != '\\') {
                        *o++ = *p;
                        continue;
                }
                if (p[1] != 'x' || unhex(p[2]) < 0 || unhex(p[3]) < 0)
                        return -EBADMSG;
                *o++ = (char)(unhex(p[2]) << 4 | unhex(p[3]));
                p += 3;
        }
        *o = 0;
        if (ret_len)
                *ret_len = (size_t)(o - s);
        return 0;
}

static int dup_unescaped(Parser *ps, const char *field, char **ret) {
        _cleanup_free_ char *s = strdup(field);
        size_t len;
        if (!s)
                return -ENOMEM;
        if (unescape(s, &len) < 0 || len != strlen(s) || len == 0)
                return parse_fail(ps, "bad escape");
        *ret = TAKE_PTR(s);
        return 0;
}

static int parse_u32(const char *s, uint32_t *ret) {
        char *end;
        unsigned long long v;
        if (isempty(s) || s[0] < '0' || s[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

static int parse_xattrs(Parser *ps, char *field, ManifestEntry *e) {
        if (streq(field, "-"))
                return 0;
        for (char *item = field; item;) {
                char *comma = strchr(item, ','), *eq;
                Xattr *t;
                size_t hexlen;

                if (comma)
                        *comma = 0;
                eq = strchr(item, '=');
                if (!eq)
                        return parse_fail(ps, "bad xattr");
                *eq = 0;
                t = realloc(e->xattrs, (e->n_xattrs + 1) * sizeof *t);
                if (!t)
                        return -ENOMEM;
                e->xattrs = t;
                t = &e->xattrs[e->n_xattrs];
                *t = (Xattr){};
                if (dup_unescaped(ps, item, &t->name) < 0)
                        return -EBADMSG;
                e->n_xattrs++;
                hexlen = strlen(eq + 1);
                if (hexlen % 2)
                        return parse_fail(ps, "bad xattr value");
                t->size = hexlen / 2;
                t->value = malloc(t->size + 1);
                if (!t->value)
                        return -ENOMEM;
                for (size_t i = 0; i < t->size; i++) {
                        int hi = unhex(eq[1 + 2 * i]), lo = unhex(eq[2 + 2 * i]);
                        if (hi < 0 || lo < 0)
                                return parse_fail(ps, "bad xattr value");
                        ((uint8_t *)t->value)[i] = (uint8_t)(hi << 4 | lo);
                }
                item = comma ? comma + 1 : NULL;
        }
        if (xattrs_sort(e->xattrs, e->n_xattrs) < 0)
                return parse_fail(ps, "duplicate xattr");
        return 0;
}

static int parse_line(Parser *ps, ManifestEntry *e) {
        char *f[10];
        uint32_t v;
        mode_t type;
        int r;

/* Reports an error at the start of field i. */
#define FIELD_FAIL(i, what) (ps->p = f[i], parse_fail(ps, what))
        for (size_t i = 0; i < ELEMENTSOF(f); i++) {
                f[i] = next_field(ps);
                if (!f[i])
                        return parse_fail(ps, "missing field");
        }
        if (*ps->p)
                return parse_fail(ps, "trailing data");
        ps->p = f[0];
        r = dup_unescaped(ps, f[0], &e->path);
        if (r < 0)
                return r;
        if (e->path[0] != '/')
                return FIELD_FAIL(0, "path is not absolute");
        type = strlen(f[1]) == 1 ? type_from_letter(f[1][0]) : 0;
        if (type == 0)
                return FIELD_FAIL(1, "bad type");
        {
                mode_t perm;
                if (parse_mode(f[2], &perm) < 0)
                        return FIELD_FAIL(2, "bad mode");
                e->mode = type | perm;
        }
        if (parse_u32(f[3], &v) < 0)
                return FIELD_FAIL(3, "bad uid");
        e->uid = v;
        if (parse_u32(f[4], &v) < 0)
                return FIELD_FAIL(4, "bad gid");
        e->gid = v;
        if (S_ISREG(type)) {
                char *end;
                errno = 0;
                e->size = strtoull(f[5], &end, 10);
                if (errno || *end || !isdigit((unsigned char)f[5][0]))
                        return FIELD_FAIL(5, "bad size");
                if (digest_from_hex(f[6], e->digest) < 0)
                        return FIELD_FAIL(6, "bad digest");
        } else if (S_ISLNK(type)) {
                ps->p = f[6];
                r = dup_unescaped(ps, f[6], &e->target);
                if (r < 0)
                        return r;
        } else if (S_ISCHR(type) || S_ISBLK(type)) {
                unsigned ma, mi;
                char c;
                if (sscanf(f[6], "%u,%u%c", &ma, &mi, &c) != 2)
                        return FIELD_FAIL(6, "bad device number");
                e->rdev = makedev(ma, mi);
        }
        ps->p = f[7];
        r = parse_xattrs(ps, f[7], e);
        if (r < 0)
                return r;
        ps->p = f[8];
        if (!streq(f[8], "-")) {
                r = dup_unescaped(ps, f[8], &e->link);
                if (r < 0)
                        return r;
        }
        {
                long long sec;
                unsigned long nsec;
                char c;
                if (sscanf(f[9], "%lld.%lu%c", &sec, &nsec, &c) != 2 || nsec >= 1000000000ul)
                        return FIELD_FAIL(9, "bad mtime");
                e->mtime_sec = sec;
                e->mtime_nsec = (uint32_t)nsec;
        }
        return 0;
}
#undef FIELD_FAIL

int manifest_parse(const char *text, size_t len, const char *name, Manifest **ret) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *copy = NULL;
        Parser ps = {.name = name, .line = 1};
        char *line, *next;
        int r;

        if (len < strlen(MANIFEST_HEADER) || memcmp(text, MANIFEST_HEADER, strlen(MANIFEST_HEADER)))
                return log_syntax(name, 1, 1, "not a goldroot manifest");
        if (memchr(text, 0, len))
                return log_syntax(name, 1, 1, "NUL byte in manifest");
        copy = strndup(text, len);
        m = manifest_new();
        if (!copy || !m)
                return -ENOMEM;
        for (line = copy + strlen(MANIFEST_HEADER); *line; line = next) {
                ManifestEntry e = {};

                ps.line++;
                next = strchr(line, '\n');
                if (!next)
                        return log_syntax(name, ps.line, 1, "unterminated line");
                *next++ = 0;
                ps.p = ps.start = line;
                r = parse_line(&ps, &e);
                if (r >= 0)
                        r = manifest_append(m, &e);
                if (r < 0) {
                        manifest_entry_done(&e);
                        return r;
                }
                if (m->n > 1 && strcmp(m->entries[m->n - 2].path, m->entries[m->n - 1].path) >= 0)
                        return log_syntax(name, ps.line, 1, "entries out of order");
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int manifest_read_at(int dirfd, const char *path, Manifest **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_file_at(dirfd, path, &text, &len, MANIFEST_MAX_SIZE);
        if (r < 0)
                return r;
        if (len >= 2 && (uint8_t)text[0] == 0x1f && (uint8_t)text[1] == 0x8b) {
                _cleanup_free_ char *plain = NULL;
                r = gunzip_buffer(text, len, path, &plain, &len);
                if (r < 0)
                        return r;
                free(text);
                text = TAKE_PTR(plain);
        }
        return manifest_parse(text, len, path, ret);
}

/* Diff. */

static bool xattrs_equal(const ManifestEntry *a, const ManifestEntry *b) {
        if (a->n_xattrs != b->n_xattrs)
                return false;
        for (size_t i = 0; i < a->n_xattrs; i++)
                if (!streq(a->xattrs[i].name, b->xattrs[i].name) ||
                    a->xattrs[i].size != b->xattrs[i].size ||
                    memcmp(a->xattrs[i].value, b->xattrs[i].value, a->xattrs[i].size) != 0)
                        return false;
        return true;
}

unsigned manifest_entry_compare(const ManifestEntry *a, const ManifestEntry *b) {
        unsigned c = 0;

        if ((a->mode & S_IFMT) != (b->mode & S_IFMT))
                return CHANGE_TYPE;
        if (S_ISREG(a->mode) &&
            (a->size != b->size || memcmp(a->digest, b->digest, DIGEST_SIZE) != 0))
                c |= CHANGE_CONTENT;
        if (S_ISLNK(a->mode) && !streq_ptr(a->target, b->target))
                c |= CHANGE_CONTENT;
        if ((S_ISCHR(a->mode) || S_ISBLK(a->mode)) && a->rdev != b->rdev)
                c |= CHANGE_CONTENT;
        if ((a->mode & 07777) != (b->mode & 07777))
                c |= CHANGE_MODE;
        if (a->uid != b->uid || a->gid != b->gid)
                c |= CHANGE_OWNER;
        if (!xattrs_equal(a, b))
                c |= CHANGE_XATTRS;
        if (!streq_ptr(a->link, b->link))
                c |= CHANGE_LINKS;
        return c;
}

const char *change_field_name(unsigned bit) {
        switch (bit) {
        case CHANGE_TYPE:
                return "type";
        case CHANGE_CONTENT:
                return "content";
        case CHANGE_MODE:
                return "mode";
        case CHANGE_OWNER:
                return "owner";
        case CHANGE_XATTRS:
                return "xattrs";
        case CHANGE_LINKS:
                return "links";
        default:
                return NULL;
        }
}

int manifest_diff(const Manifest *a, const Manifest *b, manifest_diff_cb cb, void *userdata) {
        size_t i = 0, j = 0;
        int r;

        while (i < a->n || j < b->n) {
                int c;

                if (i >= a->n)
                        c = 1;
                else if (j >= b->n)
                        c = -1;
                else
                        c = strcmp(a->entries[i].path, b->entries[j].path);
                if (c < 0) {
                        r = cb(DIFF_DELETED, a->entries[i].path, 0, &a->entries[i], NULL, userdata);
                        i++;
                } else if (c > 0) {
                        r = cb(DIFF_ADDED, b->entries[j].path, 0, NULL, &b->entries[j], userdata);
                        j++;
                } else {
                        unsigned ch = manifest_entry_compare(&a->entries[i], &b->entries[j]);
                        r = 0;
                        if (ch)
                                r = cb(ch & CHANGE_CONTENT_MASK ? DIFF_MODIFIED : DIFF_METADATA,
                                       a->entries[i].path, ch, &a->entries[i], &b->entries[j],
                                       userdata);
                        i++;
                        j++;
                }
                if (r != 0)
                        return r;
        }
        return 0;
}
