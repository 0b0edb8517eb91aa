/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * progress: a progress report for long store operations (import, export, gc).
 *
 * On a terminal it redraws one line: a bar (when the total is known), items
 * and bytes done, the rate and the time left. Elsewhere it prints a plain line
 * at most every few seconds and a summary at the end, and only when asked
 * (-v), so scripts and logs stay quiet by default.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum ProgressStyle {
        PROGRESS_NONE,  /* report nothing */
        PROGRESS_TTY,   /* redraw a bar on a terminal */
        PROGRESS_PLAIN, /* occasional plain lines */
} ProgressStyle;

typedef struct Progress {
        FILE *out;
        ProgressStyle style;
        const char *label;
        uint64_t total_bytes; /* 0: unknown */
        uint64_t items, bytes;
        /* For a walk whose bytes are not known up front (gc): the bar and
         * the time left follow steps of total_steps instead, when set. */
        uint64_t total_steps, steps;
        uint64_t start_usec, last_usec;
        bool drawn;
} Progress;

/* Picks the style for the stream: TTY on a terminal unless quiet, PLAIN when
 * verbose, NONE otherwise. */
ProgressStyle progress_style_for(FILE *out, bool quiet, bool verbose);

void progress_init(Progress *p, FILE *out, ProgressStyle style, const char *label,
                   uint64_t total_bytes);
/* Sets the absolute counts; redraws at most ten times a second. */
void progress_update(Progress *p, uint64_t items, uint64_t bytes);
/* Measures the progress in steps of a known number instead of bytes. */
void progress_set_steps(Progress *p, uint64_t total_steps);
void progress_steps_done(Progress *p, uint64_t steps);
/* Draws the final state and ends the line. */
void progress_done(Progress *p);
/* Clears a bar without a summary, before an error is printed. */
void progress_abort(Progress *p);
