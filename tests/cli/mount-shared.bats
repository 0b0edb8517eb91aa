#!/usr/bin/env bats
# goldroot mount: FILE:ENTRY sources. The shared entry is mounted once on the
# host and reference-counted: the last assembly to let go unmounts it.
load ../lib/common
load ../lib/mount

setup() {
        T=$BATS_TEST_TMPDIR
        mkdir -p "$T/a/log" "$T/b/log" "$T/c/log"
        cat >"$T/logs.profile" <<EOP
area  tmpfs  -  $T/share/logs  size=8M,mode=0755
EOP
        cat >"$T/web.profile" <<EOP
log  bind  logs:area/%n/log  /log  rw,create
EOP
}

teardown() {
        mount_teardown
}

@test "shared: mounted once for two assemblies, kept until the last umount" {
        "$GOLDROOT" mount --profile "$T/web.profile" "$T/a"
        [ "$(mounts_at "$T/share/logs")" -eq 1 ]
        [ "$(mount_fstype "$T/share/logs")" = tmpfs ]
        "$GOLDROOT" mount --profile "$T/web.profile" "$T/b"
        [ "$(mounts_at "$T/share/logs")" -eq 1 ]

        # Each assembly has its own directory inside the one shared area.
        echo from-a >"$T/a/log/messages"
        echo from-b >"$T/b/log/messages"
        [ "$(cat "$T/share/logs/a/log/messages")" = from-a ]
        [ "$(cat "$T/share/logs/b/log/messages")" = from-b ]

        "$GOLDROOT" umount "$T/a"
        [ "$(mounts_under "$T/a")" -eq 0 ]
        [ "$(mounts_at "$T/share/logs")" -eq 1 ]
        [ "$(cat "$T/b/log/messages")" = from-b ]

        "$GOLDROOT" umount "$T/b"
        [ "$(mounts_under "$T/b")" -eq 0 ]
        [ "$(mounts_at "$T/share/logs")" -eq 0 ]
}

@test "shared: concurrent mounts take the lock and share one mount" {
        "$GOLDROOT" mount --profile "$T/web.profile" "$T/a" &
        "$GOLDROOT" mount --profile "$T/web.profile" "$T/b" &
        "$GOLDROOT" mount --profile "$T/web.profile" "$T/c" &
        wait %1 && wait %2 && wait %3
        [ "$(mounts_at "$T/share/logs")" -eq 1 ]
        for x in a b c; do
                [ "$(mounts_at "$T/$x/log")" -eq 1 ]
        done
        "$GOLDROOT" umount "$T/a" & "$GOLDROOT" umount "$T/b" & wait %1 && wait %2
        [ "$(mounts_at "$T/share/logs")" -eq 1 ]
        "$GOLDROOT" umount "$T/c"
        [ "$(mounts_at "$T/share/logs")" -eq 0 ]
}

@test "shared: a failed assembly gives back the reference it took" {
        cat >"$T/bad.profile" <<EOP
log   bind  logs:area/%n/log  /log      rw,create
miss  bind  $T/nowhere        /missing  rw
EOP
        run "$GOLDROOT" mount --profile "$T/bad.profile" "$T/a"
        [ "$status" -eq 1 ]
        [[ "$output" == *"mount entry 'miss'"* ]]
        [ "$(mounts_at "$T/share/logs")" -eq 0 ]
        [ "$(mounts_under "$T/a")" -eq 0 ]
}

@test "shared: umount of a removed DIR gives back its shared references" {
        mkdir -p "$T/real/x" "$T/real/y"
        ln -s real "$T/link"
        "$GOLDROOT" mount --profile "$T/web.profile" "$T/real/x"
        "$GOLDROOT" mount --profile "$T/web.profile" "$T/link/y"
        [ "$(mounts_at "$T/share/logs")" -eq 1 ]
        # Taken down behind goldroot's back, then removed.
        umount "$T/real/x/log" "$T/real/y/log"
        rm -rf "$T/real/x" "$T/real/y"

        run "$GOLDROOT" umount "$T/real/x"
        [ "$status" -eq 0 ]
        [ "$output" = "goldroot: umount $T/real/x: No such file or directory; dropping its shared references only" ]
        [ "$(mounts_at "$T/share/logs")" -eq 1 ]
        # Relative, through the symlink and with a "..": the same record.
        cd "$T/real"
        run "$GOLDROOT" umount ../link/./z/../y/
        [ "$status" -eq 0 ]
        [ "$(mounts_at "$T/share/logs")" -eq 0 ]
        run "$GOLDROOT" umount "$T/real/y"
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: umount $T/real/y: not assembled by goldroot" ]
}

@test "shared: a host target held by one shared entry is refused to another, naming both" {
        mkdir -p "$T/pd" "$T/img" "$T/ma/x" "$T/mb/y"
        echo img >"$T/img/file"
        printf 'area  tmpfs  -  %s/share/area  mode=0700\n' "$T" >"$T/pd/la.profile"
        printf 'area  bind  %s/img  %s/share/area  ro\n' "$T" "$T" >"$T/pd/lb.profile"
        printf 'x  bind  la:area  /x\n' >"$T/pd/pa.profile"
        printf 'y  bind  lb:area  /y\n' >"$T/pd/pb.profile"
        "$GOLDROOT" mount --profile "$T/pd/pa.profile" "$T/ma"
        run "$GOLDROOT" mount --profile "$T/pd/pb.profile" "$T/mb"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "goldroot: mount entry 'lb:area' (bind on $T/share/area): the host target is already held by a different shared entry, 'la:area': File exists" ]
        [ "$(mounts_under "$T/mb")" -eq 0 ]
        [ "$(mounts_at "$T/share/area")" -eq 1 ]
        [ "$(mount_fstype "$T/share/area")" = tmpfs ]
        "$GOLDROOT" umount "$T/ma"
        [ "$(mounts_at "$T/share/area")" -eq 0 ]
        # Once la's mount is gone, lb may have the target.
        "$GOLDROOT" mount --profile "$T/pd/pb.profile" "$T/mb"
        [ "$(cat "$T/mb/y/file")" = img ]
        "$GOLDROOT" umount "$T/mb"
}

@test "shared: one profile referring to two shared entries with one host target fails at plan time" {
        mkdir -p "$T/pd" "$T/img" "$T/m/x" "$T/m/y"
        printf 'area  tmpfs  -  %s/share/area  mode=0700\n' "$T" >"$T/pd/la.profile"
        printf 'area  bind  %s/img  %s/share/area  ro\n' "$T" "$T" >"$T/pd/lb.profile"
        printf 'x  bind  la:area  /x\ny  bind  lb:area  /y\n' >"$T/pd/both.profile"
        run "$GOLDROOT" plan --profile "$T/pd/both.profile"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "goldroot: $T/pd/lb.profile:1:$((19 + ${#T})): host target '$T/share/area' of shared entry 'lb:area' is also the host target of 'la:area' at $T/pd/la.profile:1" ]
        run "$GOLDROOT" mount --profile "$T/pd/both.profile" "$T/m"
        [ "$status" -eq 2 ]
        [ "$(mounts_at "$T/share/area")" -eq 0 ]
}
