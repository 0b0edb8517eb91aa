/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for json-read.c: values, types, missing and null values,
 * quoted keys, array lengths, and documents that are not JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "json-read.h"
#include "util.h"

static const char *const doc = "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:ab\"},"
                               "\"layers\":[{\"digest\":\"sha256:01\"},{\"digest\":\"sha256:02\"}],"
                               "\"annotations\":{\"org.opencontainers.image.ref.name\":\"web:1\"},"
                               "\"none\":null,\"name\":\"caf\\u00e9\"}";

static void test_get(void **state) {
        _cleanup_(json_reader_freep) JsonReader *j = NULL;
        _cleanup_free_ char *v = NULL, *t = NULL;
        (void)state;

        assert_int_equal(json_reader_new(&j), 0);
        assert_int_equal(json_reader_get(j, doc, "$.config.digest", &v, &t), 0);
        assert_string_equal(v, "sha256:ab");
        assert_string_equal(t, "text");
        free(v), free(t);
        assert_int_equal(json_reader_get(j, doc, "$.layers[1].digest", &v, NULL), 0);
        assert_string_equal(v, "sha256:02");
        free(v);
        assert_int_equal(json_reader_get(j, doc,
                                         "$.annotations.\"org.opencontainers.image.ref.name\"", &v,
                                         NULL),
                         0);
        assert_string_equal(v, "web:1");
        free(v);
        assert_int_equal(json_reader_get(j, doc, "$.schemaVersion", &v, &t), 0);
        assert_string_equal(v, "2");
        assert_string_equal(t, "integer");
        free(v), free(t);
        assert_int_equal(json_reader_get(j, doc, "$.name", &v, NULL), 0);
        assert_string_equal(v, "caf\xc3\xa9");
        free(v), v = NULL, t = NULL;
        /* An object comes back as JSON text. */
        assert_int_equal(json_reader_get(j, doc, "$.config", &v, &t), 0);
        assert_string_equal(v, "{\"digest\":\"sha256:ab\"}");
        assert_string_equal(t, "object");
}

static void test_missing_and_bad(void **state) {
        _cleanup_(json_reader_freep) JsonReader *j = NULL;
        char *v = NULL;
        size_t n = 99;
        (void)state;

        assert_int_equal(json_reader_new(&j), 0);
        assert_int_equal(json_reader_get(j, doc, "$.nope", &v, NULL), -ENOENT);
        assert_int_equal(json_reader_get(j, doc, "$.none", &v, NULL), -ENOENT);
        assert_int_equal(json_reader_get(j, doc, "$.layers[7].digest", &v, NULL), -ENOENT);
        assert_null(v);
        assert_int_equal(json_reader_get(j, "{\"a\": [", "$.a", &v, NULL), -EBADMSG);
        assert_int_equal(json_reader_get(j, "", "$.a", &v, NULL), -EBADMSG);
        assert_int_equal(json_reader_array_length(j, "not json", "$", &n), -EBADMSG);
        assert_int_equal(n, 99);
        /* The reader is still usable after a bad document. */
        assert_int_equal(json_reader_get(j, doc, "$.config.digest", &v, NULL), 0);
        free(v);
}

static void test_array_length(void **state) {
        _cleanup_(json_reader_freep) JsonReader *j = NULL;
        size_t n = 0;
        (void)state;

        assert_int_equal(json_reader_new(&j), 0);
        assert_int_equal(json_reader_array_length(j, doc, "$.layers", &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(json_reader_array_length(j, "[]", "$", &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(json_reader_array_length(j, doc, "$.config", &n), -EMEDIUMTYPE);
        assert_int_equal(json_reader_array_length(j, doc, "$.nope", &n), -ENOENT);
        assert_int_equal(json_reader_array_length(j, doc, "$.none", &n), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_get),
                cmocka_unit_test(test_missing_and_bad),
                cmocka_unit_test(test_array_length),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
