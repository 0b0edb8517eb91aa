#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the libFuzzer harnesses in tests/fuzz/ with clang (ASan + UBSan) into
# build-fuzz/ and runs each over its corpus. `make fuzz` calls this.
#
#   FUZZ_SECONDS  time budget per harness (default 600, issue 6)
#   FUZZ_RUNS     if set, the profile parser runs this many inputs instead
#                 (issue 6 asks for 10 million)
#   FUZZ_JOBS     parallel compile jobs (default: nproc)
#   FUZZ_ONLY     space-separated harness names to run (default: all)
#   FUZZ_BUILD    build directory (default: build-fuzz)
#
# Fails if any harness stops with an error or leaves a crash/leak/timeout file.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD:-$src/build-fuzz}
seconds=${FUZZ_SECONDS:-600}
jobs=${FUZZ_JOBS:-$(nproc)}
harnesses=${FUZZ_ONLY:-profile identity textmerge tar}
CC=${CC_FUZZ:-clang}
command -v "$CC" >/dev/null || { echo "run.sh: $CC not found (apt-get install clang)" >&2; exit 1; }

version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -n1)
# The library sources, as meson.build lists them, so the two stay in step.
mapfile -t lib_sources < <(sed -n '/^lib_sources = files(/,/^)/p' "$src/meson.build" |
        sed -n "s/^ *'\(src\/lib\/[^']*\.c\)'.*/\1/p")
[[ ${#lib_sources[@]} -gt 0 ]] || { echo "run.sh: no lib_sources in meson.build" >&2; exit 1; }

pkgs="mount blkid sqlite3 libarchive libcrypto zlib"
cflags=(-std=gnu17 -g -O1 -fno-omit-frame-pointer
        -fsanitize=address,undefined -fno-sanitize-recover=undefined
        -D_GNU_SOURCE
        "-DGOLDROOT_VERSION=\"$version\""
        "-DGOLDROOT_BUILTIN_PROFILE_DIR=\"/usr/local/share/goldroot/profiles\""
        "-DGOLDROOT_SOURCE_PROFILE_DIR=\"$src/profiles\""
        "-DFUZZ_PROFILE_DIR=\"$src/tests/unit/data\""
        -I"$src/src/lib" $(pkg-config --cflags $pkgs))
libs=($(pkg-config --libs $pkgs))

mkdir -p "$build/obj"
export CC build src
printf '%s\n' "${lib_sources[@]}" |
        xargs -P "$jobs" -I{} sh -c 'f={}; o="$build/obj/$(basename "$f" .c).o";
                exec "$CC" "$@" -fsanitize=fuzzer-no-link -c "$src/$f" -o "$o"' _ "${cflags[@]}"
objs=()
for f in "${lib_sources[@]}"; do objs+=("$build/obj/$(basename "$f" .c).o"); done

for h in $harnesses; do
        "$CC" "${cflags[@]}" -fsanitize=fuzzer "$src/tests/fuzz/fuzz-$h.c" "${objs[@]}" \
                "${libs[@]}" -o "$build/fuzz-$h"
done

status=0
for h in $harnesses; do
        # Seeds stay small in git; the corpus libFuzzer grows lives in the build.
        mkdir -p "$build/corpus/$h" "$build/artifacts/$h"
        cp -n "$src/tests/fuzz/corpus/$h/"* "$build/corpus/$h/" 2>/dev/null || true
        rm -f "$build/artifacts/$h/"*
        limit=(-max_total_time="$seconds")
        if [[ $h == profile && -n ${FUZZ_RUNS:-} ]]; then
                limit=(-runs="$FUZZ_RUNS")
        fi
        echo "== fuzz-$h ${limit[*]}"
        if ! "$build/fuzz-$h" "${limit[@]}" -print_final_stats=1 -timeout=25 \
                -rss_limit_mb=2048 -artifact_prefix="$build/artifacts/$h/" \
                "$build/corpus/$h" 2>"$build/fuzz-$h.log"; then
                echo "fuzz-$h: failed, see $build/fuzz-$h.log" >&2
                status=1
        fi
        grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)|^#[0-9]+ *DONE' \
                "$build/fuzz-$h.log" || true
        if compgen -G "$build/artifacts/$h/*" >/dev/null; then
                echo "fuzz-$h: crash files:" >&2
                ls -l "$build/artifacts/$h/" >&2
                status=1
        fi
done
exit $status
