/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mount-block: the entries whose file system lives on a block device, a loop
 * device over an image file (loop) or a real one (dev): probed with libblkid,
 * mounted with fsopen()/fsmount() and attached like every other mount.
 */
#include "mount-internal.h"
#include "fsutil.h"
#include "loopdev.h"
#include "util.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

/* Mounts the file system on device devname (open at devfd) read-only or not,
 * as type, onto the op's target. */
static int mount_block(Apply *a, const MountOp *op, const char *devname, const char *type,
                       unsigned attrs, int *ret_mfd) {
        _cleanup_close_ int fs = -EBADF;
        int r;

        r = apply_fs_open(a, type, &fs);
        if (r >= 0)
                r = apply_fs_set(a, fs, "source", devname);
        if (r >= 0 && (attrs & MOUNT_ATTR_RDONLY))
                r = apply_fs_set(a, fs, "ro", NULL);
        if (r >= 0)
                r = apply_fs_mount(a, fs, type, attrs, ret_mfd);
        return r;
}

/* The kernel's name for a probed type: ext2 and ext3 file systems are served
 * by the ext4 driver. */
static const char *kernel_fstype(const char *t) {
        if (streq(t, "ext2") || streq(t, "ext3"))
                return "ext4";
        return t;
}

static int probe_fail(Apply *a, int r, const char *what, const char *expected) {
        if (r == -ENOMEDIUM)
                return apply_fail(a, ENOMEDIUM, "no file system found in %s%s", what, expected);
        if (r == -EUCLEAN)
                return apply_fail(a, EUCLEAN, "ambiguous file system signatures in %s", what);
        return apply_fail(a, r, "cannot probe %s", what);
}

static const char *const loop_fstypes[] = {"erofs", "squashfs", "ext4", "ext3", "ext2", NULL};

int mount_apply_loop(Apply *a, const MountOp *op) {
        _cleanup_close_ int path = -EBADF, file = -EBADF, loop = -EBADF, mfd = -EBADF;
        _cleanup_free_ char *type = NULL;
        char devname[LOOPDEV_NAME_MAX], buf[FD_PATH_MAX];
        const char *ktype;
        struct stat st;
        int r;

        /* O_PATH first: opening a FIFO (or a device) for reading could block
         * forever, with the runtime lock held. Only a regular file is reopened. */
        r = apply_open_source(a, op, O_PATH, false, &path);
        if (r < 0 || path < 0)
                return r;
        if (fstat(path, &st) < 0)
                return apply_fail(a, errno, "cannot stat the image file");
        if (!S_ISREG(st.st_mode))
                return apply_fail(a, EINVAL, "%s%s is not a regular file",
                                  apply_prefix_of(a, op, &op->source), op->source.path);
        file = open(fd_path(path, buf), O_RDONLY | O_CLOEXEC);
        if (file < 0)
                return apply_fail(a, errno, "cannot open %s%s", apply_prefix_of(a, op, &op->source),
                                  op->source.path);

        /* Probe the file itself, so an unusable image never gets a device;
         * only for what a loop entry may hold, which also keeps it cheap. */
        r = loopdev_probe_fstype(file, (char **)loop_fstypes, &type);
        if (r < 0)
                return probe_fail(a, r, "the image file", " (erofs, squashfs or ext4 expected)");
        ktype = kernel_fstype(type);

        r = loopdev_attach(file, op->source.path, &loop, devname);
        if (r < 0)
                return apply_fail(a, r, "cannot attach a loop device");
        r = mount_block(a, op, devname, ktype, mount_attr_from_flags(op->flags | ENTRY_RO), &mfd);
        if (r < 0)
                return r;
        /* The superblock holds the device now; autoclear frees it at unmount. */
        loop = safe_close(loop);
        return apply_place(a, op, TAKE_FD(mfd));
}

int mount_apply_dev(Apply *a, const MountOp *op) {
        _cleanup_close_ int dev = -EBADF, mfd = -EBADF;
        _cleanup_free_ char *devname = NULL, *type = NULL;
        const char *spec = op->device ?: op->source.path;
        struct stat st;
        int r;

        if (isempty(spec))
                return apply_fail(a, EINVAL, "no device given");
        r = loopdev_evaluate_tag(spec, &devname);
        if (r == -ENODEV && (op->flags & ENTRY_OPTIONAL)) {
                log_debug("mount entry '%s': no device %s, skipped (optional)", op->entry, spec);
                return 0;
        }
        if (r < 0)
                return apply_fail(a, r, r == -ENODEV ? "no device with %s" : "cannot look up %s",
                                  spec);
        dev = open(devname, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (dev < 0) {
                if (errno == ENOENT && (op->flags & ENTRY_OPTIONAL))
                        return 0;
                return apply_fail(a, errno, "cannot open %s", devname);
        }
        if (fstat(dev, &st) < 0)
                return apply_fail(a, errno, "cannot stat %s", devname);
        if (!S_ISBLK(st.st_mode))
                return apply_fail(a, ENOTBLK, "%s is not a block device", devname);
        r = loopdev_probe_fstype(dev, NULL, &type);
        if (r < 0)
                return probe_fail(a, r, devname, "");
        r = mount_block(a, op, devname, kernel_fstype(type), mount_attr_from_flags(op->flags),
                        &mfd);
        if (r < 0)
                return r;
        dev = safe_close(dev);
        return apply_place(a, op, TAKE_FD(mfd));
}
