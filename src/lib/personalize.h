/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * personalize: the first-start identity work (the seeds' boot.findself and
 * rc.finalize) done on an assembled instance root.
 *
 * personalize_files() writes through the root's fd only: every path is
 * resolved with RESOLVE_IN_ROOT and every file goldroot writes replaces the
 * directory entry (a temporary file and a rename), so a symlink the guest
 * planted at /etc/hostname is replaced, never followed out of the root or
 * onto another of its files. personalize_programs() lists what must run
 * inside the instance afterwards (ssh-keygen -A, firstboot.d hooks); the
 * caller runs them (instance-run.c).
 */
#pragma once

#include "identity.h"

#include <stdbool.h>
#include <stddef.h>

/* The files rewritten when the profile has no `set rewrite`. */
extern const char *const personalize_default_rewrite[];

typedef struct PersonalizeContext {
        const Identity *id;
        /* The image's recorded identity (catalog images.hostname/address, set by
         * commit), replaced by the instance's; NULL: nothing to replace. */
        const char *image_hostname;
        const char *image_address;
        char *const *rewrite; /* absolute paths; NULL: personalize_default_rewrite */
        /* A throwaway instance (run --rm): write without fsync. Otherwise each
         * file is durable before the marker that says personalization is done. */
        bool no_sync;
} PersonalizeContext;

/* Writes /etc/hostname, the /etc/hosts entry, the machine id, the network
 * configuration (ifupdown, systemd-networkd, resolv.conf) and does the token
 * rewrite, all inside root_fd. Logs one line and returns -errno on failure. */
int personalize_files(int root_fd, const PersonalizeContext *c);

/* The commands to run inside the instance, each a NULL-terminated argv, in
 * order: "ssh-keygen -A" if the tree has openssh's ssh-keygen, then every
 * executable regular file in /etc/goldroot/firstboot.d/ by name (dot files
 * skipped). *ret is a NULL-terminated array; free with personalize_programs_free(). */
int personalize_programs(int root_fd, char ****ret);
void personalize_programs_free(char ***l);

/* Whether the image boots with systemd (for the machine-id rules). */
bool personalize_uses_systemd(int root_fd);

/* The machine id as a UUID (8-4-4-4-12), for $container_uuid. */
int machine_id_to_uuid(const char *id, char ret[static 37]);

/* Whole-token replacement: a token is a run of [A-Za-z0-9_-] and of dots
 * between such characters, so "10.0.0.1" matches in "10.0.0.1/24" and at the
 * end of a sentence, but not in "10.0.0.12", "110.0.0.1" or "gold.example".
 * Returns the number of replacements (0: *ret is NULL), or -ENOMEM. */
int token_replace(const char *text, size_t len, const char *from, const char *to, char **ret,
                  size_t *ret_len);
/* Whether text[pos..pos+n) is a whole token by that rule. */
bool token_is_whole(const char *text, size_t len, size_t pos, size_t n);
