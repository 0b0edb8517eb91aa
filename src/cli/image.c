/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * image: the `goldroot image` command group (import, ls, inspect, tag,
 * untag, diff, links, rm, export, mount, gc) over the store library.
 */
#include "cli.h"
#include "json.h"
#include "store.h"

#include <inttypes.h>
#include <time.h>

typedef int (*ImageCommand)(int argc, char **argv, GlobalOptions *g);

/* Each subcommand's --help (see CLI_HELP_GLOBALS); the first line is its
 * synopsis in `goldroot image --help`. */
static const struct {
        const char *name;
        const char *help;
} image_helps[] = {
        {"import",
         "import [--parent IMG] [--json] NAME:TAG SOURCE\n\n"
         "Import a directory, a tarball or - (a tar stream on stdin) as a new version.\n\n"
         "Options:\n"
         "  --parent IMG  record IMG as the new version's parent\n"
         "  --json        print the id and tag as JSON (docs/json/image-import.schema.json)\n"},
        {"ls", "ls [-q] [--json]\n\n"
               "List the images.\n\n"
               "Options:\n"
               "  -q, --quiet  the ids only, one a line\n"
               "  --json       a JSON array (docs/json/image-ls.schema.json)\n"},
        {"inspect", "inspect IMG [--json]\n\n"
                    "Show an image's id, tags, parent, size, files and linked instances.\n\n"
                    "Options:\n"
                    "  --json  a JSON object (docs/json/image-inspect.schema.json)\n"},
        {"tag", "tag IMG NAME:TAG\n\n"
                "Point NAME:TAG at IMG, creating or moving the tag.\n"},
        {"untag", "untag NAME:TAG\n\n"
                  "Remove a tag; the image stays.\n"},
        {"diff", "diff IMG1 IMG2 [--json]\n\n"
                 "Show the paths that differ between two images.\n\n"
                 "Options:\n"
                 "  --json  a JSON array (docs/json/image-diff.schema.json)\n"},
        {"links", "links IMG [--json]\n\n"
                  "List the instances that link IMG.\n\n"
                  "Options:\n"
                  "  --json  a JSON array (docs/json/image-links.schema.json)\n"},
        {"rm", "rm IMG...\n\n"
               "Remove images and their tags; refused while an instance links one.\n"},
        {"export", "export IMG FILE [--format tar|erofs]\n\n"
                   "Write an image as a tarball (compressed by FILE's suffix; - for stdout)\n"
                   "or an erofs image.\n\n"
                   "Options:\n"
                   "  --format FORMAT  tar or erofs (default: by FILE's suffix)\n"},
        {"mount", "mount IMG DIR\n\n"
                  "Mount an image's tree read-only on the host directory DIR, to look into\n"
                  "it; 'umount DIR' takes it down.\n"},
        {"gc", "gc [--json]\n\n"
               "Remove the objects no image uses and report the bytes freed.\n\n"
               "Options:\n"
               "  --json  a JSON object (docs/json/image-gc.schema.json)\n"},
        /* prep's own help is in prep.c; this is its line in the list. */
        {"prep", "prep IMG NAME:TAG [--ops OP,...] [--list] [--json]\n"},
};

static const char *image_help_of(const char *cmd) {
        for (size_t i = 0; i < ELEMENTSOF(image_helps); i++)
                if (streq(image_helps[i].name, cmd))
                        return image_helps[i].help;
        return NULL;
}

static void image_help(FILE *out) {
        fprintf(out, "Usage:\n");
        for (size_t i = 0; i < ELEMENTSOF(image_helps); i++)
                fprintf(out, "  goldroot image %.*s\n", (int)strcspn(image_helps[i].help, "\n"),
                        image_helps[i].help);
        fprintf(out, "\nIMG is NAME:TAG or a unique prefix (4+ hex digits) of an image id.\n"
                     "SOURCE is a directory, a tarball (.tar, .tar.gz, .tar.xz, .tar.zst), -,\n"
                     "or a container image: oci:DIR[:REF], oci-archive:FILE[:REF],\n"
                     "docker-archive:FILE.\n"
                     "'goldroot image COMMAND --help' describes each command's options.\n");
}

