/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-publish: the end of an ImageBuilder: the manifest and image id, the
 * directories' metadata, new objects linked into objects/, one sync, the
 * rename into images/ and the catalog transaction.
 */
#include "fsutil.h"
#include "oplog.h"
#include "store-internal.h"

#include <search.h>
#include <time.h>

static int build_entry_compare(const void *a, const void *b) {
        return strcmp(((const BuildEntry *)a)->e.path, ((const BuildEntry *)b)->e.path);
}

/* Sorts the entries, names each hardlink group after its first path and moves
 * everything into a manifest. The entry table is unusable afterwards. */
/* Not a leak: each link lives on in b->entries[i].e (freed with the builder); gcc 12 loses stores
 * through an indexed param array. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int builder_make_manifest(ImageBuilder *b, Manifest **ret) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ const char **leader = NULL;
        int r;

        tdestroy(b->paths, free);
        b->paths = NULL;
        qsort(b->entries, b->n_entries, sizeof *b->entries, build_entry_compare);
        leader = calloc(b->next_group + 1, sizeof *leader);
        m = manifest_new();
        if (!leader || !m)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_entries; i++) {
                BuildEntry *be = &b->entries[i];
                if (be->group == 0)
                        continue;
                if (!leader[be->group])
                        leader[be->group] = be->e.path;
                be->e.link = strdup(leader[be->group]);
                if (!be->e.link)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < b->n_entries; i++) {
                r = manifest_append(m, &b->entries[i].e);
                if (r < 0)
                        return r;
        }
        b->n_entries = 0;
        *ret = TAKE_PTR(m);
        return 0;
}
#pragma GCC diagnostic pop

/* Directory metadata, deepest first, now that nothing will be added. */
static int builder_finish_dirs(ImageBuilder *b, const Manifest *m) {
        for (size_t i = m->n; i-- > 0;) {
                const ManifestEntry *e = &m->entries[i];
                _cleanup_close_ int fd = -EBADF;
                int r;

                if (!S_ISDIR(e->mode))
                        continue;
                fd = openat_in_root_nofollow(b->root_fd, rel(e->path), O_RDONLY | O_DIRECTORY, 0);
                if (fd < 0)
                        return builder_fail(b, fd, e->path, "opening directory");
                r = metadata_apply_fd_full(fd, e, &b->failed_xattr);
                if (r < 0)
                        return builder_fail(b, r, e->path, "setting metadata");
        }
        return 0;
}

/* 1 if the two files hold the same bytes. */
static int same_content(int a, int b) {
        _cleanup_free_ uint8_t *x = malloc(1u << 16), *y = malloc(1u << 16);
        struct stat sa, sb;

        if (!x || !y)
                return -ENOMEM;
        if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
                return -errno;
        if (sa.st_size != sb.st_size)
                return 0;
        for (off_t off = 0;;) {
                ssize_t n = pread(a, x, 1u << 16, off), m;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 1;
                m = pread(b, y, (size_t)n, off);
                if (m < 0)
                        return -errno;
                if (m != n || memcmp(x, y, (size_t)n) != 0)
                        return 0;
                off += n;
        }
}

/* Our inode at relpath takes the name objects/opath: the store's copy is at
 * the link limit, or it is not what its name says. Trees that use the old
 * one keep it; later builds link this one. */
static int replace_object(ImageBuilder *b, const char *relpath, const char *opath) {
        int ofd = b->store->objects_fd;
        _cleanup_free_ char *tmp = NULL;

        if (asprintf_safe(&tmp, "%.2s/.tmp-%s", opath, b->staging_name) < 0)
                return log_oom();
        if (linkat(b->root_fd, relpath, ofd, tmp, 0) < 0 || renameat(ofd, tmp, ofd, opath) < 0) {
                int r = -errno;
                (void)unlinkat(ofd, tmp, 0);
                return log_error_errno(r, "%s: replacing object %s: %m", b->opts.what, opath);
        }
        return 0;
}

/* objects/opath appeared since we looked (a concurrent build of the same
 * content). Unless it does not hold our bytes, the tree must use its inode:
 * a tree keeping its own copy is not an object of the store, and if the
 * other build's tree is the one dropped (same image), gc then takes the
 * object that tree was the only other link of. */
