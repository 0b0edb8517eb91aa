/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-delta: image versions stored as a difference from an earlier image.
 *
 * A whole image tree costs its directories (which cannot be hardlinked) and
 * its manifest whatever changed: 4 MB per version of Debian minbase. A
 * version that differs from an image of the store in a few paths is kept
 * instead as:
 *
 *   images/ID/delta.erofs  the changed paths as an erofs image made the way
 *                          composefs makes one: a regular file is an empty
 *                          overlayfs "metacopy" inode (chunked, so its holes
 *                          cost nothing) whose redirect names its object; a
 *                          deleted path is a whiteout
 *   images/ID/manifest     the entries that differ from the base's
 *   images/ID/deleted      the base's entries that are gone (only if any)
 *   images/ID/TOKEN.N      a hardlink to each object the delta uses: gc's
 *                          link counting keeps them, and the redirects name
 *                          them (TOKEN: the id's first 12 characters)
 *
 * and the catalog records its base. Its tree is a read-only overlayfs made on
 * demand as a detached mount: the chain's delta layers top first, the base's
 * real tree at the bottom, and each delta's directory as a data-only layer
 * that the redirects resolve in. The composed manifest is checked against the image id before the
 * delta is published, so a delta always describes exactly its image.
 */
#include "fsutil.h"
#include "store-derive.h"
#include "store-internal.h"

#include <search.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

/* Beyond these a whole tree is cheaper to use, or to read. */
#define DELTA_MAX_DEPTH 8
#define DELTA_MAX_CHANGED_DIVISOR 4 /* at most 1/4 of the paths differ */
#define CHAIN_MAX 64
#define DELTA_REF_MAX (DELTA_TOKEN_LEN + 1 + 11)

int delta_is_legacy(Store *s, const char *id) {
        _cleanup_free_ char *link = path_join(id, "r.0");

        if (!link)
                return -ENOMEM;
        if (faccessat(s->images_fd, link, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return 1;
        return errno == ENOENT ? 0 : -errno;
}

/* overlayfs reads a character device 0:0 in a lower layer as a whiteout: an
 * image with one cannot be a delta's tree, nor its base's. */
static bool has_whiteout_device(const Manifest *m) {
        for (size_t i = 0; i < m->n; i++)
                if (S_ISCHR(m->entries[i].mode) && m->entries[i].rdev == makedev(0, 0))
                        return true;
        return false;
}

static bool has_tree(Store *s, const char *id) {
        _cleanup_free_ char *root = path_join(id, "root");
        return root && faccessat(s->images_fd, root, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;
}

int store_image_chain(Store *s, const char *id, char ***ret) {
        _cleanup_strv_free_ char **chain = NULL;
        _cleanup_free_ char *cur = strdup(id);

        if (!cur)
                return -ENOMEM;
        while (cur) {
                _cleanup_(image_info_freep) ImageInfo *info = NULL;
                bool whole;
                int r;

                if (strv_length(chain) >= CHAIN_MAX)
                        return log_error_errno(ELOOP, "image %.12s: its delta chain is too long",
                                               id);
                /* The tree on disk decides, and first: a whole image (every
                 * image an instance starts from, nearly always) costs no
                 * catalog query, and making a delta whole swaps its tree in
                 * before the catalog forgets the base. */
                whole = has_tree(s, cur);
                if (!whole) {
                        r = catalog_get_image(s->catalog, cur, &info);
                        if (r < 0)
                                return r == -ENOENT
                                               ? log_error_errno(
                                                         r, "image %.12s: not in the catalog", cur)
                                               : r;
                        whole = !info->base;
                }
                r = strv_consume(&chain, TAKE_PTR(cur));
                if (r < 0)
                        return r;
                cur = whole ? NULL : TAKE_PTR(info->base);
        }
        *ret = TAKE_PTR(chain);
        return 0;
}

/* base with deleted removed and changed laid over it; all three are consumed. */
static int apply_delta(Manifest *base, Manifest *changed, Manifest *deleted, Manifest **ret) {
        _cleanup_(manifest_freep) Manifest *m = manifest_new();
        size_t i = 0, j = 0, k = 0;
        int r;

        assert(base && changed && deleted && ret);
        if (!m)
                return -ENOMEM;
        while (i < base->n || j < changed->n) {
                int c = i >= base->n      ? 1
                        : j >= changed->n ? -1
                                          : strcmp(base->entries[i].path, changed->entries[j].path);
                if (c >= 0) {
                        if (c == 0)
                                i++; /* replaced; its strings go with base */
                        r = manifest_append(m, &changed->entries[j++]);
                        if (r < 0)
                                return r;
                        continue;
                }
                while (k < deleted->n &&
                       strcmp(deleted->entries[k].path, base->entries[i].path) < 0)
                        k++;
                if (k < deleted->n && streq(deleted->entries[k].path, base->entries[i].path)) {
                        i++;
                        continue;
                }
                r = manifest_append(m, &base->entries[i++]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

static int read_delta_parts(Store *s, const char *id, Manifest **ret_changed,
                            Manifest **ret_deleted) {
        _cleanup_(manifest_freep) Manifest *changed = NULL, *deleted = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = store_open_image(s, id, &fd);
        if (r < 0)
                return log_error_errno(r, "image %.12s: opening it: %m", id);
        r = manifest_read_at(fd, "manifest", &changed);
        if (r == -EBADMSG)
                return r;
        if (r < 0)
                return log_error_errno(r, "image %.12s: reading its manifest: %m", id);
        r = manifest_read_at(fd, "deleted", &deleted);
        if (r == -ENOENT) {
                deleted = manifest_new();
                if (!deleted)
                        return log_oom();
        } else if (r == -EBADMSG)
                return r;
        else if (r < 0)
                return log_error_errno(r, "image %.12s: reading its deleted paths: %m", id);
        assert(changed && deleted);
        *ret_changed = TAKE_PTR(changed);
        *ret_deleted = TAKE_PTR(deleted);
        return 0;
}

int delta_read_manifest(Store *s, char **chain, Manifest **ret) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        size_t n = strv_length(chain);
        _cleanup_close_ int fd = -EBADF;
        int r;

        assert(n >= 1);
        r = store_open_image(s, chain[n - 1], &fd);
        if (r < 0)
                return log_error_errno(r, "image %.12s: opening it: %m", chain[n - 1]);
        r = manifest_read_at(fd, "manifest", &m);
        if (r == -EBADMSG)
                return r;
        if (r < 0)
                return log_error_errno(r, "image %.12s: reading its manifest: %m", chain[n - 1]);
        for (size_t i = n - 1; i-- > 0;) {
                _cleanup_(manifest_freep) Manifest *changed = NULL, *deleted = NULL;
                Manifest *next = NULL;

                r = read_delta_parts(s, chain[i], &changed, &deleted);
                if (r < 0)
                        return r;
                r = apply_delta(m, changed, deleted, &next);
                if (r < 0)
                        return log_oom();
                assert(next);
                manifest_free(m);
                m = next;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

static int erofs_layer(int dir, int *ret_mnt) {
        _cleanup_close_ int file = -EBADF, fs = -EBADF;
        char source[64];
        int mnt;

        file = openat(dir, "delta.erofs", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (file < 0)
                return -errno;
        snprintf(source, sizeof source, "/proc/self/fd/%d", file);
        fs = fsopen("erofs", FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        if (fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
        if (mnt < 0)
                return -errno;
        *ret_mnt = mnt;
        return 0;
}

static void close_all(int (*fds)[DELTA_MAX_DEPTH + 1]) {
        for (size_t i = 0; i < ELEMENTSOF(*fds); i++)
                safe_close((*fds)[i]);
}

/* The view of chain, with the delta in top_dir (a staging directory, not yet
 * an image) over it if top_dir >= 0. */
static int open_view(Store *s, int top_dir, char **chain, int *ret_fd) {
        _cleanup_close_ int ov = -EBADF, mnt = -EBADF, bottom = -EBADF;
        /* The detached erofs mounts must outlive the overlay's creation: the
         * kernel clones each layer then, and closing a detached mount's last
         * fd unmounts it. */
        _cleanup_(close_all) int layers[DELTA_MAX_DEPTH + 1];
        _cleanup_(close_all) int dirs[DELTA_MAX_DEPTH + 1];
        const char *ids[DELTA_MAX_DEPTH + 1];
        size_t n = strv_length(chain), k = 0;
        char what[32];
        int r;

        for (size_t i = 0; i < ELEMENTSOF(layers); i++)
                layers[i] = dirs[i] = -EBADF;
        assert(n >= 1 && (n >= 2 || top_dir >= 0));
        if (top_dir >= 0)
                snprintf(what, sizeof what, "the new delta");
        else
                snprintf(what, sizeof what, "image %.12s", chain[0]);
        if (n - 1 + (top_dir >= 0) > ELEMENTSOF(layers))
                return log_error_errno(ELOOP, "%s: its delta chain is too long", what);
        if (top_dir >= 0) {
                ids[k] = "the new delta";
                dirs[k] = fcntl(top_dir, F_DUPFD_CLOEXEC, 3);
                if (dirs[k++] < 0)
                        return log_error_errno(errno, "%s: %m", what);
        }
        for (size_t i = 0; i + 1 < n; i++) {
                ids[k] = chain[i];
                r = store_open_image(s, chain[i], &dirs[k++]);
                if (r < 0)
                        return log_error_errno(r, "%s: opening %.12s: %m", what, chain[i]);
        }
        ov = fsopen("overlay", FSOPEN_CLOEXEC);
        if (ov < 0)
                return log_error_errno(errno, "%s: overlayfs: %m", what);
        for (size_t i = 0; i < k; i++) {
                r = erofs_layer(dirs[i], &layers[i]);
                if (r < 0)
                        return log_error_errno(r, "%s: mounting the delta of %.12s: %m", what,
                                               ids[i]);
                if (fsconfig(ov, FSCONFIG_SET_FD, "lowerdir+", NULL, layers[i]) < 0)
                        return log_error_errno(errno, "%s: stacking the delta of %.12s: %m", what,
                                               ids[i]);
        }
        r = store_open_tree_dir(s, chain[n - 1], &bottom);
        if (r < 0)
                return log_error_errno(r, "%s: opening its base tree %.12s: %m", what,
                                       chain[n - 1]);
        if (fsconfig(ov, FSCONFIG_SET_FD, "lowerdir+", NULL, bottom) < 0)
                return log_error_errno(errno, "%s: assembling its tree: %m", what);
        for (size_t i = 0; i < k; i++)
                if (fsconfig(ov, FSCONFIG_SET_FD, "datadir+", NULL, dirs[i]) < 0)
                        return log_error_errno(errno, "%s: adding the objects of %.12s: %m", what,
                                               ids[i]);
        if (fsconfig(ov, FSCONFIG_SET_STRING, "metacopy", "on", 0) < 0 ||
            fsconfig(ov, FSCONFIG_SET_STRING, "redirect_dir", "follow", 0) < 0 ||
            fsconfig(ov, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return log_error_errno(errno, "%s: assembling its tree: %m", what);
        mnt = fsmount(ov, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
        if (mnt < 0)
                return log_error_errno(errno, "%s: mounting its tree: %m", what);
        /* The fsmount fd itself (O_PATH), not a directory opened in it:
         * closing the last fd of a detached mount dissolves its anonymous
         * namespace, and then open_tree() can no longer clone it. */
        *ret_fd = TAKE_FD(mnt);
        return 0;
}

int delta_open_view(Store *s, char **chain, int *ret_fd) {
        return open_view(s, -EBADF, chain, ret_fd);
}

/* Building a delta. */

typedef struct DeltaBuild {
        ImageBuilder *b;
        const Manifest *m;
        int src_fd;      /* staging/NAME/delta-src */
        void *dirs;      /* tsearch of the directories made, by path */
        char **dir_list; /* the same, to set their metadata at the end */
        const ManifestEntry **changed;
        size_t n_changed;
        const ManifestEntry **deleted;
        size_t n_deleted;
        void *refs; /* tsearch of DeltaRef: the objects linked as TOKEN.N */
        unsigned n_refs;
        char token[DELTA_TOKEN_LEN + 1]; /* names the links: TOKEN.N */
} DeltaBuild;

static int delta_collect(DiffKind kind, const char *path, unsigned changes, const ManifestEntry *a,
                         const ManifestEntry *bb, void *userdata) {
        DeltaBuild *d = userdata;
        const ManifestEntry ***list = kind == DIFF_DELETED ? &d->deleted : &d->changed;
        size_t *n = kind == DIFF_DELETED ? &d->n_deleted : &d->n_changed;
        const ManifestEntry **t;

        (void)path;
        (void)changes;
        t = realloc(*list, (*n + 1) * sizeof *t);
        if (!t)
                return -ENOMEM;
        *list = t;
        t[(*n)++] = kind == DIFF_DELETED ? a : bb;
        return 0;
}

static int path_compare(const void *a, const void *b) {
        return strcmp(a, b);
}

/* Makes path a directory of the delta (not its metadata yet), parents first. */
static int delta_dir(DeltaBuild *d, const char *path) {
        _cleanup_free_ char *copy = NULL;
        char *slash;
        int r;

        if (streq(path, "/") || tfind(path, &d->dirs, path_compare))
                return 0;
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        slash = strrchr(copy, '/');
        *slash = 0;
        r = delta_dir(d, slash == copy ? "/" : copy);
        if (r < 0)
                return r;
        if (mkdirat(d->src_fd, rel(path), 0700) < 0 && errno != EEXIST)
                return builder_fail(d->b, -errno, path, "making a delta directory");
        r = strv_extend(&d->dir_list, path);
        if (r < 0)
                return r;
        if (!tsearch(d->dir_list[strv_length(d->dir_list) - 1], &d->dirs, path_compare))
                return -ENOMEM;
        return 0;
}

static int delta_parent(DeltaBuild *d, const char *path) {
        _cleanup_free_ char *parent = strdup(path);
        char *slash;

        if (!parent)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        *slash = 0;
        return delta_dir(d, slash == parent ? "/" : parent);
}

typedef struct DeltaRef {
        uint8_t digest[DIGEST_SIZE];
        unsigned n;
} DeltaRef;

static int ref_compare(const void *a, const void *b) {
        return memcmp(((const DeltaRef *)a)->digest, ((const DeltaRef *)b)->digest, DIGEST_SIZE);
}

/* The image's own link to an object, TOKEN.N; its files redirect to
 * /TOKEN.N. Not objects/XX/..., whose name can come to mean a fresh inode
 * (the link-limit replacement) that gc may later remove. overlayfs looks an
 * absolute redirect up first in the lower layers under the file's (the
 * base's tree as it shows), then in the data-only layers, top delta first,
 * and the first match wins: delta_prepare() picks a TOKEN that no other
 * delta of the chain has and that the base shows no /TOKEN.* for. */
/* Not a leak: tsearch() keeps ref in d->refs (freed by tdestroy); gcc 12 does not see a const key
 * retained. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int delta_ref(DeltaBuild *d, const uint8_t od[static DIGEST_SIZE],
                     char ret[static DELTA_REF_MAX]) {
        char opath[OBJECT_PATH_SIZE];
        DeltaRef *ref, **found;

        ref = calloc(1, sizeof *ref);
        if (!ref)
                return -ENOMEM;
        memcpy(ref->digest, od, DIGEST_SIZE);
        found = tsearch(ref, &d->refs, ref_compare);
        if (!found) {
                free(ref);
                return -ENOMEM;
        }
        if (*found != ref) {
                free(ref);
                snprintf(ret, DELTA_REF_MAX, "%s.%u", d->token, (*found)->n);
                return 0;
        }
        ref->n = d->n_refs++;
        snprintf(ret, DELTA_REF_MAX, "%s.%u", d->token, ref->n);
        object_path(od, opath);
        if (linkat(d->b->store->objects_fd, opath, d->b->staging_fd, ret, 0) < 0)
                return -errno;
        return 0;
}
#pragma GCC diagnostic pop

static int delta_file(DeltaBuild *d, const ManifestEntry *e) {
        _cleanup_close_ int fd = -EBADF;
        char name[DELTA_REF_MAX], redirect[DELTA_REF_MAX + 1];
        uint8_t od[DIGEST_SIZE];
        int r;

        fd = openat(d->src_fd, rel(e->path), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
        if (fd < 0)
                return builder_fail(d->b, -errno, e->path, "making a delta file");
        /* The size before the metadata: truncating a file drops its
         * security.capability (as writing to it would). */
        if (e->size > 0 && ftruncate(fd, (off_t)e->size) < 0)
                return builder_fail(d->b, -errno, e->path, "making a metacopy file");
        r = metadata_apply_fd(fd, e);
        if (r < 0)
                return builder_fail(d->b, r, e->path, "setting delta metadata");
        if (e->size == 0)
                return 0; /* an empty file needs no data */

        r = object_digest(e, od);
        if (r >= 0)
                r = delta_ref(d, od, name);
        if (r < 0)
                return builder_fail(d->b, r, e->path, "referencing its object");
        snprintf(redirect, sizeof redirect, "/%s", name);
        if (fsetxattr(fd, "trusted.overlay.metacopy", "", 0, 0) < 0 ||
            fsetxattr(fd, "trusted.overlay.redirect", redirect, strlen(redirect), 0) < 0)
                return builder_fail(d->b, -errno, e->path, "making a metacopy file");
        return 0;
}

static int delta_entry(DeltaBuild *d, const ManifestEntry *e) {
        int r;

        if (streq(e->path, "/"))
                return 0; /* the root's metadata is set with the other directories' */
        r = delta_parent(d, e->path);
        if (r < 0)
                return r;
        switch (e->mode & S_IFMT) {
        case S_IFDIR:
                return delta_dir(d, e->path);
        case S_IFREG:
                return delta_file(d, e);
        case S_IFLNK:
                if (symlinkat(e->target, d->src_fd, rel(e->path)) < 0)
                        return builder_fail(d->b, -errno, e->path, "making a delta symlink");
                break;
        default:
                if (mknodat(d->src_fd, rel(e->path), (e->mode & S_IFMT) | 0600, e->rdev) < 0)
                        return builder_fail(d->b, -errno, e->path, "making a delta node");
        }
        r = metadata_apply_at(d->src_fd, rel(e->path), e);
        return r < 0 ? builder_fail(d->b, r, e->path, "setting delta metadata") : 0;
}

/* A whiteout hides the base's path; one on the topmost deleted path hides
 * its whole subtree, and a path whose parent is no longer a directory is
 * hidden by what replaced the parent. */
static int delta_whiteout(DeltaBuild *d, const ManifestEntry *gone) {
        _cleanup_free_ char *parent = strdup(gone->path);
        const ManifestEntry *pe;
        char *slash;
        int r;

        if (!parent)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        *slash = 0;
        pe = manifest_find(d->m, slash == parent ? "/" : parent);
        if (!pe || !S_ISDIR(pe->mode))
                return 0;
        r = delta_parent(d, gone->path);
        if (r < 0)
                return r;
        if (mknodat(d->src_fd, rel(gone->path), S_IFCHR | 0000, makedev(0, 0)) < 0)
                return builder_fail(d->b, -errno, gone->path, "making a whiteout");
        return 0;
}

static int delta_finish_dirs(DeltaBuild *d) {
        const ManifestEntry *root = manifest_find(d->m, "/");
        int r;

        /* Deepest first, so that no later mkdir changes a finished mtime. */
        for (size_t i = strv_length(d->dir_list); i-- > 0;) {
                const ManifestEntry *e = manifest_find(d->m, d->dir_list[i]);
                if (!e)
                        return builder_fail(d->b, -EIO, d->dir_list[i], "no manifest entry");
                r = metadata_apply_at(d->src_fd, rel(e->path), e);
                if (r < 0)
                        return builder_fail(d->b, r, e->path, "setting delta metadata");
        }
        if (!root)
                return builder_fail(d->b, -EIO, "/", "no manifest entry");
        r = metadata_apply_fd(d->src_fd, root);
        return r < 0 ? builder_fail(d->b, r, "/", "setting delta metadata") : 0;
}

static void tree_key_keep(void *p) {
        (void)p; /* the keys belong to dir_list */
}

static void delta_build_done(DeltaBuild *d) {
        tdestroy(d->dirs, tree_key_keep);
        tdestroy(d->refs, free);
        strv_free(d->dir_list);
        free(d->changed);
        free(d->deleted);
        safe_close(d->src_fd);
}

/* Writes entries (borrowed) as a manifest file of the staging directory. */
static int write_entry_list(ImageBuilder *b, const char *name, const ManifestEntry **list,
                            size_t n) {
        _cleanup_free_ ManifestEntry *copy = calloc(n ?: 1, sizeof *copy);
        Manifest tmp;

        if (!copy)
                return log_oom();
        for (size_t i = 0; i < n; i++)
                copy[i] = *list[i]; /* shallow: the strings stay the lists' */
        tmp = (Manifest){.entries = copy, .n = n, .allocated = n};
        return manifest_write_at(b->staging_fd, name, &tmp);
}

/* Reads the delta back from staging and composes it over its base: it must
 * describe the image id exactly, or the delta is not published. base_in is
 * the base's manifest the diff already read; it is consumed. */
static int delta_verify(ImageBuilder *b, const char *base_id, Manifest *base_in, const char *id) {
        _cleanup_(manifest_freep) Manifest *base = base_in, *changed = NULL, *deleted = NULL,
                                           *m = NULL;
        char got[DIGEST_HEX_SIZE];
        int r;

        r = manifest_read_at(b->staging_fd, "manifest", &changed);
        if (r >= 0) {
                r = manifest_read_at(b->staging_fd, "deleted", &deleted);
                if (r == -ENOENT)
                        r = (deleted = manifest_new()) ? 0 : -ENOMEM;
        }
        if (r >= 0) {
                assert(changed && deleted); /* manifest_read_at() set them */
                r = apply_delta(base, changed, deleted, &m);
        }
        if (r >= 0)
                r = manifest_id(m, got);
        if (r < 0)
                return log_error_errno(r, "%s: reading back the delta: %m", b->opts.what);
        if (!streq(got, id))
                return log_error_errno(EIO, "%s: the delta over %.12s describes %.12s, not %.12s",
                                       b->opts.what, base_id, got, id);
        return 0;
}

/* No delta of the chain links TOKEN.N (the first format's r.N never match),
 * and the base shows no /TOKEN.*, which the redirects would find first. */
static bool token_is_free(char **chain, const Manifest *base_m, const char *token) {
        size_t len = strlen(token);

        for (size_t i = 0; chain[i]; i++)
                if (strncmp(chain[i], token, len) == 0)
                        return false;
        for (size_t i = 0; i < base_m->n; i++) {
                const char *p = base_m->entries[i].path;
                if (p[0] == '/' && strncmp(p + 1, token, len) == 0 && p[len + 1] == '.')
                        return false;
        }
        return true;
}

static int staged_bad(const char *path, const char *why, void *userdata) {
        ImageBuilder *b = userdata;
        return log_error_errno(EIO, "%s: reading back the delta: %s: %s", b->opts.what, path, why);
}

/* The new delta mounted over its base: every file the chain's deltas provide
 * must read as the manifest says (a redirect can resolve to the wrong
 * object while every manifest is right). */
static int delta_read_back(ImageBuilder *b, char **chain, const DeltaBuild *d, const Manifest *m) {
        _cleanup_close_ int view = -EBADF;
        int r;

        r = open_view(b->store, b->staging_fd, chain, &view);
        if (r < 0)
                return r;
        return delta_check_content(b->store, chain, d->changed, d->n_changed, m, view, staged_bad,
                                   b);
}

int delta_prepare(ImageBuilder *b, const ImagePublish *p, const Manifest *m, const char *id,
                  char ret_base[static DIGEST_HEX_SIZE]) {
        _cleanup_(delta_build_done) DeltaBuild d = {.b = b, .m = m, .src_fd = -EBADF};
        _cleanup_(manifest_freep) Manifest *base_m = NULL;
        _cleanup_strv_free_ char **chain = NULL;
        _cleanup_free_ char *cand = NULL, *dir = NULL, *src = NULL, *out = NULL;
        Store *s = b->store;
        int r;

        assert(m && id);
        if (p && p->parent)
                cand = strdup(p->parent);
        else if (p && p->name) {
                r = catalog_newest_image_named(s->catalog, p->name, &cand);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
        } else
                return 0;
        if (!cand)
                return log_oom();
        if (streq(cand, id))
                return 0; /* the same image: publishing only moves the tag */
        if (has_whiteout_device(m))
                return 0;
        r = store_image_chain(s, cand, &chain);
        if (r < 0)
                return r;
        if (strv_length(chain) > DELTA_MAX_DEPTH)
                return 0;
        /* A delta of the old format reads wrong in some chains (fsck says
         * so): nothing new is stacked on it. */
        for (size_t i = 0; chain[i + 1]; i++) {
                r = delta_is_legacy(s, chain[i]);
                if (r < 0)
                        return log_error_errno(r, "image %.12s: %m", chain[i]);
                if (r > 0)
                        return 0;
        }
        r = delta_read_manifest(s, chain, &base_m);
        if (r < 0)
                return r;
        assert(base_m);
        if (has_whiteout_device(base_m))
                return 0;
        /* Short names keep the erofs small (each file's redirect holds
         * one); chains where they would be ambiguous are stored whole. */
        snprintf(d.token, sizeof d.token, "%.*s", DELTA_TOKEN_LEN, id);
        if (!token_is_free(chain, base_m, d.token))
                return 0;
        r = manifest_diff(base_m, m, delta_collect, &d);
        if (r < 0)
                return log_oom();
        if (d.n_changed + d.n_deleted > m->n / DELTA_MAX_CHANGED_DIVISOR)
                return 0;

        if (mkdirat(b->staging_fd, "delta-src", 0700) < 0)
                return log_error_errno(errno, "%s: making the delta: %m", b->opts.what);
        d.src_fd =
                openat(b->staging_fd, "delta-src", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d.src_fd < 0)
                return log_error_errno(errno, "%s: making the delta: %m", b->opts.what);
        for (size_t i = 0; i < d.n_changed; i++) {
                r = delta_entry(&d, d.changed[i]);
                if (r < 0)
                        return r == -ENOMEM ? log_oom() : r;
        }
        for (size_t i = 0; i < d.n_deleted; i++) {
                r = delta_whiteout(&d, d.deleted[i]);
                if (r < 0)
                        return r == -ENOMEM ? log_oom() : r;
        }
        r = delta_finish_dirs(&d);
        if (r < 0)
                return r;
        r = write_entry_list(b, "manifest", d.changed, d.n_changed);
        if (r >= 0 && d.n_deleted > 0)
                r = write_entry_list(b, "deleted", d.deleted, d.n_deleted);
        if (r < 0)
                return log_error_errno(r, "%s: writing the delta manifest: %m", b->opts.what);

        dir = path_join(s->path, "staging", b->staging_name);
        src = dir ? path_join(dir, "delta-src") : NULL;
        out = dir ? path_join(dir, "delta.erofs") : NULL;
        if (!src || !out)
                return log_oom();
        /* The metacopy files read as zeros of their size: compressed, with
         * the compressed tail packed into the inode, they cost a few bytes
         * each instead of their size. */
        r = run_mkfs_erofs((const char *const[]){"-zlz4hc", "-Eztailpacking", NULL}, out, src,
                           -EBADF, b->opts.what);
        if (r < 0)
                return r;
        if (fchmodat(b->staging_fd, "delta.erofs", 0444, 0) < 0)
                return log_error_errno(errno, "%s: making the delta: %m", b->opts.what);
        r = delta_verify(b, cand, TAKE_PTR(base_m), id);
        if (r >= 0)
                r = delta_read_back(b, chain, &d, m);
        if (r < 0)
                return r;
        d.src_fd = safe_close(d.src_fd);
        r = rm_rf_at(b->staging_fd, "delta-src");
        if (r >= 0)
                r = rm_rf_at(b->staging_fd, "root");
        if (r < 0)
                return log_error_errno(r, "%s: removing the staging tree: %m", b->opts.what);
        snprintf(ret_base, DIGEST_HEX_SIZE, "%s", cand);
        return 1;
}

int store_flatten_image(Store *s, const char *id) {
        _cleanup_(image_derive_freep) ImageDerive *d = NULL;
        char got[DIGEST_HEX_SIZE];
        int r;

        r = store_image_is_delta(s, id);
        if (r < 0)
                return r;
        if (r == 0) {
                /* Already whole (a crash after the swap): only the catalog lags. */
                r = catalog_begin(s->catalog);
                if (r >= 0)
                        r = catalog_set_image_base(s->catalog, id, NULL);
                if (r < 0) {
                        catalog_rollback(s->catalog);
                        return r;
                }
                return catalog_commit(s->catalog);
        }
        log_debug("store: making %.12s whole", id);
        r = image_derive_new(s, id, &d);
        if (r < 0)
                return r;
        r = image_derive_publish(d, &(ImagePublish){.flatten = true, .kind = "flatten"}, NULL, got);
        if (r < 0)
                return r;
        if (!streq(got, id))
                return log_error_errno(EIO, "image %.12s: its whole tree came out as %.12s", id,
                                       got);
        return 0;
}
