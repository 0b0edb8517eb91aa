/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * json-read: reading values out of JSON documents (container image
 * manifests and configs) through SQLite's JSON functions, so that goldroot
 * carries no JSON parser of its own: json.h only writes.
 *
 * Paths use SQLite's JSON path syntax: $.a.b[2]."key.with.dots". Nothing
 * here logs; callers know which document they are reading.
 */
#pragma once

#include <stddef.h>

typedef struct JsonReader JsonReader;

int json_reader_new(JsonReader **ret);
JsonReader *json_reader_free(JsonReader *j);
static inline void json_reader_freep(JsonReader **j) {
        json_reader_free(*j);
}

/* The value at path in doc: its text (objects and arrays as JSON text) and
 * its type ("text", "integer", "real", "true", "false", "object",
 * "array"). -ENOENT when absent or null, -EBADMSG when doc is not JSON. */
int json_reader_get(JsonReader *j, const char *doc, const char *path, char **ret, char **ret_type);
/* The length of the array at path: -ENOENT when absent, -EBADMSG when doc is
 * not JSON, -EMEDIUMTYPE when the value is not an array. */
int json_reader_array_length(JsonReader *j, const char *doc, const char *path, size_t *ret);
