#!/usr/bin/env bash
# Runs every benchmark against one goldroot binary (the release build) and
# prints figures for docs/PERFORMANCE.md. Usage: bench/run.sh BUILD/goldroot [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:?usage: bench/run.sh GOLDROOT [mount|store|upgrade|...]}")
shift
build=$(dirname "$bin")
work=${BENCH_DIR:-/var/tmp/goldroot-bench}
mkdir -p "$work"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(mount store instances upgrade)

for b in "${names[@]}"; do
        echo "== bench/$b ($(date -u +%F), $(nproc) cores, kernel $(uname -r))"
        case $b in
        mount)
                bench/mount/setup.sh "$work/mount"
                "$build/bench/bench-mount" "$work/mount" "${MOUNT_ITERATIONS:-1000}"
                ;;
        ro-layouts)
                # The ro profile: an overlay per directory (A) against one
                # overlay mounted aside and bound (B, profiles/ro.profile).
                bench/mount/setup.sh "$work/mount"
                "$build/bench/bench-mount" --layouts "$work/mount" "${MOUNT_ITERATIONS:-1000}" \
                        "$work/mount/ro-overlays.profile" "$PWD/profiles/ro.profile"
                ;;
        *)
                if [ -x "bench/$b/run.sh" ]; then
                        "bench/$b/run.sh" "$bin" "$work/$b"
                else
                        echo "no benchmark named $b" >&2
                        exit 2
                fi
                ;;
        esac
done
