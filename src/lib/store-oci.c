/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-oci: `image import` from container images: an OCI image layout
 * directory (oci:DIR[:REF]), a tar of one (oci-archive:FILE[:REF]), or a
 * `docker save` / `podman save` archive (docker-archive:FILE).
 *
 * Everything in them is hostile input. Blob names come from digests that
 * must be sha256:<64 hex>, and each blob's digest is checked before it is
 * parsed; a docker archive's layers are checked against the config's
 * diff_ids and its config against its own name. Members of an archive are
 * copied into the builder's staging directory (so a crash leaves nothing the
 * store's recovery does not remove) and looked up by normalized name; a
 * layout's blobs are opened in-root.
 *
 * Layers are applied in two passes (store-oci-layers.c). The first reads
 * every layer's headers and records, per layer, which paths it adds, which
 * it whites out (.wh.NAME) and which directories it makes opaque
 * (.wh..wh..opq). The second streams each layer through the tar importer,
 * which keeps a member only if no later layer replaces it, whites it or an
 * ancestor out, makes an ancestor opaque, or puts a non-directory at an
 * ancestor: so every file is written once, in its final form, and the image
 * builder never has to delete. The JSON documents are read with json-read.h.
 */
#include "fsutil.h"
#include "store-oci-internal.h"

#include "archive-dl.h"
#include <fcntl.h>

#define OCI_MAX_JSON (4u << 20)
#define OCI_MAX_MEMBERS 100000u
#define OCI_MAX_LAYERS 1000u
#define OCI_SRC_DIR "oci-src"

static void import_done(Import *im) {
        for (size_t k = 0; k < im->n_layers; k++) {
                free(im->layers[k].name);
                safe_close(im->layers[k].fd);
                oci_layer_forget(&im->layers[k]);
        }
        free(im->layers);
        strv_free(im->names);
        for (size_t k = 0; im->links && k < im->n_names; k++)
                free(im->links[k]);
        free(im->links);
        json_reader_free(im->json);
        safe_close(im->dirfd);
}

/* JSON: the reader's errors, logged with the document's name. */

static int json_fail(Import *im, int r, const char *docname, const char *path) {
        if (r == -ENOENT)
                return log_error_errno(EBADMSG, "%s: %s: %s is missing", im->what, docname, path);
        if (r == -EBADMSG)
                return log_error_errno(EBADMSG, "%s: %s: not valid JSON", im->what, docname);
        if (r == -EMEDIUMTYPE)
                return log_error_errno(EBADMSG, "%s: %s: %s is not an array", im->what, docname,
                                       path);
        return log_error_errno(r, "%s: %s: %m", im->what, docname);
}

/* The value at path, or -ENOENT (not logged) when absent or null. */
static int json_get(Import *im, const char *doc, const char *docname, const char *path, char **ret,
                    char **ret_type) {
        int r = json_reader_get(im->json, doc, path, ret, ret_type);
        return r < 0 && r != -ENOENT ? json_fail(im, r, docname, path) : r;
}

/* A string at path; a missing one or another type is bad input. */
static int json_string_at(Import *im, const char *doc, const char *docname, const char *path,
                          char **ret) {
        _cleanup_free_ char *type = NULL, *v = NULL;
        int r;

        r = json_reader_get(im->json, doc, path, &v, &type);
        if (r < 0)
                return json_fail(im, r, docname, path);
        if (!streq(type, "text"))
                return log_error_errno(EBADMSG, "%s: %s: %s is not a string", im->what, docname,
                                       path);
        *ret = TAKE_PTR(v);
        return 0;
}

static int json_array_len(Import *im, const char *doc, const char *docname, const char *path,
                          size_t *ret) {
        int r = json_reader_array_length(im->json, doc, path, ret);
        if (r < 0)
                return json_fail(im, r, docname, path);
        if (*ret > OCI_MAX_MEMBERS)
                return log_error_errno(EBADMSG, "%s: %s: %s is absurdly long", im->what, docname,
                                       path);
        return 0;
}

