/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * personalize: hostname, hosts, machine id, network files and the token
 * rewrite, written through an assembled root's fd; and the list of programs
 * (ssh-keygen, firstboot.d) that must then run inside the instance.
 */
#include "personalize.h"
#include "fsutil.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#define FILE_MAX (1u << 20) /* larger "configuration files" are left alone */
#define HOSTS_MARK "# goldroot"
#define FIRSTBOOT_DIR "/etc/goldroot/firstboot.d"

const char *const personalize_default_rewrite[] = {
        "/etc/hosts", "/etc/hostname",           "/etc/mailname",    "/etc/motd",
        "/etc/issue", "/etc/network/interfaces", "/etc/resolv.conf", NULL,
};

static bool is_word(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
}

/* Whether text[i] belongs to a token: a word character, or a dot between
 * word characters. */
static bool in_token(const char *text, size_t len, size_t i) {
        if (is_word(text[i]))
                return true;
        return text[i] == '.' && i > 0 && i + 1 < len && is_word(text[i - 1]) &&
               is_word(text[i + 1]);
}

static bool is_v6_char(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
               c == ':';
}

bool token_is_whole(const char *text, size_t len, size_t pos, size_t n) {
        /* An IPv6 address goes on past a ':' that a hex digit or another ':'
         * follows on the far side: fd00::1 is not whole in fd00::1:5 nor in
         * 2001:fd00::1 (but is in [fd00::1]:22 and "host:fd00::1"). */
        bool v6;

        if (n == 0 || pos + n > len)
                return false;
        v6 = memchr(text + pos, ':', n);
        if (pos > 0 && in_token(text, len, pos - 1))
                return false;
        if (pos + n < len && in_token(text, len, pos + n))
                return false;
        if (v6 && pos > 1 && text[pos - 1] == ':' && is_v6_char(text[pos - 2]))
                return false;
        if (v6 && pos + n + 1 < len && text[pos + n] == ':' && is_v6_char(text[pos + n + 1]))
                return false;
        return true;
}

int token_replace(const char *text, size_t len, const char *from, const char *to, char **ret,
                  size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t n = strlen(from), m = strlen(to), size = 0, done = 0;
        int count = 0;
        FILE *f;

        assert(ret);
        *ret = NULL;
        if (n == 0 || len < n)
                return 0;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i + n <= len;) {
                if (memcmp(text + i, from, n) == 0 && token_is_whole(text, len, i, n)) {
                        fwrite(text + done, 1, i - done, f);
                        fwrite(to, 1, m, f);
                        i += n;
                        done = i;
                        count++;
                } else
                        i++;
        }
        fwrite(text + done, 1, len - done, f);
        if (fclose(f) != 0)
                return -ENOMEM;
        if (count == 0)
                return 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = size;
        return count;
}

int machine_id_to_uuid(const char *id, char ret[static 37]) {
        if (!machine_id_is_valid(id))
                return -EINVAL;
        snprintf(ret, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12, id + 16, id + 20);
        return 0;
}

/* The parent directory of path inside root (O_PATH), and the last
 * component. create: make missing parents (0755). */
static int open_parent(int root_fd, const char *path, bool create, int *ret_fd,
                       const char **ret_name) {
        _cleanup_free_ char *dir = NULL;
        const char *slash = strrchr(path, '/');
        int fd, r;

        assert(path_is_absolute(path) && slash && slash[1]);
        dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
        if (!dir)
                return -ENOMEM;
        if (create) {
                r = mkdir_p_in_root(root_fd, dir, 0755, &fd, NULL);
                if (r < 0)
                        return r;
        } else {
                fd = openat_in_root(root_fd, path_relative(dir), O_PATH | O_DIRECTORY, 0);
                if (fd < 0)
                        return fd;
        }
        *ret_fd = fd;
        *ret_name = slash + 1;
        return 0;
}

/* Reads a regular file at path inside root without following a symlink in
 * its last component. -ENOENT if absent, -EBADFD if not a regular file. */
static int read_in_root(int root_fd, const char *path, char **ret, size_t *ret_len) {
        _cleanup_close_ int dir = -EBADF;
        const char *name;
        int r;

        r = open_parent(root_fd, path, false, &dir, &name);
        if (r < 0)
                return r;
        r = read_file_at(dir, name, ret, ret_len, FILE_MAX);
        /* read_file_at() opens with O_NOFOLLOW: a symlink gives ELOOP. */
        return r == -ELOOP ? -EBADFD : r;
}

