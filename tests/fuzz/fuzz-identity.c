/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-identity: libFuzzer harness for the identity file parser, which reads
 * a file that lives beside a guest-controlled state. Whatever parses must
 * format and parse back to the same text (identity.h promises the round trip).
 */
#include "identity.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static FILE *devnull;
        Identity *id = NULL, *again = NULL;
        char *text = NULL, *text2 = NULL;

        if (!devnull) {
                devnull = fopen("/dev/null", "we");
                if (!devnull)
                        abort();
                log_set_stream(devnull);
        }
        if (identity_parse((const char *)data, size, "fuzz", &id) < 0)
                return 0;
        if (identity_format(id, &text) < 0)
                abort(); /* a parsed identity must validate */
        if (identity_parse(text, strlen(text), "fuzz-format", &again) < 0)
                abort();
        if (identity_format(again, &text2) < 0 || strcmp(text, text2) != 0)
                abort();
        free(text2);
        free(text);
        identity_free(again);
        identity_free(id);
        return 0;
}
