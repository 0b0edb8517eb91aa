#!/usr/bin/env bats
# goldroot mount: dev entries by /dev path, UUID= and LABEL= (libblkid), on a
# loop device the test attaches to an ext4 file and detaches in teardown.
load ../lib/common
load ../lib/mount

setup() {
        T=$BATS_TEST_TMPDIR
        D=$T/root
        mkdir -p "$D/data" "$T/src"
        echo "on the device" >"$T/src/marker"
        UUID=$(cat /proc/sys/kernel/random/uuid)
        LABEL="gr$(printf %x $((RANDOM * 32768 + RANDOM)))"
        mkfs.ext4 -q -L "$LABEL" -U "$UUID" -d "$T/src" "$T/dev.ext4" 8M
        LOOPDEV=$(losetup -f --show "$T/dev.ext4")
}

teardown() {
        umount -R -l "$D" 2>/dev/null || true
        [ -n "${LOOPDEV:-}" ] && losetup -d "$LOOPDEV"
        mount_teardown
}

check_dev() {
        local spec=$1 opts=$2
        cat >"$T/p.profile" <<EOP
data  dev  $spec  /data  $opts
EOP
        run "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$(mount_fstype "$D/data")" = ext4 ]
        [ "$(cat "$D/data/marker")" = "on the device" ]
        awk -v d="$D/data" -v dev="$LOOPDEV" '$5 == d { for (i = 7; i <= NF; i++)
                if ($i == "-") found = ($(i + 2) == dev) } END { exit !found }' /proc/self/mountinfo
}

@test "dev: by /dev path, read-write" {
        check_dev "$LOOPDEV" rw
        touch "$D/data/written"
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
        debugfs -R "stat /written" "$T/dev.ext4" 2>/dev/null | grep -q Inode
}

@test "dev: by UUID=, read-only (libblkid, not linked, is loaded for it)" {
        run ldd "$GOLDROOT"
        [ "$status" -eq 0 ]
        [[ "$output" != *libblkid* ]]
        check_dev "UUID=$UUID" ro
        run touch "$D/data/x"
        [[ "$output" == *"Read-only file system"* ]]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "dev: by LABEL=" {
        check_dev "LABEL=$LABEL" ro
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "dev: an unknown UUID fails and names the entry" {
        cat >"$T/p.profile" <<EOP
data  dev  UUID=00000000-dead-beef-0000-000000000000  /data  ro
EOP
        run "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "goldroot: mount entry 'data' (dev on /data): no device with UUID="* ]]
}
