/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mount: applies a Plan with the kernel's new mount API and an undo stack.
 *
 * Every mount is built detached (open_tree clone or fsmount), given its
 * attributes while nobody can see it yet, and only then attached with
 * move_mount onto a target that was resolved in-root under the assembly. The
 * fd of each attached mount stays on the undo stack, so rolling back detaches
 * exactly the mounts this run made, whatever was stacked on their paths
 * meanwhile.
 */
#include "mount.h"
#include "mount-internal.h"
#include "assembly.h"
#include "fsutil.h"
#include "util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

static const char *const kind_names[_OP_KIND_MAX] = {
        [OP_BIND] = "bind", [OP_OVERLAY] = "overlay", [OP_TMPFS] = "tmpfs",
        [OP_LOOP] = "loop", [OP_DEV] = "dev",
};

const char *const mount_base_prefix[_BASE_MAX] = {
        [BASE_HOST] = "", [BASE_IMAGE] = "image:", [BASE_STATE] = "state:",
        [BASE_ROOT] = "", [BASE_ENTRY] = "@",
};

const char *apply_prefix_of(Apply *a, const MountOp *op, const PlanPath *p) {
        if (p->base != BASE_ENTRY)
                return mount_base_prefix[p->base];
        snprintf(a->prefix, sizeof a->prefix, "@%s:", a->plan->ops[op->source_op].spec->name);
        return a->prefix;
}