/* Opening source members. */

static int open_member(Import *im, const char *name, int *ret_fd) {
        _cleanup_free_ char *norm = NULL;
        int fd, r;

        if (!im->archive) {
                /* In-root: a symlink in the layout cannot lead out of it. */
                fd = openat_in_root(im->dirfd, name, O_RDONLY | O_NOCTTY, 0);
                if (fd == -ENOENT)
                        return fd; /* the caller knows what is missing */
                if (fd < 0)
                        return log_error_errno(fd, "%s: %s: %m", im->what, name);
                struct stat st;
                if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                        safe_close(fd);
                        return log_error_errno(EBADMSG, "%s: %s: not a regular file", im->what,
                                               name);
                }
                *ret_fd = fd;
                return 0;
        }
        r = archive_member_path(im->what, name, &norm);
        if (r < 0)
                return r;
        for (unsigned hops = 0; hops < 8; hops++) {
                size_t k;
                for (k = 0; k < im->n_names; k++)
                        if (streq(im->names[k], norm))
                                break;
                if (k == im->n_names)
                        return -ENOENT;
                if (im->links[k]) {
                        char *t = strdup(im->links[k]);
                        if (!t)
                                return log_oom();
                        free(norm);
                        norm = t;
                        continue;
                }
                char file[32];
                snprintf(file, sizeof file, OCI_SRC_DIR "/m%zu", k);
                fd = openat(im->b->staging_fd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return log_error_errno(errno, "%s: %s: %m", im->what, name);
                *ret_fd = fd;
                return 0;
        }
        /* A loop, or a chain no honest archive has: the input is bad. */
        return log_error_errno(EBADMSG,
                               "%s: %s: too many symlinks in the archive (a loop, or more than 8 "
                               "in a row)",
                               im->what, name);
}

/* A JSON document from fd (name is for messages): at most OCI_MAX_JSON
 * bytes, and no NUL. */
static int read_text(Import *im, int fd, const char *name, char **ret) {
        _cleanup_free_ char *buf = malloc(OCI_MAX_JSON + 1);
        size_t len = 0;

        if (!buf)
                return log_oom();
        for (;;) {
                ssize_t n = pread(fd, buf + len, OCI_MAX_JSON + 1 - len, (off_t)len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return log_error_errno(errno, "%s: %s: %m", im->what, name);
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > OCI_MAX_JSON)
                        return log_error_errno(EBADMSG, "%s: %s: too large", im->what, name);
        }
        buf[len] = 0;
        if (strlen(buf) != len)
                return log_error_errno(EBADMSG, "%s: %s: not a JSON document", im->what, name);
        *ret = TAKE_PTR(buf);
        return 0;
}

static int read_member(Import *im, const char *name, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = open_member(im, name, &fd);
        if (r == -ENOENT)
                return log_error_errno(EBADMSG, "%s: %s is missing", im->what, name);
        return r < 0 ? r : read_text(im, fd, name, ret);
}

