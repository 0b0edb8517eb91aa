/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * instance-internal: what instance.c and instance-ephemeral.c share.
 */
#pragma once

#include "identity.h"

/* An instance's identity, in its directory and in a run's. */
#define IDENTITY_FILE "identity"

/* Loads dirfd/identity; parent is where the directory is, for the parser's
 * FILE:LINE:COL. Logs one line and returns -errno on failure. */
int instance_identity_load(int dirfd, const char *parent, const char *name, Identity **ret);
