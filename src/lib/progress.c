/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * progress: a terminal bar with rate and time left, or plain lines.
 */
#include "progress.h"
#include "util.h"

#include <inttypes.h>
#include <sys/ioctl.h>
#include <time.h>

#define USEC_PER_SEC 1000000ull

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

ProgressStyle progress_style_for(FILE *out, bool quiet, bool verbose) {
        if (quiet)
                return PROGRESS_NONE;
        if (isatty(fileno(out)))
                return PROGRESS_TTY;
        return verbose ? PROGRESS_PLAIN : PROGRESS_NONE;
}

void progress_init(Progress *p, FILE *out, ProgressStyle style, const char *label,
                   uint64_t total_bytes) {
        assert(p);
        *p = (Progress){
                .out = out,
                .style = style,
                .label = label,
                .total_bytes = total_bytes,
                .start_usec = now_usec(),
        };
}

static unsigned terminal_width(FILE *out) {
        struct winsize ws;
        if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
                return ws.ws_col;
        return 80;
}

static void format_duration(uint64_t sec, char *buf, size_t len) {
        /* Beyond 99 hours an estimate means nothing; it also bounds the width. */
        unsigned s = sec > 359999 ? 359999 : (unsigned)sec;

        if (s >= 3600)
                snprintf(buf, len, "%u:%02u:%02u", s / 3600 % 100, s / 60 % 60, s % 60);
        else
                snprintf(buf, len, "%u:%02u", s / 60 % 60, s % 60);
}

/* Seconds left, from the bytes or the steps done so far; false if unknown. */
static bool time_left(const Progress *p, uint64_t elapsed, uint64_t per_sec, uint64_t *ret) {
        if (p->total_steps > 0) {
                if (p->steps == 0 || p->steps >= p->total_steps)
                        return false;
                *ret = elapsed / USEC_PER_SEC * (p->total_steps - p->steps) / p->steps;
                return true;
        }
        if (p->total_bytes > p->bytes && per_sec > 0) {
                *ret = (p->total_bytes - p->bytes) / per_sec;
                return true;
        }
        return false;
}

/* "1234 files  56.7M  12.3M/s  0:04 left" */
static void format_status(Progress *p, uint64_t now, bool final, char *buf, size_t len) {
        char done[16], rate[16], left[32] = "";
        uint64_t elapsed = now - p->start_usec;
        uint64_t per_sec = elapsed > 0 ? p->bytes * USEC_PER_SEC / elapsed : 0;
        uint64_t secs;

        format_size(p->bytes, done, sizeof done);
        format_size(per_sec, rate, sizeof rate);
        if (final) {
                char d[16];
                format_duration(elapsed / USEC_PER_SEC, d, sizeof d);
                snprintf(left, sizeof left, "  in %s", d);
        } else if (time_left(p, elapsed, per_sec, &secs)) {
                char d[16];
                format_duration(secs, d, sizeof d);
                snprintf(left, sizeof left, "  %s left", d);
        }
        snprintf(buf, len, "%" PRIu64 " files  %s  %s/s%s", p->items, done, rate, left);
}

static void progress_draw(Progress *p, bool final) {
        uint64_t now = now_usec();
        char status[128];

        format_status(p, now, final, status, sizeof status);
        if (p->style == PROGRESS_PLAIN) {
                fprintf(p->out, "%s: %s\n", p->label, status);
        } else {
                unsigned width = terminal_width(p->out);
                int fixed = (int)strlen(p->label) + (int)strlen(status) + 10;
                int barw = (int)width - fixed - 1;

                fprintf(p->out, "\r\033[K%s ", p->label);
                uint64_t total = p->total_steps ?: p->total_bytes;
                uint64_t done = p->total_steps ? p->steps : p->bytes;

                if (total > 0 && barw >= 10) {
                        uint64_t pct = final ? 100 : (done >= total ? 99 : done * 100 / total);
                        int fill = (int)(pct * (uint64_t)barw / 100);
                        fputc('[', p->out);
                        for (int i = 0; i < barw; i++)
                                fputc(i < fill ? '#' : (i == fill ? '>' : ' '), p->out);
                        fprintf(p->out, "] %3" PRIu64 "%% ", pct);
                }
                fputs(status, p->out);
                if (final)
                        fputc('\n', p->out);
        }
        fflush(p->out);
        p->last_usec = now;
        p->drawn = true;
}

void progress_update(Progress *p, uint64_t items, uint64_t bytes) {
        uint64_t now, every;

        p->items = items;
        p->bytes = bytes;
        if (p->style == PROGRESS_NONE)
                return;
        every = p->style == PROGRESS_TTY ? USEC_PER_SEC / 10 : 5 * USEC_PER_SEC;
        now = now_usec();
        if (now - (p->drawn ? p->last_usec : p->start_usec) < every)
                return;
        progress_draw(p, false);
}

void progress_set_steps(Progress *p, uint64_t total_steps) {
        p->total_steps = total_steps;
        p->steps = 0;
}

void progress_steps_done(Progress *p, uint64_t steps) {
        p->steps = steps;
        progress_update(p, p->items, p->bytes);
}

void progress_done(Progress *p) {
        if (p->style == PROGRESS_NONE)
                return;
        progress_draw(p, true);
}

void progress_abort(Progress *p) {
        if (p->style == PROGRESS_TTY && p->drawn) {
                fputs("\r\033[K", p->out);
                fflush(p->out);
        }
        p->drawn = false;
}
