/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * merge-apply: writes a merge plan into new, empty layer directories.
 *
 * The old layers are the rollback backup, so they are only read: every kept
 * file is copied (never hardlinked to the old one, a later write through the
 * hardlink would change the backup), with owner, mode, times and xattrs,
 * whiteouts and opaque markers included. Names the state hardlinked together
 * stay one inode wherever ours is kept: each is linked to the first one's
 * copy. overlayfs's bookkeeping xattrs (origin, impure, ...) are not copied:
 * they name inodes of the old lower layer, not of the new image.
 *
 * Three passes: entries in walk order (a directory is created before its
 * contents), then the .goldnew/.goldsave files, then directory metadata in
 * reverse order, so a read-only directory mode or an mtime is set last.
 */
#include "merge-internal.h"
#include "fsutil.h"
#include "util.h"

#include <sys/xattr.h>

/* Owner first (chown clears set-id bits and security.capability), then xattrs
 * and the opaque marker, then mode and times. fd may be O_PATH. */
static int set_meta(int fd, mode_t type, const MergeNode *n, int xattr_src,
                    const struct timespec *times, bool opaque) {
        char buf[FD_PATH_MAX];
        bool link = S_ISLNK(type);
        int r;

        if (fchownat(fd, "", n->uid, n->gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (xattr_src >= 0) {
                r = copy_xattrs_fd_filtered(xattr_src, fd, merge_xattr_is_overlay);
                if (r < 0)
                        return r;
        }
        if (opaque && setxattr(fd_path(fd, buf), "trusted.overlay.opaque", "y", 1, 0) < 0)
                return -errno;
        if (!link && fchmodat(AT_FDCWD, fd_path(fd, buf), n->mode, 0) < 0)
                return -errno;
        /* A symlink's times cannot be set through /proc/self/fd; they do not matter. */
        if (times && !link && utimensat(AT_FDCWD, fd_path(fd, buf), times, 0) < 0)
                return -errno;
        return 0;
}

static MergeNode node_from_stat(const struct stat *st) {
        return (MergeNode){.mode = st->st_mode & 07777, .uid = st->st_uid, .gid = st->st_gid};
}

static int readlink_at(int dirfd, const char *name, size_t hint, char **ret) {
        for (size_t size = hint + 1;; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);
                ssize_t n;
                if (!buf)
                        return -ENOMEM;
                n = readlinkat(dirfd, name, buf, size);
                if (n < 0)
                        return -errno;
                if ((size_t)n < size) {
                        buf[n] = 0;
                        *ret = TAKE_PTR(buf);
                        return 0;
                }
                if (size > 1u << 20)
                        return -ENAMETOOLONG;
        }
}

/* Copies ours' node oldparent/name to newparent/dst. A directory is only
 * created; its metadata comes in the last pass. */
static int copy_ours(int oldparent, const char *name, int newparent, const char *dst) {
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        struct stat st;
        MergeNode n;
        int r;

        if (fstatat(oldparent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        n = node_from_stat(&st);
        if (S_ISDIR(st.st_mode))
                return mkdirat(newparent, dst, 0700) < 0 ? -errno : 0;
        if (S_ISREG(st.st_mode)) {
                in = openat(oldparent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                if (in < 0)
                        return -errno;
                out = openat(newparent, dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                             0600);
                if (out < 0)
                        return -errno;
                r = copy_fd_data(in, out);
                if (r < 0)
                        return r;
        } else {
                if (S_ISLNK(st.st_mode)) {
                        _cleanup_free_ char *target = NULL;
                        r = readlink_at(oldparent, name, st.st_size, &target);
                        if (r < 0)
                                return r;
                        if (symlinkat(target, newparent, dst) < 0)
                                return -errno;
                } else if (mknodat(newparent, dst, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0)
                        return -errno;
                in = openat(oldparent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (in < 0)
                        return -errno;
                out = openat(newparent, dst, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (out < 0)
                        return -errno;
        }
        return set_meta(out, st.st_mode, &n, in, (struct timespec[]){st.st_atim, st.st_mtim},
                        false);
}

/* Writes theirs' node at path to newparent/dst; with deep, a directory's whole
 * subtree, else only the directory (its metadata comes in the last pass). */
static int write_theirs(const MergeTree *t, const char *path, int newparent, const char *dst,
                        bool deep) {
        _cleanup_close_ int src = -EBADF, in = -EBADF, out = -EBADF;
        _cleanup_free_ char *target = NULL;
        MergeNode n;
        struct stat st;
        mode_t type;
        int r;

        r = t->lookup(t->userdata, path, &n);
        if (r < 0)
                return r;
        src = t->open(t->userdata, path, O_PATH);
        if (src < 0)
                return src;
        if (fstat(src, &st) < 0)
                return -errno;
        type = st.st_mode & S_IFMT;

        switch (n.type) {
        case MERGE_NODE_DIR: {
                _cleanup_strv_free_ char **names = NULL;

                if (mkdirat(newparent, dst, 0700) < 0)
                        return -errno;
                if (!deep)
                        return 0;
                out = openat(newparent, dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (out < 0)
                        return -errno;
                r = t->list(t->userdata, path, &names);
                if (r < 0)
                        return r;
                for (char **k = names; *k; k++) {
                        _cleanup_free_ char *child = path_join(path, *k);
                        if (!child)
                                return -ENOMEM;
                        r = write_theirs(t, child, out, *k, true);
                        if (r < 0)
                                return r;
                }
                type = S_IFDIR;
                break;
        }
        case MERGE_NODE_REG:
                in = t->open(t->userdata, path, O_RDONLY);
                if (in < 0)
                        return in;
                out = openat(newparent, dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                             0600);
                if (out < 0)
                        return -errno;
                r = copy_fd_data(in, out);
                if (r < 0)
                        return r;
                type = S_IFREG;
                break;
        case MERGE_NODE_LNK:
                r = t->readlink(t->userdata, path, &target);
                if (r < 0)
                        return r;
                if (symlinkat(target, newparent, dst) < 0)
                        return -errno;
                type = S_IFLNK;
                break;
        default:
                if (mknodat(newparent, dst, type | 0600, st.st_rdev) < 0)
                        return -errno;
                break;
        }
        if (out < 0) {
                out = openat(newparent, dst, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (out < 0)
                        return -errno;
        }
        return set_meta(out, type, &n, src, (struct timespec[]){st.st_atim, st.st_mtim}, false);
}

static int write_merged(const MergeReport *rep, const MergeEntry *e, int oldparent, int newparent,
                        const char *name) {
        _cleanup_close_ int out = -EBADF, src = -EBADF;
        MergeNode n;
        int r;

        if (e->meta_ours) {
                struct stat st;
                src = openat(oldparent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (src < 0 || fstat(src, &st) < 0)
                        return -errno;
                n = node_from_stat(&st);
        } else {
                r = rep->theirs.lookup(rep->theirs.userdata, e->path, &n);
                if (r < 0)
                        return r;
                src = rep->theirs.open(rep->theirs.userdata, e->path, O_PATH);
                if (src < 0)
                        return src;
        }
        out = openat(newparent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        r = write_all(out, e->merged, e->merged_len);
        if (r < 0)
                return r;
        return set_meta(out, S_IFREG, &n, src, NULL, false);
}

/* rel's parent ("." for a top-level entry) and last component. */
static int split_rel(const char *rel, char **ret_parent, const char **ret_name) {
        const char *slash = strrchr(rel, '/');

        *ret_parent = slash ? strndup(rel, slash - rel) : strdup(".");
        *ret_name = slash ? slash + 1 : rel;
        return *ret_parent ? 0 : -ENOMEM;
}

/* The state's hardlink groups: the first copy of each old inode that has
 * more names, so that the others are linked to it rather than copied. */
typedef struct Copied {
        dev_t dev;
        ino_t ino;
        size_t layer;
        char *rel; /* in the new layer */
} Copied;

typedef struct Links {
        Copied *v;
        size_t n;
} Links;

static void links_done(Links *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i].rel);
        free(l->v);
}

/* A kept regular file that shares its inode with a name copied before is
 * linked to that copy (the old state is left alone: the new copy is the new
 * state's own inode). 1 if linked, 0 if it is to be copied (and is
 * remembered when it has other names), or -errno. */
static int link_ours(Links *l, const MergeEntry *e, const int *newlayers, int oldp,
                     const char *name, int newp) {
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *first;
        struct stat st;
        Copied *c;

        if (fstatat(oldp, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_nlink < 2)
                return 0;
        for (size_t i = 0; i < l->n; i++) {
                c = &l->v[i];
                if (c->dev != st.st_dev || c->ino != st.st_ino)
                        continue;
                if (split_rel(c->rel, &parent, &first) < 0)
                        return -ENOMEM;
                fd = openat_in_root_nofollow(newlayers[c->layer], parent, O_PATH | O_DIRECTORY, 0);
                if (fd < 0)
                        return fd;
                if (linkat(fd, first, newp, name, 0) < 0)
                        return -errno;
                return 1;
        }
        c = realloc(l->v, (l->n + 1) * sizeof *c);
        if (!c)
                return -ENOMEM;
        l->v = c;
        c[l->n] = (Copied){
                .dev = st.st_dev, .ino = st.st_ino, .layer = e->layer, .rel = strdup(e->rel)};
        if (!c[l->n].rel)
                return -ENOMEM;
        l->n++;
        return 0;
}

static int apply_entry(const MergeReport *rep, const MergeEntry *e, int oldlayer,
                       const int *newlayers, Links *links, int pass) {
        int newlayer = newlayers[e->layer];
        _cleanup_free_ char *parent = NULL, *side = NULL;
        _cleanup_close_ int oldp = -EBADF, newp = -EBADF;
        const char *name;
        int r;

        r = split_rel(e->rel, &parent, &name);
        if (r < 0)
                return r;
        newp = openat_in_root_nofollow(newlayer, parent, O_PATH | O_DIRECTORY, 0);
        if (newp < 0)
                return newp;
        if (e->action == ACTION_OURS || e->action == ACTION_MERGED || e->side == SIDE_GOLDSAVE) {
                /* The old state is hostile: no symlink may lead the copy elsewhere. */
                oldp = openat_in_root_nofollow(oldlayer, parent, O_PATH | O_DIRECTORY, 0);
                if (oldp < 0)
                        return oldp;
        }
        if (pass == 2) {
                /* The planner chose a name nothing else in the new layer has:
                 * whatever was there is never overwritten. */
                side = strdup(strrchr(e->side_path, '/') + 1);
                if (!side)
                        return -ENOMEM;
                if (e->side == SIDE_GOLDNEW)
                        return write_theirs(&rep->theirs, e->path, newp, side, false);
                return copy_ours(oldp, name, newp, side);
        }
        switch (e->action) {
        case ACTION_OURS:
                r = link_ours(links, e, newlayers, oldp, name, newp);
                if (r != 0)
                        return r < 0 ? r : 0;
                return copy_ours(oldp, name, newp, name);
        case ACTION_THEIRS:
                return write_theirs(&rep->theirs, e->path, newp, name, false);
        case ACTION_THEIRS_TREE:
                return write_theirs(&rep->theirs, e->path, newp, name, true);
        case ACTION_MERGED:
                return write_merged(rep, e, oldp, newp, name);
        default:
                return 0;
        }
}

/* The last pass: a directory's owner, xattrs, opaque marker, mode and times. */
static int apply_dir_meta(const MergeReport *rep, const MergeEntry *e, int oldlayer, int newlayer) {
        _cleanup_close_ int src = -EBADF, dst = -EBADF;
        struct stat st;
        MergeNode n;
        int r;

        dst = openat_in_root_nofollow(newlayer, e->rel, O_PATH | O_DIRECTORY, 0);
        if (dst < 0)
                return dst;
        if (e->action == ACTION_OURS) {
                src = openat_in_root_nofollow(oldlayer, e->rel, O_PATH | O_DIRECTORY, 0);
                if (src < 0)
                        return src;
                if (fstat(src, &st) < 0)
                        return -errno;
                n = node_from_stat(&st);
        } else {
                r = rep->theirs.lookup(rep->theirs.userdata, e->path, &n);
                if (r < 0)
                        return r;
                src = rep->theirs.open(rep->theirs.userdata, e->path, O_PATH);
                if (src < 0)
                        return src;
                if (fstat(src, &st) < 0)
                        return -errno;
        }
        return set_meta(dst, S_IFDIR, &n, src, (struct timespec[]){st.st_atim, st.st_mtim},
                        e->opaque);
}

static bool entry_is_dir(const MergeEntry *e) {
        if (e->action == ACTION_OURS)
                return e->ours_type == MERGE_NODE_DIR;
        if (e->action == ACTION_THEIRS)
                return e->theirs_type == MERGE_NODE_DIR;
        return false;
}

int merge_apply(const MergeReport *report, const MergeLayer *layers, size_t n_layers,
                const int *new_layer_dirfds) {
        _cleanup_(links_done) Links links = {};
        int r;

        assert(report);
        assert(layers || n_layers == 0);
        assert(new_layer_dirfds || n_layers == 0);

        if (merge_report_blocked(report))
                return log_error_errno(
                        ECANCELED, "refusing to merge: %zu type conflict%s, nothing changed",
                        report->n_type_conflicts, report->n_type_conflicts == 1 ? "" : "s");
        for (size_t i = 0; i < n_layers; i++) {
                _cleanup_strv_free_ char **names = NULL;
                r = merge_list_dirfd(new_layer_dirfds[i], &names);
                if (r < 0)
                        return log_error_errno(r, "failed to read the new state layer for %s: %m",
                                               layers[i].path);
                if (names[0])
                        return log_error_errno(ENOTEMPTY, "cannot write the merged %s layer: %m",
                                               layers[i].path);
        }
        for (size_t i = 0; i < report->n_entries; i++)
                if (report->entries[i].layer >= n_layers)
                        return log_error_errno(EINVAL, "merge plan names layer %zu of %zu",
                                               report->entries[i].layer, n_layers);

        for (int pass = 1; pass <= 2; pass++)
                for (size_t i = 0; i < report->n_entries; i++) {
                        const MergeEntry *e = &report->entries[i];

                        if (streq(e->rel, "."))
                                continue; /* a layer's root exists; its metadata comes last */
                        if (pass == 1 ? e->action == ACTION_NONE : e->side == SIDE_NONE)
                                continue;
                        r = apply_entry(report, e, layers[e->layer].dirfd, new_layer_dirfds, &links,
                                        pass);
                        if (r < 0)
                                return log_error_errno(r,
                                                       "failed to write %s into the new state: %m",
                                                       pass == 1 ? e->path : e->side_path);
                }
        for (size_t i = report->n_entries; i-- > 0;) {
                const MergeEntry *e = &report->entries[i];

                if (!entry_is_dir(e))
                        continue;
                r = apply_dir_meta(report, e, layers[e->layer].dirfd, new_layer_dirfds[e->layer]);
                if (r < 0)
                        return log_error_errno(
                                r, "failed to set the metadata of %s in the new state: %m",
                                e->path);
        }
        return 0;
}
