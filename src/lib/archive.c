/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * archive: tar import and export through libarchive.
 *
 * Import reads every tar dialect libarchive knows (ustar, pax, GNU) under any
 * compression it knows, and treats the archive as hostile: names that are
 * absolute or climb out with "..", writes through a symlink, hardlinks to
 * anything not earlier in the archive, duplicates, absurd sizes and damaged
 * data are all refused with one line, and the builder then removes what was
 * staged. gzip is decompressed here with zlib rather than by libarchive,
 * whose gzip reader does not check the CRC-32 and so accepts corrupt data.
 * Export writes pax (which carries xattrs) from a manifest, so
 * hardlink groups and mtimes come out as they went in.
 */
#include "archive-dl.h"
#include "fsutil.h"
#include "store-internal.h"

#include <limits.h>
#include <sys/sysmacros.h>
#include <zlib.h>

#define LIBARCHIVE_SONAME "libarchive.so.13" /* libarchive 3, since 2011 */

/* libarchive is opened with dlopen() by the two commands that need it
 * (import and export of tarballs): linked, it and what it links (libxml2,
 * ICU, libstdc++) cost every goldroot command 2-3 ms of relocations at start.
 * As in systemd's dlopen helpers, the pointers are set once, by
 * dlopen_libarchive(), before the first use; nothing else writes them. */
#define ARCHIVE_SYMBOLS(X)                                                                         \
        X(archive_entry_clear)                                                                     \
        X(archive_entry_copy_hardlink)                                                             \
        X(archive_entry_copy_pathname)                                                             \
        X(archive_entry_copy_symlink)                                                              \
        X(archive_entry_filetype)                                                                  \
        X(archive_entry_free)                                                                      \
        X(archive_entry_gid)                                                                       \
        X(archive_entry_hardlink)                                                                  \
        X(archive_entry_mtime)                                                                     \
        X(archive_entry_mtime_is_set)                                                              \
        X(archive_entry_mtime_nsec)                                                                \
        X(archive_entry_new)                                                                       \
        X(archive_entry_pathname)                                                                  \
        X(archive_entry_perm)                                                                      \
        X(archive_entry_rdevmajor)                                                                 \
        X(archive_entry_rdevminor)                                                                 \
        X(archive_entry_set_filetype)                                                              \
        X(archive_entry_set_gid)                                                                   \
        X(archive_entry_set_mtime)                                                                 \
        X(archive_entry_set_perm)                                                                  \
        X(archive_entry_set_rdevmajor)                                                             \
        X(archive_entry_set_rdevminor)                                                             \
        X(archive_entry_set_size)                                                                  \
        X(archive_entry_set_uid)                                                                   \
        X(archive_entry_size)                                                                      \
        X(archive_entry_symlink)                                                                   \
        X(archive_entry_uid)                                                                       \
        X(archive_entry_xattr_add_entry)                                                           \
        X(archive_entry_xattr_next)                                                                \
        X(archive_entry_xattr_reset)                                                               \
        X(archive_errno)                                                                           \
        X(archive_error_string)                                                                    \
        X(archive_free)                                                                            \
        X(archive_read_close)                                                                      \
        X(archive_read_data)                                                                       \
        X(archive_read_data_block)                                                                 \
        X(archive_read_data_into_fd)                                                               \
        X(archive_read_free)                                                                       \
        X(archive_read_open_fd)                                                                    \
        X(archive_read_new)                                                                        \
        X(archive_read_next_header)                                                                \
        X(archive_read_open)                                                                       \
        X(archive_read_support_filter_all)                                                         \
        X(archive_read_support_format_gnutar)                                                      \
        X(archive_read_support_format_raw)                                                         \
        X(archive_read_support_format_tar)                                                         \
        X(archive_set_error)                                                                       \
        X(archive_write_add_filter_bzip2)                                                          \
        X(archive_write_add_filter_gzip)                                                           \
        X(archive_write_add_filter_none)                                                           \
        X(archive_write_add_filter_xz)                                                             \
        X(archive_write_add_filter_zstd)                                                           \
        X(archive_write_close)                                                                     \
        X(archive_write_data)                                                                      \
        X(archive_write_header)                                                                    \
        X(archive_write_new)                                                                       \
        X(archive_write_open_fd)                                                                   \
        X(archive_write_set_format_pax)

