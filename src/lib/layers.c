/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * layers: the instance's profile, planned, read for the ops that write into
 * the state.
 */
#include "layers.h"
#include "fsutil.h"
#include "plan.h"
#include "profile.h"
#include "util.h"

#include <fcntl.h>

void instance_layers_done(InstanceLayers *l) {
        if (!l)
                return;
        for (size_t k = 0; k < l->n; k++) {
                free((char *)l->layers[k].path);
                safe_close(l->layers[k].dirfd);
        }
        free(l->layers);
        strv_free(l->dirs);
        strv_free(l->reserved);
        *l = INSTANCE_LAYERS_INIT;
}

static int reserve(InstanceLayers *l, const char *state_path) {
        const char *rel = path_relative(state_path);
        _cleanup_free_ char *top = strndup(rel, strcspn(rel, "/"));

        if (!top)
                return -ENOMEM;
        if (streq(top, ".") || isempty(top) || strv_contains(l->reserved, top))
                return 0;
        return strv_consume(&l->reserved, TAKE_PTR(top));
}

static int add_layer(InstanceLayers *l, const char *verb, const char *name, int state_fd,
                     const char *image_path, const char *state_path, MergeLayerKind kind) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        MergeLayer *t;
        int r;

        r = reserve(l, state_path);
        if (r < 0)
                return log_oom();
        fd = openat_in_root_nofollow(state_fd, path_relative(state_path),
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return log_error_errno(fd, "%s %s: cannot open state:%s: %m", verb, name,
                                       state_path);
        path = strdup(image_path);
        if (!path || strv_extend(&l->dirs, state_path) < 0)
                return log_oom();
        t = realloc(l->layers, (l->n + 1) * sizeof *t);
        if (!t)
                return log_oom();
        /* Filled through t before it is published: gcc 12's analyzer loses a
         * pointer stored through l->layers right after a realloc in place. */
        t[l->n] = (MergeLayer){.path = TAKE_PTR(path), .dirfd = TAKE_FD(fd), .kind = kind};
        l->layers = t;
        l->n++;
        return 0;
}

int instance_layers_open(const Instance *i, const char *verb, int state_fd, InstanceLayers *ret) {
        _cleanup_(instance_layers_done) InstanceLayers l = INSTANCE_LAYERS_INIT;
        _cleanup_(profile_set_freep) ProfileSet *set = NULL;
        _cleanup_(plan_freep) Plan *plan = NULL;
        int r;

        r = instance_plan(i, &set, &plan);
        if (r < 0)
                return r;

        for (size_t k = 0; k < plan->n_ops; k++) {
                const MountOp *op = &plan->ops[k];

                if (op->kind == OP_OVERLAY && op->upper.path && op->upper.base == BASE_STATE) {
                        r = reserve(&l, op->work.path);
                        if (r < 0)
                                return log_oom();
                        /* Only an image lower is something to merge against. */
                        if (op->source.base != BASE_IMAGE)
                                continue;
                        r = add_layer(&l, verb, i->name, state_fd, op->source.path, op->upper.path,
                                      MERGE_LAYER_OVERLAY);
                } else if (op->kind == OP_BIND && op->source.base == BASE_STATE &&
                           !(op->flags & ENTRY_RO) && op->target.base == BASE_ROOT)
                        r = add_layer(&l, verb, i->name, state_fd, op->target.path, op->source.path,
                                      MERGE_LAYER_BIND);
                else
                        continue;
                if (r < 0)
                        return r;
        }
        *ret = l;
        l = INSTANCE_LAYERS_INIT;
        return 0;
}
