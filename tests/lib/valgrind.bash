# A valgrind that knows every syscall goldroot makes, for tests/run's valgrind
# pass.
#
#   valgrind_for_goldroot   prints the command to run valgrind with
#
# goldroot calls open_tree, move_mount, fsopen, fsconfig, fsmount (wrapped by
# valgrind since 3.25), mount_setattr (since 3.26) and pidfd_send_signal (not
# wrapped by any release so far: tests/valgrind/pidfd-send-signal.patch).
# Debian 12 ships valgrind 3.19. When the installed valgrind does not pass
# tests/valgrind/pidfd-probe.c, Debian testing's valgrind source is fetched
# once with apt (which checks it against the archive's signed index), from the
# mirror apt already uses, patched, and its core and memcheck are built, not
# installed, under the test cache, in a directory named after the patch. Needs
# gcc, make, patch and bzip2 (tools/deps.sh). Source after
# tests/lib/images.bash (for debian_mirror and with_cache_lock).

valgrind_patch=tests/valgrind/pidfd-send-signal.patch

# Runs tests/valgrind/pidfd-probe.c under the valgrind "$@": true if the
# probe's pidfd_send_signal worked and valgrind had nothing to say.
valgrind_handles_goldroot() {
        local probe_dir ok=1
        probe_dir=$(mktemp -d) || return 1
        if cc -O0 -o "$probe_dir/probe" tests/valgrind/pidfd-probe.c &&
                "$@" -q --log-file="$probe_dir/log" "$probe_dir/probe" 2>/dev/null &&
                [ ! -s "$probe_dir/log" ]; then
                ok=0
        fi
        rm -rf "$probe_dir"
        return $ok
}

valgrind_new_enough() {
        local v
        v=$("$@" --version 2>/dev/null) || return 1
        v=${v#valgrind-}
        [ "$(printf '%s\n3.26\n' "${v%%[^0-9.]*}" | sort -V | head -n1)" = 3.26 ] &&
                valgrind_handles_goldroot "$@"
}

# Builds the patched valgrind into $1, unless a parallel caller already did.
# Runs in a subshell, under the cache lock.
valgrind_build_patched() (
        set -e
        local out=$1 cache tmp mirror src jobs
        [ -x "$out/valgrind" ] && exit 0
        cache=$(dirname "$out")
        tmp=$(mktemp -d "$cache/.valgrind.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        mirror=$(debian_mirror || true)
        echo "deb-src ${mirror:-http://deb.debian.org/debian} testing main" >"$tmp/sources.list"
        mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/src"
        apt=(apt-get -q -o Dir::Etc::SourceList="$tmp/sources.list"
                -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists="$tmp/lists"
                -o Dir::Cache="$tmp/cache" -o Dir::State::Status=/dev/null
                -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
        echo "tests: building a valgrind that wraps pidfd_send_signal (once, cached in $cache)" >&2
        "${apt[@]}" update >"$tmp/log" 2>&1 || { tail -n 5 "$tmp/log" >&2; exit 1; }
        (cd "$tmp/src" && "${apt[@]}" source --download-only valgrind) >>"$tmp/log" 2>&1 ||
                { tail -n 5 "$tmp/log" >&2; exit 1; }
        tar -xf "$tmp"/src/valgrind_*.orig.tar.* -C "$tmp/src"
        src=$(echo "$tmp"/src/valgrind-*/)
        # A later release may wrap the syscall itself.
        if ! grep -q 'sys_pidfd_send_signal' "$src/coregrind/m_syswrap/syswrap-amd64-linux.c"; then
                patch -s -d "$src" -p1 <"$valgrind_patch" ||
                        { echo "tests: $valgrind_patch does not apply to $src" >&2; exit 1; }
        fi
        jobs=$(nproc)
        {
                (cd "$src" && ./configure --enable-only64bit --prefix=/nonexistent) &&
                        make -C "$src" -j"$jobs" include/vgversion.h default.supp &&
                        make -C "$src/VEX" -j"$jobs" &&
                        make -C "$src/coregrind" -j"$jobs" &&
                        make -C "$src/memcheck" -j"$jobs"
        } >>"$tmp/log" 2>&1 || { tail -n 20 "$tmp/log" >&2; exit 1; }
        mkdir -p "$tmp/out/lib"
        cp "$src/coregrind/valgrind" "$tmp/out/valgrind.bin"
        cp "$src/default.supp" "$src"/.in_place/*-amd64-linux* "$tmp/out/lib/"
        cat >"$tmp/out/valgrind" <<'WRAPPER'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
VALGRIND_LIB=$here/lib exec "$here/valgrind.bin" "$@"
WRAPPER
        chmod 755 "$tmp/out/valgrind"
        valgrind_new_enough "$tmp/out/valgrind" ||
                { echo "tests: the valgrind built from $src fails the probe" >&2; exit 1; }
        mv -T "$tmp/out" "$out"
)

valgrind_for_goldroot() {
        local cache=${GOLDROOT_TEST_CACHE:-/var/cache/goldroot-tests} dir
        if command -v valgrind >/dev/null && valgrind_new_enough valgrind; then
                echo valgrind
                return 0
        fi
        dir=$cache/valgrind-$(sha256sum "$valgrind_patch" | cut -c1-12)
        if [ ! -x "$dir/valgrind" ]; then
                mkdir -p "$cache" || return 1
                with_cache_lock "$cache" valgrind_build_patched "$dir" || return 1
        fi
        echo "$dir/valgrind"
}