/* sha256 of everything in fd, as 64 hex digits. */
static int fd_sha256(int fd, char hex[static 65], uint64_t *ret_size) {
        _cleanup_free_ uint8_t *buf = malloc(1u << 16);
        _cleanup_(sha256_freep) Sha256 *md = NULL;
        uint8_t d[SHA256_SIZE];
        uint64_t off = 0;
        int r;

        if (!buf)
                return -ENOMEM;
        r = sha256_new(&md);
        while (r >= 0) {
                ssize_t n = pread(fd, buf, 1u << 16, (off_t)off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                r = sha256_update(md, buf, (size_t)n);
                off += (uint64_t)n;
        }
        if (r >= 0)
                r = sha256_final(md, d);
        if (r < 0)
                return r;
        for (unsigned k = 0; k < SHA256_SIZE; k++)
                sprintf(hex + 2 * k, "%02x", d[k]);
        if (ret_size)
                *ret_size = off;
        return 0;
}

static bool is_hex64(const char *s) {
        if (strlen(s) != 64)
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
                        return false;
        return true;
}

/* "sha256:HEX" to HEX; anything else is refused before it becomes a path. */
static int digest_hex(Import *im, const char *digest, const char **ret) {
        if (!startswith(digest, "sha256:") || !is_hex64(digest + 7))
                return log_error_errno(EBADMSG, "%s: bad or unsupported digest '%s'", im->what,
                                       digest);
        *ret = digest + 7;
        return 0;
}

static int check_digest(Import *im, int fd, const char *name, const char *want,
                        uint64_t *ret_size) {
        char hex[65] = {};
        int r;

        r = fd_sha256(fd, hex, ret_size);
        if (r < 0)
                return log_error_errno(r, "%s: %s: reading: %m", im->what, name);
        if (!streq(hex, want))
                return log_error_errno(EBADMSG,
                                       "%s: %s: digest mismatch: sha256:%s, expected "
                                       "sha256:%s",
                                       im->what, name, hex, want);
        return 0;
}

/* A blob of an OCI layout by digest, checked. */
static int open_blob(Import *im, const char *digest, int *ret_fd, uint64_t *ret_size) {
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *hex;
        int r;

        r = digest_hex(im, digest, &hex);
        if (r < 0)
                return r;
        name = strjoin("blobs/sha256/", hex);
        if (!name)
                return log_oom();
        r = open_member(im, name, &fd);
        if (r < 0)
                return r == -ENOENT
                               ? log_error_errno(EBADMSG, "%s: missing blob %s", im->what, digest)
                               : r;
        r = check_digest(im, fd, name, hex, ret_size);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int read_blob(Import *im, const char *digest, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = open_blob(im, digest, &fd, NULL);
        return r < 0 ? r : read_text(im, fd, digest, ret);
}

static int add_layer(Import *im, const char *name, int fd, uint64_t size) {
        Layer *l;

        if (im->n_layers >= OCI_MAX_LAYERS)
                return log_error_errno(EBADMSG, "%s: more than %u layers", im->what,
                                       OCI_MAX_LAYERS);
        l = reallocarray(im->layers, im->n_layers + 1, sizeof *l);
        if (!l)
                return log_oom();
        im->layers = l;
        l = &im->layers[im->n_layers];
        *l = (Layer){.fd = fd, .size = size, .name = strdup(name)};
        im->n_layers++;
        return l->name ? 0 : log_oom();
}

/* The member that a symlink member at path names by its relative target:
 * "." and ".." resolved, never above the archive's top. */
static int link_target(const char *path, const char *target, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len;

        if (isempty(target) || target[0] == '/')
                return -EBADMSG;
        buf = malloc(strlen(path) + strlen(target) + 2);
        if (!buf)
                return -ENOMEM;
        len = (size_t)(strrchr(path, '/') - path); /* the directory, without its slash */
        memcpy(buf, path, len);
        for (const char *c = target; *c;) {
                const char *e = strchrnul(c, '/');
                size_t n = (size_t)(e - c);

                if (n == 2 && c[0] == '.' && c[1] == '.') {
                        if (len == 0)
                                return -EBADMSG;
                        while (buf[--len] != '/')
                                ;
                } else if (n > 0 && !(n == 1 && c[0] == '.')) {
                        buf[len++] = '/';
                        memcpy(buf + len, c, n);
                        len += n;
                }
                c = *e ? e + 1 : e;
        }
        if (len == 0)
                return -EBADMSG;
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Archives: every regular member staged as OCI_SRC_DIR/m<index>. */

static int stage_archive(Import *im, const char *file, bool docker) {
        _cleanup_close_ int fd = -EBADF, dir = -EBADF;
        struct archive *a = NULL;
        struct archive_entry *ae;
        struct stat st;
        int r = 0;

        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "%s: %m", im->what);
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "%s: %m", im->what);
        if (S_ISDIR(st.st_mode))
                return log_error_errno(EINVAL, "%s: %s is a directory, not an archive%s", im->what,
                                       file,
                                       docker ? "" : " (an OCI image layout directory is oci:DIR)");
        if (mkdirat(im->b->staging_fd, OCI_SRC_DIR, 0700) < 0)
                return log_error_errno(errno, "%s: cannot make a staging directory: %m", im->what);
        dir = openat(im->b->staging_fd, OCI_SRC_DIR,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0)
                return log_error_errno(errno, "%s: cannot open the staging directory: %m",
                                       im->what);
        a = sym_archive_read_new();
        if (!a)
                return log_oom();
        if (sym_archive_read_support_format_tar(a) != ARCHIVE_OK ||
            sym_archive_read_support_format_gnutar(a) != ARCHIVE_OK ||
            sym_archive_read_open_fd(a, fd, 1u << 16) != ARCHIVE_OK) {
                r = log_error_errno(EBADMSG, "%s: %s", im->what,
                                    sym_archive_error_string(a) ?: "not a tar archive");
                goto out;
        }
        for (;;) {
                _cleanup_free_ char *path = NULL, *target = NULL;
                _cleanup_close_ int out = -EBADF;
                mode_t type;
                char name[32];

                r = sym_archive_read_next_header(a, &ae);
                if (r == ARCHIVE_EOF) {
                        r = 0;
                        break;
                }
                if (r != ARCHIVE_OK) {
                        r = log_error_errno(EBADMSG, "%s: %s", im->what,
                                            sym_archive_error_string(a) ?: "damaged archive");
                        break;
                }
                r = archive_member_path(im->what, sym_archive_entry_pathname(ae), &path);
                if (r < 0)
                        break;
                type = sym_archive_entry_filetype(ae);
                if (type == AE_IFDIR)
                        continue;
                if (type != AE_IFREG && type != AE_IFLNK) {
                        r = log_error_errno(EBADMSG, "%s: member '%s': not a file", im->what,
                                            sym_archive_entry_pathname(ae));
                        break;
                }
                if (im->n_names >= OCI_MAX_MEMBERS || strv_contains(im->names, path)) {
                        r = log_error_errno(EBADMSG, "%s: member '%s': %s", im->what,
                                            sym_archive_entry_pathname(ae),
                                            im->n_names >= OCI_MAX_MEMBERS ? "too many members"
                                                                           : "duplicate");
                        break;
                }
                if (type == AE_IFLNK) {
                        /* docker save links layers it holds twice. */
                        r = link_target(path, sym_archive_entry_symlink(ae), &target);
                        if (r < 0) {
                                r = r == -ENOMEM ? log_oom()
                                                 : log_error_errno(EBADMSG,
                                                                   "%s: member '%s': symlink "
                                                                   "leaves the archive",
                                                                   im->what,
                                                                   sym_archive_entry_pathname(ae));
                                break;
                        }
                }
                char **nn = reallocarray(im->names, im->n_names + 2, sizeof(char *));
                if (nn)
                        im->names = nn;
                char **nl = nn ? reallocarray(im->links, im->n_names + 1, sizeof(char *)) : NULL;
                if (!nn || !nl) {
                        r = log_oom();
                        break;
                }
                im->links = nl;
                im->names[im->n_names] = TAKE_PTR(path);
                im->names[im->n_names + 1] = NULL;
                im->links[im->n_names] = TAKE_PTR(target);
                im->n_names++;
                if (type == AE_IFLNK)
                        continue;

                la_int64_t size = sym_archive_entry_size(ae);
                if (size < 0 || (uint64_t)size > image_builder_space_left(im->b)) {
                        r = log_error_errno(EBADMSG, "%s: member '%s': absurd size", im->what,
                                            sym_archive_entry_pathname(ae));
                        break;
                }
                snprintf(name, sizeof name, "m%zu", im->n_names - 1);
                out = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (out < 0) {
                        r = log_error_errno(errno, "%s: staging a member: %m", im->what);
                        break;
                }
                r = sym_archive_read_data_into_fd(a, out);
                if (r != ARCHIVE_OK) {
                        r = log_error_errno(sym_archive_errno(a) == ENOSPC ? ENOSPC : EBADMSG,
                                            "%s: member '%s': %s", im->what,
                                            sym_archive_entry_pathname(ae),
                                            sym_archive_error_string(a) ?: "damaged archive");
                        break;
                }
                r = 0;
        }
out:
        sym_archive_read_free(a);
        return r;
}

/* The manifests. */

static bool layer_media_type_ok(const char *t) {
        return strstr(t, ".tar") || strstr(t, "rootfs.diff");
}

/* An OCI layout: index.json, the manifest that REF names (or the only one),
 * its config and its layers, each by a checked digest. */
static int read_layout(Import *im, const char *ref) {
        _cleanup_free_ char *index = NULL, *manifest = NULL, *mdigest = NULL, *config = NULL,
                            *cdigest = NULL;
        size_t n, pick = SIZE_MAX, n_layers;
        int r;

        r = read_member(im, "index.json", &index);
        if (r < 0)
                return r;
        r = json_array_len(im, index, "index.json", "$.manifests", &n);
        if (r < 0)
                return r;
        for (size_t k = 0; k < n; k++) {
                _cleanup_free_ char *path = NULL, *name = NULL;

                if (asprintf_safe(&path,
                                  "$.manifests[%zu].annotations.\"org.opencontainers.image.ref."
                                  "name\"",
                                  k) < 0)
                        return log_oom();
                r = json_get(im, index, "index.json", path, &name, NULL);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (ref ? (name && streq(name, ref)) : n == 1) {
                        pick = k;
                        break;
                }
        }
        if (pick == SIZE_MAX)
                return ref ? log_error_errno(ENOENT, "%s: no manifest named '%s' in index.json",
                                             im->what, ref)
                           : log_error_errno(EBADMSG,
                                             "%s: index.json holds %zu manifests: name one as "
                                             "oci:DIR:REF",
                                             im->what, n);
        {
                _cleanup_free_ char *path = NULL, *mt = NULL;
                if (asprintf_safe(&path, "$.manifests[%zu].digest", pick) < 0)
                        return log_oom();
                r = json_string_at(im, index, "index.json", path, &mdigest);
                if (r < 0)
                        return r;
                free(path);
                if (asprintf_safe(&path, "$.manifests[%zu].mediaType", pick) < 0)
                        return log_oom();
                if (json_get(im, index, "index.json", path, &mt, NULL) >= 0 && strstr(mt, "index"))
                        return log_error_errno(EOPNOTSUPP,
                                               "%s: %s is an image index (several platforms); "
                                               "import one platform's manifest",
                                               im->what, mdigest);
        }
        r = read_blob(im, mdigest, &manifest);
        if (r < 0)
                return r;
        r = json_string_at(im, manifest, "the manifest", "$.config.digest", &cdigest);
        if (r < 0)
                return r;
        r = read_blob(im, cdigest, &config);
        if (r < 0)
                return r;
        r = json_array_len(im, manifest, "the manifest", "$.layers", &n_layers);
        if (r < 0)
                return r;
        for (size_t k = 0; k < n_layers; k++) {
                _cleanup_free_ char *path = NULL, *digest = NULL, *mt = NULL;
                _cleanup_close_ int fd = -EBADF;
                uint64_t size;

                if (asprintf_safe(&path, "$.layers[%zu].digest", k) < 0)
                        return log_oom();
                r = json_string_at(im, manifest, "the manifest", path, &digest);
                if (r < 0)
                        return r;
                free(path);
                if (asprintf_safe(&path, "$.layers[%zu].mediaType", k) < 0)
                        return log_oom();
                r = json_string_at(im, manifest, "the manifest", path, &mt);
                if (r < 0)
                        return r;
                if (!layer_media_type_ok(mt))
                        return log_error_errno(EBADMSG, "%s: layer %s: unsupported media type %s",
                                               im->what, digest, mt);
                r = open_blob(im, digest, &fd, &size);
                if (r < 0)
                        return r;
                r = add_layer(im, digest, fd, size);
                if (r < 0)
                        return r;
                TAKE_FD(fd);
        }
        return 0;
}

/* The 64 hex digits a member name carries as "HEX.json", "HEX.tar" or
 * "blobs/sha256/HEX", or NULL. */
static const char *name_digest(const char *name, char buf[static 65]) {
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        if (strlen(base) < 64)
                return NULL;
        memcpy(buf, base, 64);
        buf[64] = 0;
        if (!is_hex64(buf))
                return NULL;
        if (base[64] == 0 || streq(base + 64, ".json") || streq(base + 64, ".tar"))
                return buf;
        return NULL;
}

/* A docker archive: manifest.json's one image, its config (checked against
 * its own name) and its layers (checked against the config's diff_ids, or
 * the digest in their name). */
static int read_docker(Import *im) {
        _cleanup_free_ char *manifest = NULL, *config_name = NULL, *config = NULL;
        _cleanup_close_ int cfd = -EBADF;
        size_t n, n_layers, n_diff;
        char hexbuf[65];
        const char *want;
        int r;

        r = read_member(im, "manifest.json", &manifest);
        if (r < 0)
                return r;
        r = json_array_len(im, manifest, "manifest.json", "$", &n);
        if (r < 0)
                return r;
        if (n != 1)
                return log_error_errno(EBADMSG, "%s: manifest.json holds %zu images, not one",
                                       im->what, n);
        r = json_string_at(im, manifest, "manifest.json", "$[0].Config", &config_name);
        if (r < 0)
                return r;
        want = name_digest(config_name, hexbuf);
        if (!want)
                return log_error_errno(EBADMSG, "%s: config %s: its name carries no digest",
                                       im->what, config_name);
        r = open_member(im, config_name, &cfd);
        if (r < 0)
                return r == -ENOENT ? log_error_errno(EBADMSG, "%s: missing config %s", im->what,
                                                      config_name)
                                    : r;
        r = check_digest(im, cfd, config_name, want, NULL);
        if (r < 0)
                return r;
        r = read_member(im, config_name, &config);
        if (r < 0)
                return r;
        r = json_array_len(im, manifest, "manifest.json", "$[0].Layers", &n_layers);
        if (r < 0)
                return r;
        r = json_array_len(im, config, config_name, "$.rootfs.diff_ids", &n_diff);
        if (r < 0)
                return r;
        if (n_diff != n_layers)
                return log_error_errno(EBADMSG, "%s: %zu layers but %zu diff_ids in the config",
                                       im->what, n_layers, n_diff);
        for (size_t k = 0; k < n_layers; k++) {
                _cleanup_free_ char *path = NULL, *name = NULL, *diff = NULL;
                _cleanup_close_ int fd = -EBADF;
                char hex[65] = {};
                const char *d;
                uint64_t size;

                if (asprintf_safe(&path, "$[0].Layers[%zu]", k) < 0)
                        return log_oom();
                r = json_string_at(im, manifest, "manifest.json", path, &name);
                if (r < 0)
                        return r;
                free(path);
                if (asprintf_safe(&path, "$.rootfs.diff_ids[%zu]", k) < 0)
                        return log_oom();
                r = json_string_at(im, config, config_name, path, &diff);
                if (r < 0)
                        return r;
                r = digest_hex(im, diff, &d);
                if (r < 0)
                        return r;
                r = open_member(im, name, &fd);
                if (r < 0)
                        return r == -ENOENT ? log_error_errno(EBADMSG, "%s: missing layer %s",
                                                              im->what, name)
                                            : r;
                r = fd_sha256(fd, hex, &size);
                if (r < 0)
                        return log_error_errno(r, "%s: %s: reading: %m", im->what, name);
                /* An uncompressed layer is its diff_id; a compressed one
                 * (newer docker) is named by its own digest. */
                if (!streq(hex, d) && !streq_ptr(name_digest(name, hexbuf), hex))
                        return log_error_errno(EBADMSG,
                                               "%s: layer %s: digest mismatch: sha256:%s, "
                                               "expected %s",
                                               im->what, name, hex, diff);
                r = add_layer(im, name, fd, size);
                if (r < 0)
                        return r;
                TAKE_FD(fd);
        }
        return 0;
}

bool store_import_is_container(const char *source) {
        return startswith(source, "oci:") || startswith(source, "oci-archive:") ||
               startswith(source, "docker-archive:");
}

int store_import_container(Store *s, const char *source, const ImportOptions *o,
                           char ret_id[static DIGEST_HEX_SIZE]) {
        _cleanup_(image_builder_freep) ImageBuilder *b = NULL;
        _cleanup_free_ char *what = NULL, *path = NULL;
        Import im = {.dirfd = -EBADF};
        const char *rest, *ref = NULL;
        bool docker = false;
        int r;

        assert(s && source && o);
        r = dlopen_libarchive();
        if (r < 0)
                return r;
        if (asprintf_safe(&what, "import %s", source) < 0)
                return log_oom();
        im.what = what;
        if ((rest = startswith(source, "docker-archive:"))) {
                docker = true;
                im.archive = true;
        } else if ((rest = startswith(source, "oci-archive:")))
                im.archive = true;
        else
                rest = startswith(source, "oci:");
        path = strdup(rest);
        if (!path)
                return log_oom();
        /* DIR:REF or FILE:REF: the first split whose left side exists (a
         * path may hold colons, and so may a reference). */
        if (!docker && access(path, F_OK) < 0)
                for (char *colon = strchr(path, ':'); colon; colon = strchr(colon + 1, ':')) {
                        *colon = 0;
                        if (access(path, F_OK) >= 0) {
                                ref = rest + (colon - path) + 1;
                                break;
                        }
                        *colon = ':';
                }
        if (isempty(path))
                return log_error_errno(EINVAL, "%s: no path given", what);

        r = image_builder_new(s, &(ImageBuilderOptions){.implicit_parents = true, .what = what},
                              &b);
        if (r < 0)
                return r;
        im.b = b;
        r = json_reader_new(&im.json);
        if (r < 0) {
                r = log_error_errno(r, "%s: cannot set up the JSON reader: %m", what);
                goto out;
        }
        if (im.archive)
                r = stage_archive(&im, path, docker);
        else {
                im.dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (im.dirfd < 0)
                        r = log_error_errno(errno, "%s: %m", what);
        }
        if (r < 0)
                goto out;
        r = docker ? read_docker(&im) : read_layout(&im, ref);
        if (r < 0)
                goto out;
        for (size_t k = 0; k < im.n_layers && r >= 0; k++)
                r = oci_layer_scan(&im, &im.layers[k]);
        for (size_t k = 0; k < im.n_layers && r >= 0; k++) {
                _cleanup_free_ char *lwhat = NULL;
                im.cur = k;
                if (asprintf_safe(&lwhat, "%s: layer %s", what, im.layers[k].name) < 0) {
                        r = log_oom();
                        break;
                }
                r = archive_import_filtered(b, im.layers[k].fd, lwhat, o->progress,
                                            im.layers[k].size, oci_layer_keep_member, &im);
        }
        if (r < 0)
                goto out;
        if (im.n_layers == 0) {
                r = log_error_errno(EBADMSG, "%s: the image has no layers", what);
                goto out;
        }
        /* Nothing of the source may end up in the published image. */
        if (im.archive) {
                r = rm_rf_at(b->staging_fd, OCI_SRC_DIR);
                if (r < 0) {
                        r = log_error_errno(r, "%s: removing the staged archive: %m", what);
                        goto out;
                }
        }
        import_done(&im);
        im = (Import){.dirfd = -EBADF};
        return image_builder_publish(b,
                                     &(ImagePublish){
                                             .name = o->name,
                                             .tag = o->tag,
                                             .parent = o->parent,
                                     },
                                     ret_id);
out:
        import_done(&im);
        return r;
}
