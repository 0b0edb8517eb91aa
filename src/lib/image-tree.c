/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * image-tree: a MergeTree over a manifest, with the image's directory tree
 * behind it for the few files a merge copies.
 */
#include "image-tree.h"
#include "fsutil.h"
#include "sha256.h"
#include "util.h"

#include <sys/sysmacros.h>

typedef struct ImageTree {
        const Manifest *m;
        MergeTree dir; /* open() goes to the real tree */
} ImageTree;

static bool xattr_is_overlay(const char *name) {
        return startswith(name, "trusted.overlay.") || startswith(name, "user.overlay.");
}

/* merge_xattr_digest_fd()'s definition: for each name in strcmp order (the
 * manifest keeps them so), the name, its NUL, the value length as 8 bytes
 * little-endian and the value; overlayfs's own names left out. */
static int xattr_digest(const ManifestEntry *e, char ret[static MERGE_DIGEST_MAX]) {
        _cleanup_(sha256_freep) Sha256 *ctx = NULL;
        uint8_t md[SHA256_SIZE];
        bool any = false;
        int r;

        ret[0] = 0;
        for (size_t i = 0; i < e->n_xattrs; i++) {
                const Xattr *x = &e->xattrs[i];
                unsigned char len_le[8];

                if (xattr_is_overlay(x->name))
                        continue;
                if (!ctx) {
                        r = sha256_new(&ctx);
                        if (r < 0)
                                return r;
                }
                for (int b = 0; b < 8; b++)
                        len_le[b] = (uint64_t)x->size >> (8 * b);
                if (sha256_update(ctx, x->name, strlen(x->name) + 1) < 0 ||
                    sha256_update(ctx, len_le, sizeof len_le) < 0 ||
                    sha256_update(ctx, x->value, x->size) < 0)
                        return -EIO;
                any = true;
        }
        if (!any)
                return 0;
        r = sha256_final(ctx, md);
        if (r < 0)
                return r;
        digest_to_hex(md, ret);
        return 0;
}

static int node_from_entry(const ManifestEntry *e, MergeNode *ret) {
        MergeNode n = {
                .mode = e->mode & 07777,
                .uid = e->uid,
                .gid = e->gid,
        };
        int r;

        switch (e->mode & S_IFMT) {
        case S_IFREG:
                n.type = MERGE_NODE_REG;
                n.size = e->size;
                digest_to_hex(e->digest, n.digest);
                break;
        case S_IFDIR:
                n.type = MERGE_NODE_DIR;
                break;
        case S_IFLNK: {
                uint8_t md[SHA256_SIZE];

                n.type = MERGE_NODE_LNK;
                n.mode = 0; /* as merge_node_from_fd(): a link's bits mean nothing */
                if (!e->target || sha256_buffer(e->target, strlen(e->target), md) < 0)
                        return -EIO;
                digest_to_hex(md, n.digest);
                break;
        }
        case S_IFIFO:
                n.type = MERGE_NODE_FIFO;
                break;
        case S_IFSOCK:
                n.type = MERGE_NODE_SOCK;
                break;
        case S_IFCHR:
        case S_IFBLK:
                n.type = S_ISCHR(e->mode) ? MERGE_NODE_CHR : MERGE_NODE_BLK;
                snprintf(n.digest, sizeof n.digest, "%u:%u", major(e->rdev), minor(e->rdev));
                break;
        default:
                return -EBADMSG;
        }
        n.has_digest = true;
        r = xattr_digest(e, n.xattr_digest);
        if (r < 0)
                return r;
        *ret = n;
        return 0;
}

static int tree_lookup(void *userdata, const char *path, MergeNode *ret) {
        ImageTree *t = userdata;
        const ManifestEntry *e = manifest_find(t->m, path);

        if (!e)
                return -ENOENT;
        return node_from_entry(e, ret);
}

static int tree_digest(void *userdata, const char *path, MergeNode *node) {
        /* lookup() always fills it. */
        MergeNode n;
        int r = tree_lookup(userdata, path, &n);
        if (r < 0)
                return r;
        memcpy(node->digest, n.digest, sizeof n.digest);
        node->has_digest = true;
        return 0;
}

static int tree_open(void *userdata, const char *path, int flags) {
        ImageTree *t = userdata;
        return t->dir.open(t->dir.userdata, path, flags);
}

static int tree_readlink(void *userdata, const char *path, char **ret) {
        ImageTree *t = userdata;
        const ManifestEntry *e = manifest_find(t->m, path);
        char *s;

        if (!e)
                return -ENOENT;
        if (!S_ISLNK(e->mode) || !e->target)
                return -EINVAL;
        s = strdup(e->target);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* The first entry whose path is >= key. */
static size_t lower_bound(const Manifest *m, const char *key) {
        size_t lo = 0, hi = m->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(m->entries[mid].path, key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* A directory's children are the entries that start with "PATH/" and have no
 * further '/'. A child's subtree ("PATH/NAME/...") is contiguous in byte order
 * and ends before "PATH/NAME0", so it is skipped with one more search: a
 * listing costs its children, not the directory's whole subtree. */
static int tree_list(void *userdata, const char *path, char ***ret) {
        ImageTree *t = userdata;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *prefix = NULL;
        const ManifestEntry *e = manifest_find(t->m, path);
        size_t plen, i;

        if (!e)
                return -ENOENT;
        if (!S_ISDIR(e->mode))
                return -ENOTDIR;
        prefix = streq(path, "/") ? strdup("/") : strjoin(path, "/");
        if (!prefix)
                return -ENOMEM;
        plen = strlen(prefix);
        names = calloc(1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        i = lower_bound(t->m, prefix);
        while (i < t->m->n) {
                const char *p = t->m->entries[i].path, *name;
                _cleanup_free_ char *skip = NULL;
                size_t nlen;

                if (strncmp(p, prefix, plen) != 0)
                        break;
                name = p + plen;
                if (*name == 0) { /* the root itself */
                        i++;
                        continue;
                }
                nlen = strcspn(name, "/");
                if (name[nlen] == 0) {
                        if (strv_consume(&names, strdup(name)) < 0)
                                return -ENOMEM;
                        i++;
                        continue;
                }
                /* A grandchild: skip the rest of that child's subtree. */
                if (asprintf_safe(&skip, "%.*s0", (int)(plen + nlen), p) < 0)
                        return -ENOMEM;
                i = lower_bound(t->m, skip);
        }
        /* The manifest's byte order is strcmp order: already sorted. */
        *ret = TAKE_PTR(names);
        return 0;
}

static void tree_free(void *userdata) {
        ImageTree *t = userdata;
        if (!t)
                return;
        merge_tree_done(&t->dir);
        free(t);
}

int image_tree_new(const Manifest *m, int rootfd, MergeTree *ret) {
        ImageTree *t;
        int r;

        assert(m);
        assert(rootfd >= 0);
        assert(ret);
        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->m = m;
        r = merge_tree_from_dir(rootfd, &t->dir);
        if (r < 0) {
                free(t);
                return r;
        }
        *ret = (MergeTree){
                .lookup = tree_lookup,
                .digest = tree_digest,
                .open = tree_open,
                .readlink = tree_readlink,
                .list = tree_list,
                .free = tree_free,
                .userdata = t,
        };
        return 0;
}
