/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * oci: an instance as an OCI runtime bundle (runtime-spec 1.0.x), so that
 * runc or crun start the same instance `goldroot start` would: the same
 * mounts from its profile's plan, over the same image and state, with its
 * hostname, namespaces, environment and capability bounding set.
 */
#pragma once

#include "instance.h"

/* Writes DIR/config.json and an empty DIR/rootfs/ (DIR is made if missing)
 * for instance i, which must be stopped; the caller holds its lock. The
 * instance is personalized first if it never was. argv is
 * the command, NULL for the profile's init. Plan entries that a bundle
 * cannot express (loop and dev mounts, shared FILE:ENTRY mounts, tmpfs copy,
 * a tmpfs upper, an aside entry that / does not show, a bridge network) are
 * refused with one line naming the entry, -EOPNOTSUPP. The state's mount
 * sources are checked to hold no symlinks when the bundle is written. */
int oci_bundle_write(Store *s, Instance *i, const char *dir, char *const *argv);