#define ARCHIVE_SYM_DEFINE(f) typeof(f) *sym_##f;
ARCHIVE_SYMBOLS(ARCHIVE_SYM_DEFINE)

int dlopen_libarchive(void) {
        static void *dl = NULL; /* kept open for the life of the process */
        static const DlSym syms[] = {ARCHIVE_SYMBOLS(DLSYM_ENTRY)};

        return dlopen_symbols(LIBARCHIVE_SONAME, &dl, syms, ELEMENTSOF(syms));
}

#define ARCHIVE_BLOCK (1u << 16)
/* No single file in a root file system image comes near this. */
#define ARCHIVE_MAX_FILE_SIZE (1ull << 40)
#define ARCHIVE_MAX_XATTR_SIZE (1u << 16)

static void archive_freep(struct archive **a) {
        if (*a)
                sym_archive_free(*a);
}
#define _cleanup_archive_ _cleanup_(archive_freep)

/* Turns an archive member name into an absolute in-image path, or refuses it. */
int archive_member_path(const char *what, const char *name, char **ret) {
        _cleanup_free_ char *abs = NULL, *norm = NULL;
        const char *p = name;

        if (isempty(name))
                return log_error_errno(EBADMSG, "%s: archive entry with an empty name", what);
        if (name[0] == '/')
                return log_error_errno(EBADMSG, "%s: archive entry '%s': absolute path", what,
                                       name);
        /* Refuse ".." outright rather than resolve it: no honest image needs it. */
        for (const char *c = p; *c;) {
                const char *e = strchrnul(c, '/');
                if (e - c == 2 && c[0] == '.' && c[1] == '.')
                        return log_error_errno(EBADMSG,
                                               "%s: archive entry '%s': path leaves the archive "
                                               "('..')",
                                               what, name);
                c = *e ? e + 1 : e;
        }
        abs = strjoin("/", name);
        if (!abs)
                return log_oom();
        if (path_normalize(abs, &norm) < 0)
                return log_error_errno(EBADMSG, "%s: archive entry '%s': bad path", what, name);
        if (strlen(norm) >= PATH_MAX)
                return log_error_errno(EBADMSG,
                                       "%s: archive entry '%.64s\u2026': path too long (%zu bytes, "
                                       "at most %d)",
                                       what, name, strlen(norm), PATH_MAX - 1);
        *ret = TAKE_PTR(norm);
        return 0;
}

static int archive_fail(struct archive *a, const char *what, const char *entry) {
        const char *msg = sym_archive_error_string(a);
        int e = sym_archive_errno(a);

        /* Damaged input (libarchive's ARCHIVE_ERRNO_MISC, a file format or
         * decompression error) is bad input; a failing read of the file is not. */
        if (e == ENOMEM || e == EIO || e == ENOSPC)
                return log_error_errno(e, "%s: %s%s%s: %m", what, entry ? "'" : "", entry ?: "",
                                       entry ? "'" : "");
        if (entry)
                return log_error_errno(EBADMSG, "%s: archive entry '%s': %s", what, entry,
                                       msg ?: "damaged archive");
        return log_error_errno(EBADMSG, "%s: %s", what, msg ?: "damaged archive");
}

/* The input side of an import: raw bytes from the source, inflated here if
 * they are gzip, handed to libarchive through read callbacks. */
typedef struct Reader {
        int fd;
        uint8_t *in;   /* raw input buffer */
        size_t in_len; /* bytes of raw input buffered */
        size_t in_pos;
        uint8_t *out; /* inflated output, for gzip */
        bool gzip, gzip_done, eof;
        z_stream z;
        uint64_t raw_bytes; /* consumed from the source, for progress */
        const char *what;
} Reader;

