/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * textmerge: line-level three-way merge of text, as diff3 does it.
 *
 * `goldroot upgrade --policy merge` merges a locally edited configuration file
 * with the new image's version of it. Lines are compared with a Myers diff
 * (linear space, middle-snake bisection) against the common base; regions that
 * only one side changed are taken from that side, identical changes are taken
 * once, and overlapping different changes are conflicts. A line is everything
 * up to and including its '\n', so a missing final newline is a change too.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* True if data holds a NUL byte. Such content is never merged line by line. */
bool text_is_binary(const char *data, size_t len);

/* Merges ours and theirs, both derived from base. On success returns the number
 * of conflicting regions (0 means a clean merge) and the merged text in *ret
 * (malloc'd, NUL-terminated, *ret_len bytes without the NUL); conflicting
 * regions are written diff3-style between "<<<<<<< ours", "||||||| base",
 * "=======" and ">>>>>>> theirs" lines. Returns -EMEDIUMTYPE if any input is
 * binary, -ENOMEM on allocation failure. */
int text_merge3(const char *base, size_t base_len, const char *ours, size_t ours_len,
                const char *theirs, size_t theirs_len, char **ret, size_t *ret_len);

/* Line diff of a against b: the number of lines deleted from a and inserted
 * from b by a shortest edit script. Returns 0 or -ENOMEM. */
int text_diff_count(const char *a, size_t a_len, const char *b, size_t b_len, size_t *ret_deleted,
                    size_t *ret_inserted);
