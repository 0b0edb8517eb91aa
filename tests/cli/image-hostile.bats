#!/usr/bin/env bats
# Hostile tarballs are refused with one line (exit 2), and nothing is left in
# the store: no image, no tag, no staging, no object. Directories with
# symlinks pointing outside are imported as links, never followed.
load ../lib/common
load ../lib/images

setup() {
        W=$BATS_TEST_TMPDIR/w
        mkdir -p "$W/src"
        echo data >"$W/src/file"
        # A store that already holds an image, so "nothing left behind" is
        # checked against a real, populated store.
        mkdir -p "$W/good/etc"
        echo good >"$W/good/etc/motd"
        run "$GOLDROOT" image import good:v1 "$W/good"
        [ "$status" -eq 0 ]
        snapshot_store >"$W/before"
}

# Everything in the store that an import could leave behind.
snapshot_store() {
        (cd "$GOLDROOT_STORE" && find objects images staging | LC_ALL=C sort)
        "$GOLDROOT" image ls --json
}

# Imports $1 as evil:x and checks the refusal: exit 2, one line naming the
# problem (matching the extended regex $2), store unchanged.
refused() {
        run "$GOLDROOT" image import evil:x "$1"
        echo "$output"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "goldroot: import $1: "* ]]
        [[ "${lines[0]}" =~ $2 ]]
        diff "$W/before" <(snapshot_store)
}

# Sets the size field of the tar header at byte offset $2 to 2^60 (base-256
# encoding, as GNU tar writes huge sizes) and fixes the header checksum.
tar_set_absurd_size() {
        local f=$1 off=$2 sum=0 b
        printf '\x80\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00' |
                dd of="$f" bs=1 seek=$((off + 124)) conv=notrunc status=none
        printf '        ' | dd of="$f" bs=1 seek=$((off + 148)) conv=notrunc status=none
        for b in $(od -An -tu1 -v -j "$off" -N512 "$f"); do sum=$((sum + b)); done
        printf '%06o\0 ' "$sum" | dd of="$f" bs=1 seek=$((off + 148)) conv=notrunc status=none
}

@test "a ../ path is refused" {
        (cd "$W" && tar -cPf evil.tar --transform 's,^src/file,../../etc/evil,' src/file)
        tar -tf "$W/evil.tar" | grep -qx '../../etc/evil'
        refused "$W/evil.tar" "path leaves the archive"
}

@test "an absolute path is refused" {
        tar -cPf "$W/evil.tar" "$W/src/file"
        tar -tPf "$W/evil.tar" | grep -q '^/'
        refused "$W/evil.tar" "absolute path"
}

@test "a file written through a symlink in the archive is refused" {
        mkdir "$W/outside" "$W/real"
        echo pwned >"$W/real/passwd"
        (cd "$W" && ln -s "$W/outside" link && tar -cf evil.tar link &&
                tar -rf evil.tar --transform 's,^real,link,' real/passwd)
        [ "$(tar -tf "$W/evil.tar" | tr '\n' ' ')" = "link link/passwd " ]
        refused "$W/evil.tar" "parent is a symlink"
        [ -z "$(ls -A "$W/outside")" ]
}

@test "a hardlink to a file outside the archive is refused" {
        (cd "$W" && echo h >a && ln a b && tar -cf evil.tar a b && tar --delete -f evil.tar a)
        [ "$(tar -tvf "$W/evil.tar" | grep -c 'link to a')" -eq 1 ]
        refused "$W/evil.tar" "hardlink to a file that is not in the image"
}

@test "a duplicate entry is refused" {
        (cd "$W" && tar -cf evil.tar src/file && echo other >src/file && tar -rf evil.tar src/file)
        [ "$(tar -tf "$W/evil.tar" | grep -c '^src/file$')" -eq 2 ]
        refused "$W/evil.tar" "duplicate entry"
}

