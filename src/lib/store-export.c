/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-export: `image export` as a tarball (archive.c) or an erofs image
 * (mkfs.erofs over the image tree), written beside the destination and
 * renamed into place, so a failed export leaves no partial file.
 */
#include "fsutil.h"
#include "store-internal.h"

#include <libgen.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/mman.h>
#include <sys/wait.h>

/* The last non-empty line a tool wrote, for a one-line error. */
static void last_line(int fd, char *buf, size_t len) {
        ssize_t n;
        char *end, *start;

        buf[0] = 0;
        n = pread(fd, buf, len - 1, 0);
        if (n <= 0)
                return;
        buf[n] = 0;
        end = buf + n;
        while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
                *--end = 0;
        start = strrchr(buf, '\n');
        if (start)
                memmove(buf, start + 1, strlen(start + 1) + 1);
}

/* In the child: mkfs.erofs canonicalizes its source path, and the path of a
 * detached mount (a delta image's tree) reads as "/". So the tree is attached
 * at src in a mount namespace of the child's own, then mkfs.erofs runs. */
static _Noreturn void exec_mkfs_erofs(const char *const *argv, int out, int tree_fd,
                                      const char *src) {
        if (dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0)
                _exit(127);
        if (tree_fd >= 0) {
                int m;
                if (unshare(CLONE_NEWNS) < 0 ||
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                        fprintf(stderr, "cannot make a mount namespace: %m\n");
                        _exit(127);
                }
                m = open_tree(tree_fd, "", OPEN_TREE_CLONE | AT_EMPTY_PATH);
                if (m < 0 || move_mount(m, "", AT_FDCWD, src, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                        fprintf(stderr, "cannot attach the image tree: %m\n");
                        _exit(127);
                }
        }
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run mkfs.erofs: %m\n");
        _exit(127);
}

int run_mkfs_erofs(const char *const *extra, const char *out_path, const char *src, int tree_fd,
                   const char *what) {
        _cleanup_close_ int out = -EBADF;
        const char *argv[16] = {"mkfs.erofs", "--quiet", "--preserve-mtime"};
        size_t n = 3;
        char msg[512];
        pid_t pid;
        int status;

        for (size_t i = 0; extra && extra[i]; i++) {
                assert(n < ELEMENTSOF(argv) - 3);
                argv[n++] = extra[i];
        }
        argv[n++] = out_path;
        argv[n++] = src;
        argv[n] = NULL;
        out = memfd_create("mkfs.erofs", MFD_CLOEXEC);
        if (out < 0)
                return log_error_errno(errno, "%s: %m", what);
        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "%s: running mkfs.erofs: %m", what);
        if (pid == 0)
                exec_mkfs_erofs(argv, out, tree_fd, src);
        if (waitpid(pid, &status, 0) < 0)
                return log_error_errno(errno, "%s: waiting for mkfs.erofs: %m", what);
        if (WIFSIGNALED(status))
                return log_error_errno(EIO, "%s: mkfs.erofs failed: killed by signal %d (%s)", what,
                                       WTERMSIG(status), strsignal(WTERMSIG(status)));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                last_line(out, msg, sizeof msg);
                return log_error_errno(EIO, "%s: mkfs.erofs failed: %s", what,
                                       msg[0] ? msg : "no message");
        }
        return 0;
}

int store_export(Store *s, const char *id, const char *path, ExportFormat format, Progress *p) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_close_ int rootfd = -EBADF, dirfd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *dir = NULL, *base = NULL, *tmp = NULL;
        bool detached;
        int r;

        assert(s && id && path);
        r = store_read_manifest(s, id, &m);
        if (r < 0)
                return r;
        if (p)
                manifest_totals(m, NULL, &p->total_bytes);
        r = store_open_image_root(s, id, &rootfd);
        if (r < 0)
                return log_error_errno(r, "export %s: opening image %.12s: %m", path, id);
        detached = r > 0;

        if (streq(path, "-")) {
                if (format != EXPORT_TAR)
                        return log_error_errno(EINVAL,
                                               "export: erofs cannot go to standard output");
                if (isatty(STDOUT_FILENO))
                        return log_error_errno(EINVAL,
                                               "export: refusing to write a tarball to a terminal");
                r = archive_export(m, rootfd, STDOUT_FILENO, path, p);
                return r;
        }

        /* Temporary file beside the destination, renamed over it at the end. */
        {
                _cleanup_free_ char *d = strdup(path), *b = strdup(path);
                if (!d || !b)
                        return log_oom();
                dir = strdup(dirname(d));
                base = strdup(basename(b));
                if (!dir || !base)
                        return log_oom();
        }
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return log_error_errno(errno, "export %s: %s: %m", path, dir);
        if (asprintf_safe(&tmp, ".%s.tmp-%d", base, (int)getpid()) < 0)
                return log_oom();
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return log_error_errno(errno, "export %s: creating: %m", path);

        if (format == EXPORT_TAR)
                r = archive_export(m, rootfd, fd, path, p);
        else {
                _cleanup_free_ char *tmppath = path_join(dir, tmp), *what = NULL, *mnt = NULL;

                fd = safe_close(fd);
                /* A delta image's tree is a detached mount: the child mounts it
                 * in its own namespace on an empty directory beside the output. */
                if (!tmppath || asprintf_safe(&what, "export %s", path) < 0 ||
                    asprintf_safe(&mnt, "%s.d", tmppath) < 0)
                        return log_oom();
                if (!detached) {
                        _cleanup_free_ char *root = store_image_root_path(s, id);
                        r = root ? run_mkfs_erofs(NULL, tmppath, root, -EBADF, what) : log_oom();
                } else {
                        if (mkdir(mnt, 0700) < 0)
                                r = log_error_errno(errno, "export %s: %s: %m", path, mnt);
                        else {
                                r = run_mkfs_erofs(NULL, tmppath, mnt, rootfd, what);
                                (void)rmdir(mnt);
                        }
                }
                if (r >= 0) {
                        fd = openat(dirfd, tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                r = log_error_errno(errno, "export %s: %m", path);
                }
                if (r >= 0 && p) {
                        struct stat st;
                        if (fstat(fd, &st) >= 0)
                                progress_update(p, m->n, (uint64_t)st.st_size);
                }
        }
        if (r >= 0 && fsync(fd) < 0)
                r = log_error_errno(errno, "export %s: %m", path);
        if (r >= 0 && renameat(dirfd, tmp, dirfd, base) < 0)
                r = log_error_errno(errno, "export %s: %m", path);
        if (r < 0)
                (void)unlinkat(dirfd, tmp, 0);
        return r;
}
