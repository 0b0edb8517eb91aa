/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * profile: load a profile with its includes and every profile its FILE:ENTRY
 * references name, into one validated ProfileSet.
 *
 * Line-level parsing is in profile-parse.c; this file does what needs more
 * than one line: the search path, include splicing and cycles, duplicate
 * names and targets, and resolving references across files.
 */
#include "profile-internal.h"
#include "fsutil.h"

#include <limits.h>
#include <sys/stat.h>

/* Profiles are small; anything bigger is a mistake, not a profile. */
#define PROFILE_SIZE_MAX (16u << 20)

/* An include line: the profile it splices into, the realpath of the file and
 * where the line is, so that a second include of one file into one profile is
 * blamed on that line. */
typedef struct Included {
        const Profile *profile;
        char *real;
        const char *file;
        unsigned line;
} Included;

typedef struct Loader {
        ProfileSet *set;
        const char *string_file; /* the name of a profile given as text: no directory */
        char **realpaths;        /* parallel to set->profiles; NULL for string_file */
        /* Files being parsed, outermost first, to name an include cycle. */
        const char **stack_real;
        const char **stack_file;
        size_t n_stack;
        Included *included; /* every include line read so far */
        size_t n_included;
} Loader;

static int parse_text(Loader *l, Profile *p, const char *file, const char *real, const char *text,
                      size_t len);

static int set_intern_file(ProfileSet *s, const char *path, const char **ret) {
        size_t n = strv_length(s->files);

        if (strv_extend(&s->files, path) < 0)
                return log_oom();
        *ret = s->files[n];
        return 0;
}

static char *dirname_dup(const char *path) {
        const char *slash = strrchr(path, '/');

        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, slash - path);
}

static bool is_regular(const char *path) {
        struct stat st;
        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int try_candidate(const char *dir, const char *name, char **ret) {
        const char *const suffixes[] = {"", ".profile"};

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                _cleanup_free_ char *p = dir ? path_join(dir, name) : strdup(name);
                char *t;

                if (!p)
                        return -ENOMEM;
                t = strjoin(p, suffixes[i]);
                if (!t)
                        return -ENOMEM;
                if (is_regular(t)) {
                        *ret = t;
                        return 0;
                }
                free(t);
        }
        return -ENOENT;
}

/* NAME, then NAME.profile, in dir and then along the search path. */
static int profile_lookup(const Loader *l, const char *dir, const char *name, char **ret) {
        int r;

        if (path_is_absolute(name))
                return try_candidate(NULL, name, ret);
        if (dir) {
                r = try_candidate(dir, name, ret);
                if (r != -ENOENT)
                        return r;
        }
        for (char **d = l->set->search_path; d && *d; d++) {
                r = try_candidate(*d, name, ret);
                if (r != -ENOENT)
                        return r;
        }
        return -ENOENT;
}

/* The directory that names in file resolve against, or NULL for text in memory. */
static char *file_dir(const Loader *l, const char *file) {
        return file == l->string_file ? NULL : dirname_dup(file);
}

char *profile_name_from_path(const char *path) {
        const char *base = strrchr(path, '/');
        size_t n;

        base = base ? base + 1 : path;
        n = strlen(base);
        if (endswith(base, ".profile") && n > strlen(".profile"))
                n -= strlen(".profile");
        return strndup(base, n);
}

static Profile *profile_free(Profile *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_entries; i++)
                entry_free(p->entries[i]);
        free(p->entries);
        strmap_done(&p->by_name);
        strmap_done(&p->by_target);
        free(p->path);
        free(p->name);
        strv_free(p->settings);
        free(p);
        return NULL;
}

