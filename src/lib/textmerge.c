/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * textmerge: diff3 over a linear-space Myers diff.
 *
 * Lines are interned to integers first, so the diff compares ids, not bytes.
 * The diff follows Myers' middle-snake bisection (as diff-match-patch does
 * it): strip the common prefix and suffix, find the middle snake, recurse on
 * both halves. Space is O(N+M); time is O((N+M)·D), bounded by a work budget
 * after which a sub-range is treated as "all different", which is still a
 * correct (merely less precise) common subsequence for diff3.
 *
 * The three-way step is the classic diff3 walk (Khanna, Kuber, Pierce: "A
 * Formal Investigation of Diff3"): alternate stable chunks, where base, ours
 * and theirs all agree, with unstable chunks, which are resolved by whichever
 * side left the base alone.
 */
#include "textmerge.h"
#include "util.h"

/* Above this many snake steps the diff stops looking for the shortest script. */
#define DIFF_WORK_BUDGET (64u * 1024 * 1024)

typedef struct Lines {
        const char *data;
        size_t n;
        size_t *off; /* n+1 offsets; line i is data[off[i]..off[i+1]) */
        uint32_t *id;
} Lines;

typedef struct Interner {
        struct Slot {
                const char *s;
                size_t len;
                uint32_t id;
        } * slots;
        size_t cap; /* power of two */
        uint32_t next;
} Interner;

bool text_is_binary(const char *data, size_t len) {
        return len > 0 && memchr(data, 0, len) != NULL;
}

static void lines_done(Lines *l) {
        free(l->off);
        free(l->id);
        l->off = NULL;
        l->id = NULL;
}

static int lines_split(const char *data, size_t len, Lines *ret) {
        size_t n = 0, k = 0;

        for (size_t i = 0; i < len; i++)
                if (data[i] == '\n')
                        n++;
        if (len > 0 && data[len - 1] != '\n')
                n++;
        *ret = (Lines){.data = data, .n = n};
        ret->off = malloc(sizeof(size_t) * (n + 1));
        ret->id = malloc(sizeof(uint32_t) * (n ? n : 1));
        if (!ret->off || !ret->id) {
                lines_done(ret);
                return -ENOMEM;
        }
        ret->off[0] = 0;
        for (size_t i = 0; i < len; i++)
                if (data[i] == '\n')
                        ret->off[++k] = i + 1;
        if (k < n)
                ret->off[++k] = len;
        return 0;
}

static uint64_t hash_bytes(const char *s, size_t len) {
        uint64_t h = 1469598103934665603ull; /* FNV-1a */
        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)s[i];
                h *= 1099511628211ull;
        }
        return h;
}

static void intern_lines(Interner *in, Lines *l) {
        for (size_t i = 0; i < l->n; i++) {
                const char *s = l->data + l->off[i];
                size_t len = l->off[i + 1] - l->off[i];
                size_t h = hash_bytes(s, len) & (in->cap - 1);

                while (in->slots[h].s &&
                       !(in->slots[h].len == len && memcmp(in->slots[h].s, s, len) == 0))
                        h = (h + 1) & (in->cap - 1);
                if (!in->slots[h].s)
                        in->slots[h] = (struct Slot){.s = s, .len = len, .id = in->next++};
                l->id[i] = in->slots[h].id;
        }
}

static int intern_all(Lines *const *all, size_t n_all) {
        Interner in = {};
        size_t total = 0;

        for (size_t i = 0; i < n_all; i++)
                total += all[i]->n;
        in.cap = 16;
        while (in.cap < total * 2)
                in.cap <<= 1;
        in.slots = calloc(in.cap, sizeof(struct Slot));
        if (!in.slots)
                return -ENOMEM;
        for (size_t i = 0; i < n_all; i++)
                intern_lines(&in, all[i]);
        free(in.slots);
        return 0;
}

typedef struct Differ {
        const uint32_t *a, *b;
        long *match;     /* match[i]: index in b of a[i], or -1 */
        long *v1, *v2;   /* bisection scratch, reused: recursion happens after bisect */
        uint64_t budget; /* remaining snake steps */
} Differ;

/* Finds the middle snake of a[a0..a1) against b[b0..b1); both ranges are
 * non-empty. Returns true with the split point, or false if the ranges share
 * nothing (or the work budget ran out). */
