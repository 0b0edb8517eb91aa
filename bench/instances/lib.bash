# Helpers for bench/instances/run.sh: the cached Debian gold, per-call timing,
# medians, disk use and page-cache figures. Sourced, never run.

# Prints the mirror of Debian's main archive from apt's own configuration
# (one-line sources.list or deb822 *.sources); empty if none is found. The
# bench never names a host of its own.
bench_debian_mirror() {
        local f
        {
                for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
                        [ -r "$f" ] || continue
                        awk '$1 == "deb" {
                                i = 2
                                if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                                if ($(i + 1) == "bookworm") print $i
                        }' "$f"
                done
                for f in /etc/apt/sources.list.d/*.sources; do
                        [ -r "$f" ] || continue
                        awk 'BEGIN { RS = ""; FS = "\n" }
                        {
                                uris = ""; suites = ""; types = ""; enabled = "yes"
                                for (i = 1; i <= NF; i++) {
                                        if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
                                        if ($i ~ /^Suites:/) suites = " " $i " "
                                        if ($i ~ /^Types:/) types = " " $i " "
                                        if ($i ~ /^Enabled:/) { enabled = $i; sub(/^Enabled:[ \t]*/, "", enabled) }
                                }
                                if (enabled != "no" && types ~ / deb / && suites ~ / bookworm /) {
                                        split(uris, u, /[ \t]+/); print u[1]
                                }
                        }' "$f"
                done
        } | head -n1
}

# Prints the path of the cached Debian bookworm minbase tarball, building it
# once per machine. Same file and lock as tests/lib/images.bash's
# debian_minbase_tar, which is used instead when the tree has it.
bench_debian_minbase_tar() {
        local repo=${1:?} cache=${GOLDROOT_TEST_CACHE:-/var/cache/goldroot-tests}
        local out=$cache/debian-bookworm-minbase.tar
        if [ -r "$repo/tests/lib/images.bash" ]; then
                # shellcheck source=/dev/null
                source "$repo/tests/lib/images.bash"
                if declare -F debian_minbase_tar >/dev/null; then
                        debian_minbase_tar
                        return
                fi
        fi
        mkdir -p "$cache" || return 1
        if [ ! -s "$out" ]; then
                (
                        set -e
                        exec 9>"$cache/.lock"
                        flock 9
                        [ -s "$out" ] && exit 0
                        tmp=$(mktemp -d "$cache/.build.XXXXXX")
                        trap 'rm -rf "$tmp"' EXIT
                        mirror=$(bench_debian_mirror)
                        echo "bench: debootstrap --variant=minbase bookworm (once, cached in $cache)"
                        debootstrap --variant=minbase bookworm "$tmp/root" ${mirror:+"$mirror"} \
                                >"$tmp/log" 2>&1 || { tail -n 20 "$tmp/log"; exit 1; }
                        rm -f "$tmp/root/var/cache/apt/archives/"*.deb
                        tar --numeric-owner --xattrs --xattrs-include='*' -C "$tmp/root" \
                                -cf "$tmp/out.tar" .
                        sync -f "$tmp/out.tar"
                        mv -T "$tmp/out.tar" "$out"
                ) >&2 || return 1
        fi
        echo "$out"
}

# Reads microsecond samples, one a line, and prints their median in ms with
# two decimals, or "-" if there are none.
median_ms() {
        sort -n | awk '{ a[NR] = $1 }
                END {
                        if (NR == 0) { print "-"; exit }
                        m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
                        printf "%.2f\n", m / 1000
                }'
}

# Reads integers, one a line, and prints their (lower) median.
median_int() {
        sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'
}

# Kibibytes of disk that PATH... use together (hardlinks counted once).
disk_kib() {
        du -skc "$@" 2>/dev/null | tail -n1 | cut -f1
}

# The page cache's "Cached" in KiB.
cached_kib() {
        awk '$1 == "Cached:" { print $2 }' /proc/meminfo
}

drop_caches() {
        sync
        echo 3 >/proc/sys/vm/drop_caches
}

# Prints A / B with two decimals, or "-" when either is missing or B is 0.
ratio() {
        awk -v a="$1" -v b="$2" 'BEGIN {
                if (a == "-" || b == "-" || a == "" || b == "" || b + 0 == 0) print "-"
                else printf "%.2f\n", a / b
        }'
}

# Median in ms of one command from a hyperfine --export-csv file (the CSV's
# columns end with mean,stddev,median,user,system,min,max in seconds; counted
# from the end, a comma inside the quoted command does not matter).
hyperfine_median_ms() {
        awk -F, 'NR == 2 { printf "%.2f\n", $(NF - 4) * 1000 }' "$1"
}
