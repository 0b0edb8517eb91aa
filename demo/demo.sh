#!/usr/bin/env bash
# make demo: the main story. Until the store exists, that is the vmount story
# from the seeds: a webapp assembled from a loop-mounted erofs bundle, a
# seeded /etc tmpfs and a shared log area.
set -euo pipefail
cd "$(dirname "$0")/.."
exec demo/vmount.sh "$(realpath "${1:-build/goldroot}")"
