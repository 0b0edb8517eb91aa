#!/usr/bin/env bats
# The README's picture of the ro profile (docs/ro-profile.png) shows what
# `goldroot plan --dot` prints today: its source, docs/ro-profile.dot, is
# committed next to it and must match. `make docs` regenerates both.
load ../lib/common

DOCS=$BATS_TEST_DIRNAME/../../docs
PROFILES=$BATS_TEST_DIRNAME/../../profiles

@test "docs/ro-profile.dot is what plan --dot prints for the ro profile" {
        run "$GOLDROOT" plan --profile "$PROFILES/ro.profile" --dot
        [ "$status" -eq 0 ]
        diff <(printf '%s\n' "$output") "$DOCS/ro-profile.dot"
}

@test "docs/ro-profile.png is a rendering of docs/ro-profile.dot" {
        committed=$(file -b "$DOCS/ro-profile.png")
        [[ "$committed" == "PNG image data, "* ]]
        dot -Tpng -Gdpi=96 "$DOCS/ro-profile.dot" -o "$BATS_TEST_TMPDIR/fresh.png"
        # The same picture: the same size, and every entry's name is in it.
        [ "$(file -b "$BATS_TEST_TMPDIR/fresh.png" | cut -d, -f2)" = "$(cut -d, -f2 <<<"$committed")" ]
        for e in rw root etc var roothome srv home tmp run dpkg rpm; do
                grep -q "label=\"$e\\\\n" "$DOCS/ro-profile.dot"
        done
}

@test "the README shows the picture and tells how to make it" {
        grep -q '!\[.*\](docs/ro-profile.png)' "$BATS_TEST_DIRNAME/../../README.md"
        grep -q 'make docs' "$BATS_TEST_DIRNAME/../../README.md"
}

# goldroot-profile(5) shows the built-in ro profile "as it has it": the
# example is the profile's lines without its comments and blank lines, byte
# for byte, so a change to one without the other fails here.
@test "goldroot-profile(5) shows the built-in ro profile as it is" {
        page=$(sed -n '/as the built-in \*ro\* profile has it/,$p' "$DOCS/goldroot-profile.5.scd" |
                sed -n '/^```$/,/^```$/p' | sed '1d;$d' | sed '/^```$/,$d')
        [ -n "$page" ]
        diff <(printf '%s\n' "$page") <(grep -vE '^[[:space:]]*(#|$)' "$PROFILES/ro.profile")
}

@test "STORE.md's catalog table lists exactly the columns of a new catalog" {
        mkdir "$BATS_TEST_TMPDIR/src"
        "$GOLDROOT" image import a:1 "$BATS_TEST_TMPDIR/src" >/dev/null
        local t documented actual
        for t in images tags instances operations; do
                # "| images | id (PK, 64 hex), parent (...), ... |": each column is
                # the word that starts a comma-separated item outside parentheses.
                documented=$(grep "^| $t |" "$DOCS/STORE.md" | cut -d'|' -f3 |
                        sed -E ':a; s/\([^()]*\)//g; ta' | tr ',' '\n' |
                        sed -E 's/^ *([a-z_]+).*/\1/' | grep . | sort | tr '\n' ' ')
                actual=$(sqlite3 "$GOLDROOT_STORE/catalog.db" "SELECT name FROM pragma_table_info('$t')" |
                        sort | tr '\n' ' ')
                echo "$t: documented '$documented', actual '$actual'"
                [ "$documented" = "$actual" ]
        done
}
