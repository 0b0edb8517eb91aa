#!/usr/bin/env bats
# goldroot fsck: a clean store is clean; each kind of damage is reported in
# one line and, where safe, repaired; instance data is never deleted.
load ../lib/common
load ../lib/images
load ../lib/instance

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
        "$GOLDROOT" create web --image bb:1 --mode rw >/dev/null
        mkdir -p "$GOLDROOT_STORE/instances/web/state/root/etc"
        echo mine >"$GOLDROOT_STORE/instances/web/state/root/etc/motd"
}

teardown() {
        instance_teardown
}

@test "fsck: a healthy store has no problems" {
        run "$GOLDROOT" fsck --full
        [ "$status" -eq 0 ]
        [[ "$output" == "fsck: 1 images, 1 instances, "*" objects hashed: 0 problems, 0 repaired" ]]
        out=$("$GOLDROOT" fsck --json)
        [ "$(jq -r '.remaining' <<<"$out")" = 0 ]
        [ "$(jq -r '.problems | length' <<<"$out")" = 0 ]
}

@test "fsck: an orphaned instance directory is reported and moved to lost+found, never deleted" {
        mkdir -p "$GOLDROOT_STORE/instances/ghost/state"
        echo precious >"$GOLDROOT_STORE/instances/ghost/state/data"
        # No other command deletes it either (ls and rm run instance recovery).
        "$GOLDROOT" ls >/dev/null
        run "$GOLDROOT" rm ghost
        [ "$status" -ne 0 ]
        [ "$(cat "$GOLDROOT_STORE/instances/ghost/state/data")" = precious ]
        run "$GOLDROOT" fsck
        [ "$status" -eq 1 ]
        [[ "$output" == *"goldroot: fsck: instances/ghost: no catalog row (an orphaned instance directory)"* ]]
        [ -d "$GOLDROOT_STORE/instances/ghost" ]
        run "$GOLDROOT" fsck --repair
        [ "$status" -eq 0 ]
        [[ "$output" == *"instances/ghost: no catalog row (an orphaned instance directory) (moved to lost+found/ghost."* ]]
        [ "$(cat "$GOLDROOT_STORE"/lost+found/ghost.*/state/data)" = precious ]
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
}

@test "fsck: an object whose content or metadata no longer matches its name" {
        local obj
        obj=$(find "$GOLDROOT_STORE/objects" -type f -size +0 | head -1)
        chmod 0604 "$obj"
        run "$GOLDROOT" fsck --full
        [ "$status" -eq 1 ]
        [[ "$output" == *"goldroot: fsck: objects/${obj#"$GOLDROOT_STORE/objects/"}: its content or metadata does not match its name"* ]]
        # The image tree shares the inode: the tree is wrong too.
        [[ "$output" == *"in the tree, "*" in the manifest"* ]]
        run "$GOLDROOT" fsck --repair --full
        [ "$status" -eq 1 ] # not repairable: it stays reported
}

@test "fsck: a missing object is linked again from the image tree" {
        local obj
        obj=$(find "$GOLDROOT_STORE/objects" -type f -size +0 | head -1)
        rm "$obj"
        run "$GOLDROOT" fsck
        [ "$status" -eq 1 ]
        [[ "$output" == *"its object objects/${obj#"$GOLDROOT_STORE/objects/"} is missing"* ]]
        run "$GOLDROOT" fsck --repair
        [ "$status" -eq 0 ]
        [[ "$output" == *"(linked again from the tree)"* ]]
        [ -f "$obj" ]
        run "$GOLDROOT" fsck --full
        [ "$status" -eq 0 ]
}

