/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-mount: the mount engine against hand-built plans, with real mounts in
 * a private mount namespace of the test process (run as root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "assembly.h"
#include "fsutil.h"
#include "mount.h"
#include "mount-internal.h"
#include "util.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

typedef struct Fixture {
        char dir[64];
        char root[128], image[128], state[128], host[128];
        MountTrees trees;
        char *log;
        size_t log_len;
        FILE *log_stream;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        char run[160];

        assert_non_null(f);
        strcpy(f->dir, "/tmp/goldroot-test-mount-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->root, sizeof f->root, "%s/root", f->dir);
        snprintf(f->image, sizeof f->image, "%s/image", f->dir);
        snprintf(f->state, sizeof f->state, "%s/state", f->dir);
        snprintf(f->host, sizeof f->host, "%s/host", f->dir);
        snprintf(run, sizeof run, "%s/run", f->dir);
        setenv("GOLDROOT_RUNDIR", run, 1);
        assert_int_equal(mkdir(f->root, 0755), 0);
        assert_int_equal(mkdir(f->image, 0755), 0);
        assert_int_equal(mkdir(f->state, 0755), 0);
        assert_int_equal(mkdir(f->host, 0755), 0);
        f->trees = (MountTrees)MOUNT_TREES_INIT;
        f->trees.root_fd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        f->trees.image_fd = open(f->image, O_PATH | O_DIRECTORY | O_CLOEXEC);
        f->trees.state_fd = open(f->state, O_PATH | O_DIRECTORY | O_CLOEXEC);
        f->trees.root_path = f->root;
        f->trees.holder = "test-a";
        f->log_stream = open_memstream(&f->log, &f->log_len);
        log_set_stream(f->log_stream);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        char cmd[256];

        log_set_stream(NULL);
        fclose(f->log_stream);
        free(f->log);
        safe_close(f->trees.root_fd);
        safe_close(f->trees.image_fd);
        safe_close(f->trees.state_fd);
        /* Anything a failed test left mounted goes with the directory. */
        snprintf(cmd, sizeof cmd, "umount -R -l %s 2>/dev/null; rm -rf %s", f->dir, f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static const char *logged(Fixture *f) {
        fflush(f->log_stream);
        return f->log ? f->log : "";
}

static unsigned count_lines(const char *s) {
        unsigned n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static void sh(const char *fmt, ...) _printf_(1, 2);
static void sh(const char *fmt, ...) {
        char cmd[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        assert_int_equal(system(cmd), 0);
}

/* The options field of the top mount on path in /proc/self/mountinfo, or
 * NULL. Paths in the tests have no characters that mountinfo escapes. */
static char *mount_options(const char *path) {
        FILE *in = fopen("/proc/self/mountinfo", "re");
        char line[4096], *found = NULL;

        assert_non_null(in);
        while (fgets(line, sizeof line, in)) {
                char mp[1024], opts[1024];
                if (sscanf(line, "%*s %*s %*s %*s %1023s %1023s", mp, opts) == 2 &&
                    streq(mp, path)) {
                        free(found);
                        found = strdup(opts);
                }
        }
        fclose(in);
        return found;
}

static bool has_option(const char *opts, const char *opt) {
        size_t n = strlen(opt);
        for (const char *p = opts; p && *p;) {
                if (strncmp(p, opt, n) == 0 && (p[n] == ',' || p[n] == 0))
                        return true;
                p = strchr(p, ',');
                p = p ? p + 1 : NULL;
        }
        return false;
}

/* How many mounts lie at or below dir. */
static unsigned mounts_under(const char *dir) {
        FILE *in = fopen("/proc/self/mountinfo", "re");
        char line[4096];
        unsigned n = 0;

        assert_non_null(in);
        while (fgets(line, sizeof line, in)) {
                char mp[1024];
                if (sscanf(line, "%*s %*s %*s %*s %1023s", mp) == 1 && path_is_under(mp, dir))
                        n++;
        }
        fclose(in);
        return n;
}

static int write_errno(const char *dir, const char *name) {
        char p[512];
        int fd;

        snprintf(p, sizeof p, "%s/%s", dir, name);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return errno;
        close(fd);
        return 0;
}

static bool exists(const char *dir, const char *name) {
        char p[512];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, name);
        return lstat(p, &st) == 0;
}

static MountOp op_new(OpKind kind, const char *entry, PathBase sbase, const char *src,
                      const char *target, unsigned flags) {
        return (MountOp){
                .kind = kind,
                .entry = (char *)entry,
                .source = {sbase, (char *)src},
                .target = {BASE_ROOT, (char *)target},
                .flags = flags,
        };
}

static void test_bind_ro_root_and_rw(void **state) {
        Fixture *f = *state;
        char p[256];
        MountOp ops[2];
        Plan plan = {ops, 2};
        _cleanup_(mount_undo_freep) MountUndo *u = NULL;
        _cleanup_free_ char *opts = NULL;

        sh("mkdir -p %s/etc %s/srv && echo gold >%s/etc/hostname", f->image, f->state, f->image);
        ops[0] = op_new(OP_BIND, "root", BASE_IMAGE, "/", "/", ENTRY_RO);
        ops[1] = op_new(OP_BIND, "srv", BASE_STATE, "/srv", "/etc", ENTRY_RW);
        assert_int_equal(mount_apply(&plan, &f->trees, &u), 0);

        /* The root's fd was re-opened after "/": /etc is on the new root. */
        assert_int_equal(write_errno(f->root, "foo"), EROFS);
        assert_int_equal(write_errno(f->root, "etc/foo"), 0);
        snprintf(p, sizeof p, "%s/srv/foo", f->state);
        assert_true(access(p, F_OK) == 0);
        opts = mount_options(f->root);
        assert_true(has_option(opts, "ro"));
        assert_int_equal(mounts_under(f->root), 2);

        assert_int_equal(mount_undo_run(u, -EBADF), 0);
        assert_int_equal(mounts_under(f->root), 0);
        assert_false(exists(f->root, "etc"));
}

static void test_bind_recursive_ro(void **state) {
        Fixture *f = *state;
        MountOp ops[1];
        Plan plan = {ops, 1};
        _cleanup_(mount_undo_freep) MountUndo *u = NULL;

        /* A submount inside the bind source must turn read-only too. */
        sh("mkdir -p %s/sub && mount -t tmpfs sub %s/sub", f->host, f->host);
        assert_int_equal(write_errno(f->host, "sub/ok"), 0);
        ops[0] = op_new(OP_BIND, "root", BASE_HOST, f->host, "/", ENTRY_RO);
        assert_int_equal(mount_apply(&plan, &f->trees, &u), 0);
        assert_int_equal(write_errno(f->root, "x"), EROFS);
        assert_int_equal(write_errno(f->root, "sub/x"), EROFS);
        assert_true(exists(f->root, "sub/ok"));
        /* The source itself stays writable. */
        assert_int_equal(write_errno(f->host, "sub/y"), 0);
        assert_int_equal(mount_undo_run(u, -EBADF), 0);
        assert_int_equal(mounts_under(f->root), 0);
        sh("umount %s/sub", f->host);
}

static void test_bind_create_and_optional(void **state) {
        Fixture *f = *state;
        MountOp ops[3];
        Plan plan = {ops, 3};
        _cleanup_(mount_undo_freep) MountUndo *u = NULL;

        sh("echo x >%s/file", f->host);
        ops[0] = op_new(OP_BIND, "home", BASE_STATE, "/a/home", "/srv/home",
                        ENTRY_RW | ENTRY_CREATE);
        ops[1] = op_new(OP_BIND, "cfg", BASE_HOST, "", "/conf/file", ENTRY_RO | ENTRY_CREATE);
        {
                static char src[256];
                snprintf(src, sizeof src, "%s/file", f->host);
                ops[1].source.path = src;
        }
        ops[2] = op_new(OP_BIND, "dpkg", BASE_IMAGE, "/var/lib/dpkg", "/var/lib/dpkg",
                        ENTRY_RO | ENTRY_OPTIONAL);
        assert_int_equal(mount_apply(&plan, &f->trees, &u), 0);
        assert_true(exists(f->state, "a/home"));
        assert_int_equal(write_errno(f->root, "srv/home/x"), 0);
        assert_true(exists(f->state, "a/home/x"));
        /* A file source gets a file mount point. */
        {
                char p[256];
                struct stat st;
                snprintf(p, sizeof p, "%s/conf/file", f->root);
                assert_int_equal(stat(p, &st), 0);
                assert_true(S_ISREG(st.st_mode));
                assert_int_equal(st.st_size, 2);
        }
        assert_false(exists(f->root, "var"));
        assert_int_equal(mounts_under(f->root), 2);
        assert_int_equal(mount_undo_run(u, -EBADF), 0);
        assert_int_equal(mounts_under(f->root), 0);
        /* Undo removes the mount points it created, and never data. */
        assert_false(exists(f->root, "srv"));
        assert_false(exists(f->root, "conf"));
        assert_true(exists(f->state, "a/home/x"));
}

static void test_tmpfs_size_mode_flags(void **state) {
        Fixture *f = *state;
        MountOp ops[1];
        Plan plan = {ops, 1};
        _cleanup_(mount_undo_freep) MountUndo *u = NULL;
        _cleanup_free_ char *opts = NULL;
        char p[256];
        struct statfs sfs;
        struct stat st;

        sh("mkdir %s/tmp", f->root);
        ops[0] =
                op_new(OP_TMPFS, "tmp", BASE_HOST, NULL, "/tmp",
                       ENTRY_HAS_SIZE | ENTRY_HAS_MODE | ENTRY_NOSUID | ENTRY_NODEV | ENTRY_NOEXEC);
        ops[0].source = (PlanPath){};
        ops[0].size = 10 << 20;
        ops[0].mode = 01777;
        assert_int_equal(mount_apply(&plan, &f->trees, &u), 0);
        snprintf(p, sizeof p, "%s/tmp", f->root);
        assert_int_equal(statfs(p, &sfs), 0);
        assert_int_equal((uint64_t)sfs.f_blocks * sfs.f_bsize, 10 << 20);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 01777);
        opts = mount_options(p);
        assert_true(has_option(opts, "nosuid"));
        assert_true(has_option(opts, "nodev"));
        assert_true(has_option(opts, "noexec"));
        assert_int_equal(mount_undo_run(u, -EBADF), 0);
        assert_int_equal(mounts_under(f->root), 0);
}

static void test_tmpfs_copy(void **state) {
        Fixture *f = *state;
        MountOp ops[2];
        Plan plan = {ops, 2};
        _cleanup_(mount_undo_freep) MountUndo *u = NULL;
        char p[256];
        struct stat st;

        sh("mkdir -p %s/etc/sub && chmod 0751 %s/etc && echo web >%s/etc/hostname && "
           "ln -s hostname %s/etc/link && echo deep >%s/etc/sub/f",
           f->image, f->image, f->image, f->image, f->image);
        ops[0] = op_new(OP_BIND, "root", BASE_IMAGE, "/", "/", ENTRY_RO);
        ops[1] = op_new(OP_TMPFS, "etc", BASE_HOST, NULL, "/etc", ENTRY_COPY | ENTRY_HAS_SIZE);
        ops[1].source = (PlanPath){};
        ops[1].size = 1 << 20;
        assert_int_equal(mount_apply(&plan, &f->trees, &u), 0);
        assert_true(exists(f->root, "etc/hostname"));
        assert_true(exists(f->root, "etc/sub/f"));
        snprintf(p, sizeof p, "%s/etc/link", f->root);
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        /* The tmpfs root takes the mode of the directory it covers. */
        snprintf(p, sizeof p, "%s/etc", f->root);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0751);
        assert_int_equal(write_errno(f->root, "etc/new"), 0);
        assert_int_equal(write_errno(f->root, "new"), EROFS);
        assert_int_equal(mount_undo_run(u, -EBADF), 0);
        assert_false(exists(f->image, "etc/new"));
}

static void test_overlay_state_upper_on_demand(void **state) {
        Fixture *f = *state;
        MountOp ops[1];
        Plan plan = {ops, 1};
        _cleanup_(mount_undo_freep) MountUndo *u = NULL;
        char p[256];
        struct stat st;

        sh("mkdir -p %s/etc %s/etc && chmod 0750 %s/etc && echo a >%s/etc/a", f->image, f->root,
           f->image, f->image);
        ops[0] = op_new(OP_OVERLAY, "etc", BASE_IMAGE, "/etc", "/etc", 0);
        ops[0].upper = (PlanPath){BASE_STATE, "/up/etc"};
        ops[0].work = (PlanPath){BASE_STATE, "/.work/etc"};
        assert_int_equal(mount_apply(&plan, &f->trees, &u), 0);
        assert_true(exists(f->root, "etc/a"));
        assert_int_equal(write_errno(f->root, "etc/b"), 0);
        assert_true(exists(f->state, "up/etc/b"));
        assert_false(exists(f->image, "etc/b"));
        /* The new upper took the lower's mode: the merged root shows it. */
        snprintf(p, sizeof p, "%s/etc", f->root);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0750);
        assert_int_equal(mount_undo_run(u, -EBADF), 0);
        assert_int_equal(mounts_under(f->root), 0);
}

static void test_overlay_host_upper_and_tmpfs_upper(void **state) {
        Fixture *f = *state;
        MountOp ops[2];
        Plan plan = {ops, 2};
        _cleanup_(mount_undo_freep) MountUndo *u = NULL;
        static char up[256], work[256];

        sh("mkdir -p %s/var %s/opt %s/var %s/opt && echo v >%s/var/v", f->image, f->image, f->root,
           f->root, f->image);
        snprintf(up, sizeof up, "%s/upper/var", f->host);
        snprintf(work, sizeof work, "%s/upper/.var.work", f->host);
        ops[0] = op_new(OP_OVERLAY, "var", BASE_IMAGE, "/var", "/var", 0);
        ops[0].upper = (PlanPath){BASE_HOST, up};
        ops[0].work = (PlanPath){BASE_HOST, work};
        ops[1] = op_new(OP_OVERLAY, "opt", BASE_IMAGE, "/opt", "/opt", 0);
        ops[1].upper_tmpfs = true;
        assert_int_equal(mount_apply(&plan, &f->trees, &u), 0);
        assert_int_equal(write_errno(f->root, "var/w"), 0);
        assert_true(exists(f->host, "upper/var/w"));
        assert_int_equal(write_errno(f->root, "opt/t"), 0);
        assert_false(exists(f->image, "opt/t"));
        assert_int_equal(mount_undo_run(u, -EBADF), 0);
        assert_int_equal(mounts_under(f->root), 0);
        assert_false(exists(f->root, "opt/t"));
}

/* A symlink in a hostile state must not lead the upper outside the state. */
static void test_overlay_hostile_state_symlink(void **state) {
        Fixture *f = *state;
        MountOp ops[1];
        Plan plan = {ops, 1};
        _cleanup_(mount_undo_freep) MountUndo *u = NULL;

        /* state/up points at a host directory by absolute path; the same path
         * also exists inside the state, which is where it must resolve. */
        sh("mkdir -p %s/etc %s/etc %s/outside %s%s/outside && ln -s %s/outside %s/up", f->image,
           f->root, f->dir, f->state, f->dir, f->dir, f->state);
        ops[0] = op_new(OP_OVERLAY, "etc", BASE_IMAGE, "/etc", "/etc", 0);
        ops[0].upper = (PlanPath){BASE_STATE, "/up/etc"};
        ops[0].work = (PlanPath){BASE_STATE, "/.work/etc"};
        assert_int_equal(mount_apply(&plan, &f->trees, &u), 0);
        assert_int_equal(write_errno(f->root, "etc/planted"), 0);
        assert_false(exists(f->dir, "outside/etc"));
        {
                char p[256];
                snprintf(p, sizeof p, "%s%s/outside", f->state, f->dir);
                assert_true(exists(p, "etc/planted"));
        }
        assert_int_equal(mount_undo_run(u, -EBADF), 0);

        /* Dangling inside the state: refused, and nothing appears outside. */
        sh("rm -rf %s%s && rm %s/up && ln -s %s/outside2 %s/up && mkdir %s/outside2", f->state,
           f->dir, f->state, f->dir, f->state, f->dir);
        assert_true(mount_apply(&plan, &f->trees, &u) < 0);
        assert_false(exists(f->dir, "outside2/etc"));
        assert_int_equal(mounts_under(f->root), 0);
}

static void test_loop_erofs(void **state) {
        Fixture *f = *state;
        MountOp ops[1];
        Plan plan = {ops, 1};
        _cleanup_(mount_undo_freep) MountUndo *u = NULL;
        _cleanup_free_ char *opts = NULL;
        char p[256];

        sh("mkdir -p %s/src %s/opt && echo hello >%s/src/hello && "
           "mkfs.erofs --quiet %s/opt.erofs %s/src >/dev/null",
           f->dir, f->root, f->dir, f->image, f->dir);
        ops[0] = op_new(OP_LOOP, "opt", BASE_IMAGE, "/opt.erofs", "/opt", 0);
        assert_int_equal(mount_apply(&plan, &f->trees, &u), 0);
        assert_true(exists(f->root, "opt/hello"));
        assert_int_equal(write_errno(f->root, "opt/x"), EROFS);
        snprintf(p, sizeof p, "%s/opt", f->root);
        opts = mount_options(p);
        assert_true(has_option(opts, "ro"));
        /* The loop device is ours and goes away with the mount (autoclear). */
        sh("losetup -j %s/opt.erofs | grep -q loop", f->image);
        assert_int_equal(mount_undo_run(u, -EBADF), 0);
        sh("test -z \"$(losetup -j %s/opt.erofs)\"", f->image);
}

static void test_loop_rejects_unknown_image(void **state) {
        Fixture *f = *state;
        MountOp ops[1];
        Plan plan = {ops, 1};
        MountUndo *u = NULL;

        sh("mkdir -p %s/opt && head -c 65536 /dev/zero >%s/junk.img", f->root, f->image);
        ops[0] = op_new(OP_LOOP, "opt", BASE_IMAGE, "/junk.img", "/opt", 0);
        assert_int_equal(mount_apply(&plan, &f->trees, &u), -ENOMEDIUM);
        assert_null(u);
        assert_string_equal(logged(f), "goldroot: mount entry 'opt' (loop on /opt): no file "
                                       "system found in the image file (erofs, squashfs or "
                                       "ext4 expected): No medium found\n");
        /* A swap area is something, but nothing a loop entry may mount. */
        rewind(f->log_stream);
        sh("mkswap -q %s/junk.img >/dev/null", f->image);
        assert_int_equal(mount_apply(&plan, &f->trees, &u), -ENOMEDIUM);
        assert_non_null(strstr(logged(f), "(erofs, squashfs or ext4 expected)"));
        sh("test -z \"$(losetup -j %s/junk.img)\"", f->image);
}

/* The 4th of 6 entries fails: everything before it is undone, nothing is
 * left mounted, created directories are gone and no loop device stays. */
static void test_failure_halfway_undoes_everything(void **state) {
        Fixture *f = *state;
        MountOp ops[6];
        Plan plan = {ops, 6};
        MountUndo *u = NULL;
        char before[4096] = "", after[4096] = "", cmd[256];
        FILE *in;

        sh("mkdir -p %s/src %s/etc %s/opt %s/var && echo hi >%s/src/hi && "
           "mkfs.erofs --quiet %s/good.erofs %s/src >/dev/null && "
           "cp %s/good.erofs %s/bad.erofs && "
           /* keep the erofs magic, wreck the rest of the superblock */
           "dd if=/dev/urandom of=%s/bad.erofs bs=1 seek=1040 count=64 conv=notrunc "
           "status=none",
           f->dir, f->image, f->image, f->image, f->dir, f->image, f->dir, f->image, f->image,
           f->image);
        /* Only this test's devices: other suites may attach loops meanwhile. */
        snprintf(cmd, sizeof cmd, "losetup -a | grep -F '(%s/' | sort", f->dir);
        in = popen(cmd, "r");
        fread(before, 1, sizeof before - 1, in);
        pclose(in);

        ops[0] = op_new(OP_BIND, "root", BASE_IMAGE, "/", "/", ENTRY_RO);
        ops[1] = op_new(OP_LOOP, "opt", BASE_IMAGE, "/good.erofs", "/opt", 0);
        ops[2] = op_new(OP_BIND, "home", BASE_STATE, "/home", "/var", ENTRY_CREATE);
        ops[3] = op_new(OP_LOOP, "broken", BASE_IMAGE, "/bad.erofs", "/etc", 0);
        ops[4] = op_new(OP_TMPFS, "tmp", BASE_HOST, NULL, "/var", 0);
        ops[5] = op_new(OP_TMPFS, "run", BASE_HOST, NULL, "/opt", 0);
        assert_int_equal(mount_apply(&plan, &f->trees, &u) < 0, true);
        assert_null(u);
        assert_non_null(strstr(logged(f), "goldroot: mount entry 'broken' (loop on /etc): "));
        assert_int_equal(count_lines(logged(f)), 1);
        assert_int_equal(mounts_under(f->root), 0);
        assert_false(exists(f->state, "home"));

        in = popen(cmd, "r");
        fread(after, 1, sizeof after - 1, in);
        pclose(in);
        assert_string_equal(before, after);
}

static void test_missing_tree_is_named(void **state) {
        Fixture *f = *state;
        MountOp ops[1];
        Plan plan = {ops, 1};
        MountUndo *u = NULL;

        safe_close(f->trees.state_fd);
        f->trees.state_fd = -EBADF;
        sh("mkdir %s/home", f->root);
        ops[0] = op_new(OP_BIND, "home", BASE_STATE, "/home", "/home", 0);
        assert_int_equal(mount_apply(&plan, &f->trees, &u), -ENXIO);
        assert_string_equal(logged(f), "goldroot: mount entry 'home' (bind on /home): "
                                       "state:/home: no state tree was given: No such device "
                                       "or address\n");
}

static void test_target_symlink_stays_in_root(void **state) {
        Fixture *f = *state;
        MountOp ops[1];
        Plan plan = {ops, 1};
        _cleanup_(mount_undo_freep) MountUndo *u = NULL;

        /* /etc in the assembly is an absolute symlink to a host path: the
         * mount must land inside the assembly, not on the host. */
        sh("mkdir -p %s/hostetc %s%s/hostetc && ln -s %s/hostetc %s/etc", f->dir, f->root, f->dir,
           f->dir, f->root);
        ops[0] = op_new(OP_TMPFS, "etc", BASE_HOST, NULL, "/etc", 0);
        assert_int_equal(mount_apply(&plan, &f->trees, &u), 0);
        assert_int_equal(mounts_under(f->dir), 1);
        {
                char p[256];
                snprintf(p, sizeof p, "%s/hostetc", f->dir);
                assert_int_equal(mounts_under(p), 0);
        }
        assert_int_equal(mount_undo_run(u, -EBADF), 0);
}

/* mount_bind_path_check() with the fixture's root as the tree and its image as
 * the image: which links a bind may be led through. */
static int bind_walk(Fixture *f, const char *path, const char *want, int image_fd, char **link) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat_in_root(f->trees.root_fd, path_relative(want), O_PATH, 0);
        assert_true(fd >= 0);
        return mount_bind_path_check(f->trees.root_fd, path, fd, image_fd, link);
}

static void test_bind_path_trusts_image_links_only(void **state) {
        Fixture *f = *state;
        char *link = NULL;

        sh("mkdir -p %s/var/srv/sub %s/var/srv/sub", f->root, f->image);
        /* The same links in both: followed, "..", absolute or not. */
        sh("ln -s var/srv %s/srv && ln -s var/srv %s/srv", f->root, f->image);
        sh("ln -s ../../../../var/srv %s/var/up && ln -s ../../../../var/srv %s/var/up", f->root,
           f->image);
        sh("ln -s /var/srv/sub %s/abs && ln -s /var/srv/sub %s/abs", f->root, f->image);
        assert_int_equal(bind_walk(f, "/srv/sub", "/var/srv/sub", f->trees.image_fd, &link), 0);
        assert_int_equal(bind_walk(f, "/var/up/sub", "/var/srv/sub", f->trees.image_fd, &link), 0);
        assert_int_equal(bind_walk(f, "/abs", "/var/srv/sub", f->trees.image_fd, &link), 0);
        assert_null(link);

        /* No image, or a link the image lacks or has with another target. */
        assert_int_equal(bind_walk(f, "/srv/sub", "/var/srv/sub", -EBADF, &link), -ELOOP);
        assert_string_equal(link, "/srv");
        free(link);
        sh("ln -s / %s/var/srv/sub/data && ln -s /usr %s/var/srv/sub/data", f->root, f->image);
        assert_int_equal(bind_walk(f, "/srv/sub/data", "/", f->trees.image_fd, &link), -ELOOP);
        assert_string_equal(link, "/var/srv/sub/data");
        free(link);

        /* A trusted link leading through one the image does not have. */
        sh("rm %s/var/srv/sub/data && mv %s/var/srv/sub %s/var/srv/real && ln -s .. "
           "%s/var/srv/sub",
           f->root, f->root, f->root, f->root);
        assert_int_equal(bind_walk(f, "/abs", "/var/srv", f->trees.image_fd, &link), -ELOOP);
        assert_string_equal(link, "/var/srv/sub");
        free(link);

        /* A loop, even of the image's links, ends; a link with no image
         * counterpart directory is not the image's. */
        sh("ln -s loop %s/loop && ln -s loop %s/loop", f->root, f->image);
        link = NULL;
        assert_int_equal(mount_bind_path_check(f->trees.root_fd, "/loop", f->trees.root_fd,
                                               f->trees.image_fd, &link),
                         -ELOOP);
        assert_null(link);

        /* Not where fd is: the tree changed between the two resolutions. */
        assert_int_equal(bind_walk(f, "/srv", "/var", f->trees.image_fd, &link), -ESTALE);
        assert_null(link);
}

static void test_shared_refcount(void **state) {
        Fixture *f = *state;
        MountOp ops[2];
        Plan plan = {ops, 2};
        _cleanup_(mount_undo_freep) MountUndo *ua = NULL, *ub = NULL;
        static char share[256], src[256];
        char root2[256];
        _cleanup_close_ int root2_fd = -EBADF;
        MountTrees tb;

        snprintf(share, sizeof share, "%s/share/logs", f->dir);
        snprintf(src, sizeof src, "%s/share/logs/%s", f->dir, "x");
        sh("mkdir -p %s/log", f->root);
        ops[0] = op_new(OP_TMPFS, "logs:area", BASE_HOST, NULL, share, 0);
        ops[0].target.base = BASE_HOST;
        ops[0].shared = true;
        ops[1] = op_new(OP_BIND, "log", BASE_HOST, src, "/log", ENTRY_RW | ENTRY_CREATE);

        assert_int_equal(mount_apply(&plan, &f->trees, &ua), 0);
        assert_int_equal(mounts_under(share), 1);
        assert_int_equal(write_errno(f->root, "log/a"), 0);

        snprintf(root2, sizeof root2, "%s/root2", f->dir);
        sh("mkdir -p %s/log", root2);
        root2_fd = open(root2, O_PATH | O_DIRECTORY | O_CLOEXEC);
        tb = f->trees;
        tb.root_fd = root2_fd;
        tb.holder = "test-b";
        assert_int_equal(mount_apply(&plan, &tb, &ub), 0);
        /* Still mounted once, and both see the same area. */
        assert_int_equal(mounts_under(share), 1);
        assert_true(exists(root2, "log/a"));

        assert_int_equal(mount_undo_run(ua, -EBADF), 0);
        assert_int_equal(mounts_under(share), 1);
        assert_true(exists(root2, "log/a"));
        assert_int_equal(mount_undo_run(ub, -EBADF), 0);
        assert_int_equal(mounts_under(share), 0);
        assert_int_equal(mounts_under(f->root), 0);
        assert_int_equal(mounts_under(root2), 0);
}

static void test_shared_only_and_skip(void **state) {
        Fixture *f = *state;
        MountOp ops[2];
        Plan plan = {ops, 2};
        _cleanup_(mount_undo_freep) MountUndo *host = NULL, *child = NULL;
        static char share[256];

        snprintf(share, sizeof share, "%s/share", f->dir);
        sh("mkdir -p %s/tmp", f->root);
        ops[0] = op_new(OP_TMPFS, "logs:area", BASE_HOST, NULL, share, 0);
        ops[0].target.base = BASE_HOST;
        ops[0].shared = true;
        ops[1] = op_new(OP_TMPFS, "tmp", BASE_HOST, NULL, "/tmp", 0);
        f->trees.shared = MOUNT_SHARED_ONLY;
        assert_int_equal(mount_apply(&plan, &f->trees, &host), 0);
        assert_int_equal(mounts_under(share), 1);
        assert_int_equal(mounts_under(f->root), 0);
        f->trees.shared = MOUNT_SHARED_SKIP;
        assert_int_equal(mount_apply(&plan, &f->trees, &child), 0);
        assert_int_equal(mounts_under(share), 1);
        assert_int_equal(mounts_under(f->root), 1);
        assert_int_equal(mount_undo_run(child, -EBADF), 0);
        assert_int_equal(mount_undo_run(host, -EBADF), 0);
        assert_int_equal(mounts_under(share), 0);
}

static void test_fsopen_error_carries_kernel_message(void **state) {
        Fixture *f = *state;
        MountOp ops[1];
        Plan plan = {ops, 1};
        MountUndo *u = NULL;

        /* An upper on a read-only bind: overlay refuses, and says why. */
        sh("mkdir -p %s/etc %s/etc %s/ro/up %s/ro/work && mount --bind -o ro %s/ro %s/ro", f->image,
           f->root, f->host, f->host, f->host, f->host);
        ops[0] = op_new(OP_OVERLAY, "etc", BASE_IMAGE, "/etc", "/etc", 0);
        {
                static char up[256], work[256];
                snprintf(up, sizeof up, "%s/ro/up", f->host);
                snprintf(work, sizeof work, "%s/ro/work", f->host);
                ops[0].upper = (PlanPath){BASE_HOST, up};
                ops[0].work = (PlanPath){BASE_HOST, work};
        }
        assert_true(mount_apply(&plan, &f->trees, &u) < 0);
        assert_non_null(strstr(logged(f), "goldroot: mount entry 'etc' (overlay on /etc): "));
        assert_non_null(strstr(logged(f), "overlay"));
        assert_int_equal(mounts_under(f->root), 0);
        sh("umount %s/ro", f->host);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_bind_ro_root_and_rw, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bind_recursive_ro, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bind_create_and_optional, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tmpfs_size_mode_flags, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tmpfs_copy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_overlay_state_upper_on_demand, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_overlay_host_upper_and_tmpfs_upper, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_overlay_hostile_state_symlink, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_loop_erofs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_loop_rejects_unknown_image, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_halfway_undoes_everything, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_missing_tree_is_named, setup, teardown),
                cmocka_unit_test_setup_teardown(test_target_symlink_stays_in_root, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bind_path_trusts_image_links_only, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_shared_refcount, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shared_only_and_skip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fsopen_error_carries_kernel_message, setup,
                                                teardown),
        };

        /* Every mount the tests make lives and dies in this process's own
         * mount namespace. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                perror("test-mount: private mount namespace (run as root)");
                return 1;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
