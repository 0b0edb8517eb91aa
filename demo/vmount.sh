#!/usr/bin/env bash
# The vmount story from seed 004 (vserver mailing list, 2004), told by
# goldroot: `vmount webapp /vservers/x` becomes
# `goldroot mount --profile webapp.profile /vservers/x`. One line per step;
# exits non-zero as soon as a step does not behave. Runs in its own mount
# namespace and removes everything it made.
#
# Usage: demo/vmount.sh GOLDROOT_BINARY
set -euo pipefail

# shellcheck source=demo/lib.bash
source "$(dirname "$(realpath "$0")")/lib.bash"
STEP_WIDTH=62
demo_enter "$(realpath "$0")" "${1:?usage: demo/vmount.sh GOLDROOT_BINARY}"

W=$(mktemp -d /tmp/goldroot-vmount.XXXXXX)
export GOLDROOT_RUNDIR=$W/run
cleanup() {
        demo_umount_below "$W"
        rm -rf "$W"
}
trap cleanup EXIT

mounts_at() { awk -v d="$1" '$5 == d { n++ } END { print n + 0 }' /proc/self/mountinfo; }
fstype_at() {
        awk -v d="$1" '$5 == d { for (i = 7; i <= NF; i++) if ($i == "-") t = $(i + 1) }
                       END { print t }' /proc/self/mountinfo
}
source_at() {
        awk -v d="$1" '$5 == d { for (i = 7; i <= NF; i++) if ($i == "-") s = $(i + 2) }
                       END { print s }' /proc/self/mountinfo
}
expect_erofs() { # expect_erofs FILE: writing FILE must fail with EROFS
        local err
        if err=$(touch "$1" 2>&1); then
                echo "$1 was writable"
                return 1
        fi
        [[ "$err" == *"Read-only file system"* ]] || { echo "$err"; return 1; }
        echo "EROFS"
}

build_bundle() {
        mkdir -p "$W/bundle/etc" "$W/bundle/usr/bin" "$W/bundle/var/log" "$W/cloops"
        echo webapp >"$W/bundle/etc/hostname"
        echo "Listen 80" >"$W/bundle/etc/httpd.conf"
        cp /bin/busybox "$W/bundle/usr/bin/" 2>/dev/null || echo '#!/bin/sh' >"$W/bundle/usr/bin/webapp"
        mkfs.erofs --quiet "$W/cloops/webapp.erofs" "$W/bundle" >/dev/null
        echo "$(du -h "$W/cloops/webapp.erofs" | cut -f1) erofs image"
}

write_profiles() {
        mkdir -p "$W/profiles" "$W/vservers/x" "$W/vservers/y"
        cat >"$W/profiles/bundles.profile" <<EOP
webapp    loop   $W/cloops/webapp.erofs  $W/bundles/webapp
EOP
        cat >"$W/profiles/logs.profile" <<EOP
logshare  tmpfs  -                       $W/data/logshare  size=32M,mode=0755
EOP
        cat >"$W/profiles/webapp.profile" <<EOP
main      bind   bundles:webapp          /         ro
config    tmpfs  -                       /etc      copy,size=10M
log       bind   logs:logshare/%n/log    /var/log  rw,create
EOP
        echo "webapp, bundles, logs"
}

plan_ok() {
        "$GR" plan --profile "$W/profiles/webapp.profile" --name x >/dev/null
        echo "$("$GR" plan --profile "$W/profiles/webapp.profile" --name x | wc -l) mounts in order"
}
vmount() { "$GR" mount --profile "$W/profiles/webapp.profile" "$W/vservers/$1"; }
shared_once() {
        [ "$(mounts_at "$W/bundles/webapp")" -eq 1 ] && [ "$(mounts_at "$W/data/logshare")" -eq 1 ] &&
                [ "$(fstype_at "$W/bundles/webapp")" = erofs ] &&
                echo "erofs on $(source_at "$W/bundles/webapp"), log area: tmpfs"
}
root_ro() { expect_erofs "$W/vservers/$1/usr/bin/intruder"; }
etc_tmpfs() {
        local e=$W/vservers/$1/etc
        [ "$(fstype_at "$e")" = tmpfs ] && [ "$(cat "$e/hostname")" = webapp ] &&
                [ $(($(stat -f -c '%b * %S' "$e"))) -eq $((10 << 20)) ] && echo "10M tmpfs"
}
etc_write() { echo "Listen 8080" >"$W/vservers/x/etc/httpd.conf" && echo "httpd.conf changed"; }
log_write() {
        echo "x: started" >"$W/vservers/x/var/log/messages"
        echo "y: started" >"$W/vservers/y/var/log/messages"
        [ "$(cat "$W/data/logshare/x/log/messages")" = "x: started" ] &&
                [ "$(cat "$W/data/logshare/y/log/messages")" = "y: started" ] &&
                echo "logshare/x/log, logshare/y/log"
}
umount_x() {
        "$GR" umount "$W/vservers/x"
        [ "$(mounts_at "$W/vservers/x")" -eq 0 ] && [ "$(mounts_at "$W/bundles/webapp")" -eq 1 ] &&
                [ "$(mounts_at "$W/data/logshare")" -eq 1 ] && echo "shared mounts kept for y"
}
etc_gone() {
        vmount x && [ "$(cat "$W/vservers/x/etc/httpd.conf")" = "Listen 80" ] &&
                "$GR" umount "$W/vservers/x" && echo "httpd.conf back to the bundle's"
}
umount_y() {
        "$GR" umount "$W/vservers/y"
        [ "$(mounts_at "$W/bundles/webapp")" -eq 0 ] && [ "$(mounts_at "$W/data/logshare")" -eq 0 ] &&
                [ -z "$(losetup -n -j "$W/cloops/webapp.erofs")" ] && echo "bundle, log area, loop device"
}

echo "vmount webapp /vservers/x, the goldroot way (seed 004)"
step "build the webapp bundle (the modern cloop)" build_bundle
step "write the profiles" write_profiles
step "plan webapp" plan_ok
step "goldroot mount webapp onto /vservers/x" vmount x
step "goldroot mount webapp onto /vservers/y" vmount y
step "bundle and log area are mounted once for both" shared_once
step "x: writing under / fails" root_ro x
step "y: writing under / fails" root_ro y
step "x: /etc is a tmpfs seeded from the bundle's /etc" etc_tmpfs x
step "x: writing /etc succeeds" etc_write
step "each instance logs into its own dir in the shared area" log_write
step "goldroot umount /vservers/x" umount_x
step "x again: the /etc change is gone" etc_gone
step "goldroot umount /vservers/y: last user releases" umount_y
echo "vmount demo: all $n steps behaved"
