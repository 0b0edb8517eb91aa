/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-derive: a parent manifest plus recorded changes, merged in path
 * order into an ImageBuilder at publish.
 */
#include "store-derive.h"
#include "fsutil.h"
#include "store-internal.h"

#include <limits.h>
#include <search.h>
#include <sys/stat.h>

typedef struct Change {
        ManifestEntry e; /* path and metadata; a regular file's digest comes at publish */
        int src_rootfd;  /* put_at of a regular file: content at src_rel (borrowed fd) */
        char *src_rel;
        void *data; /* put_data */
        size_t len;
        bool dropped; /* removed again by a later remove() */
} Change;

struct ImageDerive {
        Store *store;
        char parent[DIGEST_HEX_SIZE];
        Manifest *manifest;
        int parent_rootfd;
        Change *changes;
        size_t n_changes, allocated;
        void *removed; /* tsearch of paths (char *) whose parent subtree is gone */
        size_t n_removed;
};

static int str_compare(const void *a, const void *b) {
        return strcmp(a, b);
}

int image_derive_new(Store *s, const char *parent_id, ImageDerive **ret) {
        ImageDerive *d;
        int r;

        d = calloc(1, sizeof *d);
        if (!d)
                return log_oom();
        d->store = s;
        d->parent_rootfd = -EBADF;
        snprintf(d->parent, sizeof d->parent, "%s", parent_id);
        r = store_read_manifest(s, parent_id, &d->manifest);
        if (r >= 0) {
                r = store_open_image_root(s, parent_id, &d->parent_rootfd);
                if (r < 0)
                        log_error_errno(r, "image %.12s: cannot open its tree: %m", parent_id);
        }
        if (r < 0) {
                image_derive_free(d);
                return r;
        }
        *ret = d;
        return 0;
}

ImageDerive *image_derive_free(ImageDerive *d) {
        if (!d)
                return NULL;
        for (size_t k = 0; k < d->n_changes; k++) {
                manifest_entry_done(&d->changes[k].e);
                free(d->changes[k].src_rel);
                free(d->changes[k].data);
        }
        free(d->changes);
        tdestroy(d->removed, free);
        manifest_free(d->manifest);
        safe_close(d->parent_rootfd);
        free(d);
        return NULL;
}

const Manifest *image_derive_parent(const ImageDerive *d) {
        return d->manifest;
}

static int count_path(DiffKind kind, const char *path, unsigned changes, const ManifestEntry *a,
                      const ManifestEntry *b, void *userdata) {
        size_t *n = userdata;

        (*n)++;
        return 0;
}

int image_derive_count_changes(const ImageDerive *d, const char *id, size_t *ret) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        size_t n = 0;
        int r;

        /* The recorded changes are not the answer: a walk of an upper layer
         * puts every directory it passes (copied up, mostly unchanged), and a
         * replaced path is both removed and put. The manifests are. */
        r = store_read_manifest(d->store, id, &m);
        if (r < 0)
                return log_error_errno(r, "image %.12s: cannot read its manifest: %m", id);
        r = manifest_diff(d->manifest, m, count_path, &n);
        if (r < 0)
                return r;
        *ret = n;
        return 0;
}

static int normalize(const char *path, char **ret) {
        if (!path_is_absolute(path))
                return -EINVAL;
        return path_normalize(path, ret);
}

