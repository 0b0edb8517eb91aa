/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * instance: an instance's on-disk layout, its catalog row, and its life
 * (create, start, exec, stop, remove).
 *
 *   STORE/instances/NAME/identity   identity.h: hostname, address, ...
 *   STORE/instances/NAME/state/     the profile's state: tree (overlay uppers,
 *                                   binds) and the personalization marker
 *   STORE/instances/NAME/run/       made at the first start: the runner's
 *                                   status file, console.log, and the shared
 *                                   mounts the running instance holds
 *
 * The catalog's instances row links the image and is the source of truth for
 * whether the instance exists: a directory without a row is a leftover of a
 * crash (or of rm, which renames the directory to .removing.* before it
 * deletes it) and is removed by the next command that meets it.
 *
 * Commands that change an instance take a flock on its directory; a
 * foreground `run` holds it for its whole life.
 *
 * `run --rm` makes an ephemeral instance instead: no catalog row and no
 * identity file (the identity stays in memory), its state a tmpfs that lives
 * in the instance's mount namespace only, and a directory under
 * runtime_dir()/ephemeral/NAME only if the name was given (to claim it among
 * the running runs) or the state must be on disk. What keeps its image from `image rm` and
 * `gc` is the shared store lock the command holds for the whole run (both
 * take it exclusively).
 */
#pragma once

#include "identity.h"
#include "runner.h"
#include "store.h"

#define INSTANCE_NAME_MAX 64
#define INSTANCE_PERSONALIZED_MARKER ".goldroot-personalized"
#define INSTANCE_CONSOLE_LOG "console.log"

/* [A-Za-z0-9_.-], at most 64, not starting with '.' or '-' (so no "..", no
 * "/", no option look-alikes and never one of goldroot's own dot files). */
bool instance_name_is_valid(const char *s);
/* Logs "VERB NAME: invalid instance name: WHY" and returns -EINVAL if bad. */
int instance_name_check(const char *verb, const char *name);

typedef struct Instance {
        char *name;
        InstanceRow *row;
        Identity *identity;
        int dir_fd;     /* instances/NAME */
        int lock_fd;    /* >= 0 while instance_lock() holds the lock */
        bool ephemeral; /* instance_create_ephemeral(): no row, gone with the command */
} Instance;

Instance *instance_free(Instance *i);
static inline void instance_freep(Instance **i) {
        instance_free(*i);
}

/* Creates the instance: its directory (identity, empty state/) and its
 * catalog row linking image_id, all or nothing. -EEXIST (logged) if the name
 * is taken; an existing instance is left untouched. */
int instance_create(Store *s, const char *name, const char *image_id, const Identity *id);
/* Makes an instance for each of n names, all or none: every name is looked
 * up before the first is made, and if one still fails the ones made are
 * removed again. Each is created and journaled on its own, so a crash
 * part-way leaves those made before it, each whole. */
int instance_create_several(Store *s, char *const *names, Identity *const *ids, size_t n,
                            const char *image_id);
/* Makes an ephemeral instance (see above) and returns it; id is taken.
 * -EEXIST (logged) if the catalog has the name, or, for a name the user gave
 * (named), another run. A named instance comes back with its directory made
 * and locked; a random name's directory is made only by
 * instance_ephemeral_dir(), when the run needs its state on disk. */
int instance_create_ephemeral(Store *s, const char *name, const char *image_id, Identity *id,
                              bool named, Instance **ret);
/* Makes and locks the ephemeral instance's directory, if not made yet. */
int instance_ephemeral_dir(Instance *i);
/* Removes what instance_create_ephemeral() made; logs, never fails. */
void instance_remove_ephemeral(Instance *i);
/* Finds the directories that runs which died left under
 * runtime_dir()/ephemeral (no live run holds their lock) and calls found()
 * with each name and, if remove is set, the result of removing it (0 or
 * -errno; 0 when not removing). found() returns 0 or -errno to stop. Runs
 * that make their directories meanwhile wait. 0, or -errno (logged). */
typedef int (*InstanceDeadRunFn)(const char *name, int removed, void *userdata);
int instance_dead_runs(bool remove, InstanceDeadRunFn found, void *userdata);
/* Opens an existing instance: -ENOENT (logged "no such instance") if the
 * catalog has no row for it. */
int instance_open(Store *s, const char *name, Instance **ret);
/* A named run --rm of this store that is running (its directory under
 * runtime_dir()/ephemeral, held by the run, records it): ephemeral, with
 * the row and identity it runs with. -ENOENT (not logged) if there is none;
 * a catalog instance of that name comes first, for the caller to look up. */