static int adopt_object(ImageBuilder *b, NewObject *o, const char *opath) {
        _cleanup_close_ int ours = -EBADF, theirs = -EBADF;
        struct stat st;
        int r;

        ours = openat(b->root_fd, o->relpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (ours < 0 || fstat(ours, &st) < 0)
                return builder_fail(b, -errno, o->relpath, "opening");
        theirs = openat(b->store->objects_fd, opath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (theirs < 0)
                return log_error_errno(errno, "%s: opening object %s: %m", b->opts.what, opath);
        r = same_content(ours, theirs);
        if (r < 0)
                return log_error_errno(r, "%s: comparing with object %s: %m", b->opts.what, opath);
        if (r == 0) {
                log_warning("%s: object %s does not hold what its name says: replacing it",
                            b->opts.what, opath);
                return replace_object(b, o->relpath, opath);
        }
        o->adopt = true;
        o->ino = st.st_ino;
        return 0;
}

/* A rename into a directory whose metadata is final changed its mtime. */
static int restore_parent_mtime(ImageBuilder *b, const Manifest *m, const char *path) {
        _cleanup_free_ char *parent = NULL;
        const ManifestEntry *pe;
        const char *slash = strrchr(path, '/');

        parent = slash == path ? strdup("/") : strndup(path, slash - path);
        if (!parent)
                return log_oom();
        pe = manifest_find(m, parent);
        if (!pe)
                return 0;
        if (utimensat(b->root_fd, rel(parent),
                      (struct timespec[2]){{.tv_nsec = UTIME_OMIT},
                                           {.tv_sec = pe->mtime_sec, .tv_nsec = pe->mtime_nsec}},
                      AT_SYMLINK_NOFOLLOW) < 0)
                return builder_fail(b, -errno, parent, "setting its mtime");
        return 0;
}

/* Every path of the tree that holds the inode of an adopted object is
 * replaced, in one rename each, by a link to the store's inode. */
static int builder_adopt_objects(ImageBuilder *b, const Manifest *m) {
        int ofd = b->store->objects_fd;

        for (size_t i = 0; i < m->n; i++) {
                const ManifestEntry *e = &m->entries[i];
                char opath[OBJECT_PATH_SIZE];
                uint8_t od[DIGEST_SIZE];
                NewObject key, **found;
                struct stat st;
                int r;

                if (!S_ISREG(e->mode))
                        continue;
                r = object_digest(e, od);
                if (r < 0)
                        return builder_fail(b, r, e->path, "hashing its metadata");
                memcpy(key.digest, od, DIGEST_SIZE);
                found = tfind(&key, &b->objects, object_compare);
                if (!found || !(*found)->adopt)
                        continue;
                if (fstatat(b->root_fd, rel(e->path), &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return builder_fail(b, -errno, e->path, "stat");
                if (st.st_ino != (*found)->ino)
                        continue;
                object_path(od, opath);
                (void)unlinkat(b->staging_fd, "adopt", 0);
                if (linkat(ofd, opath, b->staging_fd, "adopt", 0) < 0) {
                        if (errno != EMLINK)
                                return log_error_errno(errno, "%s: linking object %s: %m",
                                                       b->opts.what, opath);
                        /* Theirs is full: ours becomes the object. */
                        r = replace_object(b, rel(e->path), opath);
                        if (r < 0)
                                return r;
                        (*found)->adopt = false;
                        continue;
                }
                if (renameat(b->staging_fd, "adopt", b->root_fd, rel(e->path)) < 0)
                        return builder_fail(b, -errno, e->path, "linking the stored object");
                r = restore_parent_mtime(b, m, e->path);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Makes this build's new files objects of the store. */
static int builder_link_objects(ImageBuilder *b, const Manifest *m) {
        int ofd = b->store->objects_fd;
        bool adopted = false;
        int r;

        for (size_t i = 0; i < b->n_new_objects; i++) {
                NewObject *o = b->new_objects[i];
                char opath[OBJECT_PATH_SIZE], sub[3];

                object_path(o->digest, opath);
                memcpy(sub, opath, 2);
                sub[2] = 0;
                if (mkdirat(ofd, sub, 0700) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "%s: creating objects/%s: %m", b->opts.what,
                                               sub);
                if (o->replace) {
                        /* The old inode is at the link limit. */
                        r = replace_object(b, o->relpath, opath);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (linkat(b->root_fd, o->relpath, ofd, opath, 0) < 0) {
                        if (errno != EEXIST)
                                return log_error_errno(errno, "%s: storing object %s: %m",
                                                       b->opts.what, opath);
                        r = adopt_object(b, o, opath);
                        if (r < 0)
                                return r;
                        adopted = adopted || o->adopt;
                        continue;
                }
                if (strv_extend(&b->linked, opath) < 0)
                        return log_oom();
        }
        return adopted ? builder_adopt_objects(b, m) : 0;
}

/* The whole tree takes the delta's place in one exchange; the catalog then
 * forgets the base. In between, the tree on disk already decides
 * (store_image_chain), so a crash there leaves a working image whose row the
 * next removal of its old base corrects. */
static int builder_swap_in(ImageBuilder *b, const char *id, char ret_id[static DIGEST_HEX_SIZE]) {
        Store *s = b->store;
        int r;

        if (renameat2(s->staging_fd, b->staging_name, s->images_fd, id, RENAME_EXCHANGE) < 0)
                return log_error_errno(errno, "%s: swapping in images/%s: %m", b->opts.what, id);
        b->published = true;
        if (fsync(s->images_fd) < 0)
                return log_error_errno(errno, "%s: syncing images/: %m", b->opts.what);
        crash_point("flatten-after-swap");
        r = catalog_begin(s->catalog);
        if (r >= 0)
                r = catalog_set_image_base(s->catalog, id, NULL);
        if (r >= 0)
                r = oplog_end(s->catalog, b->op);
        if (r < 0) {
                catalog_rollback(s->catalog);
                return r;
        }
        r = catalog_commit(s->catalog);
        if (r < 0)
                return r;
        b->op = 0;
        /* staging/NAME now holds the old delta. */
        r = rm_rf_at(s->staging_fd, b->staging_name);
        if (r < 0)
                log_warning_errno(r, "%s: removing staging/%s: %m", b->opts.what, b->staging_name);
        memcpy(ret_id, id, DIGEST_HEX_SIZE);
        return 0;
}

/* The catalog half of a publish, inside the caller's transaction. */
static int publish_rows(Store *s, const ImageInfo *info, const ImagePublish *p) {
        int r;

        r = catalog_add_image(s->catalog, info);
        if (r >= 0 && p && p->name)
                r = catalog_set_tag(s->catalog, p->name, p->tag, info->id);
        if (r >= 0 && p && (p->hostname || p->address))
                r = catalog_set_image_identity(s->catalog, info->id, p->hostname, p->address);
        return r;
}

int image_builder_recover(Store *s, const OpRow *o) {
        _cleanup_free_ char *staging = NULL, *id = NULL, *name = NULL, *tag = NULL, *parent = NULL,
                            *hostname = NULL, *address = NULL, *base = NULL;
        _cleanup_(image_info_freep) ImageInfo *pinfo = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        ImageInfo info = {};
        struct stat st;
        int r;

        if (oplog_arg(o, "staging", &staging) < 0 || oplog_arg(o, "id", &id) < 0 ||
            oplog_arg(o, "name", &name) < 0 || oplog_arg(o, "tag", &tag) < 0 ||
            oplog_arg(o, "parent", &parent) < 0 || oplog_arg(o, "hostname", &hostname) < 0 ||
            oplog_arg(o, "address", &address) < 0 || oplog_arg(o, "base", &base) < 0)
                return log_oom();
        /* Nobody builds now (we hold the store alone): the staging tree is dead. */
        if (staging && strlen(staging) == 16 && string_is_hex(staging)) {
                r = rm_rf_at(s->staging_fd, staging);
                if (r < 0 && r != -ENOENT)
                        return log_error_errno(r, "journal: %s: removing staging/%s: %m",
                                               o->subject, staging);
        }
        if (!id || strlen(id) != IMAGE_ID_LEN || !string_is_hex(id) ||
            fstatat(s->images_fd, id, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0; /* never renamed into images/: nothing was published */

        /* The tree made it into images/ (synced before the rename): finish.
         * A delta's manifest composes over its base's chain; its own row is
         * not there yet. */
        {
                _cleanup_strv_free_ char **below = NULL, **chain = NULL;
                r = base ? store_image_chain(s, base, &below) : 0;
                if (r >= 0)
                        r = strv_extend(&chain, id);
                for (size_t k = 0; r >= 0 && below && below[k]; k++)
                        r = strv_extend(&chain, below[k]);
                if (r >= 0)
                        r = delta_read_manifest(s, chain, &m);
                if (r < 0)
                        return r;
        }
        snprintf(info.id, sizeof info.id, "%s", id);
        manifest_totals(m, &info.files, &info.size);
        info.created = (int64_t)time(NULL);
        if (parent && catalog_get_image(s->catalog, parent, &pinfo) >= 0)
                info.parent = parent;
        /* A delta's base: image rm cannot have taken it (it waits for the
         * store, which recovery holds). */
        info.base = base;
        r = catalog_begin(s->catalog);
        if (r < 0)
                return r;
        r = publish_rows(s, &info,
                         &(ImagePublish){.name = name,
                                         .tag = name ? tag : NULL,
                                         .hostname = hostname,
                                         .address = address});
        if (r >= 0)
                r = catalog_commit(s->catalog);
        if (r < 0) {
                catalog_rollback(s->catalog);
                return log_error_errno(r, "journal: %s: cannot record image %.12s: %m", o->subject,
                                       id);
        }
        return 1;
}

int image_builder_publish(ImageBuilder *b, const ImagePublish *p,
                          char ret_id[static DIGEST_HEX_SIZE]) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        Store *s = b->store;
        ImageInfo info = {};
        char base[DIGEST_HEX_SIZE];
        bool exists = false;
        int r;

        assert(b && !b->in_file && !b->published);
        r = builder_make_manifest(b, &m);
        if (r < 0)
                return log_oom();
        r = builder_finish_dirs(b, m);
        if (r < 0)
                return r;
        r = manifest_id(m, info.id);
        if (r < 0)
                return log_error_errno(r, "%s: computing the image id: %m", b->opts.what);
        manifest_totals(m, &info.files, &info.size);
        builder_crash_point(b, "before-objects");
        r = builder_link_objects(b, m);
        if (r < 0)
                return r;
        builder_crash_point(b, "after-objects");
        r = p && p->flatten ? 0 : delta_prepare(b, p, m, info.id, base);
        if (r < 0)
                return r;
        if (r > 0)
                info.base = base;
        else {
                r = manifest_write_at(b->staging_fd, "manifest", m);
                if (r < 0)
                        return log_error_errno(r, "%s: writing the manifest: %m", b->opts.what);
        }
        /* What recovery needs to finish the publish once the tree is in
         * images/: a renamed tree is complete (synced before the rename). */
        r = oplog_set_args(s->catalog, b->op, "kind", b->opts.kind, "staging", b->staging_name,
                           "id", info.id, "name", p ? p->name : NULL, "tag", p ? p->tag : NULL,
                           "parent", p ? p->parent : NULL, "hostname", p ? p->hostname : NULL,
                           "address", p ? p->address : NULL, "base", info.base, NULL);
        if (r < 0)
                return r;
        /* One sync for the whole tree, instead of an fsync per file. */
        if (syncfs(b->staging_fd) < 0)
                return log_error_errno(errno, "%s: syncing the store: %m", b->opts.what);
        builder_crash_point(b, "before-rename");

        if (p && p->flatten)
                return builder_swap_in(b, info.id, ret_id);
        if (renameat(s->staging_fd, b->staging_name, s->images_fd, info.id) < 0) {
                if (errno != EEXIST && errno != ENOTEMPTY)
                        return log_error_errno(errno, "%s: publishing images/%s: %m", b->opts.what,
                                               info.id);
                exists = true; /* same content as an image we have: reuse it */
        } else {
                b->published = true;
                if (fsync(s->images_fd) < 0)
                        return log_error_errno(errno, "%s: syncing images/: %m", b->opts.what);
        }
        builder_crash_point(b, "after-rename");

        info.created = (int64_t)time(NULL);
        info.parent = (char *)(p ? p->parent : NULL);
        r = catalog_begin(s->catalog);
        if (r < 0)
                return r;
        r = publish_rows(s, &info, p);
        if (r >= 0)
                r = oplog_end(s->catalog, b->op);
        if (r < 0) {
                catalog_rollback(s->catalog);
                return r;
        }
        builder_crash_point(b, "before-commit");
        r = catalog_commit(s->catalog);
        if (r < 0)
                return r;
        b->op = 0;
        builder_crash_point(b, "after-commit");
        if (exists) {
                /* Our duplicate tree goes; the objects it linked stay for the
                 * existing tree, which links the same ones. */
                strv_free(b->linked);
                b->linked = NULL;
        }
        b->published = true;
        if (exists) {
                r = rm_rf_at(s->staging_fd, b->staging_name);
                if (r < 0)
                        log_warning_errno(r, "%s: removing staging/%s: %m", b->opts.what,
                                          b->staging_name);
        }
        memcpy(ret_id, info.id, DIGEST_HEX_SIZE);
        return 0;
}