static int loader_add_profile(Loader *l, const char *path, const char *real, bool shared,
                              Profile **ret) {
        ProfileSet *s = l->set;
        Profile **pt, *p;
        char **rt;

        p = calloc(1, sizeof(Profile));
        if (!p)
                return log_oom();
        p->path = strdup(path);
        p->name = profile_name_from_path(path);
        p->shared = shared;
        pt = realloc(s->profiles, sizeof(Profile *) * (s->n_profiles + 1));
        if (pt)
                s->profiles = pt;
        rt = realloc(l->realpaths, sizeof(char *) * (s->n_profiles + 1));
        if (rt)
                l->realpaths = rt;
        if (!p->path || !p->name || !pt || !rt) {
                profile_free(p);
                return log_oom();
        }
        l->realpaths[s->n_profiles] = real ? strdup(real) : NULL;
        if (real && !l->realpaths[s->n_profiles]) {
                profile_free(p);
                return log_oom();
        }
        s->profiles[s->n_profiles++] = p;
        *ret = p;
        return 0;
}

static int profile_add_entry(Profile *p, Entry *e) {
        Entry **t;
        size_t k;
        int r;

        /* Hash lookups, not a scan: a profile may have 10,000 entries. */
        if (strmap_get(&p->by_name, e->name, &k)) {
                const Entry *x = p->entries[k];
                return log_syntax(e->loc.file, e->loc.line, e->loc.col,
                                  "duplicate entry name '%s' (first defined at %s:%u)", e->name,
                                  x->loc.file, x->loc.line);
        }
        /* Aside entries have no place in the tree to collide over. */
        if (!e->aside && strmap_get(&p->by_target, e->target, &k)) {
                const Entry *x = p->entries[k];
                return log_syntax(e->target_loc.file, e->target_loc.line, e->target_loc.col,
                                  "duplicate target '%s' (also the target of '%s' at %s:%u)",
                                  e->target, x->name, x->loc.file, x->loc.line);
        }
        t = realloc(p->entries, sizeof(Entry *) * (p->n_entries + 1));
        if (!t)
                return log_oom();
        p->entries = t;
        r = strmap_put(&p->by_name, e->name, p->n_entries, NULL);
        if (r >= 0 && !e->aside)
                r = strmap_put(&p->by_target, e->target, p->n_entries, NULL);
        if (r < 0)
                return log_oom();
        e->index = p->n_entries;
        p->entries[p->n_entries++] = e;
        return 0;
}

static int include_cycle(const Loader *l, const Line *line, size_t from, const char *path) {
        _cleanup_free_ char *chain = NULL;

        for (size_t i = from; i < l->n_stack; i++) {
                char *t =
                        chain ? strjoin(chain, " -> ", l->stack_file[i]) : strdup(l->stack_file[i]);
                if (!t)
                        return log_oom();
                free(chain);
                chain = t;
        }
        return log_syntax(line->file, line->line, line->fields[1].col, "include cycle: %s -> %s",
                          chain, path);
}

/* An include splices a file's entries in; a second one would define them all
 * again, so it is refused at its own line rather than at the first duplicate
 * name, which lies in the included file. */
static int include_record(Loader *l, const Profile *p, const Line *line, const char *real) {
        Included *t;

        for (size_t i = 0; i < l->n_included; i++)
                if (l->included[i].profile == p && streq(l->included[i].real, real))
                        return log_syntax(line->file, line->line, line->fields[1].col,
                                          "'%.*s' is already included at %s:%u",
                                          (int)line->fields[1].len, line->fields[1].s,
                                          l->included[i].file, l->included[i].line);
        t = realloc(l->included, sizeof(*t) * (l->n_included + 1));
        if (!t)
                return log_oom();
        l->included = t;
        t[l->n_included] = (Included){
                .profile = p, .real = strdup(real), .file = line->file, .line = line->line};
        if (!t[l->n_included].real)
                return log_oom();
        l->n_included++;
        return 0;
}

