/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-tar: libFuzzer harness for the tar importer (archive_import, then
 * image_builder_publish). Tarballs come from anywhere, so every header field,
 * path and link is hostile. One store in a private temporary directory serves
 * every run: an image that imports is published, checked and removed again,
 * and unreferenced objects are collected now and then, so the store stays
 * small and a later run sees the leftovers of earlier ones, as a real store
 * would.
 */
#include "fsutil.h"
#include "manifest.h"
#include "store.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static Store *fuzz_store(void) {
        static Store *s;
        /* On tmpfs: every publish syncs, which would be the whole cost on a disk. */
        static char dir[] = "/dev/shm/fuzz-tar.XXXXXX";
        FILE *devnull;

        if (s)
                return s;
        devnull = fopen("/dev/null", "we");
        if (!devnull || !mkdtemp(dir))
                abort();
        log_set_stream(devnull);
        if (store_open(dir, STORE_EXCLUSIVE, &s) < 0)
                abort();
        return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static unsigned runs;
        Store *s = fuzz_store();
        _cleanup_(image_builder_freep) ImageBuilder *b = NULL;
        _cleanup_close_ int fd = -EBADF;
        char id[DIGEST_HEX_SIZE];

        fd = memfd_create("fuzz-tar", MFD_CLOEXEC);
        if (fd < 0 || write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                abort();
        if (image_builder_new(
                    s, &(ImageBuilderOptions){.implicit_parents = true, .what = "import fuzz"},
                    &b) < 0)
                abort();
        if (archive_import(b, fd, "import fuzz", NULL, size) >= 0 &&
            image_builder_publish(b, &(ImagePublish){.name = "fuzz", .tag = "t"}, id) >= 0) {
                _cleanup_(manifest_freep) Manifest *m = NULL;

                /* What was published must read back. */
                if (store_read_manifest(s, id, &m) < 0)
                        abort();
                if (store_remove_image(s, id) < 0)
                        abort();
        }
        if (++runs % 256 == 0 && store_gc(s, NULL, NULL) < 0)
                abort();
        return 0;
}
