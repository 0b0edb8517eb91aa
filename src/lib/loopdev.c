/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loopdev: loop devices (LOOP_CTL_GET_FREE + LOOP_CONFIGURE) and libblkid
 * probing for the mount engine's loop and dev entries. libblkid is loaded
 * with dlopen() by the first probe: most commands never probe.
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

#define LIBBLKID_SONAME "libblkid.so.1"
#define BLKID_SYMBOLS(X)                                                                           \
        X(blkid_new_probe)                                                                         \
        X(blkid_free_probe)                                                                        \
        X(blkid_probe_set_device)                                                                  \
        X(blkid_probe_enable_superblocks)                                                          \
        X(blkid_probe_set_superblocks_flags)                                                       \
        X(blkid_probe_filter_superblocks_type)                                                     \
        X(blkid_do_safeprobe)                                                                      \
        X(blkid_probe_lookup_value)                                                                \
        X(blkid_get_cache)                                                                         \
        X(blkid_evaluate_tag)                                                                      \
        X(blkid_put_cache)

/* Set once by dlopen_libblkid() before the first use, never written again. */
BLKID_SYMBOLS(DLSYM_DEFINE)

static int dlopen_libblkid(void) {
        static void *dl = NULL;
        static const DlSym syms[] = {BLKID_SYMBOLS(DLSYM_ENTRY)};

        return dlopen_symbols(LIBBLKID_SONAME, &dl, syms, ELEMENTSOF(syms));
}

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
                sym_blkid_free_probe(*p);
}

int loopdev_probe_fstype(int fd, char **only, char **ret_type) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        const char *type = NULL;
        char *t;
        int r;

        assert(fd >= 0);
        assert(ret_type);
        r = dlopen_libblkid();
        if (r < 0)
                return r;
        pr = sym_blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (sym_blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return errno > 0 ? -errno : -EIO;
        sym_blkid_probe_enable_superblocks(pr, 1);
        sym_blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
        if (only && sym_blkid_probe_filter_superblocks_type(pr, BLKID_FLTR_ONLYIN, only) < 0)
                return -ENOMEM;
        errno = 0;
        r = sym_blkid_do_safeprobe(pr);
        if (r == 1)
                return -ENOMEDIUM;
        if (r == -2)
                return -EUCLEAN;
        if (r < 0)
                return errno > 0 ? -errno : -EIO;
        if (sym_blkid_probe_lookup_value(pr, "TYPE", &type, NULL) < 0 || isempty(type))
                return -ENOMEDIUM;
        t = strdup(type);
        if (!t)
                return -ENOMEM;
        *ret_type = t;
        return 0;
}

int loopdev_evaluate_tag(const char *spec, char **ret_devname) {
        char *dev;
        int r;

        assert(spec);
        assert(ret_devname);
        if (!startswith(spec, "UUID=") && !startswith(spec, "LABEL=")) {
                dev = strdup(spec);
                if (!dev)
                        return -ENOMEM;
                *ret_devname = dev;
                return 0;
        }
        r = dlopen_libblkid();
        if (r < 0)
                return r;
        /* A private cache: a stale /run/blkid/blkid.tab must not decide, and
         * nothing is written back. blkid verifies what it finds by probing. */
        {
                blkid_cache cache = NULL;

                if (sym_blkid_get_cache(&cache, "/dev/null") < 0)
                        return -ENOMEM;
                dev = sym_blkid_evaluate_tag(spec, NULL, &cache);
                sym_blkid_put_cache(cache);
        }
        if (!dev)
                return -ENODEV;
        *ret_devname = dev;
        return 0;
}