@test "a 5000-byte entry path is refused with its reason, the line shortened" {
        python3 -c '
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
i = tarfile.TarInfo("d/" + "b" * 4998)
i.size = 1
t.addfile(i, io.BytesIO(b"x"))
t.close()' "$W/long.tar"
        refused "$W/long.tar" "'d/b{62}…': path too long \(5001 bytes, at most 4095\)$"
        [ "${#lines[0]}" -lt 300 ]
}

@test "an absurd size is refused before anything is written" {
        (cd "$W" && tar -cf evil.tar src/file)
        tar_set_absurd_size "$W/evil.tar" 0
        tar -tvf "$W/evil.tar" 2>/dev/null | grep -q 1152921504606846976
        refused "$W/evil.tar" "absurd size"
}

@test "truncated gzip, xz, zstd and plain tar are refused" {
        head -c 300000 /dev/urandom >"$W/src/big"
        (cd "$W" && tar -cf ok.tar src)
        gzip -k "$W/ok.tar"
        xz -k "$W/ok.tar"
        zstd -q "$W/ok.tar"
        for ext in tar.gz tar.xz tar.zst tar; do
                head -c 150000 "$W/ok.$ext" >"$W/trunc.$ext"
                refused "$W/trunc.$ext" "[Tt]runcated|No progress is possible"
        done
        # A gzip cut just before its trailer: all data there, checksum missing.
        head -c $(($(stat -c %s "$W/ok.tar.gz") - 8)) "$W/ok.tar.gz" >"$W/notrailer.tar.gz"
        refused "$W/notrailer.tar.gz" "truncated gzip input"
        # The intact ones import.
        run "$GOLDROOT" image import fine:gz "$W/ok.tar.gz"
        [ "$status" -eq 0 ]
}

@test "corrupt gzip, xz and zstd data are refused" {
        head -c 300000 /dev/urandom >"$W/src/big"
        (cd "$W" && tar -cf ok.tar src)
        gzip -k "$W/ok.tar"
        xz -k "$W/ok.tar"
        zstd -q "$W/ok.tar"
        for ext in tar.gz tar.xz tar.zst; do
                cp "$W/ok.$ext" "$W/bad.$ext"
                printf 'GARBAGEGARBAGE' | dd of="$W/bad.$ext" bs=1 seek=100000 conv=notrunc status=none
                refused "$W/bad.$ext" "corrupt gzip input|Corrupted input data|doesn't match checksum"
        done
        # Only the gzip CRC-32 is wrong (the deflate data of random bytes is
        # stored, so it still decodes): libarchive alone would accept this.
        cp "$W/ok.tar.gz" "$W/crc.tar.gz"
        printf '\xde\xad\xbe\xef' | dd of="$W/crc.tar.gz" bs=1 \
                seek=$(($(stat -c %s "$W/crc.tar.gz") - 8)) conv=notrunc status=none
        refused "$W/crc.tar.gz" "incorrect data check"
}

@test "garbage that is not a tarball is refused" {
        head -c 4096 /dev/urandom >"$W/noise.tar"
        refused "$W/noise.tar" ""
        : >"$W/empty.tar"
        refused "$W/empty.tar" "empty"
}

@test "a hostile tar on standard input is refused the same way" {
        (cd "$W" && tar -cPf evil.tar --transform 's,^src/file,../x,' src/file)
        run "$GOLDROOT" image import evil:x - <"$W/evil.tar"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "goldroot: import -: "*"path leaves the archive"* ]]
        diff "$W/before" <(snapshot_store)
}

