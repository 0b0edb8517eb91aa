#!/usr/bin/env bats
# goldroot mount NAME DIR: an instance's own profile, image and state,
# assembled on the host the way vmount assembled a vserver.
load ../lib/common
load ../lib/images
load ../lib/instance
load ../lib/mount

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
        D=$BATS_TEST_TMPDIR/root
        mkdir -p "$D"
}

teardown() {
        "$GOLDROOT" umount "$D" 2>/dev/null || true
        instance_teardown
        mount_teardown
}

@test "mount NAME: the instance's root on the host; its state is the one the instance sees" {
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" mount web1 "$D"
        grep -q " $D " /proc/self/mountinfo
        # The ro layout: /etc is writable and lands in the state, / is not.
        echo from-host >"$D/etc/motd.local"
        run touch "$D/usr/foo"
        [ "$status" -ne 0 ]
        [[ "$output" == *"Read-only file system"* ]]
        # Mounting the same directory twice is refused.
        run "$GOLDROOT" mount web1 "$D"
        [ "$status" -eq 1 ]
        "$GOLDROOT" umount "$D"
        ! grep -q " $D " /proc/self/mountinfo
        # The instance sees what was written through the host assembly.
        "$GOLDROOT" start web1 -- /bin/sleep 1000
        [ "$("$GOLDROOT" exec web1 -- cat /etc/motd.local)" = from-host ]
}