static int include_parse(Loader *l, Profile *p, const Line *line) {
        const Field *f = line->fields;
        _cleanup_free_ char *name = NULL, *dir = NULL, *path = NULL, *real = NULL, *text = NULL;
        const char *file = NULL;
        size_t len;
        int r;

        if (line->n_fields < 2)
                return log_syntax(line->file, line->line, f[0].col + f[0].len,
                                  "missing FILE: include FILE");
        if (line->n_fields > 2)
                return log_syntax(line->file, line->line, f[2].col,
                                  "unexpected '%.*s' after the included file", (int)f[2].len,
                                  f[2].s);
        name = strndup(f[1].s, f[1].len);
        dir = file_dir(l, line->file);
        if (!name || (line->file != l->string_file && !dir))
                return log_oom();
        r = profile_lookup(l, dir, name, &path);
        if (r == -ENOENT)
                return log_syntax(line->file, line->line, f[1].col,
                                  "included profile '%s' not found", name);
        if (r < 0)
                return log_oom();
        real = realpath(path, NULL);
        if (!real)
                return log_error_errno(errno, "%s:%u:%u: cannot resolve included profile '%s': %m",
                                       line->file, line->line, f[1].col, path);
        for (size_t i = 0; i < l->n_stack; i++)
                if (streq_ptr(l->stack_real[i], real))
                        return include_cycle(l, line, i, path);
        r = include_record(l, p, line, real);
        if (r < 0)
                return r;
        r = read_file_at(AT_FDCWD, real, &text, &len, PROFILE_SIZE_MAX);
        if (r < 0)
                return log_error_errno(r, "%s:%u:%u: cannot read included profile '%s': %m",
                                       line->file, line->line, f[1].col, path);
        r = set_intern_file(l->set, path, &file);
        if (r < 0)
                return r;
        return parse_text(l, p, file, real, text, len);
}

static int parse_line(Loader *l, Profile *p, const Line *line) {
        Entry *e = NULL;
        int r;

        if (line->fields[0].len == strlen("include") &&
            memcmp(line->fields[0].s, "include", line->fields[0].len) == 0)
                return include_parse(l, p, line);
        if (line->fields[0].len == strlen("set") &&
            memcmp(line->fields[0].s, "set", line->fields[0].len) == 0)
                return setting_parse(line, p);
        r = entry_parse(line, p, p->shared, &e);
        if (r < 0)
                return r;
        r = profile_add_entry(p, e);
        if (r < 0)
                entry_free(e);
        return r;
}

static int parse_text(Loader *l, Profile *p, const char *file, const char *real, const char *text,
                      size_t len) {
        const char **sr, **sf;
        unsigned lineno = 0;
        int r = 0;

        sr = realloc(l->stack_real, sizeof(char *) * (l->n_stack + 1));
        if (sr)
                l->stack_real = sr;
        sf = realloc(l->stack_file, sizeof(char *) * (l->n_stack + 1));
        if (sf)
                l->stack_file = sf;
        if (!sr || !sf)
                return log_oom();
        l->stack_real[l->n_stack] = real;
        l->stack_file[l->n_stack] = file;
        l->n_stack++;

        for (const char *s = text; s < text + len && r >= 0;) {
                const char *eol = memchr(s, '\n', text + len - s), *nul;
                _cleanup_free_ Field *fields = NULL;
                size_t n;

                if (!eol)
                        eol = text + len;
                lineno++;
                nul = memchr(s, 0, eol - s);
                if (nul) {
                        r = log_syntax(file, lineno, nul - s + 1, "NUL byte in profile text");
                        break;
                }
                r = line_split(s, eol - s, &fields, &n);
                if (r < 0) {
                        r = log_oom();
                        break;
                }
                if (n > 0)
                        r = parse_line(l, p,
                                       &(Line){.file = file,
                                               .line = lineno,
                                               .fields = fields,
                                               .n_fields = n});
                s = eol + 1;
        }
        l->n_stack--;
        return r;
}

/* Finds, loading it the first time, the profile that FILE in FILE:ENTRY (or
 * after=FILE:ENTRY) names, then the entry. */
