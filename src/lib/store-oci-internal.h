/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-oci-internal: what store-oci.c (reading the source and its
 * manifests, driving the import) and store-oci-layers.c (the layers'
 * whiteouts and the filter that applies them) share.
 */
#pragma once

#include "json-read.h"
#include "store-internal.h"

typedef struct Layer {
        char *name; /* as the manifest names it, for messages */
        int fd;
        uint64_t size;
        void *recs; /* store-oci-layers.c's records of the layer, by path */
} Layer;

typedef struct Import {
        const char *what;
        ImageBuilder *b;
        JsonReader *json;
        /* The source: a layout directory, or the staged members of an archive. */
        int dirfd;
        bool archive;
        char **names; /* archive: member names ("/x/y"), index = staged file m<index> */
        char **links; /* archive: symlink members' resolved targets, or NULL */
        size_t n_names;
        Layer *layers;
        size_t n_layers;
        size_t cur; /* the layer being imported */
} Import;

/* Pass 1: reads layer l's headers and records what it adds, whites out and
 * makes opaque; rewinds l->fd for pass 2. */
int oci_layer_scan(Import *im, Layer *l);
/* Pass 2's filter for archive_import_filtered() (userdata: the Import, whose
 * cur is the layer being imported): 1 to keep a member, 0 to skip it, or
 * -errno (logged). */
int oci_layer_keep_member(void *userdata, size_t index, const char *path, const char *hardlink);
/* Frees what oci_layer_scan() recorded. */
void oci_layer_forget(Layer *l);