@test "fsck: a missing object of a delta's file is linked again from the delta" {
        local src=$BATS_TEST_TMPDIR/src obj id2
        mkdir "$src"
        for i in $(seq 20); do echo "file $i" >"$src/f$i"; done
        "$GOLDROOT" image import app:v1 "$src" >/dev/null
        echo "changed in v2" >"$src/f1"
        echo "changed in v2 too" >"$src/f2"
        id2=$("$GOLDROOT" image import app:v2 "$src")
        echo "changed in v3" >"$src/f3"
        "$GOLDROOT" image import app:v3 "$src" >/dev/null
        [[ "$("$GOLDROOT" image inspect app:v3)" == *"delta over ${id2:0:12}"* ]]
        # The object behind v2's /f2, seen from v2 and from v3 over it.
        obj=$(find "$GOLDROOT_STORE/objects" -samefile "$GOLDROOT_STORE/images/$id2/${id2:0:12}.1")
        [ -n "$obj" ]
        rm "$obj"
        run "$GOLDROOT" fsck
        [ "$status" -eq 1 ]
        [[ "$output" == *"image ${id2:0:12}: /f2: its object objects/${obj#"$GOLDROOT_STORE/objects/"} is missing"* ]]
        run "$GOLDROOT" fsck --repair
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"/f2: its object"*"is missing (linked again from the delta)"* ]]
        [ "$obj" -ef "$GOLDROOT_STORE/images/$id2/${id2:0:12}.1" ]
        run "$GOLDROOT" fsck --full
        [ "$status" -eq 0 ]
}

@test "fsck --full: a whole tree's file that is not its object is read" {
        local f b
        f=$(find "$GOLDROOT_STORE"/images/*/root -type f -size +1 | head -1)
        # The same size, mode and owner, one byte different, a fresh inode.
        cp -p "$f" "$BATS_TEST_TMPDIR/x"
        b=$(head -c1 "$f" | od -An -tu1 | tr -d ' ')
        printf "\\$(printf %03o $(((b + 1) % 256)))" |
                dd of="$BATS_TEST_TMPDIR/x" bs=1 count=1 conv=notrunc 2>/dev/null
        ! cmp -s "$f" "$BATS_TEST_TMPDIR/x"
        mv "$BATS_TEST_TMPDIR/x" "$f"
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
        run "$GOLDROOT" fsck --full
        echo "$output"
        [ "$status" -eq 1 ]
        [[ "$output" == *"/${f#*/root/}: its content or metadata is not its object's (objects/"* ]]
        # Nor does --repair take it for the object once that is gone.
        obj=$GOLDROOT_STORE/objects/$(sed -n "s|.*is not its object's (objects/\([^)]*\)).*|\1|p" <<<"$output")
        rm "$obj"
        run "$GOLDROOT" fsck --repair
        [ "$status" -eq 1 ]
        [[ "$output" == *"/${f#*/root/}: its object objects/${obj#"$GOLDROOT_STORE/objects/"} is missing"* ]]
        [ ! -e "$obj" ]
}

@test "fsck: upgrade leftovers and a backup whose directory is gone" {
        local v2=$BATS_TEST_TMPDIR/v2
        cp -a "$BATS_FILE_TMPDIR/bb" "$v2"
        echo v2 >"$v2/etc/v2"
        "$GOLDROOT" image import bb:2 "$v2" >/dev/null
        "$GOLDROOT" upgrade web --to bb:2 >/dev/null
        mkdir "$GOLDROOT_STORE/instances/web/.upgrade.0123"
        echo half >"$GOLDROOT_STORE/instances/web/.upgrade.0123/x"
        mv "$GOLDROOT_STORE"/instances/web/backup.* "$BATS_TEST_TMPDIR/"
        run "$GOLDROOT" fsck
        [ "$status" -eq 1 ]
        [[ "$output" == *"goldroot: fsck: instance web: .upgrade.0123 is left over from an interrupted upgrade"* ]]
        [[ "$output" == *"goldroot: fsck: instance web: its backup backup."*" is missing"* ]]
        out=$("$GOLDROOT" fsck --repair --json 2>/dev/null)
        [ "$(jq -r '.remaining' <<<"$out")" = 0 ]
        [ "$(jq -r '[.problems[] | select(.repaired)] | length' <<<"$out")" = 2 ]
        [ "$(cat "$GOLDROOT_STORE"/lost+found/web-upgrade.0123.*/x)" = half ]
        run "$GOLDROOT" rollback web
        [ "$status" -eq 1 ] # the backup row went with its directory
        # The instance's own state was never touched.
        [ "$(cat "$GOLDROOT_STORE/instances/web/state/root/etc/motd")" = mine ]
}

