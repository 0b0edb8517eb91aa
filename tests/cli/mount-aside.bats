#!/usr/bin/env bats
# goldroot mount: entries mounted aside (TARGET -) and @ENTRY sources. One
# overlay of the whole image, never attached, bound onto several targets; the
# built-in ro profile built that way, with DESIGN §3's acceptance on the
# assembly; undo and umount when nothing of the aside mount is in the tree.
load ../lib/common
load ../lib/mount

RO_PROFILE=$BATS_TEST_DIRNAME/../../profiles/ro.profile

setup() {
        T=$BATS_TEST_TMPDIR
        D=$T/root
        mkdir -p "$D" "$T/state"
        # A small busybox root, as an image would be: no /root, /srv or /home.
        mkdir -p "$T/img/bin" "$T/img/etc" "$T/img/var/lib/dpkg" "$T/img/var/log" \
                "$T/img/usr/lib" "$T/img/opt" "$T/img/tmp" "$T/img/run"
        cp /bin/busybox "$T/img/bin/busybox"
        for a in sh touch cat ls; do ln -s busybox "$T/img/bin/$a"; done
        echo gold >"$T/img/etc/hostname"
        echo installed >"$T/img/var/lib/dpkg/status"
        echo lib >"$T/img/usr/lib/libc"
}

teardown() {
        mount_teardown
}

# How many mounts in the tree show the overlay whose upper is $1.
overlay_mounts() {
        grep -c "upperdir=$1," /proc/self/mountinfo || true
}