int instance_open_run(Store *s, const char *name, Instance **ret);
/* This store's running named runs, opened as instance_open_run() does,
 * sorted by name. Free with instance_list_free(). */
int instance_list_runs(Store *s, Instance ***ret, size_t *ret_n);
void instance_list_free(Instance **l, size_t n);
/* The same without reading the identity (->identity is NULL): for rm, which
 * must remove an instance whose identity file the guest side has damaged. */
int instance_open_for_removal(Store *s, const char *name, Instance **ret);
/* Every instance name in the catalog, sorted. */
int instance_list(Store *s, InstanceRow ***ret, size_t *ret_n);

/* flock on the instance's directory. wait: block until it is free, else
 * -EBUSY (logged) if another command holds it. */
int instance_lock(Instance *i, const char *verb, bool wait);
/* instance_lock() for a command that refuses a running instance: -EBUSY
 * (logged, naming its pid) at once if it is running, a foreground run
 * included; otherwise waits for the command that holds it. */
int instance_lock_stopped(Instance *i, const char *verb);

/* What the instance is doing now. */
typedef enum InstanceState {
        INSTANCE_STOPPED, /* never started, or exited */
        INSTANCE_RUNNING,
        INSTANCE_BUSY, /* another command holds its lock (a start, an upgrade) */
} InstanceState;

typedef struct InstanceStatus {
        InstanceState state;
        bool has_status; /* .runner is valid (the instance was started detached once) */
        RunnerStatus runner;
} InstanceStatus;

int instance_status(Instance *i, InstanceStatus *ret);
/* Whether another command holds the instance's lock (a foreground run holds
 * it for as long as its instance runs). */
bool instance_is_held(Instance *i);
/* Waits until no other command holds the instance's lock. */
int instance_wait_released(Instance *i);
const char *instance_state_to_string(InstanceState s);

/* Removes the instance: the catalog row and the directory go together (the
 * directory is renamed aside in the same transaction, then deleted). The
 * caller holds the lock and has checked that it is not running. */
int instance_remove(Store *s, Instance *i);
/* Journal recovery (oplog.h) of create and rm: returns 1 if the operation
 * was rolled forward, 0 if back. */
int instance_recover_op(Store *s, const OpRow *o);
/* Deletes what rm set aside (the journal covers the rest; directories
 * without a row are left for fsck). */
int instance_recover(Store *s);

/* Starting and stopping (instance-run.c). */
typedef struct InstanceRunOptions {
        char *const *argv; /* NULL: the profile's init */
        bool foreground;   /* runner_run(): returns the exit status */
        /* A network namespace the caller started making early, or NULL;
         * instance_start() frees it in every case. */
        RunnerNetnsAhead *netns_ahead;
        /* Foreground, if not NULL: set to whether the command was started
         * (false after a failure in the personalization or the start). */
        bool *ret_started;
} InstanceRunOptions;

/* Starts the instance, personalizing it first if it never was. The caller
 * holds the lock. Detached: returns 0 once the command runs. Foreground:
 * returns the command's exit status. */
int instance_start(Store *s, Instance *i, const InstanceRunOptions *o);
/* The command the last detached start was given (a copy of its argv), or
 * NULL in *ret when it ran the profile's init: what a restart runs again. */
int instance_start_command(Instance *i, char ***ret);
/* SIGTERM, up to timeout_s seconds, SIGKILL; then the teardown. Stopping an
 * instance that is not running only does the teardown. The caller holds the
 * lock. */
int instance_stop(Instance *i, unsigned timeout_s, bool *ret_killed);
/* Stops an instance that a foreground run (goldroot run) runs, the same way,
 * without its lock, which that run holds until it ends; 0 at once if no
 * foreground run runs it. The caller then takes the lock and calls
 * instance_stop() for the teardown. */
int instance_stop_foreground(Instance *i, unsigned timeout_s, bool *ret_killed);
/* The environment of the instance's commands: the runner's default, the
 * machine id as $container_uuid and the identity as GOLDROOT_* variables. */
int instance_env(const Instance *i, char ***ret);
/* Runs argv in the running instance; returns its exit status. */
int instance_exec(Instance *i, char *const *argv);
/* Personalizes the instance now (`goldroot personalize`): refused while it
 * runs; again: even if it was done. The caller holds the lock. */
int instance_personalize(Store *s, Instance *i, bool again);

/* The run/ directory, made if needed (O_DIRECTORY). */
/* Loads the instance's profile (its own, or its mode's built-in one on the
 * profile search path) and plans it with the instance's placeholders. */
struct ProfileSet;
struct Plan;
int instance_plan(const Instance *i, struct ProfileSet **ret_set, struct Plan **ret_plan);

int instance_open_run_dir(Instance *i, bool create, int *ret_fd);
