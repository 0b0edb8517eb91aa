#!/usr/bin/env bats
# goldroot mount is all or nothing: when the 4th of 6 entries fails, the
# first three are undone, nothing stays mounted and no loop device stays.
load ../lib/common
load ../lib/mount

setup() {
        T=$BATS_TEST_TMPDIR
        D=$T/root
        mkdir -p "$D" "$T/img/etc" "$T/img/opt" "$T/img/srv" "$T/img/tmp" "$T/img/run" "$T/src" "$T/state"
        echo hi >"$T/src/hi"
        mkfs.erofs --quiet "$T/good.erofs" "$T/src" >/dev/null
        # A squashfs cut short after its superblock: blkid still recognizes
        # it, so it gets a loop device, and then the kernel refuses it.
        mkdir -p "$T/big"
        head -c 65536 /dev/urandom >"$T/big/random"
        mksquashfs "$T/big" "$T/bad.sqfs" -quiet -no-progress >/dev/null
        truncate -s 4096 "$T/bad.sqfs"
}

teardown() {
        mount_teardown
}

@test "failure half-way: nothing mounted, no loop device left, the entry named" {
        cat >"$T/p.profile" <<EOP
root    image  -                /     ro
opt     loop   $T/good.erofs    /opt
home    bind   state:home       /srv  rw,create
broken  loop   $T/bad.sqfs      /etc
tmp     tmpfs  -                /tmp  size=1M
run     tmpfs  -                /run  size=1M
EOP
        # Only this test's devices: other suites may attach loops meanwhile.
        before=$(losetup -a | grep -F "($T/" | sort || true)
        run "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "goldroot: mount entry 'broken' (loop on /etc): cannot create the squashfs mount"* ]]
        [ "$(mounts_under "$D")" -eq 0 ]
        [ "$(losetup -a | grep -F "($T/" | sort || true)" = "$before" ]
        [ -z "$(loops_of "$T/good.erofs")" ]
        [ -z "$(loops_of "$T/bad.sqfs")" ]
        # What the failed run created is gone, and no record was left.
        [ ! -e "$T/state/home" ]
        run "$GOLDROOT" umount "$D"
        [ "$status" -eq 1 ]
        [[ "$output" == *"not assembled by goldroot"* ]]
}
