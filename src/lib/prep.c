/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prep: the operations as path rules over the parent's manifest.
 */
#include "prep.h"
#include "store-derive.h"
#include "util.h"

#include <fnmatch.h>
#include <sys/stat.h>

typedef struct Prep {
        ImageDerive *d;
        const Manifest *m;
        PrepResult *res;
        const char *op;
} Prep;

static int act(Prep *p, const ManifestEntry *e, const char *action) {
        _cleanup_free_ char *path = NULL;
        PrepAction *t;
        int r;

        if (streq(action, "remove"))
                r = image_derive_remove(p->d, e->path);
        else {
                const char *data = streq(action, "rewrite") ? "uninitialized\n" : "";
                r = image_derive_put_data(p->d, e->path, e, data, strlen(data));
        }
        if (r < 0)
                return r;
        path = strdup(e->path);
        if (!path)
                return log_oom();
        t = realloc(p->res->actions, (p->res->n_actions + 1) * sizeof *t);
        if (!t)
                return log_oom();
        p->res->actions = t;
        t[p->res->n_actions++] =
                (PrepAction){.path = TAKE_PTR(path), .op = p->op, .action = action};
        return 0;
}

/* Removes the paths that match one of the fnmatch patterns (a '*' does not
 * cross a '/'). */
/* Not a leak: act() keeps the path in p->res->actions; gcc 12 drops a moved realloc buffer's
 * contents. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
static int remove_matching(Prep *p, const char *const *patterns) {
        for (size_t k = 0; k < p->m->n; k++) {
                const ManifestEntry *e = &p->m->entries[k];
                for (size_t j = 0; patterns[j]; j++)
                        if (fnmatch(patterns[j], e->path, FNM_PATHNAME) == 0) {
                                int r = act(p, e, "remove");
                                if (r < 0)
                                        return r;
                                break;
                        }
        }
        return 0;
}
#pragma GCC diagnostic pop

/* Removes every non-directory below each of dirs (the directories stay, so
 * the programs that write there find them). keep_empty names files that are
 * emptied instead (their owner and mode matter to the programs that log in). */
