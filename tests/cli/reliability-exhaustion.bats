#!/usr/bin/env bats
# Resource exhaustion (issue 6, item 6): a full disk during import and during
# upgrade (the store on a small loop-mounted ext4), no loop device to be had, an
# instance that fills its tmpfs, and a profile of 10,000 entries. Each gives a
# clean one-line error, loses nothing (the store and the instance state are
# byte for byte what they were) and leaves the store usable.
load ../lib/common
load ../lib/images
load ../lib/instance
load ../lib/lifecycle
load ../lib/mount

bats_require_minimum_version 1.5.0

setup_file() {
        instance_build_busybox
}

setup() {
        T=$BATS_TEST_TMPDIR
}

teardown() {
        instance_teardown
        if [ -n "${SMALL:-}" ]; then
                umount -l "$SMALL" 2>/dev/null || true
        fi
        mount_teardown
}

# Puts the store on a fresh ext4 file system of $1 MiB, loop-mounted.
small_store() {
        SMALL=$T/small
        mkdir -p "$SMALL"
        truncate -s "${1}M" "$T/small.ext4"
        mkfs.ext4 -q -F -O ^has_journal -m 0 "$T/small.ext4"
        mount -o loop "$T/small.ext4" "$SMALL"
        export GOLDROOT_STORE=$SMALL/store
}

# Everything a failed command could have changed in the store: the images and
# tags, every object and tree path, and no staging left over.
store_snapshot() {
        "$GOLDROOT" image ls --json
        "$GOLDROOT" ls --json
        (cd "$GOLDROOT_STORE" && find objects images staging | LC_ALL=C sort)
}

# Fills the file system under $1 until at most $2 MiB are free.
fill_to() {
        local free
        free=$(($(stat -f -c '%a * %S' "$1") / 1048576))
        [ "$free" -gt "$2" ] || return 0
        fallocate -l "$(((free - $2) * 1048576))" "$1/filler"
}

# Runs goldroot and requires a failure told in one line that matches $1.
fails_cleanly() {
        local want=$1
        shift
        run --separate-stderr timeout 120 "$GOLDROOT" "$@"
        echo "goldroot $* -> $status: $stderr"
        [ "$status" -eq 1 ] || [ "$status" -eq 2 ]
        [ "${#stderr_lines[@]}" -eq 1 ]
        [[ "${stderr_lines[0]}" == "goldroot: "* ]]
        [[ "${stderr_lines[0]}" =~ $want ]]
}

@test "disk full during import: one line, no image, no object, no staging left; the store still imports" {
        small_store 32
        instance_import_busybox
        before=$(store_snapshot)
        mkdir -p "$T/big/etc"
        echo big >"$T/big/etc/hostname"
        # Four files each of which fits, which together do not: the importer's
        # early "more than the store can hold" check cannot catch this.
        for i in 1 2 3 4; do
                head -c $((10 * 1048576)) /dev/urandom >"$T/big/blob$i"
        done
        fails_cleanly "No space left on device" image import big:1 "$T/big"
        [ "$(store_snapshot)" = "$before" ]
        [ "$(sqlite3 "$GOLDROOT_STORE/catalog.db" 'PRAGMA integrity_check')" = ok ]
        # A tarball too, through the streaming importer.
        tar -C "$T/big" -cf - . | {
                run --separate-stderr "$GOLDROOT" image import big:2 -
                echo "$status: $stderr"
                # The tar importer refuses an entry larger than the space left
                # before writing it; else the write itself fails.
                [ "$status" -eq 1 ] || [ "$status" -eq 2 ]
                [ "${#stderr_lines[@]}" -eq 1 ]
                [[ "$stderr" =~ ^"goldroot: import -: ".*("No space left on device"|"more than the store can hold") ]]
        }
        [ "$(store_snapshot)" = "$before" ]
        # Still usable: a small image goes in, and an instance of the old one starts.
        rm "$T/big/blob"*
        "$GOLDROOT" image import big:1 "$T/big"
        "$GOLDROOT" create web --image bb:1
        "$GOLDROOT" start web -- /bin/sleep 1000
        [ "$("$GOLDROOT" exec web -- /bin/cat /etc/issue)" = "Welcome to gold" ]
}

@test "disk full during upgrade: one line, the state and the image link unchanged; upgrade works once there is room" {
        small_store 48
        instance_import_busybox
        lc_variant 2 'echo v2 >etc/motd'
        "$GOLDROOT" create web --image bb:1
        lc_sh web 'echo local >/etc/motd; mkdir -p /srv/data'
        # A large local file the upgrade has to carry into the new state.
        head -c $((12 * 1048576)) /dev/urandom >"$(lc_upper web)/srv/data/blob"
        state_before=$(lc_snapshot "$(lc_state web)")
        link_before=$("$GOLDROOT" status web)
        images_before=$(store_snapshot)
        fill_to "$SMALL" 4
        fails_cleanly "No space left on device" upgrade web --to bb:2
        [ "$(lc_snapshot "$(lc_state web)")" = "$state_before" ]
        [ "$("$GOLDROOT" status web)" = "$link_before" ]
        [ "$(store_snapshot)" = "$images_before" ]
        [ "$(sqlite3 "$GOLDROOT_STORE/catalog.db" 'PRAGMA integrity_check')" = ok ]
        # Nothing of the half-built state is left to take the room.
        ls -A "$GOLDROOT_STORE/instances/web"
        [ "$(ls -A "$GOLDROOT_STORE/instances/web" | grep -cv '^\(identity\|state\|run\)$')" -eq 0 ]
        rm "$SMALL/filler"
        "$GOLDROOT" upgrade web --to bb:2
        [ "$(lc_sh web 'cat /etc/motd')" = local ]
        cmp "$(lc_upper web)/srv/data/blob" <(lc_sh web 'cat /srv/data/blob')
}

