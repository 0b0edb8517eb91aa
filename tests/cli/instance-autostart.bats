#!/usr/bin/env bats
# Autostart: the goldroot@.service template and goldroot-autostart (issue 4
# item 6). The units are checked with systemd-analyze verify; the script runs
# for real against a test store.
load ../lib/common
load ../lib/images
load ../lib/instance

SRC=$BATS_TEST_DIRNAME/../../systemd

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
}

teardown() {
        instance_teardown
}

@test "units: systemd-analyze verify accepts them" {
        local d=$BATS_TEST_TMPDIR/units
        mkdir -p "$d"
        # As installed, with the paths of this build.
        sed -e "s|@SBINDIR@|$(dirname "$GOLDROOT")|" -e "s|@LIBEXECDIR@|$SRC|" \
                "$SRC/goldroot@.service.in" >"$d/goldroot@web1.service"
        sed -e "s|@SBINDIR@|$(dirname "$GOLDROOT")|" -e "s|@LIBEXECDIR@|$SRC|" \
                "$SRC/goldroot-autostart.service.in" >"$d/goldroot-autostart.service"
        run systemd-analyze verify --man=no "$d/goldroot@web1.service" "$d/goldroot-autostart.service"
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" != *"goldroot"* ]]
        grep -qx "ExecStart=$(dirname "$GOLDROOT")/goldroot start %i" "$d/goldroot@web1.service"
        grep -qx "ExecStop=$(dirname "$GOLDROOT")/goldroot stop %i" "$d/goldroot@web1.service"
}

@test "goldroot-autostart: starts the listed instances in order, stops them in reverse" {
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" create web2 --image bb:1
        "$GOLDROOT" create idle --image bb:1
        cat >"$BATS_TEST_TMPDIR/autostart" <<'EOL'
# the web tier
web1
   web2   # trailing comment

EOL
        export GOLDROOT_AUTOSTART=$BATS_TEST_TMPDIR/autostart
        run "$SRC/goldroot-autostart" --direct list
        [ "$status" -eq 0 ]
        [ "$output" = "$(printf 'web1\nweb2')" ]
        "$SRC/goldroot-autostart" --direct start
        [ "$(jq -r .state <<<"$("$GOLDROOT" status --json web1)")" = running ]
        [ "$(jq -r .state <<<"$("$GOLDROOT" status --json web2)")" = running ]
        [ "$(jq -r .state <<<"$("$GOLDROOT" status --json idle)")" = stopped ]
        "$SRC/goldroot-autostart" --direct stop
        [ "$(jq -r .state <<<"$("$GOLDROOT" status --json web1)")" = stopped ]
        [ "$(jq -r .state <<<"$("$GOLDROOT" status --json web2)")" = stopped ]
}

@test "goldroot-autostart: bad lines and failing instances are reported, the rest still start" {
        "$GOLDROOT" create web1 --image bb:1
        printf 'web1\n../etc\nmissing\n' >"$BATS_TEST_TMPDIR/autostart"
        export GOLDROOT_AUTOSTART=$BATS_TEST_TMPDIR/autostart
        run "$SRC/goldroot-autostart" --direct start
        [ "$status" -eq 1 ]
        [[ "$output" == *"autostart:2: bad instance name '../etc'"* ]]
        [[ "$output" == *"goldroot: instance missing: no such instance"* ]]
        [[ "$output" == *"goldroot-autostart: start missing failed"* ]]
        [ "$(jq -r .state <<<"$("$GOLDROOT" status --json web1)")" = running ]
        run "$SRC/goldroot-autostart" --direct restart
        [ "$status" -eq 2 ]
        GOLDROOT_AUTOSTART=/nonexistent run "$SRC/goldroot-autostart" --direct start
        [ "$status" -eq 1 ]
}
