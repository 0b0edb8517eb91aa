#!/usr/bin/env bats
# Hostile trees (issue 6, item 4). Each test plants one trap in an instance's
# state (the overlay upper under the store) or in an image, then runs every
# command that reads or writes inside an instance against it: personalize
# --again, diff, start/exec/stop, commit, upgrade (two policies), rollback and
# rm. A canary tree on the host, on its own tmpfs mounted strictatime, is
# checked afterwards: not one of its files or directories was read (atime),
# written (mtime, ctime, size) or removed, and its empty directory is still
# empty. A command that cannot proceed must say so in one line.
load ../lib/common
load ../lib/images
load ../lib/instance
load ../lib/lifecycle

bats_require_minimum_version 1.5.0

setup_file() {
        instance_build_busybox
}

setup() {
        C=$BATS_TEST_TMPDIR/canary
        mkdir -p "$C"
        mount -t tmpfs -o strictatime,mode=0755 "canary$$" "$C"
        mkdir -p "$C/etc/ssh" "$C/empty" "$C/hooks" "$C/upper/etc"
        echo "host secret" >"$C/secret"
        chmod 0600 "$C/secret"
        echo "host name" >"$C/etc/hostname"
        echo "127.0.0.1 host" >"$C/etc/hosts"
        echo "fedcba9876543210fedcba9876543210" >"$C/etc/machine-id"
        echo "host key" >"$C/etc/ssh/ssh_host_rsa_key"
        printf '#!/bin/sh\necho hook >/canary-hook-ran\n' >"$C/hooks/50-host"
        chmod 0755 "$C/hooks/50-host"
        echo "upper motd" >"$C/upper/etc/motd"
        # The canary's paths, deepest first so that setting a file's times does
        # not change its directory's afterwards. Listed now: reading the
        # directories later would itself touch their atimes.
        CANARY_PATHS=$(cd "$C" && find . -mindepth 1 | LC_ALL=C sort -r)
        (cd "$C" && echo "$CANARY_PATHS" | xargs touch -h -d '2001-02-03 04:05:06' && touch -d '2001-02-03 04:05:06' .)
        canary_stat >"$BATS_TEST_TMPDIR/canary.before"

        instance_import_busybox
        # bb:2 changes exactly the files the traps sit on, so that upgrade has to
        # look at them.
        lc_variant 2 'echo gold2 >etc/hostname; echo "10.0.0.1 gw" >>etc/hosts;
                echo v2 >etc/motd; mkdir -p etc/ssh; echo "Port 22" >etc/ssh/sshd_config;
                echo v2 >usr/bin/hello'
        N=0
}

teardown() {
        [ -n "${SWAPPER:-}" ] && kill "$SWAPPER" 2>/dev/null && wait "$SWAPPER" 2>/dev/null
        instance_teardown
        umount "$C" 2>/dev/null || true
}

# stat(2) of every canary path (never a read of one, never a readdir).
canary_stat() {
        local p
        (cd "$C" && for p in . $CANARY_PATHS; do
                stat -c '%n %F %a %s %X %Y %Z %h' "$p"
        done)
}

# Nothing on the host side was read, written or removed, and nothing was added.
canary_intact() {
        diff "$BATS_TEST_TMPDIR/canary.before" <(canary_stat)
        [ "$(cat "$C/secret")" = "host secret" ]
        [ "$(cat "$C/etc/hostname")" = "host name" ]
        [ -z "$(ls -A "$C/empty")" ]
        [ "$(cd "$C" && find . -mindepth 1 | LC_ALL=C sort -r)" = "$CANARY_PATHS" ]
        [ ! -e /canary-hook-ran ]
        # Those reads touched atimes themselves: the next check starts from here.
        canary_stat >"$BATS_TEST_TMPDIR/canary.before"
}

# Runs goldroot with a time limit (a FIFO must never make it hang). Success, or
# a failure told in exactly one line "goldroot: ...": never a hang, a crash, a
# sanitizer report or a multi-line error.
gr() {
        run --separate-stderr timeout 60 "$GOLDROOT" "$@"
        # Shown by bats when the test fails: what each command did.
        echo "goldroot $* -> $status${stderr:+: $stderr}"
        [ "$status" -ne 124 ] || { echo "goldroot $*: timed out" >&2; return 1; }
        [ "$status" -le 2 ] || { echo "goldroot $*: status $status: $stderr" >&2; return 1; }
        if [ "$status" -ne 0 ]; then
                [ "${#stderr_lines[@]}" -eq 1 ] || { echo "goldroot $*: not one line: $stderr" >&2; return 1; }
                [[ "${stderr_lines[0]}" == "goldroot: "* ]]
        fi
        [[ "$stderr" != *"Sanitizer"* && "$stderr" != *"runtime error"* ]]
}

