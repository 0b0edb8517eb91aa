/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * assembly: host assemblies made by `goldroot mount DIR` and the shared
 * mounts they use.
 *
 * Everything lives under runtime_dir(): `lock` (one flock for every change),
 * `assemblies/<sha256 of DIR>` (what was mounted on DIR, in order, and the
 * shared references taken; written before the first mount and marked
 * incomplete until the assembly is whole, so a killed run leaves a record)
 * and `shared/<sha256 of TARGET>` (a shared mount's holders: the last one to
 * let go unmounts it).
 */
#pragma once

#include "mount.h"

#include <stdbool.h>

/* Takes the runtime lock (flock LOCK_EX on runtime_dir()/lock, created with
 * its directory if needed); closing the fd releases it. */
int assembly_lock(int *ret_fd);

/* Shared mounts; the caller holds the runtime lock. */
/* 1 if a record exists for target and target is still the mount it recorded.
 * A shared entry is its profile file (canonical) and its qualified name: if
 * entry is given and another entry made that mount, -EEXIST, and *ret_other
 * (if not NULL) says which one. */
int shared_ref_is_mounted(const char *target, const char *entry, const char *profile,
                          char **ret_other);
/* Adds holder (once) to target's record, creating the record; -EEXIST if the
 * mount on target is another entry's. */
int shared_ref_add(const char *target, const char *entry, const char *profile, const char *holder);
/* Removes holder; the last holder unmounts target and removes the record. */
int shared_ref_release(const char *target, const char *holder);

/* Applies plan onto the directory dir (an absolute, canonical host path) and
 * records the assembly. Fails with -EBUSY if dir is already assembled; a
 * record of an assembly that is no longer mounted is cleaned up first.
 * instance, if not NULL, is the key of the instance assembled
 * (assembly_instance_key()): -EBUSY if it is assembled elsewhere. The caller
 * holds the instance's lock. */
int assembly_mount(const Plan *plan, const char *dir, int image_fd, int state_fd,
                   const char *instance);
/* An instance's key in the records: the canonical path of its directory. */
int assembly_instance_key(int instance_dir_fd, char **ret);
/* -EBUSY (logged "VERB NAME: the instance is assembled on DIR ...") while
 * goldroot mount has the instance with directory instance_dir_fd assembled
 * on the host. The caller holds the instance's lock, which mount takes too;
 * the runtime lock is not taken. */
int assembly_check_instance(int instance_dir_fd, const char *verb, const char *name);
/* Takes down what assembly_mount() made on dir, in reverse order: -ENOENT
 * (logged) if goldroot did not assemble dir. */
int assembly_umount(const char *dir);
