#!/usr/bin/env bats
# Versions stored as deltas (docs/STORE.md, "Delta images"): a version that
# differs from the newest image of its name in few paths costs those paths,
# reads back exactly, runs, and keeps its base alive until it goes.
load ../lib/common
load ../lib/images

setup() {
        W=$BATS_TEST_TMPDIR/w
        mkdir -p "$W"
}

# A failed test may leave its image mount behind.
teardown() {
        if mountpoint -q "$W/m" 2>/dev/null; then umount "$W/m"; fi
        image_umount_all
}

import() {
        run "$GOLDROOT" image import "$@"
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" =~ ^[0-9a-f]{64}$ ]]
}

stored_as() {
        "$GOLDROOT" image inspect "$1" | sed -n 's/^stored as: *//p'
}

# A second version that exercises every kind of change a delta must carry.
make_v2() {
        cp -a "$W/src" "$W/v2"
        echo "changed motd" >"$W/v2/etc/issue"                  # content
        chmod 0600 "$W/v2/etc/passwd"                            # mode only
        setfattr -n user.goldroot.note -v changed "$W/v2/etc/passwd" # xattr only
        chown 1:1 "$W/v2/etc/group"                              # owner only
        echo new >"$W/v2/etc/added"                              # added file
        mkdir -p "$W/v2/opt/new/deep" && echo deep >"$W/v2/opt/new/deep/f"
        rm "$W/v2/etc/issue.net"                                 # deleted file
        rm -r "$W/v2/var"                                        # deleted subtree
        rm "$W/v2/etc/hostname" && mkdir "$W/v2/etc/hostname"    # file -> directory
        echo inside >"$W/v2/etc/hostname/f"
        rm -r "$W/v2/home" && ln -s /srv "$W/v2/home"            # directory -> symlink
        mkfifo "$W/v2/etc/fifo"
        mknod "$W/v2/etc/null2" c 1 3
        ln "$W/v2/etc/added" "$W/v2/etc/added.link"              # a new hardlink group
        : >"$W/v2/etc/empty"
}

@test "a version with few changes is stored as a delta and reads back exactly" {
        busybox_rootfs "$W/src"
        import base:v1 "$W/src"
        id1=$output
        make_v2
        import base:v2 "$W/v2"
        id2=$output
        [ "$(stored_as base:v1)" = "whole tree" ]
        [ "$(stored_as base:v2)" = "delta over ${id1:0:12}" ]
        [ ! -e "$GOLDROOT_STORE/images/$id2/root" ]
        [ -f "$GOLDROOT_STORE/images/$id2/delta.erofs" ]

        # What tar extracts from the delta's export is the v2 source, file by
        # file, metadata, xattrs, hardlink groups and mtimes included.
        mkdir "$W/x"
        "$GOLDROOT" image export base:v2 - |
                tar --xattrs --xattrs-include='*' --numeric-owner -C "$W/x" -xf - 2>/dev/null
        TREE_MANIFEST_MTIME=1 tree_manifest "$W/v2" >"$W/v2.m"
        TREE_MANIFEST_MTIME=1 tree_manifest "$W/x" >"$W/x.m"
        diff "$W/v2.m" "$W/x.m"

        # The same tree under a name with no earlier version is stored whole,
        # with the same id: the representation never changes the image.
        import other:v2 "$W/v2"
        [ "$output" = "$id2" ]
        import fresh:v2 "$W/x"
        [ "$output" = "$id2" ]

        # And the erofs export of the delta mounts to the same tree. (erofs
        # carries hardlinks as the tree's inodes show them, as for any image:
        # the hardlink-group column is left out.)
        "$GOLDROOT" image export --format erofs base:v2 "$W/v2.erofs"
        mkdir "$W/m"
        mount -o ro,loop "$W/v2.erofs" "$W/m"
        TREE_MANIFEST_MTIME=1 tree_manifest "$W/m" | cut -f1-6,8- >"$W/m.m"
        umount "$W/m"
        cut -f1-6,8- "$W/v2.m" | diff - "$W/m.m"
}

