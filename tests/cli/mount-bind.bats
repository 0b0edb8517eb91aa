#!/usr/bin/env bats
# goldroot mount: bind and image entries, read-only (recursive), create,
# optional, and the nosuid/nodev/noexec flags.
load ../lib/common
load ../lib/mount

setup() {
        T=$BATS_TEST_TMPDIR
        D=$T/root
        mkdir -p "$D" "$T/img/etc" "$T/img/srv" "$T/data"
        echo gold >"$T/img/etc/hostname"
}

teardown() {
        mount_teardown
}

@test "bind: ro makes the root read-only, rw writes through" {
        cat >"$T/p.profile" <<EOP
root  bind  $T/img   /     ro
srv   bind  $T/data  /srv  rw
EOP
        run "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$status" -eq 0 ]
        [ "$(cat "$D/etc/hostname")" = gold ]
        run touch "$D/foo"
        [ "$status" -ne 0 ]
        [[ "$output" == *"Read-only file system"* ]]
        touch "$D/srv/bar"
        [ -e "$T/data/bar" ]
        has_opt "$D" ro
        has_opt "$D/srv" rw
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "image: the root comes from --image, read-only" {
        cat >"$T/p.profile" <<EOP
root  image  -  /  ro
EOP
        run "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        [ "$status" -eq 0 ]
        [ "$(cat "$D/etc/hostname")" = gold ]
        run touch "$D/etc/x"
        [[ "$output" == *"Read-only file system"* ]]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "image: an image: source without --image is refused before mounting" {
        cat >"$T/p.profile" <<EOP
root  image  -  /  ro
EOP
        run "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "goldroot: $T/p.profile:1:"*"image"* ]]
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "recursive read-only: a submount inside a bind source is read-only too" {
        mkdir -p "$T/img/sub"
        mount -t tmpfs sub "$T/img/sub"
        touch "$T/img/sub/there"
        cat >"$T/p.profile" <<EOP
root  bind  $T/img  /  ro
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ -e "$D/sub/there" ]
        run touch "$D/sub/new"
        [ "$status" -ne 0 ]
        [[ "$output" == *"Read-only file system"* ]]
        has_opt "$D/sub" ro
        # The source's own submount stays writable.
        touch "$T/img/sub/still-writable"
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
        umount "$T/img/sub"
}

@test "bind create: the state directory and the mount point are made on demand" {
        mkdir -p "$T/state"
        cat >"$T/p.profile" <<EOP
home  bind  state:home/%n  /home  rw,create
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" --state "$T/state" --name alice "$D"
        [ -d "$T/state/home/alice" ]
        [ -d "$D/home" ]
        touch "$D/home/notes"
        [ -e "$T/state/home/alice/notes" ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
        [ -e "$T/state/home/alice/notes" ]
}

@test "bind create: a file source gets a file mount point" {
        echo "nameserver 192.0.2.1" >"$T/resolv.conf"
        cat >"$T/p.profile" <<EOP
dns  bind  $T/resolv.conf  /etc/resolv.conf  ro,create
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ -f "$D/etc/resolv.conf" ]
        grep -q 192.0.2.1 "$D/etc/resolv.conf"
        "$GOLDROOT" umount "$D"
}

@test "bind optional: a missing source skips the entry" {
        cat >"$T/p.profile" <<EOP
root  image  -                    /              ro
dpkg  bind   image:/var/lib/dpkg  /var/lib/dpkg  ro,optional
srv   bind   $T/data              /srv           rw
EOP
        run "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        [ "$status" -eq 0 ]
        [ "$(mounts_under "$D")" -eq 2 ]
        [ ! -e "$D/var" ]
        "$GOLDROOT" umount "$D"
}

@test "bind without optional: a missing source fails and names the entry" {
        cat >"$T/p.profile" <<EOP
srv  bind  $T/nowhere  /srv  rw
EOP
        mkdir -p "$D/srv"
        run "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "goldroot: mount entry 'srv' (bind on /srv): "*"No such file or directory" ]]
}

@test "nosuid, nodev and noexec show in /proc/self/mountinfo" {
        cat >"$T/p.profile" <<EOP
srv  bind   $T/data  /srv  rw,nosuid,nodev,noexec
tmp  tmpfs  -        /tmp  nosuid,nodev,noexec
EOP
        mkdir -p "$D/srv" "$D/tmp"
        "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        for o in nosuid nodev noexec; do
                has_opt "$D/srv" "$o"
                has_opt "$D/tmp" "$o"
        done
        ! has_opt "$D/srv" ro
        "$GOLDROOT" umount "$D"
}

@test "image: a bind of image:PATH is read-only without being told, and rw on it is refused" {
        cat >"$T/p.profile" <<EOP
root  bind   $T/data     /     rw
etc   bind   image:/etc  /etc  create
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        run touch "$D/etc/x"
        [[ "$output" == *"Read-only file system"* ]]
        run sh -c "echo changed >'$D/etc/hostname'"
        [ "$status" -ne 0 ]
        has_opt "$D/etc" ro
        "$GOLDROOT" umount "$D"
        [ "$(cat "$T/img/etc/hostname")" = gold ]
        [ ! -e "$T/img/etc/x" ]

        # rw on the image, on a bind of it, or through a bind of an image
        # entry: the profile is refused before anything is mounted.
        printf 'root image - / rw\n' >"$T/a.profile"
        printf 'root bind %s / ro\netc bind image:/etc /etc rw\n' "$T/data" >"$T/b.profile"
        for p in a b; do
                run "$GOLDROOT" mount --profile "$T/$p.profile" --image "$T/img" "$D"
                [ "$status" -eq 2 ]
                [ "${#lines[@]}" -eq 1 ]
                [[ "${lines[0]}" == "goldroot: $T/$p.profile:"*": option 'rw' would write into the shared image, which is always read-only: use an overlay with upper= for a writable view" ]]
                [ "$(mounts_under "$D")" -eq 0 ]
        done
        # Through an attached image entry, the mount it lies on decides.
        printf 'root image - / ro\netc bind @root/etc /srv rw\n' >"$T/c.profile"
        mkdir -p "$T/img/srv"
        run "$GOLDROOT" mount --profile "$T/c.profile" --image "$T/img" "$D"
        [ "$status" -eq 1 ]
        [ "${lines[0]}" = "goldroot: mount entry 'etc' (bind on /srv): cannot bind @root:/etc read-write: it is the shared image, which is always read-only: Read-only file system" ]
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "bind rw of a read-only mount: the bind is writable, as mount -o bind,rw makes it" {
        # An entry mounted ro, bound again rw.
        cat >"$T/p.profile" <<EOP
root  bind   $T/data  /     rw
t     tmpfs  -        -     ro
x     bind   @t       /x    rw,create
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        touch "$D/x/new"
        has_opt "$D/x" rw
        "$GOLDROOT" umount "$D"

        # A read-only bind on the host, bound rw: the writes reach it.
        mkdir -p "$T/ro-src"
        mount --bind "$T/ro-src" "$T/ro-src"
        mount -o remount,bind,ro "$T/ro-src"
        cat >"$T/q.profile" <<EOP
root  bind   $T/data    /     rw
y     bind   $T/ro-src  /y    rw,create
EOP
        "$GOLDROOT" mount --profile "$T/q.profile" "$D"
        touch "$D/y/through"
        [ -e "$T/ro-src/through" ]
        has_opt "$T/ro-src" ro
        "$GOLDROOT" umount "$D"
        umount "$T/ro-src"
}

@test "bind rw of a read-only file system is an error, not a quiet read-only mount" {
        mkfs.erofs --quiet "$T/e.img" "$T/img" >/dev/null
        cat >"$T/p.profile" <<EOP
root  bind   $T/data   /     rw
l     loop   $T/e.img  -
z     bind   @l        /z    rw,create
EOP
        run "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "goldroot: mount entry 'z' (bind on /z): cannot bind @l:/ read-write: Read-only file system" ]
        [ "$(mounts_under "$D")" -eq 0 ]
        [ -z "$(loops_of "$T/e.img")" ]
}

@test "@ENTRY of an attached image entry: rw is refused where the path lies on the image, allowed where another mount lies" {
        mkdir -p "$T/state" "$T/img/srv/www" "$T/img/usr" "$T/img/mnt"
        # /srv/www lies on the writable data mount stacked on the image root:
        # that is not the image, and rw writes to the state.
        cat >"$T/p.profile" <<EOP
root  image  -                 /     ro
data  bind   state:data        /srv  rw,create
www   bind   @root/srv/www     /mnt  rw,create,after=data
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" --state "$T/state" "$D"
        touch "$D/mnt/a"
        [ -e "$T/state/data/www/a" ]
        [ ! -e "$T/img/srv/www/a" ]
        "$GOLDROOT" umount "$D"

        # /usr lies on the image root itself: rw is refused when mounting,
        # and without rw the bind is read-only.
        cat >"$T/q.profile" <<EOP
root  image  -             /     ro
u     bind   @root/usr     /mnt  rw,create
EOP
        run "$GOLDROOT" mount --profile "$T/q.profile" --image "$T/img" "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "goldroot: mount entry 'u' (bind on /mnt): cannot bind @root:/usr read-write: it is the shared image, which is always read-only: Read-only file system" ]
        [ "$(mounts_under "$D")" -eq 0 ]
        sed -i 's/rw,create/create/' "$T/q.profile"
        "$GOLDROOT" mount --profile "$T/q.profile" --image "$T/img" "$D"
        run touch "$D/mnt/x"
        [[ "$output" == *"Read-only file system"* ]]
        has_opt "$D/mnt" ro
        "$GOLDROOT" umount "$D"
        [ ! -e "$T/img/usr/x" ]
}