static int resolve_ref(Loader *l, size_t pi, bool is_source, const char *file, const char *entry,
                       const Location *loc, const Entry **ret) {
        ProfileSet *s = l->set;
        _cleanup_free_ char *dir = NULL, *path = NULL, *real = NULL, *text = NULL;
        unsigned entry_col = loc->col + strlen(file) + 1;
        const Profile *target = NULL;
        const char *interned = NULL;
        Profile *np;
        size_t len;
        int r;

        dir = file_dir(l, loc->file);
        if (loc->file != l->string_file && !dir)
                return log_oom();
        r = profile_lookup(l, dir, file, &path);
        if (r == -ENOENT)
                return log_syntax(loc->file, loc->line, loc->col,
                                  "unknown profile '%s' (not found on the search path)", file);
        if (r < 0)
                return log_oom();
        real = realpath(path, NULL);
        if (!real)
                return log_error_errno(errno, "%s:%u:%u: cannot resolve profile '%s': %m",
                                       loc->file, loc->line, loc->col, path);

        /* A file the main profile includes is part of it: its entries are the
         * main profile's, as entries of the main file itself are. (A shared
         * profile's includes cannot be told apart so: whether it is loaded yet
         * depends on the order of the references.) */
        for (size_t i = 0; i < l->n_included; i++)
                if (l->included[i].profile == s->profiles[0] && streq(l->included[i].real, real)) {
                        if (pi != 0 || is_source)
                                return log_syntax(loc->file, loc->line, loc->col,
                                                  "'%s' is included in the profile being "
                                                  "planned (at %s:%u): its entries cannot be "
                                                  "shared",
                                                  file, l->included[i].file, l->included[i].line);
                        target = s->profiles[0];
                        break;
                }
        for (size_t k = 0; k < s->n_profiles && !target; k++)
                if (streq_ptr(l->realpaths[k], real)) {
                        /* The main profile's entries belong to one instance; they cannot be
                         * shared. Only its own after= may name it this way. */
                        if (k == 0 && (pi != 0 || is_source))
                                return log_syntax(loc->file, loc->line, loc->col,
                                                  "'%s' is the profile being planned: its "
                                                  "entries cannot be shared",
                                                  file);
                        target = s->profiles[k];
                        break;
                }

        if (!target) {
                r = read_file_at(AT_FDCWD, real, &text, &len, PROFILE_SIZE_MAX);
                if (r < 0)
                        return log_error_errno(r, "%s:%u:%u: cannot read profile '%s': %m",
                                               loc->file, loc->line, loc->col, path);
                r = set_intern_file(s, path, &interned);
                if (r < 0)
                        return r;
                r = loader_add_profile(l, path, real, true, &np);
                if (r < 0)
                        return r;
                r = parse_text(l, np, interned, real, text, len);
                if (r < 0)
                        return r;
                target = np;
        }

        *ret = profile_find_entry(target, entry);
        if (!*ret)
                return log_syntax(loc->file, loc->line, entry_col,
                                  "unknown entry '%s' in profile '%s' (%s)", entry, target->name,
                                  target->path);
        return 0;
}

/* An aside entry is reached only through @ENTRY of its own profile: from
 * anywhere else it has no path, and unused it is a mount nobody sees. */
static int check_aside(const Profile *p) {
        for (size_t i = 0; i < p->n_entries; i++) {
                const Entry *e = p->entries[i];
                bool used = false;

                if (!e->aside)
                        continue;
                for (size_t j = 0; j < p->n_entries && !used; j++)
                        used = p->entries[j]->source.kind == SOURCE_ENTRY &&
                               p->entries[j]->source.ref == e;
                if (!used)
                        return log_syntax(e->target_loc.file, e->target_loc.line, e->target_loc.col,
                                          "entry '%s' is mounted aside but nothing uses it",
                                          e->name);
        }
        return 0;
}

