#!/usr/bin/env bats
# The vmount story from seed 004, as goldroot does it: `vmount webapp
# /vservers/x` with a read-only root bound from a loop-mounted erofs bundle
# (the modern cloop), /etc a 10M tmpfs seeded from the bundle's /etc, and
# /var/log a per-instance directory made inside a shared log area that is
# mounted once for every instance.
load ../lib/common
load ../lib/mount

setup() {
        T=$BATS_TEST_TMPDIR
        mkdir -p "$T/bundle/etc" "$T/bundle/usr/bin" "$T/bundle/var/log" "$T/cloops" \
                "$T/profiles" "$T/vservers/x" "$T/vservers/y"
        echo webapp >"$T/bundle/etc/hostname"
        echo "Listen 80" >"$T/bundle/etc/httpd.conf"
        echo "#!/bin/sh" >"$T/bundle/usr/bin/webapp"
        chmod 0755 "$T/bundle/usr/bin/webapp"
        mkfs.erofs --quiet "$T/cloops/webapp.erofs" "$T/bundle" >/dev/null
        cat >"$T/profiles/bundles.profile" <<EOP
# The bundles: each one an erofs image, loop-mounted once on the host.
webapp  loop  $T/cloops/webapp.erofs  $T/bundles/webapp
EOP
        cat >"$T/profiles/logs.profile" <<EOP
# One log area for every instance.
logshare  tmpfs  -  $T/data/logshare  size=32M,mode=0755
EOP
        cat >"$T/profiles/webapp.profile" <<EOP
main    bind   bundles:webapp        /         ro
config  tmpfs  -                     /etc      copy,size=10M
log     bind   logs:logshare/%n/log  /var/log  rw,create
EOP
        X=$T/vservers/x
        Y=$T/vservers/y
}

teardown() {
        mount_teardown
}

@test "vmount: two instances of webapp share the bundle and the log area" {
        "$GOLDROOT" mount --profile "$T/profiles/webapp.profile" "$X"
        "$GOLDROOT" mount --profile "$T/profiles/webapp.profile" "$Y"

        # The bundle and the log area are mounted once, on one loop device.
        [ "$(mounts_at "$T/bundles/webapp")" -eq 1 ]
        [ "$(mount_fstype "$T/bundles/webapp")" = erofs ]
        [ "$(loops_of "$T/cloops/webapp.erofs" | wc -l)" -eq 1 ]
        [ "$(mounts_at "$T/data/logshare")" -eq 1 ]

        for v in "$X" "$Y"; do
                [ -x "$v/usr/bin/webapp" ]
                has_opt "$v" ro
                [ "$(mount_fstype "$v/etc")" = tmpfs ]
                [ $(( $(stat -f -c '%b * %S' "$v/etc") )) -eq $((10 * 1024 * 1024)) ]
                [ "$(cat "$v/etc/hostname")" = webapp ]
        done

        # Per-instance log directories, created inside the shared area.
        [ -d "$T/data/logshare/x/log" ]
        [ -d "$T/data/logshare/y/log" ]
        echo "x started" >"$X/var/log/messages"
        echo "y started" >"$Y/var/log/messages"
        [ "$(cat "$T/data/logshare/x/log/messages")" = "x started" ]
        [ "$(cat "$T/data/logshare/y/log/messages")" = "y started" ]
}

@test "vmount: the read-only parts refuse writes with EROFS, /etc takes them" {
        "$GOLDROOT" mount --profile "$T/profiles/webapp.profile" "$X"
        for p in "$X/newfile" "$X/usr/bin/evil" "$T/bundles/webapp/evil"; do
                run touch "$p"
                [ "$status" -ne 0 ]
                [[ "$output" == *"Read-only file system"* ]]
        done
        echo "Listen 8080" >"$X/etc/httpd.conf"
        touch "$X/etc/local"
        [ "$(cat "$X/etc/httpd.conf")" = "Listen 8080" ]
        "$GOLDROOT" umount "$X"
        [ "$(mounts_under "$X")" -eq 0 ]

        # /etc was a tmpfs: the next assembly starts from the bundle again.
        "$GOLDROOT" mount --profile "$T/profiles/webapp.profile" "$X"
        [ "$(cat "$X/etc/httpd.conf")" = "Listen 80" ]
        [ ! -e "$X/etc/local" ]
        "$GOLDROOT" umount "$X"
}

@test "vmount: the shared mounts stay until the last instance is gone" {
        "$GOLDROOT" mount --profile "$T/profiles/webapp.profile" "$X"
        "$GOLDROOT" mount --profile "$T/profiles/webapp.profile" "$Y"
        echo kept >"$X/var/log/messages"

        "$GOLDROOT" umount "$X"
        [ "$(mounts_under "$X")" -eq 0 ]
        [ "$(mounts_at "$T/bundles/webapp")" -eq 1 ]
        [ "$(mounts_at "$T/data/logshare")" -eq 1 ]
        [ "$(cat "$T/data/logshare/x/log/messages")" = kept ]
        [ -x "$Y/usr/bin/webapp" ]

        "$GOLDROOT" umount "$Y"
        [ "$(mounts_under "$Y")" -eq 0 ]
        [ "$(mounts_at "$T/bundles/webapp")" -eq 0 ]
        [ "$(mounts_at "$T/data/logshare")" -eq 0 ]
        [ -z "$(loops_of "$T/cloops/webapp.erofs")" ]
}
