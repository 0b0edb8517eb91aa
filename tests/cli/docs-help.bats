#!/usr/bin/env bats
# The man pages against the command line: every verb (as `goldroot --help`
# lists them, so a new verb without a page fails here) and every image
# subcommand has a section "## goldroot VERB" in exactly one page of docs/,
# and the options its --help lists are exactly the options that section
# documents. The pages are all built and installed, and render without
# warnings.
load ../lib/common

SRC=$BATS_TEST_DIRNAME/../..

# The verbs, from the "Commands:" block of `goldroot --help`.
verbs() {
        "$GOLDROOT" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p'
}

# The image subcommands, from the synopses of `goldroot image --help`.
image_commands() {
        "$GOLDROOT" image --help | sed -n 's/^  goldroot image \([a-z][a-z0-9-]*\).*/\1/p'
}

# The options a --help lists: the "  -x, --long ARG  text" lines, without
# -h/--help, which every command takes (goldroot(1) documents it). Sorted.
help_options() {
        "$GOLDROOT" "$@" --help | grep '^  -' | sed 's/^  //; s/  .*//' |
                grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | tr -d ' ,' |
                grep -vxE -- '-h|--help' | sort -u
}

# The page that documents "goldroot WORDS...": the one docs/*.scd with the
# heading "## goldroot WORDS". Fails unless exactly one page has it.
page_of() {
        local heading="## goldroot $*" pages
        pages=$(grep -lxF -- "$heading" "$SRC"/docs/*.scd || true)
        if [ -z "$pages" ] || [ "$(wc -l <<<"$pages")" -ne 1 ]; then
                echo "'$heading' is in ${pages:-no page}" >&2
                return 1
        fi
        echo "$pages"
}

# The options a section of a page defines: its lines that start with an
# option in bold ("*-f*, *--force*"), up to the next heading. Sorted.
section_options() {
        local page=$1 heading=$2
        awk -v h="$heading" '$0 == h { on = 1; next } on && /^#/ { exit } on' "$page" |
                grep '^\*-' | grep -oE '\*--?[A-Za-z][A-Za-z0-9-]*\*' | tr -d '*' |
                grep -vxE -- '-h|--help' | sort -u
}

# Compares what --help lists for "goldroot WORDS" with its man section.
check_command() {
        local page h m
        page=$(page_of "$@") || return 1
        h=$(help_options "$@")
        m=$(section_options "$page" "## goldroot $*")
        if [ "$h" != "$m" ]; then
                echo "goldroot $*: --help and $(basename "$page") differ (< --help, > man):" >&2
                diff <(echo "$h") <(echo "$m") >&2 || true
                return 1
        fi
}

@test "every verb's --help lists the options its man page documents, and no other" {
        local v n=0 bad=0
        for v in $(verbs); do
                [ "$v" = image ] && continue
                check_command "$v" || bad=$((bad + 1))
                n=$((n + 1))
        done
        # The list itself came out of --help: a broken parse is no pass.
        [ "$n" -ge 16 ]
        [ "$bad" -eq 0 ]
}

@test "every image subcommand's --help matches its man page section" {
        local c n=0 bad=0
        for c in $(image_commands); do
                check_command image "$c" || bad=$((bad + 1))
                n=$((n + 1))
        done
        [ "$n" -ge 11 ]
        [ "$bad" -eq 0 ]
}

@test "an option missing from a page is caught" {
        # The comparison itself, on a made-up page: --force documented,
        # --again not; and a prose mention does not count as documented.
        cat >"$BATS_TEST_TMPDIR/x.scd" <<'EOF'
## goldroot frob

Use *--again* in prose.

*-f*, *--force*
	Text.

## goldroot other

*--again*
EOF
        run section_options "$BATS_TEST_TMPDIR/x.scd" "## goldroot frob"
        [ "$output" = "$(printf -- '--force\n-f')" ]
}

@test "the global options of goldroot --help are goldroot(1)'s" {
        local h m
        h=$("$GOLDROOT" --help | sed -n '/^Options:/,$p' | grep '^  -' | sed 's/^  //; s/  .*//' |
                grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | tr -d ' ,' | sort -u)
        m=$(awk '$0 == "# GLOBAL OPTIONS" { on = 1; next } on && /^#/ { exit } on' \
                "$SRC/docs/goldroot.1.scd" | grep '^\*-' |
                grep -oE '\*--?[A-Za-z][A-Za-z0-9-]*\*' | tr -d '*' | sort -u)
        [ -n "$h" ]
        [ "$h" = "$m" ]
}

@test "goldroot(1) names every verb and image subcommand" {
        local v n=0
        while read -r v; do
                [ "$v" = image ] && continue
                grep -qF "*$v*" "$SRC/docs/goldroot.1.scd" || {
                        echo "goldroot(1) does not name $v" >&2
                        return 1
                }
                n=$((n + 1))
        done < <(verbs; image_commands | sed 's/^/image /')
        [ "$n" -ge 27 ]
}

@test "every page in docs/ is built, and renders without warnings" {
        local src page out built=0
        build=$(dirname "$GOLDROOT")
        for src in "$SRC"/docs/*.scd; do
                page=$(basename "$src" .scd)
                grep -qF "'$page'," "$SRC/meson.build" || {
                        echo "$page is not in meson.build's man_pages" >&2
                        return 1
                }
                [ -s "$build/$page" ] || {
                        echo "$build/$page was not built" >&2
                        return 1
                }
                out=$(MANWIDTH=80 man -l --warnings "$build/$page" 2>&1 >/dev/null)
                [ -z "$out" ] || {
                        echo "$page: $out" >&2
                        return 1
                }
                # The page renders to text at all (man exits 0 on an empty one).
                [ "$(MANWIDTH=80 man -l "$build/$page" 2>/dev/null | grep -c .)" -gt 10 ]
                built=$((built + 1))
        done
        [ "$built" -ge 8 ]
}

@test "make install installs every page and the bash completion" {
        local build dest src page
        build=$(dirname "$GOLDROOT")
        dest=$BATS_TEST_TMPDIR/dest
        DESTDIR=$dest meson install -C "$build" --no-rebuild >/dev/null
        for src in "$SRC"/docs/*.scd; do
                page=$(basename "$src" .scd)
                [ -n "$(find "$dest" -path "*/share/man/man${page##*.}/$page")" ] || {
                        echo "$page is not installed" >&2
                        return 1
                }
        done
        [ -n "$(find "$dest" -path '*/share/bash-completion/completions/goldroot')" ]
}
