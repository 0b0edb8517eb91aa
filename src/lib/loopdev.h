/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loopdev: what the mount engine needs from block devices: attach an image
 * file to a free loop device (read-only, autoclear), find out which file
 * system an image or device holds, and turn UUID=/LABEL= tags into a device,
 * all through the kernel's loop ioctls and libblkid.
 */
#pragma once

#include <stddef.h>

#define LOOPDEV_NAME_MAX 32

/* Attaches the regular file open at file_fd to a free loop device with
 * LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR, retrying when another process takes
 * the same device first. name (at most 64 bytes are kept) is what `losetup -a`
 * shows as the backing file. Returns an fd of the loop device and its node
 * ("/dev/loopN") in devname. Closing the fd before anything else holds the
 * device detaches it again (autoclear). */
int loopdev_attach(int file_fd, const char *name, int *ret_loop_fd,
                   char devname[static LOOPDEV_NAME_MAX]);

/* Probes the file system type of an image file or block device open at fd
 * (libblkid superblock probing). Returns the type as libblkid names it
 * ("erofs", "squashfs", "ext4", ...) in a newly allocated string, -ENOMEDIUM
 * when nothing is recognized, or -EUCLEAN when the signatures are ambiguous.
 * only (NULL-terminated, or NULL for every type) limits what is tried. */
int loopdev_probe_fstype(int fd, char **only, char **ret_type);

/* Resolves "UUID=..." or "LABEL=..." (or a plain device path, returned as is)
 * to a device node. -ENODEV if no device carries the tag. */
int loopdev_evaluate_tag(const char *spec, char **ret_devname);