enum {
        ARG_PARENT = ARG_VERB_BASE,
        ARG_FORMAT,
};

/* Parses the options every subcommand takes, plus its own (handled by
 * `own`, which returns 1 if it took the option). Returns the index of the
 * first positional argument, or -EINVAL. */
static int parse_args(int argc, char **argv, GlobalOptions *g, const char *cmd,
                      const struct option *own_options, int (*own)(int c, void *userdata),
                      void *userdata) {
        struct option options[16] = {};
        const struct option globals[] = {CLI_GLOBAL_LONGOPTIONS, {"help", no_argument, NULL, 'h'}};
        size_t n = 0;
        int c;

        for (size_t i = 0; own_options && own_options[i].name; i++)
                options[n++] = own_options[i];
        for (size_t i = 0; i < ELEMENTSOF(globals); i++)
                options[n++] = globals[i];
        assert(n < ELEMENTSOF(options));

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "hqv", options, NULL)) >= 0) {
                if (cli_global_option(c, g))
                        continue;
                if (c == 'h') {
                        const char *help = image_help_of(cmd);
                        assert(help);
                        printf("Usage: goldroot image %s" CLI_HELP_GLOBALS, help);
                        return -ECANCELED;
                }
                if (c != '?' && own && own(c, userdata) > 0)
                        continue;
                return cli_usage_error("image", "%s: unknown option or missing argument: %s", cmd,
                                       argv[optind > 1 ? optind - 1 : 1]);
        }
        return optind;
}

static int expect_args(const char *cmd, int have, int min, int max) {
        if (have < min)
                return cli_usage_error("image", "%s: missing argument; see 'goldroot image --help'",
                                       cmd);
        if (max >= 0 && have > max)
                return cli_usage_error("image", "%s: too many arguments", cmd);
        return 0;
}

static Progress *progress_for(Progress *p, GlobalOptions *g, const char *label) {
        progress_init(p, stderr, progress_style_for(stderr, g->quiet, g->verbose > 0), label, 0);
        return p;
}

static void format_time(int64_t t, char *buf, size_t len) {
        time_t tt = (time_t)t;
        struct tm tm;
        if (!localtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, len, "%" PRId64, t);
}

static void json_strv(JsonWriter *w, const char *key, char **l) {
        json_key(w, key);
        json_begin_array(w);
        for (size_t i = 0; l && l[i]; i++)
                json_string(w, l[i]);
        json_end_array(w);
}

static void json_image(JsonWriter *w, Store *s, const ImageInfo *i, char **links) {
        /* The tree on disk decides (a crash can leave the catalog's base). */
        bool delta = i->base && store_image_is_delta(s, i->id) > 0;
        _cleanup_free_ char *root = delta ? NULL : store_image_root_path(s, i->id);

        json_begin_object(w);
        json_kv_string(w, "id", i->id);
        json_strv(w, "tags", i->tags);
        json_kv_string(w, "parent", i->parent);
        json_kv_int(w, "created", i->created);
        json_kv_uint(w, "size", i->size);
        json_kv_uint(w, "files", i->files);
        json_strv(w, "instances", links);
        json_kv_string(w, "root", root);
        json_kv_string(w, "base", delta ? i->base : NULL);
        json_end_object(w);
}

/* import */

/* The option callback of a subcommand whose one option takes a value:
 * userdata is the const char * that receives it. */
static int take_value(int c, void *userdata) {
        (void)c;
        *(const char **)userdata = optarg;
        return 1;
}

