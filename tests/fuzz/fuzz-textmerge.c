/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-textmerge: libFuzzer harness for the three-way text merge. The input
 * is BASE \x01 OURS \x01 THEIRS (missing parts are empty); \x01 is not a byte
 * configuration files hold, and splitting on it keeps seeds readable.
 */
#include "textmerge.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SEP '\x01'

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static FILE *devnull;
        const char *part[3] = {"", "", ""};
        size_t len[3] = {0, 0, 0};
        const char *p = (const char *)data, *end = p + size;
        char *out = NULL;
        size_t out_len = 0, del = 0, ins = 0;
        int r;

        if (!devnull) {
                devnull = fopen("/dev/null", "we");
                if (!devnull)
                        abort();
                log_set_stream(devnull);
        }
        for (int i = 0; i < 3 && p <= end; i++) {
                const char *s = i < 2 ? memchr(p, SEP, (size_t)(end - p)) : NULL;
                if (!s)
                        s = end;
                part[i] = p;
                len[i] = (size_t)(s - p);
                p = s + 1;
        }
        r = text_merge3(part[0], len[0], part[1], len[1], part[2], len[2], &out, &out_len);
        if (r >= 0) {
                if (strlen(out) != out_len)
                        abort(); /* the merged text is NUL-terminated, no NUL inside */
                /* A side that did not change leaves the other side's text, exactly. */
                if (len[0] == len[1] && memcmp(part[0], part[1], len[0]) == 0 &&
                    (r != 0 || out_len != len[2] || memcmp(out, part[2], out_len) != 0))
                        abort();
                free(out);
        }
        if (text_diff_count(part[0], len[0], part[1], len[1], &del, &ins) == 0 && del == 0 &&
            ins == 0 && (len[0] != len[1] || memcmp(part[0], part[1], len[0]) != 0))
                abort(); /* an empty edit script between different texts */
        return 0;
}
