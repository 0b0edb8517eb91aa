/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-profile: libFuzzer harness for the profile language parser and
 * resolver (profile_set_load_string). Profiles come from administrators, but
 * a parser that crashes on a typo is a bug; FUZZ_PROFILE_DIR lets FILE:ENTRY
 * and include lines reach real shared profiles too.
 */
#include "profile.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static FILE *devnull;
        char *const search_path[] = {(char *)FUZZ_PROFILE_DIR, NULL};
        ProfileSet *set = NULL;
        char *text;

        if (!devnull) {
                devnull = fopen("/dev/null", "we");
                if (!devnull)
                        abort();
                log_set_stream(devnull);
        }
        /* The entry point takes a C string: a NUL ends the text early. */
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (profile_set_load_string("fuzz", text, search_path, &set) >= 0) {
                /* Touch what the planner reads, so a half-built set shows. */
                for (size_t i = 0; i < set->n_profiles; i++)
                        for (size_t j = 0; j < set->profiles[i]->n_entries; j++) {
                                char *q = NULL;
                                if (entry_qualified_name(set->profiles[i]->entries[j], &q) >= 0)
                                        free(q);
                        }
                profile_set_free(set);
        }
        free(text);
        return 0;
}
