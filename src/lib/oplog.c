/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * oplog: the journal's rows and their arguments, and recovery, which hands
 * each unfinished operation to the module that owns its kind.
 */
#include "oplog.h"
#include "instance.h"
#include "store.h"
#include "upgrade.h"

#include <inttypes.h>

static int format_args(va_list ap, char **ret) {
        _cleanup_free_ char *text = strdup("");
        const char *key;

        if (!text)
                return -ENOMEM;
        while ((key = va_arg(ap, const char *))) {
                const char *value = va_arg(ap, const char *);
                char *t;

                if (!value)
                        continue;
                assert(!strchr(key, '\n') && !strchr(key, '=') && !strchr(value, '\n'));
                t = strjoin(text, key, "=", value, "\n");
                if (!t)
                        return -ENOMEM;
                free(text);
                text = t;
        }
        *ret = TAKE_PTR(text);
        return 0;
}

int oplog_begin(Catalog *c, const char *kind, const char *subject, int64_t *ret_id, ...) {
        _cleanup_free_ char *args = NULL;
        va_list ap;
        int r;

        va_start(ap, ret_id);
        r = format_args(ap, &args);
        va_end(ap);
        if (r < 0)
                return log_oom();
        r = catalog_add_op(c, kind, subject, args, ret_id);
        if (r < 0)
                return log_error_errno(r, "%s %s: cannot journal the operation: %m", kind, subject);
        return 0;
}

int oplog_set_args(Catalog *c, int64_t id, ...) {
        _cleanup_free_ char *args = NULL;
        va_list ap;
        int r;

        va_start(ap, id);
        r = format_args(ap, &args);
        va_end(ap);
        if (r < 0)
                return log_oom();
        r = catalog_set_op_args(c, id, args);
        if (r < 0)
                return log_error_errno(r, "journal: cannot update operation %" PRId64 ": %m", id);
        return 0;
}

int oplog_committed(Catalog *c, int64_t id) {
        int r = catalog_set_op_committed(c, id);
        if (r < 0)
                return log_error_errno(r, "journal: cannot update operation %" PRId64 ": %m", id);
        return 0;
}

int oplog_end(Catalog *c, int64_t id) {
        int r = catalog_remove_op(c, id);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "journal: cannot end operation %" PRId64 ": %m", id);
        return 0;
}

void oplog_abandon(Catalog *c, int64_t id) {
        if (id > 0)
                (void)oplog_end(c, id);
}

int oplog_arg(const OpRow *o, const char *key, char **ret) {
        size_t klen = strlen(key);

        *ret = NULL;
        for (const char *p = o->args; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                if ((size_t)(eol - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
                        *ret = strndup(p + klen + 1, eol - p - klen - 1);
                        return *ret ? 0 : -ENOMEM;
                }
                p = *eol ? eol + 1 : eol;
        }
        return 0;
}

static int recover_one(Store *s, const OpRow *o) {
        if (streq(o->kind, OP_IMPORT))
                return image_builder_recover(s, o);
        if (streq(o->kind, OP_CREATE) || streq(o->kind, OP_RM))
                return instance_recover_op(s, o);
        if (streq(o->kind, OP_UPGRADE) || streq(o->kind, OP_ROLLBACK))
                return upgrade_recover_op(s, o);
        if (streq(o->kind, OP_IMAGE_RM) || streq(o->kind, OP_GC))
                return store_recover_op(s, o);
        return log_error_errno(EPROTO, "journal: operation %" PRId64 " has unknown kind %s", o->id,
                               o->kind);
}

int oplog_recover(Store *s) {
        Catalog *c = store_catalog(s);
        OpRow **ops = NULL;
        size_t n = 0;
        int r, ret = 0;

        r = catalog_list_ops(c, &ops, &n);
        if (r < 0)
                return r;
        for (size_t k = 0; k < n; k++) {
                const OpRow *o = ops[k];

                int how = recover_one(s, o);

                r = how;
                if (r == -EBUSY) {
                        log_debug("journal: %s %s is busy; recovering it later", o->kind,
                                  o->subject);
                        continue;
                }
                if (r < 0) {
                        ret = ret ?: r;
                        continue;
                }
                r = oplog_end(c, o->id);
                if (r < 0) {
                        ret = ret ?: r;
                        continue;
                }
                log_info("recovered an interrupted %s of %s: %s", o->kind, o->subject,
                         how > 0 ? "finished it" : "undid it");
        }
        op_row_list_free(ops, n);
        return ret;
}
