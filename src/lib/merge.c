/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * merge: the walk over an instance's layers, the upgrade plan (the merge table
 * of DESIGN.md §5) and the diff against the image.
 *
 * The walk visits every entry of every layer, fd-relative and without ever
 * following a symlink, and looks each path up in the old and the new image.
 * Below a directory that replaces the image's (an opaque directory, or the
 * root of a bound state directory) the image's entries that the layer lacks are
 * visited too, as deletions: they were hidden from the instance.
 */
#include "merge-internal.h"
#include "fsutil.h"
#include "textmerge.h"
#include "util.h"

typedef struct Item {
        MergeNode n[3]; /* OURS, BASE, THEIRS; ours is ABSENT for a deletion */
        const char *path;
        const char *rel;
        const char *name; /* NULL for a layer's root */
        int parentfd;     /* ours' parent directory in the old layer, or -EBADF */
        int fd;           /* a directory's own fd in the old layer, or -EBADF */
        bool whiteout;    /* ours is an overlay whiteout */
        bool hidden;      /* an image entry hidden by a replacing directory */
        bool opaque;      /* ours is an overlay directory with the opaque marker */
        bool replace;     /* the parent replaces the image's directory */
        bool root;
} Item;

typedef struct Walker Walker;
struct Walker {
        const MergeTree *base, *theirs; /* theirs is NULL for a diff */
        const MergeLayer *layer;
        size_t layer_idx;
        /* Non-directories, deletions: returns 1 if the new layer needs the path. */
        int (*visit)(Walker *w, Item *it);
        /* Directories, before and after their contents; leave() returns 1 if
         * the new layer needs the directory. */
        int (*enter)(Walker *w, Item *it, size_t *cookie);
        int (*leave)(Walker *w, Item *it, size_t cookie, bool children_needed);
        void *userdata;
};

static int item_lookup(Walker *w, Item *it) {
        int r;

        r = merge_tree_lookup(w->base, it->path, &it->n[BASE]);
        if (r < 0)
                return log_error_errno(r, "failed to look up %s in the old image: %m", it->path);
        r = merge_tree_lookup(w->theirs, it->path, &it->n[THEIRS]);
        if (r < 0)
                return log_error_errno(r, "failed to look up %s in the new image: %m", it->path);
        return 0;
}

