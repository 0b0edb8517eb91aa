/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * merge-report: names of policies and outcomes, and the report and diff in
 * human and JSON form. There is no shared JSON module yet, so strings are
 * escaped here (RFC 8259: quote, backslash and control characters).
 */
#include "merge-internal.h"
#include "util.h"

static const char *const policy_names[_MERGE_POLICY_MAX] = {
        [MERGE_POLICY_KEEP_LOCAL] = "keep-local",
        [MERGE_POLICY_MERGE] = "merge",
        [MERGE_POLICY_THEIRS] = "theirs",
};

const char *merge_policy_to_string(MergePolicy p) {
        return p >= 0 && p < _MERGE_POLICY_MAX ? policy_names[p] : NULL;
}

int merge_policy_from_string(const char *s) {
        for (int i = 0; s && i < _MERGE_POLICY_MAX; i++)
                if (streq(s, policy_names[i]))
                        return i;
        return -EINVAL;
}

static const char *const outcome_names[_MERGE_OUTCOME_MAX] = {
        [MERGE_KEEP] = "keep",
        [MERGE_DROP] = "drop",
        [MERGE_DELETED] = "deleted",
        [MERGE_CARRY] = "carry",
        [MERGE_MERGED] = "merged",
        [MERGE_CONFLICT_LOCAL] = "conflict-keep-local",
        [MERGE_CONFLICT_THEIRS] = "conflict-theirs",
        [MERGE_CONFLICT_DELETED] = "conflict-deleted",
        [MERGE_RESTORED] = "restored",
        [MERGE_TYPE_CONFLICT] = "type-conflict",
};

const char *merge_outcome_to_string(MergeOutcome o) {
        return o >= 0 && o < _MERGE_OUTCOME_MAX ? outcome_names[o] : NULL;
}

bool merge_outcome_is_conflict(MergeOutcome o) {
        return o == MERGE_CONFLICT_LOCAL || o == MERGE_CONFLICT_THEIRS ||
               o == MERGE_CONFLICT_DELETED || o == MERGE_RESTORED || o == MERGE_TYPE_CONFLICT;
}

static void print_conflict(const MergeEntry *e, FILE *f) {
        switch (e->outcome) {
        case MERGE_CONFLICT_LOCAL:
                fprintf(f, "conflict %s: kept local", e->path);
                if (e->side_path)
                        fprintf(f, ", theirs in %s", e->side_path);
                if (e->hunks > 0)
                        fprintf(f, " (%s: %u conflicting hunk%s)\n", e->reason, e->hunks,
                                e->hunks == 1 ? "" : "s");
                else
                        fprintf(f, " (%s)\n", e->reason);
                break;
        case MERGE_CONFLICT_THEIRS:
                fprintf(f, "conflict %s: took theirs", e->path);
                if (e->side_path)
                        fprintf(f, ", local saved as %s", e->side_path);
                fprintf(f, " (%s)\n", e->reason);
                break;
        case MERGE_CONFLICT_DELETED:
                fprintf(f, "conflict %s: %s; stays deleted\n", e->path, e->reason);
                break;
        case MERGE_RESTORED:
                fprintf(f, "conflict %s: %s; restored from the image\n", e->path, e->reason);
                break;
        case MERGE_TYPE_CONFLICT:
                fprintf(f, "conflict %s: type conflict, local %s, image %s (%s)\n", e->path,
                        merge_node_type_to_string(e->ours_type),
                        merge_node_type_to_string(e->theirs_type), e->reason);
                break;
        default:
                break;
        }
}

int merge_report_print(const MergeReport *r, FILE *f) {
        assert(r);
        assert(f);
        for (size_t i = 0; i < r->n_entries; i++) {
                const MergeEntry *e = &r->entries[i];

                if (merge_outcome_is_conflict(e->outcome))
                        print_conflict(e, f);
                else
                        fprintf(f, "%s %s (%s)\n", merge_outcome_to_string(e->outcome), e->path,
                                e->reason);
        }
        return ferror(f) ? -EIO : 0;
}

static void json_string(FILE *f, const char *s) {
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p == '\t')
                        fputs("\\t", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

int merge_report_print_json(const MergeReport *r, FILE *f) {
        assert(r);
        assert(f);
        fputs("{\"policy\":", f);
        json_string(f, merge_policy_to_string(r->policy));
        fprintf(f, ",\"blocked\":%s,\"conflicts\":%zu,\"type_conflicts\":%zu,\"entries\":[",
                merge_report_blocked(r) ? "true" : "false", r->n_conflicts, r->n_type_conflicts);
        for (size_t i = 0; i < r->n_entries; i++) {
                const MergeEntry *e = &r->entries[i];

                fputs(i ? ",{\"path\":" : "{\"path\":", f);
                json_string(f, e->path);
                fputs(",\"outcome\":", f);
                json_string(f, merge_outcome_to_string(e->outcome));
                fprintf(f, ",\"conflict\":%s,\"reason\":",
                        merge_outcome_is_conflict(e->outcome) ? "true" : "false");
                json_string(f, e->reason);
                fputs(",\"side\":", f);
                json_string(f, e->side_path);
                if (e->hunks > 0)
                        fprintf(f, ",\"hunks\":%u", e->hunks);
                if (e->outcome == MERGE_TYPE_CONFLICT) {
                        fputs(",\"local_type\":", f);
                        json_string(f, merge_node_type_to_string(e->ours_type));
                        fputs(",\"image_type\":", f);
                        json_string(f, merge_node_type_to_string(e->theirs_type));
                }
                fputc('}', f);
        }
        fputs("]}\n", f);
        return ferror(f) ? -EIO : 0;
}

static const char change_letters[_MERGE_CHANGE_MAX] = {
        [MERGE_CHANGE_ADDED] = 'A',
        [MERGE_CHANGE_MODIFIED] = 'M',
        [MERGE_CHANGE_METADATA] = 'm',
        [MERGE_CHANGE_DELETED] = 'D',
};

static const char *const change_names[_MERGE_CHANGE_MAX] = {
        [MERGE_CHANGE_ADDED] = "added",
        [MERGE_CHANGE_MODIFIED] = "modified",
        [MERGE_CHANGE_METADATA] = "metadata",
        [MERGE_CHANGE_DELETED] = "deleted",
};

int merge_diff_print(const MergeDiff *d, FILE *f) {
        assert(d);
        assert(f);
        for (size_t i = 0; i < d->n_entries; i++)
                fprintf(f, "%c %s\n", change_letters[d->entries[i].change], d->entries[i].path);
        return ferror(f) ? -EIO : 0;
}

int merge_diff_print_json(const MergeDiff *d, FILE *f) {
        assert(d);
        assert(f);
        fputc('[', f);
        for (size_t i = 0; i < d->n_entries; i++) {
                fputs(i ? ",{\"path\":" : "{\"path\":", f);
                json_string(f, d->entries[i].path);
                fprintf(f, ",\"change\":\"%s\",\"code\":\"%c\"}",
                        change_names[d->entries[i].change], change_letters[d->entries[i].change]);
        }
        fputs("]\n", f);
        return ferror(f) ? -EIO : 0;
}
