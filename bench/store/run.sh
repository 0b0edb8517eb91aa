#!/usr/bin/env bash
# bench/store: the image store against the tools it replaces, side by side in
# one run (only ratios taken in one run mean anything on shared machines).
#
#   1. import of the Debian bookworm minbase tarball, against `tar -x` of the
#      same tarball (with and without a final sync, since an import syncs
#      once before it publishes), and `cp -a` / `cp -al` of the tree;
#   2. store growth for a second version with 1% of the regular files
#      changed, against the bytes of the changed files.
#
# Usage: bench/store/run.sh GOLDROOT [WORKDIR]    (WORKDIR: same file system
# as the store would be; default /var/tmp/goldroot-bench/store)
# RUNS sets the number of rounds (default 10).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../tests/lib/images.bash"

bin=$(realpath "${1:?usage: bench/store/run.sh GOLDROOT [WORKDIR]}")
work=${2:-${BENCH_DIR:-/var/tmp/goldroot-bench}/store}
runs=${RUNS:-10}

tarball=$(debian_minbase_tar)
rm -rf "$work"
mkdir -p "$work"
mkdir "$work/ref"
tar --xattrs --xattrs-include='*' --numeric-owner -C "$work/ref" -xf "$tarball"
files=$(find "$work/ref" -type f | wc -l)
echo "tarball: $tarball ($(du -h --apparent-size "$tarball" | cut -f1), $(tar -tf "$tarball" | wc -l) entries, $files regular files)"

# 1. Import against tar -x, cp -a, cp -al. The commands take turns, round
# after round, so a noisy neighbour hurts them all alike; every run starts
# from a synced, empty target, so no run pays for the previous one's
# writeback.
names=("goldroot image import" "tar -x" "tar -x + sync" "cp -a" "cp -al")
cmds=(
        "'$bin' --store '$work/store' -q image import debian:12 '$tarball' >/dev/null"
        "tar --xattrs --xattrs-include='*' --numeric-owner -C '$work/x' -xf '$tarball'"
        "tar --xattrs --xattrs-include='*' --numeric-owner -C '$work/x' -xf '$tarball' && sync -f '$work/x'"
        "cp -a '$work/ref' '$work/cp'"
        "cp -al '$work/ref' '$work/cpl'"
)
: >"$work/times"
for ((round = 0; round < runs; round++)); do
        for i in "${!cmds[@]}"; do
                rm -rf "$work/store" "$work/x" "$work/cp" "$work/cpl"
                mkdir "$work/x"
                sync
                start=$(date +%s%N)
                bash -c "${cmds[$i]}"
                echo "$i $(($(date +%s%N) - start))" >>"$work/times"
        done
done

median() { # INDEX -> median seconds
        awk -v i="$1" '$1 == i { print $2 }' "$work/times" | sort -n |
                awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m / 1e9 }'
}
ms() { awk -v s="$1" 'BEGIN { printf "%.0f ms", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ratio3() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

imp=$(median 0)
tarx=$(median 1)
tars=$(median 2)
cpa=$(median 3)
cpl=$(median 4)

# 2. Growth for a second version with 1% of the regular files changed: every
# 100th regular file in path order gets a line appended.
rm -rf "$work/store" "$work/x" "$work/cp" "$work/cpl"
"$bin" --store "$work/store" -q image import debian:12 "$tarball" >/dev/null
cp -a "$work/ref" "$work/v2"
mapfile -d '' regular < <(cd "$work/v2" && find . -type f -print0 | LC_ALL=C sort -z)
changed=0 changed_bytes=0 changed_blocks=0
for ((i = 0; i < ${#regular[@]}; i += 100)); do
        f=$work/v2/${regular[$i]}
        echo "goldroot bench: changed" >>"$f"
        changed=$((changed + 1))
        changed_bytes=$((changed_bytes + $(stat -c %s "$f")))
        changed_blocks=$((changed_blocks + $(stat -c '%b * %B' "$f")))
done
sync
# The catalog's write-ahead log is a bounded, reused journal (checkpointed
# into catalog.db), not growth: both sides are measured after a checkpoint.
checkpoint() { sqlite3 "$work/store/catalog.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null; }
du_store() { du -s -B1 "$work/store" | cut -f1; }
du_store_apparent() { du -s -b "$work/store" | cut -f1; }
objects_apparent() { find "$work/store/objects" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
checkpoint
before_du=$(du_store)
before_app=$(du_store_apparent)
before_obj=$(objects_apparent)
"$bin" --store "$work/store" -q image import debian:13 "$work/v2" >/dev/null
checkpoint
sync
after_du=$(du_store)
after_app=$(du_store_apparent)
after_obj=$(objects_apparent)
id2=$("$bin" --store "$work/store" --json image inspect debian:13 | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')
stored_as=$("$bin" --store "$work/store" image inspect debian:13 | sed -n 's/^stored as: *//p')
# What the version holds besides its objects (the r.N names are links to
# them): for a delta, its directory, erofs layer and manifest of changes.
own_app=$(find "$work/store/images/$id2" \( -type d -o -links 1 \) -printf '%s\n' | awk '{ s += $1 } END { print s }')
own_du=$(find "$work/store/images/$id2" \( -type d -o -links 1 \) -printf '%b\n' | awk '{ s += $1 * 512 } END { print s }')
grow_obj=$((after_obj - before_obj))
grow_du=$((after_du - before_du))
grow_app=$((after_app - before_app))

cat <<EOF

### Store (bench/store), $(date -u +%F), $(nproc) cores, kernel $(uname -r)

Command: \`bench/store/run.sh $1\` (medians of $runs interleaved rounds)

| import of the minbase tarball | median | ratio to tar -x |
|---|---|---|
| goldroot image import | $(ms "$imp") | **$(ratio "$imp" "$tarx")** (target ≤ 1.5) |
| tar -x | $(ms "$tarx") | 1.00 |
| tar -x + sync | $(ms "$tars") | $(ratio "$tars" "$tarx") |
| cp -a of the tree | $(ms "$cpa") | $(ratio "$cpa" "$tarx") |
| cp -al of the tree | $(ms "$cpl") | $(ratio "$cpl" "$tarx") |

| second version, 1% of regular files changed | bytes |
|---|---|
| files changed | $changed of ${#regular[@]} |
| the version is stored as | $stored_as |
| changed bytes: content of the changed files (apparent size) | $changed_bytes |
| changed bytes on disk (their blocks) | $changed_blocks |
| object growth (apparent size) | $grow_obj ($(ratio "$grow_obj" "$changed_bytes") × changed bytes) |
| **whole store growth (apparent size)** | **$grow_app ($(ratio3 "$grow_app" "$changed_bytes") × changed bytes; target ≤ 1.05)** |
| **whole store growth (disk blocks)** | **$grow_du ($(ratio3 "$grow_du" "$changed_blocks") × their blocks; target ≤ 1.05)** |
| of which the version's own files and directory (apparent / blocks) | $own_app / $own_du |
EOF
rm -rf "$work/v2"