/* Not a leak: tsearch() keeps p in d->removed (freed by tdestroy); gcc 12 does not see a const key
 * retained. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int add_removed(ImageDerive *d, const char *norm) {
        char *p, **found;

        if (tfind(norm, &d->removed, str_compare))
                return 0;
        p = strdup(norm);
        if (!p)
                return -ENOMEM;
        found = tsearch(p, &d->removed, str_compare);
        if (!found) {
                free(p);
                return -ENOMEM;
        }
        d->n_removed++;
        return 0;
}
#pragma GCC diagnostic pop

int image_derive_remove(ImageDerive *d, const char *path) {
        _cleanup_free_ char *norm = NULL;
        int r;

        r = normalize(path, &norm);
        if (r < 0)
                return log_error_errno(r, "derive: bad path %s", path);
        for (size_t k = 0; k < d->n_changes; k++)
                if (path_is_under(d->changes[k].e.path, norm))
                        d->changes[k].dropped = true;
        r = add_removed(d, norm);
        return r < 0 ? log_oom() : 0;
}

/* Not a leak: *c moves into d->changes; gcc 12 drops a realloc'd buffer's contents when it moves.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int push_change(ImageDerive *d, Change *c) {
        if (d->n_changes == d->allocated) {
                size_t na = d->allocated ? d->allocated * 2 : 64;
                Change *t = realloc(d->changes, na * sizeof *t);
                if (!t)
                        return -ENOMEM;
                d->changes = t;
                d->allocated = na;
        }
        d->changes[d->n_changes++] = *c;
        *c = (Change){};
        return 0;
}
#pragma GCC diagnostic pop

/* Drops overlayfs's own xattrs; refuses the ones that mean the data lives in
 * a lower layer. */
static int filter_xattrs(ManifestEntry *e) {
        size_t out = 0;

        for (size_t k = 0; k < e->n_xattrs; k++) {
                Xattr *x = &e->xattrs[k];
                const char *key = startswith(x->name, "trusted.overlay.")
                                          ?: startswith(x->name, "user.overlay.");
                if (!key) {
                        e->xattrs[out++] = *x;
                        continue;
                }
                if (streq(key, "redirect") || streq(key, "metacopy"))
                        return -EOPNOTSUPP;
                free(x->name);
                free(x->value);
        }
        e->n_xattrs = out;
        return 0;
}

int image_derive_put_at(ImageDerive *d, const char *path, int rootfd, const char *rel) {
        _cleanup_free_ char *norm = NULL, *parent = NULL;
        _cleanup_close_ int pfd = -EBADF, fd = -EBADF;
        Change c = {.src_rootfd = -EBADF};
        const char *name;
        struct stat st;
        int r;

        r = normalize(path, &norm);
        if (r < 0)
                return log_error_errno(r, "derive: bad path %s", path);
        /* The node's directory, in-root and without symlinks, then the node
         * itself by name, not followed. */
        name = strrchr(rel, '/');
        parent = name ? strndup(rel, name - rel) : strdup(".");
        name = name ? name + 1 : rel;
        if (!parent)
                return log_oom();
        if (isempty(name) || streq(name, ".")) {
                /* A tree's root: itself, through ".". */
                pfd = openat_in_root_nofollow(rootfd, rel, O_PATH | O_DIRECTORY, 0);
                name = ".";
        } else
                pfd = openat_in_root_nofollow(rootfd, parent, O_PATH | O_DIRECTORY, 0);
        if (pfd < 0)
                return log_error_errno(pfd, "derive %s: cannot open its directory: %m", norm);
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return log_error_errno(errno, "derive %s: %m", norm);

        c.e.mode = st.st_mode;
        c.e.uid = st.st_uid;
        c.e.gid = st.st_gid;
        c.e.mtime_sec = st.st_mtim.tv_sec;
        c.e.mtime_nsec = st.st_mtim.tv_nsec;
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                c.e.rdev = st.st_rdev;
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(pfd, name, target, sizeof target - 1);
                if (n < 0)
                        return log_error_errno(errno, "derive %s: %m", norm);
                target[n] = 0;
                c.e.target = strdup(target);
                if (!c.e.target)
                        return log_oom();
        }
        r = xattrs_read_at(pfd, name, &c.e.xattrs, &c.e.n_xattrs);
        if (r >= 0)
                r = filter_xattrs(&c.e);
        if (r == -EOPNOTSUPP)
                r = log_error_errno(r, "derive %s: an overlayfs redirect or metacopy entry: %m",
                                    norm);
        else if (r < 0)
                r = log_error_errno(r, "derive %s: cannot read its xattrs: %m", norm);
        if (r < 0) {
                manifest_entry_done(&c.e);
                return r;
        }
        if (S_ISREG(st.st_mode)) {
                c.src_rootfd = rootfd;
                c.src_rel = strdup(rel);
                if (!c.src_rel) {
                        manifest_entry_done(&c.e);
                        return log_oom();
                }
        }
        c.e.path = TAKE_PTR(norm);
        if (!S_ISDIR(st.st_mode)) {
                r = add_removed(d, c.e.path);
                if (r < 0) {
                        manifest_entry_done(&c.e);
                        free(c.src_rel);
                        return log_oom();
                }
        }
        r = push_change(d, &c);
        if (r < 0) {
                manifest_entry_done(&c.e);
                free(c.src_rel);
                return log_oom();
        }
        return 0;
}