int apply_fail(Apply *a, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(a->why, sizeof a->why, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -r;
}

unsigned mount_attr_from_flags(unsigned entry_flags) {
        unsigned attr = 0;

        if (entry_flags & ENTRY_RO)
                attr |= MOUNT_ATTR_RDONLY;
        if (entry_flags & ENTRY_NOSUID)
                attr |= MOUNT_ATTR_NOSUID;
        if (entry_flags & ENTRY_NODEV)
                attr |= MOUNT_ATTR_NODEV;
        if (entry_flags & ENTRY_NOEXEC)
                attr |= MOUNT_ATTR_NOEXEC;
        return attr;
}

/* Path resolution. */

static int host_fd(Apply *a) {
        if (a->host_fd < 0) {
                a->host_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (a->host_fd < 0)
                        return -errno;
        }
        return a->host_fd;
}

static int tree_fd(Apply *a, PathBase base) {
        switch (base) {
        case BASE_IMAGE:
                return a->trees->image_fd >= 0 ? a->trees->image_fd : -ENXIO;
        case BASE_STATE:
                return a->trees->state_fd >= 0 ? a->trees->state_fd : -ENXIO;
        case BASE_ROOT:
                return a->root_fd;
        case BASE_HOST:
                return host_fd(a);
        default:
                return -EINVAL;
        }
}

/* The mount that an @ENTRY source lies in: the fd this run kept for the op
 * (borrowed), or for an attached op that this run did not mount (optional
 * and missing, or a shared mount made before) its target path, opened into
 * *ret_tmp. */
static int entry_mount_fd(Apply *a, size_t idx, int *ret_tmp) {
        const MountOp *ref = &a->plan->ops[idx];
        int base, fd;

        *ret_tmp = -EBADF;
        if (a->fds[idx] >= 0)
                return a->fds[idx];
        if (ref->aside)
                return apply_fail(a, ENOENT, "entry '%s' (mounted aside) was not mounted",
                                  ref->entry);
        base = tree_fd(a, ref->target.base);
        if (base < 0)
                return apply_fail(a, base, "cannot open the tree of entry '%s'", ref->entry);
        fd = openat_in_root(base, path_relative(ref->target.path), O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
                return apply_fail(a, fd, "cannot open %s, the target of entry '%s'",
                                  ref->target.path, ref->entry);
        *ret_tmp = fd;
        return fd;
}

/* A FILE:ENTRY source lies inside a shared mount that instances may write to
 * (a log area): resolve what follows the shared target in-root under it, so a
 * symlink planted there cannot lead elsewhere on the host. Returns the host
 * directory to resolve under and the rest of the path, or 0 if p is an
 * ordinary host path. */
static int ref_root(const MountOp *op, const PlanPath *p, const char **ret_root,
                    const char **ret_rest) {
        const Entry *ref;

        if (p != &op->source || p->base != BASE_HOST || !op->spec ||
            op->spec->source.kind != SOURCE_REF)
                return 0;
        ref = op->spec->source.ref;
        if (!ref || !ref->target || !path_is_under(p->path, ref->target))
                return 0;
        *ret_root = ref->target;
        *ret_rest = p->path + strlen(ref->target);
        return 1;
}

/* Opens a plan path with flags (O_PATH, O_RDONLY, ...). With mkdir, a missing
 * directory is created (mkdir -p, in-root) and the creation pushed for undo. */
static int open_plan_path(Apply *a, const MountOp *op, const PlanPath *p, int flags, bool mkdir,
                          int *ret_fd) {
        _cleanup_close_ int ref_fd = -EBADF;
        _cleanup_strv_free_ char **created = NULL;
        const char *rest = p->path, *refdir = NULL;
        int base, fd, r;

        if (p->base == BASE_ENTRY) {
                /* In-root under the entry's mount, which the instance may
                 * write to: a symlink in it never leads out. */
                base = entry_mount_fd(a, op->source_op, &ref_fd);
                if (base < 0)
                        return base;
        } else if (p->base == BASE_HOST && ref_root(op, p, &refdir, &rest) > 0) {
                ref_fd = open(refdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (ref_fd < 0)
                        return apply_fail(a, errno, "cannot open shared mount %s", refdir);
                base = ref_fd;
        } else if (p->base == BASE_HOST && !mkdir) {
                /* The administrator's own paths: followed like mount(8) would. */
                fd = open(p->path, flags | O_CLOEXEC);
                if (fd < 0)
                        return apply_fail(a, errno, "cannot open %s", p->path);
                *ret_fd = fd;
                return 0;
        } else {
                base = tree_fd(a, p->base);
                if (base == -ENXIO)
                        return apply_fail(a, ENXIO, "%s%s: no %s tree was given",
                                          mount_base_prefix[p->base], p->path,
                                          p->base == BASE_IMAGE ? "image" : "state");
                if (base < 0)
                        return apply_fail(a, base, "cannot open /");
        }

        fd = openat_in_root(base, path_relative(rest), flags, 0);
        if (fd == -ENOENT && mkdir && p->base != BASE_IMAGE) {
                r = mkdir_p_in_root(base, isempty(rest) ? "/" : rest, 0755, NULL, &created);
                if (r >= 0)
                        r = undo_push_created(a->undo, p->base, base, created);
                if (r < 0)
                        return apply_fail(a, r, "cannot create %s%s", apply_prefix_of(a, op, p),
                                          p->path);
                fd = openat_in_root(base, path_relative(rest), flags, 0);
        }
        if (fd < 0)
                return apply_fail(a, fd, "cannot open %s%s", apply_prefix_of(a, op, p), p->path);
        r = apply_bind_check(a, op, p, base, fd);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* Opens an op's source; 0 with *ret_fd = -EBADF means "optional and missing:
 * skip the entry". */
int apply_open_source(Apply *a, const MountOp *op, int flags, bool mkdir, int *ret_fd) {
        int r;

        *ret_fd = -EBADF;
        r = open_plan_path(a, op, &op->source, flags, mkdir, ret_fd);
        if (r == -ENOENT && (op->flags & ENTRY_OPTIONAL)) {
                log_debug("mount entry '%s': %s%s does not exist, skipped (optional)", op->entry,
                          apply_prefix_of(a, op, &op->source), op->source.path);
                a->why[0] = 0;
                return 0;
        }
        return r;
}

/* Resolves the target in-root under the assembly (or on the host for a shared
 * op, where it is created like mkdir -p). With create, a missing mount point
 * is made: a directory, or an empty file when the source is not a directory. */
int apply_open_target(Apply *a, const MountOp *op, bool create, bool source_is_dir, int *ret_fd) {
        _cleanup_strv_free_ char **created = NULL;
        _cleanup_close_ int parent = -EBADF;
        _cleanup_free_ char *dir = NULL;
        const char *rel = path_relative(op->target.path), *slash, *name;
        int base, fd = -EBADF, r;

        base = tree_fd(a, op->target.base);
        if (base < 0)
                return apply_fail(a, base, "cannot open the target's tree");

        if (op->target.base == BASE_HOST) {
                /* A shared mount's host directory: trusted, made on demand. */
                r = mkdir_p_in_root(base, op->target.path, 0755, &fd, &created);
                if (r >= 0)
                        r = undo_push_created(a->undo, BASE_HOST, base, created);
                if (r < 0) {
                        if (fd >= 0)
                                safe_close(fd);
                        return apply_fail(a, r, "cannot create mount point %s", op->target.path);
                }
                *ret_fd = fd;
                return 0;
        }

        fd = openat_in_root(base, rel, O_PATH, 0);
        if (fd >= 0) {
                r = apply_bind_check(a, op, &op->target, base, fd);
                if (r < 0)
                        safe_close(fd);
                else
                        *ret_fd = fd;
                return r;
        }
        if (fd != -ENOENT || !create)
                return apply_fail(a, fd, "cannot open mount point %s", op->target.path);

        slash = strrchr(rel, '/');
        name = slash ? slash + 1 : rel;
        dir = slash ? strndup(rel, slash - rel) : strdup("/");
        if (!dir)
                return apply_fail(a, ENOMEM, "out of memory");
        r = mkdir_p_in_root(base, dir, 0755, &parent, &created);
        if (r >= 0)
                r = undo_push_created(a->undo, op->target.base, base, created);
        if (r < 0)
                return apply_fail(a, r, "cannot create mount point %s", op->target.path);
        if (source_is_dir)
                r = mkdirat(parent, name, 0755) < 0 ? -errno : 0;
        else {
                int f = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                               0644);
                r = f < 0 ? -errno : 0;
                safe_close(f);
        }
        if (r < 0)
                return apply_fail(a, r, "cannot create mount point %s", op->target.path);
        {
                int dupfd = fcntl(base, F_DUPFD_CLOEXEC, 3);
                if (dupfd < 0)
                        return apply_fail(a, errno, "cannot create mount point %s",
                                          op->target.path);
                r = undo_push(a->undo, source_is_dir ? UNDO_RMDIR : UNDO_UNLINK, op->target.base,
                              rel, dupfd);
                if (r < 0) {
                        safe_close(dupfd);
                        return apply_fail(a, r, "out of memory");
                }
        }
        fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return apply_fail(a, errno, "cannot open mount point %s", op->target.path);
        r = apply_bind_check(a, op, &op->target, base, fd);
        if (r < 0)
                safe_close(fd);
        else
                *ret_fd = fd;
        return r;
}

/* Attaches the detached mount mfd (taken) onto target_fd and pushes it. */
int apply_attach(Apply *a, const MountOp *op, int mfd, int target_fd) {
        char buf[FD_PATH_MAX];
        int r;

        if (a->trees->journal) {
                r = a->trees->journal(a->trees->journal_data, op->target.base, op->target.path,
                                      mfd);
                if (r < 0) {
                        safe_close(mfd);
                        return apply_fail(a, r, "cannot record the mount");
                }
        }
        if (move_mount(mfd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
            0) {
                r = -errno;
                safe_close(mfd);
                return apply_fail(a, r, "cannot attach the mount");
        }
        crash_point("mount-after-attach");
        r = undo_push(a->undo, UNDO_UNMOUNT, op->target.base, op->target.path, mfd);
        if (r < 0) {
                (void)umount2(fd_path(mfd, buf), MNT_DETACH);
                safe_close(mfd);
                return apply_fail(a, r, "out of memory");
        }
        /* Our own reference: a shared op's undo step gives its fd up. */
        if (a->keep[a->cur]) {
                a->fds[a->cur] = fcntl(mfd, F_DUPFD_CLOEXEC, 3);
                if (a->fds[a->cur] < 0)
                        return apply_fail(a, errno, "cannot keep the mount for @%s",
                                          op->spec->name);
        }
        /* An fd of the directory underneath would still see what the mount now
         * covers; what follows resolves under the new mount's own root. */
        if (op->target.base == BASE_ROOT && streq(path_relative(op->target.path), "."))
                a->root_fd = mfd;
        return 0;
}

/* An aside op's detached mount (taken) is never attached: it is kept for the
 * @ENTRY sources that clone parts of it, and nothing is pushed for undo,
 * since what is never attached needs no unmounting; the clones hold it. */
int apply_keep_aside(Apply *a, int mfd) {
        assert(a->fds[a->cur] < 0);
        a->fds[a->cur] = mfd;
        return 0;
}

int apply_place(Apply *a, const MountOp *op, int mfd) {
        _cleanup_close_ int m = mfd, target = -EBADF;
        int r;

        if (op->aside)
                return apply_keep_aside(a, TAKE_FD(m));
        r = apply_open_target(a, op, false, true, &target);
        if (r < 0)
                return r;
        return apply_attach(a, op, TAKE_FD(m), target);
}

/* fsopen/fsconfig/fsmount, with the kernel's own message (read from the
 * context fd) added to the error. */

static int fs_fail(Apply *a, int fs, int r, const char *what) {
        char msg[256] = "";
        ssize_t n;

        n = fs >= 0 ? read(fs, msg, sizeof msg - 1) : -1;
        if (n > 0) {
                msg[n] = 0;
                if (msg[n - 1] == '\n')
                        msg[n - 1] = 0;
                /* "e overlay: ..." : drop the severity letter. */
                return apply_fail(a, r, "%s (%s)", what, msg[1] == ' ' ? msg + 2 : msg);
        }
        return apply_fail(a, r, "%s", what);
}

int apply_fs_open(Apply *a, const char *type, int *ret_fs) {
        int fs = fsopen(type, FSOPEN_CLOEXEC);

        if (fs < 0) {
                if (errno == ENOSYS)
                        return apply_fail(a, ENOSYS,
                                          "kernel lacks the new mount API (fsopen): Linux "
                                          "5.2 or newer is required");
                if (errno == ENODEV)
                        return apply_fail(a, ENODEV, "kernel does not support file system '%s'",
                                          type);
                return apply_fail(a, errno, "cannot open file system '%s'", type);
        }
        *ret_fs = fs;
        return 0;
}

int apply_fs_set(Apply *a, int fs, const char *key, const char *value) {
        if (fsconfig(fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, value, 0) < 0) {
                char what[128];
                snprintf(what, sizeof what, "cannot set %s%s%s", key, value ? "=" : "",
                         value ?: "");
                return fs_fail(a, fs, -errno, what);
        }
        return 0;
}

int apply_fs_mount(Apply *a, int fs, const char *type, unsigned attrs, int *ret_mfd) {
        int mfd;

        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                char what[64];
                snprintf(what, sizeof what, "cannot create the %s mount", type);
                return fs_fail(a, fs, -errno, what);
        }
        mfd = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
        if (mfd < 0)
                return fs_fail(a, fs, -errno, "fsmount failed");
        *ret_mfd = mfd;
        return 0;
}

/* A tmpfs attached nowhere: reachable only through the fd and whatever is
 * mounted from it, and gone with the last of them. */
int mount_detached_tmpfs(const char *mode, uint64_t size, int *ret_fd) {
        _cleanup_close_ int fs = -EBADF;
        char bytes[32];
        int mfd;

        assert(mode);
        assert(ret_fd);
        fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0)
                return -errno;
        if (size > 0) {
                snprintf(bytes, sizeof bytes, "%" PRIu64, size);
                if (fsconfig(fs, FSCONFIG_SET_STRING, "size", bytes, 0) < 0)
                        return -errno;
        }
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mfd = fsmount(fs, FSMOUNT_CLOEXEC, 0);
        if (mfd < 0)
                return -errno;
        *ret_fd = mfd;
        return 0;
}

/* Entry types. */

/* rw on a bind of a read-only mount (an entry mounted ro, a read-only bind on
 * the host) clears the clone's own flag, as `mount -o bind,rw` does; only the
 * top mount, since the submounts it carries were not named. A read-only file
 * system underneath cannot be made writable: an error, not a quiet ro. */
static int make_writable(Apply *a, const MountOp *op, int tree) {
        struct mount_attr attr = {.attr_clr = MOUNT_ATTR_RDONLY};
        struct statvfs sv;

        if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
                return apply_fail(a, errno, "cannot make the bind of %s%s read-write",
                                  apply_prefix_of(a, op, &op->source), op->source.path);
        if (fstatvfs(tree, &sv) < 0)
                return apply_fail(a, errno, "cannot stat the file system of %s%s",
                                  apply_prefix_of(a, op, &op->source), op->source.path);
        if (sv.f_flag & ST_RDONLY)
                return apply_fail(a, EROFS, "cannot bind %s%s read-write",
                                  apply_prefix_of(a, op, &op->source), op->source.path);
        return 0;
}

static int mount_id_of(int fd, uint64_t *ret) {
        struct statx sx;

        if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &sx) < 0)
                return -errno;
        if (!(sx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        *ret = sx.stx_mnt_id;
        return 0;
}

/* Whether the bind of src shows the image: its source is image:PATH, or src
 * lies on a mount of this apply that shows it (an attached image entry, or a
 * bind of one). 1, 0 or -errno. */
static int bind_shows_image(Apply *a, const MountOp *op, int src) {
        uint64_t id = 0;
        int r;

        if (op->source.base == BASE_IMAGE)
                return 1;
        if (op->source.base != BASE_ENTRY || a->n_image_mnt_ids == 0)
                return 0;
        r = mount_id_of(src, &id);
        if (r < 0)
                return r;
        for (size_t i = 0; i < a->n_image_mnt_ids; i++)
                if (a->image_mnt_ids[i] == id)
                        return 1;
        return 0;
}

static int remember_image_mount(Apply *a, int tree) {
        uint64_t *ids;
        int r;

        ids = realloc(a->image_mnt_ids, sizeof(uint64_t) * (a->n_image_mnt_ids + 1));
        if (!ids)
                return -ENOMEM;
        a->image_mnt_ids = ids;
        r = mount_id_of(tree, &ids[a->n_image_mnt_ids]);
        if (r < 0)
                return r;
        a->n_image_mnt_ids++;
        return 0;
}

static int apply_bind(Apply *a, const MountOp *op) {
        _cleanup_close_ int src = -EBADF, tree = -EBADF, target = -EBADF;
        struct mount_attr attr = {
                .attr_set = mount_attr_from_flags(op->flags),
                /* A clone of a shared mount would be its peer, and mounts made
                 * inside the assembly would then propagate back into the
                 * source (the image, the state). */
                .propagation = MS_PRIVATE,
        };
        bool is_dir = true;
        int r, image;

        r = apply_open_source(a, op, O_PATH, op->flags & ENTRY_CREATE, &src);
        if (r < 0 || src < 0)
                return r;
        image = bind_shows_image(a, op, src);
        if (image < 0)
                return apply_fail(a, image, "cannot find the mount under %s%s",
                                  apply_prefix_of(a, op, &op->source), op->source.path);
        /* The planner refuses rw on what it can tell shows the image; a
         * path through an attached entry is only known here. */
        if (image && (op->flags & ENTRY_RW))
                return apply_fail(a, EROFS,
                                  "cannot bind %s%s read-write: it is the shared image, which "
                                  "is always read-only",
                                  apply_prefix_of(a, op, &op->source), op->source.path);

        tree = open_tree(src, "",
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree < 0) {
                if (errno == ENOSYS)
                        return apply_fail(a, ENOSYS,
                                          "kernel lacks the new mount API (open_tree): "
                                          "Linux 5.2 or newer is required");
                return apply_fail(a, errno, "cannot clone %s%s",
                                  apply_prefix_of(a, op, &op->source), op->source.path);
        }
        /* The store's tree lies on a writable file system: only the mount
         * keeps the image read-only. */
        if (image) {
                attr.attr_set |= MOUNT_ATTR_RDONLY;
                r = remember_image_mount(a, tree);
                if (r < 0)
                        return apply_fail(a, r, "cannot read the mount id of %s%s",
                                          apply_prefix_of(a, op, &op->source), op->source.path);
        }
        /* Before attaching: nobody ever sees the tree writable, and AT_RECURSIVE
         * makes the submounts it carries read-only too. */
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
                return apply_fail(a, errno,
                                  errno == ENOSYS ? "kernel lacks mount_setattr: Linux "
                                                    "5.12 or newer is required"
                                                  : "cannot set mount attributes");
        if (op->flags & ENTRY_RW) {
                r = make_writable(a, op, tree);
                if (r < 0)
                        return r;
        }

        if (op->aside)
                return apply_keep_aside(a, TAKE_FD(tree));
        if (op->flags & ENTRY_CREATE) {
                struct stat st;
                if (fstat(src, &st) < 0)
                        return apply_fail(a, errno, "cannot stat the source");
                is_dir = S_ISDIR(st.st_mode);
        }
        r = apply_open_target(a, op, op->flags & ENTRY_CREATE, is_dir, &target);
        if (r < 0)
                return r;
        return apply_attach(a, op, TAKE_FD(tree), target);
}

static int apply_tmpfs(Apply *a, const MountOp *op) {
        _cleanup_close_ int fs = -EBADF, mfd = -EBADF, target = -EBADF;
        unsigned attrs = mount_attr_from_flags(op->flags);
        bool copy = op->flags & ENTRY_COPY;
        char v[32];
        int r;

        r = apply_fs_open(a, "tmpfs", &fs);
        if (r < 0)
                return r;
        if (op->flags & ENTRY_HAS_SIZE) {
                snprintf(v, sizeof v, "%" PRIu64, op->size);
                r = apply_fs_set(a, fs, "size", v);
                if (r < 0)
                        return r;
        }
        if (op->flags & ENTRY_HAS_MODE) {
                snprintf(v, sizeof v, "%o", (unsigned)op->mode);
                r = apply_fs_set(a, fs, "mode", v);
                if (r < 0)
                        return r;
        }
        if (op->flags & ENTRY_HAS_UID) {
                snprintf(v, sizeof v, "%u", (unsigned)op->uid);
                r = apply_fs_set(a, fs, "uid", v);
                if (r < 0)
                        return r;
        }
        if (op->flags & ENTRY_HAS_GID) {
                snprintf(v, sizeof v, "%u", (unsigned)op->gid);
                r = apply_fs_set(a, fs, "gid", v);
                if (r < 0)
                        return r;
        }
        /* A read-only copy is filled first and made read-only after. */
        r = apply_fs_mount(a, fs, "tmpfs", copy ? attrs & ~MOUNT_ATTR_RDONLY : attrs, &mfd);
        if (r < 0)
                return r;
        if (op->aside) /* copy is refused there: nothing lies underneath */
                return apply_keep_aside(a, TAKE_FD(mfd));
        r = apply_open_target(a, op, false, true, &target);
        if (r < 0)
                return r;

        if (copy) {
                _cleanup_close_ int from = -EBADF, to = -EBADF;
                struct stat st;

                /* What the target shows now, i.e. what the tmpfs is about to cover. */
                from = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (from < 0)
                        return apply_fail(a, errno, "cannot open %s to copy it", op->target.path);
                to = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (to < 0 || fstat(from, &st) < 0)
                        return apply_fail(a, errno, "cannot open the new tmpfs");
                r = copy_tree_contents_at(from, to);
                if (r < 0)
                        return apply_fail(a, r, "cannot copy %s into the tmpfs", op->target.path);
                /* The tmpfs root stands in for the directory it covers. */
                if (!(op->flags & (ENTRY_HAS_UID | ENTRY_HAS_GID)) &&
                    fchown(to, st.st_uid, st.st_gid) < 0)
                        return apply_fail(a, errno, "cannot set the tmpfs owner");
                if (!(op->flags & ENTRY_HAS_MODE) && fchmod(to, st.st_mode & 07777) < 0)
                        return apply_fail(a, errno, "cannot set the tmpfs mode");
                if (attrs & MOUNT_ATTR_RDONLY) {
                        struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
                        if (mount_setattr(mfd, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0)
                                return apply_fail(a, errno, "cannot make the tmpfs read-only");
                }
        }
        return apply_attach(a, op, TAKE_FD(mfd), target);
}

/* Creates an overlay layer directory (upper or work) in its tree. A new upper
 * takes the lower's owner and mode, since the overlay's root shows the upper's. */
static int overlay_layer(Apply *a, const MountOp *op, const PlanPath *p, int lower, int *ret_fd) {
        _cleanup_strv_free_ char **created = NULL;
        _cleanup_close_ int fd = -EBADF;
        int base, r;

        base = tree_fd(a, p->base);
        if (base == -ENXIO)
                return apply_fail(a, ENXIO, "%s%s: no state tree was given",
                                  mount_base_prefix[p->base], p->path);
        if (base < 0)
                return apply_fail(a, base, "cannot open /");
        r = mkdir_p_in_root(base, p->path, 0755, &fd, &created);
        if (r >= 0)
                r = undo_push_created(a->undo, p->base, base, created);
        if (r < 0)
                return apply_fail(a, r, "cannot create %s%s", mount_base_prefix[p->base], p->path);
        if (lower >= 0 && strv_length(created) > 0) {
                char buf[FD_PATH_MAX];
                struct stat st;

                if (fstat(lower, &st) < 0 ||
                    fchownat(fd, "", st.st_uid, st.st_gid, AT_EMPTY_PATH) < 0 ||
                    chmod(fd_path(fd, buf), st.st_mode & 07777) < 0)
                        return apply_fail(a, errno, "cannot set up %s%s",
                                          mount_base_prefix[p->base], p->path);
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int overlay_set_layer(Apply *a, int fs, const char *key_fd, const char *key_str, int fd,
                             bool *by_path) {
        char buf[FD_PATH_MAX];

        /* Layers by fd need Linux 6.7 (lowerdir+) or later; older kernels get
         * the same directories as /proc/self/fd paths. */
        if (!*by_path) {
                if (fsconfig(fs, FSCONFIG_SET_FD, key_fd, NULL, fd) >= 0)
                        return 0;
                if (errno != EINVAL)
                        return fs_fail(a, fs, -errno, "cannot set an overlay layer");
                *by_path = true;
                (void)read(fs, buf, sizeof buf); /* drop the kernel's complaint */
        }
        return apply_fs_set(a, fs, key_str, fd_path(fd, buf));
}

static int apply_overlay(Apply *a, const MountOp *op) {
        _cleanup_close_ int lower = -EBADF, upper = -EBADF, work = -EBADF, scratch = -EBADF,
                            fs = -EBADF, mfd = -EBADF;
        bool by_path = false;
        int r;

        r = apply_open_source(a, op, O_PATH | O_DIRECTORY, false, &lower);
        if (r < 0 || lower < 0)
                return r;

        if (op->upper_tmpfs) {
                /* Gone with the overlay. */
                r = mount_detached_tmpfs("0755", op->flags & ENTRY_HAS_SIZE ? op->size : 0,
                                         &scratch);
                if (r < 0)
                        return apply_fail(a, -r, "cannot make the tmpfs upper layer");
                if (mkdirat(scratch, "upper", 0755) < 0 || mkdirat(scratch, "work", 0700) < 0)
                        return apply_fail(a, errno, "cannot set up the tmpfs upper layer");
                upper = openat(scratch, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
                work = openat(scratch, "work", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (upper < 0 || work < 0)
                        return apply_fail(a, errno, "cannot set up the tmpfs upper layer");
                {
                        char buf[FD_PATH_MAX];
                        struct stat st;
                        if (fstat(lower, &st) < 0 ||
                            fchownat(upper, "", st.st_uid, st.st_gid, AT_EMPTY_PATH) < 0 ||
                            chmod(fd_path(upper, buf), st.st_mode & 07777) < 0)
                                return apply_fail(a, errno, "cannot set up the tmpfs upper layer");
                }
        } else if (op->upper.path) {
                r = overlay_layer(a, op, &op->upper, lower, &upper);
                if (r < 0)
                        return r;
                r = overlay_layer(a, op, &op->work, -EBADF, &work);
                if (r < 0)
                        return r;
        }

        r = apply_fs_open(a, "overlay", &fs);
        if (r < 0)
                return r;
        r = overlay_set_layer(a, fs, "lowerdir+", "lowerdir", lower, &by_path);
        if (r >= 0 && upper >= 0)
                r = overlay_set_layer(a, fs, "upperdir", "upperdir", upper, &by_path);
        if (r >= 0 && work >= 0)
                r = overlay_set_layer(a, fs, "workdir", "workdir", work, &by_path);
        if (r < 0)
                return r;
        r = apply_fs_mount(a, fs, "overlay", mount_attr_from_flags(op->flags), &mfd);
        if (r < 0)
                return r;
        return apply_place(a, op, TAKE_FD(mfd));
}

static int apply_one(Apply *a, const MountOp *op) {
        switch (op->kind) {
        case OP_BIND:
                return apply_bind(a, op);
        case OP_OVERLAY:
                return apply_overlay(a, op);
        case OP_TMPFS:
                return apply_tmpfs(a, op);
        case OP_LOOP:
                return mount_apply_loop(a, op);
        case OP_DEV:
                return mount_apply_dev(a, op);
        default:
                return apply_fail(a, EINVAL, "unknown operation");
        }
}

static bool wanted(const MountTrees *t, const MountOp *op) {
        switch (t->shared) {
        case MOUNT_SHARED_ONLY:
                return op->shared;
        case MOUNT_SHARED_SKIP:
                return !op->shared;
        default:
                return true;
        }
}

/* Whether a later op of this run clones from aside op i: one that will be
 * mounted now (a shared one that is not mounted yet), directly or through
 * another aside op. */
static bool aside_needed(Apply *a, size_t i) {
        for (size_t j = i + 1; j < a->plan->n_ops; j++) {
                const MountOp *u = &a->plan->ops[j];

                if (u->source.base != BASE_ENTRY || u->source_op != i || !wanted(a->trees, u))
                        continue;
                if (u->aside ? aside_needed(a, j)
                             : !u->shared ||
                                       shared_ref_is_mounted(u->target.path, NULL, NULL, NULL) <= 0)
                        return true;
        }
        return false;
}

/* A shared op is mounted once on the host; later users only take a
 * reference. The caller holds the runtime lock. */
static int apply_shared(Apply *a, const MountOp *op) {
        _cleanup_free_ char *profile = NULL, *other = NULL;
        size_t before = a->undo->n_steps;
        UndoStep *s;
        int r;

        /* Aside, it has no host path to count references on: it lives only
         * for this run, and only if a mount made now clones from it. */
        if (op->aside)
                return aside_needed(a, a->cur) ? apply_one(a, op) : 0;

        /* Another profile's entry of the same name is another entry. */
        if (op->spec && op->spec->profile->path) {
                profile = realpath(op->spec->profile->path, NULL);
                if (!profile && errno == ENOMEM)
                        return apply_fail(a, ENOMEM, "out of memory");
        }
        r = shared_ref_is_mounted(op->target.path, op->entry, profile, &other);
        if (r == -EEXIST)
                return apply_fail(a, EEXIST,
                                  "the host target is already held by a different shared entry, %s",
                                  other);
        if (r < 0)
                return apply_fail(a, r, "cannot read the shared mount record");
        if (r == 0) {
                r = apply_one(a, op);
                if (r < 0)
                        return r;
                if (a->undo->n_steps == before) /* optional and missing */
                        return 0;
        }
        if (a->trees->journal) {
                r = a->trees->journal(a->trees->journal_data, BASE_HOST, op->target.path, -EBADF);
                if (r < 0)
                        return apply_fail(a, r, "cannot record the shared reference");
        }
        r = shared_ref_add(op->target.path, op->entry, profile, a->trees->holder);
        if (r < 0)
                return apply_fail(a, r, "cannot record the shared reference");
        /* From here on the mount belongs to the reference count: the mount
         * step (if this run made it) turns into the reference. */
        s = a->undo->n_steps > before ? &a->undo->steps[a->undo->n_steps - 1] : NULL;
        if (s && s->kind == UNDO_UNMOUNT) {
                s->kind = UNDO_SHARED_REF;
                s->fd = safe_close(s->fd);
                return 0;
        }
        r = undo_push(a->undo, UNDO_SHARED_REF, BASE_HOST, op->target.path, -EBADF);
        if (r < 0) {
                (void)shared_ref_release(op->target.path, a->trees->holder);
                return apply_fail(a, r, "out of memory");
        }
        return 0;
}

static void apply_done(Apply *a) {
        safe_close(a->host_fd);
        for (size_t i = 0; a->fds && i < a->plan->n_ops; i++)
                safe_close(a->fds[i]);
        free(a->fds);
        free(a->keep);
        free(a->image_mnt_ids);
}

/* Not a leak: undo->holder is freed by mount_undo_freep() or handed out with undo; gcc 12 loses it.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
int mount_apply(const Plan *plan, const MountTrees *trees, MountUndo **ret) {
        _cleanup_(mount_undo_freep) MountUndo *undo = NULL;
        _cleanup_close_ int own_lock = -EBADF;
        _cleanup_(apply_done) Apply a = {
                .plan = plan, .trees = trees, .root_fd = trees->root_fd, .host_fd = -EBADF};
        bool any_shared = false;
        int *fds, r = 0;

        assert(plan);
        assert(trees);
        assert(trees->root_fd >= 0 || trees->shared == MOUNT_SHARED_ONLY);

        for (size_t i = 0; i < plan->n_ops; i++)
                if (plan->ops[i].shared && wanted(trees, &plan->ops[i]))
                        any_shared = true;
        if (any_shared && isempty(trees->holder))
                return log_error_errno(EINVAL, "mount: shared entries need a holder");

        undo = calloc(1, sizeof *undo);
        a.keep = calloc(plan->n_ops + 1, sizeof(bool));
        fds = malloc(sizeof(int) * (plan->n_ops + 1));
        if (!undo || !a.keep || !fds) {
                free(fds);
                return log_oom();
        }
        for (size_t i = 0; i < plan->n_ops; i++)
                fds[i] = -EBADF;
        a.fds = fds; /* apply_done() closes them from here on */
        for (size_t i = 0; i < plan->n_ops; i++) {
                if (plan->ops[i].source.base == BASE_ENTRY) {
                        assert(plan->ops[i].source_op < i);
                        a.keep[plan->ops[i].source_op] = true;
                }
        }
        if (trees->holder) {
                undo->holder = strdup(trees->holder);
                if (!undo->holder)
                        return log_oom();
        }
        a.undo = undo;
        /* One lock for the whole assembly: two goldroot processes must not both
         * decide that a shared mount is missing. */
        if (any_shared && trees->lock_fd < 0) {
                r = assembly_lock(&own_lock);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < plan->n_ops; i++) {
                const MountOp *op = &plan->ops[i];

                if (!wanted(trees, op))
                        continue;
                a.why[0] = 0;
                a.cur = i;
                r = op->shared ? apply_shared(&a, op) : apply_one(&a, op);
                if (r < 0) {
                        if (op->aside)
                                log_error_errno(r, "mount entry '%s' (%s, aside): %s%s%m",
                                                op->entry, kind_names[op->kind], a.why,
                                                a.why[0] ? ": " : "");
                        else
                                log_error_errno(r, "mount entry '%s' (%s on %s%s): %s%s%m",
                                                op->entry, kind_names[op->kind],
                                                mount_base_prefix[op->target.base], op->target.path,
                                                a.why, a.why[0] ? ": " : "");
                        break;
                }
        }
        if (r < 0) {
                (void)mount_undo_run(undo, trees->lock_fd >= 0 ? trees->lock_fd : own_lock);
                return r;
        }
        if (ret)
                *ret = TAKE_PTR(undo);
        return 0;
}
#pragma GCC diagnostic pop
