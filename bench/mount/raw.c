/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * raw: the floor for bench/mount. Assembles and tears down the same 10 mounts
 * as bench/mount/bench.profile with nothing but the syscalls themselves
 * (open_tree/mount_setattr/move_mount, fsopen/fsconfig/fsmount, LOOP_CONFIGURE,
 * umount2), so that goldroot's per-assembly cost can be read as a ratio of it.
 *
 * bench-mount.c calls raw_iteration() alternately with goldroot's own
 * iteration, so both see the same machine noise.
 */
#include "bench-common.h"

#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>

double raw_iteration(const char *benchdir);

#define MAX_MOUNTS 16

static int targets_n;
static char targets[MAX_MOUNTS][512];

static void attach(int mfd, int rootfd, const char *rel, const char *root) {
        if (move_mount(mfd, "", rootfd, rel, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                die("move_mount %s", rel);
        close(mfd);
        if (snprintf(targets[targets_n++], sizeof targets[0], "%s/%s", root, rel) >=
            (int)sizeof targets[0])
                die("target %s/%s is too long", root, rel);
}

static void bind(int rootfd, const char *root, const char *src, const char *rel, bool ro) {
        int t = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (t < 0)
                die("open_tree %s", src);
        if (ro) {
                struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
                if (mount_setattr(t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
                        die("mount_setattr");
        }
        attach(t, rootfd, rel, root);
}

static int fs_create(const char *type, const char *const *kv) {
        int fs = fsopen(type, FSOPEN_CLOEXEC), m;
        if (fs < 0)
                die("fsopen %s", type);
        for (; kv && kv[0]; kv += 2)
                if (fsconfig(fs, kv[1] ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, kv[0], kv[1], 0) <
                    0)
                        die("fsconfig %s", kv[0]);
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                die("fsconfig create %s", type);
        m = fsmount(fs, FSMOUNT_CLOEXEC, 0);
        if (m < 0)
                die("fsmount %s", type);
        close(fs);
        return m;
}

static void overlay(int rootfd, const char *root, const char *lower, const char *upper,
                    const char *work, const char *rel) {
        const char *kv[] = {"lowerdir", lower, "upperdir", upper, "workdir", work, NULL};
        attach(fs_create("overlay", kv), rootfd, rel, root);
}

static void loop_erofs(int rootfd, const char *root, const char *image, const char *rel) {
        struct loop_config cfg = {.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR};
        char dev[64];
        int ctl, nr, lfd, ffd, m;

        ffd = open(image, O_RDONLY | O_CLOEXEC);
        ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ffd < 0 || ctl < 0)
                die("open %s", image);
        for (;;) {
                nr = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (nr < 0)
                        die("LOOP_CTL_GET_FREE");
                snprintf(dev, sizeof dev, "/dev/loop%d", nr);
                lfd = open(dev, O_RDONLY | O_CLOEXEC);
                if (lfd < 0)
                        die("open %s", dev);
                cfg.fd = ffd;
                if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0)
                        break;
                if (errno != EBUSY)
                        die("LOOP_CONFIGURE");
                close(lfd);
        }
        {
                const char *kv[] = {"source", dev, "ro", NULL, NULL};
                m = fs_create("erofs", kv);
        }
        attach(m, rootfd, rel, root);
        close(lfd);
        close(ffd);
        close(ctl);
}

static void assemble(const char *b, const char *root) {
        char p[8][512];
        int rootfd;

        targets_n = 0;
        snprintf(p[0], sizeof p[0], "%s/image", b);
        bind(AT_FDCWD, root, p[0], root, true);
        /* The root fd must be taken after "/" is mounted, to see the new tree. */
        targets_n = 0;
        snprintf(targets[targets_n++], sizeof targets[0], "%s", root);
        rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        snprintf(p[0], sizeof p[0], "%s/image/etc", b);
        snprintf(p[1], sizeof p[1], "%s/state/etc", b);
        snprintf(p[2], sizeof p[2], "%s/state/.work/etc", b);
        overlay(rootfd, root, p[0], p[1], p[2], "etc");
        snprintf(p[0], sizeof p[0], "%s/image/var", b);
        snprintf(p[1], sizeof p[1], "%s/state/var", b);
        snprintf(p[2], sizeof p[2], "%s/state/.work/var", b);
        overlay(rootfd, root, p[0], p[1], p[2], "var");
        {
                const char *kv[] = {"size", "64M", "mode", "1777", NULL};
                attach(fs_create("tmpfs", kv), rootfd, "tmp", root);
        }
        snprintf(p[0], sizeof p[0], "%s/state/home", b);
        bind(rootfd, root, p[0], "home", false);
        snprintf(p[0], sizeof p[0], "%s/state/root", b);
        bind(rootfd, root, p[0], "root", false);
        snprintf(p[0], sizeof p[0], "%s/state/srv", b);
        bind(rootfd, root, p[0], "srv", false);
        snprintf(p[0], sizeof p[0], "%s/image/var/lib/dpkg", b);
        bind(rootfd, root, p[0], "var/lib/dpkg", true);
        snprintf(p[0], sizeof p[0], "%s/state/log", b);
        bind(rootfd, root, p[0], "var/log", false);
        snprintf(p[0], sizeof p[0], "%s/opt.erofs", b);
        loop_erofs(rootfd, root, p[0], "opt");
        close(rootfd);
}

static void teardown(void) {
        for (int i = targets_n - 1; i >= 0; i--)
                if (umount2(targets[i], UMOUNT_NOFOLLOW) < 0)
                        die("umount %s", targets[i]);
}

double raw_iteration(const char *benchdir) {
        char root[512];
        double s = now_us();

        snprintf(root, sizeof root, "%s/root", benchdir);
        assemble(benchdir, root);
        teardown();
        return now_us() - s;
}
