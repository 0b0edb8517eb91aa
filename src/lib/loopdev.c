/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loopdev: loop devices (LOOP_CTL_GET_FREE + LOOP_CONFIGURE) and libblkid
 * probing for the mount engine's loop and dev entries.
 */
#include "loopdev.h"
#include "util.h"

#include <blkid/blkid.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

/* Another process can take the device LOOP_CTL_GET_FREE handed us before we
 * configure it; this bounds how often we try again. */
#define LOOP_ATTACH_ATTEMPTS 64

int loopdev_attach(int file_fd, const char *name, int *ret_loop_fd,
                   char devname[static LOOPDEV_NAME_MAX]) {
        struct loop_config cfg = {
                .fd = (uint32_t)file_fd,
                .info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR,
        };
        _cleanup_close_ int ctl = -EBADF;

        assert(file_fd >= 0);
        assert(ret_loop_fd);
        if (name)
                strncpy((char *)cfg.info.lo_file_name, name, LO_NAME_SIZE - 1);

        ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ctl < 0)
                return -errno;
        for (unsigned attempt = 0; attempt < LOOP_ATTACH_ATTEMPTS; attempt++) {
                _cleanup_close_ int fd = -EBADF;
                int nr;

                nr = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (nr < 0)
                        return -errno;
                snprintf(devname, LOOPDEV_NAME_MAX, "/dev/loop%d", nr);
                fd = open(devname, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        /* The node can lag behind the device on a busy devtmpfs. */
                        if (errno == ENOENT || errno == ENXIO)
                                continue;
                        return -errno;
                }
                if (ioctl(fd, LOOP_CONFIGURE, &cfg) >= 0) {
                        *ret_loop_fd = TAKE_FD(fd);
                        return 0;
                }
                if (errno != EBUSY)
                        return -errno;
        }
        return -EBUSY;
}

static void blkid_free_probep(blkid_probe *p) {
        if (*p)
                blkid_free_probe(*p);
}

int loopdev_probe_fstype(int fd, char **only, char **ret_type) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        const char *type = NULL;
        char *t;
        int r;

        assert(fd >= 0);
        assert(ret_type);
        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return errno > 0 ? -errno : -EIO;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
        if (only && blkid_probe_filter_superblocks_type(pr, BLKID_FLTR_ONLYIN, only) < 0)
                return -ENOMEM;
        errno = 0;
        r = blkid_do_safeprobe(pr);
        if (r == 1)
                return -ENOMEDIUM;
        if (r == -2)
                return -EUCLEAN;
        if (r < 0)
                return errno > 0 ? -errno : -EIO;
        if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) < 0 || isempty(type))
                return -ENOMEDIUM;
        t = strdup(type);
        if (!t)
                return -ENOMEM;
        *ret_type = t;
        return 0;
}

int loopdev_evaluate_tag(const char *spec, char **ret_devname) {
        char *dev;

        assert(spec);
        assert(ret_devname);
        if (!startswith(spec, "UUID=") && !startswith(spec, "LABEL=")) {
                dev = strdup(spec);
                if (!dev)
                        return -ENOMEM;
                *ret_devname = dev;
                return 0;
        }
        /* A private cache: a stale /run/blkid/blkid.tab must not decide, and
         * nothing is written back. blkid verifies what it finds by probing. */
        {
                blkid_cache cache = NULL;

                if (blkid_get_cache(&cache, "/dev/null") < 0)
                        return -ENOMEM;
                dev = blkid_evaluate_tag(spec, NULL, &cache);
                blkid_put_cache(cache);
        }
        if (!dev)
                return -ENODEV;
        *ret_devname = dev;
        return 0;
}