static int resolve_profile(Loader *l, size_t pi) {
        int r;

        /* Entries may be appended to the set while we go, never to this profile. */
        for (size_t i = 0; i < l->set->profiles[pi]->n_entries; i++) {
                Entry *e = l->set->profiles[pi]->entries[i];

                if (e->source.kind == SOURCE_REF) {
                        const Location *loc = &e->source.loc;

                        r = resolve_ref(l, pi, true, e->source.ref_file, e->source.ref_entry, loc,
                                        &e->source.ref);
                        if (r < 0)
                                return r;
                        if (e->source.ref->aside)
                                return log_syntax(loc->file, loc->line,
                                                  loc->col + strlen(e->source.ref_file) + 1,
                                                  "entry '%s' of profile '%s' is mounted aside: "
                                                  "only its own profile can use it, as @%s",
                                                  e->source.ref_entry, e->source.ref_file,
                                                  e->source.ref_entry);
                }
                if (e->source.kind == SOURCE_ENTRY) {
                        const Profile *p = l->set->profiles[pi];
                        const Location *loc = &e->source.loc;

                        e->source.ref = profile_find_entry(p, e->source.ref_entry);
                        if (!e->source.ref)
                                return log_syntax(loc->file, loc->line, loc->col + 1,
                                                  "unknown entry '%s' in profile '%s' (%s)",
                                                  e->source.ref_entry, p->name, p->path);
                }
                for (size_t j = 0; j < e->n_after; j++) {
                        After *a = &e->after[j];
                        const Profile *p = l->set->profiles[pi];

                        if (a->ref_file) {
                                r = resolve_ref(l, pi, false, a->ref_file, a->ref_entry, &a->loc,
                                                &a->ref);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        a->ref = profile_find_entry(p, a->ref_entry);
                        if (!a->ref)
                                return log_syntax(a->loc.file, a->loc.line, a->loc.col,
                                                  "unknown entry '%s' in profile '%s' (%s)",
                                                  a->ref_entry, p->name, p->path);
                }
        }
        return check_aside(l->set->profiles[pi]);
}

static void loader_done(Loader *l) {
        if (l->set)
                for (size_t i = 0; i < l->set->n_profiles; i++)
                        free(l->realpaths[i]);
        free(l->realpaths);
        free(l->stack_real);
        free(l->stack_file);
        for (size_t i = 0; i < l->n_included; i++)
                free(l->included[i].real);
        free(l->included);
}

static int load(const char *path, const char *text, size_t len, char *const *search_path,
                ProfileSet **ret) {
        _cleanup_(profile_set_freep) ProfileSet *s = NULL;
        _cleanup_(loader_done) Loader l = {};
        _cleanup_free_ char *real = NULL, *buf = NULL;
        const char *file = NULL;
        Profile *main_profile;
        int r;

        s = calloc(1, sizeof(ProfileSet));
        if (!s)
                return log_oom();
        l.set = s;
        for (size_t i = 0; search_path && search_path[i]; i++)
                if (strv_extend(&s->search_path, search_path[i]) < 0)
                        return log_oom();

        if (!text) {
                real = realpath(path, NULL);
                if (!real)
                        return log_error_errno(errno, "cannot read profile '%s': %m", path);
                r = read_file_at(AT_FDCWD, real, &buf, &len, PROFILE_SIZE_MAX);
                if (r < 0)
                        return log_error_errno(r, "cannot read profile '%s': %m", path);
                text = buf;
        }
        r = set_intern_file(s, path, &file);
        if (r < 0)
                return r;
        if (!real)
                l.string_file = file;
        r = loader_add_profile(&l, path, real, false, &main_profile);
        if (r < 0)
                return r;
        r = parse_text(&l, main_profile, file, real, text, len);
        if (r < 0)
                return r;
        /* Profiles that references load are appended, and resolved in turn. */
        for (size_t i = 0; i < s->n_profiles; i++) {
                r = resolve_profile(&l, i);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int profile_set_load(const char *path, char *const *search_path, ProfileSet **ret) {
        assert(path);
        assert(ret);
        return load(path, NULL, 0, search_path, ret);
}

int profile_set_load_string(const char *name, const char *text, char *const *search_path,
                            ProfileSet **ret) {
        assert(name);
        assert(text);
        assert(ret);
        return load(name, text, strlen(text), search_path, ret);
}

ProfileSet *profile_set_free(ProfileSet *set) {
        if (!set)
                return NULL;
        for (size_t i = 0; i < set->n_profiles; i++)
                profile_free(set->profiles[i]);
        free(set->profiles);
        strv_free(set->search_path);
        strv_free(set->files);
        free(set);
        return NULL;
}

const Entry *profile_find_entry(const Profile *p, const char *name) {
        assert(p);
        assert(name);
        size_t k;
        return strmap_get(&p->by_name, name, &k) ? p->entries[k] : NULL;
}

const Entry *profile_set_find(const ProfileSet *set, const char *name) {
        assert(set);
        return set->n_profiles > 0 ? profile_find_entry(set->profiles[0], name) : NULL;
}

const char *profile_get_setting(const Profile *p, const char *key) {
        assert(p);
        assert(key);
        for (size_t i = 0; p->settings && p->settings[i] && p->settings[i + 1]; i += 2)
                if (streq(p->settings[i], key))
                        return p->settings[i + 1];
        return NULL;
}

static bool dir_exists(const char *p) {
        struct stat st;
        return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int profile_default_search_path(const char *profile_path, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *env = getenv("GOLDROOT_PROFILE_DIR");

        assert(ret);
        if (profile_path && strv_consume(&l, dirname_dup(profile_path)) < 0)
                return -ENOMEM;
        if (!isempty(env)) {
                /* A colon-separated list, like PATH. */
                for (const char *s = env; *s;) {
                        size_t n = strcspn(s, ":");
                        if (n > 0 && strv_consume(&l, strndup(s, n)) < 0)
                                return -ENOMEM;
                        s += n;
                        if (*s == ':')
                                s++;
                }
        } else if (strv_extend(&l, "/etc/goldroot/profiles") < 0)
                return -ENOMEM;
        if (strv_extend(&l, dir_exists(GOLDROOT_BUILTIN_PROFILE_DIR)
                                    ? GOLDROOT_BUILTIN_PROFILE_DIR
                                    : GOLDROOT_SOURCE_PROFILE_DIR) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

int profile_find(const char *arg, char **ret) {
        _cleanup_strv_free_ char **search = NULL;
        int r;

        assert(arg);
        assert(ret);
        if (strchr(arg, '/') || is_regular(arg)) {
                *ret = strdup(arg);
                return *ret ? 0 : log_oom();
        }
        /* The current directory stands for the directory of the file that
         * names it, as for an include. */
        r = try_candidate(NULL, arg, ret);
        if (r != -ENOENT)
                return r < 0 ? log_oom() : 0;
        if (profile_default_search_path(NULL, &search) < 0)
                return log_oom();
        for (char **d = search; *d; d++) {
                r = try_candidate(*d, arg, ret);
                if (r != -ENOENT)
                        return r < 0 ? log_oom() : 0;
        }
        return log_error_errno(ENOENT,
                               "cannot find profile '%s': no such file here or on the profile "
                               "search path",
                               arg);
}

int entry_qualified_name(const Entry *e, char **ret) {
        assert(e);
        assert(ret);
        *ret = e->profile && e->profile->shared ? strjoin(e->profile->name, ":", e->name)
                                                : strdup(e->name);
        return *ret ? 0 : -ENOMEM;
}

int placeholders_expand(const char *s, const Placeholders *p, char **ret, char *ret_missing) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r = 0;

        assert(s);
        assert(p);
        assert(ret);
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (; *s && r == 0; s++) {
                const char *v;

                if (*s != '%') {
                        fputc(*s, f);
                        continue;
                }
                s++;
                if (!*s) {
                        if (ret_missing)
                                *ret_missing = 0;
                        r = -EINVAL;
                        break;
                }
                switch (*s) {
                case '%':
                        fputc('%', f);
                        continue;
                case 'n':
                        v = p->name;
                        break;
                case 'h':
                        v = p->hostname;
                        break;
                case 'i':
                        v = p->image_id;
                        break;
                default:
                        if (ret_missing)
                                *ret_missing = *s;
                        r = -EINVAL;
                        continue;
                }
                if (!v) {
                        if (ret_missing)
                                *ret_missing = *s;
                        r = -ENXIO;
                        continue;
                }
                fputs(v, f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

Location placeholder_location(const Location *loc, const char *raw, char c) {
        Location l = *loc;

        for (const char *s = raw; (s = strchr(s, '%')) && s[1]; s += 2)
                if (s[1] == c) {
                        l.col += s - raw;
                        break;
                }
        return l;
}
