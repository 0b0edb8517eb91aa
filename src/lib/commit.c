/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * commit: the walk over an instance's layers that turns them into changes of
 * the parent image.
 */
#include "commit.h"
#include "assembly.h"
#include "fsutil.h"
#include "layers.h"
#include "store-derive.h"
#include "upgrade.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

static bool is_opaque(int dirfd) {
        char buf[FD_PATH_MAX], v[2];
        const char *p = fd_path(dirfd, buf);

        return (getxattr(p, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y') ||
               (getxattr(p, "user.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y');
}

typedef struct Walk {
        ImageDerive *d;
        const MergeLayer *layer;
        const char *name; /* the instance, for messages */
} Walk;

static int walk_dir(Walk *w, int dirfd, const char *path, const char *rel);

static int walk_entry(Walk *w, int dirfd, const char *dname, const char *path, const char *rel) {
        bool overlay = w->layer->kind == MERGE_LAYER_OVERLAY;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (fstatat(dirfd, dname, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return log_error_errno(errno, "commit %s: cannot inspect %s: %m", w->name, path);
        if (overlay && S_ISCHR(st.st_mode) && st.st_rdev == 0)
                return image_derive_remove(w->d, path); /* a whiteout */
        if (!S_ISDIR(st.st_mode))
                return image_derive_put_at(w->d, path, w->layer->dirfd, rel);
        fd = openat(dirfd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "commit %s: cannot open %s: %m", w->name, path);
        if (overlay && is_opaque(fd)) {
                r = image_derive_remove(w->d, path);
                if (r < 0)
                        return r;
        }
        r = image_derive_put_at(w->d, path, w->layer->dirfd, rel);
        if (r < 0)
                return r;
        return walk_dir(w, fd, path, rel);
}

static int walk_dir(Walk *w, int dirfd, const char *path, const char *rel) {
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        DIR *d;
        int fd, r;

        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "commit %s: cannot read %s: %m", w->name, path);
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return log_oom();
        }
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return log_oom();
                }
        closedir(d);
        for (size_t k = 0; names && names[k]; k++) {
                _cleanup_free_ char *p = path_join(path, names[k]);
                _cleanup_free_ char *q =
                        streq(rel, ".") ? strdup(names[k]) : path_join(rel, names[k]);

                if (!p || !q)
                        return log_oom();
                r = walk_entry(w, dirfd, names[k], p, q);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int walk_layer(Walk *w) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = path_normalize(w->layer->path, &path);
        if (r < 0)
                return log_error_errno(r, "commit %s: bad layer path %s: %m", w->name,
                                       w->layer->path);
        fd = openat(w->layer->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "commit %s: %m", w->name);
        /* A bound state directory replaces the image's; so does an opaque root. */
        if (w->layer->kind == MERGE_LAYER_BIND ||
            (w->layer->kind == MERGE_LAYER_OVERLAY && is_opaque(fd))) {
                r = image_derive_remove(w->d, path);
                if (r < 0)
                        return r;
        }
        r = image_derive_put_at(w->d, path, w->layer->dirfd, ".");
        if (r < 0)
                return r;
        return walk_dir(w, fd, path, ".");
}

int commit_instance(Store *s, Instance *i, const char *name, const char *tag, Progress *p,
                    CommitResult *ret) {
        _cleanup_(instance_layers_done) InstanceLayers l = INSTANCE_LAYERS_INIT;
        _cleanup_(image_derive_freep) ImageDerive *d = NULL;
        _cleanup_close_ int state = -EBADF;
        CommitResult res = {};
        InstanceStatus st;
        int r;

        assert(i->lock_fd >= 0);
        r = upgrade_recover(s, i);
        if (r < 0)
                return r;
        r = instance_status(i, &st);
        if (r < 0)
                return r;
        if (st.state != INSTANCE_STOPPED)
                return log_error_errno(EBUSY,
                                       "commit %s: the instance is running: stop it first (a "
                                       "commit freezes a stopped instance)",
                                       i->name);
        r = assembly_check_instance(i->dir_fd, "commit", i->name);
        if (r < 0)
                return r;
        state = openat(i->dir_fd, "state", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (state < 0)
                return log_error_errno(errno, "commit %s: cannot open its state: %m", i->name);
        r = instance_layers_open(i, "commit", state, &l);
        if (r < 0)
                return r;
        r = image_derive_new(s, i->row->image, &d);
        if (r < 0)
                return r;
        for (size_t k = 0; k < l.n; k++) {
                Walk w = {.d = d, .layer = &l.layers[k], .name = i->name};
                r = walk_layer(&w);
                if (r < 0)
                        return r;
        }
        /* The identity goes in with the image, in the publishing transaction. */
        r = image_derive_publish(d,
                                 &(ImagePublish){.name = name,
                                                 .tag = tag,
                                                 .hostname = i->identity->hostname,
                                                 .address = i->identity->ip,
                                                 .kind = "commit"},
                                 p, res.id);
        if (r < 0)
                return r;
        r = image_derive_count_changes(d, res.id, &res.changes);
        if (r < 0)
                return r;
        *ret = res;
        return 0;
}
