/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for identity.c: the strict identity parser, its writer, and the
 * value checkers; plus instance names (instance.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "identity.h"
#include "instance.h"
#include "util.h"

#define MID "0123456789abcdef0123456789abcdef"
#define MINIMAL "hostname=web1\nmachine_id=" MID "\nmode=ro\n"

/* Parses text and returns the logged message ("" if none). */
static char *parse_msg(const char *text, size_t len, int want, Identity **ret) {
        char *buf = NULL;
        size_t n = 0;
        FILE *log = open_memstream(&buf, &n);
        Identity *id = NULL;

        assert_non_null(log);
        log_set_stream(log);
        assert_int_equal(identity_parse(text, len, "ident", &id), want);
        log_set_stream(NULL);
        fclose(log);
        if (ret)
                *ret = id;
        else
                identity_free(id);
        return buf;
}

static void expect_error(const char *text, const char *msg) {
        char *m = parse_msg(text, strlen(text), -EBADMSG, NULL);
        if (!strstr(m, msg))
                fail_msg("for %s: expected '%s' in '%s'", text, msg, m);
        free(m);
}

static void test_minimal(void **state) {
        Identity *id = NULL;
        free(parse_msg(MINIMAL, strlen(MINIMAL), 0, &id));
        assert_string_equal(id->hostname, "web1");
        assert_string_equal(id->machine_id, MID);
        assert_string_equal(id->mode, "ro");
        assert_null(id->ip);
        assert_null(id->dns);
        assert_false(id->privileged);
        identity_free(id);
}

static void test_full_roundtrip(void **state) {
        const char *text = "# comment\n"
                           "\n"
                           "hostname=web1.example.com\n"
                           "ip=10.0.0.5/24\n"
                           "gateway=10.0.0.1\n"
                           "dns=10.0.0.2\n"
                           "dns=2001:db8::53\n"
                           "machine_id=" MID "\n"
                           "mode=volatile\n"
                           "profile=/etc/goldroot/profiles/web.profile\n"
                           "net=bridge:br0\n"
                           "privileged=yes\n"
                           "set.ROLE=web server=1\n"
                           "set.zone=a\n";
        Identity *id = NULL, *again = NULL;
        char *out = NULL;

        free(parse_msg(text, strlen(text), 0, &id));
        assert_string_equal(id->ip, "10.0.0.5/24");
        assert_string_equal(id->gateway, "10.0.0.1");
        assert_int_equal(strv_length(id->dns), 2);
        assert_string_equal(id->dns[1], "2001:db8::53");
        assert_string_equal(id->net, "bridge:br0");
        assert_true(id->privileged);
        assert_string_equal(id->extra[0], "ROLE=web server=1");
        assert_string_equal(id->extra[1], "zone=a");

        assert_int_equal(identity_format(id, &out), 0);
        free(parse_msg(out, strlen(out), 0, &again));
        assert_string_equal(again->hostname, id->hostname);
        assert_string_equal(again->profile, id->profile);
        assert_string_equal(again->extra[0], id->extra[0]);
        assert_int_equal(strv_length(again->dns), 2);
        assert_true(again->privileged);
        free(out);
        identity_free(id);
        identity_free(again);
}

static void test_errors(void **state) {
        expect_error("", "ident:1:1: missing key 'hostname'");
        expect_error("hostname=web1\nmode=ro\n", "ident:3:1: missing key 'machine_id'");
        expect_error(MINIMAL "hostname=web2\n", "ident:4:1: 'hostname' is set twice (first on "
                                                "line 1)");
        expect_error(MINIMAL "colour=red\n", "ident:4:1: unknown key 'colour'");
        expect_error(MINIMAL "just text\n", "ident:4:1: expected KEY=VALUE");
        expect_error(MINIMAL "=x\n", "ident:4:1: missing KEY");
        expect_error("hostname=web_1\nmachine_id=" MID "\nmode=ro\n",
                     "ident:1:10: hostname: not a valid hostname 'web_1'");
        expect_error(MINIMAL "ip=10.0.0.5\n", "ip: not an ADDR/PREFIX");
        expect_error(MINIMAL "ip=10.0.0.5/33\n", "ip: not an ADDR/PREFIX");
        expect_error(MINIMAL "ip=10.0.0.256/24\n", "ip: not an ADDR/PREFIX");
        expect_error(MINIMAL "gateway=gw\n", "gateway: not an IPv4 or IPv6 address");
        expect_error("hostname=a\nmachine_id=00000000000000000000000000000000\nmode=ro\n",
                     "machine_id: not 32 lowercase hex digits");
        expect_error("hostname=a\nmachine_id=0123456789ABCDEF0123456789abcdef\nmode=ro\n",
                     "machine_id: not 32 lowercase hex digits");
        expect_error(MINIMAL "mode=rw\n", "'mode' is set twice");
        expect_error("hostname=a\nmachine_id=" MID "\nmode=rx\n", "mode: not ro, rw or volatile");
        expect_error(MINIMAL "profile=relative.profile\n", "profile: not an absolute path");
        expect_error(MINIMAL "net=bridge:\n", "net: not none, host or bridge:BRIDGE");
        expect_error(MINIMAL "net=bridge:averyveryverylongname\n", "net: not none");
        expect_error(MINIMAL "privileged=1\n", "privileged: not yes or no");
        expect_error(MINIMAL "set.1x=a\n", "ident:4:5: bad key '1x'");
        expect_error(MINIMAL "set.a=1\nset.a=2\n", "ident:5:1: 'set.a' is set twice (first on "
                                                   "line 4)");
        expect_error(MINIMAL "hostname=a\tb\n", "ident:4:11: control character 0x09");
        expect_error(MINIMAL "hostname=web1", "ident:4:14: missing newline at the end");
        expect_error(MINIMAL "hostname=a\r\n", "control character 0x0d");
}

static void test_nul_and_size(void **state) {
        char text[] = "hostname=we\0b1\nmachine_id=" MID "\nmode=ro\n";
        char *m = parse_msg(text, sizeof text - 1, -EBADMSG, NULL);
        assert_non_null(strstr(m, "ident:1:12: control character 0x00"));
        free(m);

        size_t big = IDENTITY_MAX_SIZE + 1;
        char *huge = malloc(big);
        assert_non_null(huge);
        memset(huge, '#', big);
        m = parse_msg(huge, big, -EBADMSG, NULL);
        assert_non_null(strstr(m, "larger than"));
        free(m);
        free(huge);
}

static void test_format_refuses_bad(void **state) {
        Identity id = {.hostname = (char *)"web1",
                       .machine_id = (char *)MID,
                       .mode = (char *)"ro",
                       .ip = (char *)"10.0.0.1"};
        char *out = NULL, *buf = NULL;
        size_t n = 0;
        FILE *log = open_memstream(&buf, &n);

        log_set_stream(log);
        assert_int_equal(identity_format(&id, &out), -EINVAL);
        log_set_stream(NULL);
        fclose(log);
        assert_null(out);
        assert_non_null(strstr(buf, "identity: ip: not an ADDR/PREFIX '10.0.0.1'"));
        free(buf);
}

static void test_checkers(void **state) {
        char id1[MACHINE_ID_LEN + 1], id2[MACHINE_ID_LEN + 1];

        assert_true(hostname_is_valid("web1"));
        assert_true(hostname_is_valid("a.b-c.example"));
        assert_false(hostname_is_valid("-web"));
        assert_false(hostname_is_valid("web-"));
        assert_false(hostname_is_valid("a..b"));
        assert_false(hostname_is_valid("a_b"));
        assert_false(hostname_is_valid(""));
        assert_true(address_prefix_is_valid("2001:db8::5/64"));
        assert_false(address_prefix_is_valid("10.0.0.1/024"));
        assert_false(address_prefix_is_valid("10.0.0.1/"));
        assert_true(address_is_valid("::1"));
        assert_false(address_is_valid("10.0.0"));
        assert_true(identity_key_is_valid("ROLE_2"));
        assert_false(identity_key_is_valid("a-b"));

        assert_int_equal(machine_id_generate(id1), 0);
        assert_int_equal(machine_id_generate(id2), 0);
        assert_true(machine_id_is_valid(id1));
        assert_string_not_equal(id1, id2);
        assert_int_equal(id1[12], '4'); /* a v4 UUID */
}

static void test_instance_names(void **state) {
        char long_name[INSTANCE_NAME_MAX + 2];

        assert_true(instance_name_is_valid("web1"));
        assert_true(instance_name_is_valid("a.b_c-d"));
        assert_false(instance_name_is_valid(".hidden"));
        assert_false(instance_name_is_valid("-rf"));
        assert_false(instance_name_is_valid("a/b"));
        assert_false(instance_name_is_valid("a b"));
        assert_false(instance_name_is_valid(""));
        assert_false(instance_name_is_valid("a..b"));
        memset(long_name, 'a', sizeof long_name - 1);
        long_name[INSTANCE_NAME_MAX] = 0;
        assert_true(instance_name_is_valid(long_name));
        long_name[INSTANCE_NAME_MAX] = 'a';
        long_name[INSTANCE_NAME_MAX + 1] = 0;
        assert_false(instance_name_is_valid(long_name));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_minimal),
                cmocka_unit_test(test_full_roundtrip),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_nul_and_size),
                cmocka_unit_test(test_format_refuses_bad),
                cmocka_unit_test(test_checkers),
                cmocka_unit_test(test_instance_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
