#!/usr/bin/env bats
# The Redpaper acceptance (DESIGN §3, issue 4 item 5) on busybox and on a
# Debian bookworm minbase image, and the other modes on Debian.
load ../lib/common
load ../lib/images
load ../lib/instance

setup_file() {
        instance_build_busybox
        export GOLDROOT_STORE=$BATS_FILE_TMPDIR/store
        "$GOLDROOT" image import bb:1 "$BATS_FILE_TMPDIR/bb" >/dev/null
        "$GOLDROOT" image import debian:12 "$(debian_minbase_tar)" >/dev/null
}

setup() {
        instance_shared_store
}

teardown() {
        instance_teardown_shared
}

@test "redpaper: busybox" {
        redpaper_acceptance bb:1
}

@test "redpaper: Debian minbase" {
        redpaper_acceptance debian:12
}

@test "Debian: the package database is the image's, read-only" {
        "$GOLDROOT" create deb --image debian:12
        "$GOLDROOT" start deb -- sleep 100000
        run "$GOLDROOT" exec deb -- dpkg-query -W -f '${Package}\n' coreutils
        [ "$output" = coreutils ]
        run "$GOLDROOT" exec deb -- touch /var/lib/dpkg/status
        [ "$status" -ne 0 ]
        [[ "$output" == *"Read-only file system"* ]]
        # /var itself is the instance's.
        "$GOLDROOT" exec deb -- touch /var/lib/mine
}

@test "Debian: rw mode writes anywhere into its state; volatile forgets at stop" {
        "$GOLDROOT" create maint --image debian:12 --mode rw
        "$GOLDROOT" start maint -- sleep 100000
        "$GOLDROOT" exec maint -- sh -c 'echo patched >/usr/local/bin/tool'
        "$GOLDROOT" stop maint
        "$GOLDROOT" start maint -- sleep 100000
        [ "$("$GOLDROOT" exec maint -- cat /usr/local/bin/tool)" = patched ]
        [ -n "$(find "$GOLDROOT_STORE/instances/maint/state" -path '*/usr/local/bin/tool')" ]

        "$GOLDROOT" create scratch --image debian:12 --mode volatile
        "$GOLDROOT" start scratch -- sleep 100000
        [ "$("$GOLDROOT" exec scratch -- hostname)" = scratch ]
        "$GOLDROOT" exec scratch -- touch /usr/scratch
        "$GOLDROOT" stop scratch
        "$GOLDROOT" start scratch -- sleep 100000
        ! "$GOLDROOT" exec scratch -- test -e /usr/scratch
        # Personalized again at every start: the same identity each time.
        [ "$("$GOLDROOT" exec scratch -- cat /etc/hostname)" = scratch ]
        [ -z "$(ls -A "$GOLDROOT_STORE/instances/scratch/state")" ]
}