static int entry_dup(const ManifestEntry *e, ManifestEntry *ret) {
        ManifestEntry c = *e;

        c.path = e->path ? strdup(e->path) : NULL;
        c.target = e->target ? strdup(e->target) : NULL;
        c.link = NULL;
        c.xattrs = NULL;
        if ((e->path && !c.path) || (e->target && !c.target) ||
            xattrs_copy(e->xattrs, e->n_xattrs, &c.xattrs) < 0) {
                free(c.path);
                free(c.target);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int image_derive_put_data(ImageDerive *d, const char *path, const ManifestEntry *meta,
                          const void *data, size_t len) {
        _cleanup_free_ char *norm = NULL;
        Change c = {.src_rootfd = -EBADF};
        int r;

        r = normalize(path, &norm);
        if (r < 0)
                return log_error_errno(r, "derive: bad path %s", path);
        if (entry_dup(meta, &c.e) < 0)
                return log_oom();
        free(c.e.path);
        c.e.path = TAKE_PTR(norm);
        c.e.mode = S_IFREG | (meta->mode & 07777);
        c.e.target = NULL;
        c.data = malloc(len + 1);
        if (!c.data) {
                manifest_entry_done(&c.e);
                return log_oom();
        }
        memcpy(c.data, data, len);
        c.len = len;
        r = add_removed(d, c.e.path);
        if (r >= 0)
                r = push_change(d, &c);
        if (r < 0) {
                manifest_entry_done(&c.e);
                free(c.data);
                return log_oom();
        }
        return 0;
}

/* True if the parent's path is gone: it or one of its ancestors removed. */
static bool parent_path_removed(const ImageDerive *d, const char *path) {
        _cleanup_free_ char *p = NULL;

        if (d->n_removed == 0)
                return false;
        p = strdup(path);
        if (!p)
                return true; /* fails later, loudly, at the builder */
        for (;;) {
                char *slash;
                if (tfind(p, &d->removed, str_compare))
                        return true;
                slash = strrchr(p, '/');
                if (!slash || slash == p) {
                        if (streq(p, "/"))
                                return false;
                        p[1] = 0; /* "/x" -> "/" */
                        continue;
                }
                *slash = 0;
        }
}

static int change_compare(const void *a, const void *b) {
        const Change *x = *(Change *const *)a, *y = *(Change *const *)b;
        int c = strcmp(x->e.path, y->e.path);
        if (c != 0)
                return c;
        /* The later put of a path wins: keep insertion order for ties. */
        return x < y ? -1 : x > y;
}

static int change_path_compare(const void *a, const void *b) {
        return strcmp((*(Change *const *)a)->e.path, (*(Change *const *)b)->e.path);
}

/* A hardlink group whose first path is gone or replaced goes on under the
 * first of its other paths: old first path -> new one. */
typedef struct Leader {
        const char *old; /* borrowed from the parent's manifest */
        const char *now;
} Leader;

static int leader_compare(const void *a, const void *b) {
        return strcmp(((const Leader *)a)->old, ((const Leader *)b)->old);
}

/* Not a leak: tsearch() keeps l in *leaders (freed by tdestroy); gcc 12 does
 * not see it retained. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int add_parent_entry(ImageDerive *d, ImageBuilder *b, const ManifestEntry *pe, Change **puts,
                            size_t n_puts, void **leaders) {
        ManifestEntry e;
        Leader key, *l, **found;
        int r;

        if (S_ISREG(pe->mode) && pe->link && !streq(pe->link, pe->path)) {
                Change ck = {.e.path = pe->link}, *kp = &ck;
                if (!parent_path_removed(d, pe->link) &&
                    !bsearch(&kp, puts, n_puts, sizeof *puts, change_path_compare))
                        return image_builder_add_hardlink(b, pe->path, pe->link);
                key.old = pe->link;
                found = tfind(&key, leaders, leader_compare);
                if (found)
                        return image_builder_add_hardlink(b, pe->path, (*found)->now);
                l = malloc(sizeof *l);
                if (!l)
                        return log_oom();
                *l = (Leader){.old = pe->link, .now = pe->path};
                if (!tsearch(l, leaders, leader_compare)) {
                        free(l);
                        return log_oom();
                }
        }
        r = entry_dup(pe, &e);
        if (r < 0)
                return log_oom();
        if (S_ISREG(e.mode))
                r = image_builder_add_known_file(b, &e, d->parent_rootfd);
        else
                r = image_builder_add(b, &e);
        manifest_entry_done(&e);
        return r;
}
#pragma GCC diagnostic pop

static int add_change(ImageBuilder *b, Change *c) {
        ManifestEntry e;
        int r;

        r = entry_dup(&c->e, &e);
        if (r < 0)
                return log_oom();
        if (!S_ISREG(e.mode))
                r = image_builder_add(b, &e);
        else if (c->data || c->src_rel == NULL) {
                r = image_builder_begin_file(b, &e);
                if (r >= 0)
                        r = image_builder_write(b, c->data, c->len);
                if (r >= 0)
                        r = image_builder_end_file(b);
        } else {
                _cleanup_close_ int fd = openat_in_root_nofollow(
                        c->src_rootfd, c->src_rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
                if (fd < 0)
                        r = log_error_errno(fd, "derive %s: cannot open it: %m", c->e.path);
                else
                        r = image_builder_add_file_fd(b, &e, fd);
        }
        manifest_entry_done(&e);
        return r;
}

int image_derive_publish(ImageDerive *d, const ImagePublish *p, Progress *progress,
                         char ret_id[static DIGEST_HEX_SIZE]) {
        _cleanup_(image_builder_freep) ImageBuilder *b = NULL;
        _cleanup_free_ Change **puts = NULL;
        ImageBuilderOptions o = {.what = "derive", .progress = progress};
        ImagePublish pub = p ? *p : (ImagePublish){};
        const Manifest *m = d->manifest;
        size_t n_puts = 0, i = 0, j = 0;
        void *leaders = NULL;
        int r;

        puts = calloc(d->n_changes + 1, sizeof *puts);
        if (!puts)
                return log_oom();
        for (size_t k = 0; k < d->n_changes; k++)
                if (!d->changes[k].dropped)
                        puts[n_puts++] = &d->changes[k];
        qsort(puts, n_puts, sizeof *puts, change_compare);
        /* Of several puts of one path, the last. */
        {
                size_t out = 0;
                for (size_t k = 0; k < n_puts; k++) {
                        if (k + 1 < n_puts && streq(puts[k]->e.path, puts[k + 1]->e.path))
                                continue;
                        puts[out++] = puts[k];
                }
                n_puts = out;
        }

        o.kind = pub.kind;
        r = image_builder_new(d->store, &o, &b);
        if (r < 0)
                return r;
        while (i < m->n || j < n_puts) {
                const ManifestEntry *pe = i < m->n ? &m->entries[i] : NULL;
                int c = !pe ? 1 : j >= n_puts ? -1 : strcmp(pe->path, puts[j]->e.path);

                if (c < 0) {
                        i++;
                        if (parent_path_removed(d, pe->path))
                                continue;
                        r = add_parent_entry(d, b, pe, puts, n_puts, &leaders);
                } else {
                        if (c == 0)
                                i++;
                        r = add_change(b, puts[j++]);
                }
                if (r < 0)
                        break;
        }
        tdestroy(leaders, free);
        if (r < 0)
                return r;
        if (!pub.flatten)
                pub.parent = d->parent;
        return image_builder_publish(b, &pub, ret_id);
}
