#!/usr/bin/env bash
# bench/upgrade: N ro instances (default 1000), each with 10 local /etc edits,
# upgraded from a Debian minbase v1 to a v2 with 1% of its files changed.
# Prints the per-instance time of `goldroot upgrade --all`, and of the seeds'
# way (a backup with rsync, the new gold's /etc with rsync, and diff3 for each
# locally changed file) over the same instances, in the same run.
#
# The local edits are written into each instance's state as overlayfs would
# have copied them up (same owner and mode, then changed), rather than by
# starting 1,000 instances: the upgrade only ever sees the state.
#
# Everything lives on a fresh ext4 file system in a loop-mounted file under
# WORKDIR: right after mass deletions (an earlier run's rm -rf), ext4's
# inode allocator skips and re-reads recently deleted inodes for a few
# minutes, and that, not goldroot or rsync, then dominates every file
# creation (14.5 ms per instance measured that way on the test machine).
#
# Usage: bench/upgrade/run.sh GOLDROOT WORKDIR
set -euo pipefail
cd "$(dirname "$0")/../.."
GR=$(realpath "${1:?usage: bench/upgrade/run.sh GOLDROOT WORKDIR}")
work=${2:?usage: bench/upgrade/run.sh GOLDROOT WORKDIR}
N=${UPGRADE_INSTANCES:-1000}
. tests/lib/images.bash

mkdir -p "$work"
work=$(realpath "$work")
rm -rf "${work:?}/fs" "$work/fs.img"
truncate -s "${UPGRADE_FS_SIZE:-12G}" "$work/fs.img"
mkfs.ext4 -q -F "$work/fs.img"
mkdir "$work/fs"
mount -o loop "$work/fs.img" "$work/fs"
fsdir=$work/fs
cleanup() {
        umount "$fsdir" 2>/dev/null || umount -l "$fsdir" 2>/dev/null || true
        rm -rf "$fsdir" "$fsdir.img"
}
trap cleanup EXIT
work=$work/fs
export GOLDROOT_STORE=$work/store GOLDROOT_RUNDIR=$work/run
now() { date +%s.%N; }
ms_per() { echo "scale=2; ($2 - $1) * 1000 / $3" | bc; }

tarball=$(debian_minbase_tar)
"$GR" image import deb:v1 "$tarball" >/dev/null
v1=$GOLDROOT_STORE/images/$("$GR" image inspect --json deb:v1 | jq -r .id)/root

# v2: 1% of the regular files changed (every 100th in path order), plus two
# files the instances edit too, so the merge meets real conflicts.
cp -a "$v1" "$work/v2"
mapfile -t files < <(cd "$work/v2" && find . -type f | LC_ALL=C sort)
changed=0
for ((k = 0; k < ${#files[@]}; k += 100)); do
        printf '\n# changed in v2\n' >>"$work/v2/${files[k]}"
        changed=$((changed + 1))
done
echo "v2 motd" >>"$work/v2/etc/motd"
echo "v2 issue" >>"$work/v2/etc/issue"
"$GR" image import deb:v2 "$work/v2" >/dev/null
v2=$GOLDROOT_STORE/images/$("$GR" image inspect --json deb:v2 | jq -r .id)/root
echo "images: $(find "$v1" | wc -l) paths; v2 changes $((changed + 2)) of ${#files[@]} regular files"

# The instances and their states: 5 image files edited, 5 files added.
edited=(etc/motd etc/issue etc/bash.bashrc etc/profile etc/nsswitch.conf)
t0=$(now)
for ((i = 0; i < N; i++)); do
        "$GR" create "web$i" --image deb:v1 >/dev/null
        up=$GOLDROOT_STORE/instances/web$i/state/root
        mkdir -p "$up/etc"
        chown --reference="$v1" "$up"; chmod --reference="$v1" "$up"
        chown --reference="$v1/etc" "$up/etc"; chmod --reference="$v1/etc" "$up/etc"
        for f in "${edited[@]}"; do
                cp -a "$v1/$f" "$up/$f"
                echo "# local edit of web$i" >>"$up/$f"
        done
        for k in 1 2 3 4 5; do echo "setting$k = web$i" >"$up/etc/local$k.conf"; done
done
t1=$(now)
echo "setup: $N instances in $(echo "$t1 - $t0" | bc) s"

# goldroot's way.
sync
t0=$(now)
"$GR" upgrade --all --to deb:v2 >"$work/upgrade.log"
t1=$(now)
ok=$(grep -c ': upgraded to ' "$work/upgrade.log" || true)
echo "goldroot upgrade --all: $ok of $N upgraded, $(ms_per "$t0" "$t1" "$N") ms per instance"

# The seeds' way, over the same instances. Their guests had a whole /etc of
# their own (gold's /etc plus local edits, no overlay), so that is what is
# built here first, untimed. Timed, per instance: back /etc up with rsync,
# take the new gold's /etc with rsync, find the local changes by checksum
# against the old gold, and diff3 each changed file into the new /etc.
seeds=$work/seeds
for ((i = 0; i < N; i++)); do
        old=$(echo "$GOLDROOT_STORE/instances/web$i"/backup.*/root)
        mkdir -p "$seeds/web$i"
        rsync -a "$v1/etc/" "$seeds/web$i/etc/"
        cp -a "$old/etc/." "$seeds/web$i/etc/"
done
sync
t0=$(now)
for ((i = 0; i < N; i++)); do
        d=$seeds/web$i
        rsync -a "$d/etc/" "$d/backup/"
        rsync -a "$v2/etc/" "$d/new/"
        while IFS= read -r f; do
                [ -f "$d/etc/$f" ] && [ ! -L "$d/etc/$f" ] || continue
                if [ -f "$v1/etc/$f" ] && [ -f "$v2/etc/$f" ]; then
                        diff3 -m "$d/etc/$f" "$v1/etc/$f" "$v2/etc/$f" >"$d/new/$f" || true
                else
                        cp -a "$d/etc/$f" "$d/new/$f"
                fi
        done < <(rsync -acn --out-format="%n" "$d/etc/" "$v1/etc/")
done
t1=$(now)
echo "seeds' way (rsync + diff3): $(ms_per "$t0" "$t1" "$N") ms per instance"