@test "no loop device left: one line, nothing mounted, nothing attached (simulated: /dev/loop-control is /dev/null)" {
        # The kernel's loop limit is global; a private mount namespace in which
        # /dev/loop-control is /dev/null makes LOOP_CTL_GET_FREE fail for this
        # command only, as it fails when no loop device can be had.
        mkdir -p "$T/src" "$T/root/opt" "$T/root/etc"
        echo hello >"$T/src/README"
        mkfs.erofs --quiet "$T/opt.erofs" "$T/src" >/dev/null
        cat >"$T/p.profile" <<EOP
etc  tmpfs  -            /etc  size=1M
opt  loop   $T/opt.erofs /opt
EOP
        run --separate-stderr unshare -m --propagation private sh -c \
                'mount --bind /dev/null /dev/loop-control && exec "$0" mount --profile "$1" "$2"' \
                "$GOLDROOT" "$T/p.profile" "$T/root"
        echo "$status: $stderr"
        [ "$status" -eq 1 ]
        [ "${#stderr_lines[@]}" -eq 1 ]
        [[ "$stderr" == "goldroot: mount entry 'opt' (loop on /opt): "*"loop device"* ]]
        [ "$(mounts_under "$T/root")" -eq 0 ]
        [ -z "$(loops_of "$T/opt.erofs")" ]
        # With loop devices to be had, the same profile mounts.
        "$GOLDROOT" mount --profile "$T/p.profile" "$T/root"
        [ "$(cat "$T/root/opt/README")" = hello ]
        "$GOLDROOT" umount "$T/root"
        [ -z "$(loops_of "$T/opt.erofs")" ]
}

@test "an instance fills its /tmp: the guest gets ENOSPC, goldroot and the host are unaffected, the state unchanged" {
        instance_import_busybox
        sed 's|^tmp .*|tmp      tmpfs    -                    /tmp            size=4M,mode=1777|' \
                "$BATS_TEST_DIRNAME/../../profiles/ro.profile" >"$T/small-tmp.profile"
        grep -q 'size=4M' "$T/small-tmp.profile"
        "$GOLDROOT" create web --image bb:1 --profile "$T/small-tmp.profile"
        "$GOLDROOT" start web -- /bin/sleep 1000
        "$GOLDROOT" stop web
        state_before=$(lc_snapshot "$(lc_state web)")
        "$GOLDROOT" start web -- /bin/sleep 1000
        run "$GOLDROOT" exec web -- /bin/dd if=/dev/zero of=/tmp/fill bs=1M count=64
        [ "$status" -ne 0 ]
        [[ "$output" == *"No space left on device"* ]]
        # The instance still works, and the tmpfs took exactly its limit.
        [ "$("$GOLDROOT" exec web -- /bin/cat /etc/issue)" = "Welcome to gold" ]
        [ "$("$GOLDROOT" exec web -- /bin/sh -c 'df -k /tmp | tail -1' | awk '{print $2}')" -eq 4096 ]
        run "$GOLDROOT" status web
        [[ "$output" == *"state:    running"* ]]
        "$GOLDROOT" stop web
        [ "$(lc_snapshot "$(lc_state web)")" = "$state_before" ]
        "$GOLDROOT" start web -- /bin/sleep 1000
        ! "$GOLDROOT" exec web -- /bin/test -e /tmp/fill
}

# A profile of $2 tmpfs entries, nested 100 wide under /d0../d99, in $1.
big_profile() {
        local f=$1 n=$2
        {
                echo "root tmpfs - / size=1M"
                for ((i = 1; i < n; i++)); do
                        j=$(((i * 7919 + 13) % i))
                        [ "$j" -eq 0 ] && j=root || j=e$j
                        echo "e$i tmpfs - /d$((i % 100))/x$i size=1M,after=$j"
                done
        } >"$f"
}

@test "a profile of 10,000 entries plans fast, in order, and a cycle in it is one line" {
        big_profile "$T/big.profile" 10000
        run --separate-stderr timeout 60 "$GOLDROOT" plan --profile "$T/big.profile"
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -eq 10000 ]
        [[ "${lines[0]}" == *" root "* ]]
        # Every after= dependency is placed before its dependent.
        echo "$output" | awk '{pos[$2] = NR} END {
                for (i = 1; i < 10000; i++) { d = "e" (i * 7919 + 13) % i; if (d == "e0") d = "root";
                        if (pos[d] >= pos["e" i]) { print "e" i " before " d; exit 1 } } }'
        run --separate-stderr timeout 60 "$GOLDROOT" plan --profile "$T/big.profile" --dot
        [ "$status" -eq 0 ]
        # A cycle through the last entries is named whole, in one line.
        echo "e10000 tmpfs - /c/a size=1M,after=e10001" >>"$T/big.profile"
        echo "e10001 tmpfs - /c/b size=1M,after=e10000" >>"$T/big.profile"
        run --separate-stderr timeout 60 "$GOLDROOT" plan --profile "$T/big.profile"
        [ "$status" -eq 2 ]
        [ "${#stderr_lines[@]}" -eq 1 ]
        [[ "$stderr" == "goldroot: $T/big.profile:10001:"*"dependency cycle: e10000 -> e10001 -> e10000" ]]
}