@test "a directory's symlinks pointing outside are imported as links, never followed" {
        mkdir -p "$W/secret" "$W/tree/etc"
        echo "host secret" >"$W/secret/key"
        ln -s "$W/secret" "$W/tree/etc/outside"
        ln -s ../../../../../../../../etc/shadow "$W/tree/etc/climb"
        ln -s "$W/secret/key" "$W/tree/key"
        run "$GOLDROOT" image import links:v1 "$W/tree"
        [ "$status" -eq 0 ]
        id=$output
        root=$GOLDROOT_STORE/images/$id/root
        [ "$(readlink "$root/etc/outside")" = "$W/secret" ]
        [ "$(readlink "$root/etc/climb")" = ../../../../../../../../etc/shadow ]
        [ -L "$root/key" ]
        # The secret's content was not imported anywhere.
        ! grep -rqs "host secret" "$GOLDROOT_STORE/objects"
        run "$GOLDROOT" image export links:v1 "$W/out.tar"
        [ "$status" -eq 0 ]
        [ "$(tar -tf "$W/out.tar" | LC_ALL=C sort | tr '\n' ' ')" = \
                "./ ./etc/ ./etc/climb ./etc/outside ./key " ]
}

@test "overlayfs's own xattrs are refused: they would steer overlays built on the image" {
        mkdir "$W/src/opaque"
        setfattr -n trusted.overlay.opaque -v y "$W/src/opaque"
        (cd "$W" && tar --xattrs --xattrs-include='*' -cf evil.tar src)
        refused "$W/evil.tar" "xattr trusted.overlay.opaque is reserved for overlayfs"
        run "$GOLDROOT" image import evil:dir "$W/src"
        [ "$status" -eq 2 ]
        [[ "$output" == *"reserved for overlayfs"* ]]
}

# A tar of /etc/motd (and /etc/link -> motd) with pax xattr records $2... on
# the member named by $1 (etc, etc/motd or etc/link).
tar_with_xattrs() {
        python3 - "$W/x.tar" "$@" <<'PY'
import io, sys, tarfile
out, member, records = sys.argv[1], sys.argv[2], sys.argv[3:]
t = tarfile.open(out, "w", format=tarfile.PAX_FORMAT)
for name in ("etc", "etc/motd", "etc/link"):
    i = tarfile.TarInfo(name)
    if name == "etc":
        i.type, i.mode = tarfile.DIRTYPE, 0o755
    elif name == "etc/link":
        i.type, i.linkname = tarfile.SYMTYPE, "motd"
    else:
        i.size = 3
    if name == member:
        i.pax_headers = dict(r.split("=", 1) for r in records)
    t.addfile(i, io.BytesIO(b"hi\n") if i.isreg() else None)
t.close()
PY
}

@test "an xattr the store's file system refuses is bad input, named in the line" {
        # What macOS bsdtar writes, on a file and on a directory.
        tar_with_xattrs etc/motd "SCHILY.xattr.com.apple.provenance=x"
        refused "$W/x.tar" "xattr 'com.apple.provenance' on /etc/motd: the store's file system does not support it: Operation not supported$"
        tar_with_xattrs etc "SCHILY.xattr.com.apple.provenance=x"
        refused "$W/x.tar" "xattr 'com.apple.provenance' on /etc: the store's file system does not support it: Operation not supported$"
        # user.* on a symlink: Linux refuses it on every file system.
        tar_with_xattrs etc/link "SCHILY.xattr.user.foo=x"
        refused "$W/x.tar" "xattr 'user.foo' on /etc/link: Linux allows user.\\* xattrs only on regular files and directories: Operation not permitted$"
        # Over what ext4 holds in an inode's xattr block (the test store is on
        # ext4 or tmpfs), and over the kernel's limit for any file system.
        tar_with_xattrs etc/motd "SCHILY.xattr.user.big=$(printf 'a%.0s' {1..10000})"
        refused "$W/x.tar" "xattr 'user.big' on /etc/motd: its value of 10000 bytes is too big for the store's file system: "
        tar_with_xattrs etc/motd "SCHILY.xattr.user.big=$(printf 'a%.0s' {1..70000})"
        refused "$W/x.tar" "archive entry 'etc/motd': xattr 'user.big' of 70000 bytes \\(Linux allows at most 65536\\)$"
}
