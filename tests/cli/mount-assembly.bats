#!/usr/bin/env bats
# goldroot mount/umount as a pair: assembled directories are recorded, can
# not be assembled twice, and umount takes down only what goldroot made.
load ../lib/common
load ../lib/mount

setup() {
        T=$BATS_TEST_TMPDIR
        D=$T/root
        mkdir -p "$D" "$T/img/etc" "$T/img/opt" "$T/img/tmp" "$T/img/var/log" "$T/src"
        echo hi >"$T/src/hi"
        mkfs.erofs --quiet "$T/opt.erofs" "$T/src" >/dev/null
        cat >"$T/p.profile" <<EOP
root  image  -             /         ro
opt   loop   $T/opt.erofs  /opt
tmp   tmpfs  -             /tmp      size=1M
etc   tmpfs  -             /etc      copy
EOP
}

teardown() {
        mount_teardown
}

@test "umount takes down every mount and releases the loop device" {
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        [ "$(mounts_under "$D")" -eq 4 ]
        [ "$(loops_of "$T/opt.erofs" | wc -l)" -eq 1 ]
        run "$GOLDROOT" umount "$D"
        [ "$status" -eq 0 ]
        [ "$(mounts_under "$D")" -eq 0 ]
        [ -z "$(loops_of "$T/opt.erofs")" ]
        # The record went with it.
        run "$GOLDROOT" umount "$D"
        [ "$status" -eq 1 ]
}

@test "mount onto an assembled directory fails" {
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        run "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "goldroot: mount $D: already assembled by goldroot (goldroot umount it first)" ]
        [ "$(mounts_under "$D")" -eq 4 ]
        "$GOLDROOT" umount "$D"
}

@test "umount of a directory goldroot did not assemble is refused" {
        mkdir -p "$T/other"
        mount -t tmpfs other "$T/other"
        run "$GOLDROOT" umount "$T/other"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "goldroot: umount $T/other: not assembled by goldroot" ]
        [ "$(mounts_at "$T/other")" -eq 1 ]
        umount "$T/other"
}

@test "a stale record (assembly unmounted behind goldroot's back) is cleaned up" {
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        umount -R "$D"
        run "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        [ "$status" -eq 0 ]
        [ "$(mounts_under "$D")" -eq 4 ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "a symlink planted inside the assembly cannot redirect umount to the host" {
        # A writable root whose /var/log is a mount; the "guest" then swaps
        # /var for a symlink to a host directory that has its own mount.
        mkdir -p "$T/rw/var/log" "$T/decoy/log"
        mount -t tmpfs decoy "$T/decoy/log"
        cat >"$T/rw.profile" <<EOP
root  bind   $T/rw  /         rw
log   tmpfs  -      /var/log  size=1M
EOP
        "$GOLDROOT" mount --profile "$T/rw.profile" "$D"
        mv "$D/var" "$D/var.old"
        ln -s "$T/decoy" "$D/var"
        run "$GOLDROOT" umount "$D"
        [ "$status" -eq 0 ]
        [ "$(mounts_under "$D")" -eq 0 ]
        [ "$(mounts_at "$T/decoy/log")" -eq 1 ]
        umount "$T/decoy/log"
}

@test "mount NAME of an instance the store does not have is a one-line error" {
        run "$GOLDROOT" mount web01 "$D"
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: store $GOLDROOT_STORE: no such store" ]
        mkdir -p "$BATS_TEST_TMPDIR/empty"
        "$GOLDROOT" image import e:1 "$BATS_TEST_TMPDIR/empty" >/dev/null
        run "$GOLDROOT" mount web01 "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "goldroot: "*"web01"* ]]
        ! grep -q " $D " /proc/self/mountinfo
}

@test "mount and umount: bad usage exits 2" {
        run "$GOLDROOT" mount --profile "$T/p.profile"
        [ "$status" -eq 2 ]
        run "$GOLDROOT" umount
        [ "$status" -eq 2 ]
        run "$GOLDROOT" mount --bogus "$D"
        [ "$status" -eq 2 ]
}

@test "mount and umount: an unknown or incomplete option is one line naming it" {
        run "$GOLDROOT" mount --bogus "$D"
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: mount: unknown option '--bogus'; see 'goldroot mount --help'" ]
        run "$GOLDROOT" mount --profile
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: mount: option '--profile' needs a value; see 'goldroot mount --help'" ]
        run "$GOLDROOT" mount -qx "$D"
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: mount: unknown option '-x'; see 'goldroot mount --help'" ]
        run "$GOLDROOT" umount -x "$D"
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: umount: unknown option '-x'; see 'goldroot umount --help'" ]
        run "$GOLDROOT" umount --json=yes "$D"
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: umount: option '--json' takes no value; see 'goldroot umount --help'" ]
}

@test "umount refuses, and keeps the record, while a foreign mount covers the assembly" {
        printf 't  tmpfs  -  /a\n' >"$T/a.profile"
        mkdir "$D/a"
        "$GOLDROOT" mount --profile "$T/a.profile" "$D"
        echo ours >"$D/a/mark"
        mount -t tmpfs foreign "$D/a"
        run "$GOLDROOT" umount "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "goldroot: umount $D: /a is covered by a mount goldroot did not make (unmount that first)" ]
        [ "$(mounts_at "$D/a")" -eq 2 ]
        # Once the foreign mount is gone, the kept record takes ours down.
        umount "$D/a"
        [ "$(cat "$D/a/mark")" = ours ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "umount refuses while a foreign mount covers the directory itself" {
        printf 't  tmpfs  -  /a\n' >"$T/a.profile"
        mkdir "$D/a"
        "$GOLDROOT" mount --profile "$T/a.profile" "$D"
        mount -t tmpfs foreign "$D"
        mkdir "$D/a"
        run "$GOLDROOT" umount "$D"
        [ "$status" -eq 1 ]
        [ "${lines[0]}" = "goldroot: umount $D: /a is covered by a mount goldroot did not make (unmount that first)" ]
        umount "$D"
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
}

@test "mount refuses control characters in --name and --hostname, which end in the record" {
        mkdir -p "$T/srcdir"
        printf 'b  bind   %s  /d/%%n  rw,create\nc  tmpfs  -  /d/%%h/tmp\n' "$T/srcdir" >"$T/nl.profile"
        run "$GOLDROOT" mount --profile "$T/nl.profile" --name $'a\nb' "$D"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "goldroot: mount: --name must not contain control characters" ]
        run "$GOLDROOT" mount --profile "$T/nl.profile" --hostname $'h\rx' "$D"
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: mount: --hostname must not contain control characters" ]
        [ "$(mounts_under "$D")" -eq 0 ]
        [ ! -e "$D/d" ]
}