static int reader_fill(Reader *r) {
        ssize_t n;

        if (r->in_pos < r->in_len || r->eof)
                return 0;
        do
                n = read(r->fd, r->in, ARCHIVE_BLOCK);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        r->in_pos = 0;
        r->in_len = (size_t)n;
        r->raw_bytes += (uint64_t)n;
        if (n == 0)
                r->eof = true;
        return 0;
}

static la_ssize_t reader_read(struct archive *a, void *userdata, const void **ret) {
        Reader *r = userdata;
        int k;

        k = reader_fill(r);
        if (k < 0) {
                sym_archive_set_error(a, -k, "reading: %s", strerror(-k));
                return -1;
        }
        if (!r->gzip) {
                *ret = r->in + r->in_pos;
                k = (int)(r->in_len - r->in_pos);
                r->in_pos = r->in_len;
                return k;
        }
        for (;;) {
                int zr;

                if (r->gzip_done) {
                        /* Another gzip member may follow (as `cat a.gz b.gz`); zeros
                         * padding the file to a block are ignored, as gzip does. */
                        for (;;) {
                                if (reader_fill(r) < 0 || r->in_pos == r->in_len)
                                        return 0;
                                while (r->in_pos < r->in_len && r->in[r->in_pos] == 0)
                                        r->in_pos++;
                                if (r->in_pos < r->in_len)
                                        break;
                        }
                        if (inflateReset(&r->z) != Z_OK)
                                goto corrupt;
                        r->gzip_done = false;
                }
                r->z.next_in = r->in + r->in_pos;
                r->z.avail_in = (uInt)(r->in_len - r->in_pos);
                r->z.next_out = r->out;
                r->z.avail_out = ARCHIVE_BLOCK;
                zr = inflate(&r->z, Z_NO_FLUSH);
                r->in_pos = r->in_len - r->z.avail_in;
                if (zr == Z_STREAM_END)
                        r->gzip_done = true; /* CRC-32 and length checked by zlib */
                else if (zr == Z_BUF_ERROR && r->eof) {
                        sym_archive_set_error(a, EILSEQ, "truncated gzip input");
                        return -1;
                } else if (zr != Z_OK && zr != Z_BUF_ERROR)
                        goto corrupt;
                if (r->z.avail_out < ARCHIVE_BLOCK) {
                        *ret = r->out;
                        return (la_ssize_t)(ARCHIVE_BLOCK - r->z.avail_out);
                }
                k = reader_fill(r);
                if (k < 0) {
                        sym_archive_set_error(a, -k, "reading: %s", strerror(-k));
                        return -1;
                }
                if (r->eof && r->in_pos == r->in_len && !r->gzip_done) {
                        sym_archive_set_error(a, EILSEQ, "truncated gzip input");
                        return -1;
                }
        }
corrupt:
        sym_archive_set_error(a, EILSEQ, "corrupt gzip input: %s", r->z.msg ?: "bad data");
        return -1;
}

static void reader_done(Reader *r) {
        if (r->gzip)
                inflateEnd(&r->z);
        free(r->in);
        free(r->out);
}

/* Reads the first block and looks for the gzip magic. */
static int reader_init(Reader *r, int fd, const char *what) {
        int k;

        *r = (Reader){.fd = fd, .what = what};
        r->in = malloc(ARCHIVE_BLOCK);
        if (!r->in)
                return log_oom();
        k = reader_fill(r);
        if (k < 0)
                return log_error_errno(k, "%s: %m", what);
        if (r->in_len >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
                r->gzip = true;
                r->out = malloc(ARCHIVE_BLOCK);
                if (!r->out)
                        return log_oom();
                if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK) {
                        r->gzip = false;
                        return log_error_errno(ENOMEM, "%s: zlib: %m", what);
                }
        }
        return 0;
}

