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

@test "mount NAME: an instance is assembled once, and never while it runs" {
        "$GOLDROOT" create web1 --image bb:1
        mkdir -p "$BATS_TEST_TMPDIR/other"
        "$GOLDROOT" mount web1 "$D"
        # A second assembly would share the overlay's upper and work directory.
        run "$GOLDROOT" mount web1 "$BATS_TEST_TMPDIR/other"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "goldroot: mount $BATS_TEST_TMPDIR/other: the instance is already assembled on $D (goldroot umount it first)" ]
        [ "$(mounts_under "$BATS_TEST_TMPDIR/other")" -eq 0 ]
        # Nor may it start, or have its state changed, while assembled.
        for verb in start personalize commit rm; do
                args=(web1)
                [ "$verb" = commit ] && args=(web1 bb:frozen)
                run "$GOLDROOT" "$verb" "${args[@]}"
                [ "$status" -eq 1 ]
                [ "${#lines[@]}" -eq 1 ]
                [ "${lines[0]}" = "goldroot: $verb web1: the instance is assembled on $D by goldroot mount (goldroot umount it first)" ]
        done
        [ "$("$GOLDROOT" status web1 --json | jq -r .state)" = stopped ]
        "$GOLDROOT" umount "$D"
        # Once taken down, all of that is allowed again.
        "$GOLDROOT" start web1 -- /bin/sleep 1000
        run "$GOLDROOT" mount web1 "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "goldroot: mount web1: the instance is running (pid "*"): stop it first" ]]
        [ "$(mounts_under "$D")" -eq 0 ]
        "$GOLDROOT" stop web1
        "$GOLDROOT" mount web1 "$D"
        "$GOLDROOT" umount "$D"
}

@test "mount NAME: a record left by an assembly that is gone does not block the instance" {
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" mount web1 "$D"
        umount -R "$D"
        "$GOLDROOT" start web1 -- /bin/sleep 1000
        "$GOLDROOT" stop web1
}
