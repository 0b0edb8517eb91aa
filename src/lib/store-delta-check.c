/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-delta-check: a delta image's files read through its view, against
 * the manifest. The manifests alone cannot show a redirect that resolves to
 * the wrong object; reading the files does. fsck --full runs it on every
 * delta image, and publishing a delta on the new delta before it is renamed
 * into images/.
 */
#include "fsutil.h"
#include "sha256.h"
#include "store-internal.h"

static int hash_file(int rootfd, const char *path, uint8_t ret[static DIGEST_SIZE],
                     uint64_t *ret_size) {
        _cleanup_(sha256_freep) Sha256 *ctx = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint8_t buf[65536];
        uint64_t size = 0;
        ssize_t n;
        int r;

        fd = openat_in_root_nofollow(rootfd, rel(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
        if (fd < 0)
                return fd;
        r = sha256_new(&ctx);
        if (r < 0)
                return r;
        while ((n = read(fd, buf, sizeof buf)) > 0) {
                r = sha256_update(ctx, buf, (size_t)n);
                if (r < 0)
                        return r;
                size += (uint64_t)n;
        }
        if (n < 0)
                return -errno;
        *ret_size = size;
        return sha256_final(ctx, ret);
}

/* The regular files of changed that are still m's (a later delta did not
 * replace them). */
static int check_list(const ManifestEntry *const *changed, size_t n, const Manifest *m, int rootfd,
                      DeltaBadFile bad, void *userdata, uint64_t *bytes) {
        for (size_t i = 0; i < n; i++) {
                const ManifestEntry *e = changed[i], *now;
                uint8_t got[DIGEST_SIZE];
                uint64_t size = 0;
                int r;

                if (!S_ISREG(e->mode) || e->size == 0)
                        continue;
                now = manifest_find(m, e->path);
                if (!now || !S_ISREG(now->mode) || memcmp(now->digest, e->digest, DIGEST_SIZE) != 0)
                        continue;
                r = hash_file(rootfd, e->path, got, &size);
                if (r == -ENOMEM)
                        return r;
                *bytes += size;
                if (r < 0) {
                        char why[128];
                        snprintf(why, sizeof why, "cannot read it through the delta: %s",
                                 strerror(-r));
                        r = bad(e->path, why, userdata);
                } else if (memcmp(got, e->digest, DIGEST_SIZE) != 0)
                        r = bad(e->path, "its content through the delta is not the manifest's",
                                userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

int delta_check_content(Store *s, char **chain, const ManifestEntry *const *top, size_t n_top,
                        const Manifest *m, int rootfd, DeltaBadFile bad, void *userdata) {
        uint64_t bytes = 0;
        int r;

        assert(s && chain && m && bad);
        r = check_list(top, n_top, m, rootfd, bad, userdata, &bytes);
        for (size_t k = 0; r >= 0 && chain[k] && chain[k + 1]; k++) {
                _cleanup_(manifest_freep) Manifest *changed = NULL;
                _cleanup_free_ const ManifestEntry **list = NULL;
                _cleanup_close_ int fd = -EBADF;

                r = store_open_image(s, chain[k], &fd);
                if (r >= 0)
                        r = manifest_read_at(fd, "manifest", &changed);
                if (r < 0)
                        return log_error_errno(r, "image %.12s: reading its manifest: %m",
                                               chain[k]);
                list = calloc(changed->n ?: 1, sizeof *list);
                if (!list)
                        return log_oom();
                for (size_t i = 0; i < changed->n; i++)
                        list[i] = &changed->entries[i];
                r = check_list(list, changed->n, m, rootfd, bad, userdata, &bytes);
        }
        log_debug("image %.12s and its deltas: %llu bytes read back", chain[0],
                  (unsigned long long)bytes);
        return r == -ENOMEM ? log_oom() : r;
}

/* The number delta_ref() gave e's object: objects are numbered in the order
 * of the changed entries, each at its first regular file. */
static int link_number(const Manifest *changed, const ManifestEntry *e, unsigned *ret) {
        _cleanup_free_ uint8_t(*seen)[DIGEST_SIZE] = NULL;
        uint8_t want[DIGEST_SIZE];
        unsigned n = 0;
        int r;

        r = object_digest(e, want);
        if (r < 0)
                return r;
        seen = calloc(changed->n ?: 1, sizeof *seen);
        if (!seen)
                return -ENOMEM;
        for (size_t i = 0; i < changed->n; i++) {
                const ManifestEntry *c = &changed->entries[i];
                uint8_t od[DIGEST_SIZE];
                bool known = false;

                if (!S_ISREG(c->mode) || c->size == 0)
                        continue;
                r = object_digest(c, od);
                if (r < 0)
                        return r;
                for (unsigned k = 0; k < n && !known; k++)
                        known = memcmp(seen[k], od, DIGEST_SIZE) == 0;
                if (known)
                        continue;
                if (memcmp(od, want, DIGEST_SIZE) == 0) {
                        *ret = n;
                        return 0;
                }
                memcpy(seen[n++], od, DIGEST_SIZE);
        }
        return -ENOENT;
}

int delta_open_file_source(Store *s, char **chain, const ManifestEntry *e, int *ret_fd) {
        _cleanup_close_ int tree = -EBADF;
        size_t k;
        int fd, r;

        assert(s && chain && e && S_ISREG(e->mode) && ret_fd);
        for (k = 0; chain[k] && chain[k + 1]; k++) {
                _cleanup_(manifest_freep) Manifest *changed = NULL;
                _cleanup_close_ int dir = -EBADF;
                char name[DELTA_TOKEN_LEN + 1 + 12];
                unsigned n = 0;

                r = store_open_image(s, chain[k], &dir);
                if (r >= 0)
                        r = manifest_read_at(dir, "manifest", &changed);
                if (r < 0)
                        return r;
                if (!manifest_find(changed, e->path))
                        continue; /* not changed here: from further down */
                r = link_number(changed, e, &n);
                if (r < 0)
                        return r;
                r = delta_is_legacy(s, chain[k]);
                if (r < 0)
                        return r;
                if (r > 0)
                        snprintf(name, sizeof name, "r.%u", n);
                else
                        snprintf(name, sizeof name, "%.*s.%u", DELTA_TOKEN_LEN, chain[k], n);
                fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                *ret_fd = fd;
                return 0;
        }
        r = store_open_tree_dir(s, chain[k], &tree);
        if (r < 0)
                return r;
        fd = openat_in_root_nofollow(tree, rel(e->path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}
