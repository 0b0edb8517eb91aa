/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The log of a test, caught in memory: setup() points goldroot's log at a
 * memstream, logged() is what was logged (without the final newline), and
 * teardown() puts the log back. For suites that assert exact error lines. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util.h"

#include <stdio.h>
#include <stdlib.h>

static char *log_buf;
static size_t log_size;
static FILE *log_file;

static int setup(void **state) {
        log_file = open_memstream(&log_buf, &log_size);
        assert_non_null(log_file);
        log_set_stream(log_file);
        return 0;
}

static int teardown(void **state) {
        log_set_stream(NULL);
        fclose(log_file);
        free(log_buf);
        log_buf = NULL;
        log_size = 0;
        return 0;
}

/* What was logged, without the final newline. */
static const char *logged(void) {
        fflush(log_file);
        if (log_size > 0 && log_buf[log_size - 1] == '\n')
                log_buf[log_size - 1] = 0;
        return log_buf ? log_buf : "";
}