@test "a delta costs its changed objects and a few KiB, not a tree" {
        busybox_rootfs "$W/src"
        import base:v1 "$W/src"
        cp -a "$W/src" "$W/v2"
        head -c 100000 /dev/urandom >"$W/v2/etc/blob"
        echo "changed motd" >"$W/v2/etc/issue"
        import base:v2 "$W/v2"
        id2=$output
        # Everything the version owns besides the objects: its erofs layer,
        # its manifest of changes and the directory holding them.
        own=$(find "$GOLDROOT_STORE/images/$id2" -type f -links 1 -printf '%s\n' |
                awk '{ s += $1 } END { print s }')
        echo "own bytes: $own"
        [ "$own" -lt 32768 ]
        # Its objects are held by links of its own, so gc keeps them.
        run "$GOLDROOT" image gc
        [ "$status" -eq 0 ]
        [ "$(image_file base:v2 /etc/blob | wc -c)" -eq 100000 ]
}

@test "removing a base makes its deltas whole first, and gc frees what only it used" {
        busybox_rootfs "$W/src"
        cp -a "$W/src" "$W/v2"
        head -c 30000 /dev/urandom >"$W/src/etc/only1"
        import base:v1 "$W/src"
        id1=$output
        echo "changed" >"$W/v2/etc/issue"
        import base:v2 "$W/v2"
        id2=$output
        [ "$(stored_as base:v2)" = "delta over ${id1:0:12}" ]
        "$GOLDROOT" image export base:v2 - | tar -t | LC_ALL=C sort >"$W/before"

        run "$GOLDROOT" image rm base:v1
        [ "$status" -eq 0 ]
        [ "$(stored_as base:v2)" = "whole tree" ]
        [ -d "$GOLDROOT_STORE/images/$id2/root" ]
        [ ! -e "$GOLDROOT_STORE/images/$id1" ]
        [ -z "$(ls -A "$GOLDROOT_STORE/staging")" ]
        run "$GOLDROOT" image ls -q
        [ "$output" = "$id2" ]
        # Same image, same files, now from its own tree.
        "$GOLDROOT" image export base:v2 - | tar -t | LC_ALL=C sort | diff "$W/before" -
        [ "$(image_file base:v2 /etc/issue)" = "changed" ]
        # v1's own files are garbage now.
        run "$GOLDROOT" image gc --json
        [ "$status" -eq 0 ]
        # (v1's /etc/issue text lives on in /etc/issue.net, the same object.)
        [[ "$output" == '{"objects_removed":1,"bytes_freed":30000,'* ]]

        run "$GOLDROOT" image rm base:v2
        [ "$status" -eq 0 ]
        [ -z "$(ls -A "$GOLDROOT_STORE/images")" ]
        run "$GOLDROOT" image gc
        [ "$status" -eq 0 ]
        [ -z "$(find "$GOLDROOT_STORE/objects" -type f)" ]
}

@test "a crash while making a delta whole leaves a working image; the next rm finishes" {
        busybox_rootfs "$W/src"
        import base:v1 "$W/src"
        id1=$output
        echo "changed" >"$W/src/etc/issue"
        import base:v2 "$W/src"
        id2=$output
        run env GOLDROOT_CRASH_AT=flatten-after-swap "$GOLDROOT" image rm base:v1
        [ "$status" -eq 137 ]
        # The tree was swapped in: v2 reads from it although the catalog still
        # names its old base.
        [ -d "$GOLDROOT_STORE/images/$id2/root" ]
        [ "$(stored_as base:v2)" = "whole tree" ]
        [ "$(image_file base:v2 /etc/issue)" = "changed" ]
        run "$GOLDROOT" image rm base:v1
        [ "$status" -eq 0 ]
        [ ! -e "$GOLDROOT_STORE/images/$id1" ]
        [ "$(image_file base:v2 /etc/issue)" = "changed" ]
        [ -z "$(ls -A "$GOLDROOT_STORE/staging")" ]
}

@test "a base linked by an instance is kept and its delta still runs" {
        busybox_rootfs "$W/src"
        import base:v1 "$W/src"
        cp -a "$W/src" "$W/v2"
        echo "v2 says hi" >"$W/v2/etc/motd2"
        import base:v2 "$W/v2"
        run "$GOLDROOT" create d1 --image base:v2
        [ "$status" -eq 0 ]
        run "$GOLDROOT" run --rm base:v2 -- cat /etc/motd2
        [ "$status" -eq 0 ]
        [ "$output" = "v2 says hi" ]
        # The instance's image is read-only inside, delta or not.
        run "$GOLDROOT" run --rm base:v2 -- sh -c 'echo x >/usr/bin/evil'
        [ "$status" -ne 0 ]
        run "$GOLDROOT" image rm base:v2
        [ "$status" -ne 0 ]
        [[ "$output" == *"linked by d1"* ]]
        "$GOLDROOT" rm d1
}