static int cmd_import(int argc, char **argv, GlobalOptions *g) {
        static const struct option options[] = {{"parent", required_argument, NULL, ARG_PARENT},
                                                {}};
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *name = NULL, *tag = NULL;
        const char *parent_ref = NULL;
        char id[DIGEST_HEX_SIZE], parent[DIGEST_HEX_SIZE];
        Progress p;
        int i, r;

        i = parse_args(argc, argv, g, "import", options, take_value, &parent_ref);
        if (i < 0)
                return i;
        r = expect_args("import", argc - i, 2, 2);
        if (r < 0)
                return r;
        r = image_ref_parse_tag(argv[i], &name, &tag);
        if (r < 0)
                return r;
        if (parent_ref) {
                r = image_ref_check(parent_ref);
                if (r < 0)
                        return r;
        }
        store_set_may_create(true);
        r = store_open(g->store, STORE_SHARED, &s);
        if (r < 0)
                return r;
        if (parent_ref) {
                r = store_resolve(s, parent_ref, parent);
                if (r < 0)
                        return r;
        }
        r = store_import(s, argv[i + 1],
                         &(ImportOptions){
                                 .name = name,
                                 .tag = tag,
                                 .parent = parent_ref ? parent : NULL,
                                 .progress = progress_for(&p, g, "import"),
                         },
                         id);
        if (r < 0) {
                progress_abort(&p);
                return r;
        }
        progress_done(&p);
        if (g->json) {
                JsonWriter w;
                json_init(&w, stdout);
                json_begin_object(&w);
                json_kv_string(&w, "id", id);
                json_kv_string(&w, "tag", argv[i]);
                json_end_object(&w);
                return json_finish(&w);
        }
        printf("%s\n", id);
        return 0;
}

/* ls */

static int cmd_ls(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        ImageInfo **l = NULL;
        size_t n = 0, width = strlen("NAME:TAG");
        int i, r;

        i = parse_args(argc, argv, g, "ls", NULL, NULL, NULL);
        if (i < 0)
                return i;
        r = expect_args("ls", argc - i, 0, 0);
        if (r < 0)
                return r;
        r = store_open(g->store, STORE_SHARED, &s);
        if (r < 0)
                return r;
        r = catalog_list_images(store_catalog(s), &l, &n);
        if (r < 0)
                return r;

        if (g->json) {
                JsonWriter w;
                json_init(&w, stdout);
                json_begin_array(&w);
                for (size_t k = 0; k < n && r >= 0; k++) {
                        _cleanup_strv_free_ char **links = NULL;
                        r = catalog_image_links(store_catalog(s), l[k]->id, &links);
                        if (r >= 0)
                                json_image(&w, s, l[k], links);
                }
                json_end_array(&w);
                if (r >= 0)
                        r = json_finish(&w);
                image_info_list_free(l, n);
                return r;
        }
        if (g->quiet) {
                for (size_t k = 0; k < n; k++)
                        printf("%s\n", l[k]->id);
                image_info_list_free(l, n);
                return 0;
        }
        for (size_t k = 0; k < n; k++)
                for (size_t t = 0; l[k]->tags[t]; t++)
                        if (strlen(l[k]->tags[t]) > width)
                                width = strlen(l[k]->tags[t]);
        printf("%-*s  %-12s  %-19s  %8s  %7s  %s\n", (int)width, "NAME:TAG", "ID", "CREATED",
               "SIZE", "FILES", "INSTANCES");
        for (size_t k = 0; k < n && r >= 0; k++) {
                _cleanup_strv_free_ char **links = NULL;
                char created[32], size[16];

                r = catalog_image_links(store_catalog(s), l[k]->id, &links);
                if (r < 0)
                        break;
                format_time(l[k]->created, created, sizeof created);
                format_size(l[k]->size, size, sizeof size);
                /* One line per tag, like docker images; untagged images once. */
                for (size_t t = 0; t == 0 || l[k]->tags[t]; t++) {
                        printf("%-*s  %.12s  %-19s  %8s  %7" PRIu64 "  %zu\n", (int)width,
                               l[k]->tags[t] ?: "<none>", l[k]->id, created, size, l[k]->files,
                               strv_length(links));
                        if (!l[k]->tags[t])
                                break;
                }
        }
        image_info_list_free(l, n);
        return r;
}

/* inspect, links */

