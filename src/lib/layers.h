/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * layers: an instance's writable layers, derived from its profile's plan.
 *
 * diff, upgrade and commit work on what the instance changed, and that is
 * whatever its profile puts in the state: every overlay whose upper lies in
 * the state (a MERGE_LAYER_OVERLAY over the overlay's image lower path) and
 * every writable bind of a state: source (a MERGE_LAYER_BIND over its target
 * path). The built-in ro and rw profiles both give one layer, state:/root
 * over the image's /. The profile is planned with the instance's own
 * placeholders, exactly as a start would plan it.
 */
#pragma once

#include "instance.h"
#include "merge.h"

typedef struct InstanceLayers {
        MergeLayer *layers; /* .path and .dirfd owned */
        char **dirs;        /* each layer's directory in the state ("/root") */
        size_t n;
        /* Top-level names of the state that belong to the layers or to the
         * overlays' work directories; everything else in the state (the
         * personalization marker) is carried over as it is. */
        char **reserved;
} InstanceLayers;

#define INSTANCE_LAYERS_INIT ((InstanceLayers){})

/* Plans the instance's profile and opens each layer's directory below
 * state_fd (the state directory). A layer whose directory does not exist
 * yet (an instance never started) holds no change and is left out. Symlinks
 * on the way are never followed (-ELOOP, logged). verb names the command in
 * messages. */
int instance_layers_open(const Instance *i, const char *verb, int state_fd, InstanceLayers *ret);
void instance_layers_done(InstanceLayers *l);