static int remove_files_below(Prep *p, const char *const *dirs, const char *const *keep_empty) {
        for (size_t k = 0; k < p->m->n; k++) {
                const ManifestEntry *e = &p->m->entries[k];
                const char *base = strrchr(e->path, '/') + 1;
                bool below = false, keep = false;
                int r;

                if (S_ISDIR(e->mode))
                        continue;
                for (size_t j = 0; dirs[j] && !below; j++)
                        below = path_is_under(e->path, dirs[j]) && !streq(e->path, dirs[j]);
                if (!below)
                        continue;
                for (size_t j = 0; keep_empty && keep_empty[j] && !keep; j++)
                        keep = fnmatch(keep_empty[j], base, 0) == 0;
                if (keep && S_ISREG(e->mode)) {
                        if (e->size == 0)
                                continue;
                        r = act(p, e, "truncate");
                } else
                        r = act(p, e, "remove");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int op_machine_id(Prep *p) {
        const ManifestEntry *e = manifest_find(p->m, "/etc/machine-id");
        int r = 0;

        /* "uninitialized" is systemd's first-boot marker (machine-id(5));
         * without systemd nothing would ever replace it, and an empty file
         * is what "no id yet" is (goldroot's personalization fills it). */
        if (e && S_ISREG(e->mode)) {
                if (manifest_find(p->m, "/usr/lib/systemd/systemd") ||
                    manifest_find(p->m, "/lib/systemd/systemd"))
                        r = act(p, e, "rewrite");
                else if (e->size > 0)
                        r = act(p, e, "truncate");
                if (r < 0)
                        return r;
        }
        /* dbus's own copy; Debian ships it as a symlink to /etc/machine-id. */
        e = manifest_find(p->m, "/var/lib/dbus/machine-id");
        if (e && S_ISREG(e->mode))
                return act(p, e, "remove");
        return 0;
}

static int op_ssh_host_keys(Prep *p) {
        return remove_matching(p, (const char *const[]){"/etc/ssh/ssh_host_*", NULL});
}

static int op_logs(Prep *p) {
        return remove_files_below(
                p, (const char *const[]){"/var/log", NULL},
                (const char *const[]){"wtmp", "btmp", "lastlog", "faillog", NULL});
}

static int op_dhcp_leases(Prep *p) {
        int r = remove_files_below(p,
                                   (const char *const[]){"/var/lib/dhcp", "/var/lib/dhclient",
                                                         "/var/lib/dhcpcd", NULL},
                                   NULL);
        if (r < 0)
                return r;
        return remove_matching(p, (const char *const[]){"/var/lib/NetworkManager/*lease*",
                                                        "/var/lib/systemd/network/*", NULL});
}

static int op_shell_history(Prep *p) {
        static const char *const names[] = {".bash_history",   ".ash_history",   ".zsh_history",
                                            ".sh_history",     ".history",       ".python_history",
                                            ".lesshst",        ".mysql_history", ".psql_history",
                                            ".sqlite_history", ".viminfo",       NULL};
        for (size_t k = 0; p->m && k < p->m->n; k++) {
                const ManifestEntry *e = &p->m->entries[k];
                const char *base = strrchr(e->path, '/') + 1;
                bool home = fnmatch("/root/*", e->path, FNM_PATHNAME) == 0 ||
                            fnmatch("/home/*/*", e->path, FNM_PATHNAME) == 0;

                if (!home || S_ISDIR(e->mode) || !strv_contains((char **)names, base))
                        continue;
                int r = act(p, e, "remove");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int op_tmp_files(Prep *p) {
        return remove_matching(
                p, (const char *const[]){"/tmp/*", "/tmp/.*", "/var/tmp/*", "/var/tmp/.*", NULL});
}

static int op_udev_net(Prep *p) {
        return remove_matching(
                p, (const char *const[]){"/etc/udev/rules.d/70-persistent-net.rules", NULL});
}

static int op_package_caches(Prep *p) {
        return remove_files_below(p,
                                  (const char *const[]){"/var/cache/apt", "/var/cache/dnf",
                                                        "/var/cache/yum", "/var/cache/zypp",
                                                        "/var/cache/apk", "/var/cache/pacman",
                                                        NULL},
                                  NULL);
}

static int op_random_seed(Prep *p) {
        return remove_matching(p, (const char *const[]){"/var/lib/systemd/random-seed",
                                                        "/var/lib/urandom/random-seed",
                                                        "/var/lib/random-seed", NULL});
}

static int op_passwd_backups(Prep *p) {
        return remove_matching(p, (const char *const[]){"/etc/passwd-", "/etc/group-",
                                                        "/etc/shadow-", "/etc/gshadow-",
                                                        "/etc/subuid-", "/etc/subgid-", NULL});
}

static const PrepOp ops[] = {
        {"machine-id", "/etc/machine-id set to \"uninitialized\" (systemd's first boot), "
                       "emptied in an image without systemd; /var/lib/dbus/machine-id removed"},
        {"ssh-host-keys", "/etc/ssh/ssh_host_* removed"},
        {"logs", "files below /var/log removed; wtmp, btmp, lastlog, faillog emptied"},
        {"dhcp-leases", "files below /var/lib/dhcp, /var/lib/dhclient, /var/lib/dhcpcd; "
                        "/var/lib/NetworkManager/*lease*, /var/lib/systemd/network/*"},
        {"shell-history", ".bash_history, .ash_history, .zsh_history, .sh_history, .history, "
                          ".python_history, .lesshst, .mysql_history, .psql_history, "
                          ".sqlite_history, .viminfo in /root and /home/*"},
        {"tmp-files", "everything in /tmp and /var/tmp"},
        {"udev-net-rules", "/etc/udev/rules.d/70-persistent-net.rules"},
        {"package-caches", "files below /var/cache/{apt,dnf,yum,zypp,apk,pacman}"},
        {"random-seed", "/var/lib/systemd/random-seed, /var/lib/urandom/random-seed, "
                        "/var/lib/random-seed"},
        {"passwd-backups", "/etc/passwd-, /etc/group-, /etc/shadow-, /etc/gshadow-, "
                           "/etc/subuid-, /etc/subgid-"},
};

static int (*const op_functions[])(Prep *p) = {
        op_machine_id, op_ssh_host_keys, op_logs,           op_dhcp_leases, op_shell_history,
        op_tmp_files,  op_udev_net,      op_package_caches, op_random_seed, op_passwd_backups,
};

const PrepOp *prep_ops(size_t *ret_n) {
        *ret_n = ELEMENTSOF(ops);
        return ops;
}

int prep_ops_parse(const char *list, unsigned *ret_mask) {
        unsigned mask = 0;

        if (isempty(list) || streq(list, "all")) {
                *ret_mask = (1u << ELEMENTSOF(ops)) - 1;
                return 0;
        }
        for (const char *p = list; *p;) {
                size_t n = strcspn(p, ",");
                bool found = false;

                for (size_t k = 0; k < ELEMENTSOF(ops); k++)
                        if (strlen(ops[k].name) == n && strncmp(ops[k].name, p, n) == 0) {
                                mask |= 1u << k;
                                found = true;
                        }
                if (!found)
                        return log_error_errno(EINVAL,
                                               "image prep: unknown operation '%.*s' (see "
                                               "'goldroot image prep --list')",
                                               (int)n, p);
                p += n;
                if (*p == ',')
                        p++;
        }
        *ret_mask = mask;
        return 0;
}

void prep_result_done(PrepResult *r) {
        for (size_t k = 0; k < r->n_actions; k++)
                free(r->actions[k].path);
        free(r->actions);
        *r = (PrepResult){};
}

int image_prep(Store *s, const char *id, unsigned mask, const char *name, const char *tag,
               PrepResult *ret) {
        _cleanup_(image_derive_freep) ImageDerive *d = NULL;
        _cleanup_(image_info_freep) ImageInfo *parent = NULL;
        PrepResult res = {};
        Prep p = {.res = &res};
        int r;

        r = catalog_get_image(store_catalog(s), id, &parent);
        if (r < 0)
                return log_error_errno(r, "image prep: cannot read image %.12s: %m", id);
        r = image_derive_new(s, id, &d);
        if (r < 0)
                return r;
        p.d = d;
        p.m = image_derive_parent(d);
        for (size_t k = 0; k < ELEMENTSOF(ops); k++) {
                if (!(mask & (1u << k)))
                        continue;
                p.op = ops[k].name;
                r = op_functions[k](&p);
                if (r < 0)
                        goto fail;
        }
        /* The identity goes in with the image, in the publishing transaction. */
        r = image_derive_publish(d,
                                 &(ImagePublish){.name = name,
                                                 .tag = tag,
                                                 .hostname = parent->hostname,
                                                 .address = parent->address,
                                                 .kind = "prep"},
                                 NULL, res.id);
        if (r < 0)
                goto fail;
        *ret = res;
        return 0;
fail:
        prep_result_done(&res);
        return r;
}
