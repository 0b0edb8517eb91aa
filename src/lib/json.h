/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * json: a small streaming JSON writer for --json output.
 *
 * goldroot only ever writes JSON, so this is a writer, not a library: the
 * caller opens and closes objects and arrays and the writer places commas,
 * colons and escapes. Strings that are not valid UTF-8 (file names can be any
 * bytes) get U+FFFD for each bad byte, so the output is always valid JSON.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

typedef struct JsonWriter {
        FILE *f;
        unsigned depth;
        bool first[JSON_MAX_DEPTH + 1]; /* nothing written yet at this level */
        bool after_key;
} JsonWriter;

void json_init(JsonWriter *w, FILE *f);
void json_begin_object(JsonWriter *w);
void json_end_object(JsonWriter *w);
void json_begin_array(JsonWriter *w);
void json_end_array(JsonWriter *w);
void json_key(JsonWriter *w, const char *key);
/* NULL writes null. */
void json_string(JsonWriter *w, const char *s);
void json_int(JsonWriter *w, int64_t v);
void json_uint(JsonWriter *w, uint64_t v);
void json_bool(JsonWriter *w, bool v);
void json_null(JsonWriter *w);
/* Ends the document with a newline and flushes; returns -EIO if writing failed. */
int json_finish(JsonWriter *w);

/* Shorthands for "key": value inside an object. */
void json_kv_string(JsonWriter *w, const char *key, const char *s);
void json_kv_int(JsonWriter *w, const char *key, int64_t v);
void json_kv_uint(JsonWriter *w, const char *key, uint64_t v);
void json_kv_bool(JsonWriter *w, const char *key, bool v);