# Every command that reads or writes inside instance $1, then rm, then the
# canary. Leaves the outcome of each in $BATS_TEST_TMPDIR/outcomes.
exercise() {
        local name=$1
        N=$((N + 1))
        gr personalize "$name" --again
        gr diff "$name"
        gr start "$name" -- /bin/sleep 1000
        if [ "$status" -eq 0 ]; then
                # The guest's own commands may fail on its traps: only goldroot's
                # part is checked here.
                gr exec "$name" -- /bin/sh -c 'cat /etc/hostname /etc/hosts /etc/machine-id
                        ls -la /etc /etc/ssh; true' </dev/null
                [ "$status" -eq 0 ]
                gr stop --timeout 2 "$name"
                [ "$status" -eq 0 ]
        fi
        gr commit "$name" "snap:$N"
        gr upgrade "$name" --to bb:2 --policy merge
        gr rollback "$name"
        gr upgrade "$name" --to bb:2 --policy theirs
        gr diff "$name"
        gr rollback "$name"
        canary_intact
        gr rm --force "$name"
        [ "$status" -eq 0 ]
        [ ! -e "$GOLDROOT_STORE/instances/$name" ]
        canary_intact
        # The store is still consistent and usable.
        [ "$(sqlite3 "$GOLDROOT_STORE/catalog.db" 'PRAGMA integrity_check')" = ok ]
        gr image gc
        [ "$status" -eq 0 ]
}

# Makes a stopped ro (or $2) instance that has been started once, so that its
# state is populated and personalized, and echoes nothing.
fresh() {
        "$GOLDROOT" create "$1" --image "${2:-bb:1}" --mode "${3:-ro}" \
                --ip 10.9.0.5/24 --gateway 10.9.0.1 --dns 10.9.0.53 >/dev/null
        "$GOLDROOT" start "$1" -- /bin/sleep 1000
        "$GOLDROOT" stop --timeout 2 "$1"
        U=$(lc_upper "$1")
}

# An image: the busybox root changed by the shell $2, imported as $1.
trap_image() {
        local d=$BATS_TEST_TMPDIR/img-$RANDOM
        cp -a "$BATS_FILE_TMPDIR/bb" "$d"
        (cd "$d" && eval "$2")
        "$GOLDROOT" image import "$1" "$d" >/dev/null
}

# A directory full of dot-dot: ../../.. deep enough to climb out of any tree.
DOTS=../../../../../../../../../../../../../../../../../../../..

# --- symlinks at the identity files -------------------------------------------

@test "hostile: /etc/hostname in the state is an absolute symlink to a host file" {
        fresh web
        ln -sfn "$C/secret" "$U/etc/hostname"
        exercise web
}

@test "hostile: /etc/hosts in the state is an absolute symlink to a host file" {
        fresh web
        ln -sfn "$C/etc/hosts" "$U/etc/hosts"
        exercise web
}

@test "hostile: /etc/machine-id in the state is an absolute symlink to a host file" {
        fresh web
        ln -sfn "$C/etc/machine-id" "$U/etc/machine-id"
        exercise web
}

@test "hostile: /etc/resolv.conf and the network file are symlinks to host files" {
        fresh web
        ln -sfn "$C/secret" "$U/etc/resolv.conf"
        mkdir -p "$U/etc/network"
        ln -sfn "$C/etc/hosts" "$U/etc/network/interfaces"
        exercise web
}

@test "hostile: /etc/ssh in the state is a symlink to a host directory" {
        fresh web
        rm -rf "$U/etc/ssh"
        ln -sfn "$C/empty" "$U/etc/ssh"
        exercise web
}

@test "hostile: ssh host key files in the state are symlinks to host files" {
        fresh web
        mkdir -p "$U/etc/ssh"
        for t in rsa ecdsa ed25519; do
                ln -sfn "$C/etc/ssh/ssh_host_rsa_key" "$U/etc/ssh/ssh_host_${t}_key"
                ln -sfn "$C/secret" "$U/etc/ssh/ssh_host_${t}_key.pub"
        done
        exercise web
}