static int entry_xattrs(struct archive_entry *ae, const char *what, const char *path,
                        ManifestEntry *e) {
        const char *name;
        const void *value;
        size_t size;
        int n = sym_archive_entry_xattr_reset(ae);

        if (n <= 0)
                return 0;
        e->xattrs = calloc((size_t)n, sizeof(Xattr));
        if (!e->xattrs)
                return log_oom();
        while (sym_archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK) {
                Xattr *x;
                bool dup = false;

                if (e->n_xattrs >= (size_t)n)
                        break;
                if (isempty(name) || strlen(name) > 255)
                        return log_error_errno(EBADMSG,
                                               "%s: archive entry '%s': xattr with an empty name "
                                               "or one over 255 bytes",
                                               what, path);
                if (size > ARCHIVE_MAX_XATTR_SIZE)
                        return log_error_errno(EBADMSG,
                                               "%s: archive entry '%s': xattr '%s' of %zu bytes "
                                               "(Linux allows at most %u)",
                                               what, path, name, size, ARCHIVE_MAX_XATTR_SIZE);
                /* libarchive's pax writer stores each xattr twice (LIBARCHIVE.xattr
                 * and SCHILY.xattr); the same value twice is one xattr. */
                for (size_t i = 0; i < e->n_xattrs && !dup; i++)
                        if (streq(e->xattrs[i].name, name)) {
                                if (e->xattrs[i].size != size ||
                                    memcmp(e->xattrs[i].value, value, size) != 0)
                                        return log_error_errno(
                                                EBADMSG,
                                                "%s: archive entry '%s': conflicting values "
                                                "for xattr %s",
                                                what, path, name);
                                dup = true;
                        }
                if (dup)
                        continue;
                x = &e->xattrs[e->n_xattrs++];
                x->name = strdup(name);
                x->value = malloc(size + 1);
                if (!x->name || !x->value)
                        return log_oom();
                memcpy(x->value, value, size);
                x->size = size;
        }
        if (xattrs_sort(e->xattrs, e->n_xattrs) < 0)
                return log_error_errno(EBADMSG, "%s: archive entry '%s': duplicate xattr", what,
                                       path);
        return 0;
}

static int id_from_archive(la_int64_t v, uint32_t *ret) {
        if (v < 0 || v >= (la_int64_t)UINT32_MAX)
                return -EBADMSG;
        *ret = (uint32_t)v;
        return 0;
}

static int import_file_data(ImageBuilder *b, struct archive *a, const char *what, const char *name,
                            uint8_t *buf) {
        for (;;) {
                la_ssize_t n = sym_archive_read_data(a, buf, ARCHIVE_BLOCK);
                int r;
                if (n < 0)
                        return archive_fail(a, what, name);
                if (n == 0)
                        return 0;
                r = image_builder_write(b, buf, (size_t)n);
                if (r < 0)
                        return r;
        }
}

