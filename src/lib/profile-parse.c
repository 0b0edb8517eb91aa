/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * profile-parse: one line of a profile to an Entry or a setting.
 *
 * Everything that can be checked from the line alone is checked here, so the
 * error points at the exact column: the type, the source form and whether the
 * type takes it, placeholders, the target, and each option and value. What
 * needs the whole set (duplicates, includes, FILE:ENTRY) is profile.c's job.
 */
#include "profile-internal.h"

#include <ctype.h>

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int line_split(const char *text, size_t len, Field **ret, size_t *ret_n) {
        _cleanup_free_ Field *fields = NULL;
        size_t n = 0, i = 0;

        assert(text);
        assert(ret);
        assert(ret_n);
        for (;;) {
                size_t start;
                Field *t;

                while (i < len && is_blank(text[i]))
                        i++;
                /* '#' starts a comment only at a field start, so "a#b" is one field. */
                if (i >= len || text[i] == '#')
                        break;
                start = i;
                while (i < len && !is_blank(text[i]))
                        i++;
                t = realloc(fields, sizeof(Field) * (n + 1));
                if (!t)
                        return -ENOMEM;
                fields = t;
                fields[n++] = (Field){.s = text + start, .len = i - start, .col = start + 1};
        }
        *ret = TAKE_PTR(fields);
        *ret_n = n;
        return 0;
}