@test "hostile: /etc/motd, a file the upgrade merges, is a symlink to a host file" {
        fresh web
        ln -sfn "$C/secret" "$U/etc/motd"
        exercise web
}

# --- .. chains ------------------------------------------------------------------

@test "hostile: /etc/hostname is a relative .. chain to a host file" {
        fresh web
        ln -sfn "$DOTS$C/secret" "$U/etc/hostname"
        exercise web
}

@test "hostile: /etc/machine-id and /etc/hosts are .. chains through real directories" {
        fresh web
        ln -sfn "../var/../etc/$DOTS$C/etc/machine-id" "$U/etc/machine-id"
        ln -sfn "./../etc/./../$DOTS$C/etc/hosts" "$U/etc/hosts"
        exercise web
}

@test "hostile: a chain of symlinks, each one step up, ends at a host file" {
        fresh web
        mkdir -p "$U/srv/a/b"
        ln -sfn ../.. "$U/srv/a/b/up"
        ln -sfn "up/up/up/up/up/up/up/up/up/up/up/up$C/secret" "$U/srv/a/b/far"
        ln -sfn /srv/a/b/far "$U/etc/hostname"
        exercise web
}

@test "hostile: /etc/ssh is a .. chain to a host directory" {
        fresh web
        rm -rf "$U/etc/ssh"
        ln -sfn "$DOTS$C/etc/ssh" "$U/etc/ssh"
        exercise web
}

# --- symlinked parent directories -----------------------------------------------

@test "hostile: /etc in the state is a symlink to a host directory" {
        fresh web
        rm -rf "$U/etc"
        ln -sfn "$C/etc" "$U/etc"
        exercise web
}

@test "hostile: /etc in the state is a symlink to /" {
        fresh web
        rm -rf "$U/etc"
        ln -sfn / "$U/etc"
        exercise web
}

@test "hostile: /etc/goldroot (the firstboot.d parent) is a symlink to a host directory" {
        fresh web
        rm -rf "$U/etc/goldroot"
        ln -sfn "$C/hooks/.." "$U/etc/goldroot"
        mkdir -p "$U/etc/goldroot2"
        ln -sfn "$C/hooks" "$U/etc/goldroot2/firstboot.d"
        exercise web
}

@test "hostile: /var and /root in the state are symlinks to host directories" {
        fresh web
        rm -rf "$U/var" "$U/root"
        ln -sfn "$C" "$U/var"
        ln -sfn "$DOTS$C/empty" "$U/root"
        exercise web
}

# --- the state directory itself -------------------------------------------------

@test "hostile: the overlay upper (state/root) is itself a symlink to a host directory" {
        fresh web
        rm -rf "$U"
        ln -sfn "$C/upper" "$U"
        exercise web
}

@test "hostile: the overlay upper is a .. chain symlink" {
        fresh web
        rm -rf "$U"
        ln -sfn "../$DOTS$C/upper" "$U"
        exercise web
}

@test "hostile: the overlay work directory is a symlink to a host directory" {
        fresh web
        rm -rf "$(lc_state web)/.work"
        ln -sfn "$C/empty" "$(lc_state web)/.work"
        exercise web
}

@test "hostile: the rw mode's upper is a symlink to a host directory" {
        fresh web bb:1 rw
        rm -rf "$U"
        ln -sfn "$C/upper" "$U"
        exercise web
}

# --- FIFOs where a file is expected ---------------------------------------------

@test "hostile: FIFOs at /etc/hostname, /etc/hosts and /etc/machine-id" {
        fresh web
        for f in hostname hosts machine-id; do
                rm -f "$U/etc/$f"
                mkfifo "$U/etc/$f"
        done
        exercise web
}

@test "hostile: a FIFO at /etc/motd, a text file the upgrade merges" {
        fresh web
        rm -f "$U/etc/motd"
        mkfifo "$U/etc/motd"
        exercise web
}

@test "hostile: FIFOs at the ssh host keys and at /etc/resolv.conf" {
        fresh web
        mkdir -p "$U/etc/ssh"
        for t in rsa ecdsa ed25519; do
                rm -f "$U/etc/ssh/ssh_host_${t}_key"
                mkfifo "$U/etc/ssh/ssh_host_${t}_key"
        done
        rm -f "$U/etc/resolv.conf"
        mkfifo "$U/etc/resolv.conf"
        exercise web
}