static int import_entry(ImageBuilder *b, struct archive *a, struct archive_entry *ae,
                        const char *what, uint8_t *buf) {
        _cleanup_free_ char *path = NULL;
        const char *name = sym_archive_entry_pathname(ae), *hardlink;
        ManifestEntry e = {};
        uint32_t uid, gid;
        mode_t type;
        int r;

        r = archive_member_path(what, name, &path);
        if (r < 0)
                return r;
        hardlink = sym_archive_entry_hardlink(ae);
        if (hardlink) {
                _cleanup_free_ char *target = NULL;
                r = archive_member_path(what, hardlink, &target);
                if (r < 0)
                        return r;
                return image_builder_add_hardlink(b, path, target);
        }

        type = sym_archive_entry_filetype(ae);
        if (id_from_archive(sym_archive_entry_uid(ae), &uid) < 0 ||
            id_from_archive(sym_archive_entry_gid(ae), &gid) < 0)
                return log_error_errno(EBADMSG, "%s: archive entry '%s': bad owner", what, name);
        e.mode = type | (sym_archive_entry_perm(ae) & 07777);
        e.uid = uid;
        e.gid = gid;
        e.mtime_sec = sym_archive_entry_mtime(ae);
        e.mtime_nsec =
                sym_archive_entry_mtime_is_set(ae) ? (uint32_t)sym_archive_entry_mtime_nsec(ae) : 0;
        if (e.mtime_nsec >= 1000000000u)
                e.mtime_nsec = 0;

        switch (type) {
        case AE_IFREG: {
                la_int64_t size = sym_archive_entry_size(ae);
                if (size < 0 || (uint64_t)size > ARCHIVE_MAX_FILE_SIZE ||
                    (uint64_t)size > image_builder_space_left(b)) {
                        char s[16];
                        format_size(size < 0 ? 0 : (uint64_t)size, s, sizeof s);
                        return log_error_errno(EBADMSG,
                                               "%s: archive entry '%s': absurd size %s (more "
                                               "than the store can hold)",
                                               what, name, size < 0 ? "(negative)" : s);
                }
                break;
        }
        case AE_IFDIR:
        case AE_IFIFO:
                break;
        case AE_IFCHR:
        case AE_IFBLK:
                e.rdev = makedev(sym_archive_entry_rdevmajor(ae), sym_archive_entry_rdevminor(ae));
                break;
        case AE_IFLNK: {
                const char *t = sym_archive_entry_symlink(ae);
                if (isempty(t) || strlen(t) >= PATH_MAX)
                        return log_error_errno(EBADMSG, "%s: archive entry '%s': bad symlink", what,
                                               name);
                e.target = strdup(t);
                if (!e.target)
                        return log_oom();
                break;
        }
        default:
                return log_error_errno(EBADMSG, "%s: archive entry '%s': unsupported file type",
                                       what, name);
        }
        r = entry_xattrs(ae, what, name, &e);
        if (r < 0) {
                manifest_entry_done(&e);
                return r;
        }
        e.path = TAKE_PTR(path);
        if (type != AE_IFREG) {
                r = image_builder_add(b, &e);
                manifest_entry_done(&e);
                return r;
        }
        r = image_builder_begin_file(b, &e);
        manifest_entry_done(&e);
        if (r < 0)
                return r;
        r = import_file_data(b, a, what, name, buf);
        if (r < 0)
                return r;
        return image_builder_end_file(b);
}

/* The decompression stage: libarchive's "raw" format over the Reader, so
 * that xz, zstd and bzip2 are undone by libarchive's filters and the tar
 * reader sees plain tar. Keeping it a separate stage lets us read it to its
 * very end after the tar reader stops at the end-of-archive marker, which is
 * when the decompressors check their trailers. */
static la_ssize_t stage_read(struct archive *a, void *userdata, const void **ret) {
        struct archive *raw = userdata;
        const void *block;
        size_t size;
        la_int64_t offset;
        int r;

        r = sym_archive_read_data_block(raw, &block, &size, &offset);
        if (r == ARCHIVE_EOF)
                return 0;
        if (r != ARCHIVE_OK) {
                sym_archive_set_error(a, sym_archive_errno(raw), "%s",
                                      sym_archive_error_string(raw) ?: "damaged compressed data");
                return -1;
        }
        *ret = block;
        return (la_ssize_t)size;
}