@test "chains stay short and big changes are stored whole" {
        busybox_rootfs "$W/src"
        for i in 1 2 3 4 5 6 7 8 9 10; do
                echo "version $i" >"$W/src/etc/version"
                import "base:v$i" "$W/src"
        done
        [ "$(stored_as base:v1)" = "whole tree" ]
        [[ "$(stored_as base:v9)" == "delta over "* ]]
        # v9 sits on eight deltas; a ninth would make the chain too deep.
        [ "$(stored_as base:v10)" = "whole tree" ]
        [ "$(image_file base:v9 /etc/version)" = "version 9" ]

        # A version that rewrites more than a quarter of the paths.
        find "$W/src" -type f -path '*/etc/*' -exec sh -c 'echo rewritten >>"$1"' _ {} \;
        for i in $(seq 1 200); do echo "$i" >"$W/src/etc/new$i"; done
        import base:v11 "$W/src"
        [ "$(stored_as base:v11)" = "whole tree" ]
}

@test "image rm: refused while image mount shows the image, itself or under a delta over it" {
        busybox_rootfs "$W/src"
        import base:v1 "$W/src"
        cp -a "$W/src" "$W/v2"
        echo changed >"$W/v2/etc/issue"
        import base:v2 "$W/v2"
        [[ "$(stored_as base:v2)" == "delta over "* ]]
        mkdir "$W/m"

        "$GOLDROOT" image mount base:v1 "$W/m"
        run "$GOLDROOT" image rm base:v1
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: image base:v1 is in use by the mount on $W/m: umount it first" ]
        [ "$(cat "$W/m/etc/issue")" = "Welcome to gold" ]
        umount "$W/m"

        # The delta's view has v1's tree as a layer, and its own delta.
        "$GOLDROOT" image mount base:v2 "$W/m"
        for img in base:v1 base:v2; do
                run "$GOLDROOT" image rm "$img"
                [ "$status" -eq 1 ]
                [ "$output" = "goldroot: image $img is in use by the mount on $W/m: umount it first" ]
        done
        [ "$(cat "$W/m/etc/issue")" = changed ]
        umount "$W/m"

        "$GOLDROOT" image rm base:v1
        "$GOLDROOT" image mount base:v2 "$W/m"
        [ "$(cat "$W/m/etc/issue")" = changed ]
        umount "$W/m"
        "$GOLDROOT" image rm base:v2
}

@test "image mount: read-only, and bad arguments get one line each" {
        busybox_rootfs "$W/src"
        import base:v1 "$W/src"
        mkdir "$W/m"
        "$GOLDROOT" image mount base:v1 "$W/m"
        [ "$(cat "$W/m/etc/issue")" = "Welcome to gold" ]
        run touch "$W/m/etc/new"
        [ "$status" -ne 0 ]
        [[ "$output" == *"Read-only file system"* ]]
        umount "$W/m"

        run "$GOLDROOT" image mount base:v1
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        run "$GOLDROOT" image mount 'bad/ref' "$W/m"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        run "$GOLDROOT" image mount nosuch:1 "$W/m"
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: image nosuch:1: no such image" ]
        touch "$W/file"
        run "$GOLDROOT" image mount base:v1 "$W/file"
        [ "$status" -eq 1 ]
        [[ "$output" == "goldroot: image "*": cannot mount it on $W/file: Not a directory" ]]
        ! mountpoint -q "$W/m"
}

