#!/usr/bin/env bats
# Real images: a busybox root and a Debian bookworm minbase tree (debootstrap,
# cached once per machine), erofs export mounted through a real loop device,
# and the link-count limit of a real ext4 file system.
load ../lib/common
load ../lib/images

setup() {
        W=$BATS_TEST_TMPDIR/w
        mkdir -p "$W/mnt"
}

teardown() {
        if mountpoint -q "$W/mnt"; then
                umount "$W/mnt"
        fi
}

import() {
        run "$GOLDROOT" image import "$@"
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" =~ ^[0-9a-f]{64}$ ]]
}

@test "busybox: the imported tree is a working root" {
        busybox_rootfs "$W/src"
        import busybox:v1 "$W/src"
        root=$GOLDROOT_STORE/images/$output/root
        run chroot "$root" /bin/sh -c 'echo hello from $(cat /etc/hostname); ls /usr/bin/hello2'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "hello from gold" ]
        [ "${lines[1]}" = "/usr/bin/hello2" ]
        run "$GOLDROOT" image inspect busybox:v1 --json
        [[ "$output" == *"\"files\":$(find "$W/src" | wc -l),"* ]]
}

@test "busybox: erofs export is loop-mountable and holds the same files" {
        busybox_rootfs "$W/src"
        import busybox:v1 "$W/src"
        run "$GOLDROOT" image export busybox:v1 "$W/busybox.erofs"
        [ "$status" -eq 0 ]
        [ -z "$(ls -A "$W" | grep '\.tmp')" ]
        mount -t erofs -o loop,ro "$W/busybox.erofs" "$W/mnt"
        # erofs has the store's inode sharing, so compare everything but the
        # hardlink-group column.
        diff <(TREE_MANIFEST_MTIME=1 tree_manifest "$W/src" | cut -f1-6,8-) \
                <(TREE_MANIFEST_MTIME=1 tree_manifest "$W/mnt" | cut -f1-6,8-)
        run chroot "$W/mnt" /bin/busybox true
        [ "$status" -eq 0 ]
}

@test "debian minbase: import, round trip through tar, same files as tar -x" {
        tarball=$(debian_minbase_tar)
        [ -s "$tarball" ]
        import debian:12 "$tarball"
        id=$output
        root=$GOLDROOT_STORE/images/$id/root

        # Every archive member is in the image (plus nothing else).
        members=$(tar -tf "$tarball" | sed 's,/$,,' | LC_ALL=C sort -u | wc -l)
        run "$GOLDROOT" image inspect debian:12 --json
        [[ "$output" == *"\"files\":$members,"* ]]

        # The image runs Debian's own tools.
        run chroot "$root" /bin/sh -c 'dpkg-query -W -f "\${Package}\n" | wc -l'
        [ "$status" -eq 0 ]
        [ "$output" -gt 80 ]
        [ "$(stat -c %h "$root/usr/bin/perl")" -ge 2 ]

        # Round trip: export, import again, same id.
        run "$GOLDROOT" image export debian:12 "$W/debian.tar.zst"
        [ "$status" -eq 0 ]
        import debian:rt "$W/debian.tar.zst"
        [ "$output" = "$id" ]

        # Independently: tar -x of the original and of the export agree on
        # every file, xattr, hardlink group and mtime.
        mkdir "$W/a" "$W/b"
        tar --xattrs --xattrs-include='*' --numeric-owner -C "$W/a" -xf "$tarball"
        tar --xattrs --xattrs-include='*' --numeric-owner -C "$W/b" -xf "$W/debian.tar.zst" 2>/dev/null
        TREE_MANIFEST_MTIME=1 tree_manifest "$W/a" >"$W/a.m"
        TREE_MANIFEST_MTIME=1 tree_manifest "$W/b" >"$W/b.m"
        [ "$(wc -l <"$W/a.m")" -eq "$members" ]
        diff "$W/a.m" "$W/b.m"
}

@test "debian minbase: a second version with a few changed files costs only those" {
        tarball=$(debian_minbase_tar)
        import debian:12 "$tarball"
        objects=$(find "$GOLDROOT_STORE/objects" -type f | wc -l)
        mkdir "$W/v2"
        tar --xattrs --xattrs-include='*' --numeric-owner -C "$W/v2" -xf "$tarball"
        echo "goldroot test" >>"$W/v2/etc/motd"
        echo "gold" >"$W/v2/etc/hostname"
        import debian:13 "$W/v2"
        [ "$(find "$GOLDROOT_STORE/objects" -type f | wc -l)" -eq $((objects + 2)) ]
        run "$GOLDROOT" image diff debian:12 debian:13
        [ "$status" -eq 0 ]
        [ "$output" = "M /etc/hostname
M /etc/motd" ]
}

@test "link-count limit (ext4): 65010 identical files import, the object is replaced" {
        # The store on a real ext4 file system, whose inodes take at most 65000
        # links; the source's 65010 empty files all map to one object.
        truncate -s 256M "$W/ext4.img"
        mkfs.ext4 -q -N 20000 "$W/ext4.img"
        mount -o loop "$W/ext4.img" "$W/mnt"
        export GOLDROOT_STORE=$W/mnt/store
        mkdir -p "$W/src/many"
        (cd "$W/src/many" && seq -f 'f%.0f' 1 65010 | xargs touch)
        import many:v1 "$W/src"
        id=$output
        root=$GOLDROOT_STORE/images/$id/root
        [ "$(find "$root/many" -type f | wc -l)" -eq 65010 ]
        # Two inodes serve the files: the first at the limit, then a fresh one,
        # which is now the store's object for later images.
        [ "$(find "$root/many" -type f -printf '%i\n' | sort -u | wc -l)" -eq 2 ]
        obj=$(find "$GOLDROOT_STORE/objects" -type f)
        [ "$(echo "$obj" | wc -l)" -eq 1 ]
        [ "$(stat -c %h "$obj")" -lt 65000 ]
        [ "$(find "$root/many" -inum "$(stat -c %i "$obj")" | wc -l)" -eq "$(($(stat -c %h "$obj") - 1))" ]
        # Another image with the same files still imports (as a delta: its
        # build replaced the object again, and that fresh copy is garbage once
        # the delta replaces its staging tree), and gc leaves both intact.
        echo x >"$W/src/other"
        import many:v2 "$W/src"
        run "$GOLDROOT" image gc --json
        [ "$status" -eq 0 ]
        [[ "$output" == '{"objects_removed":1,'* ]]
        [ "$(find "$root/many" -type f | wc -l)" -eq 65010 ]
        [ "$(image_file many:v2 /other)" = x ]
        [ "$("$GOLDROOT" image export many:v2 - | tar -t | grep -c '^./many/f')" -eq 65010 ]
}
