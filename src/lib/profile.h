/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * profile: the mount profile language (DESIGN.md §4), text to validated spec.
 *
 * A ProfileSet holds the main profile (with its includes merged in) and every
 * other profile that a FILE:ENTRY source or after= names, each parsed and
 * validated once. Placeholders (%n %h %i) are checked here but expanded by the
 * planner, which knows the instance.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "util.h"

typedef struct Location {
        const char *file; /* owned by the ProfileSet */
        unsigned line;
        unsigned col; /* 1-based, in bytes */
} Location;

typedef enum EntryType {
        ENTRY_IMAGE,
        ENTRY_BIND,
        ENTRY_OVERLAY,
        ENTRY_TMPFS,
        ENTRY_LOOP,
        ENTRY_DEV,
        _ENTRY_TYPE_MAX,
} EntryType;

typedef enum SourceKind {
        SOURCE_NONE,   /* "-" */
        SOURCE_IMAGE,  /* image:PATH, inside the linked image */
        SOURCE_STATE,  /* state:PATH, inside the instance's state */
        SOURCE_HOST,   /* /absolute/host/path */
        SOURCE_REF,    /* FILE:ENTRY[/SUBPATH], a shared entry of another profile */
        SOURCE_DEVTAG, /* UUID=... or LABEL=... (dev entries) */
        SOURCE_TMPFS,  /* upper=tmpfs: a throw-away upper layer */
        SOURCE_ENTRY,  /* @ENTRY[/SUBPATH], an entry of the same profile */
        _SOURCE_KIND_MAX,
} SourceKind;

struct Entry;

typedef struct Source {
        SourceKind kind;
        /* IMAGE, STATE: normalized absolute path inside the tree ("/etc").
         * HOST: normalized absolute path. REF: SUBPATH, "" when absent.
         * ENTRY: SUBPATH as an absolute path in that entry's mount, "/" when
         * absent. DEVTAG: the tag as written. May hold placeholders. */
        char *path;
        char *ref_file;          /* REF: profile name as written ("logs") */
        char *ref_entry;         /* REF, ENTRY: entry name */
        const struct Entry *ref; /* REF, ENTRY: resolved entry (not owned) */
        Location loc;
        char *raw; /* the field as written, so errors can point into it */
} Source;

enum {
        ENTRY_RO = 1u << 0,
        ENTRY_RW = 1u << 1,
        ENTRY_CREATE = 1u << 2,
        ENTRY_COPY = 1u << 3,
        ENTRY_OPTIONAL = 1u << 4,
        ENTRY_NOSUID = 1u << 5,
        ENTRY_NODEV = 1u << 6,
        ENTRY_NOEXEC = 1u << 7,
        ENTRY_HAS_SIZE = 1u << 8,
        ENTRY_HAS_MODE = 1u << 9,
        ENTRY_HAS_UID = 1u << 10,
        ENTRY_HAS_GID = 1u << 11,
        ENTRY_HAS_UPPER = 1u << 12,
};

typedef struct After {
        char *ref_file; /* NULL for an entry of the same profile */
        char *ref_entry;
        const struct Entry *ref; /* resolved (not owned) */
        Location loc;
} After;

struct Profile;

typedef struct Entry {
        char *name;
        EntryType type;
        Source source;
        char *target; /* normalized absolute path; may hold placeholders. NULL if aside */
        /* TARGET "-": mounted but never attached in the tree; only @ENTRY
         * sources of the same profile reach it. */
        bool aside;
        unsigned flags;
        uint64_t size;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        Source upper; /* ENTRY_HAS_UPPER: STATE, HOST or TMPFS */
        After *after;
        size_t n_after;
        const struct Profile *profile; /* the profile the entry belongs to */
        size_t index;                  /* position in that profile, file order */
        Location loc;                  /* of the name */
        Location target_loc;
        char *target_raw; /* TARGET as written (see Source.raw) */
        Location rw_loc;  /* of the rw option, when given */
} Entry;

typedef struct Profile {
        char *path;      /* the file as found on the search path */
        char *name;      /* basename without ".profile": what FILE in FILE:ENTRY matches */
        Entry **entries; /* file order, includes spliced in where they appear */
        size_t n_entries;
        /* Extra settings for later issues ("set KEY VALUE" lines), NULL-terminated
         * key/value pairs. */
        char **settings;
        bool shared; /* loaded for a FILE:ENTRY or after=FILE:ENTRY, not the main profile */
        /* name -> index, and target -> index of the entries with a target */
        StrMap by_name, by_target;
} Profile;

typedef struct ProfileSet {
        Profile **profiles; /* [0] is the main profile */
        size_t n_profiles;
        char **search_path; /* directories, in lookup order */
        char **files;       /* every file read, owns Location.file strings */
} ProfileSet;

/* Loads path (a profile file) and everything it includes or refers to. Profile
 * names in include lines and FILE:ENTRY references are looked up in the
 * including file's directory, then in each search_path directory, first as
 * NAME then as NAME.profile. Logs one FILE:LINE:COL line and returns -EBADMSG
 * on any error in the text; -errno if a file cannot be read. */
int profile_set_load(const char *path, char *const *search_path, ProfileSet **ret);
/* Same, from text in memory (for tests and fuzzing); name is used in messages
 * and relative includes resolve against search_path only. */
int profile_set_load_string(const char *name, const char *text, char *const *search_path,
                            ProfileSet **ret);
ProfileSet *profile_set_free(ProfileSet *set);
static inline void profile_set_freep(ProfileSet **s) {
        if (*s)
                profile_set_free(*s);
}

/* Finds an entry of the main profile by name. */
const Entry *profile_set_find(const ProfileSet *set, const char *name);
/* Finds an entry of profile p by name. */
const Entry *profile_find_entry(const Profile *p, const char *name);
/* The value of a "set KEY ..." line in p (the last one wins), or NULL. */
const char *profile_get_setting(const Profile *p, const char *key);

/* The search path the command line uses: the profile's own directory, then
 * $GOLDROOT_PROFILE_DIR or /etc/goldroot/profiles, then the built-in profiles. */
int profile_default_search_path(const char *profile_path, char ***ret);

/* The file a --profile argument names: arg itself if it holds a '/' or is an
 * existing file; otherwise a name, looked up as NAME then NAME.profile in the
 * current directory and then along profile_default_search_path(NULL). Logs and
 * returns -ENOENT when there is none. */
int profile_find(const char *arg, char **ret);

/* "web" for ".../web.profile": the name FILE:ENTRY references match. */
char *profile_name_from_path(const char *path);

const char *entry_type_to_string(EntryType t);
/* Logs, at the rw option, that it was given on an entry that shows the image,
 * which is never writable. Returns -EINVAL. */
int profile_error_rw_on_image(const Location *at);
/* "name" for main-profile entries, "file:name" for others. */
int entry_qualified_name(const Entry *e, char **ret);

/* Expands %n %h %i and %% in s. A placeholder without a value is -ENXIO, and
 * *ret_missing names it. */
typedef struct Placeholders {
        const char *name;     /* %n */
        const char *hostname; /* %h */
        const char *image_id; /* %i */
} Placeholders;
int placeholders_expand(const char *s, const Placeholders *p, char **ret, char *ret_missing);
/* Where the first use of placeholder %c lies in raw (a field as written at
 * loc), so an error can point at it; loc itself when it is not found. */
Location placeholder_location(const Location *loc, const char *raw, char c);
