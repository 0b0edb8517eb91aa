/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fsutil: fd-relative file-system helpers.
 *
 * Image and instance trees are hostile input: every path inside them is
 * resolved relative to the tree's root fd with openat2(RESOLVE_IN_ROOT), so a
 * symlink planted in a tree can never lead outside it. Tree walks never follow
 * symlinks and never cross into another mount.
 */
#pragma once

#include <dirent.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* openat2(rootfd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS).
 * Returns the fd or -errno. O_CLOEXEC is always added. */
int openat_in_root(int rootfd, const char *path, int flags, mode_t mode);
/* Same, but any symlink in the path is an error (ELOOP): for paths that goldroot
 * itself created and that a guest may have replaced. */
int openat_in_root_nofollow(int rootfd, const char *path, int flags, mode_t mode);
/* Both fall back to this where the kernel has no openat2 (before 5.6, and under
 * valgrind): each component opened O_NOFOLLOW, symlinks expanded by hand (an
 * absolute one from rootfd, at most 40), ".." taken lexically so it never
 * climbs above rootfd. Exported for its tests. */
int openat_in_root_userspace(int rootfd, const char *path, int flags, mode_t mode,
                             bool no_symlinks);
/* The target of the symlink name under dirfd, allocated. -errno on failure. */
int readlinkat_malloc(int dirfd, const char *name, char **ret);

/* Creates every missing directory of path inside rootfd (resolved in-root) with
 * the given mode, and returns an O_PATH|O_DIRECTORY fd for it (or 0 if ret_fd is
 * NULL). Newly created directories are appended to *created (relative to
 * rootfd, outermost first) when created is not NULL, so a caller can undo. */
int mkdir_p_in_root(int rootfd, const char *path, mode_t mode, int *ret_fd, char ***created);

/* Removes name below dirfd recursively; never follows symlinks, never crosses a
 * mount point (EBUSY). Missing name is success. */
int rm_rf_at(int dirfd, const char *name);

/* Copies the contents of directory src_dirfd into dst_dirfd: regular files,
 * directories, symlinks, device nodes, FIFOs and sockets, with mode, owner,
 * times and xattrs. Existing entries in dst are replaced. */
int copy_tree_contents_at(int src_dirfd, int dst_dirfd);
/* Copies src's whole content (from offset 0) to dst's current position: a
 * reflink where the file system can, else each data extent (SEEK_DATA,
 * SEEK_HOLE) with copy_file_range, else pread/pwrite, so that holes stay
 * holes; dst then ends at src's size and its position after the data. */
int copy_fd_data(int src, int dst);
/* write(2) until all of data is written. */
int write_all(int fd, const void *data, size_t n);
/* Copies one regular file's data and metadata; dst is created or truncated. */
int copy_file_at(int src_dirfd, const char *src_name, int dst_dirfd, const char *dst_name);
/* mode, owner, times (and xattrs when copy_xattrs) from st/srcfd onto dstfd. */
int copy_metadata_fd(int srcfd, const struct stat *st, int dstfd, bool copy_xattrs);
int copy_xattrs_fd(int srcfd, int dstfd);
/* The same, leaving out the names skip() says to. */
int copy_xattrs_fd_filtered(int srcfd, int dstfd, bool (*skip)(const char *name));
/* The xattr names of path (followed: give /proc/self/fd/N for an fd), as
 * listxattr(2) packs them; none where xattrs are unsupported. -EAGAIN if
 * they changed between the two calls. */
int xattr_names(const char *path, char **ret, size_t *ret_len);

/* Reads a whole file (at most max bytes, else -EFBIG), NUL-terminated. */
int read_file_at(int dirfd, const char *path, char **ret, size_t *ret_len, size_t max);
/* Writes data to dirfd/name through a temporary file, fsync and rename. */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/* The same without fsync, for files whose loss in a power failure costs nothing
 * worse than an older version: readers still see the old file or the new one,
 * never half of one. */
int write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/* "/proc/self/fd/N" for an fd, for APIs that only take a path. */
#define FD_PATH_MAX 32
const char *fd_path(int fd, char buf[static FD_PATH_MAX]);

/* True if path is a mount point (statx STATX_ATTR_MOUNT_ROOT). */
int is_mount_point_at(int dirfd, const char *path);
/* The id of the mount that path (or dirfd itself, for "") lies on: the
 * never-reused 64-bit id where the kernel has it (Linux 6.8), else the classic
 * one. Does not follow a final symlink. */
int mount_id_at(int dirfd, const char *path, uint64_t *ret);
/* 1 if the mount with id (as mount_id_at() gives it) is still in this mount
 * namespace, wherever it is and whatever covers it; 0 if it is gone. */
int mount_id_exists(uint64_t id);

/* A DIR stream over path (relative to dirfd, not following a last symlink),
 * on an fd of its own: dirfd stays usable. */
int opendir_at(int dirfd, const char *path, DIR **ret);