static bool bisect(Differ *d, long a0, long a1, long b0, long b1, long *rx, long *ry) {
        const uint32_t *a = d->a + a0, *b = d->b + b0;
        long n = a1 - a0, m = b1 - b0;
        long max_d = (n + m + 1) / 2, voff = max_d, vsize = 2 * max_d + 2;
        long delta = n - m;
        bool front = delta % 2 != 0;
        long k1start = 0, k1end = 0, k2start = 0, k2end = 0;

        for (long i = 0; i < vsize; i++)
                d->v1[i] = d->v2[i] = -1;
        d->v1[voff + 1] = 0;
        d->v2[voff + 1] = 0;
        for (long e = 0; e < max_d; e++) {
                if (d->budget < (uint64_t)(4 * e + 2))
                        return false;
                d->budget -= 4 * e + 2;
                for (long k1 = -e + k1start; k1 <= e - k1end; k1 += 2) {
                        long k1o = voff + k1, x1, y1;

                        if (k1 == -e || (k1 != e && d->v1[k1o - 1] < d->v1[k1o + 1]))
                                x1 = d->v1[k1o + 1];
                        else
                                x1 = d->v1[k1o - 1] + 1;
                        y1 = x1 - k1;
                        while (x1 < n && y1 < m && a[x1] == b[y1]) {
                                x1++;
                                y1++;
                        }
                        d->v1[k1o] = x1;
                        if (x1 > n)
                                k1end += 2;
                        else if (y1 > m)
                                k1start += 2;
                        else if (front) {
                                long k2o = voff + delta - k1;
                                if (k2o >= 0 && k2o < vsize && d->v2[k2o] != -1 &&
                                    x1 >= n - d->v2[k2o]) {
                                        *rx = x1;
                                        *ry = y1;
                                        return true;
                                }
                        }
                }
                for (long k2 = -e + k2start; k2 <= e - k2end; k2 += 2) {
                        long k2o = voff + k2, x2, y2;

                        if (k2 == -e || (k2 != e && d->v2[k2o - 1] < d->v2[k2o + 1]))
                                x2 = d->v2[k2o + 1];
                        else
                                x2 = d->v2[k2o - 1] + 1;
                        y2 = x2 - k2;
                        while (x2 < n && y2 < m && a[n - x2 - 1] == b[m - y2 - 1]) {
                                x2++;
                                y2++;
                        }
                        d->v2[k2o] = x2;
                        if (x2 > n)
                                k2end += 2;
                        else if (y2 > m)
                                k2start += 2;
                        else if (!front) {
                                long k1o = voff + delta - k2;
                                if (k1o >= 0 && k1o < vsize && d->v1[k1o] != -1) {
                                        long x1 = d->v1[k1o];
                                        long y1 = voff + x1 - k1o;
                                        if (x1 >= n - x2) {
                                                *rx = x1;
                                                *ry = y1;
                                                return true;
                                        }
                                }
                        }
                }
        }
        return false;
}

static void diff_range(Differ *d, long a0, long a1, long b0, long b1) {
        long x, y;

        /* Common prefix and suffix are matches, and make the bisection smaller. */
        while (a0 < a1 && b0 < b1 && d->a[a0] == d->b[b0])
                d->match[a0++] = b0++;
        while (a0 < a1 && b0 < b1 && d->a[a1 - 1] == d->b[b1 - 1])
                d->match[--a1] = --b1;
        if (a0 == a1 || b0 == b1)
                return;
        if (!bisect(d, a0, a1, b0, b1, &x, &y))
                return;
        /* A split at either corner would not make progress. */
        if ((x == 0 && y == 0) || (x == a1 - a0 && y == b1 - b0))
                return;
        diff_range(d, a0, a0 + x, b0, b0 + y);
        diff_range(d, a0 + x, a1, b0 + y, b1);
}

/* match[i] for each line of a: the matched line of b, or -1. */
static int diff_lines(const Lines *a, const Lines *b, long **ret_match) {
        _cleanup_free_ long *match = NULL, *v1 = NULL, *v2 = NULL;
        size_t vsize = a->n + b->n + 4;
        Differ d;

        match = malloc(sizeof(long) * (a->n ? a->n : 1));
        v1 = malloc(sizeof(long) * vsize);
        v2 = malloc(sizeof(long) * vsize);
        if (!match || !v1 || !v2)
                return -ENOMEM;
        for (size_t i = 0; i < a->n; i++)
                match[i] = -1;
        d = (Differ){.a = a->id,
                     .b = b->id,
                     .match = match,
                     .v1 = v1,
                     .v2 = v2,
                     .budget = DIFF_WORK_BUDGET};
        diff_range(&d, 0, (long)a->n, 0, (long)b->n);
        *ret_match = TAKE_PTR(match);
        return 0;
}

int text_diff_count(const char *a, size_t a_len, const char *b, size_t b_len, size_t *ret_deleted,
                    size_t *ret_inserted) {
        _cleanup_free_ long *match = NULL;
        Lines la, lb;
        size_t common = 0;
        int r;

        r = lines_split(a, a_len, &la);
        if (r < 0)
                return r;
        r = lines_split(b, b_len, &lb);
        if (r < 0)
                goto out_a;
        r = intern_all((Lines *[]){&la, &lb}, 2);
        if (r >= 0)
                r = diff_lines(&la, &lb, &match);
        if (r >= 0) {
                for (size_t i = 0; i < la.n; i++)
                        common += match[i] >= 0;
                if (ret_deleted)
                        *ret_deleted = la.n - common;
                if (ret_inserted)
                        *ret_inserted = lb.n - common;
                r = 0;
        }
        lines_done(&lb);
out_a:
        lines_done(&la);
        return r;
}