bool entry_name_valid(const char *s, size_t len) {
        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

static bool field_is(const Field *f, const char *s) {
        return f->len == strlen(s) && memcmp(f->s, s, f->len) == 0;
}

static const char *const entry_type_table[_ENTRY_TYPE_MAX] = {
        [ENTRY_IMAGE] = "image", [ENTRY_BIND] = "bind", [ENTRY_OVERLAY] = "overlay",
        [ENTRY_TMPFS] = "tmpfs", [ENTRY_LOOP] = "loop", [ENTRY_DEV] = "dev",
};

const char *entry_type_to_string(EntryType t) {
        return t >= 0 && t < _ENTRY_TYPE_MAX ? entry_type_table[t] : NULL;
}

/* Offset of the first ".." component of p, or -1. */
static ssize_t dotdot_offset(const char *p) {
        for (const char *s = p; (s = strstr(s, "..")); s++)
                if ((s == p || s[-1] == '/') && (s[2] == 0 || s[2] == '/'))
                        return s - p;
        return -1;
}

/* Normalizes p, found at col of l; relative paths are made absolute when
 * absolute is set (image:etc is image:/etc). */
static int path_parse(const Line *l, unsigned col, const char *p, bool absolute, char **ret) {
        _cleanup_free_ char *tmp = NULL;
        ssize_t dd = dotdot_offset(p);

        if (dd >= 0)
                return log_syntax(l->file, l->line, col + dd, "'..' is not allowed in a path");
        if (absolute && p[0] != '/') {
                tmp = strjoin("/", p);
                if (!tmp)
                        return log_oom();
                p = tmp;
        }
        if (path_normalize(p, ret) < 0)
                return log_oom();
        return 0;
}

/* Checks every '%' in raw (found at col): %n %h %i and %% are known, and a shared
 * profile may use only %%, because its entries are the same for every instance. */
static int placeholders_check(const Line *l, unsigned col, const char *raw, const Profile *p,
                              bool shared) {
        for (const char *s = raw; (s = strchr(s, '%')); s += 2) {
                unsigned c = col + (s - raw);

                if (s[1] == 0)
                        return log_syntax(l->file, l->line, c, "undefined placeholder '%%'");
                if (!strchr("nhi%", s[1]))
                        return log_syntax(l->file, l->line, c, "undefined placeholder '%%%c'",
                                          s[1]);
                if (shared && s[1] != '%')
                        return log_syntax(l->file, l->line, c,
                                          "placeholder '%%%c' cannot be used in shared profile "
                                          "'%s': its entries are mounted once for every instance",
                                          s[1], p->name);
        }
        return 0;
}

static bool source_kind_allowed(EntryType t, SourceKind k) {
        switch (t) {
        case ENTRY_IMAGE:
                return k == SOURCE_NONE || k == SOURCE_IMAGE;
        case ENTRY_TMPFS:
                return k == SOURCE_NONE;
        case ENTRY_BIND:
        case ENTRY_OVERLAY:
        case ENTRY_LOOP:
                return k == SOURCE_IMAGE || k == SOURCE_STATE || k == SOURCE_HOST ||
                       k == SOURCE_REF || k == SOURCE_ENTRY;
        case ENTRY_DEV:
                return k == SOURCE_HOST || k == SOURCE_DEVTAG;
        default:
                return false;
        }
}

static const char *source_forms(EntryType t) {
        switch (t) {
        case ENTRY_IMAGE:
                return "'-' or image:PATH";
        case ENTRY_TMPFS:
                return "'-'";
        case ENTRY_DEV:
                return "a /dev path, UUID=... or LABEL=...";
        default:
                return "image:PATH, state:PATH, an absolute host path, FILE:ENTRY or @ENTRY";
        }
}

static const char *article(EntryType t) {
        return strchr("aeiou", entry_type_to_string(t)[0]) ? "an" : "a";
}

static int source_parse(const Line *l, const Field *f, EntryType type, const Profile *p,
                        bool shared, Source *s) {
        const char *rest;
        unsigned col = f->col;
        int r;

        s->loc = (Location){l->file, l->line, f->col};
        s->raw = strndup(f->s, f->len);
        if (!s->raw)
                return log_oom();
        r = placeholders_check(l, f->col, s->raw, p, shared);
        if (r < 0)
                return r;

        rest = NULL;
        if (streq(s->raw, "-"))
                s->kind = SOURCE_NONE;
        else if ((rest = startswith(s->raw, "image:")))
                s->kind = SOURCE_IMAGE;
        else if ((rest = startswith(s->raw, "state:")))
                s->kind = SOURCE_STATE;
        else if (s->raw[0] == '/')
                s->kind = SOURCE_HOST;
        else if (startswith(s->raw, "UUID=") || startswith(s->raw, "LABEL="))
                s->kind = SOURCE_DEVTAG;
        else if (s->raw[0] == '@')
                s->kind = SOURCE_ENTRY;
        else {
                const char *colon = strchr(s->raw, ':'), *slash = strchr(s->raw, '/');

                if (!colon || (slash && slash < colon))
                        return log_syntax(l->file, l->line, col,
                                          "bad source '%s': expected '-', image:PATH, "
                                          "state:PATH, an absolute path, FILE:ENTRY or @ENTRY",
                                          s->raw);
                s->kind = SOURCE_REF;
        }

        if (!source_kind_allowed(type, s->kind))
                return log_syntax(l->file, l->line, col, "%s %s entry takes %s as its source",
                                  article(type), entry_type_to_string(type), source_forms(type));
        if (shared && (s->kind == SOURCE_IMAGE || s->kind == SOURCE_STATE))
                return log_syntax(l->file, l->line, col,
                                  "shared profile '%s' cannot use %s sources: its entries are "
                                  "mounted once on the host",
                                  p->name, s->kind == SOURCE_IMAGE ? "image:" : "state:");

        switch (s->kind) {
        case SOURCE_IMAGE:
        case SOURCE_STATE:
                col += rest - s->raw;
                if (isempty(rest))
                        return log_syntax(l->file, l->line, col, "empty path after '%.*s'",
                                          (int)(rest - s->raw), s->raw);
                return path_parse(l, col, rest, true, &s->path);
        case SOURCE_HOST:
                r = path_parse(l, col, s->raw, true, &s->path);
                if (r < 0)
                        return r;
                if (type == ENTRY_DEV &&
                    (!path_is_under(s->path, "/dev") || streq(s->path, "/dev")))
                        return log_syntax(l->file, l->line, col,
                                          "a dev entry takes %s as its source", source_forms(type));
                return 0;
        case SOURCE_DEVTAG:
                if (isempty(strchr(s->raw, '=') + 1))
                        return log_syntax(l->file, l->line, col, "empty device tag '%s'", s->raw);
                s->path = strdup(s->raw);
                return s->path ? 0 : log_oom();
        case SOURCE_REF: {
                const char *colon = strchr(s->raw, ':'), *entry = colon + 1;
                size_t elen = strcspn(entry, "/");

                if (!entry_name_valid(s->raw, colon - s->raw))
                        return log_syntax(l->file, l->line, col,
                                          "bad profile name '%.*s' in FILE:ENTRY",
                                          (int)(colon - s->raw), s->raw);
                col += entry - s->raw;
                if (!entry_name_valid(entry, elen))
                        return log_syntax(l->file, l->line, col,
                                          "bad entry name '%.*s' in FILE:ENTRY", (int)elen, entry);
                s->ref_file = strndup(s->raw, colon - s->raw);
                s->ref_entry = strndup(entry, elen);
                if (!s->ref_file || !s->ref_entry)
                        return log_oom();
                rest = entry + elen;
                while (*rest == '/')
                        rest++;
                r = path_parse(l, f->col + (rest - s->raw), rest, false, &s->path);
                if (r < 0)
                        return r;
                if (streq(s->path, "."))
                        s->path[0] = 0;
                return 0;
        }
        case SOURCE_ENTRY: {
                const char *entry = s->raw + 1;
                size_t elen = strcspn(entry, "/");

                if (!entry_name_valid(entry, elen))
                        return log_syntax(l->file, l->line, col + 1,
                                          "bad entry name '%.*s' in @ENTRY", (int)elen, entry);
                s->ref_entry = strndup(entry, elen);
                if (!s->ref_entry)
                        return log_oom();
                rest = entry + elen;
                return path_parse(l, f->col + (rest - s->raw), rest, true, &s->path);
        }
        default:
                return 0;
        }
}

static int target_parse(const Line *l, const Field *f, const Profile *p, bool shared, Entry *e) {
        int r;

        e->target_loc = (Location){l->file, l->line, f->col};
        e->target_raw = strndup(f->s, f->len);
        if (!e->target_raw)
                return log_oom();
        if (streq(e->target_raw, "-")) {
                /* Mounted aside: a whole file system that only @ENTRY sources
                 * use, never a subtree of something else. */
                if (e->type == ENTRY_IMAGE)
                        return log_syntax(l->file, l->line, f->col,
                                          "an image entry cannot be mounted aside (target '-'): "
                                          "use an overlay or a bind of image:PATH");
                e->aside = true;
                return 0;
        }
        r = placeholders_check(l, f->col, e->target_raw, p, shared);
        if (r < 0)
                return r;
        if (!path_is_absolute(e->target_raw))
                return log_syntax(l->file, l->line, f->col, "target '%s' is not an absolute path",
                                  e->target_raw);
        return path_parse(l, f->col, e->target_raw, true, &e->target);
}

static int upper_parse(const Line *l, unsigned col, const char *v, const Profile *p, bool shared,
                       Source *u) {
        const char *rest;
        int r;

        u->loc = (Location){l->file, l->line, col};
        u->raw = strdup(v);
        if (!u->raw)
                return log_oom();
        r = placeholders_check(l, col, v, p, shared);
        if (r < 0)
                return r;
        if (streq(v, "tmpfs")) {
                u->kind = SOURCE_TMPFS;
                return 0;
        }
        if ((rest = startswith(v, "state:"))) {
                if (shared)
                        return log_syntax(l->file, l->line, col,
                                          "shared profile '%s' cannot use a state: upper: its "
                                          "entries are mounted once on the host",
                                          p->name);
                if (isempty(rest))
                        return log_syntax(l->file, l->line, col + 6, "empty path after 'state:'");
                u->kind = SOURCE_STATE;
                return path_parse(l, col + 6, rest, true, &u->path);
        }
        if (v[0] == '/') {
                u->kind = SOURCE_HOST;
                r = path_parse(l, col, v, true, &u->path);
                if (r < 0)
                        return r;
                if (streq(u->path, "/"))
                        return log_syntax(l->file, l->line, col, "upper= cannot be '/'");
                return 0;
        }
        return log_syntax(l->file, l->line, col,
                          "bad upper '%s': expected state:PATH, an absolute path or tmpfs", v);
}

static int after_parse(const Line *l, unsigned col, const char *v, Entry *e) {
        const char *colon = strchr(v, ':'), *name = colon ? colon + 1 : v;
        After *t, *a;

        if (colon && !entry_name_valid(v, colon - v))
                return log_syntax(l->file, l->line, col,
                                  "bad profile name '%.*s' in after=", (int)(colon - v), v);
        if (!entry_name_valid(name, strlen(name)))
                return log_syntax(l->file, l->line, col + (name - v),
                                  "bad entry name '%s' in after=", name);
        t = realloc(e->after, sizeof(After) * (e->n_after + 1));
        if (!t)
                return log_oom();
        e->after = t;
        a = &e->after[e->n_after++];
        *a = (After){.loc = {l->file, l->line, col}};
        a->ref_file = colon ? strndup(v, colon - v) : NULL;
        a->ref_entry = strdup(name);
        if ((colon && !a->ref_file) || !a->ref_entry)
                return log_oom();
        return 0;
}

enum {
        OPT_FLAG,  /* no value */
        OPT_VALUE, /* needs a value */
};

static const struct {
        const char *name;
        unsigned flag; /* what it sets, and how "given twice" is found */
        int kind;
        unsigned types; /* 1 << EntryType it is valid for; 0: any */
} option_table[] = {
        {"ro", ENTRY_RO, OPT_FLAG, 0},
        {"rw", ENTRY_RW, OPT_FLAG, ~(1u << ENTRY_LOOP)},
        {"create", ENTRY_CREATE, OPT_FLAG, 1u << ENTRY_BIND},
        {"copy", ENTRY_COPY, OPT_FLAG, 1u << ENTRY_TMPFS},
        {"optional", ENTRY_OPTIONAL, OPT_FLAG, 0},
        {"nosuid", ENTRY_NOSUID, OPT_FLAG, 0},
        {"nodev", ENTRY_NODEV, OPT_FLAG, 0},
        {"noexec", ENTRY_NOEXEC, OPT_FLAG, 0},
        {"size", ENTRY_HAS_SIZE, OPT_VALUE, (1u << ENTRY_TMPFS) | (1u << ENTRY_OVERLAY)},
        {"mode", ENTRY_HAS_MODE, OPT_VALUE, 1u << ENTRY_TMPFS},
        {"uid", ENTRY_HAS_UID, OPT_VALUE, 1u << ENTRY_TMPFS},
        {"gid", ENTRY_HAS_GID, OPT_VALUE, 1u << ENTRY_TMPFS},
        {"upper", ENTRY_HAS_UPPER, OPT_VALUE, 1u << ENTRY_OVERLAY},
        {"after", 0, OPT_VALUE, 0},
};

static int option_wrong_type(const Line *l, unsigned col, const char *name, EntryType t) {
        if (streq(name, "rw"))
                return log_syntax(l->file, l->line, col,
                                  "option 'rw' is not valid for a loop entry: loop images are "
                                  "mounted read-only");
        if (streq(name, "create"))
                return log_syntax(l->file, l->line, col,
                                  "option 'create' is only valid for bind entries, not %s",
                                  entry_type_to_string(t));
        if (streq(name, "upper"))
                return log_syntax(l->file, l->line, col,
                                  "option 'upper=' is only valid for overlay entries, not %s",
                                  entry_type_to_string(t));
        if (streq(name, "size"))
                return log_syntax(l->file, l->line, col,
                                  "option 'size=' is only valid for tmpfs entries and overlays "
                                  "with upper=tmpfs, not %s",
                                  entry_type_to_string(t));
        return log_syntax(l->file, l->line, col,
                          "option '%s%s' is only valid for tmpfs entries, not %s", name,
                          streq(name, "copy") ? "" : "=", entry_type_to_string(t));
}

int profile_error_rw_on_image(const Location *at) {
        return log_syntax(at->file, at->line, at->col,
                          "option 'rw' would write into the shared image, which is always "
                          "read-only: use an overlay with upper= for a writable view");
}

/* An overlay's size= limits its tmpfs upper layer; an upper on disk has
 * none to limit. */
static int size_needs_tmpfs_upper(const Line *l, unsigned col) {
        return log_syntax(l->file, l->line, col,
                          "option 'size=' on an overlay needs upper=tmpfs: it limits that "
                          "tmpfs, and an upper layer on disk has none");
}

static int option_parse(const Line *l, unsigned col, char *opt, const Profile *p, bool shared,
                        Entry *e) {
        char *value = strchr(opt, '=');
        unsigned vcol;
        size_t i;
        int r;

        if (value)
                *value++ = 0;
        vcol = col + strlen(opt) + 1;
        for (i = 0; i < ELEMENTSOF(option_table); i++)
                if (streq(opt, option_table[i].name))
                        break;
        if (i >= ELEMENTSOF(option_table))
                return log_syntax(l->file, l->line, col, "unknown option '%s'", opt);
        if (option_table[i].kind == OPT_FLAG && value)
                return log_syntax(l->file, l->line, col, "option '%s' takes no value", opt);
        if (option_table[i].kind == OPT_VALUE && isempty(value))
                return log_syntax(l->file, l->line, col, "option '%s=' needs a value", opt);
        if (option_table[i].flag & e->flags)
                return log_syntax(l->file, l->line, col, "option '%s' given twice", opt);
        if (option_table[i].types && !(option_table[i].types & (1u << e->type)))
                return option_wrong_type(l, col, opt, e->type);
        if (streq(opt, "copy") && e->aside)
                return log_syntax(l->file, l->line, col,
                                  "option 'copy' cannot be used on an entry mounted aside: "
                                  "nothing lies underneath it");
        if ((streq(opt, "ro") && (e->flags & ENTRY_RW)) ||
            (streq(opt, "rw") && (e->flags & ENTRY_RO)))
                return log_syntax(l->file, l->line, col, "options 'ro' and 'rw' conflict");
        if (streq(opt, "rw")) {
                e->rw_loc = (Location){l->file, l->line, col};
                /* Every instance of the image, and its content-addressed
                 * objects, would see the writes. @ENTRY chains are checked
                 * when planning (plan_entry_shows_image()). */
                if (e->type == ENTRY_IMAGE ||
                    (e->type == ENTRY_BIND && e->source.kind == SOURCE_IMAGE))
                        return profile_error_rw_on_image(&e->rw_loc);
        }
        e->flags |= option_table[i].flag;

        if (streq(opt, "size")) {
                if (parse_size(value, &e->size) < 0)
                        return log_syntax(l->file, l->line, vcol, "bad size '%s'", value);
                if (e->type == ENTRY_OVERLAY && (e->flags & ENTRY_HAS_UPPER) &&
                    e->upper.kind != SOURCE_TMPFS)
                        return size_needs_tmpfs_upper(l, col);
        } else if (streq(opt, "mode")) {
                if (parse_mode(value, &e->mode) < 0)
                        return log_syntax(l->file, l->line, vcol,
                                          "bad mode '%s' (expected octal, at most 07777)", value);
        } else if (streq(opt, "uid")) {
                if (parse_uid(value, &e->uid) < 0)
                        return log_syntax(l->file, l->line, vcol, "bad uid '%s'", value);
        } else if (streq(opt, "gid")) {
                if (parse_gid(value, &e->gid) < 0)
                        return log_syntax(l->file, l->line, vcol, "bad gid '%s'", value);
        } else if (streq(opt, "upper")) {
                r = upper_parse(l, vcol, value, p, shared, &e->upper);
                if (r < 0)
                        return r;
                if ((e->flags & ENTRY_HAS_SIZE) && e->upper.kind != SOURCE_TMPFS)
                        return size_needs_tmpfs_upper(l, vcol);
        } else if (streq(opt, "after")) {
                r = after_parse(l, vcol, value, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int options_parse(const Line *l, const Field *f, const Profile *p, bool shared, Entry *e) {
        _cleanup_free_ char *buf = strndup(f->s, f->len);
        char *opt, *next;
        int r;

        if (!buf)
                return log_oom();
        for (opt = buf;; opt = next + 1) {
                unsigned col = f->col + (opt - buf);

                next = strchrnul(opt, ',');
                if (next == opt)
                        return log_syntax(l->file, l->line, col, "empty option");
                if (*next == 0) {
                        r = option_parse(l, col, opt, p, shared, e);
                        return r;
                }
                *next = 0;
                r = option_parse(l, col, opt, p, shared, e);
                if (r < 0)
                        return r;
        }
}

Entry *entry_free(Entry *e) {
        if (!e)
                return NULL;
        free(e->name);
        free(e->source.path);
        free(e->source.ref_file);
        free(e->source.ref_entry);
        free(e->source.raw);
        free(e->target);
        free(e->target_raw);
        free(e->upper.path);
        free(e->upper.raw);
        for (size_t i = 0; i < e->n_after; i++) {
                free(e->after[i].ref_file);
                free(e->after[i].ref_entry);
        }
        free(e->after);
        free(e);
        return NULL;
}

static void entry_freep(Entry **e) {
        entry_free(*e);
}

static const char *const field_names[] = {"NAME", "TYPE", "SOURCE", "TARGET"};

int entry_parse(const Line *l, const Profile *p, bool shared, Entry **ret) {
        _cleanup_(entry_freep) Entry *e = NULL;
        const Field *f = l->fields;
        size_t n = l->n_fields;
        int r;

        assert(n > 0);
        if (n > 5)
                return log_syntax(l->file, l->line, f[5].col,
                                  "unexpected field '%.*s': an entry is NAME TYPE SOURCE TARGET "
                                  "[OPTIONS], with OPTIONS separated by commas",
                                  (int)f[5].len, f[5].s);
        if (n < 4)
                return log_syntax(l->file, l->line, f[n - 1].col + f[n - 1].len,
                                  "missing %s: an entry is NAME TYPE SOURCE TARGET [OPTIONS]",
                                  field_names[n]);
        if (!entry_name_valid(f[0].s, f[0].len))
                return log_syntax(l->file, l->line, f[0].col,
                                  "bad entry name '%.*s': use letters, digits, '_', '.' and '-'",
                                  (int)f[0].len, f[0].s);

        e = calloc(1, sizeof(Entry));
        if (!e)
                return log_oom();
        e->profile = p;
        e->loc = (Location){l->file, l->line, f[0].col};
        e->name = strndup(f[0].s, f[0].len);
        if (!e->name)
                return log_oom();

        for (e->type = 0; e->type < _ENTRY_TYPE_MAX; e->type++)
                if (field_is(&f[1], entry_type_table[e->type]))
                        break;
        if (e->type >= _ENTRY_TYPE_MAX)
                return log_syntax(l->file, l->line, f[1].col,
                                  "unknown type '%.*s' (expected image, bind, overlay, tmpfs, "
                                  "loop or dev)",
                                  (int)f[1].len, f[1].s);

        r = source_parse(l, &f[2], e->type, p, shared, &e->source);
        if (r < 0)
                return r;
        r = target_parse(l, &f[3], p, shared, e);
        if (r < 0)
                return r;
        if (n > 4) {
                r = options_parse(l, &f[4], p, shared, e);
                if (r < 0)
                        return r;
        }
        if (e->type == ENTRY_OVERLAY && !(e->flags & ENTRY_HAS_UPPER))
                return log_syntax(l->file, l->line, n > 4 ? f[4].col : f[3].col + f[3].len + 1,
                                  "overlay entry '%s' needs upper= (state:PATH, an absolute "
                                  "path or tmpfs)",
                                  e->name);
        *ret = TAKE_PTR(e);
        return 0;
}

static int setting_store(Profile *p, const char *key, char *value) {
        _cleanup_free_ char *v = value;
        size_t n = strv_length(p->settings);
        int r;

        for (size_t i = 0; i + 1 < n; i += 2)
                if (streq(p->settings[i], key)) {
                        free(p->settings[i + 1]);
                        p->settings[i + 1] = TAKE_PTR(v);
                        return 0;
                }
        r = strv_extend(&p->settings, key);
        if (r < 0)
                return log_oom();
        r = strv_consume(&p->settings, TAKE_PTR(v));
        if (r < 0) {
                /* Keep the vector in pairs. */
                free(p->settings[n]);
                p->settings[n] = NULL;
                return log_oom();
        }
        return 0;
}

static bool network_valid(const char *v) {
        const char *br;

        if (streq(v, "none") || streq(v, "host"))
                return true;
        br = startswith(v, "bridge:");
        /* A Linux interface name: 1..15 bytes, no '/', ':' or blanks. */
        return br && *br && strlen(br) < 16 && !strpbrk(br, "/:");
}

int setting_parse(const Line *l, Profile *p) {
        const Field *f = l->fields;
        size_t n = l->n_fields;
        _cleanup_free_ char *value = NULL;

        if (n < 2)
                return log_syntax(l->file, l->line, f[0].col + f[0].len,
                                  "missing KEY: a setting is set KEY VALUE...");
        if (!field_is(&f[1], "init") && !field_is(&f[1], "rewrite") && !field_is(&f[1], "network"))
                return log_syntax(l->file, l->line, f[1].col,
                                  "unknown setting '%.*s' (expected init, rewrite or network)",
                                  (int)f[1].len, f[1].s);
        if (n < 3)
                return log_syntax(l->file, l->line, f[1].col, "setting '%.*s' needs a value",
                                  (int)f[1].len, f[1].s);

        if (field_is(&f[1], "init")) {
                /* The rest of the line as written: it is a command line. */
                value = strndup(f[2].s, f[n - 1].s + f[n - 1].len - f[2].s);
        } else if (field_is(&f[1], "network")) {
                if (n > 3)
                        return log_syntax(l->file, l->line, f[3].col,
                                          "setting 'network' takes one value");
                value = strndup(f[2].s, f[2].len);
                if (value && !network_valid(value))
                        return log_syntax(l->file, l->line, f[2].col,
                                          "bad network '%s' (expected none, host or "
                                          "bridge:BRIDGE)",
                                          value);
        } else {
                for (size_t i = 2; i < n; i++) {
                        _cleanup_free_ char *raw = strndup(f[i].s, f[i].len), *norm = NULL;
                        char *t;
                        int r;

                        if (!raw)
                                return log_oom();
                        if (!path_is_absolute(raw))
                                return log_syntax(l->file, l->line, f[i].col,
                                                  "rewrite path '%s' is not absolute", raw);
                        r = path_parse(l, f[i].col, raw, true, &norm);
                        if (r < 0)
                                return r;
                        t = value ? strjoin(value, " ", norm) : strdup(norm);
                        if (!t)
                                return log_oom();
                        free(value);
                        value = t;
                }
        }
        if (!value)
                return log_oom();
        return setting_store(p,
                             field_is(&f[1], "init")      ? "init"
                             : field_is(&f[1], "network") ? "network"
                                                          : "rewrite",
                             TAKE_PTR(value));
}
