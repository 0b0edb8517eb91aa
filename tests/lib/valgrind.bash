# A valgrind that knows the kernel's mount API, for tests/run's valgrind pass.
#
#   valgrind_for_mount_api   prints the command to run valgrind with
#
# goldroot's mount, runner and delta code calls open_tree, move_mount, fsopen,
# fsconfig, fsmount (wrapped by valgrind since 3.25) and mount_setattr (since
# 3.26). Debian 12 ships valgrind 3.19, which fails them all with ENOSYS. When
# the installed valgrind is too old, the one from Debian testing is fetched
# once, with apt (which checks the archive's signature against the system's
# Debian keyring), from the mirror apt already uses, and unpacked, not
# installed, under the test cache. Only its launcher is dynamically linked, and
# it asks no more of the C library than Debian 12's has; the tools themselves
# are static. Source after tests/lib/images.bash (for debian_mirror).

valgrind_new_enough() {
        local v
        v=$("$@" --version 2>/dev/null) || return 1
        v=${v#valgrind-}
        [ "$(printf '%s\n3.26\n' "${v%%[^0-9.]*}" | sort -V | head -n1)" = 3.26 ]
}

valgrind_for_mount_api() {
        local cache=${GOLDROOT_TEST_CACHE:-/var/cache/goldroot-tests}
        local dir=$cache/valgrind-testing
        if command -v valgrind >/dev/null && valgrind_new_enough valgrind; then
                echo valgrind
                return 0
        fi
        if [ ! -x "$dir/valgrind" ]; then
                mkdir -p "$cache" || return 1
                (
                        set -e
                        exec 9>"$cache/.lock"
                        flock 9
                        [ -x "$dir/valgrind" ] && exit 0
                        tmp=$(mktemp -d "$cache/.valgrind.XXXXXX")
                        trap 'rm -rf "$tmp"' EXIT
                        mirror=$(debian_mirror || true)
                        echo "deb ${mirror:-http://deb.debian.org/debian} testing main" >"$tmp/sources.list"
                        mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/deb"
                        apt=(apt-get -q -o Dir::Etc::SourceList="$tmp/sources.list"
                                -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists="$tmp/lists"
                                -o Dir::Cache="$tmp/cache" -o Dir::State::Status=/dev/null
                                -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
                        echo "tests: fetching valgrind from Debian testing (once, cached in $cache)" >&2
                        "${apt[@]}" update >"$tmp/log" 2>&1 || { tail -n 5 "$tmp/log" >&2; exit 1; }
                        (cd "$tmp/deb" && "${apt[@]}" download valgrind) >>"$tmp/log" 2>&1 ||
                                { tail -n 5 "$tmp/log" >&2; exit 1; }
                        dpkg-deb -x "$tmp"/deb/valgrind_*.deb "$tmp/root"
                        mkdir "$tmp/out"
                        mv "$tmp/root/usr/libexec/valgrind" "$tmp/out/lib"
                        mv "$tmp/root/usr/bin/valgrind.bin" "$tmp/out/valgrind.bin"
                        cat >"$tmp/out/valgrind" <<'EOF'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
VALGRIND_LIB=$here/lib exec "$here/valgrind.bin" "$@"
EOF
                        chmod 755 "$tmp/out/valgrind"
                        valgrind_new_enough "$tmp/out/valgrind" ||
                                { echo "tests: Debian testing's valgrind is older than 3.26" >&2; exit 1; }
                        rm -rf "$dir"
                        mv -T "$tmp/out" "$dir"
                ) || return 1
        fi
        echo "$dir/valgrind"
}
