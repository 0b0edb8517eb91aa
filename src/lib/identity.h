/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * identity: an instance's identity file (the seeds' PARM file).
 *
 * STORE/instances/NAME/identity holds KEY=VALUE lines: hostname, ip
 * (ADDR/PREFIX), gateway, dns (may repeat), machine_id, mode, profile, net,
 * privileged, and the administrator's extra keys as set.KEY=VALUE. The file
 * is written by goldroot but lives beside a state the guest controls, so it
 * is parsed strictly: a pure function over a buffer (issue 6 fuzzes it) that
 * refuses unknown or repeated keys, bad values, NUL bytes, control characters
 * and a missing final newline, naming FILE:LINE:COL.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define IDENTITY_MAX_SIZE (64u * 1024)
#define MACHINE_ID_LEN 32

typedef struct Identity {
        char *hostname;   /* required */
        char *ip;         /* "ADDR/PREFIX" or NULL */
        char *gateway;    /* an address or NULL */
        char **dns;       /* addresses, NULL-terminated; NULL when none */
        char *machine_id; /* 32 lowercase hex digits, required */
        char *mode;       /* "ro", "rw" or "volatile", required */
        char *profile;    /* absolute path of a --profile file, or NULL: the mode's */
        char *net;        /* "none", "host" or "bridge:BR"; NULL: the profile's */
        bool privileged;
        char **extra; /* "KEY=VALUE" from --set, in file order; NULL when none */
} Identity;

Identity *identity_free(Identity *id);
static inline void identity_freep(Identity **id) {
        identity_free(*id);
}

/* Parses buf (len bytes; need not be NUL-terminated). file names the source
 * in messages. Logs one FILE:LINE:COL line and returns -EBADMSG on any error
 * in the text; -ENOMEM otherwise. */
int identity_parse(const char *buf, size_t len, const char *file, Identity **ret);
/* The file's text; identity_parse() of it gives id back. -EINVAL (logged) if
 * id does not validate. */
int identity_format(const Identity *id, char **ret);
/* Checks every field as the parser would; logs "identity: ..." on failure. */
int identity_validate(const Identity *id);

/* The value checkers the parser and the command line share. */
bool hostname_is_valid(const char *s);       /* RFC 1123: labels of [A-Za-z0-9-], <= 64 */
bool address_is_valid(const char *s);        /* IPv4 or IPv6 */
bool address_prefix_is_valid(const char *s); /* ADDR/PREFIX */
bool machine_id_is_valid(const char *s);     /* 32 lowercase hex digits, not all zero */
bool identity_key_is_valid(const char *s);   /* --set KEY: [A-Za-z_][A-Za-z0-9_]*, <= 64 */
bool net_is_valid(const char *s);            /* none, host, bridge:BR */
bool mode_is_valid(const char *s);           /* ro, rw, volatile */
/* A --set KEY that would shadow a variable goldroot sets itself
 * ($GOLDROOT_NAME, _HOSTNAME, _IP, _GATEWAY, _DNS). */
bool identity_key_is_reserved(const char *s);

/* A fresh random machine id (getrandom). */
int machine_id_generate(char ret[static MACHINE_ID_LEN + 1]);
/* The address part of "ADDR/PREFIX" (or of a bare address), newly allocated. */
char *address_strip_prefix(const char *s);
