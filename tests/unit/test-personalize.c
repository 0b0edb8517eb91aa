/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for personalize.c: whole-token replacement, the files written
 * into a root (through hostile symlinks too), the machine-id rules and the
 * list of first-start programs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fsutil.h"
#include "personalize.h"
#include "util.h"

#include <fcntl.h>
#include <sys/stat.h>

#define MID "0123456789abcdef0123456789abcdef"
#define IMAGE_MID "ffffffffffffffffffffffffffffffff"

typedef struct Fixture {
        char dir[32];
        char *root;
        char *outside;
        int root_fd;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        assert_non_null(f);
        strcpy(f->dir, "/tmp/gr-pers-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->root = path_join(f->dir, "root");
        f->outside = path_join(f->dir, "outside");
        assert_int_equal(mkdir(f->root, 0755), 0);
        f->root_fd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->root_fd >= 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        safe_close(f->root_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, f->dir), 0);
        free(f->root);
        free(f->outside);
        free(f);
        return 0;
}

static void put(Fixture *f, const char *path, const char *text) {
        _cleanup_free_ char *p = path_join(f->root, path), *dir = NULL;
        FILE *o;

        dir = strndup(path, strrchr(path, '/') - path);
        assert_int_equal(mkdir_p_in_root(f->root_fd, dir, 0755, NULL, NULL), 0);
        o = fopen(p, "we");
        assert_non_null(o);
        fputs(text, o);
        fclose(o);
}

/* The file's text, or NULL if absent. */
static char *get(Fixture *f, const char *path) {
        _cleanup_free_ char *p = path_join(f->root, path);
        char *text = NULL;
        int r = read_file_at(AT_FDCWD, p, &text, NULL, 1 << 20);
        assert_true(r >= 0 || r == -ENOENT);
        return text;
}

static void expect_file(Fixture *f, const char *path, const char *want) {
        _cleanup_free_ char *have = get(f, path);
        if (!have || !streq(have, want))
                fail_msg("%s: expected '%s', have '%s'", path, want, have ?: "(absent)");
}

static void test_token_boundaries(void **state) {
        static const struct {
                const char *text, *from, *to, *want;
                int count;
        } cases[] = {
                {"10.0.0.1", "10.0.0.1", "10.0.0.5", "10.0.0.5", 1},
                {"10.0.0.12", "10.0.0.1", "10.0.0.5", NULL, 0},
                {"110.0.0.1", "10.0.0.1", "10.0.0.5", NULL, 0},
                {"5.10.0.0.1", "10.0.0.1", "10.0.0.5", NULL, 0},
                {"address 10.0.0.1/24", "10.0.0.1", "10.0.0.5", "address 10.0.0.5/24", 1},
                {"10.0.0.1:80,10.0.0.1", "10.0.0.1", "X", "X:80,X", 2},
                {"ping 10.0.0.1.", "10.0.0.1", "X", "ping X.", 1},
                {"gold goldroot gold-1 gold_x", "gold", "web1", "web1 goldroot gold-1 gold_x", 1},
                {"gold.example.com", "gold", "web1", NULL, 0},
                {"mail.gold", "gold", "web1", NULL, 0},
                {"Welcome to gold.\n", "gold", "web1", "Welcome to web1.\n", 1},
                {"(gold)\tgold\n", "gold", "web1", "(web1)\tweb1\n", 2},
                {"", "gold", "web1", NULL, 0},
                {"10.0.0.1.5", "10.0.0.1", "X", NULL, 0},
                /* IPv6: a ':' with a hex digit or ':' beyond it continues
                 * the address. */
                {"fd00::1", "fd00::1", "fd00::99", "fd00::99", 1},
                {"fd00::1:5", "fd00::1", "fd00::99", NULL, 0},
                {"fd00::1::", "fd00::1", "fd00::99", NULL, 0},
                {"2001:fd00::1", "fd00::1", "fd00::99", NULL, 0},
                {"fd00::10", "fd00::1", "fd00::99", NULL, 0},
                {"fd00::1a", "fd00::1", "fd00::99", NULL, 0},
                {"[fd00::1]:22 fd00::1/64", "fd00::1", "X", "[X]:22 X/64", 2},
                {"host:fd00::1 fd00::1:", "fd00::1", "X", "host:X X:", 2},
                {"fd00::1,fd00::1:5", "fd00::1", "X", "X,fd00::1:5", 1},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *out = NULL;
                size_t len = 0;
                int r = token_replace(cases[i].text, strlen(cases[i].text), cases[i].from,
                                      cases[i].to, &out, &len);
                if (r != cases[i].count)
                        fail_msg("'%s': %d replacements, expected %d", cases[i].text, r,
                                 cases[i].count);
                if (cases[i].want) {
                        assert_non_null(out);
                        assert_int_equal(len, strlen(cases[i].want));
                        assert_string_equal(out, cases[i].want);
                } else
                        assert_null(out);
        }
        assert_true(token_is_whole("a 10.0.0.1 b", 12, 2, 8));
        assert_false(token_is_whole("a 10.0.0.12", 11, 2, 8));
        assert_true(token_is_whole("a fd00::1 b", 11, 2, 7));
        assert_false(token_is_whole("a fd00::1:5", 11, 2, 7));
}

