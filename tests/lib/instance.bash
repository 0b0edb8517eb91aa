# Helpers for the instance suites (tests/cli/instance-*.bats). Load after
# common and images.
#
#   instance_build_busybox      (setup_file) a busybox root in $BATS_FILE_TMPDIR/bb,
#                               with a machine-id of its own and a hostname "gold"
#   instance_import_busybox     imports it as bb:1 into this test's store
#   instance_teardown           stops every instance of this test's store, so no
#                               process outlives the test

IMAGE_MACHINE_ID=0123456789abcdef0123456789abcdef

instance_build_busybox() {
        local d=$BATS_FILE_TMPDIR/bb
        [ -d "$d" ] && return 0
        busybox_rootfs "$d" >/dev/null 2>&1
        echo "$IMAGE_MACHINE_ID" >"$d/etc/machine-id"
        # The escaping symlink of the fixture would only get in the way here.
        rm -f "$d/srv/escape"
}

instance_import_busybox() {
        "$GOLDROOT" image import bb:1 "$BATS_FILE_TMPDIR/bb" >/dev/null
}

instance_teardown() {
        local n
        [ -e "$GOLDROOT_STORE/catalog.db" ] || return 0
        for n in $("$GOLDROOT" ls -q 2>/dev/null); do
                "$GOLDROOT" stop --timeout 2 "$n" || true
        done
}

# The content of a file inside a running instance.
in_instance() {
        local name=$1
        shift
        "$GOLDROOT" exec "$name" -- "$@"
}

# Waits up to 10 s for a process whose command line starts with PATTERN.
wait_for_process() {
        local _
        for _ in $(seq 100); do
                pgrep -f "^$1" >/dev/null && return 0
                sleep 0.1
        done
        return 1
}

# Waits up to 10 s for `goldroot status NAME` to say STATE; fails if it does
# not.
wait_for_state() {
        local name=$1 want=$2 state _
        for _ in $(seq 100); do
                state=$("$GOLDROOT" status --json "$name" 2>/dev/null | jq -r .state)
                [ "$state" = "$want" ] && return 0
                sleep 0.1
        done
        echo "status $name: $state, not $want" >&2
        return 1
}

# Kills PID, a goldroot command started in the background, with SIGKILL and
# succeeds if the processes whose command lines start with PATTERN are gone
# within 10 s; otherwise kills them itself, so that a failing test leaves
# nothing running, and fails.
kill9_takes_along() {
        local pid=$1 pattern=$2 _
        kill -KILL "$pid"
        wait "$pid" || true
        for _ in $(seq 100); do
                pgrep -f "^$pattern" >/dev/null || return 0
                sleep 0.1
        done
        pkill -KILL -f "^$pattern" || true
        return 1
}

# For suites that share one store (and its imported images) across tests:
# call in setup(); instance_teardown_shared in teardown() removes instances.
instance_shared_store() {
        export GOLDROOT_STORE=$BATS_FILE_TMPDIR/store
}

instance_teardown_shared() {
        local n
        [ -e "$GOLDROOT_STORE/catalog.db" ] || return 0
        for n in $("$GOLDROOT" ls -q 2>/dev/null); do
                "$GOLDROOT" rm --force "$n" || true
        done
}

# The Redpaper acceptance (DESIGN §3) on image IMG: two ro instances.
redpaper_acceptance() {
        local img=$1 p out
        "$GOLDROOT" create rp-a --image "$img"
        "$GOLDROOT" create rp-b --image "$img"
        "$GOLDROOT" start rp-a -- sleep 100000
        "$GOLDROOT" start rp-b -- sleep 100000

        "$GOLDROOT" exec rp-a -- touch /etc/foo /var/foo /root/foo /srv/foo /tmp/foo
        for p in /foo /usr/foo /opt/foo; do
                if out=$("$GOLDROOT" exec rp-a -- touch "$p" 2>&1); then
                        echo "touch $p succeeded" >&2
                        return 1
                fi
                [[ "$out" == *"Read-only file system"* ]] || { echo "touch $p: $out" >&2; return 1; }
        done
        # Even root, even after a remount attempt.
        ! "$GOLDROOT" exec rp-a -- mount -o remount,rw / 2>/dev/null
        out=$("$GOLDROOT" exec rp-a -- touch /usr/foo 2>&1) && return 1
        [[ "$out" == *"Read-only file system"* ]]

        # The other instance of the same image sees none of it.
        for p in /etc/foo /var/foo /root/foo /srv/foo /tmp/foo; do
                ! "$GOLDROOT" exec rp-b -- test -e "$p"
        done
        # Own hostnames and machine ids, none of them the image's.
        [ "$("$GOLDROOT" exec rp-a -- hostname)" = rp-a ]
        [ "$("$GOLDROOT" exec rp-b -- hostname)" = rp-b ]
        local ida idb
        ida=$("$GOLDROOT" exec rp-a -- cat /etc/machine-id)
        idb=$("$GOLDROOT" exec rp-b -- cat /etc/machine-id)
        [[ "$ida" =~ ^[0-9a-f]{32}$ ]]
        [[ "$idb" =~ ^[0-9a-f]{32}$ ]]
        [ "$ida" != "$idb" ]
        [ "$ida" != "$IMAGE_MACHINE_ID" ]
        [ "$idb" != "$IMAGE_MACHINE_ID" ]

        # After stop and start, everything but /tmp/foo is still there.
        "$GOLDROOT" stop rp-a
        "$GOLDROOT" start rp-a -- sleep 100000
        for p in /etc/foo /var/foo /root/foo /srv/foo; do
                "$GOLDROOT" exec rp-a -- test -e "$p"
        done
        ! "$GOLDROOT" exec rp-a -- test -e /tmp/foo
        [ "$("$GOLDROOT" exec rp-a -- cat /etc/machine-id)" = "$ida" ]
        "$GOLDROOT" stop rp-a
        "$GOLDROOT" stop rp-b
}
