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

@test "--version prints the version" {
        run "$GOLDROOT" --version
        [ "$status" -eq 0 ]
        [[ "$output" == "goldroot "* ]]
}
