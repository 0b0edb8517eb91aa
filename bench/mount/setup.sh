#!/usr/bin/env bash
# Builds the bench/mount fixture in DIR: an image tree, a state tree, an erofs
# image for the loop entry, and bench.profile (10 entries: 6 binds, 2
# overlays, a tmpfs and a loop) that raw.c mirrors syscall for syscall.
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
rm -rf "$dir"
mkdir -p "$dir"/{image,state,root,optsrc}
img=$dir/image
mkdir -p "$img"/{etc,var/lib/dpkg,var/log,usr/bin,opt,home,root,srv,tmp,run}
echo bench >"$img/etc/hostname"
echo "ii  bench" >"$img/var/lib/dpkg/status"
cp /bin/busybox "$img/usr/bin/busybox" 2>/dev/null || true
mkdir -p "$dir"/state/{etc,var,home,root,srv,log,.work/etc,.work/var} "$dir"/state-{a,b}
echo "optional software" >"$dir/optsrc/README"
mkfs.erofs --quiet "$dir/opt.erofs" "$dir/optsrc" >/dev/null
cat >"$dir/bench.profile" <<EOP
# bench/mount: 6 binds, 2 overlays, 1 tmpfs, 1 loop
root  bind     $dir/image              /              ro
etc   overlay  $dir/image/etc          /etc           upper=$dir/state/etc
var   overlay  $dir/image/var          /var           upper=$dir/state/var
tmp   tmpfs    -                       /tmp           size=64M,mode=1777
home  bind     $dir/state/home         /home          rw
rooth bind     $dir/state/root         /root          rw
srv   bind     $dir/state/srv          /srv           rw
dpkg  bind     $dir/image/var/lib/dpkg /var/lib/dpkg  ro
log   bind     $dir/state/log          /var/log       rw
opt   loop     $dir/opt.erofs          /opt
EOP
# The ro layout before aside entries (for --layouts): an overlay for each
# writable directory. The aside layout to compare it with is profiles/ro.profile.
cat >"$dir/ro-overlays.profile" <<EOP
root     image    -                    /               ro
etc      overlay  image:/etc           /etc            upper=state:etc
var      overlay  image:/var           /var            upper=state:var
roothome overlay  image:/root          /root           upper=state:root
srv      overlay  image:/srv           /srv            upper=state:srv
home     overlay  image:/home          /home           upper=state:home
tmp      tmpfs    -                    /tmp            mode=1777,nosuid,nodev
run      tmpfs    -                    /run            mode=0755,nosuid,nodev
dpkg     bind     image:/var/lib/dpkg  /var/lib/dpkg   ro,optional
rpm      bind     image:/var/lib/rpm   /var/lib/rpm    ro,optional
EOP
