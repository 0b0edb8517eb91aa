/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-export: `image export` as a tarball (archive.c) or an erofs image
 * (mkfs.erofs over the image tree), written beside the destination and
 * renamed into place, so a failed export leaves no partial file.
 */
#include "fsutil.h"
#include "store-internal.h"

#include <libgen.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>

extern char **environ;

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

static int export_erofs(Store *s, const char *id, const char *tmp, const char *path) {
        _cleanup_free_ char *root = store_image_root_path(s, id);
        _cleanup_close_ int out = -EBADF;
        posix_spawn_file_actions_t fa;
        char *argv[] = {(char *)"mkfs.erofs",
                        (char *)"--quiet",
                        (char *)"--preserve-mtime",
                        (char *)tmp,
                        root,
                        NULL};
        char msg[512];
        pid_t pid;
        int r, status;

        if (!root)
                return log_oom();
        out = memfd_create("mkfs.erofs", MFD_CLOEXEC);
        if (out < 0)
                return log_error_errno(errno, "export %s: %m", path);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, out, STDERR_FILENO);
        r = posix_spawnp(&pid, "mkfs.erofs", &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return log_error_errno(r, "export %s: running mkfs.erofs: %m", path);
        if (waitpid(pid, &status, 0) < 0)
                return log_error_errno(errno, "export %s: waiting for mkfs.erofs: %m", path);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                last_line(out, msg, sizeof msg);
                return log_error_errno(EIO, "export %s: mkfs.erofs failed: %s", path,
                                       msg[0] ? msg : "no message");
        }
        return 0;
}

int store_export(Store *s, const char *id, const char *path, ExportFormat format, Progress *p) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_close_ int rootfd = -EBADF, dirfd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *dir = NULL, *base = NULL, *tmp = NULL;
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
                _cleanup_free_ char *tmppath = path_join(dir, tmp);
                fd = safe_close(fd);
                r = tmppath ? export_erofs(s, id, tmppath, path) : log_oom();
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
