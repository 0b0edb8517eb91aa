# Helpers for the crash and kill suites (reliability-*.bats). Load after
# common, images and instance.
#
#   rel_template           (setup_file) builds a store in $BATS_FILE_TMPDIR/template
#                          with bb:1, bb:2 and bb:3 (busybox variants; bb:2 and
#                          bb:3 are deltas), lone:1 and its delta lone:2, garbage
#                          objects, and rw instances with local state: a and b
#                          on bb:1, c upgraded to bb:2 (so it has a backup)
#   rel_store              copies the template into this test's $GOLDROOT_STORE
#   rel_states FILE        writes every instance state's tree_manifest (no
#                          mtimes) into FILE, one block per instance
#   rel_state_ok BEFORE AFTER   every instance state now equals its block
#                          in BEFORE or in AFTER (absent counts as a state)
#   rel_fsck_clean         fsck exits 0 and reports nothing

rel_variant() {
        local d=$BATS_FILE_TMPDIR/variant-$1
        rm -rf "$d"
        cp -a "$BATS_FILE_TMPDIR/bb" "$d"
        (cd "$d" && eval "$2")
        echo "$d"
}

# Local state written straight into an rw instance's overlay upper layer, as
# a started instance would have: an added file, a changed file (a conflict
# with bb:2), a deleted one (a whiteout), a private directory.
rel_local_edits() {
        local up=$GOLDROOT_STORE/instances/$1/state/root
        mkdir -p "$up/etc" "$up/srv/data"
        echo "local $1" >"$up/etc/motd"
        { cat "$BATS_FILE_TMPDIR/bb/etc/hosts"; echo "192.168.1.1 $1"; } >"$up/etc/hosts"
        mknod "$up/etc/issue" c 0 0
        echo "data of $1" >"$up/srv/data/file"
        chmod 0600 "$up/srv/data/file"
        chown 1000:1000 "$up/srv/data"
        ln -s /etc/passwd "$up/srv/data/link"
}

rel_template() {
        local t=$BATS_FILE_TMPDIR/template v2 v3 junk
        [ -d "$t" ] && return 0
        instance_build_busybox
        v2=$(rel_variant 2 'echo "10.0.0.1 gw" >>etc/hosts; echo v2 >usr/bin/hello;
                mkdir etc/motd.d; echo new >etc/motd.d/new')
        v3=$(rel_variant 3 'echo v3 >usr/bin/hello3; echo three >etc/three')
        junk=$(rel_variant junk 'head -c 4096 /dev/urandom >opt/app/junk1; echo junk >opt/app/junk2')
        rel_variant new 'echo brand new >etc/brand-new; head -c 8192 /dev/urandom >opt/app/new' \
                >/dev/null
        (
                export GOLDROOT_STORE=$t
                "$GOLDROOT" image import bb:1 "$BATS_FILE_TMPDIR/bb" >/dev/null
                "$GOLDROOT" image import bb:2 "$v2" >/dev/null
                "$GOLDROOT" image import bb:3 "$v3" >/dev/null
                # lone:2 is stored as a delta over lone:1: removing lone:1
                # makes it whole first.
                "$GOLDROOT" image import lone:1 "$(rel_variant lone 'echo lone >etc/lone')" >/dev/null
                "$GOLDROOT" image import lone:2 \
                        "$(rel_variant lone2 'echo lone >etc/lone; echo two >etc/two')" >/dev/null
                # Objects no image uses any more: work for gc.
                "$GOLDROOT" image import junk:1 "$junk" >/dev/null
                "$GOLDROOT" image rm junk:1
                for n in a b c; do
                        "$GOLDROOT" create "$n" --image bb:1 --mode rw >/dev/null
                        rel_local_edits "$n"
                done
                "$GOLDROOT" upgrade c --to bb:2 >/dev/null
        )
}

rel_store() {
        rm -rf "$GOLDROOT_STORE"
        cp -a "$BATS_FILE_TMPDIR/template" "$GOLDROOT_STORE"
}

rel_states() {
        local n d=$GOLDROOT_STORE/instances names
        : >"$1"
        names=$("$GOLDROOT" ls -q) || return 1
        for n in a b c n; do
                echo "== $n" >>"$1"
                if grep -qx "$n" <<<"$names"; then
                        tree_manifest "$d/$n/state" >>"$1"
                else
                        echo ABSENT >>"$1"
                fi
        done
}

# The block of instance NAME in a rel_states file.
rel_block() {
        awk -v n="== $1" '/^== / { on = ($0 == n); next } on' "$2"
}

rel_state_ok() {
        local now
        now=$(mktemp -p "$BATS_TEST_TMPDIR")
        rel_states "$now"
        for n in a b c n; do
                if [ "$(rel_block $n "$now")" != "$(rel_block $n "$1")" ] &&
                        [ "$(rel_block $n "$now")" != "$(rel_block $n "$2")" ]; then
                        echo "instance $n: state is neither the before nor the after state" >&2
                        diff <(rel_block $n "$1") <(rel_block $n "$now") >&2 || true
                        diff <(rel_block $n "$2") <(rel_block $n "$now") >&2 || true
                        return 1
                fi
        done
}

rel_fsck_clean() {
        local out rc=0
        out=$("$GOLDROOT" fsck --full 2>&1) || rc=$?
        if [ "$rc" -ne 0 ] || [[ "$out" == *"goldroot: fsck:"* ]]; then
                echo "fsck (exit $rc): $out" >&2
                return 1
        fi
}

# A cheaper description of instances' states, for loops: one line per path
# of instances/NAME/state (type, mode, owner, target; size and content hash
# of regular files), "NAME ABSENT" for an instance the catalog does not have.
rel_quick_states() {
        local n names dirs=()
        names=$("$GOLDROOT" ls -q) || return 1
        for n in $1; do
                if grep -qx "$n" <<<"$names"; then dirs+=("$n/state"); else echo "$n ABSENT"; fi
        done
        [ ${#dirs[@]} -gt 0 ] || return 0
        (
                cd "$GOLDROOT_STORE/instances" || exit 1
                {
                        find "${dirs[@]}" -printf '%p\t%y\t%m\t%U:%G\t%l\n'
                        find "${dirs[@]}" -type f -printf '%p\t%s\n'
                        find "${dirs[@]}" -type f -print0 | xargs -0 -r sha256sum |
                                awk '{ print $2 "\t" $1 }'
                } | LC_ALL=C sort
        )
}

# Each instance's lines in NOW equal its lines in BEFORE or in AFTER.
rel_blocks_ok() {
        local now=$1 before=$2 after=$3 n
        for n in $4; do
                if [ "$(grep "^$n[/ ]" "$now")" != "$(grep "^$n[/ ]" "$before")" ] &&
                        [ "$(grep "^$n[/ ]" "$now")" != "$(grep "^$n[/ ]" "$after")" ]; then
                        echo "instance $n: state is neither the before nor the after state" >&2
                        diff <(grep "^$n[/ ]" "$after") <(grep "^$n[/ ]" "$now") >&2 || true
                        return 1
                fi
        done
}
