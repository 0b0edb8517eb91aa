#!/usr/bin/env bats
# Output polish (issue 7 item 7): the long operations not covered by
# image-store.bats (gc, an upgrade of many instances, a plain import) draw a
# bar with a rate and the time left on a terminal (script(1) gives them one),
# plain lines with -v elsewhere, and nothing otherwise; and the errors whose
# fix is known say it.
load ../lib/common
load ../lib/images
load ../lib/instance

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
}

teardown() {
        instance_teardown
}

# A second version of the busybox image, as bb:2.
import_v2() {
        cp -a "$BATS_FILE_TMPDIR/bb" "$BATS_TEST_TMPDIR/bb2"
        head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/bb2/opt/app/blob"
        echo v2 >"$BATS_TEST_TMPDIR/bb2/etc/version"
        "$GOLDROOT" image import bb:2 "$BATS_TEST_TMPDIR/bb2" >/dev/null
}

@test "image gc: a rate on a terminal, a plain line with -v, nothing on a pipe" {
        import_v2
        "$GOLDROOT" image rm bb:2
        # The terminal's bytes, bar redraws included.
        run script -qec "$GOLDROOT image gc" /dev/null
        [ "$status" -eq 0 ]
        [[ "$output" == *"gc ["*"] 100% "*" files "*"/s  in "* ]]
        [[ "$output" == *"removed "*" objects, freed "* ]]

        import_v2
        "$GOLDROOT" image rm bb:2
        run "$GOLDROOT" -v image gc
        [ "$status" -eq 0 ]
        [[ "$output" == *"gc: "*" files "*"/s  in "* ]]

        import_v2
        "$GOLDROOT" image rm bb:2
        run "$GOLDROOT" image gc
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "removed "* ]]
}

@test "image import: plain lines with -v on a pipe, nothing without" {
        run "$GOLDROOT" -v image import bb:3 "$BATS_FILE_TMPDIR/bb"
        [ "$status" -eq 0 ]
        [[ "$output" == *"import: "*" files "*"/s  in "* ]]
        run "$GOLDROOT" image import bb:4 "$BATS_FILE_TMPDIR/bb"
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -eq 1 ]
}

@test "upgrade of many instances: a bar with the rate and time left on a terminal" {
        local n
        import_v2
        for n in 1 2 3 4 5; do
                "$GOLDROOT" create "web$n" --image bb:1
        done
        run script -qec "$GOLDROOT upgrade --all --to bb:2" /dev/null
        [ "$status" -eq 0 ]
        [[ "$output" == *"upgrade ["*"] 0/5  -/s  web1"* ]]
        [[ "$output" == *"upgrade [###"*"] 2/5  "*"/s  "*":"*" left  web"* ]]
        [[ "$output" == *"] 5/5  "*"/s  0:00 left"* ]]
        [[ "$output" == *"5 of 5 instances upgraded or current"* ]]

        # Elsewhere: plain lines only with -v.
        "$GOLDROOT" rollback web1
        "$GOLDROOT" rollback web2
        run "$GOLDROOT" -v upgrade web1 web2 --to bb:2
        [ "$status" -eq 0 ]
        [[ "$output" == *"upgrade: 1/2  "*"/s  "*" left  web1"* ]]
        [[ "$output" != *"upgrade ["* ]]
        "$GOLDROOT" rollback web1
        "$GOLDROOT" rollback web2
        run "$GOLDROOT" upgrade web1 web2 --to bb:2
        [ "$status" -eq 0 ]
        [[ "$output" != *"upgrade: 1/2"* ]]
        [[ "$output" != *"upgrade ["* ]]
}

@test "errors say what to do where the fix is known" {
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" create web2 --image bb:1
        run "$GOLDROOT" image rm bb:1
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: image bb:1 is linked by web1, web2: upgrade or remove them first" ]
        run "$GOLDROOT" create web1 --image bb:1
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: create web1: an instance of that name exists: pick another name, or remove it first ('goldroot rm web1')" ]
        "$GOLDROOT" start web1 -- sleep 1000
        run "$GOLDROOT" rm web1
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: rm web1: the instance is running: stop it first or use --force" ]
        run "$GOLDROOT" commit web1 bb:9
        [ "$status" -eq 1 ]
        [[ "$output" == *"the instance is running: stop it first"* ]]
        run "$GOLDROOT" upgrade web1 --to bb:1
        [[ "$output" == *"already on"* ]]
        run "$GOLDROOT" frob
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: unknown command 'frob': see 'goldroot --help'" ]
}