# Every fN of the image mounted from IMG reads "$2 N" unless listed in the
# rest as fN=TEXT.
files_read() {
        local img=$1 dflt=$2 i want
        shift 2
        mkdir -p "$W/m"
        "$GOLDROOT" image mount "$img" "$W/m"
        for i in $(seq 20); do
                want="$dflt $i"
                for o in "$@"; do [ "${o%%=*}" = "f$i" ] && want=${o#*=}; done
                [ "$(cat "$W/m/f$i")" = "$want" ] || { echo "$img f$i: $(cat "$W/m/f$i")"; umount "$W/m"; return 1; }
        done
        umount "$W/m"
}

@test "deltas over deltas read each file's own content: mounted, exported, run" {
        busybox_rootfs "$W/src"
        for i in $(seq 20); do echo "file $i" >"$W/src/f$i"; done
        # A base file named as the first format named its links.
        echo "not f1" >"$W/src/r.0"
        import app:v1 "$W/src"
        echo "changed in v2" >"$W/src/f1"
        import app:v2 "$W/src"
        echo "changed in v3" >"$W/src/f2"
        import app:v3 "$W/src"
        echo "changed in v4" >"$W/src/f3"
        import app:v4 "$W/src"
        [[ "$(stored_as app:v4)" == "delta over "* ]]
        [[ "$(stored_as app:v3)" == "delta over "* ]]
        [[ "$(stored_as app:v2)" == "delta over "* ]]

        files_read app:v2 file "f1=changed in v2"
        files_read app:v3 file "f1=changed in v2" "f2=changed in v3"
        files_read app:v4 file "f1=changed in v2" "f2=changed in v3" "f3=changed in v4"
        [ "$(image_file app:v4 /f1)" = "changed in v2" ]
        [ "$(image_file app:v4 /f2)" = "changed in v3" ]
        [ "$(image_file app:v3 /r.0)" = "not f1" ]
        run "$GOLDROOT" run --rm app:v4 -- cat /f1 /f2 /f3 /f4
        [ "$status" -eq 0 ]
        [ "$output" = "$(printf 'changed in v2\nchanged in v3\nchanged in v4\nfile 4')" ]
}

@test "a base that shows a name of the delta's links gets a whole tree, not a delta" {
        busybox_rootfs "$W/src"
        for i in $(seq 20); do echo "file $i" >"$W/src/f$i"; done
        cp -a "$W/src" "$W/v2"
        echo "changed in v2" >"$W/v2/f1"
        # v2's id, from a store of its own.
        id2=$(GOLDROOT_STORE=$W/other "$GOLDROOT" image import x:1 "$W/v2")
        echo "not f1" >"$W/src/${id2:0:12}.0"
        import app:v1 "$W/src"
        import app:v2 "$W/v2"
        [ "$output" = "$id2" ]
        [ "$(image_file app:v2 /f1)" = "changed in v2" ]
        [ "$(stored_as app:v2)" = "whole tree" ]
}

# Rewrites delta image $1 into the first format: links images/ID/r.N (not
# ID12.N) and redirects /r.N.
first_format() {
        local dir=$GOLDROOT_STORE/images/$1 f r l
        rm -rf "$W/lx" && mkdir -p "$W/lx" "$W/lm"
        mount -o ro,loop "$dir/delta.erofs" "$W/lm"
        cp -a "$W/lm/." "$W/lx/"
        umount "$W/lm"
        find "$W/lx" -type f | while read -r f; do
                r=$(getfattr --absolute-names -n trusted.overlay.redirect --only-values "$f" \
                        2>/dev/null) || continue
                setfattr -n trusted.overlay.redirect -v "/r.${r##*.}" "$f"
        done
        rm "$dir/delta.erofs"
        mkfs.erofs --quiet -zlz4hc -Eztailpacking "$dir/delta.erofs" "$W/lx" >/dev/null
        for l in "$dir/${1:0:12}".*; do mv "$l" "$dir/r.${l##*.}"; done
}

@test "fsck: deltas of the first format are reported and made whole by --repair" {
        for i in $(seq 20); do mkdir -p "$W/src" && echo "file $i" >"$W/src/f$i"; done
        import app:v1 "$W/src"
        echo "changed in v2" >"$W/src/f1"
        import app:v2 "$W/src"
        id2=$output
        echo "changed in v3" >"$W/src/f2"
        import app:v3 "$W/src"
        id3=$output
        first_format "$id2"
        first_format "$id3"
        # What the first format did: v3's own r.0 answers v2's redirect.
        [ "$(image_file app:v3 /f1)" = "changed in v3" ]
        # Nothing new is stacked on such a delta.
        echo "changed in v4" >"$W/src/f3"
        import app:v4 "$W/src"
        [ "$(stored_as app:v4)" = "whole tree" ]

        # --full reads the files through the view.
        run "$GOLDROOT" fsck --full
        echo "$output"
        [ "$status" -eq 1 ]
        [[ "$output" == *"goldroot: fsck: image ${id3:0:12}: /f1: its content through the delta is not the manifest's"* ]]
        run "$GOLDROOT" fsck
        echo "$output"
        [ "$status" -eq 1 ]
        [[ "$output" == *"image ${id2:0:12}: a delta of the first format (links r.N), whose files can show another file's content: fsck --repair makes it whole"* ]]
        [[ "$output" == *"image ${id3:0:12}: a delta of the first format"* ]]
        run "$GOLDROOT" fsck --repair
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"image ${id3:0:12}: a delta of the first format"*"(made whole)"* ]]
        [ "$(stored_as app:v2)" = "whole tree" ]
        [ "$(stored_as app:v3)" = "whole tree" ]
        files_read app:v3 file "f1=changed in v2" "f2=changed in v3"
        run "$GOLDROOT" fsck --full
        [ "$status" -eq 0 ]
}

