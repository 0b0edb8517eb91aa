/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-export: `image export` as a tarball (archive.c) or an erofs image
 * (mkfs.erofs over the image tree), written to an unnamed file in the
 * destination's directory and linked into place, so a failed or killed
 * export leaves no partial file.
 */
#include "fsutil.h"
#include "store-internal.h"

#include <libgen.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/random.h>
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

/* The export's output is an unnamed O_TMPFILE in the destination's directory
 * until it is complete, so that nothing is left whatever kills us; it then
 * gets its name with linkat() (over an existing file: a link to a temporary
 * name, renamed over it at once). Where the file system has no O_TMPFILE, a
 * hidden temporary name is used and removed on failure. */
typedef struct Output {
        int dirfd;
        int fd;
        char *base; /* the destination's name in dirfd */
        char *tmp;  /* the hidden name, when one is in use */
        char proc[64];
} Output;

static void output_done(Output *o) {
        if (o->tmp)
                (void)unlinkat(o->dirfd, o->tmp, 0);
        free(o->tmp);
        free(o->base);
        safe_close(o->fd);
        safe_close(o->dirfd);
}

static int output_open(Output *o, const char *path) {
        _cleanup_free_ char *d = strdup(path), *b = strdup(path);

        if (!d || !b)
                return log_oom();
        o->base = strdup(basename(b));
        if (!o->base)
                return log_oom();
        o->dirfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (o->dirfd < 0)
                return log_error_errno(errno, "export %s: %s: %m", path, d);
        o->fd = openat(o->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
        if (o->fd >= 0) {
                snprintf(o->proc, sizeof o->proc, "/proc/%d/fd/%d", (int)getpid(), o->fd);
                return 0;
        }
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
                return log_error_errno(errno, "export %s: creating: %m", path);
        if (asprintf_safe(&o->tmp, ".%s.tmp-%d", o->base, (int)getpid()) < 0)
                return log_oom();
        o->fd = openat(o->dirfd, o->tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (o->fd < 0) {
                int r = -errno;
                free(o->tmp); /* not ours to remove */
                o->tmp = NULL;
                return log_error_errno(r, "export %s: creating: %m", path);
        }
        return 0;
}

/* What mkfs.erofs writes to: the unnamed file through our fd, or the
 * hidden name. */
static char *output_path_for_child(Output *o, const char *path) {
        _cleanup_free_ char *d = strdup(path);

        if (!o->tmp)
                return strdup(o->proc);
        return d ? path_join(dirname(d), o->tmp) : NULL;
}

static int output_publish(Output *o, const char *path) {
        _cleanup_free_ char *tmp = NULL;

        if (fsync(o->fd) < 0)
                return log_error_errno(errno, "export %s: %m", path);
        if (o->tmp) {
                if (renameat(o->dirfd, o->tmp, o->dirfd, o->base) < 0)
                        return log_error_errno(errno, "export %s: %m", path);
                free(o->tmp);
                o->tmp = NULL;
                return 0;
        }
        if (linkat(AT_FDCWD, o->proc, o->dirfd, o->base, AT_SYMLINK_FOLLOW) >= 0)
                return 0;
        if (errno != EEXIST)
                return log_error_errno(errno, "export %s: %m", path);
        if (asprintf_safe(&tmp, ".%s.tmp-%d", o->base, (int)getpid()) < 0)
                return log_oom();
        (void)unlinkat(o->dirfd, tmp, 0);
        if (linkat(AT_FDCWD, o->proc, o->dirfd, tmp, AT_SYMLINK_FOLLOW) < 0 ||
            renameat(o->dirfd, tmp, o->dirfd, o->base) < 0) {
                int r = -errno;
                (void)unlinkat(o->dirfd, tmp, 0);
                return log_error_errno(r, "export %s: %m", path);
        }
        return 0;
}

int store_export(Store *s, const char *id, const char *path, ExportFormat format, Progress *p) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_close_ int rootfd = -EBADF;
        Output out = {.dirfd = -EBADF, .fd = -EBADF};
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

        r = output_open(&out, path);
        if (r >= 0 && format == EXPORT_TAR)
                r = archive_export(m, rootfd, out.fd, path, p);
        else if (r >= 0) {
                _cleanup_free_ char *child_out = output_path_for_child(&out, path), *what = NULL,
                                    *mnt = NULL;

                if (!child_out || asprintf_safe(&what, "export %s", path) < 0)
                        r = log_oom();
                else if (!detached) {
                        _cleanup_free_ char *root = store_image_root_path(s, id);
                        r = root ? run_mkfs_erofs(NULL, child_out, root, -EBADF, what) : log_oom();
                } else {
                        /* A delta image's tree is a detached mount: the child mounts
                         * it in its own namespace on an empty directory. */
                        /* staging/export-RANDOM, flock'ed while we live, so
                         * that a killed export's is removed by the next command
                         * that opens the store, not left beside the output. */
                        _cleanup_close_ int mntfd = -EBADF;
                        _cleanup_free_ char *name = NULL;
                        r = store_make_staging(s, "export-", what, &name, &mntfd);
                        if (r >= 0) {
                                mnt = path_join(s->path, "staging", name);
                                r = mnt ? run_mkfs_erofs(NULL, child_out, mnt, rootfd, what)
                                        : log_oom();
                                (void)unlinkat(s->staging_fd, name, AT_REMOVEDIR);
                        }
                }
                if (r >= 0 && p) {
                        struct stat st;
                        if (fstat(out.fd, &st) >= 0)
                                progress_update(p, m->n, (uint64_t)st.st_size);
                }
        }
        if (r >= 0)
                r = output_publish(&out, path);
        output_done(&out);
        return r;
}
