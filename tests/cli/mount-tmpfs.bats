#!/usr/bin/env bats
# goldroot mount: tmpfs entries with size, mode, uid/gid and copy.
load ../lib/common
load ../lib/mount

setup() {
        T=$BATS_TEST_TMPDIR
        D=$T/root
        mkdir -p "$D/tmp" "$T/img/etc/ssh" "$T/img/tmp"
        echo web01 >"$T/img/etc/hostname"
        echo key >"$T/img/etc/ssh/config"
        chmod 0751 "$T/img/etc"
}

teardown() {
        mount_teardown
}

@test "tmpfs: size shows in statfs and df, mode on the root" {
        cat >"$T/p.profile" <<EOP
tmp  tmpfs  -  /tmp  size=10M,mode=1777
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$(mount_fstype "$D/tmp")" = tmpfs ]
        [ $(( $(stat -f -c '%b * %S' "$D/tmp") )) -eq 10485760 ]
        [ "$(df -B1 --output=size "$D/tmp" | tail -1 | tr -d ' ')" -eq 10485760 ]
        [ "$(stat -c %a "$D/tmp")" = 1777 ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "tmpfs: uid and gid own the root" {
        cat >"$T/p.profile" <<EOP
tmp  tmpfs  -  /tmp  uid=1234,gid=4321,mode=0700
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$(stat -c '%u:%g %a' "$D/tmp")" = "1234:4321 700" ]
        "$GOLDROOT" umount "$D"
}

@test "tmpfs copy: seeded from what it covers, writable, gone after umount" {
        cat >"$T/p.profile" <<EOP
root  image  -  /     ro
etc   tmpfs  -  /etc  copy,size=5M
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        [ "$(mount_fstype "$D/etc")" = tmpfs ]
        [ "$(cat "$D/etc/hostname")" = web01 ]
        [ "$(cat "$D/etc/ssh/config")" = key ]
        [ "$(stat -c %a "$D/etc")" = 751 ]
        echo web02 >"$D/etc/hostname"
        touch "$D/etc/new"
        run touch "$D/usr-file"
        [[ "$output" == *"Read-only file system"* ]]
        [ "$(cat "$T/img/etc/hostname")" = web01 ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
        [ ! -e "$T/img/etc/new" ]
}

@test "mount --profile NAME finds the profile on the search path" {
        mkdir -p "$T/site" "$T/elsewhere"
        printf 'tmp  tmpfs  -  /tmp  size=1M\n' >"$T/site/small.profile"
        cd "$T/elsewhere"
        GOLDROOT_PROFILE_DIR="$T/site" "$GOLDROOT" mount --profile small "$D"
        [ "$(mount_fstype "$D/tmp")" = tmpfs ]
        "$GOLDROOT" umount "$D"
}