static int open_and_resolve(GlobalOptions *g, StoreLock lock, const char *ref, Store **ret,
                            char id[static DIGEST_HEX_SIZE]) {
        _cleanup_(store_freep) Store *s = NULL;
        int r;

        /* A malformed reference is bad usage whether or not the store exists. */
        r = image_ref_check(ref);
        if (r < 0)
                return r;
        r = store_open(g->store, lock, &s);
        if (r < 0)
                return r;
        r = store_resolve(s, ref, id);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

static int cmd_inspect(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(image_info_freep) ImageInfo *info = NULL;
        _cleanup_strv_free_ char **links = NULL;
        char id[DIGEST_HEX_SIZE], created[32], size[16];
        int i, r;

        i = parse_args(argc, argv, g, "inspect", NULL, NULL, NULL);
        if (i < 0)
                return i;
        r = expect_args("inspect", argc - i, 1, 1);
        if (r < 0)
                return r;
        r = open_and_resolve(g, STORE_SHARED, argv[i], &s, id);
        if (r < 0)
                return r;
        r = catalog_get_image(store_catalog(s), id, &info);
        if (r >= 0)
                r = catalog_image_links(store_catalog(s), id, &links);
        if (r < 0)
                return log_error_errno(r, "image %s: %m", argv[i]);

        if (g->json) {
                JsonWriter w;
                json_init(&w, stdout);
                json_image(&w, s, info, links);
                return json_finish(&w);
        }
        format_time(info->created, created, sizeof created);
        format_size(info->size, size, sizeof size);
        printf("id:         %s\n", info->id);
        printf("tags:       ");
        for (size_t t = 0; info->tags[t]; t++)
                printf("%s%s", t ? ", " : "", info->tags[t]);
        printf("%s\n", info->tags[0] ? "" : "-");
        printf("parent:     %s\n", info->parent ?: "-");
        if (info->base && store_image_is_delta(s, info->id) > 0)
                printf("stored as:  delta over %.12s\n", info->base);
        else
                printf("stored as:  whole tree\n");
        printf("created:    %s\n", created);
        printf("size:       %s (%" PRIu64 " bytes)\n", size, info->size);
        printf("files:      %" PRIu64 "\n", info->files);
        printf("instances:  ");
        for (size_t t = 0; links[t]; t++)
                printf("%s%s", t ? ", " : "", links[t]);
        printf("%s\n", links[0] ? "" : "-");
        return 0;
}

static int cmd_links(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_strv_free_ char **links = NULL;
        char id[DIGEST_HEX_SIZE];
        int i, r;

        i = parse_args(argc, argv, g, "links", NULL, NULL, NULL);
        if (i < 0)
                return i;
        r = expect_args("links", argc - i, 1, 1);
        if (r < 0)
                return r;
        r = open_and_resolve(g, STORE_SHARED, argv[i], &s, id);
        if (r < 0)
                return r;
        r = catalog_image_links(store_catalog(s), id, &links);
        if (r < 0)
                return r;
        if (g->json) {
                JsonWriter w;
                json_init(&w, stdout);
                json_begin_array(&w);
                for (size_t k = 0; links[k]; k++) {
                        json_begin_object(&w);
                        json_kv_string(&w, "name", links[k]);
                        json_end_object(&w);
                }
                json_end_array(&w);
                return json_finish(&w);
        }
        for (size_t k = 0; links[k]; k++)
                printf("%s\n", links[k]);
        return 0;
}

/* tag, untag, rm */

static int cmd_tag(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *name = NULL, *tag = NULL;
        char id[DIGEST_HEX_SIZE];
        int i, r;

        i = parse_args(argc, argv, g, "tag", NULL, NULL, NULL);
        if (i < 0)
                return i;
        r = expect_args("tag", argc - i, 2, 2);
        if (r < 0)
                return r;
        r = image_ref_parse_tag(argv[i + 1], &name, &tag);
        if (r < 0)
                return r;
        r = open_and_resolve(g, STORE_SHARED, argv[i], &s, id);
        if (r < 0)
                return r;
        /* One statement: the tag moves atomically. */
        crash_point("tag-before-commit");
        r = catalog_set_tag(store_catalog(s), name, tag, id);
        if (r >= 0)
                crash_point("tag-after-commit");
        return r;
}

static int cmd_untag(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *name = NULL, *tag = NULL;
        int i, r;

        i = parse_args(argc, argv, g, "untag", NULL, NULL, NULL);
        if (i < 0)
                return i;
        r = expect_args("untag", argc - i, 1, 1);
        if (r < 0)
                return r;
        r = image_ref_parse_tag(argv[i], &name, &tag);
        if (r < 0)
                return r;
        r = store_open(g->store, STORE_SHARED, &s);
        if (r < 0)
                return r;
        r = catalog_remove_tag(store_catalog(s), name, tag);
        if (r == -ENOENT)
                return log_error_errno(r, "image %s: no such tag", argv[i]);
        return r;
}

static int cmd_rm(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char(*ids)[DIGEST_HEX_SIZE] = NULL;
        int i, r;

        i = parse_args(argc, argv, g, "rm", NULL, NULL, NULL);
        if (i < 0)
                return i;
        r = expect_args("rm", argc - i, 1, -1);
        if (r < 0)
                return r;
        for (int k = i; k < argc; k++) {
                r = image_ref_check(argv[k]);
                if (r < 0)
                        return r;
        }
        r = store_open(g->store, STORE_EXCLUSIVE, &s);
        if (r < 0)
                return r;
        /* Every reference first, so that a bad one removes nothing, and an
         * image named twice (by two tags, or a tag and its id) goes once. */
        ids = calloc(argc - i, sizeof *ids);
        if (!ids)
                return log_oom();
        for (int k = i; k < argc; k++) {
                r = store_resolve(s, argv[k], ids[k - i]);
                if (r < 0)
                        return r;
        }
        for (int k = i; k < argc; k++) {
                bool seen = false;
                for (int j = i; j < k && !seen; j++)
                        seen = streq(ids[j - i], ids[k - i]);
                if (seen)
                        continue;
                r = store_remove_image(s, argv[k]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmd_mount(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        char id[DIGEST_HEX_SIZE];
        int i, r;

        i = parse_args(argc, argv, g, "mount", NULL, NULL, NULL);
        if (i < 0)
                return i;
        r = expect_args("mount", argc - i, 2, 2);
        if (r < 0)
                return r;
        r = open_and_resolve(g, STORE_SHARED, argv[i], &s, id);
        if (r < 0)
                return r;
        return store_mount_image(s, id, argv[i + 1]);
}

/* diff */

typedef struct DiffOutput {
        JsonWriter *w;
} DiffOutput;

static int print_change(DiffKind kind, const char *path, unsigned changes, const ManifestEntry *a,
                        const ManifestEntry *b, void *userdata) {
        DiffOutput *o = userdata;

        if (o->w) {
                char k[2] = {(char)kind, 0};
                json_begin_object(o->w);
                json_kv_string(o->w, "change", k);
                json_kv_string(o->w, "path", path);
                json_key(o->w, "fields");
                json_begin_array(o->w);
                for (unsigned bit = 1; bit <= CHANGE_LINKS; bit <<= 1)
                        if (changes & bit)
                                json_string(o->w, change_field_name(bit));
                json_end_array(o->w);
                json_end_object(o->w);
        } else {
                _cleanup_free_ char *e = escape_path(path, false);
                if (!e)
                        return log_oom();
                printf("%c %s\n", (char)kind, e);
        }
        return 0;
}

static int cmd_diff(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(manifest_freep) Manifest *ma = NULL, *mb = NULL;
        char a[DIGEST_HEX_SIZE], b[DIGEST_HEX_SIZE];
        JsonWriter w;
        DiffOutput o = {};
        int i, r;

        i = parse_args(argc, argv, g, "diff", NULL, NULL, NULL);
        if (i < 0)
                return i;
        r = expect_args("diff", argc - i, 2, 2);
        if (r < 0)
                return r;
        r = image_ref_check(argv[i + 1]);
        if (r < 0)
                return r;
        r = open_and_resolve(g, STORE_SHARED, argv[i], &s, a);
        if (r < 0)
                return r;
        r = store_resolve(s, argv[i + 1], b);
        if (r < 0)
                return r;
        r = store_read_manifest(s, a, &ma);
        if (r >= 0)
                r = store_read_manifest(s, b, &mb);
        if (r < 0)
                return r;
        if (g->json) {
                json_init(&w, stdout);
                json_begin_array(&w);
                o.w = &w;
        }
        r = manifest_diff(ma, mb, print_change, &o);
        if (r < 0)
                return r;
        if (g->json) {
                json_end_array(&w);
                return json_finish(&w);
        }
        return fflush(stdout) == 0 ? 0 : -EIO;
}

/* export, gc */

static int cmd_export(int argc, char **argv, GlobalOptions *g) {
        static const struct option options[] = {{"format", required_argument, NULL, ARG_FORMAT},
                                                {}};
        _cleanup_(store_freep) Store *s = NULL;
        const char *format = NULL;
        ExportFormat f;
        char id[DIGEST_HEX_SIZE];
        Progress p;
        int i, r;

        i = parse_args(argc, argv, g, "export", options, take_value, &format);
        if (i < 0)
                return i;
        r = expect_args("export", argc - i, 2, 2);
        if (r < 0)
                return r;
        if (!format)
                f = endswith(argv[i + 1], ".erofs") ? EXPORT_EROFS : EXPORT_TAR;
        else if (streq(format, "tar"))
                f = EXPORT_TAR;
        else if (streq(format, "erofs"))
                f = EXPORT_EROFS;
        else
                return cli_usage_error("image", "export: unknown format '%s' (tar or erofs)",
                                       format);
        r = open_and_resolve(g, STORE_SHARED, argv[i], &s, id);
        if (r < 0)
                return r;
        r = store_export(s, id, argv[i + 1], f, progress_for(&p, g, "export"));
        if (r < 0) {
                progress_abort(&p);
                return r;
        }
        progress_done(&p);
        return 0;
}

static int cmd_gc(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        GcStats st = {};
        Progress p;
        char freed[16];
        int i, r;

        i = parse_args(argc, argv, g, "gc", NULL, NULL, NULL);
        if (i < 0)
                return i;
        r = expect_args("gc", argc - i, 0, 0);
        if (r < 0)
                return r;
        r = store_open(g->store, STORE_EXCLUSIVE, &s);
        if (r < 0)
                return r;
        r = store_gc(s, progress_for(&p, g, "gc"), &st);
        if (r < 0) {
                progress_abort(&p);
                return r;
        }
        progress_done(&p);
        if (g->json) {
                JsonWriter w;
                json_init(&w, stdout);
                json_begin_object(&w);
                json_kv_uint(&w, "objects_removed", st.objects_removed);
                json_kv_uint(&w, "bytes_freed", st.bytes_freed);
                json_kv_uint(&w, "objects_kept", st.objects_kept);
                json_end_object(&w);
                return json_finish(&w);
        }
        format_size(st.bytes_freed, freed, sizeof freed);
        if (!g->quiet)
                printf("removed %" PRIu64 " objects, freed %s (%" PRIu64 " bytes)\n",
                       st.objects_removed, freed, st.bytes_freed);
        return 0;
}

int verb_image(int argc, char **argv, GlobalOptions *g) {
        static const struct {
                const char *name;
                ImageCommand fn;
        } commands[] = {
                {"import", cmd_import},   {"ls", cmd_ls},       {"list", cmd_ls},
                {"inspect", cmd_inspect}, {"tag", cmd_tag},     {"untag", cmd_untag},
                {"diff", cmd_diff},       {"links", cmd_links}, {"rm", cmd_rm},
                {"export", cmd_export},   {"gc", cmd_gc},       {"prep", image_prep_command},
                {"mount", cmd_mount},
        };
        int r;

        if (argc < 2)
                return cli_usage_error("image", "missing command; see 'goldroot image --help'");
        if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
                image_help(stdout);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[1], commands[i].name)) {
                        r = commands[i].fn(argc - 1, argv + 1, g);
                        return r == -ECANCELED ? 0 : r;
                }
        return cli_usage_error("image", "unknown command '%s'; see 'goldroot image --help'",
                               argv[1]);
}
