/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-mount: issue 2's mount benchmark. Assembles and tears down
 * bench/mount/bench.profile (6 binds, 2 overlays, a tmpfs, a loop) ITERATIONS
 * times through goldroot's library (profile load + plan + mount_apply +
 * mount_undo_run, as `goldroot mount`/`umount` and the runner do), and, in
 * alternation in the same process, through raw.c's bare syscalls for the same
 * ten mounts. Alternating makes both sides pay the same noise.
 *
 * Usage: bench-mount BENCHDIR ITERATIONS
 * Prints medians in microseconds: raw, goldroot (total), of which plan, and the
 * ratios goldroot/raw for the whole path and for the apply step alone.
 *
 * Usage: bench-mount --layouts BENCHDIR ITERATIONS A.profile B.profile
 * Alternates two profiles over BENCHDIR's image, each with a state of its own
 * (BENCHDIR/state-a, state-b), the same way, and prints both medians and B/A:
 * the ro layout with an overlay per directory against the aside overlay.
 */
#include "bench-common.h"

#include "mount.h"
#include "plan.h"
#include "profile.h"
#include "util.h"

double raw_iteration(const char *benchdir);

/* image and state: directories for image: and state: sources, or NULL. */
static void profile_iteration(const char *benchdir, const char *profile, const char *image,
                              const char *state, double *ret_total, double *ret_plan) {
        PlanContext ctx = {.placeholders = {.name = "bench", .hostname = "bench"},
                           .have_image = image,
                           .have_state = state};
        MountTrees trees = MOUNT_TREES_INIT;
        char root[512];
        ProfileSet *set = NULL;
        MountUndo *undo = NULL;
        Plan *plan = NULL;
        char **search = NULL;
        double s0, s1;

        assert(ret_total && ret_plan);
        snprintf(root, sizeof root, "%s/root", benchdir);
        if (image && (trees.image_fd = open(image, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
                die("open %s", image);
        if (state && (trees.state_fd = open(state, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
                die("open %s", state);
        s0 = now_us();
        if (profile_default_search_path(profile, &search) < 0 ||
            profile_set_load(profile, search, &set) < 0 || plan_build(set, &ctx, &plan) < 0)
                die("plan %s", profile);
        s1 = now_us();
        trees.root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        trees.root_path = root;
        if (trees.root_fd < 0)
                die("open %s", root);
        if (mount_apply(plan, &trees, &undo) < 0)
                die("mount_apply");
        if (mount_undo_run(undo, -EBADF) < 0)
                die("mount_undo_run");
        *ret_total = now_us() - s0;
        *ret_plan = s1 - s0;
        mount_undo_free(undo);
        close(trees.root_fd);
        if (image)
                close(trees.image_fd);
        if (state)
                close(trees.state_fd);
        plan_free(plan);
        profile_set_free(set);
        strv_free(search);
}

static void goldroot_iteration(const char *benchdir, double *ret_total, double *ret_plan) {
        char profile[512];

        snprintf(profile, sizeof profile, "%s/bench.profile", benchdir);
        profile_iteration(benchdir, profile, NULL, NULL, ret_total, ret_plan);
}

static int layouts(char **argv) {
        const char *dir = argv[2];
        long n = atol(argv[3]);
        char image[512], state_a[512], state_b[512], run[512];
        double *t_a, *t_b, plan, m_a, m_b;

        if (n <= 0)
                die("bad ITERATIONS");
        t_a = calloc(n, sizeof *t_a);
        t_b = calloc(n, sizeof *t_b);
        snprintf(image, sizeof image, "%s/image", dir);
        snprintf(state_a, sizeof state_a, "%s/state-a", dir);
        snprintf(state_b, sizeof state_b, "%s/state-b", dir);
        snprintf(run, sizeof run, "%s/run", dir);
        setenv("GOLDROOT_RUNDIR", run, 1);
        bench_private_namespace();
        for (long i = 0; i < n; i++) {
                profile_iteration(dir, argv[4], image, state_a, &t_a[i], &plan);
                profile_iteration(dir, argv[5], image, state_b, &t_b[i], &plan);
        }
        m_a = median(t_a, n);
        m_b = median(t_b, n);
        printf("iterations        %ld\n", n);
        printf("A %-14s %8.1f us  (load+plan+apply+undo)\n", strrchr(argv[4], '/') + 1, m_a);
        printf("B %-14s %8.1f us\n", strrchr(argv[5], '/') + 1, m_b);
        printf("ratio B/A         %8.2f\n", m_b / m_a);
        return 0;
}

int main(int argc, char **argv) {
        double *t_raw, *t_gr, *t_plan, *t_apply, m_raw, m_gr, m_apply;
        char run[512];
        long n;

        if (argc == 6 && strcmp(argv[1], "--layouts") == 0)
                return layouts(argv);
        if (argc != 3)
                die("usage: bench-mount BENCHDIR ITERATIONS, or --layouts BENCHDIR ITERATIONS "
                    "A.profile B.profile");
        n = atol(argv[2]);
        if (n <= 0)
                die("bad ITERATIONS");
        t_raw = calloc(n, sizeof *t_raw);
        t_gr = calloc(n, sizeof *t_gr);
        t_plan = calloc(n, sizeof *t_plan);
        t_apply = calloc(n, sizeof *t_apply);
        snprintf(run, sizeof run, "%s/run", argv[1]);
        setenv("GOLDROOT_RUNDIR", run, 1);
        bench_private_namespace();
        for (long i = 0; i < n; i++) {
                t_raw[i] = raw_iteration(argv[1]);
                goldroot_iteration(argv[1], &t_gr[i], &t_plan[i]);
                t_apply[i] = t_gr[i] - t_plan[i];
        }
        m_raw = median(t_raw, n);
        m_gr = median(t_gr, n);
        m_apply = median(t_apply, n);
        printf("iterations        %ld\n", n);
        printf("raw syscalls      %8.1f us\n", m_raw);
        printf("goldroot total    %8.1f us  (load+plan %.1f us)\n", m_gr, median(t_plan, n));
        printf("ratio total/raw   %8.2f\n", m_gr / m_raw);
        printf("ratio apply/raw   %8.2f\n", m_apply / m_raw);
        return 0;
}
