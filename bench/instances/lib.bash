# Helpers for bench/instances/run.sh: the cached Debian gold, per-call timing,
# medians, disk use and page-cache figures. Sourced, never run.

# Prints the path of the cached Debian bookworm minbase tarball, building it
# once per machine: tests/lib/images.bash's debian_minbase_tar, so that the
# tests and the bench share one tarball, one lock and one way to build it.
bench_debian_minbase_tar() {
        local repo=${1:?}
        # shellcheck source=tests/lib/images.bash
        source "$repo/tests/lib/images.bash" || return 1
        debian_minbase_tar
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
