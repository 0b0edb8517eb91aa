/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * json: the streaming writer behind every --json listing.
 */
#include "json.h"
#include "util.h"

#include <inttypes.h>

void json_init(JsonWriter *w, FILE *f) {
        assert(w);
        assert(f);
        *w = (JsonWriter){.f = f};
        w->first[0] = true;
}

/* Separates a value from what came before it at the current level. */
static void json_value_prefix(JsonWriter *w) {
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (!w->first[w->depth])
                fputc(',', w->f);
        w->first[w->depth] = false;
}

static void json_open(JsonWriter *w, char c) {
        json_value_prefix(w);
        fputc(c, w->f);
        assert(w->depth < JSON_MAX_DEPTH);
        w->depth++;
        w->first[w->depth] = true;
}

static void json_close(JsonWriter *w, char c) {
        assert(w->depth > 0);
        assert(!w->after_key);
        w->depth--;
        fputc(c, w->f);
}

void json_begin_object(JsonWriter *w) {
        json_open(w, '{');
}

void json_end_object(JsonWriter *w) {
        json_close(w, '}');
}

void json_begin_array(JsonWriter *w) {
        json_open(w, '[');
}

void json_end_array(JsonWriter *w) {
        json_close(w, ']');
}

/* Length of the valid UTF-8 sequence at s, or 0 if the byte there starts none. */
static size_t utf8_sequence(const unsigned char *s) {
        unsigned cp;
        size_t n;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, cp = s[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

static void json_write_string(FILE *f, const char *s) {
        const unsigned char *p = (const unsigned char *)s;

        fputc('"', f);
        while (*p) {
                size_t n;

                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        p++;
                        continue;
                case '\\':
                        fputs("\\\\", f);
                        p++;
                        continue;
                case '\n':
                        fputs("\\n", f);
                        p++;
                        continue;
                case '\t':
                        fputs("\\t", f);
                        p++;
                        continue;
                case '\r':
                        fputs("\\r", f);
                        p++;
                        continue;
                default:
                        break;
                }
                if (*p < 0x20 || *p == 0x7f) {
                        fprintf(f, "\\u%04x", *p);
                        p++;
                        continue;
                }
                n = utf8_sequence(p);
                if (n == 0) {
                        fputs("\\ufffd", f);
                        p++;
                        continue;
                }
                fwrite(p, 1, n, f);
                p += n;
        }
        fputc('"', f);
}

void json_key(JsonWriter *w, const char *key) {
        assert(key);
        assert(!w->after_key);
        json_value_prefix(w);
        json_write_string(w->f, key);
        fputc(':', w->f);
        w->after_key = true;
}

void json_string(JsonWriter *w, const char *s) {
        if (!s) {
                json_null(w);
                return;
        }
        json_value_prefix(w);
        json_write_string(w->f, s);
}

void json_int(JsonWriter *w, int64_t v) {
        json_value_prefix(w);
        fprintf(w->f, "%" PRId64, v);
}

void json_uint(JsonWriter *w, uint64_t v) {
        json_value_prefix(w);
        fprintf(w->f, "%" PRIu64, v);
}

void json_bool(JsonWriter *w, bool v) {
        json_value_prefix(w);
        fputs(v ? "true" : "false", w->f);
}

void json_null(JsonWriter *w) {
        json_value_prefix(w);
        fputs("null", w->f);
}

int json_finish(JsonWriter *w) {
        assert(w->depth == 0);
        fputc('\n', w->f);
        if (fflush(w->f) != 0 || ferror(w->f))
                return -EIO;
        return 0;
}

void json_kv_string(JsonWriter *w, const char *key, const char *s) {
        json_key(w, key);
        json_string(w, s);
}

void json_kv_int(JsonWriter *w, const char *key, int64_t v) {
        json_key(w, key);
        json_int(w, v);
}

void json_kv_uint(JsonWriter *w, const char *key, uint64_t v) {
        json_key(w, key);
        json_uint(w, v);
}

void json_kv_bool(JsonWriter *w, const char *key, bool v) {
        json_key(w, key);
        json_bool(w, v);
}
