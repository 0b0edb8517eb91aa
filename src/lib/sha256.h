/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sha256: SHA-256 from libcrypto, which is loaded with dlopen() by the first
 * digest a command takes. Linked statically, libcrypto's tables cost every
 * command (create, start, exec, ls...) about 0.4 ms of relocations at start;
 * only the commands that build, check or merge trees hash anything.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_SIZE 32

typedef struct Sha256 Sha256;

/* A fresh digest. -EOPNOTSUPP (logged) if libcrypto cannot be loaded,
 * -ENOMEM otherwise. */
int sha256_new(Sha256 **ret);
int sha256_update(Sha256 *h, const void *data, size_t n);
/* Finishes the digest into ret; h can then start again with sha256_reset(). */
int sha256_final(Sha256 *h, uint8_t ret[static SHA256_SIZE]);
int sha256_reset(Sha256 *h);
Sha256 *sha256_free(Sha256 *h);
static inline void sha256_freep(Sha256 **h) {
        sha256_free(*h);
}

/* The digest of one buffer. */
int sha256_buffer(const void *data, size_t n, uint8_t ret[static SHA256_SIZE]);