static int item_digest(Walker *w, Item *it, int which) {
        MergeNode *n = &it->n[which];
        int r;

        if (n->type != MERGE_NODE_REG || n->has_digest)
                return 0;
        if (which == OURS) {
                _cleanup_close_ int fd =
                        openat(it->parentfd, it->name,
                               O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                r = fd < 0 ? -errno : merge_content_digest_fd(fd, n->digest);
                if (r < 0)
                        return log_error_errno(r, "failed to hash %s in the instance state: %m",
                                               it->path);
                n->has_digest = true;
                return 0;
        }
        r = merge_tree_digest(which == BASE ? w->base : w->theirs, it->path, n);
        if (r < 0)
                return log_error_errno(r, "failed to hash %s in the %s image: %m", it->path,
                                       which == BASE ? "old" : "new");
        return 0;
}

static bool meta_equal(const MergeNode *a, const MergeNode *b) {
        return a->type == b->type && a->mode == b->mode && a->uid == b->uid && a->gid == b->gid &&
               streq(a->xattr_digest, b->xattr_digest);
}

/* Same type and content (directories have none). 1, 0 or -errno. */
static int content_equal(Walker *w, Item *it, int a, int b) {
        MergeNode *x = &it->n[a], *y = &it->n[b];
        int r;

        if (x->type != y->type)
                return 0;
        if (x->type == MERGE_NODE_ABSENT || x->type == MERGE_NODE_DIR)
                return 1;
        if (x->type == MERGE_NODE_REG && x->size != y->size)
                return 0;
        r = item_digest(w, it, a);
        if (r < 0)
                return r;
        r = item_digest(w, it, b);
        if (r < 0)
                return r;
        return streq(x->digest, y->digest);
}

/* Content and metadata: "unchanged" in the merge table. */
static int node_equal(Walker *w, Item *it, int a, int b) {
        if (!meta_equal(&it->n[a], &it->n[b]))
                return 0;
        return content_equal(w, it, a, b);
}

static int walk_dir(Walker *w, Item *dir);

static int walk_child(Walker *w, Item *dir, const char *name, bool in_ours, bool replace) {
        _cleanup_free_ char *path = NULL, *rel = NULL;
        _cleanup_close_ int pathfd = -EBADF, dfd = -EBADF;
        Item it = {.name = name, .parentfd = -EBADF, .fd = -EBADF, .replace = replace};
        size_t cookie = 0;
        int r;

        path = path_join(dir->path, name);
        rel = dir->root ? strdup(name) : path_join(dir->rel, name);
        if (!path || !rel)
                return log_oom();
        it.path = path;
        it.rel = rel;

        if (in_ours) {
                bool unsupported = false;
                struct stat st;

                it.parentfd = dir->fd;
                pathfd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (pathfd < 0 || fstat(pathfd, &st) < 0)
                        return log_error_errno(
                                errno, "failed to inspect %s in the instance state: %m", path);
                r = merge_node_from_fd(pathfd, &st, &it.n[OURS], &unsupported);
                if (r < 0)
                        return log_error_errno(r, "failed to inspect %s in the instance state: %m",
                                               path);
                /* Copying such an entry would lose the data it borrows from the
                 * old lower layer. goldroot never mounts with these features. */
                if (unsupported && w->layer->kind == MERGE_LAYER_OVERLAY)
                        return log_error_errno(
                                EOPNOTSUPP,
                                "cannot merge %s: an overlayfs redirect or metacopy entry: %m",
                                path);
                if (w->layer->kind == MERGE_LAYER_OVERLAY && S_ISCHR(st.st_mode) &&
                    st.st_rdev == 0) {
                        it.whiteout = true;
                        it.n[OURS] = (MergeNode){.type = MERGE_NODE_ABSENT};
                } else if (S_ISDIR(st.st_mode)) {
                        dfd = openat(dir->fd, name,
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (dfd < 0)
                                return log_error_errno(
                                        errno, "failed to open %s in the instance state: %m", path);
                        it.fd = dfd;
                        it.opaque =
                                w->layer->kind == MERGE_LAYER_OVERLAY && merge_fd_is_opaque(dfd);
                }
        } else
                it.hidden = true;

        r = item_lookup(w, &it);
        if (r < 0)
                return r;
        if (it.fd < 0)
                return w->visit(w, &it);
        r = w->enter(w, &it, &cookie);
        if (r < 0)
                return r;
        r = walk_dir(w, &it);
        if (r < 0)
                return r;
        return w->leave(w, &it, cookie, r > 0);
}

/* Merges the names of t's directory path into *l; both are sorted with
 * strcmp, and so is the union, without duplicates. */
static int list_union(const MergeTree *t, const char *path, char ***l) {
        _cleanup_strv_free_ char **names = NULL, **out = NULL;
        char **a = *l;
        size_t i = 0, j = 0, n = 0;
        int r;

        r = t->list(t->userdata, path, &names);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        out = calloc(strv_length(a) + strv_length(names) + 1, sizeof *out);
        if (!out)
                return -ENOMEM;
        /* Every name is moved or freed: the NULLs left behind end no strv early. */
        while ((a && a[i]) || names[j]) {
                int c = !(a && a[i]) ? 1 : !names[j] ? -1 : strcmp(a[i], names[j]);
                char **from = c <= 0 ? &a[i++] : &names[j++];

                if (c == 0) {
                        free(names[j]);
                        names[j++] = NULL;
                }
                out[n++] = TAKE_PTR(*from);
        }
        strv_free(*l);
        *l = TAKE_PTR(out);
        return 0;
}

static int walk_dir(Walker *w, Item *dir) {
        _cleanup_strv_free_ char **ours = NULL, **hidden = NULL;
        bool replace =
                dir->replace || dir->opaque || (dir->root && w->layer->kind == MERGE_LAYER_BIND);
        bool needed = false;
        size_t i = 0, j = 0;
        int r;

        r = merge_list_dirfd(dir->fd, &ours);
        if (r < 0)
                return log_error_errno(r, "failed to read %s in the instance state: %m", dir->path);
        if (replace && dir->n[BASE].type == MERGE_NODE_DIR && w->base->list) {
                r = w->base->list(w->base->userdata, dir->path, &hidden);
                if (r < 0 && r != -ENOENT)
                        return log_error_errno(r, "failed to list %s in the old image: %m",
                                               dir->path);
        }
        /* What the new image adds here is hidden too, and must be reported. */
        if (replace && w->theirs && dir->n[THEIRS].type == MERGE_NODE_DIR) {
                r = list_union(w->theirs, dir->path, &hidden);
                if (r < 0)
                        return log_error_errno(r, "failed to list %s in the new image: %m",
                                               dir->path);
        }
        while (ours[i] || (hidden && hidden[j])) {
                const char *name;
                bool in_ours = true;
                int c = !ours[i] ? 1 : !(hidden && hidden[j]) ? -1 : strcmp(ours[i], hidden[j]);

                if (c < 0)
                        name = ours[i++];
                else if (c > 0) {
                        name = hidden[j++];
                        in_ours = false;
                } else {
                        name = ours[i++];
                        j++;
                }
                r = walk_child(w, dir, name, in_ours, replace);
                if (r < 0)
                        return r;
                needed = needed || r > 0;
        }
        return needed;
}

static int walk_layer(Walker *w) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        Item it = {.rel = ".", .root = true, .parentfd = -EBADF};
        struct stat st;
        size_t cookie = 0;
        int r;

        r = path_normalize(w->layer->path, &path);
        if (r < 0 || !path_is_absolute(path))
                return log_error_errno(r < 0 ? r : -EINVAL, "invalid layer path %s: %m",
                                       w->layer->path);
        it.path = path;
        fd = openat(w->layer->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return log_error_errno(errno, "failed to open the state layer for %s: %m", path);
        r = merge_node_from_fd(fd, &st, &it.n[OURS], NULL);
        if (r < 0)
                return log_error_errno(r, "failed to inspect the state layer for %s: %m", path);
        it.fd = fd;
        it.opaque = w->layer->kind == MERGE_LAYER_OVERLAY && merge_fd_is_opaque(fd);
        r = item_lookup(w, &it);
        if (r < 0)
                return r;
        r = w->enter(w, &it, &cookie);
        if (r < 0)
                return r;
        r = walk_dir(w, &it);
        if (r < 0)
                return r;
        r = w->leave(w, &it, cookie, r > 0);
        return r < 0 ? r : 0;
}

/* The plan. */

typedef struct Planner {
        MergeReport *report;
        size_t cap;
        /* Earlier .goldnew files that a new one replaces (see set_side()). */
        char **replaced;
} Planner;

static int push_entry(Walker *w, const Item *it, size_t *ret) {
        Planner *p = w->userdata;
        MergeReport *rep = p->report;
        MergeEntry *e;

        if (rep->n_entries == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 64;
                MergeEntry *t = realloc(rep->entries, cap * sizeof(MergeEntry));
                if (!t)
                        return log_oom();
                rep->entries = t;
                p->cap = cap;
        }
        e = &rep->entries[rep->n_entries];
        *e = (MergeEntry){
                .layer = w->layer_idx,
                .ours_type = it->n[OURS].type,
                .theirs_type = it->n[THEIRS].type,
                .opaque = it->opaque,
                .path = strdup(it->path),
                .rel = strdup(it->rel),
        };
        if (!e->path || !e->rel) {
                free(e->path);
                free(e->rel);
                return log_oom();
        }
        *ret = rep->n_entries++;
        return 0;
}

static void set_outcome(MergeEntry *e, MergeOutcome o, const char *reason, int action) {
        e->outcome = o;
        e->reason = reason;
        e->action = action;
}

/* Whether ours' entry name (beside it) is what an earlier upgrade wrote as
 * its .goldnew and nobody touched since: theirs of then, which is base now,
 * content and metadata. Such a file holds no local data. 1, 0 or -errno. */
static int is_stale_goldnew(Walker *w, Item *it, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        MergeNode n;
        struct stat st;
        int r;

        if (it->n[BASE].type != MERGE_NODE_REG && it->n[BASE].type != MERGE_NODE_LNK)
                return 0;
        fd = openat(it->parentfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        r = merge_node_from_fd(fd, &st, &n, NULL);
        if (r < 0)
                return r;
        if (!meta_equal(&n, &it->n[BASE]) || n.size != it->n[BASE].size)
                return 0;
        r = item_digest(w, it, BASE);
        if (r < 0)
                return r;
        if (n.type == MERGE_NODE_REG) {
                _cleanup_close_ int data =
                        openat(it->parentfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                r = data < 0 ? -errno : merge_content_digest_fd(data, n.digest);
                if (r < 0)
                        return r;
        }
        return streq(n.digest, it->n[BASE].digest);
}

/* The name of the file written beside a conflict: PATH.goldnew or
 * PATH.goldsave, unless ours or theirs has something there; then the first
 * free PATH.goldnew.N or PATH.goldsave.N. What ours has there is local data
 * (an earlier .goldsave, a directory of that name, ...) and is kept as it is;
 * only an earlier .goldnew that still holds the old image's version is
 * replaced. Decided here, so that a dry run reports the same name. */
static int set_side(Walker *w, Item *it, MergeEntry *e, int side) {
        Planner *p = w->userdata;
        const char *suffix = side == SIDE_GOLDNEW ? ".goldnew" : ".goldsave";
        int r;

        assert(it->parentfd >= 0 && it->name);
        e->side = side;
        for (unsigned k = 0;; k++) {
                _cleanup_free_ char *name = NULL, *path = NULL;
                MergeNode t;
                struct stat st;

                if ((k == 0 ? asprintf_safe(&name, "%s%s", it->name, suffix)
                            : asprintf_safe(&name, "%s%s.%u", it->name, suffix, k)) < 0)
                        return log_oom();
                path = strjoin(it->path, name + strlen(it->name));
                if (!path)
                        return log_oom();
                r = merge_tree_lookup(w->theirs, path, &t);
                if (r < 0)
                        return log_error_errno(r, "failed to look up %s in the new image: %m",
                                               path);
                if (t.type != MERGE_NODE_ABSENT)
                        continue;
                if (fstatat(it->parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT)
                                return log_error_errno(
                                        errno, "failed to inspect %s in the instance state: %m",
                                        path);
                } else {
                        if (side != SIDE_GOLDNEW)
                                continue;
                        r = is_stale_goldnew(w, it, name);
                        if (r < 0)
                                return log_error_errno(
                                        r, "failed to inspect %s in the instance state: %m", path);
                        if (r == 0)
                                continue;
                        if (strv_extend(&p->replaced, path) < 0)
                                return log_oom();
                }
                e->side_path = TAKE_PTR(path);
                return 0;
        }
}

static int read_tree_file(const MergeTree *t, const char *path, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = t->open(t->userdata, path, O_RDONLY);
        if (fd < 0)
                return fd;
        return merge_read_fd(fd, MERGE_TEXT_MAX, ret, ret_len);
}

/* The merge policy on a regular file both sides changed. Returns 1 with the
 * merged text in e, 0 if it does not merge cleanly (e->reason says why). */
static int try_text_merge(Walker *w, Item *it, MergeEntry *e) {
        _cleanup_free_ char *o = NULL, *b = NULL, *t = NULL, *out = NULL;
        size_t ol = 0, bl = 0, tl = 0, outl = 0;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (meta_equal(&it->n[OURS], &it->n[BASE]))
                e->meta_ours = false;
        else if (meta_equal(&it->n[THEIRS], &it->n[BASE]) ||
                 meta_equal(&it->n[OURS], &it->n[THEIRS]))
                e->meta_ours = true;
        else {
                e->reason = "mode, owner or xattrs changed on both sides";
                return 0;
        }
        if (it->n[OURS].size > MERGE_TEXT_MAX || it->n[THEIRS].size > MERGE_TEXT_MAX ||
            it->n[BASE].size > MERGE_TEXT_MAX) {
                e->reason = "too large to merge";
                return 0;
        }
        fd = openat(it->parentfd, it->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        r = fd < 0 ? -errno : merge_read_fd(fd, MERGE_TEXT_MAX, &o, &ol);
        if (r < 0)
                return log_error_errno(r, "failed to read %s in the instance state: %m", it->path);
        if (it->n[BASE].type == MERGE_NODE_REG) {
                r = read_tree_file(w->base, it->path, &b, &bl);
                if (r < 0)
                        return log_error_errno(r, "failed to read %s in the old image: %m",
                                               it->path);
        }
        r = read_tree_file(w->theirs, it->path, &t, &tl);
        if (r < 0)
                return log_error_errno(r, "failed to read %s in the new image: %m", it->path);

        r = text_merge3(b ? b : "", bl, o, ol, t, tl, &out, &outl);
        if (r == -EMEDIUMTYPE) {
                e->reason = "binary content";
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "failed to merge %s: %m", it->path);
        if (r > 0) {
                e->hunks = r;
                e->reason = "conflicting changes";
                return 0;
        }
        e->merged = TAKE_PTR(out);
        e->merged_len = outl;
        return 1;
}

static const char *ours_changed_reason(const Item *it) {
        if (it->n[BASE].type == MERGE_NODE_ABSENT)
                return "local addition";
        if (it->opaque && it->n[BASE].type == MERGE_NODE_DIR)
                return "replaces the image directory";
        return "local change";
}

/* Both sides changed a path that ours still has and theirs has or removed. */
static int plan_both_changed(Walker *w, Item *it, MergeEntry *e, MergePolicy policy) {
        MergeNodeType tt = it->n[THEIRS].type;
        bool dir = it->n[OURS].type == MERGE_NODE_DIR;
        int r;

        if (tt == MERGE_NODE_ABSENT) {
                if (policy == MERGE_POLICY_THEIRS) {
                        set_outcome(e, MERGE_CONFLICT_THEIRS, "removed in the image", ACTION_NONE);
                        return dir ? 0 : set_side(w, it, e, SIDE_GOLDSAVE);
                }
                set_outcome(e, MERGE_CONFLICT_LOCAL, "removed in the image", ACTION_OURS);
                return 0;
        }
        if (policy == MERGE_POLICY_MERGE && tt == MERGE_NODE_REG) {
                r = try_text_merge(w, it, e);
                if (r < 0)
                        return r;
                if (r > 0) {
                        set_outcome(e, MERGE_MERGED, "clean line merge", ACTION_MERGED);
                        return 0;
                }
                set_outcome(e, MERGE_CONFLICT_LOCAL, e->reason, ACTION_OURS);
                return set_side(w, it, e, SIDE_GOLDNEW);
        }
        if (policy == MERGE_POLICY_THEIRS) {
                /* Outside a replacing directory, dropping ours lets theirs show;
                 * a directory is written anyway, for its opaque marker. */
                set_outcome(e, MERGE_CONFLICT_THEIRS, "changed in the image too",
                            it->replace || dir ? ACTION_THEIRS : ACTION_NONE);
                return dir ? 0 : set_side(w, it, e, SIDE_GOLDSAVE);
        }
        set_outcome(e, MERGE_CONFLICT_LOCAL, "changed in the image too", ACTION_OURS);
        return dir ? 0 : set_side(w, it, e, SIDE_GOLDNEW);
}

/* Whether theirs added or changed anything below path, where base and theirs
 * both have a directory (removals do not count: both sides agree on those).
 * 1, 0 or -errno. */
static int theirs_changed_below(Walker *w, const char *path) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = w->theirs->list(w->theirs->userdata, path, &names);
        if (r < 0)
                return log_error_errno(r, "failed to list %s in the new image: %m", path);
        for (char **k = names; *k; k++) {
                _cleanup_free_ char *child = path_join(path, *k);
                MergeNode b, t;

                if (!child)
                        return log_oom();
                r = merge_tree_lookup(w->base, child, &b);
                if (r >= 0)
                        r = merge_tree_lookup(w->theirs, child, &t);
                if (r < 0)
                        return log_error_errno(r, "failed to look up %s: %m", child);
                if (!meta_equal(&b, &t))
                        return 1;
                if (t.type == MERGE_NODE_DIR) {
                        r = theirs_changed_below(w, child);
                        if (r != 0)
                                return r;
                        continue;
                }
                if (t.type == MERGE_NODE_REG && t.size != b.size)
                        return 1;
                r = merge_tree_digest(w->base, child, &b);
                if (r >= 0)
                        r = merge_tree_digest(w->theirs, child, &t);
                if (r < 0)
                        return log_error_errno(r, "failed to hash %s: %m", child);
                if (!streq(b.digest, t.digest))
                        return 1;
        }
        return 0;
}

/* Theirs unchanged against base, for a path ours does not walk into (a
 * deletion, a hidden entry, a non-directory): a directory then changed if
 * anything below it did. 1, 0 or -errno. */
static int theirs_unchanged(Walker *w, Item *it) {
        int r = node_equal(w, it, THEIRS, BASE);

        if (r <= 0 || it->n[THEIRS].type != MERGE_NODE_DIR)
                return r;
        r = theirs_changed_below(w, it->path);
        return r < 0 ? r : !r;
}

/* Lists what theirs added or changed below a directory that ours deleted or
 * hides, each with outcome o (the directory's own conflict decides what is
 * written; these entries only report). */
static int report_below(Walker *w, const char *path, const char *rel, MergeOutcome o) {
        Planner *p = w->userdata;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = w->theirs->list(w->theirs->userdata, path, &names);
        if (r < 0)
                return log_error_errno(r, "failed to list %s in the new image: %m", path);
        for (char **k = names; *k; k++) {
                _cleanup_free_ char *child = path_join(path, *k), *crel = path_join(rel, *k);
                Item it = {.path = child, .rel = crel, .hidden = true};
                size_t idx;
                bool changed;

                if (!child || !crel)
                        return log_oom();
                r = merge_tree_lookup(w->base, child, &it.n[BASE]);
                if (r >= 0)
                        r = merge_tree_lookup(w->theirs, child, &it.n[THEIRS]);
                if (r < 0)
                        return log_error_errno(r, "failed to look up %s: %m", child);
                changed = it.n[BASE].type == MERGE_NODE_ABSENT;
                if (!changed && it.n[THEIRS].type == MERGE_NODE_DIR)
                        changed = !meta_equal(&it.n[BASE], &it.n[THEIRS]);
                else if (!changed) {
                        r = node_equal(w, &it, THEIRS, BASE);
                        if (r < 0)
                                return r;
                        changed = !r;
                }
                if (changed) {
                        r = push_entry(w, &it, &idx);
                        if (r < 0)
                                return r;
                        set_outcome(&p->report->entries[idx], o,
                                    it.n[BASE].type == MERGE_NODE_ABSENT ? "added in the image"
                                                                         : "changed in the image",
                                    ACTION_NONE);
                }
                if (it.n[THEIRS].type == MERGE_NODE_DIR) {
                        r = report_below(w, child, crel, o);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* Deleted locally (or hidden by a replacing directory) and changed or added
 * by the image: a conflict. theirs restores it (outside a replacing directory
 * dropping the whiteout is enough); else it stays deleted. Below a directory,
 * every path the image added or changed is reported too. */
static int plan_deleted_conflict(Walker *w, Item *it, MergeEntry *e, const char *reason) {
        Planner *p = w->userdata;
        int needed, r;

        if (p->report->policy == MERGE_POLICY_THEIRS)
                set_outcome(e, MERGE_RESTORED, reason,
                            it->replace ? ACTION_THEIRS_TREE : ACTION_NONE);
        else
                set_outcome(e, MERGE_CONFLICT_DELETED, reason,
                            it->whiteout ? ACTION_OURS : ACTION_NONE);
        needed = e->action != ACTION_NONE;
        if (it->n[THEIRS].type == MERGE_NODE_DIR) {
                r = report_below(w, it->path, it->rel, e->outcome); /* moves e */
                if (r < 0)
                        return r;
        }
        return needed;
}

static int plan_visit(Walker *w, Item *it) {
        Planner *p = w->userdata;
        MergePolicy policy = p->report->policy;
        MergeNodeType ot = it->n[OURS].type, bt = it->n[BASE].type, tt = it->n[THEIRS].type;
        bool deleted = it->whiteout || it->hidden;
        MergeEntry *e;
        size_t idx = 0;
        int r;

        r = push_entry(w, it, &idx);
        if (r < 0)
                return r;
        e = &p->report->entries[idx];

        /* Visited after the conflict beside it ("a" sorts before "a.goldnew"). */
        if (strv_contains(p->replaced, it->path)) {
                set_outcome(e, MERGE_DROP, "the last upgrade's .goldnew, replaced", ACTION_NONE);
                return 0;
        }
        if (ot == MERGE_NODE_FIFO || ot == MERGE_NODE_SOCK || ot == MERGE_NODE_CHR ||
            ot == MERGE_NODE_BLK) {
                r = theirs_unchanged(w, it);
                if (r < 0)
                        return r;
                if (tt != MERGE_NODE_ABSENT && tt != ot && !r)
                        set_outcome(e, MERGE_TYPE_CONFLICT, "the image put something else there",
                                    ACTION_NONE);
                else
                        set_outcome(e, MERGE_CARRY, merge_node_type_to_string(ot), ACTION_OURS);
                return 1;
        }
        /* Below a replacing directory what the image adds stays hidden: the
         * same conflict as a change to what it hides. */
        if (it->hidden && bt == MERGE_NODE_ABSENT && tt != MERGE_NODE_ABSENT)
                return plan_deleted_conflict(w, it, e, "added in the image, hidden locally");

        r = node_equal(w, it, OURS, BASE);
        if (r < 0)
                return r;
        if (r) {
                /* Below a replacing directory nothing shows through: theirs is
                 * written in place of the unchanged copy. */
                set_outcome(e, MERGE_DROP, deleted ? "nothing to delete" : "unchanged copy-up",
                            it->replace && !deleted && tt != MERGE_NODE_ABSENT ? ACTION_THEIRS
                                                                               : ACTION_NONE);
                return e->action != ACTION_NONE;
        }

        r = theirs_unchanged(w, it);
        if (r < 0)
                return r;
        if (r) {
                if (deleted)
                        set_outcome(e, MERGE_DELETED, "stays deleted",
                                    it->whiteout ? ACTION_OURS : ACTION_NONE);
                else
                        set_outcome(e, MERGE_KEEP, ours_changed_reason(it), ACTION_OURS);
                return e->action != ACTION_NONE;
        }

        r = node_equal(w, it, OURS, THEIRS);
        if (r < 0)
                return r;
        if (r) {
                set_outcome(e, MERGE_DROP,
                            deleted ? "deleted in the image too" : "the image made the same change",
                            it->replace && !deleted ? ACTION_THEIRS : ACTION_NONE);
                return e->action != ACTION_NONE;
        }

        if (!deleted && tt != MERGE_NODE_ABSENT && ot != tt) {
                set_outcome(e, MERGE_TYPE_CONFLICT, "both changed, to different types",
                            ACTION_NONE);
                return 0;
        }
        if (deleted)
                return plan_deleted_conflict(w, it, e, "deleted locally, changed in the image");
        r = plan_both_changed(w, it, e, policy);
        if (r < 0)
                return r;
        return e->action != ACTION_NONE || e->side != SIDE_NONE;
}

static int plan_enter(Walker *w, Item *it, size_t *cookie) {
        return push_entry(w, it, cookie);
}

static int plan_leave(Walker *w, Item *it, size_t idx, bool children_needed) {
        Planner *p = w->userdata;
        MergeEntry *e = &p->report->entries[idx];
        MergeNodeType bt = it->n[BASE].type, tt = it->n[THEIRS].type;
        int r;

        if (bt == MERGE_NODE_DIR && !it->opaque && meta_equal(&it->n[OURS], &it->n[BASE]))
                set_outcome(e, MERGE_DROP, "unchanged copy-up",
                            it->replace && tt == MERGE_NODE_DIR ? ACTION_THEIRS : ACTION_NONE);
        else if ((r = node_equal(w, it, THEIRS, BASE)) != 0) {
                if (r < 0)
                        return r;
                set_outcome(e, MERGE_KEEP, ours_changed_reason(it), ACTION_OURS);
        } else if (tt == MERGE_NODE_DIR && !it->opaque && meta_equal(&it->n[OURS], &it->n[THEIRS]))
                set_outcome(e, MERGE_DROP, "the image made the same change",
                            it->replace ? ACTION_THEIRS : ACTION_NONE);
        else if (tt != MERGE_NODE_ABSENT && tt != MERGE_NODE_DIR)
                set_outcome(e, MERGE_TYPE_CONFLICT, "both changed, to different types",
                            ACTION_NONE);
        else {
                r = plan_both_changed(w, it, e, p->report->policy);
                if (r < 0)
                        return r;
        }

        if (e->outcome == MERGE_TYPE_CONFLICT)
                return 0;
        if (e->action == ACTION_NONE && (children_needed || it->root)) {
                if (tt == MERGE_NODE_DIR)
                        e->action = ACTION_THEIRS; /* a container for what is kept */
                else if (tt == MERGE_NODE_ABSENT) {
                        set_outcome(e, MERGE_KEEP,
                                    it->root ? "not in the image"
                                             : "directory removed by the image holds local files",
                                    ACTION_OURS);
                } else {
                        set_outcome(e, MERGE_TYPE_CONFLICT,
                                    "the image replaced a directory that holds local files",
                                    ACTION_NONE);
                        return 0;
                }
        }
        return e->action != ACTION_NONE;
}

int merge_plan(const MergeTree *base, const MergeTree *theirs, const MergeLayer *layers,
               size_t n_layers, MergePolicy policy, MergeReport **ret) {
        _cleanup_(merge_report_freep) MergeReport *report = NULL;
        Planner p = {};
        int r = 0;

        assert(base);
        assert(theirs);
        assert(layers || n_layers == 0);
        assert(policy >= 0 && policy < _MERGE_POLICY_MAX);
        assert(ret);

        report = calloc(1, sizeof(MergeReport));
        if (!report)
                return log_oom();
        report->policy = policy;
        report->theirs = *theirs;
        p.report = report;
        for (size_t i = 0; i < n_layers; i++) {
                Walker w = {
                        .base = base,
                        .theirs = theirs,
                        .layer = &layers[i],
                        .layer_idx = i,
                        .visit = plan_visit,
                        .enter = plan_enter,
                        .leave = plan_leave,
                        .userdata = &p,
                };
                r = walk_layer(&w);
                if (r < 0)
                        break;
        }
        strv_free(p.replaced);
        if (r < 0)
                return r;
        for (size_t i = 0; i < report->n_entries; i++) {
                report->n_conflicts += merge_outcome_is_conflict(report->entries[i].outcome);
                report->n_type_conflicts += report->entries[i].outcome == MERGE_TYPE_CONFLICT;
        }
        *ret = TAKE_PTR(report);
        return 0;
}

MergeReport *merge_report_free(MergeReport *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_entries; i++) {
                free(r->entries[i].path);
                free(r->entries[i].rel);
                free(r->entries[i].side_path);
                free(r->entries[i].merged);
        }
        free(r->entries);
        free(r);
        return NULL;
}

/* The diff. */

typedef struct Differ {
        MergeDiff *diff;
        size_t cap;
} Differ;

static int push_change(Walker *w, const char *path, MergeChange change) {
        Differ *d = w->userdata;
        MergeDiff *diff = d->diff;

        if (diff->n_entries == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 32;
                MergeDiffEntry *t = realloc(diff->entries, cap * sizeof(MergeDiffEntry));
                if (!t)
                        return log_oom();
                diff->entries = t;
                d->cap = cap;
        }
        diff->entries[diff->n_entries] = (MergeDiffEntry){.path = strdup(path), .change = change};
        if (!diff->entries[diff->n_entries].path)
                return log_oom();
        diff->n_entries++;
        return 0;
}

static int diff_visit(Walker *w, Item *it) {
        int r;

        if (it->whiteout || it->hidden)
                return it->n[BASE].type == MERGE_NODE_ABSENT
                               ? 0
                               : push_change(w, it->path, MERGE_CHANGE_DELETED);
        if (it->n[BASE].type == MERGE_NODE_ABSENT)
                return push_change(w, it->path, MERGE_CHANGE_ADDED);
        r = content_equal(w, it, OURS, BASE);
        if (r < 0)
                return r;
        if (!r)
                return push_change(w, it->path, MERGE_CHANGE_MODIFIED);
        if (!meta_equal(&it->n[OURS], &it->n[BASE]))
                return push_change(w, it->path, MERGE_CHANGE_METADATA);
        return 0;
}

static int diff_enter(Walker *w, Item *it, size_t *cookie) {
        MergeNodeType bt = it->n[BASE].type;

        if (bt == MERGE_NODE_ABSENT)
                return push_change(w, it->path, MERGE_CHANGE_ADDED);
        if (bt != MERGE_NODE_DIR)
                return push_change(w, it->path, MERGE_CHANGE_MODIFIED);
        if (!meta_equal(&it->n[OURS], &it->n[BASE]))
                return push_change(w, it->path, MERGE_CHANGE_METADATA);
        return 0;
}

static int diff_leave(Walker *w, Item *it, size_t cookie, bool children_needed) {
        return 0;
}

int merge_diff(const MergeTree *base, const MergeLayer *layers, size_t n_layers, MergeDiff **ret) {
        _cleanup_(merge_diff_freep) MergeDiff *diff = NULL;
        Differ d = {};
        int r;

        assert(base);
        assert(layers || n_layers == 0);
        assert(ret);

        diff = calloc(1, sizeof(MergeDiff));
        if (!diff)
                return log_oom();
        d.diff = diff;
        for (size_t i = 0; i < n_layers; i++) {
                Walker w = {
                        .base = base,
                        .layer = &layers[i],
                        .layer_idx = i,
                        .visit = diff_visit,
                        .enter = diff_enter,
                        .leave = diff_leave,
                        .userdata = &d,
                };
                r = walk_layer(&w);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(diff);
        return 0;
}

MergeDiff *merge_diff_free(MergeDiff *d) {
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_entries; i++)
                free(d->entries[i].path);
        free(d->entries);
        free(d);
        return NULL;
}
