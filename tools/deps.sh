#!/usr/bin/env bash
# Installs the Debian packages goldroot builds, tests and benchmarks with.
# As root, missing packages are installed; otherwise they are listed.
set -euo pipefail

build=(gcc make meson ninja-build pkg-config scdoc libmount-dev libblkid-dev libsqlite3-dev
       libarchive-dev libssl-dev zlib1g-dev)
# patch and bzip2: tests/lib/valgrind.bash builds the valgrind the tests use.
test=(libcmocka-dev bats bc attr erofs-utils squashfs-tools e2fsprogs busybox-static debootstrap
      util-linux iproute2 xz-utils zstd graphviz jq libcap2-bin sqlite3 python3-jsonschema
      runc podman file patch bzip2)
# The peers bench/instances measures goldroot against (see shared PEERS.md);
# rsync for bench/upgrade's seeds' way.
bench=(hyperfine busybox-static debootstrap bubblewrap systemd-container podman runc crun conmon
       golang-github-containers-common lxc uidmap rsync)
# libFuzzer comes with clang.
fuzz=(clang)

case "${1:-all}" in
build) want=("${build[@]}") ;;
test) want=("${build[@]}" "${test[@]}") ;;
bench) want=("${build[@]}" "${bench[@]}") ;;
fuzz) want=("${build[@]}" "${fuzz[@]}") ;;
*) want=("${build[@]}" "${test[@]}" "${bench[@]}" "${fuzz[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
        echo "goldroot: missing packages: ${missing[*]}" >&2
        echo "goldroot: run 'make deps' as root, or: apt-get install ${missing[*]}" >&2
        exit 1
fi
echo "goldroot: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