@test "fsck: an image tree the catalog does not know is left by nobody: the next command removes it" {
        mkdir -p "$GOLDROOT_STORE/images/0000000000000000000000000000000000000000000000000000000000000000/root"
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
        [ ! -e "$GOLDROOT_STORE/images/0000000000000000000000000000000000000000000000000000000000000000" ]
}

@test "fsck: a mount left on the store is reported (read with libmount) and detached by --repair" {
        state=$GOLDROOT_STORE/instances/web/state
        # Run in a private mount namespace, so that a failure leaves no mount
        # on the host; the script checks what a user would see.
        run unshare -m --propagation private bash -c '
                set -e
                mount -t tmpfs left-over "$1"
                mkdir "$1/deeper"
                mount -t tmpfs on-top "$1/deeper"
                echo "--- fsck"
                "$GOLDROOT" fsck 2>&1 && exit 11
                echo "--- json"
                "$GOLDROOT" fsck --json 2>/dev/null | jq -c "[.problems[] | select(.what | startswith(\"mount \")) | [.what, .repaired]]" || true
                echo "--- repair"
                "$GOLDROOT" fsck --repair 2>&1
                echo "--- after"
                "$GOLDROOT" fsck 2>&1
                grep -c " $1" /proc/self/mountinfo || true
                "$GOLDROOT" rm web 2>&1
        ' sh "$state"
        echo "$output"
        [ "$status" -eq 0 ]
        # One line per mount, deepest first, naming target, type and source.
        grep -qxF "goldroot: fsck: mount $state/deeper: a tmpfs mount of on-top on the store (it keeps the tree busy)" <<<"$output"
        grep -qxF "goldroot: fsck: mount $state: a tmpfs mount of left-over on the store (it keeps the tree busy)" <<<"$output"
        grep -qxF "[[\"mount $state/deeper\",false],[\"mount $state\",false]]" <<<"$output"
        grep -qxF "goldroot: fsck: mount $state: a tmpfs mount of left-over on the store (it keeps the tree busy) (detached)" <<<"$output"
        [[ "$output" == *"2 problems, 2 repaired"* ]]
        # After the repair: clean, no mount left, and rm removes everything
        # at once (it said nothing).
        sed -n '/^--- after$/,$p' <<<"$output" | grep -q "0 problems, 0 repaired"
        [ "$(sed -n '/^--- after$/,$p' <<<"$output" | tail -n1)" = 0 ]
        [ ! -e "$GOLDROOT_STORE/instances/web" ]
}

@test "fsck: usage errors" {
        run "$GOLDROOT" fsck extra
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: fsck: unexpected argument 'extra'" ]
        run "$GOLDROOT" fsck --bogus
        [ "$status" -eq 2 ]
}

@test "fsck: an identity file the instance commands would refuse is reported" {
        id=$GOLDROOT_STORE/instances/web/identity
        cp "$id" "$BATS_TEST_TMPDIR/identity"
        printf 'garbage\001\n' >"$id"
        run "$GOLDROOT" status web
        [ "$status" -ne 0 ]
        run "$GOLDROOT" fsck
        [ "$status" -eq 1 ]
        [[ "$output" == *"instance web: its identity file does not parse ('goldroot status web' shows where)"* ]]
        # fsck's line only: the parser's own stays quiet.
        [[ "$output" != *"identity:1:"* ]]
        head -c 70000 /dev/zero | tr '\0' '#' >"$id"
        run "$GOLDROOT" fsck
        [ "$status" -eq 1 ]
        [[ "$output" == *"instance web: its identity file is larger than 64 KiB"* ]]
        cp "$BATS_TEST_TMPDIR/identity" "$id"
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
}

@test "fsck: the object sample is at most 64, whatever the store's size" {
        mkdir -p "$BATS_TEST_TMPDIR/many"
        for i in $(seq 200); do echo "object $i" >"$BATS_TEST_TMPDIR/many/f$i"; done
        "$GOLDROOT" image import many:1 "$BATS_TEST_TMPDIR/many" >/dev/null
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
        n=$(sed -n 's/.*, \([0-9]*\) objects hashed.*/\1/p' <<<"$output")
        [ "$n" -le 64 ]
        [ "$n" -ge 32 ]
}