static Identity *identity(void) {
        Identity *id = calloc(1, sizeof *id);
        assert_non_null(id);
        id->hostname = strdup("web1.example.com");
        id->ip = strdup("10.0.0.5/24");
        id->gateway = strdup("10.0.0.254");
        assert_int_equal(strv_extend(&id->dns, "10.0.0.53"), 0);
        id->machine_id = strdup(MID);
        id->mode = strdup("ro");
        return id;
}

static void test_files(void **state) {
        Fixture *f = *state;
        Identity *id = identity();
        PersonalizeContext c = {.id = id, .image_hostname = "gold", .image_address = "10.0.0.1/24"};
        _cleanup_free_ char *hosts = NULL;

        put(f, "/etc/hosts",
            "127.0.0.1 localhost\n10.0.0.1 gold\n10.0.0.12 other\n"
            "10.9.9.9 stale # goldroot\n");
        put(f, "/etc/motd", "Welcome to gold at 10.0.0.1 (not 10.0.0.12, not goldroot).\n");
        put(f, "/etc/machine-id", IMAGE_MID "\n");
        put(f, "/etc/network/interfaces", "iface eth0 inet static\n  address 10.0.0.1/24\n");
        put(f, "/usr/lib/systemd/systemd-networkd", "");
        chmod(f->root, 0755);

        assert_int_equal(personalize_files(f->root_fd, &c), 0);
        expect_file(f, "/etc/hostname", "web1.example.com\n");
        expect_file(f, "/etc/motd",
                    "Welcome to web1.example.com at 10.0.0.5 (not 10.0.0.12, not goldroot).\n");
        expect_file(f, "/etc/machine-id", MID "\n");
        hosts = get(f, "/etc/hosts");
        assert_non_null(strstr(hosts, "10.0.0.5 web1.example.com\n"));
        assert_non_null(strstr(hosts, "10.0.0.12 other\n"));
        assert_non_null(strstr(hosts, "10.0.0.5\tweb1.example.com web1\t# goldroot\n"));
        assert_null(strstr(hosts, "stale"));
        expect_file(f, "/etc/resolv.conf",
                    "# written by goldroot personalize\nnameserver "
                    "10.0.0.53\n");
        {
                _cleanup_free_ char *ifs = get(f, "/etc/network/interfaces");
                _cleanup_free_ char *nd = get(f, "/etc/systemd/network/80-goldroot-eth0.network");
                assert_non_null(strstr(ifs, "iface eth0 inet static\n\taddress 10.0.0.5/24\n"
                                            "\tgateway 10.0.0.254\n"));
                assert_non_null(nd);
                assert_non_null(strstr(nd, "Address=10.0.0.5/24\nGateway=10.0.0.254\nDNS="
                                           "10.0.0.53\n"));
        }
        identity_free(id);
}

/* An IPv6 address is configured as inet6 for ifupdown. */
static void test_files_ipv6(void **state) {
        Fixture *f = *state;
        Identity *id = identity();
        PersonalizeContext c = {.id = id};

        free(id->ip);
        free(id->gateway);
        id->ip = strdup("fd00::99/64");
        id->gateway = strdup("fd00::1");
        put(f, "/etc/network/interfaces", "iface eth0 inet6 static\n  address fd00::1/64\n");
        put(f, "/usr/lib/systemd/systemd-networkd", "");
        chmod(f->root, 0755);

        assert_int_equal(personalize_files(f->root_fd, &c), 0);
        {
                _cleanup_free_ char *ifs = get(f, "/etc/network/interfaces");
                _cleanup_free_ char *nd = get(f, "/etc/systemd/network/80-goldroot-eth0.network");
                assert_non_null(strstr(ifs, "auto eth0\niface eth0 inet6 static\n"
                                            "\taddress fd00::99/64\n\tgateway fd00::1\n"));
                assert_null(strstr(ifs, "iface eth0 inet static"));
                assert_non_null(strstr(ifs, "iface lo inet loopback\n"));
                assert_non_null(nd);
                assert_non_null(strstr(nd, "[Network]\nAddress=fd00::99/64\nGateway=fd00::1\n"));
        }
        identity_free(id);
}

/* Symlinks the guest planted must neither lead out of the root nor onto
 * another of the guest's files. */