@test "aside: one overlay bound to three targets; writes through each land in its one upper" {
        cat >"$T/p.profile" <<EOP
root  image    -        /     ro
rw    overlay  image:/  -     upper=state:upper
etc   bind     @rw/etc  /etc  rw
var   bind     @rw/var  /var  rw
usr   bind     @rw/usr  /usr  rw
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        # The root and three binds; the overlay itself is attached nowhere.
        [ "$(mounts_under "$D")" -eq 4 ]
        [ "$(mount_fstype "$D/etc")" = overlay ]
        [ "$(mount_fstype "$D/usr")" = overlay ]
        [ "$(overlay_mounts "$T/state/upper")" -eq 3 ]
        # One file system: the three binds share the overlay's device number.
        [ "$(stat -c %d "$D/etc")" = "$(stat -c %d "$D/var")" ]
        [ "$(stat -c %d "$D/etc")" = "$(stat -c %d "$D/usr")" ]
        [ "$(cat "$D/etc/hostname")" = gold ]
        echo changed >"$D/etc/hostname"
        echo v >"$D/var/log/new"
        echo u >"$D/usr/lib/extra"
        [ "$(cat "$T/state/upper/etc/hostname")" = changed ]
        [ "$(cat "$T/state/upper/var/log/new")" = v ]
        [ "$(cat "$T/state/upper/usr/lib/extra")" = u ]
        [ "$(cat "$T/img/etc/hostname")" = gold ]
        [ ! -e "$T/img/usr/lib/extra" ]
        # / is the image, read-only.
        run touch "$D/foo"
        [ "$status" -ne 0 ]
        [[ "$output" == *"Read-only file system"* ]]

        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
        [ "$(overlay_mounts "$T/state/upper")" -eq 0 ]
        # The upper keeps the writes; the next assembly shows them again.
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        [ "$(cat "$D/etc/hostname")" = changed ]
        [ "$(cat "$D/var/log/new")" = v ]
        [ "$(cat "$D/usr/lib/extra")" = u ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "aside: create makes a missing source inside the aside overlay, in its upper" {
        cat >"$T/p.profile" <<EOP
rw    overlay  image:/   -     upper=state:upper
root  bind     @rw       /     ro
srv   bind     @rw/srv   /srv  rw,create
EOP
        [ ! -e "$T/img/srv" ]
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        [ -d "$T/state/upper/srv" ]
        [ ! -e "$T/img/srv" ]
        [ "$(mounts_at "$D/srv")" -eq 1 ]
        touch "$D/srv/x"
        [ -e "$T/state/upper/srv/x" ]
        run touch "$D/new"
        [[ "$output" == *"Read-only file system"* ]]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "aside: goldroot plan shows @ENTRY sources and aside targets" {
        cat >"$T/p.profile" <<EOP
root  bind     @rw       /     ro
rw    overlay  image:/   -     upper=state:upper
etc   bind     @rw/etc   /etc  rw,create
EOP
        run "$GOLDROOT" plan --profile "$T/p.profile"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "1  rw    overlay  image:/   -> (aside)  rw,upper=state:/upper,work=state:/.work/rw" ]
        [ "${lines[1]}" = "2  root  bind     @rw:/     -> /        ro" ]
        [ "${lines[2]}" = "3  etc   bind     @rw:/etc  -> /etc     rw,create" ]
        run "$GOLDROOT" plan --profile "$T/p.profile" --dot
        [ "$status" -eq 0 ]
        [[ "$output" == *'n0 [label="rw\noverlay\n(aside)", style=dashed];'* ]]
}

@test "aside: an aside entry nothing uses is an error at its target" {
        printf 'root image - / ro\nrw   overlay image:/ - upper=state:u\n' >"$T/p.profile"
        run "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "goldroot: $T/p.profile:2:22: entry 'rw' is mounted aside but nothing uses it" ]
        run "$GOLDROOT" plan --profile "$T/p.profile"
        [ "$status" -eq 2 ]
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "aside: a failure after the aside overlay undoes everything, its upper included" {
        cat >"$T/p.profile" <<EOP
root  image    -         /      ro
rw    overlay  image:/   -      upper=state:upper
etc   bind     @rw/etc   /etc   rw
srv   bind     @rw/srv   /var   rw
EOP
        run "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "goldroot: mount entry 'srv' (bind on /var): cannot open @rw:/srv: No such file or directory" ]
        [ "$(mounts_under "$D")" -eq 0 ]
        [ "$(overlay_mounts "$T/state/upper")" -eq 0 ]
        [ ! -e "$T/state/upper" ]
}

@test "aside: a loop image mounted aside, a subtree of it bound; umount releases the device" {
        mkdir -p "$T/src/app/bin"
        echo tool >"$T/src/app/bin/tool"
        mkfs.erofs --quiet "$T/app.erofs" "$T/src" >/dev/null
        cat >"$T/p.profile" <<EOP
root  image  -              /     ro
app   loop   $T/app.erofs   -
opt   bind   @app/app       /opt  ro
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        [ "$(mounts_under "$D")" -eq 2 ]
        [ "$(mount_fstype "$D/opt")" = erofs ]
        [ "$(cat "$D/opt/bin/tool")" = tool ]
        [ "$(loops_of "$T/app.erofs" | wc -l)" -eq 1 ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
        [ -z "$(loops_of "$T/app.erofs")" ]
}

@test "aside: a shared profile's aside tmpfs serves its host mount once for every instance" {
        mkdir -p "$T/profiles" "$T/x" "$T/y" "$T/img/log"
        cat >"$T/profiles/pool.profile" <<EOP
pool  tmpfs  -           -               size=1M
area  bind   @pool/area  $T/host/area    rw,create
EOP
        cat >"$T/profiles/app.profile" <<EOP
root  image  -               /     ro
log   bind   pool:area/%n    /log  rw,create
EOP
        "$GOLDROOT" mount --profile "$T/profiles/app.profile" --image "$T/img" "$T/x"
        "$GOLDROOT" mount --profile "$T/profiles/app.profile" --image "$T/img" "$T/y"
        [ "$(mounts_at "$T/host/area")" -eq 1 ]
        [ "$(mount_fstype "$T/host/area")" = tmpfs ]
        echo from-x >"$T/x/log/m"
        [ "$(cat "$T/host/area/x/m")" = from-x ]
        [ -d "$T/host/area/y" ]
        "$GOLDROOT" umount "$T/x"
        [ "$(mounts_at "$T/host/area")" -eq 1 ]
        "$GOLDROOT" umount "$T/y"
        [ "$(mounts_at "$T/host/area")" -eq 0 ]
        [ "$(mounts_under "$T/x")" -eq 0 ]
        [ "$(mounts_under "$T/y")" -eq 0 ]
}

@test "aside: @ENTRY of an attached entry is a path inside its mount" {
        cat >"$T/p.profile" <<EOP
root  image  -          /      ro
t     tmpfs  -          /tmp   size=1M
x     bind   @t/sub     /opt   rw,create
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        [ -d "$D/tmp/sub" ]
        echo through-opt >"$D/opt/f"
        [ "$(cat "$D/tmp/sub/f")" = through-opt ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "aside: an optional aside entry that is skipped takes its optional users along" {
        cat >"$T/p.profile" <<EOP
root  image    -              /      ro
rw    overlay  image:/nothere -      upper=state:upper,optional
etc   bind     @rw/etc        /etc   rw,optional
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        [ "$(mounts_under "$D")" -eq 1 ]
        "$GOLDROOT" umount "$D"
        # A user that is not optional fails, and says why.
        sed -i 's/rw,optional$/rw/' "$T/p.profile"
        run "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        [ "$status" -eq 1 ]
        [ "${lines[0]}" = "goldroot: mount entry 'etc' (bind on /etc): entry 'rw' (mounted aside) was not mounted: No such file or directory" ]
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "ro profile: DESIGN §3's acceptance on the assembly of a busybox root" {
        "$GOLDROOT" mount --profile "$RO_PROFILE" --image "$T/img" --state "$T/state" "$D"
        # One overlay for everything: /, its five writable binds, two tmpfs,
        # and the package database (the image has no /var/lib/rpm).
        [ "$(mounts_under "$D")" -eq 9 ]
        [ "$(overlay_mounts "$T/state/root")" -eq 6 ]
        for f in /etc/foo /var/foo /root/foo /srv/foo /home/foo /tmp/foo; do
                chroot "$D" /bin/touch "$f"
        done
        for f in /foo /usr/foo /opt/foo /bin/foo /var/lib/dpkg/foo; do
                run chroot "$D" /bin/touch "$f"
                [ "$status" -ne 0 ]
                [[ "$output" == *"Read-only file system"* ]]
        done
        [ "$(chroot "$D" /bin/cat /var/lib/dpkg/status)" = installed ]
        # The writes are in the state, at their paths; the image is untouched.
        for f in etc/foo var/foo root/foo srv/foo home/foo; do
                [ -e "$T/state/root/$f" ]
        done
        [ ! -e "$T/state/root/tmp/foo" ]
        [ ! -e "$T/img/etc/foo" ]
        [ ! -e "$T/img/srv" ]

        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
        [ "$(overlay_mounts "$T/state/root")" -eq 0 ]
        "$GOLDROOT" mount --profile "$RO_PROFILE" --image "$T/img" --state "$T/state" "$D"
        for f in /etc/foo /var/foo /root/foo /srv/foo /home/foo; do
                chroot "$D" /bin/ls "$f"
        done
        run chroot "$D" /bin/ls /tmp/foo
        [ "$status" -ne 0 ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}
