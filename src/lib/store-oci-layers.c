/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-oci-layers: the two passes that apply an OCI image's layers (see
 * store-oci.c). Pass 1 reads every layer's tar headers and records, per
 * layer, which paths it adds, which it whites out (.wh.NAME) and which
 * directories it makes opaque (.wh..wh..opq). Pass 2's filter keeps a
 * member only if no later layer replaces it, whites it or an ancestor out,
 * makes an ancestor opaque or puts a non-directory at an ancestor, and a
 * hardlink only if the file it names is the one the image ends up with.
 */
#include "store-oci-internal.h"

#include "archive-dl.h"
#include <search.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

enum {
        R_DIR = 1u << 0,
        R_NONDIR = 1u << 1,
        R_WHITEOUT = 1u << 2,
        R_OPAQUE = 1u << 3,
};

typedef struct Rec {
        char *path;
        size_t seq; /* of the member that adds it (R_DIR, R_NONDIR) */
        unsigned flags;
} Rec;

static int rec_compare(const void *a, const void *b) {
        return strcmp(((const Rec *)a)->path, ((const Rec *)b)->path);
}

static void rec_free(void *p) {
        Rec *r = p;
        free(r->path);
        free(r);
}

void oci_layer_forget(Layer *l) {
        tdestroy(l->recs, rec_free);
        l->recs = NULL;
}

static Rec *rec_find(const Layer *l, const char *path) {
        Rec key = {.path = (char *)path}, **found;
        found = tfind(&key, &l->recs, rec_compare);
        return found ? *found : NULL;
}

/* Not a leak: tsearch() keeps r in l->recs (freed by oci_layer_forget()); gcc 12 does not see the
 * tree retain it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int rec_add(Layer *l, const char *path, size_t seq, unsigned flag, Rec **ret) {
        Rec *r = rec_find(l, path);

        if (!r) {
                r = calloc(1, sizeof *r);
                if (!r || !(r->path = strdup(path)) || !tsearch(r, &l->recs, rec_compare)) {
                        if (r)
                                free(r->path);
                        free(r);
                        return -ENOMEM;
                }
        }
        r->flags |= flag;
        if (flag & (R_DIR | R_NONDIR))
                r->seq = seq;
        if (ret)
                *ret = r;
        return 0;
}
#pragma GCC diagnostic pop

/* Some path component starts with ".wh..wh." (aufs's own bookkeeping, such
 * as .wh..wh.plnk), which is no part of the image. */
static bool aufs_meta(const char *path) {
        return strstr(path, "/" WH_PREFIX ".wh.") != NULL && !endswith(path, "/" WH_OPAQUE);
}

