#!/usr/bin/env bats
# goldroot mount: overlay entries with an upper in the state, on the host, or
# on a throw-away tmpfs; upper and work directories are made on demand.
load ../lib/common
load ../lib/mount

setup() {
        T=$BATS_TEST_TMPDIR
        D=$T/root
        mkdir -p "$D/etc" "$D/var" "$T/img/etc" "$T/img/var/lib" "$T/state"
        echo gold >"$T/img/etc/hostname"
        echo pkg >"$T/img/var/lib/status"
}

teardown() {
        mount_teardown
}

@test "overlay: a state upper is created on demand and takes the writes" {
        cat >"$T/p.profile" <<EOP
etc  overlay  image:/etc  /etc  upper=state:etc
EOP
        [ ! -e "$T/state/etc" ]
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        [ "$(mount_fstype "$D/etc")" = overlay ]
        [ -d "$T/state/etc" ]
        [ -d "$T/state/.work/etc" ]
        [ "$(cat "$D/etc/hostname")" = gold ]
        echo changed >"$D/etc/hostname"
        echo new >"$D/etc/motd"
        [ "$(cat "$T/state/etc/hostname")" = changed ]
        [ -e "$T/state/etc/motd" ]
        [ "$(cat "$T/img/etc/hostname")" = gold ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
        # The state persists: the next assembly sees the change again.
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        [ "$(cat "$D/etc/hostname")" = changed ]
        "$GOLDROOT" umount "$D"
}

@test "overlay: a host upper and its work directory are created beside it" {
        cat >"$T/p.profile" <<EOP
var  overlay  $T/img/var  /var  upper=$T/layers/var
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ -d "$T/layers/var" ]
        [ -d "$T/layers/.var.work" ]
        touch "$D/var/lib/new"
        [ -e "$T/layers/var/lib/new" ]
        [ ! -e "$T/img/var/lib/new" ]
        [ "$(cat "$D/var/lib/status")" = pkg ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "overlay: upper=tmpfs keeps nothing after umount" {
        cat >"$T/p.profile" <<EOP
etc  overlay  image:/etc  /etc  upper=tmpfs
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        echo scratch >"$D/etc/scratch"
        rm "$D/etc/hostname"
        [ ! -e "$D/etc/hostname" ]
        [ -e "$T/img/etc/hostname" ]
        [ ! -e "$T/img/etc/scratch" ]
        "$GOLDROOT" umount "$D"
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        [ ! -e "$D/etc/scratch" ]
        [ -e "$D/etc/hostname" ]
        "$GOLDROOT" umount "$D"
}

@test "overlay: upper=tmpfs,size= caps the throw-away layer, and plan shows it" {
        cat >"$T/p.profile" <<EOP
etc  overlay  image:/etc  /etc  upper=tmpfs,size=1M
EOP
        run "$GOLDROOT" plan --profile "$T/p.profile"
        [ "$status" -eq 0 ]
        [[ "$output" == *"rw,size=1M,upper=tmpfs"* ]]
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        head -c 512K /dev/zero >"$D/etc/half"
        run dd if=/dev/zero of="$D/etc/more" bs=1M count=2
        [ "$status" -ne 0 ]
        [[ "$output" == *"No space left on device"* ]]
        [ -s "$D/etc/half" ]
        [ -e "$D/etc/hostname" ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "overlay: a ro overlay refuses writes" {
        cat >"$T/p.profile" <<EOP
etc  overlay  image:/etc  /etc  ro,upper=state:etc
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        run touch "$D/etc/x"
        [[ "$output" == *"Read-only file system"* ]]
        has_opt "$D/etc" ro
        "$GOLDROOT" umount "$D"
}

@test "overlay: a state upper planted as a symlink stays inside the state" {
        mkdir -p "$T/outside" "$T/state$T/outside"
        ln -s "$T/outside" "$T/state/etc"
        cat >"$T/p.profile" <<EOP
etc  overlay  image:/etc  /etc  upper=state:etc
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        touch "$D/etc/planted"
        [ ! -e "$T/outside/planted" ]
        [ -e "$T/state$T/outside/planted" ]
        "$GOLDROOT" umount "$D"
}

@test "overlay: an upper over the work directories, or shared with another overlay, is a profile error" {
        # state:/ and state:.work hold the entry's own work directory
        # (state:/.work/o): the kernel would refuse the mount with EINVAL.
        for upper in state:/ state:.work state:.work/o; do
                printf 'o  overlay  image:/  /o  upper=%s\n' "$upper" >"$T/p.profile"
                run "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
                [ "$status" -eq 2 ]
                [ "$output" = "goldroot: $T/p.profile:1:32: upper= '$upper' overlaps state:/.work, which is reserved for the overlays' work directories (this entry's is state:/.work/o)" ]
        done
        [ "$(mounts_under "$D")" -eq 0 ]
        # Two overlays on one upper: undefined behaviour in the kernel.
        printf 'etc  overlay  image:/etc  /etc  upper=state:up\nvar  overlay  image:/var  /var  upper=state:up\n' >"$T/p.profile"
        run "$GOLDROOT" plan --profile "$T/p.profile"
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: $T/p.profile:2:39: upper= 'state:up': its upper layer state:/up is also the upper layer of 'etc' ($T/p.profile:1); overlays cannot share directories" ]
        [ ! -e "$T/state/up" ]
}