static void test_hostile_symlinks(void **state) {
        Fixture *f = *state;
        Identity *id = identity();
        PersonalizeContext c = {.id = id};
        _cleanup_free_ char *etc = path_join(f->root, "etc"), *link = NULL, *outside = NULL;
        struct stat st;
        FILE *o;

        o = fopen(f->outside, "we");
        assert_non_null(o);
        fputs("host secret\n", o);
        fclose(o);
        put(f, "/etc/shadow", "root:*:1::::::\n");
        assert_int_equal(mkdir_p_in_root(f->root_fd, "/etc", 0755, NULL, NULL), 0);
        link = path_join(etc, "hostname");
        assert_int_equal(symlink(f->outside, link), 0);
        free(link);
        link = path_join(etc, "hosts");
        assert_int_equal(symlink("/etc/shadow", link), 0);
        free(link);
        link = path_join(etc, "machine-id");
        assert_int_equal(symlink("../../../../../../../../outside", link), 0);

        assert_int_equal(personalize_files(f->root_fd, &c), 0);
        assert_int_equal(read_file_at(AT_FDCWD, f->outside, &outside, NULL, 4096), 0);
        assert_string_equal(outside, "host secret\n");
        expect_file(f, "/etc/shadow", "root:*:1::::::\n");
        expect_file(f, "/etc/hostname", "web1.example.com\n");
        assert_int_equal(lstat(link, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        expect_file(f, "/etc/machine-id", MID "\n");
        identity_free(id);
}

static void test_machine_id_rules(void **state) {
        Fixture *f = *state;
        Identity *id = identity();
        PersonalizeContext c = {.id = id};
        char uuid[37];

        /* "uninitialized" without systemd: nothing else would replace it. */
        put(f, "/etc/machine-id", "uninitialized\n");
        assert_int_equal(personalize_files(f->root_fd, &c), 0);
        expect_file(f, "/etc/machine-id", MID "\n");
        put(f, "/etc/machine-id", "uninitialized");
        assert_int_equal(personalize_files(f->root_fd, &c), 0);
        expect_file(f, "/etc/machine-id", MID "\n");

        /* First-boot images keep their marker for systemd. */
        put(f, "/usr/lib/systemd/systemd", "");
        put(f, "/etc/machine-id", "uninitialized\n");
        assert_int_equal(personalize_files(f->root_fd, &c), 0);
        expect_file(f, "/etc/machine-id", "uninitialized\n");
        {
                _cleanup_free_ char *p = path_join(f->root, "usr/lib/systemd/systemd");
                assert_int_equal(unlink(p), 0);
        }

        /* Empty: systemd would make a transient one; the instance's is stable. */
        put(f, "/etc/machine-id", "");
        assert_int_equal(personalize_files(f->root_fd, &c), 0);
        expect_file(f, "/etc/machine-id", MID "\n");

        /* Missing in a systemd image: a first boot, left to systemd. */
        {
                _cleanup_free_ char *p = path_join(f->root, "etc/machine-id");
                assert_int_equal(unlink(p), 0);
        }
        put(f, "/lib/systemd/systemd", "");
        assert_int_equal(personalize_files(f->root_fd, &c), 0);
        assert_null(get(f, "/etc/machine-id"));

        assert_int_equal(machine_id_to_uuid(MID, uuid), 0);
        assert_string_equal(uuid, "01234567-89ab-cdef-0123-456789abcdef");
        identity_free(id);
}

static void test_programs(void **state) {
        Fixture *f = *state;
        char ***l = NULL;
        _cleanup_free_ char *p = NULL;

        assert_int_equal(personalize_programs(f->root_fd, &l), 0);
        assert_null(l[0]);
        personalize_programs_free(l);

        put(f, "/usr/bin/ssh-keygen", "#!/bin/sh\n");
        put(f, "/etc/goldroot/firstboot.d/20-b", "#!/bin/sh\n");
        put(f, "/etc/goldroot/firstboot.d/10-a", "#!/bin/sh\n");
        put(f, "/etc/goldroot/firstboot.d/15-not-executable", "#!/bin/sh\n");
        put(f, "/etc/goldroot/firstboot.d/.hidden", "#!/bin/sh\n");
        for (const char *const *e =
                     (const char *const[]){"usr/bin/ssh-keygen", "etc/goldroot/firstboot.d/20-b",
                                           "etc/goldroot/firstboot.d/10-a",
                                           "etc/goldroot/firstboot.d/.hidden", NULL};
             *e; e++) {
                _cleanup_free_ char *x = path_join(f->root, *e);
                assert_int_equal(chmod(x, 0755), 0);
        }
        assert_int_equal(personalize_programs(f->root_fd, &l), 0);
        assert_non_null(l[0]);
        assert_string_equal(l[0][0], "/usr/bin/ssh-keygen");
        assert_string_equal(l[0][1], "-A");
        assert_string_equal(l[1][0], "/etc/goldroot/firstboot.d/10-a");
        assert_string_equal(l[2][0], "/etc/goldroot/firstboot.d/20-b");
        assert_null(l[3]);
        personalize_programs_free(l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_token_boundaries),
                cmocka_unit_test_setup_teardown(test_files, setup, teardown),
                cmocka_unit_test_setup_teardown(test_files_ipv6, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_symlinks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_machine_id_rules, setup, teardown),
                cmocka_unit_test_setup_teardown(test_programs, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
