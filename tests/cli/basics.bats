#!/usr/bin/env bats
# The command line's contract: help, exit statuses and one-line errors.
load ../lib/common

@test "--help lists the commands and exits 0" {
        run "$GOLDROOT" --help
        [ "$status" -eq 0 ]
        [[ "$output" == *"Usage: goldroot"* ]]
        [[ "$output" == *"mount"* ]]
}

@test "an unknown command is bad usage: exit 2, one line" {
        run "$GOLDROOT" frobnicate
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "goldroot: unknown command 'frobnicate'"* ]]
}

@test "an unknown or incomplete global option is bad usage: exit 2, one line" {
        run "$GOLDROOT" --bogus
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: unknown option '--bogus'; see 'goldroot --help'" ]
        run "$GOLDROOT" --store
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: option '--store' needs a value; see 'goldroot --help'" ]
}

@test "an empty --store is bad usage: exit 2, one line, for every command that opens the store" {
        local cmd
        for cmd in "--store '' image ls" "image ls --store ''" "--store '' ls" \
                "--store '' fsck" "--store '' image import x:1 /nonexistent"; do
                run eval "\"\$GOLDROOT\" $cmd"
                echo "$cmd: $output"
                [ "$status" -eq 2 ]
                [ "$output" = "goldroot: --store: the path is empty" ]
        done
}

@test "an error line about a value of thousands of characters keeps its reason" {
        local long
        long=$(printf 'a%.0s' {1..5000})
        mkdir -p "$BATS_TEST_TMPDIR/empty"
        "$GOLDROOT" image import e:1 "$BATS_TEST_TMPDIR/empty" >/dev/null
        run "$GOLDROOT" image inspect "$long"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        # The middle goes, the end (the reason) stays.
        [[ "$output" == "goldroot: image reference 'aaaa"*"a…a"*"a': expected NAME:TAG or an image id prefix"* ]]
        [ "${#output}" -le 4200 ]
        run "$GOLDROOT" create "$long" --image x:1
        [ "$status" -eq 2 ]
        [[ "$output" == *": invalid instance name: longer than 64 characters" ]]
}

@test "a missing store: commands that read refuse it and create nothing; image import creates it" {
        local cmd
        for cmd in "image ls" "image inspect a:1" "image gc" "image rm a:1" "ls" "status x" \
                "fsck" "create x --image a:1" "image tag a:1 b:1" "upgrade x --to a:1"; do
                # shellcheck disable=SC2086
                run "$GOLDROOT" --store "$BATS_TEST_TMPDIR/no/such/store" $cmd
                echo "$cmd: $output"
                [ "$status" -eq 1 ]
                [ "$output" = "goldroot: store $BATS_TEST_TMPDIR/no/such/store: no such store" ]
                [ ! -e "$BATS_TEST_TMPDIR/no" ]
        done
        mkdir "$BATS_TEST_TMPDIR/src"
        run "$GOLDROOT" --store "$BATS_TEST_TMPDIR/no/such/store" image import a:1 "$BATS_TEST_TMPDIR/src"
        [ "$status" -eq 0 ]
        run "$GOLDROOT" --store "$BATS_TEST_TMPDIR/no/such/store" image ls -q
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -eq 1 ]
        # An existing empty directory is a store to be (make install makes /var/lib/goldroot).
        mkdir "$BATS_TEST_TMPDIR/empty"
        run "$GOLDROOT" --store "$BATS_TEST_TMPDIR/empty" image ls -q
        [ "$status" -eq 0 ]
        [ -z "$output" ]
}

@test "every verb refuses an unknown option in one line, exit 2" {
        local v
        for v in "image ls" "image import" "image prep" mount umount plan create start run exec \
                stop ls status rm personalize diff upgrade rollback commit fsck oci-bundle; do
                # shellcheck disable=SC2086 # "image ls" is two words
                run "$GOLDROOT" $v --bogus
                echo "$v: $output"
                [ "$status" -eq 2 ]
                [ "${#lines[@]}" -eq 1 ]
                [[ "${lines[0]}" == "goldroot: "*"--bogus"* ]]
        done
}

@test "--version prints the version" {
        run "$GOLDROOT" --version
        [ "$status" -eq 0 ]
        [[ "$output" == "goldroot "* ]]
}

@test "an unknown image is one line, exit 1, for every command that takes one" {
        mkdir -p "$BATS_TEST_TMPDIR/tree/etc"
        "$GOLDROOT" image import base:1 "$BATS_TEST_TMPDIR/tree" >/dev/null
        "$GOLDROOT" create c1 --image base:1
        for cmd in "create c2 --image nosuch:1" "run --rm nosuch:1 -- true" \
                "run nosuch:1 -- true" "image prep nosuch:1 p:1" "image inspect nosuch:1" \
                "upgrade c1 --to nosuch:1" "upgrade --all --to nosuch:1" \
                "upgrade --from nosuch:1 --to base:1" "create c3 --image deadbeef"; do
                # shellcheck disable=SC2086
                run "$GOLDROOT" $cmd
                echo "$cmd: $output"
                [ "$status" -eq 1 ]
                [ "${#lines[@]}" -eq 1 ]
                [[ "${lines[0]}" == "goldroot: image "*": no such image" ]]
        done
        [ "$("$GOLDROOT" ls -q)" = c1 ]
}