/* Replaces the entry at path inside root with a new regular file. */
static int replace_in_root(int root_fd, bool sync, const char *path, const char *data, size_t len,
                           mode_t mode) {
        _cleanup_close_ int dir = -EBADF;
        const char *name;
        struct stat st;
        int r;

        r = open_parent(root_fd, path, true, &dir, &name);
        if (r < 0)
                return log_error_errno(r, "personalize: cannot open the directory of %s: %m", path);
        /* A directory there is the guest's business, not a file to replace. */
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
                return log_error_errno(EISDIR, "personalize: cannot write %s: %m", path);
        r = sync ? write_file_atomic_at(dir, name, data, len, mode)
                 : write_file_replace_at(dir, name, data, len, mode);
        if (r < 0)
                return log_error_errno(r, "personalize: cannot write %s: %m", path);
        return 0;
}

static bool exists_in_root(int root_fd, const char *path) {
        _cleanup_close_ int fd = openat_in_root(root_fd, path_relative(path), O_PATH, 0);
        return fd >= 0;
}

bool personalize_uses_systemd(int root_fd) {
        return exists_in_root(root_fd, "/usr/lib/systemd/systemd") ||
               exists_in_root(root_fd, "/lib/systemd/systemd");
}

/* "web1" for "web1.example.com". */
static char *short_hostname(const char *h) {
        return strndup(h, strcspn(h, "."));
}

static int write_hostname(int root_fd, bool sync, const Identity *id) {
        _cleanup_free_ char *text = strjoin(id->hostname, "\n");

        if (!text)
                return log_oom();
        return replace_in_root(root_fd, sync, "/etc/hostname", text, strlen(text), 0644);
}

