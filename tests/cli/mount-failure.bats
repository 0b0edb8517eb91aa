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

@test "failure after an overlay: its upper and work directories, and what the kernel made in them, are gone" {
        mkdir -p "$D/o" "$T/st/kept" "$T/img/etc/sub"
        echo x >"$T/img/etc/hostname"
        cat >"$T/p.profile" <<EOP
ov   overlay  image:/etc      /o    upper=state:up
bad  loop     /etc/hostname   /o/x
EOP
        run "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/st" "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "$(mounts_under "$D")" -eq 0 ]
        # Only what was there before.
        [ "$(cd "$T/st" && find . | sort | tr '\n' ' ')" = ". ./kept " ]
}

@test "failure after an overlay: a work directory that was there before keeps its contents" {
        mkdir -p "$D/o" "$T/st/.work/ov/mine" "$T/img/etc"
        echo x >"$T/img/etc/hostname"
        echo note >"$T/st/.work/ov/note"
        cat >"$T/p.profile" <<EOP
ov   overlay  image:/etc      /o    upper=state:up
bad  loop     /etc/hostname   /o/x
EOP
        run "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/st" "$D"
        [ "$status" -eq 1 ]
        [ -d "$T/st/.work/ov/mine" ]
        [ "$(cat "$T/st/.work/ov/note")" = note ]
        [ ! -e "$T/st/up" ]
}

@test "a mount killed half way (crash point after the first mount): umount takes down what it made" {
        mkdir -p "$D/a" "$D/b"
        printf 'a  tmpfs  -  /a\nb  tmpfs  -  /b\n' >"$T/p.profile"
        run env GOLDROOT_CRASH_AT=mount-after-attach "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$status" -eq 137 ]
        [ "$(mounts_at "$D/a")" -eq 1 ]
        [ "$(mounts_at "$D/b")" -eq 0 ]
        run "$GOLDROOT" umount "$D"
        [ "$status" -eq 0 ]
        [ "$(mounts_under "$D")" -eq 0 ]
        run "$GOLDROOT" umount "$D"
        [[ "$output" == *"not assembled by goldroot"* ]]
}

@test "a mount killed half way: the next mount on DIR takes down the leftovers first" {
        mkdir -p "$D/a" "$D/b"
        printf 'a  tmpfs  -  /a\nb  tmpfs  -  /b\n' >"$T/p.profile"
        run env GOLDROOT_CRASH_AT=mount-after-attach "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$status" -eq 137 ]
        "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$(mounts_at "$D/a")" -eq 1 ]
        [ "$(mounts_at "$D/b")" -eq 1 ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "a mount killed right after attaching a shared mount: umount takes that down too" {
        mkdir -p "$D"
        printf 'area  tmpfs  -  %s/share/logs\n' "$T" >"$T/logs.profile"
        printf 'log  bind  logs:area/%%n  /log  rw,create\n' >"$T/p.profile"
        run env GOLDROOT_CRASH_AT=mount-after-attach "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$status" -eq 137 ]
        [ "$(mounts_at "$T/share/logs")" -eq 1 ]
        run "$GOLDROOT" umount "$D"
        [ "$status" -eq 0 ]
        [ "$(mounts_at "$T/share/logs")" -eq 0 ]
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "a mount killed after attaching its root: the next mount on DIR succeeds the first time" {
        echo gold >"$T/img/etc/marker"
        printf 'root  image  -  /  ro\ntmp  tmpfs  -  /tmp  size=1M\n' >"$T/p.profile"
        run env GOLDROOT_CRASH_AT=mount-after-attach "$GOLDROOT" mount --profile "$T/p.profile" \
                --image "$T/img" "$D"
        [ "$status" -eq 137 ]
        [ "$(mounts_at "$D")" -eq 1 ]
        # The leftover root is taken down; the new one is mounted on DIR
        # itself, not on the detached tree.
        run "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        [ "$status" -eq 0 ]
        [ "$(cat "$D/etc/marker")" = gold ]
        [ "$(mounts_at "$D/tmp")" -eq 1 ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}