@test "a delta keeps a file's security.capability: mounted and in the erofs export" {
        for i in $(seq 20); do mkdir -p "$W/src" && echo "file $i" >"$W/src/f$i"; done
        import app:v1 "$W/src"
        echo "changed in v2" >"$W/src/f1"
        setcap cap_net_raw+ep "$W/src/f1"
        want=$(getfattr --absolute-names -n security.capability -e hex "$W/src/f1")
        import app:v2 "$W/src"
        [[ "$(stored_as app:v2)" == "delta over "* ]]
        mkdir "$W/m"
        "$GOLDROOT" image mount app:v2 "$W/m"
        got=$(getfattr --absolute-names -n security.capability -e hex "$W/m/f1" 2>&1) || true
        umount "$W/m"
        [ "${got//$W\/m/$W\/src}" = "$want" ]
        [ "$(image_file app:v2 /f1)" = "changed in v2" ]

        "$GOLDROOT" image export --format erofs app:v2 "$W/v2.erofs"
        mount -o ro,loop "$W/v2.erofs" "$W/m"
        got=$(getfattr --absolute-names -n security.capability -e hex "$W/m/f1" 2>&1) || true
        umount "$W/m"
        [ "${got//$W\/m/$W\/src}" = "$want" ]
}

@test "an image with a character device 0:0 is stored whole, and is no delta's base" {
        for i in $(seq 20); do mkdir -p "$W/src" && echo "file $i" >"$W/src/f$i"; done
        import app:v1 "$W/src"
        # Added in a version: overlayfs would read it as a whiteout.
        mknod "$W/src/cdev00" c 0 0
        echo "changed in v2" >"$W/src/f1"
        import app:v2 "$W/src"
        [ "$(image_file app:v2 /f1)" = "changed in v2" ]
        m=$(image_mount app:v2)
        [ "$(stat -c '%F %t:%T' "$m/cdev00")" = "character special file 0:0" ]
        [ "$(stored_as app:v2)" = "whole tree" ]
        # Inherited from the base.
        echo "changed in v3" >"$W/src/f2"
        import app:v3 "$W/src"
        m=$(image_mount app:v3)
        [ "$(stat -c '%F %t:%T' "$m/cdev00")" = "character special file 0:0" ]
        [ "$(stored_as app:v3)" = "whole tree" ]
        # Gone again, but the base has one: such an image is no delta's base
        # (any lookup that reached the device would take it for a whiteout).
        rm "$W/src/cdev00"
        import app:v4 "$W/src"
        [ "$(stored_as app:v4)" = "whole tree" ]
        echo "changed in v5" >"$W/src/f3"
        import app:v5 "$W/src"
        [[ "$(stored_as app:v5)" == "delta over "* ]]
        run "$GOLDROOT" fsck --full
        echo "$output"
        [ "$status" -eq 0 ]
}

@test "a delta is read back through its view before it is published" {
        for i in $(seq 20); do mkdir -p "$W/src" && echo "file $i" >"$W/src/f$i"; done
        import app:v1 "$W/src"
        echo "changed in v2" >"$W/src/f1"
        import app:v2 "$W/src"
        id2=$output
        # Damage v2's link: its manifests are still right.
        rm "$GOLDROOT_STORE/images/$id2/${id2:0:12}.0"
        echo "changed in vX" >"$GOLDROOT_STORE/images/$id2/${id2:0:12}.0"
        run "$GOLDROOT" fsck --full
        echo "$output"
        [ "$status" -eq 1 ]
        [[ "$output" == *"goldroot: fsck: image ${id2:0:12}: /f1: its content through the delta is not the manifest's"* ]]

        echo "changed in v3" >"$W/src/f2"
        run "$GOLDROOT" image import app:v3 "$W/src"
        echo "$output"
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: import $W/src: reading back the delta: /f1: its content through the delta is not the manifest's" ]
        run "$GOLDROOT" image ls -q
        [ "${#lines[@]}" -eq 2 ]
        [ -z "$(ls -A "$GOLDROOT_STORE/staging")" ]
}
