/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * profile-internal: what profile.c (loading, includes, references) and
 * profile-parse.c (one line of text to an Entry or a setting) share. Not for
 * other modules.
 */
#pragma once

#include "profile.h"
#include "util.h"

/* One blank-separated field of a line. */
typedef struct Field {
        const char *s; /* points into the line, not NUL-terminated */
        size_t len;
        unsigned col; /* 1-based */
} Field;

typedef struct Line {
        const char *file; /* owned by the ProfileSet */
        unsigned line;
        Field *fields;
        size_t n_fields;
} Line;

/* Splits text (one line, without its newline) into fields, dropping a comment.
 * *ret is freed by the caller. */
int line_split(const char *text, size_t len, Field **ret, size_t *ret_n);

/* Parses an entry line of profile p. shared is true for a profile that
 * FILE:ENTRY names: its entries are mounted once on the host for everyone. */
int entry_parse(const Line *l, const Profile *p, bool shared, Entry **ret);
Entry *entry_free(Entry *e);

/* Parses a "set KEY VALUE..." line into p->settings. */
int setting_parse(const Line *l, Profile *p);

/* [A-Za-z0-9_.-]+ */
bool entry_name_valid(const char *s, size_t len);