int oci_layer_scan(Import *im, Layer *l) {
        struct archive *a;
        struct archive_entry *ae;
        size_t seq = 0;
        int r = 0;

        a = sym_archive_read_new();
        if (!a)
                return log_oom();
        if (sym_archive_read_support_filter_all(a) != ARCHIVE_OK ||
            sym_archive_read_support_format_tar(a) != ARCHIVE_OK ||
            sym_archive_read_support_format_gnutar(a) != ARCHIVE_OK ||
            sym_archive_read_open_fd(a, l->fd, 1u << 16) != ARCHIVE_OK) {
                r = log_error_errno(EBADMSG, "%s: layer %s: %s", im->what, l->name,
                                    sym_archive_error_string(a) ?: "not a tar archive");
                goto out;
        }
        for (;; seq++) {
                _cleanup_free_ char *path = NULL, *dir = NULL;
                const char *base;
                Rec *rec;

                r = sym_archive_read_next_header(a, &ae);
                if (r == ARCHIVE_EOF) {
                        r = 0;
                        break;
                }
                if (r != ARCHIVE_OK) {
                        r = log_error_errno(EBADMSG, "%s: layer %s: %s", im->what, l->name,
                                            sym_archive_error_string(a) ?: "damaged archive");
                        break;
                }
                r = archive_member_path(im->what, sym_archive_entry_pathname(ae), &path);
                if (r < 0)
                        break;
                if (aufs_meta(path))
                        continue;
                base = strrchr(path, '/') + 1;
                /* "/a/b/.wh.c" -> "/a/b"; "/.wh.c" -> "/". */
                dir = base - path > 1 ? strndup(path, (size_t)(base - path) - 1) : strdup("/");
                if (!dir) {
                        r = log_oom();
                        break;
                }
                if (streq(base, WH_OPAQUE)) {
                        r = rec_add(l, dir, 0, R_OPAQUE, NULL);
                } else if (startswith(base, WH_PREFIX)) {
                        const char *name = base + strlen(WH_PREFIX);
                        _cleanup_free_ char *victim = NULL;

                        if (isempty(name) || streq(name, ".") || streq(name, "..")) {
                                r = log_error_errno(EBADMSG,
                                                    "%s: layer %s: whiteout '%s' escapes its "
                                                    "directory",
                                                    im->what, l->name, path);
                                break;
                        }
                        victim = path_join(dir, name);
                        r = victim ? rec_add(l, victim, 0, R_WHITEOUT, NULL) : -ENOMEM;
                } else {
                        bool is_dir = sym_archive_entry_filetype(ae) == AE_IFDIR &&
                                      !sym_archive_entry_hardlink(ae);
                        rec = rec_find(l, path);
                        if (rec && (rec->flags & (R_DIR | R_NONDIR))) {
                                r = log_error_errno(EBADMSG,
                                                    "%s: layer %s: archive entry '%s': "
                                                    "duplicate entry",
                                                    im->what, l->name,
                                                    sym_archive_entry_pathname(ae));
                                break;
                        }
                        r = rec_add(l, path, seq, is_dir ? R_DIR : R_NONDIR, NULL);
                }
                if (r < 0) {
                        r = log_oom();
                        break;
                }
        }
out:
        sym_archive_read_free(a);
        if (r >= 0 && lseek(l->fd, 0, SEEK_SET) < 0)
                r = log_error_errno(errno, "%s: layer %s: %m", im->what, l->name);
        return r;
}

/* Does a member of layer li at path survive the layers above it? */
static bool is_final(const Import *im, size_t li, const char *path) {
        _cleanup_free_ char *anc = strdup(path);

        if (!anc)
                return false;
        for (size_t k = li + 1; k < im->n_layers; k++) {
                const Layer *l = &im->layers[k];
                const Rec *r = rec_find(l, path);

                if (r && (r->flags & (R_DIR | R_NONDIR | R_WHITEOUT)))
                        return false;
                /* Every strict ancestor, "/" included. */
                strcpy(anc, path);
                for (char *slash = strrchr(anc, '/'); slash; slash = strrchr(anc, '/')) {
                        if (slash == anc) {
                                if (streq(anc, "/"))
                                        break;
                                anc[1] = 0;
                        } else
                                *slash = 0;
                        r = rec_find(l, anc);
                        if (r && (r->flags & (R_WHITEOUT | R_OPAQUE | R_NONDIR)))
                                return false;
                }
        }
        return true;
}

int oci_layer_keep_member(void *userdata, size_t index, const char *path, const char *hardlink) {
        Import *im = userdata;
        const Layer *l = &im->layers[im->cur];
        const Rec *rec = rec_find(l, path);

        if (!rec || !(rec->flags & (R_DIR | R_NONDIR)) || rec->seq != index)
                return 0; /* a whiteout, or aufs bookkeeping */
        if (!is_final(im, im->cur, path))
                return 0;
        if (hardlink) {
                /* The file it names must be the one the image ends up with. */
                for (size_t k = im->cur + 1; k-- > 0;) {
                        const Rec *t = rec_find(&im->layers[k], hardlink);
                        if (!t || !(t->flags & (R_DIR | R_NONDIR)) ||
                            (k == im->cur && t->seq >= index))
                                continue;
                        if (is_final(im, k, hardlink))
                                return 1;
                        break;
                }
                return log_error_errno(EBADMSG,
                                       "%s: layer %s: hardlink '%s' to '%s', which is missing or "
                                       "changed by a later layer",
                                       im->what, l->name, path, hardlink);
        }
        return 1;
}