/* Drops the lines goldroot added earlier (marked), then adds the entry. */
static int write_hosts(int root_fd, bool sync, const Identity *id) {
        _cleanup_free_ char *old = NULL, *buf = NULL, *addr = NULL, *shortname = NULL;
        size_t len = 0, size = 0;
        FILE *f;
        int r;

        r = read_in_root(root_fd, "/etc/hosts", &old, &len);
        /* A symlink or a special file there is replaced, never followed. */
        if (r == -ENOENT || r == -EBADFD) {
                old = strdup("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
                if (!old)
                        return log_oom();
                len = strlen(old);
        } else if (r < 0)
                return log_error_errno(r, "personalize: cannot read /etc/hosts: %m");

        addr = id->ip ? address_strip_prefix(id->ip) : strdup("127.0.1.1");
        shortname = short_hostname(id->hostname);
        if (!addr || !shortname)
                return log_oom();
        f = open_memstream(&buf, &size);
        if (!f)
                return log_oom();
        for (const char *p = old; p < old + len;) {
                const char *nl = memchr(p, '\n', old + len - p);
                size_t n = nl ? (size_t)(nl - p) : (size_t)(old + len - p);

                if (!(n >= strlen(HOSTS_MARK) &&
                      memcmp(p + n - strlen(HOSTS_MARK), HOSTS_MARK, strlen(HOSTS_MARK)) == 0))
                        fprintf(f, "%.*s\n", (int)n, p);
                p += n + 1;
        }
        if (streq(shortname, id->hostname))
                fprintf(f, "%s\t%s\t" HOSTS_MARK "\n", addr, id->hostname);
        else
                fprintf(f, "%s\t%s %s\t" HOSTS_MARK "\n", addr, id->hostname, shortname);
        if (fclose(f) != 0)
                return log_oom();
        return replace_in_root(root_fd, sync, "/etc/hosts", buf, size, 0644);
}

/* machine-id(5): an image's own id must never be shared, so a valid id (or
 * an empty file, which systemd would fill) is replaced by the instance's.
 * "uninitialized", or no file in a systemd image, means first-boot
 * semantics: the file is left for systemd, which takes the instance's id
 * from $container_uuid (set by the caller) and commits it itself. */
static int write_machine_id(int root_fd, bool sync, const Identity *id) {
        _cleanup_free_ char *old = NULL, *text = NULL;
        size_t len = 0;
        int r;

        r = read_in_root(root_fd, "/etc/machine-id", &old, &len);
        /* systemd's first-boot marker, for systemd alone: any other init
         * would keep it as the id of every instance. */
        if (r >= 0 && strncmp(old, "uninitialized", 13) == 0 &&
            (len == 13 || (len == 14 && old[13] == '\n')) && personalize_uses_systemd(root_fd))
                return 0;
        if (r == -ENOENT && personalize_uses_systemd(root_fd))
                return 0;
        if (r < 0 && r != -ENOENT && r != -EBADFD)
                return log_error_errno(r, "personalize: cannot read /etc/machine-id: %m");

        text = strjoin(id->machine_id, "\n");
        if (!text)
                return log_oom();
        r = replace_in_root(root_fd, sync, "/etc/machine-id", text, strlen(text), 0444);
        if (r < 0)
                return r;
        /* D-Bus keeps its own copy in older images; a symlink to
         * /etc/machine-id is left as it is. */
        free(old);
        old = NULL;
        if (read_in_root(root_fd, "/var/lib/dbus/machine-id", &old, &len) >= 0)
                r = replace_in_root(root_fd, sync, "/var/lib/dbus/machine-id", text, strlen(text),
                                    0444);
        return r;
}

static int write_network(int root_fd, bool sync, const Identity *id) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        if (id->dns) {
                f = open_memstream(&buf, &size);
                if (!f)
                        return log_oom();
                fprintf(f, "# written by goldroot personalize\n");
                for (size_t i = 0; id->dns[i]; i++)
                        fprintf(f, "nameserver %s\n", id->dns[i]);
                if (fclose(f) != 0)
                        return log_oom();
                r = replace_in_root(root_fd, sync, "/etc/resolv.conf", buf, size, 0644);
                if (r < 0)
                        return r;
                free(TAKE_PTR(buf));
        }
        if (!id->ip)
                return 0;

        /* ifupdown: the image has its configuration file or its tools. */
        if (exists_in_root(root_fd, "/etc/network/interfaces") ||
            exists_in_root(root_fd, "/sbin/ifup") || exists_in_root(root_fd, "/usr/sbin/ifup")) {
                f = open_memstream(&buf, &size);
                if (!f)
                        return log_oom();
                /* inet is IPv4 only: ifupdown would hand an IPv6 address to
                 * the IPv4 commands. */
                fprintf(f,
                        "# written by goldroot personalize\n"
                        "auto lo\niface lo inet loopback\n\n"
                        "auto eth0\niface eth0 %s static\n\taddress %s\n",
                        strchr(id->ip, ':') ? "inet6" : "inet", id->ip);
                if (id->gateway)
                        fprintf(f, "\tgateway %s\n", id->gateway);
                if (id->dns) {
                        fprintf(f, "\tdns-nameservers");
                        for (size_t i = 0; id->dns[i]; i++)
                                fprintf(f, " %s", id->dns[i]);
                        fprintf(f, "\n");
                }
                if (exists_in_root(root_fd, "/etc/network/interfaces.d"))
                        fprintf(f, "\nsource /etc/network/interfaces.d/*\n");
                if (fclose(f) != 0)
                        return log_oom();
                r = replace_in_root(root_fd, sync, "/etc/network/interfaces", buf, size, 0644);
                if (r < 0)
                        return r;
                free(TAKE_PTR(buf));
        }

        /* systemd-networkd: the image has the daemon. */
        if (exists_in_root(root_fd, "/usr/lib/systemd/systemd-networkd") ||
            exists_in_root(root_fd, "/lib/systemd/systemd-networkd")) {
                f = open_memstream(&buf, &size);
                if (!f)
                        return log_oom();
                fprintf(f,
                        "# written by goldroot personalize\n"
                        "[Match]\nName=eth0\n\n[Network]\nAddress=%s\n",
                        id->ip);
                if (id->gateway)
                        fprintf(f, "Gateway=%s\n", id->gateway);
                for (size_t i = 0; id->dns && id->dns[i]; i++)
                        fprintf(f, "DNS=%s\n", id->dns[i]);
                if (fclose(f) != 0)
                        return log_oom();
                r = replace_in_root(root_fd, sync, "/etc/systemd/network/80-goldroot-eth0.network",
                                    buf, size, 0644);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int rewrite_file(int root_fd, bool sync, const char *path, const char *const from[2],
                        const char *const to[2]) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int dir = -EBADF;
        const char *name;
        size_t len = 0;
        bool changed = false;
        struct stat st;
        int r;

        r = read_in_root(root_fd, path, &text, &len);
        if (r == -ENOENT || r == -EBADFD || r == -EFBIG || r == -EISDIR || r == -ENOTDIR)
                return 0; /* absent, a symlink or not a plain file: nothing to do */
        if (r < 0)
                return log_error_errno(r, "personalize: cannot read %s: %m", path);
        for (size_t k = 0; k < 2; k++) {
                char *out = NULL;
                size_t out_len = 0;

                if (!from[k] || !to[k] || streq(from[k], to[k]))
                        continue;
                r = token_replace(text, len, from[k], to[k], &out, &out_len);
                if (r < 0)
                        return log_oom();
                if (r == 0)
                        continue;
                free(text);
                text = out;
                len = out_len;
                changed = true;
        }
        if (!changed)
                return 0;
        /* Keep the file's mode and owner. */
        r = open_parent(root_fd, path, false, &dir, &name);
        if (r < 0 || fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return log_error_errno(r < 0 ? r : errno, "personalize: cannot stat %s: %m", path);
        r = sync ? write_file_atomic_at(dir, name, text, len, st.st_mode & 07777)
                 : write_file_replace_at(dir, name, text, len, st.st_mode & 07777);
        if (r < 0 || fchownat(dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return log_error_errno(r < 0 ? r : errno, "personalize: cannot rewrite %s: %m",
                                       path);
        return 0;
}

int personalize_files(int root_fd, const PersonalizeContext *c) {
        _cleanup_free_ char *image_addr = NULL, *addr = NULL;
        const char *const *rewrite;
        bool sync = !c->no_sync;
        int r;

        assert(root_fd >= 0);
        assert(c && c->id);

        /* The rewrite first: it replaces the image's identity wherever the
         * image wrote it, and what follows then owns the standard files. */
        image_addr = address_strip_prefix(c->image_address);
        addr = address_strip_prefix(c->id->ip);
        rewrite = c->rewrite ? (const char *const *)c->rewrite : personalize_default_rewrite;
        if (c->image_hostname || image_addr)
                for (size_t i = 0; rewrite[i]; i++) {
                        r = rewrite_file(root_fd, sync, rewrite[i],
                                         (const char *const[]){c->image_hostname, image_addr},
                                         (const char *const[]){c->id->hostname, addr});
                        if (r < 0)
                                return r;
                }

        r = write_hostname(root_fd, sync, c->id);
        if (r >= 0)
                r = write_hosts(root_fd, sync, c->id);
        if (r >= 0)
                r = write_machine_id(root_fd, sync, c->id);
        if (r >= 0)
                r = write_network(root_fd, sync, c->id);
        return r;
}

void personalize_programs_free(char ***l) {
        for (size_t i = 0; l && l[i]; i++)
                strv_free(l[i]);
        free(l);
}

static int programs_add(char ****l, size_t *n, char **argv) {
        char ***t = realloc(*l, sizeof(char **) * (*n + 2));

        if (!t) {
                strv_free(argv);
                return -ENOMEM;
        }
        t[(*n)++] = argv;
        t[*n] = NULL;
        *l = t;
        return 0;
}

/* An executable regular file at path inside root, without following a
 * symlink in the last component... except that ssh-keygen and hooks may be
 * symlinks to their binaries, so those are resolved in-root. */
static bool executable_in_root(int root_fd, const char *path) {
        _cleanup_close_ int fd = openat_in_root(root_fd, path_relative(path), O_PATH, 0);
        struct stat st;

        return fd >= 0 && fstat(fd, &st) >= 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

int personalize_programs(int root_fd, char ****ret) {
        _cleanup_strv_free_ char **hooks = NULL;
        char ***l = NULL;
        size_t n = 0;
        DIR *d = NULL;
        struct dirent *de;
        int fd, r;

        assert(ret);
        l = calloc(1, sizeof(char **));
        if (!l)
                return -ENOMEM;

        if (executable_in_root(root_fd, "/usr/bin/ssh-keygen")) {
                char **argv = NULL;
                if (strv_extend(&argv, "/usr/bin/ssh-keygen") < 0 || strv_extend(&argv, "-A") < 0) {
                        strv_free(argv);
                        r = -ENOMEM;
                        goto fail;
                }
                r = programs_add(&l, &n, argv);
                if (r < 0)
                        goto fail;
        }

        fd = openat_in_root(root_fd, path_relative(FIRSTBOOT_DIR), O_RDONLY | O_DIRECTORY, 0);
        if (fd >= 0) {
                d = fdopendir(fd);
                if (!d) {
                        safe_close(fd);
                        r = -errno;
                        goto fail;
                }
                while ((de = readdir(d))) {
                        _cleanup_free_ char *p = NULL;

                        if (de->d_name[0] == '.')
                                continue;
                        p = path_join(FIRSTBOOT_DIR, de->d_name);
                        if (!p) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        if (executable_in_root(root_fd, p) &&
                            strv_consume(&hooks, TAKE_PTR(p)) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                }
                closedir(d);
                d = NULL;
        } else if (fd != -ENOENT && fd != -ENOTDIR) {
                r = fd;
                goto fail;
        }
        if (hooks)
                qsort(hooks, strv_length(hooks), sizeof(char *), strv_compare_entries);
        for (size_t i = 0; hooks && hooks[i]; i++) {
                char **argv = NULL;
                if (strv_extend(&argv, hooks[i]) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = programs_add(&l, &n, argv);
                if (r < 0)
                        goto fail;
        }
        *ret = l;
        return 0;
fail:
        if (d)
                closedir(d);
        personalize_programs_free(l);
        return r;
}
