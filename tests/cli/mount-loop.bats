#!/usr/bin/env bats
# goldroot mount: loop entries for erofs, squashfs and ext4 image files,
# mounted read-only on an autoclear loop device that umount releases.
load ../lib/common
load ../lib/mount

setup() {
        T=$BATS_TEST_TMPDIR
        D=$T/root
        mkdir -p "$D/opt" "$T/src/bin" "$T/img"
        echo "hello from the image" >"$T/src/README"
        echo "#!/bin/sh" >"$T/src/bin/tool"
}

teardown() {
        mount_teardown
}

# mount_image FILE TYPE: assembles FILE as /opt and checks what a user sees.
check_loop() {
        local file=$1 type=$2
        cat >"$T/p.profile" <<EOP
opt  loop  $file  /opt
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$(mount_fstype "$D/opt")" = "$type" ]
        [ "$(cat "$D/opt/README")" = "hello from the image" ]
        has_opt "$D/opt" ro
        run touch "$D/opt/new"
        [ "$status" -ne 0 ]
        [[ "$output" == *"Read-only file system"* ]]
        [ "$(loops_of "$file" | wc -l)" -eq 1 ]
        "$GOLDROOT" umount "$D"
        [ "$(mounts_under "$D")" -eq 0 ]
        [ -z "$(loops_of "$file")" ]
}

@test "loop: an erofs image" {
        mkfs.erofs --quiet "$T/opt.erofs" "$T/src" >/dev/null
        check_loop "$T/opt.erofs" erofs
}

@test "loop: a squashfs image" {
        mksquashfs "$T/src" "$T/opt.sqfs" -quiet -no-progress >/dev/null
        check_loop "$T/opt.sqfs" squashfs
}

@test "loop: an ext4 image made with mkfs.ext4 -d" {
        mkfs.ext4 -q -d "$T/src" "$T/opt.ext4" 8M
        check_loop "$T/opt.ext4" ext4
}

@test "loop: an image file from the image tree" {
        mkfs.erofs --quiet "$T/img/opt.erofs" "$T/src" >/dev/null
        cat >"$T/p.profile" <<EOP
opt  loop  image:/opt.erofs  /opt
EOP
        "$GOLDROOT" mount --profile "$T/p.profile" --image "$T/img" "$D"
        [ -e "$D/opt/bin/tool" ]
        "$GOLDROOT" umount "$D"
        [ -z "$(loops_of "$T/img/opt.erofs")" ]
}

@test "loop: a file with no file system is refused without a loop device" {
        head -c 1M /dev/zero >"$T/blank.img"
        cat >"$T/p.profile" <<EOP
opt  loop  $T/blank.img  /opt
EOP
        run "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "goldroot: mount entry 'opt' (loop on /opt): no file system found"* ]]
        [ -z "$(loops_of "$T/blank.img")" ]
}

@test "loop: a FIFO source is refused at once, before it is opened for reading" {
        mkfifo "$T/fifo"
        mkdir "$D/a"
        cat >"$T/p.profile" <<EOP
a    tmpfs  -         /a
opt  loop   $T/fifo  /opt
EOP
        # timeout: opening a FIFO for reading blocks until a writer comes.
        run timeout 60 "$GOLDROOT" mount --profile "$T/p.profile" "$D"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "goldroot: mount entry 'opt' (loop on /opt): $T/fifo is not a regular file: Invalid argument" ]
        [ "$(mounts_under "$D")" -eq 0 ]
        # The runtime lock was let go: another assembly goes through.
        printf 'a tmpfs - /a\n' >"$T/ok.profile"
        timeout 60 "$GOLDROOT" mount --profile "$T/ok.profile" "$D"
        "$GOLDROOT" umount "$D"
}
