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
