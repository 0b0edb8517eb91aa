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
