/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine: goldroot's side of bench/mount. Assembles and tears down
 * bench/mount/bench.profile through the library (mount_apply +
 * mount_undo_run), the way `goldroot mount`/`umount` and the runner do, so the
 * median can be read against raw.c's. The profile is loaded and planned once
 * per iteration too, but timed apart: that part is pure user space.
 *
 * Usage: engine BENCHDIR ITERATIONS
 *   prints "APPLY_US PLAN_US" (medians, microseconds)
 * Build: links against libgoldroot.a (see the meson bench target).
 */
#include "bench-common.h"

#include "mount.h"
#include "plan.h"
#include "profile.h"

int main(int argc, char **argv) {
        char root[512], profile[512], run[512];
        double *t_apply, *t_plan;
        long n;

        if (argc != 3)
                die("usage: engine BENCHDIR ITERATIONS");
        n = atol(argv[2]);
        t_apply = calloc(n, sizeof *t_apply);
        t_plan = calloc(n, sizeof *t_plan);
        snprintf(root, sizeof root, "%s/root", argv[1]);
        snprintf(profile, sizeof profile, "%s/bench.profile", argv[1]);
        snprintf(run, sizeof run, "%s/run", argv[1]);
        setenv("GOLDROOT_RUNDIR", run, 1);
        bench_private_namespace();
        for (long i = 0; i < n; i++) {
                PlanContext ctx = {.placeholders = {.name = "bench", .hostname = "bench"}};
                MountTrees trees = MOUNT_TREES_INIT;
                ProfileSet *set = NULL;
                MountUndo *undo = NULL;
                Plan *plan = NULL;
                char **search = NULL;
                double s0, s1;

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
                mount_undo_free(undo);
                close(trees.root_fd);
                t_apply[i] = now_us() - s1;
                t_plan[i] = s1 - s0;
                plan_free(plan);
                profile_set_free(set);
                for (char **s = search; s && *s; s++)
                        free(*s);
                free(search);
        }
        printf("%.1f %.1f\n", median(t_apply, n), median(t_plan, n));
        return 0;
}