static int archive_import_from(ImageBuilder *b, Reader *rd, const char *what, Progress *p,
                               uint64_t total_bytes, ArchiveKeep keep, void *userdata) {
        _cleanup_archive_ struct archive *raw = NULL, *a = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        struct archive_entry *ae;
        const void *block;
        uint64_t items = 0;
        size_t index = 0;
        int r;

        raw = sym_archive_read_new();
        a = sym_archive_read_new();
        buf = malloc(ARCHIVE_BLOCK);
        if (!raw || !a || !buf)
                return log_oom();
        if (p)
                p->total_bytes = total_bytes;
        if (sym_archive_read_support_filter_all(raw) != ARCHIVE_OK ||
            sym_archive_read_support_format_raw(raw) != ARCHIVE_OK ||
            sym_archive_read_open(raw, rd, NULL, reader_read, NULL) != ARCHIVE_OK)
                return archive_fail(raw, what, NULL);
        r = sym_archive_read_next_header(raw, &ae);
        if (r == ARCHIVE_EOF)
                return log_error_errno(EBADMSG, "%s: empty input", what);
        if (r != ARCHIVE_OK)
                return archive_fail(raw, what, NULL);

        /* Tar only: an image is a tree, not whatever archive format turns up. */
        if (sym_archive_read_support_format_tar(a) != ARCHIVE_OK ||
            sym_archive_read_support_format_gnutar(a) != ARCHIVE_OK ||
            sym_archive_read_open(a, raw, NULL, stage_read, NULL) != ARCHIVE_OK)
                return archive_fail(a, what, NULL);
        for (;;) {
                r = sym_archive_read_next_header(a, &ae);
                if (r == ARCHIVE_EOF)
                        break;
                /* Warnings are damaged or unconvertible headers: refuse them too. */
                if (r != ARCHIVE_OK)
                        return archive_fail(a, what, NULL);
                if (keep) {
                        _cleanup_free_ char *path = NULL, *link = NULL;
                        const char *hl = sym_archive_entry_hardlink(ae);

                        r = archive_member_path(what, sym_archive_entry_pathname(ae), &path);
                        if (r >= 0 && hl)
                                r = archive_member_path(what, hl, &link);
                        if (r >= 0)
                                r = keep(userdata, index++, path, link);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                continue; /* libarchive skips its data */
                }
                r = import_entry(b, a, ae, what, buf);
                if (r < 0)
                        return r;
                items++;
                if (p)
                        progress_update(p, items, rd->raw_bytes);
        }
        if (sym_archive_read_close(a) != ARCHIVE_OK)
                return archive_fail(a, what, NULL);
        /* Whatever follows the end-of-archive marker, down to the compressed
         * stream's own end and checksum. */
        for (;;) {
                size_t size;
                la_int64_t offset;

                r = sym_archive_read_data_block(raw, &block, &size, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        return archive_fail(raw, what, NULL);
        }
        /* A layer may well be empty, or hold only whiteouts. */
        if (items == 0 && !keep)
                return log_error_errno(EBADMSG, "%s: empty archive", what);
        return 0;
}

int archive_import_filtered(ImageBuilder *b, int fd, const char *what, Progress *p,
                            uint64_t total_bytes, ArchiveKeep keep, void *userdata) {
        Reader rd;
        int r;

        r = dlopen_libarchive();
        if (r < 0)
                return r;
        r = reader_init(&rd, fd, what);
        if (r >= 0)
                r = archive_import_from(b, &rd, what, p, total_bytes, keep, userdata);
        reader_done(&rd);
        return r;
}

int archive_import(ImageBuilder *b, int fd, const char *what, Progress *p, uint64_t total_bytes) {
        return archive_import_filtered(b, fd, what, p, total_bytes, NULL, NULL);
}

/* Export. */

static int export_fail(struct archive *a, const char *path) {
        const char *msg = sym_archive_error_string(a) ?: "write failed";
        int e = sym_archive_errno(a);

        /* libarchive's message ("Write error") leaves out why: the errno says. */
        if (e > 0 && !strstr(msg, strerror(e)))
                return log_error_errno(e, "export %s: %s: %m", path, msg);
        return log_error_errno(e > 0 ? e : EIO, "export %s: %s", path, msg);
}

static int add_filter_for(struct archive *a, const char *path) {
        if (endswith(path, ".gz") || endswith(path, ".tgz"))
                return sym_archive_write_add_filter_gzip(a);
        if (endswith(path, ".xz") || endswith(path, ".txz"))
                return sym_archive_write_add_filter_xz(a);
        if (endswith(path, ".zst") || endswith(path, ".tzst"))
                return sym_archive_write_add_filter_zstd(a);
        if (endswith(path, ".bz2"))
                return sym_archive_write_add_filter_bzip2(a);
        return sym_archive_write_add_filter_none(a);
}

static int export_data(struct archive *a, int rootfd, const ManifestEntry *e, const char *path,
                       uint8_t *buf) {
        _cleanup_close_ int fd = -EBADF;
        uint64_t done = 0;

        fd = openat_in_root_nofollow(rootfd, path_relative(e->path), O_RDONLY, 0);
        if (fd < 0)
                return log_error_errno(fd, "export %s: %s: %m", path, e->path);
        for (;;) {
                ssize_t n = read(fd, buf, ARCHIVE_BLOCK);
                if (n < 0)
                        return log_error_errno(errno, "export %s: %s: %m", path, e->path);
                if (n == 0)
                        break;
                if (done + (uint64_t)n > e->size)
                        break;
                if (sym_archive_write_data(a, buf, (size_t)n) != n)
                        return export_fail(a, path);
                done += (uint64_t)n;
        }
        /* The tree is immutable; a size mismatch means the store is damaged. */
        if (done != e->size)
                return log_error_errno(EUCLEAN, "export %s: %s: size differs from the manifest",
                                       path, e->path);
        return 0;
}

int archive_export(const Manifest *m, int rootfd, int outfd, const char *path, Progress *p) {
        _cleanup_archive_ struct archive *a = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        struct archive_entry *ae = NULL;
        uint64_t bytes = 0;
        int r;

        r = dlopen_libarchive();
        if (r < 0)
                return r;
        a = sym_archive_write_new();
        buf = malloc(ARCHIVE_BLOCK);
        ae = sym_archive_entry_new();
        if (!a || !buf || !ae) {
                sym_archive_entry_free(ae);
                return log_oom();
        }
        if (sym_archive_write_set_format_pax(a) != ARCHIVE_OK ||
            add_filter_for(a, path) != ARCHIVE_OK ||
            sym_archive_write_open_fd(a, outfd) != ARCHIVE_OK) {
                sym_archive_entry_free(ae);
                return export_fail(a, path);
        }
        for (size_t i = 0; i < m->n; i++) {
                const ManifestEntry *e = &m->entries[i];
                _cleanup_free_ char *name = strjoin(".", e->path);
                bool is_link = S_ISREG(e->mode) && e->link && !streq(e->link, e->path);

                if (!name) {
                        r = log_oom();
                        break;
                }
                sym_archive_entry_clear(ae);
                sym_archive_entry_copy_pathname(ae, streq(e->path, "/") ? "./" : name);
                sym_archive_entry_set_filetype(ae, e->mode & S_IFMT);
                sym_archive_entry_set_perm(ae, e->mode & 07777);
                sym_archive_entry_set_uid(ae, e->uid);
                sym_archive_entry_set_gid(ae, e->gid);
                sym_archive_entry_set_mtime(ae, e->mtime_sec, e->mtime_nsec);
                for (size_t j = 0; j < e->n_xattrs; j++)
                        sym_archive_entry_xattr_add_entry(ae, e->xattrs[j].name, e->xattrs[j].value,
                                                          e->xattrs[j].size);
                if (S_ISLNK(e->mode))
                        sym_archive_entry_copy_symlink(ae, e->target);
                if (S_ISCHR(e->mode) || S_ISBLK(e->mode)) {
                        sym_archive_entry_set_rdevmajor(ae, major(e->rdev));
                        sym_archive_entry_set_rdevminor(ae, minor(e->rdev));
                }
                if (is_link) {
                        _cleanup_free_ char *target = strjoin(".", e->link);
                        if (!target) {
                                r = log_oom();
                                break;
                        }
                        sym_archive_entry_copy_hardlink(ae, target);
                        sym_archive_entry_set_size(ae, 0);
                } else if (S_ISREG(e->mode))
                        sym_archive_entry_set_size(ae, (la_int64_t)e->size);
                r = sym_archive_write_header(a, ae);
                /* A name that is not valid in the locale's charset still goes out,
                 * as raw bytes marked hdrcharset=BINARY; libarchive warns. */
                if (r == ARCHIVE_WARN)
                        log_debug("export %s: %s: %s", path, e->path, sym_archive_error_string(a));
                else if (r != ARCHIVE_OK) {
                        r = export_fail(a, path);
                        break;
                }
                r = 0;
                if (S_ISREG(e->mode) && !is_link && e->size > 0) {
                        r = export_data(a, rootfd, e, path, buf);
                        if (r < 0)
                                break;
                        bytes += e->size;
                }
                if (p)
                        progress_update(p, i + 1, bytes);
                if (i == 0)
                        test_hook("export-after-first-entry");
        }
        sym_archive_entry_free(ae);
        if (r < 0)
                return r;
        if (sym_archive_write_close(a) != ARCHIVE_OK)
                return export_fail(a, path);
        return 0;
}
