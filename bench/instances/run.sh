#!/usr/bin/env bash
# bench/instances: goldroot's instance commands side by side with the tools
# users would pick instead (cp -a, cp -al, lxc-copy -s, podman, bwrap,
# unshare + chroot, systemd-nspawn, lxc-execute), in one run, on one Debian
# bookworm minbase gold (issue 4, item 7). Prints Markdown tables for
# docs/PERFORMANCE.md. A goldroot row runs only once its command exists; until
# then it says "not available yet" (a benchmark, not a test: skipping is fine).
#
# Usage: bench/instances/run.sh GOLDROOT WORKDIR     (as root)
#
# Everything lives under WORKDIR and is removed at the end, even on failure.
# podman and LXC keep their state under WORKDIR too, and everything they are
# asked to create is named goldroot-bench-*. No peer gets a network: podman
# --network=none, bwrap --unshare-all, nspawn --private-network, LXC
# lxc.net.0.type = empty.
#
# Knobs (environment): CLONE_N (1000 clones in a row), COPY_N (20, for cp -a
# and cp -al, which take ~0.3-1 s each), REPEAT (10 single clones),
# START_RUNS (200), SLOW_RUNS (40, nspawn and podman), EXEC_RUNS (200),
# WARMUP (5), AB_ROUNDS and AB_N (20 rounds of 10 for the interleaved start
# ratio), PAGECACHE_N (10), PAGECACHE_MIB (200), PAGECACHE_REPEAT (5),
# PHASES ("clone start exec pagecache").
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=bench/instances/lib.bash
source "$here/lib.bash"

die() {
        echo "bench/instances: $*" >&2
        exit 1
}

[ $# -eq 2 ] || {
        echo "usage: bench/instances/run.sh GOLDROOT WORKDIR" >&2
        exit 2
}
[ "$(id -u)" -eq 0 ] || die "must run as root"
gr=$(realpath "$1")
# The clone timer, built with goldroot (bench/spawn-time.c).
spawn_time=$(dirname "$gr")/bench/spawn-time
[ -x "$spawn_time" ] || die "$spawn_time is missing: build goldroot's build directory first"
W=$(realpath -m "$2")
[[ "$W" != / && "$W" =~ ^/[A-Za-z0-9._/-]+$ ]] ||
        die "WORKDIR must be an absolute path of plain characters: $W"
marker=.goldroot-bench-instances
if [ -d "$W" ] && [ -n "$(ls -A "$W")" ] && [ ! -e "$W/$marker" ]; then
        die "$W is not empty and was not made by this benchmark; refusing to use it"
fi

CLONE_N=${CLONE_N:-1000}
COPY_N=${COPY_N:-20}
REPEAT=${REPEAT:-10}
START_RUNS=${START_RUNS:-200}
SLOW_RUNS=${SLOW_RUNS:-40}
EXEC_RUNS=${EXEC_RUNS:-200}
WARMUP=${WARMUP:-5}
AB_ROUNDS=${AB_ROUNDS:-20}
AB_N=${AB_N:-10}
PAGECACHE_N=${PAGECACHE_N:-10}
PAGECACHE_MIB=${PAGECACHE_MIB:-200}
PAGECACHE_REPEAT=${PAGECACHE_REPEAT:-5}
PHASES=${PHASES:-clone start exec pagecache}

LXC=$W/lxc
GOLD=$LXC/goldroot-bench-gold/rootfs # lxc-copy -s wants the name in the path
PM="podman --root $W/podman/root --runroot $W/podman/run --tmpdir $W/podman/tmp"
PM+=" --cgroup-manager cgroupfs --events-backend file --storage-driver overlay --runtime runc"
PM_FLAGS="--network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
# cgroupfs manager: keep podman's cgroups under one name that cleanup removes.
PM_FLAGS+=" --cgroup-parent=/goldroot-bench"
PM_IMAGE=localhost/goldroot-bench-gold
NSPAWN_NAME=goldroot-bench-nspawn
GR="$gr --store $W/store"
GR_IMAGE=goldroot-bench:gold
export GOLDROOT_RUNDIR=$W/run GOLDROOT_STORE=$W/store

