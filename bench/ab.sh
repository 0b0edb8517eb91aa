#!/bin/bash
# bench/ab.sh: interleaved A/B timing of whole commands, for one change at a
# time. Each round runs every command N times in a row through
# bench/spawn-time (a fresh process each run), and the rounds alternate, so
# that the load of a shared machine falls on all of them alike; the median of
# all runs of each is printed. Compare the figures within one call only.
#
# Usage: bench/ab.sh BUILD ROUNDS N LABEL=COMMAND...
#   BUILD    the build directory that holds bench/spawn-time
#   COMMAND  split on blanks (no quoting): a path and its arguments
# Example (old and new binary against bwrap, 20 rounds of 10):
#   bench/ab.sh build 20 10 old="/tmp/goldroot.old run --rm img:1 -- /bin/true" \
#           new="build/goldroot run --rm img:1 -- /bin/true" \
#           bwrap="bwrap --ro-bind /gold / --proc /proc --dev /dev --tmpfs /tmp --unshare-all /bin/true"
set -euo pipefail

if [ $# -lt 4 ]; then
        sed -n 's/^# \{0,1\}//p' "$0" | sed -n '/^Usage/,/^Example/p' >&2
        exit 2
fi
build=$1 rounds=$2 n=$3
shift 3
spawn_time=$build/bench/spawn-time
[ -x "$spawn_time" ] || { echo "ab.sh: no $spawn_time (build it first)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for ((r = 0; r < rounds; r++)); do
        k=0
        for spec in "$@"; do
                # shellcheck disable=SC2086 # the command is a word list
                if ! "$spawn_time" --output "$tmp/out" "$n" ${spec#*=} >>"$tmp/$k"; then
                        echo "ab.sh: ${spec%%=*} failed: $(tail -n 1 "$tmp/out")" >&2
                        exit 1
                fi
                k=$((k + 1))
        done
done
k=0
for spec in "$@"; do
        sort -n "$tmp/$k" | awk -v l="${spec%%=*}" \
                '{ t[NR] = $1 } END { printf "%-12s %8.3f ms median of %d\n", l, t[int((NR + 1) / 2)] / 1000, NR }'
        k=$((k + 1))
done