typedef struct Out {
        char *buf;
        size_t len, cap;
        bool failed;
} Out;

static void out_put(Out *o, const char *s, size_t len) {
        if (o->failed)
                return;
        if (o->len + len + 1 > o->cap) {
                size_t cap = o->cap ? o->cap : 256;
                char *t;
                while (cap < o->len + len + 1)
                        cap *= 2;
                t = realloc(o->buf, cap);
                if (!t) {
                        o->failed = true;
                        return;
                }
                o->buf = t;
                o->cap = cap;
        }
        memcpy(o->buf + o->len, s, len);
        o->len += len;
        o->buf[o->len] = 0;
}

static void out_lines(Out *o, const Lines *l, long from, long to) {
        if (from < to)
                out_put(o, l->data + l->off[from], l->off[to] - l->off[from]);
}

/* A conflict marker must start a line, even after a side without a final newline. */
static void out_marker(Out *o, const char *marker) {
        if (o->len > 0 && o->buf && o->buf[o->len - 1] != '\n')
                out_put(o, "\n", 1);
        out_put(o, marker, strlen(marker));
}

static bool range_equal(const Lines *x, long x0, long x1, const Lines *y, long y0, long y1) {
        if (x1 - x0 != y1 - y0)
                return false;
        for (long i = 0; i < x1 - x0; i++)
                if (x->id[x0 + i] != y->id[y0 + i])
                        return false;
        return true;
}

static int merge3(const Lines *b, const Lines *o, const Lines *t, const long *mo, const long *mt,
                  Out *out) {
        long nb = (long)b->n, no = (long)o->n, nt = (long)t->n;
        long lb = 0, lo = 0, lt = 0;
        int conflicts = 0;

        for (;;) {
                long i = 0, j, ko, kt;

                while (lb + i < nb && mo[lb + i] == lo + i && mt[lb + i] == lt + i)
                        i++;
                if (i > 0) {
                        out_lines(out, b, lb, lb + i);
                        lb += i;
                        lo += i;
                        lt += i;
                        continue;
                }
                if (lb == nb && lo == no && lt == nt)
                        break;
                for (j = lb; j < nb && (mo[j] < 0 || mt[j] < 0); j++)
                        ;
                ko = j < nb ? mo[j] : no;
                kt = j < nb ? mt[j] : nt;

                if (range_equal(o, lo, ko, b, lb, j))
                        out_lines(out, t, lt, kt);
                else if (range_equal(t, lt, kt, b, lb, j) || range_equal(o, lo, ko, t, lt, kt))
                        out_lines(out, o, lo, ko);
                else {
                        conflicts++;
                        out_marker(out, "<<<<<<< ours\n");
                        out_lines(out, o, lo, ko);
                        out_marker(out, "||||||| base\n");
                        out_lines(out, b, lb, j);
                        out_marker(out, "=======\n");
                        out_lines(out, t, lt, kt);
                        out_marker(out, ">>>>>>> theirs\n");
                }
                lb = j;
                lo = ko;
                lt = kt;
        }
        return conflicts;
}

int text_merge3(const char *base, size_t base_len, const char *ours, size_t ours_len,
                const char *theirs, size_t theirs_len, char **ret, size_t *ret_len) {
        _cleanup_free_ long *mo = NULL, *mt = NULL;
        Lines lb = {}, lo = {}, lt = {};
        Out out = {};
        int r;

        assert(ret);
        if (text_is_binary(base, base_len) || text_is_binary(ours, ours_len) ||
            text_is_binary(theirs, theirs_len))
                return -EMEDIUMTYPE;

        r = lines_split(base, base_len, &lb);
        if (r >= 0)
                r = lines_split(ours, ours_len, &lo);
        if (r >= 0)
                r = lines_split(theirs, theirs_len, &lt);
        if (r >= 0)
                r = intern_all((Lines *[]){&lb, &lo, &lt}, 3);
        if (r >= 0)
                r = diff_lines(&lb, &lo, &mo);
        if (r >= 0)
                r = diff_lines(&lb, &lt, &mt);
        if (r >= 0) {
                r = merge3(&lb, &lo, &lt, mo, mt, &out);
                out_put(&out, "", 0); /* an empty merge is still a string */
                if (out.failed)
                        r = -ENOMEM;
        }
        lines_done(&lb);
        lines_done(&lo);
        lines_done(&lt);
        if (r < 0) {
                free(out.buf);
                return r;
        }
        if (ret_len)
                *ret_len = out.len;
        *ret = out.buf;
        return r;
}