pm() {
        # shellcheck disable=SC2086 # PM is a word list of plain paths
        $PM "$@"
}
grd() {
        "$gr" --store "$W/store" "$@"
}

have() {
        command -v "$1" >/dev/null 2>&1
}

# Succeeds if goldroot has the command VERB...; prints why not otherwise.
gr_has() {
        if "$gr" "$@" --help >/dev/null 2>&1; then
                return 0
        fi
        echo "goldroot $*: not available yet"
        return 1
}

umount_under() {
        awk -v d="$1" 'index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | tac |
                while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

cleanup() {
        local rc=$? names
        set +e
        trap - EXIT INT TERM
        if [ -d "$W/store" ] && "$gr" ls --help >/dev/null 2>&1; then
                grd ls -q 2>/dev/null | grep '^goldroot-bench-' | while read -r n; do
                        grd stop "$n" --timeout 1 >/dev/null 2>&1
                        grd rm --force "$n" >/dev/null 2>&1
                done
        fi
        if [ -d "$W/podman" ] && have podman; then
                names=$(pm ps -a --format '{{.Names}}' 2>/dev/null | grep '^goldroot-bench-')
                # shellcheck disable=SC2086
                [ -n "$names" ] && echo "$names" | xargs -r -n 200 $PM rm -f -t 0 >/dev/null 2>&1
                pm rmi -f "$PM_IMAGE" >/dev/null 2>&1
        fi
        umount_under "$W"
        find /sys/fs/cgroup/*/goldroot-bench -depth -type d -exec rmdir {} + 2>/dev/null
        rmdir /sys/fs/cgroup/memory/goldroot-bench-pc /sys/fs/cgroup/goldroot-bench-pc 2>/dev/null
        rm -rf "/run/systemd/nspawn/propagate/$NSPAWN_NAME" "/run/lxc/lock$W"
        d=/run/lxc/lock$W # LXC made the parents too; drop the empty ones
        while d=$(dirname "$d") && [ "$d" != /run/lxc/lock ] && rmdir "$d" 2>/dev/null; do :; done
        rm -rf "$W"
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$W"
touch "$W/$marker"
mkdir -p "$W/clones" "$W/podman/tmp" "$LXC/goldroot-bench-gold/rootfs" "$W/run"
# goldroot's runtime directory is /run/goldroot, on the tmpfs /run is; here it
# is on a tmpfs too (cleanup unmounts it), not on WORKDIR's disk.
mount -t tmpfs -o mode=0755 goldroot-bench-run "$W/run"

echo "== bench/instances: $(date -u '+%F %H:%M') UTC, $(nproc) cores, kernel $(uname -r)"
for t in bwrap unshare systemd-nspawn podman runc lxc-copy lxc-execute nsenter hyperfine; do
        if have "$t"; then
                printf '   %-15s %s\n' "$t" "$("$t" --version 2>&1 | head -n1)"
        else
                printf '   %-15s not installed (tools/deps.sh bench)\n' "$t"
        fi
done
have hyperfine || die "hyperfine is missing: tools/deps.sh bench"

# --- The gold: Debian bookworm minbase, built once per machine ------------
tarball=$(bench_debian_minbase_tar "$repo") || die "could not build the Debian minbase gold"
tar --numeric-owner --xattrs --xattrs-include='*' -xpf "$tarball" -C "$GOLD"
echo "   gold: $tarball -> $GOLD ($(du -sh "$GOLD" | cut -f1), $(find "$GOLD" | wc -l) files)"

# The LXC container lxc-copy -s snapshots and lxc-execute runs.
cat >"$LXC/goldroot-bench-gold/config" <<EOF
lxc.rootfs.path = dir:$GOLD
lxc.uts.name = goldroot-bench-gold
lxc.net.0.type = empty
EOF

has_podman=
if have podman && have runc; then
        if tar -C "$GOLD" --numeric-owner --xattrs --xattrs-include='*' -cf - . |
                pm import - "$PM_IMAGE" >"$W/podman-import.log" 2>&1; then
                has_podman=1
        else
                echo "podman import: failed: $(tail -n1 "$W/podman-import.log")"
        fi
fi

has_gr_image=
if gr_has image import && grd image import "$GR_IMAGE" "$GOLD" >"$W/gr-import.log" 2>&1; then
        has_gr_image=1
elif [ -s "$W/gr-import.log" ]; then
        echo "goldroot image import: failed: $(tail -n1 "$W/gr-import.log")"
fi

# Result rows, printed as tables at the end; clone_ms[i] is clone_rows[i]'s
# per-clone median, for the ratio against lxc-copy -s.
clone_rows=() clone_ms=() start_rows=() exec_rows=() cache_rows=()
clone_ms_lxc=- start_base=- exec_base=- last_ms=- start_interleaved=

# --- CLONE ------------------------------------------------------------------
# cmd_P is the argv that makes clone number {i} (bench/spawn-time replaces
# "{i}"), unclone_P I removes it, area_P prints the paths whose disk use grows
# with the clones. Every clone is timed the same way: spawn-time starts it with
# posix_spawn() and waits, so that no row pays for a shell's fork of itself
# (which costs more than some of the commands: about 2 ms here).
cmd_floor=(mkdir -p "$W/clones/floor/{i}/upper" "$W/clones/floor/{i}/work")
unclone_floor() { rm -rf "$W/clones/floor/$1"; }
area_floor() { echo "$W/clones/floor"; }

# A removed copy is moved aside, not deleted: on this ext4 (online discard) a
# copy made right after an rm -rf of 175 MiB takes 3-7 s instead of ~1 s, which
# would measure the deletion, not the clone. The trash goes with WORKDIR.
cmd_cpa=(cp -a "$GOLD" "$W/clones/cp-a/{i}")
unclone_cpa() { mv "$W/clones/cp-a/$1" "$(mktemp -d "$W/clones/trash/XXXXXX")/"; }
area_cpa() { echo "$W/clones/cp-a"; }

cmd_cpal=(cp -al "$GOLD" "$W/clones/cp-al/{i}")
unclone_cpal() { mv "$W/clones/cp-al/$1" "$(mktemp -d "$W/clones/trash/XXXXXX")/"; }
area_cpal() { echo "$GOLD" "$W/clones/cp-al"; } # hardlinks counted once

cmd_lxc=(lxc-copy -P "$LXC" -n goldroot-bench-gold -N "goldroot-bench-c{i}" -s)
unclone_lxc() { lxc-destroy -P "$LXC" -n "goldroot-bench-c$1"; }
area_lxc() { echo "$LXC"; }

# shellcheck disable=SC2206 # PM and PM_FLAGS are word lists of plain words
cmd_podman=($PM create --name "goldroot-bench-c{i}" $PM_FLAGS "$PM_IMAGE" /bin/true)
unclone_podman() { pm rm -f "goldroot-bench-c$1"; }
area_podman() { echo "$W/podman"; }

cmd_goldroot=("$gr" --store "$W/store" create "goldroot-bench-c{i}" --image "$GR_IMAGE")
unclone_goldroot() { grd rm "goldroot-bench-c$1"; }
area_goldroot() { echo "$W/store"; }

# Times PEER's clones 1..N, one line of microseconds each, appended to FILE.
# Fails on the first clone that fails, with its error on stderr.
time_clones() {
        local p=$1 n=$2 out=$3
        local -n cmd="cmd_$p"
        "$spawn_time" --output "$W/err" "$n" "${cmd[@]}" >>"$out" 2>"$W/spawn-err" || {
                echo "clone failed: $(tail -n1 "$W/spawn-err"): $(tail -n1 "$W/err")" >&2
                return 1
        }
}

# Measures one clone row: the median of REPEAT single clones (each removed
# before the next), then N clones in a row (per-clone median) and the disk
# they add, divided by N.
bench_clone() {
        local p=$1 label=$2 cmd=$3 n=$4 r d0 d1 m1 mn kib
        local s1=$W/clone-$p-1.us sn=$W/clone-$p-n.us
        echo "-- clone: $label"
        : >"$s1"
        : >"$sn"
        for ((r = 1; r <= REPEAT; r++)); do
                time_clones "$p" 1 "$s1" || {
                        clone_rows+=("| $label | failed | | | | \`$cmd\` |")
                        clone_ms+=(-)
                        return 0
                }
                "unclone_$p" 1 >/dev/null 2>&1
                # Let the removal's writeback and discards finish before the
                # next timed clone, or they land on it (cp -a: 7 s instead of 1).
                sync
        done
        m1=$(median_ms <"$s1")
        # shellcheck disable=SC2046
        d0=$(disk_kib $("area_$p"))
        time_clones "$p" "$n" "$sn" || {
                clone_rows+=("| $label | $m1 | failed | | | \`$cmd\` |")
                clone_ms+=(-)
                return 0
        }
        # shellcheck disable=SC2046
        d1=$(disk_kib $("area_$p"))
        mn=$(median_ms <"$sn")
        kib=$(awk -v a="$d0" -v b="$d1" -v n="$n" 'BEGIN { printf "%.1f\n", (b - a) / n }')
        echo "   N=1: $m1 ms; N=$n: $mn ms per clone, $kib KiB per clone"
        clone_rows+=("| $label | $m1 | $mn (N=$n) | $kib | @RATIO@ | \`$cmd\` |")
        clone_ms+=("$mn")
        [ "$p" = lxc ] && clone_ms_lxc=$mn
        return 0
}

# goldroot create with CLONE_N names in one command: the whole command's
# time divided by N (a mean, there being one sample), and the disk it adds.
bench_clone_batch() {
        local n=$CLONE_N i d0 d1 us per kib names=()
        local label="goldroot create NAME... ($n names in one command)"
        echo "-- clone: $label"
        for ((i = 1; i <= n; i++)); do names+=("goldroot-bench-c$i"); done
        d0=$(disk_kib "$W/store")
        us=$("$spawn_time" --output "$W/err" 1 "$gr" --store "$W/store" create "${names[@]}" \
                --image "$GR_IMAGE" 2>"$W/spawn-err") || {
                echo "   failed: $(tail -n1 "$W/err")"
                clone_rows+=("| $label | | failed | | | \`goldroot create goldroot-bench-c1 ... goldroot-bench-c$n --image $GR_IMAGE\` |")
                clone_ms+=(-)
                return 0
        }
        d1=$(disk_kib "$W/store")
        per=$(awk -v u="$us" -v n="$n" 'BEGIN { printf "%.2f\n", u / n / 1000 }')
        kib=$(awk -v a="$d0" -v b="$d1" -v n="$n" 'BEGIN { printf "%.1f\n", (b - a) / n }')
        echo "   N=$n: $per ms per clone (the command took $((us / 1000)) ms), $kib KiB per clone"
        clone_rows+=("| $label | | $per (N=$n, total / N) | $kib | @RATIO@ | \`goldroot create goldroot-bench-c1 ... goldroot-bench-c$n --image $GR_IMAGE\` |")
        clone_ms+=("$per")
        unclone_all goldroot "$n"
}

# Removes clones 1..N of PEER (not timed).
unclone_all() {
        local p=$1 n=$2 i
        case $p in
        floor) rm -rf "$W/clones/floor" ;;
        # Deleted with WORKDIR at the end, so no later row pays for it.
        cpa) mv "$W/clones/cp-a" "$W/clones/trash/cp-a" ;;
        cpal) mv "$W/clones/cp-al" "$W/clones/trash/cp-al" ;;
        podman)
                # shellcheck disable=SC2086
                seq 1 "$n" | sed 's/^/goldroot-bench-c/' |
                        xargs -r -n 200 $PM rm -f -t 0 >/dev/null 2>&1 || true
                ;;
        goldroot)
                seq 1 "$n" | sed 's/^/goldroot-bench-c/' |
                        xargs -r -n 500 "$gr" --store "$W/store" rm >/dev/null 2>&1 || true
                ;;
        *) for ((i = 1; i <= n; i++)); do "unclone_$p" "$i" >/dev/null 2>&1 || true; done ;;
        esac
}

phase_clone() {
        echo "== CLONE: per-clone median (ms) at N=1 (single clones) and N in a row; disk each clone adds"
        mkdir -p "$W/clones/cp-a" "$W/clones/cp-al" "$W/clones/floor" "$W/clones/trash"
        bench_clone floor "floor: mkdir upper+work (one process start)" \
                "mkdir -p C/upper C/work" "$CLONE_N"
        unclone_all floor "$CLONE_N"
        bench_clone cpa "cp -a" "cp -a GOLD C" "$COPY_N"
        unclone_all cpa "$COPY_N"
        bench_clone cpal "cp -al" "cp -al GOLD C" "$COPY_N"
        unclone_all cpal "$COPY_N"
        if have lxc-copy; then
                bench_clone lxc "lxc-copy -s" \
                        "lxc-copy -P LXCPATH -n goldroot-bench-gold -N goldroot-bench-cI -s" "$CLONE_N"
                unclone_all lxc "$CLONE_N"
        fi
        if [ -n "$has_podman" ]; then
                bench_clone podman "podman create" \
                        "podman --runtime runc create --name goldroot-bench-cI $PM_FLAGS IMAGE /bin/true" \
                        "$CLONE_N"
                unclone_all podman "$CLONE_N"
        fi
        if gr_has create && [ -n "$has_gr_image" ]; then
                bench_clone goldroot "goldroot create" \
                        "goldroot create goldroot-bench-cI --image $GR_IMAGE" "$CLONE_N"
                unclone_all goldroot "$CLONE_N"
                bench_clone_batch
        else
                clone_rows+=("| goldroot create | pending | pending | pending | | \`goldroot create goldroot-bench-cI --image $GR_IMAGE\` |")
                clone_ms+=(-)
        fi
}

# --- START and EXEC: hyperfine, medians ------------------------------------
# Runs CMD once to see that it works, then hyperfine; appends a row to the
# array named ROWS.
bench_hf() {
        local -n rows=$1
        local label=$2 runs=$3 cmd=$4 shown=${5:-$4} csv=$W/hyperfine.csv
        last_ms=-
        echo "-- $label"
        # shellcheck disable=SC2086
        if ! $cmd >/dev/null 2>"$W/err" </dev/null; then
                echo "   failed: $(tail -n1 "$W/err")"
                rows+=("| $label | failed | | \`$shown\` |")
                return 0
        fi
        hyperfine -N --style none --warmup "$WARMUP" --runs "$runs" --export-csv "$csv" "$cmd" \
                >/dev/null 2>"$W/err" || {
                echo "   hyperfine failed: $(tail -n1 "$W/err")"
                rows+=("| $label | failed | | \`$shown\` |")
                return 0
        }
        last_ms=$(hyperfine_median_ms "$csv")
        echo "   median $last_ms ms ($runs runs)"
        rows+=("| $label | $last_ms | @RATIO@ | \`$shown\` |")
}

phase_start() {
        echo "== START /bin/true in a fresh root (hyperfine -N, warmup $WARMUP, median)"
        local bwrap_ms=-
        # bwrap is the base of the ratio column and of goldroot's target.
        if have bwrap; then
                bench_hf start_rows bwrap "$START_RUNS" \
                        "bwrap --ro-bind $GOLD / --proc /proc --dev /dev --tmpfs /tmp --unshare-all /bin/true" \
                        "bwrap --ro-bind GOLD / --proc /proc --dev /dev --tmpfs /tmp --unshare-all /bin/true"
                bwrap_ms=$last_ms
        fi
        bench_hf start_rows "unshare + chroot" "$START_RUNS" \
                "unshare -m -p -f --mount-proc=$GOLD/proc chroot $GOLD /bin/true" \
                "unshare -m -p -f --mount-proc=GOLD/proc chroot GOLD /bin/true"
        if have lxc-execute; then
                bench_hf start_rows lxc-execute "$START_RUNS" \
                        "lxc-execute -P $LXC -n goldroot-bench-gold -- /bin/true" \
                        "lxc-execute -P LXCPATH -n goldroot-bench-gold -- /bin/true (lxc.net.0.type = empty)"
        fi
        if have systemd-nspawn; then
                bench_hf start_rows systemd-nspawn "$SLOW_RUNS" \
                        "systemd-nspawn --keep-unit --register=no -q --private-network --read-only -M $NSPAWN_NAME -D $GOLD /bin/true" \
                        "systemd-nspawn --keep-unit --register=no -q --private-network --read-only -M $NSPAWN_NAME -D GOLD /bin/true"
                rm -rf "/run/systemd/nspawn/propagate/$NSPAWN_NAME"
        fi
        if [ -n "$has_podman" ]; then
                bench_hf start_rows "podman run --rm" "$SLOW_RUNS" \
                        "$PM run --rm --name goldroot-bench-run $PM_FLAGS $PM_IMAGE /bin/true" \
                        "podman --runtime runc run --rm --name goldroot-bench-run $PM_FLAGS IMAGE /bin/true"
        fi
        if gr_has run && [ -n "$has_gr_image" ]; then
                bench_hf start_rows "goldroot run --rm" "$START_RUNS" \
                        "$GR run --rm $GR_IMAGE -- /bin/true" "goldroot run --rm $GR_IMAGE -- /bin/true"
        else
                start_rows+=("| goldroot run --rm | pending | | \`goldroot run --rm $GR_IMAGE -- /bin/true\` |")
        fi
        start_base=$bwrap_ms
        # Each row above is one tool's runs, one tool after the other: their
        # ratio carries whatever the machine did over that minute. The
        # target's ratio is taken again with the two interleaved.
        if [ "$bwrap_ms" != - ] && [ "$last_ms" != - ]; then
                local out g b
                echo "-- goldroot run --rm and bwrap interleaved ($AB_ROUNDS rounds of $AB_N)"
                if out=$("$here/../ab.sh" "$(dirname "$gr")" "$AB_ROUNDS" "$AB_N" \
                        bwrap="bwrap --ro-bind $GOLD / --proc /proc --dev /dev --tmpfs /tmp --unshare-all /bin/true" \
                        goldroot="$GR run --rm $GR_IMAGE -- /bin/true"); then
                        b=$(awk '$1 == "bwrap" { print $2 }' <<<"$out")
                        g=$(awk '$1 == "goldroot" { print $2 }' <<<"$out")
                        start_interleaved="Interleaved (\`bench/ab.sh\`, $AB_ROUNDS rounds of $AB_N runs each): goldroot run --rm $g ms, bwrap $b ms: **$(ratio "$g" "$b")× bwrap**."
                        echo "   $start_interleaved"
                else
                        echo "   failed"
                fi
        fi
}

phase_exec() {
        echo "== EXEC /bin/true into a running instance (hyperfine -N, median)"
        local pid
        if [ -n "$has_podman" ]; then
                # shellcheck disable=SC2086
                pm run -d --name goldroot-bench-exec $PM_FLAGS "$PM_IMAGE" /bin/sleep infinity >/dev/null
                pid=$(pm inspect -f '{{.State.Pid}}' goldroot-bench-exec)
                bench_hf exec_rows "podman exec" "$EXEC_RUNS" "$PM exec goldroot-bench-exec /bin/true" \
                        "podman exec goldroot-bench-exec /bin/true"
                bench_hf exec_rows "nsenter -a" "$EXEC_RUNS" "nsenter -t $pid -a /bin/true" \
                        "nsenter -t PID -a /bin/true (PID: the podman container's)"
                exec_base=$last_ms
                pm rm -f -t 0 goldroot-bench-exec >/dev/null 2>&1
        fi
        if gr_has create && gr_has start && gr_has exec && [ -n "$has_gr_image" ] &&
                grd create goldroot-bench-exec --image "$GR_IMAGE" >/dev/null &&
                grd start goldroot-bench-exec -- /bin/sleep infinity >/dev/null; then
                bench_hf exec_rows "goldroot exec" "$EXEC_RUNS" "$GR exec goldroot-bench-exec -- /bin/true" \
                        "goldroot exec goldroot-bench-exec -- /bin/true"
                grd stop goldroot-bench-exec --timeout 1 >/dev/null 2>&1 || true
                grd rm --force goldroot-bench-exec >/dev/null 2>&1 || true
        else
                exec_rows+=("| goldroot exec | pending | | \`goldroot exec goldroot-bench-exec -- /bin/true\` |")
        fi
}

# --- PAGE CACHE -------------------------------------------------------------
PC_FILE=/srv/goldroot-bench/data
# Cached in /proc/meminfo is the whole machine's, so other jobs' writes land in
# it too. The readers also run in a memory cgroup of their own, which the
# kernel charges for the pages they bring in: its figure is the instances' own.
PC_CG=
PC_CG_KEY=
pc_cgroup_setup() {
        if [ -f /sys/fs/cgroup/memory/memory.stat ]; then # v1 or hybrid
                PC_CG=/sys/fs/cgroup/memory/goldroot-bench-pc PC_CG_KEY=total_cache
        elif grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
                PC_CG=/sys/fs/cgroup/goldroot-bench-pc PC_CG_KEY=file
        else
                return 0
        fi
        mkdir -p "$PC_CG" || PC_CG=
}
# Page cache charged to the readers' cgroup, in KiB (0 without one).
pc_cg_kib() {
        [ -n "$PC_CG" ] || {
                echo 0
                return
        }
        awk -v k="$PC_CG_KEY" '$1 == k { print int($2 / 1024) }' "$PC_CG/memory.stat"
}
# Runs CMD... in the readers' cgroup.
in_pc_cg() {
        (
                [ -z "$PC_CG" ] || echo "$BASHPID" >"$PC_CG/cgroup.procs"
                exec "$@"
        )
}

# Each instance is a sandbox on its own root that reads the file and exits;
# its pages stay cached, which is what is counted.
pc_read_root() {
        in_pc_cg bwrap --ro-bind "$1" / --proc /proc --dev /dev --tmpfs /tmp --unshare-all \
                /bin/cat "$PC_FILE" >/dev/null
}
pc_read_hl() { pc_read_root "$W/pagecache/hl/$1"; }
pc_read_ov() { pc_read_root "$W/pagecache/ov/$1/merged"; }
pc_read_cp() { pc_read_root "$W/pagecache/cp/$1"; }
pc_read_goldroot() { in_pc_cg "$gr" --store "$W/store" run --rm goldroot-bench:pagecache -- /bin/cat "$PC_FILE" >/dev/null; }

# Prints the growth of Cached and of the readers' cgroup's page cache, in KiB,
# while instances 1..K of KIND read the file, from a dropped page cache; each
# the median of PAGECACHE_REPEAT tries.
pc_growth() {
        local kind=$1 k=$2 r i c0 c1 g0 g1
        for ((r = 1; r <= PAGECACHE_REPEAT; r++)); do
                drop_caches
                c0=$(cached_kib)
                g0=$(pc_cg_kib)
                for ((i = 1; i <= k; i++)); do "pc_read_$kind" "$i" || return 1; done
                c1=$(cached_kib)
                g1=$(pc_cg_kib)
                echo $((c1 - c0)) $((g1 - g0))
        done >"$W/pc.tries"
        echo "$(cut -d' ' -f1 "$W/pc.tries" | median_int) $(cut -d' ' -f2 "$W/pc.tries" | median_int)"
}

bench_pc() {
        local kind=$1 label=$2 cmd=$3 one many c1 g1 cn gn
        echo "-- page cache: $label"
        if ! one=$(pc_growth "$kind" 1) || ! many=$(pc_growth "$kind" "$PAGECACHE_N") ||
                [ -z "$one" ] || [ -z "$many" ]; then
                echo "   failed"
                cache_rows+=("| $label | failed | | | | | | \`$cmd\` |")
                return 0
        fi
        read -r c1 g1 <<<"$one"
        read -r cn gn <<<"$many"
        mib() { awk -v k="$1" 'BEGIN { printf "%.0f\n", k / 1024 }'; }
        echo "   Cached: +$(mib "$c1") MiB for 1 instance, +$(mib "$cn") MiB for $PAGECACHE_N;" \
                "charged to the readers: +$(mib "$g1") / +$(mib "$gn") MiB"
        if [ -z "$PC_CG" ]; then g1=- gn=-; fi
        cache_rows+=("| $label | $(mib "$c1") | $(mib "$cn") | $(ratio "$cn" "$c1") | $(mib "$g1") | $(mib "$gn") | $(ratio "$gn" "$g1") | \`$cmd\` |")
}

phase_pagecache() {
        echo "== PAGE CACHE: $PAGECACHE_N instances each read one ${PAGECACHE_MIB} MiB file; growth of Cached"
        have bwrap || {
                echo "bwrap is missing: the page-cache instances run under it"
                return 0
        }
        local pc=$W/pagecache i
        pc_cgroup_setup
        mkdir -p "$pc/hl" "$pc/ov" "$pc/cp"
        cp -al "$GOLD" "$pc/gold"
        mkdir -p "$pc/gold/srv/goldroot-bench"
        head -c "${PAGECACHE_MIB}M" /dev/urandom >"$pc/gold$PC_FILE"
        for ((i = 1; i <= PAGECACHE_N; i++)); do
                cp -al "$pc/gold" "$pc/hl/$i"
                mkdir -p "$pc/ov/$i/upper" "$pc/ov/$i/work" "$pc/ov/$i/merged"
                mount -t overlay goldroot-bench \
                        -o "lowerdir=$pc/gold,upperdir=$pc/ov/$i/upper,workdir=$pc/ov/$i/work" \
                        "$pc/ov/$i/merged"
        done
        bench_pc hl "hardlink clones (cp -al)" "cp -al GOLD C; bwrap --ro-bind C / ... cat $PC_FILE"
        bench_pc ov "overlay clones" \
                "mount -t overlay -o lowerdir=GOLD,upperdir=C/upper,workdir=C/work C/merged; bwrap --ro-bind C/merged / ... cat $PC_FILE"
        for ((i = 1; i <= PAGECACHE_N; i++)); do cp -a "$pc/gold" "$pc/cp/$i"; done
        bench_pc cp "full copies (cp -a)" "cp -a GOLD C; bwrap --ro-bind C / ... cat $PC_FILE"
        rm -rf "$pc/cp" "$pc/hl"
        if gr_has run && [ -n "$has_gr_image" ] &&
                grd image import goldroot-bench:pagecache "$pc/gold" >/dev/null 2>"$W/err"; then
                bench_pc goldroot "goldroot run" "goldroot run --rm goldroot-bench:pagecache -- /bin/cat $PC_FILE"
        else
                cache_rows+=("| goldroot | pending | pending | | pending | pending | | \`goldroot run --rm goldroot-bench:pagecache -- /bin/cat $PC_FILE\` |")
        fi
        umount_under "$pc"
        [ -z "$PC_CG" ] || rmdir "$PC_CG"
}

for ph in $PHASES; do
        case $ph in
        clone | start | exec | pagecache) "phase_$ph" ;;
        *) die "unknown phase: $ph" ;;
        esac
done

# --- Tables -----------------------------------------------------------------
echo
echo "== Results ($(date -u +%F), $(nproc) cores, kernel $(uname -r); GOLD = Debian bookworm minbase)"
if [ ${#clone_rows[@]} -gt 0 ]; then
        echo
        echo "| clone | N=1 median ms | per-clone median ms | KiB per clone | × lxc-copy -s | command |"
        echo "|---|---|---|---|---|---|"
        for i in "${!clone_rows[@]}"; do
                echo "${clone_rows[i]/@RATIO@/$(ratio "${clone_ms[i]}" "$clone_ms_lxc")}"
        done
fi
if [ ${#start_rows[@]} -gt 0 ]; then
        echo
        echo "| start /bin/true | median ms | × bwrap | command |"
        echo "|---|---|---|---|"
        for row in "${start_rows[@]}"; do
                m=$(echo "$row" | cut -d'|' -f3 | tr -d ' ')
                echo "${row/@RATIO@/$(ratio "$m" "$start_base")}"
        done
        if [ -n "$start_interleaved" ]; then
                echo
                echo "$start_interleaved"
        fi
fi
if [ ${#exec_rows[@]} -gt 0 ]; then
        echo
        echo "| exec /bin/true | median ms | × nsenter | command |"
        echo "|---|---|---|---|"
        for row in "${exec_rows[@]}"; do
                m=$(echo "$row" | cut -d'|' -f3 | tr -d ' ')
                echo "${row/@RATIO@/$(ratio "$m" "$exec_base")}"
        done
fi
if [ ${#cache_rows[@]} -gt 0 ]; then
        echo
        echo "| page cache | Cached +MiB, 1 instance | $PAGECACHE_N instances | ratio | charged to readers' cgroup +MiB, 1 | $PAGECACHE_N | ratio | command |"
        echo "|---|---|---|---|---|---|---|---|"
        printf '%s\n' "${cache_rows[@]}"
fi