@test "hostile: the instance's identity file is a FIFO" {
        fresh web
        rm -f "$GOLDROOT_STORE/instances/web/identity"
        mkfifo "$GOLDROOT_STORE/instances/web/identity"
        gr start web -- /bin/sleep 1000
        [ "$stderr" = "goldroot: instance web: cannot read its identity: not a regular file" ]
        gr personalize web --again
        [ "$status" -eq 1 ]
        # rm does not need the identity: a damaged instance can still be removed.
        gr rm --force web
        [ "$status" -eq 0 ]
        canary_intact
}

# --- traps in an image ----------------------------------------------------------

@test "hostile image: identity files are symlinks to host files" {
        trap_image trap:1 "ln -sfn '$C/etc/hostname' etc/hostname; ln -sfn '$DOTS$C/etc/hosts' etc/hosts;
                ln -sfn '$C/etc/machine-id' etc/machine-id; rm -rf etc/ssh; ln -sfn '$C/empty' etc/ssh"
        fresh web trap:1
        exercise web
}

@test "hostile image: /etc is a symlink to a host directory" {
        trap_image trap:1 "rm -rf etc; ln -sfn '$C/etc' etc"
        "$GOLDROOT" create web --image trap:1
        # The link leads nowhere inside the image, so /etc cannot be made.
        gr start web -- /bin/sleep 1000
        [ "$stderr" = "goldroot: mount entry 'etc' (bind on /etc): cannot create @rw:/etc: No such file or directory" ]
        exercise web
}

@test "hostile image: FIFOs at the identity files" {
        trap_image trap:1 "rm -f etc/hostname etc/hosts etc/machine-id; mkfifo etc/hostname etc/hosts etc/machine-id"
        fresh web trap:1
        exercise web
}

@test "hostile image: firstboot.d is a symlink to a host directory of hooks" {
        trap_image trap:1 "mkdir -p etc/goldroot; ln -sfn '$C/hooks' etc/goldroot/firstboot.d"
        fresh web trap:1 rw
        exercise web
}

# --- files swapped between check and use ----------------------------------------

# Swaps $1 (inside the upper) between a regular file and a symlink to $2 as
# fast as it can, in the background, until teardown.
swapper() {
        local f=$1 target=$2 d
        d=$(dirname "$f")
        (
                while :; do
                        ln -sfn "$target" "$d/.swap-l" 2>/dev/null
                        mv -Tf "$d/.swap-l" "$f" 2>/dev/null
                        echo swapped >"$d/.swap-f" 2>/dev/null
                        mv -Tf "$d/.swap-f" "$f" 2>/dev/null
                done
        ) &
        SWAPPER=$!
}

@test "hostile race: /etc/hostname swapped with a symlink to a host file while every command runs" {
        fresh web
        swapper "$U/etc/hostname" "$C/secret"
        exercise web
}

@test "hostile race: /etc/motd swapped with a .. chain while diff, commit and upgrade run" {
        fresh web
        swapper "$U/etc/motd" "$DOTS$C/etc/hosts"
        exercise web
}

@test "hostile race: /etc/ssh swapped between a directory and a symlink to a host directory" {
        fresh web
        mkdir -p "$U/etc/ssh"
        (
                cd "$U/etc"
                while :; do
                        mkdir -p .ssh-d && ln -sfn "$C/etc/ssh" .ssh-l 2>/dev/null
                        mv -Tf .ssh-l ssh 2>/dev/null
                        rm -rf .ssh-old 2>/dev/null
                        mv -T ssh .ssh-old 2>/dev/null
                        mv -T .ssh-d ssh 2>/dev/null
                done
        ) &
        SWAPPER=$!
        exercise web
}

@test "hostile race: the overlay upper swapped between a directory and a symlink" {
        fresh web
        (
                cd "$(lc_state web)"
                while :; do
                        mv -T root .root-real 2>/dev/null
                        ln -sfn "$C/upper" root 2>/dev/null
                        rm -f root 2>/dev/null
                        mv -T .root-real root 2>/dev/null
                done
        ) &
        SWAPPER=$!
        exercise web
}
