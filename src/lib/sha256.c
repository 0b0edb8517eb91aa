/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sha256: libcrypto's EVP digest behind dlopen() (see sha256.h).
 */
#include "sha256.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define LIBCRYPTO_SONAME "libcrypto.so.3"

#define CRYPTO_SYMBOLS(X)                                                                          \
        X(OPENSSL_init_crypto)                                                                     \
        X(EVP_sha256)                                                                              \
        X(EVP_MD_CTX_new)                                                                          \
        X(EVP_MD_CTX_free)                                                                         \
        X(EVP_DigestInit_ex)                                                                       \
        X(EVP_DigestUpdate)                                                                        \
        X(EVP_DigestFinal_ex)

/* Set once by dlopen_libcrypto() before the first use, never written again. */
CRYPTO_SYMBOLS(DLSYM_DEFINE)

static int dlopen_libcrypto(void) {
        static void *dl = NULL;
        static const DlSym syms[] = {CRYPTO_SYMBOLS(DLSYM_ENTRY)};
        int r;

        if (dl)
                return 0;
        r = dlopen_symbols(LIBCRYPTO_SONAME, &dl, syms, ELEMENTSOF(syms));
        if (r < 0)
                return r;
        /* A digest needs no openssl.cnf, and reading it would cost more than
         * the digests of most commands. */
        (void)sym_OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
        return 0;
}

/* Sha256 is libcrypto's context under another name. */
static EVP_MD_CTX *ctx(Sha256 *h) {
        return (EVP_MD_CTX *)h;
}

int sha256_new(Sha256 **ret) {
        EVP_MD_CTX *c;
        int r;

        assert(ret);
        r = dlopen_libcrypto();
        if (r < 0)
                return r;
        c = sym_EVP_MD_CTX_new();
        if (!c)
                return -ENOMEM;
        if (sym_EVP_DigestInit_ex(c, sym_EVP_sha256(), NULL) != 1) {
                sym_EVP_MD_CTX_free(c);
                return -ENOMEM;
        }
        *ret = (Sha256 *)c;
        return 0;
}

int sha256_update(Sha256 *h, const void *data, size_t n) {
        assert(h);
        return sym_EVP_DigestUpdate(ctx(h), data, n) == 1 ? 0 : -EIO;
}

int sha256_final(Sha256 *h, uint8_t ret[static SHA256_SIZE]) {
        unsigned n = 0;

        assert(h);
        if (sym_EVP_DigestFinal_ex(ctx(h), ret, &n) != 1 || n != SHA256_SIZE)
                return -EIO;
        return 0;
}

int sha256_reset(Sha256 *h) {
        assert(h);
        return sym_EVP_DigestInit_ex(ctx(h), sym_EVP_sha256(), NULL) == 1 ? 0 : -EIO;
}

Sha256 *sha256_free(Sha256 *h) {
        if (h)
                sym_EVP_MD_CTX_free(ctx(h));
        return NULL;
}

int sha256_buffer(const void *data, size_t n, uint8_t ret[static SHA256_SIZE]) {
        _cleanup_(sha256_freep) Sha256 *h = NULL;
        int r;

        r = sha256_new(&h);
        if (r < 0)
                return r;
        r = sha256_update(h, data, n);
        if (r < 0)
                return r;
        return sha256_final(h, ret);
}
