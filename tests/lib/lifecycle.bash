# Helpers for the lifecycle suites (lifecycle-*.bats, merge-*.bats,
# scenario.bats). Load after common, images and instance.
#
#   lc_variant TAG 'SHELL'    a copy of the busybox root changed by SHELL (run in
#                             the copy), imported as bb:TAG
#   lc_sh NAME 'SHELL'        runs SHELL inside instance NAME (started for it and
#                             stopped again); its exit status is returned
#   lc_state NAME             the instance's state directory on the host
#   lc_upper NAME             its overlay upper layer (the built-in profiles')
#   lc_snapshot DIR           tree_manifest with mtimes: for byte-exact checks
#   lc_wait_lines FILE N      waits up to 10 s for FILE to have N lines; fails
#                             (saying what it has) if it does not

lc_variant() {
        local tag=$1 script=$2 d=$BATS_TEST_TMPDIR/variant-$1
        rm -rf "$d"
        cp -a "$BATS_FILE_TMPDIR/bb" "$d"
        (cd "$d" && eval "$script")
        "$GOLDROOT" image import "bb:$tag" "$d" >/dev/null
}

lc_sh() {
        local name=$1 rc
        "$GOLDROOT" start "$name" -- /bin/sleep 1000 || return 1
        "$GOLDROOT" exec "$name" -- /bin/sh -c "$2"
        rc=$?
        "$GOLDROOT" stop --timeout 0 "$name" || return 1
        return $rc
}

lc_state() {
        echo "$GOLDROOT_STORE/instances/$1/state"
}

lc_upper() {
        echo "$GOLDROOT_STORE/instances/$1/state/root"
}

lc_snapshot() {
        TREE_MANIFEST_MTIME=1 tree_manifest "$1"
}

lc_wait_lines() {
        local file=$1 want=$2 have _
        for _ in $(seq 100); do
                have=$(wc -l <"$file" 2>/dev/null || echo 0)
                [ "$have" -eq "$want" ] && return 0
                sleep 0.1
        done
        echo "$file: $have lines, not $want" >&2
        return 1
}
