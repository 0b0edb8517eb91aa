# Shared test images for the bats suites (and the benchmarks):
#
#   busybox_rootfs DIR      a small root from busybox-static, with unusual modes,
#                           owners, xattrs, hardlinks, a FIFO, a device node and
#                           identical files that are not hardlinked
#   debian_minbase_tar      prints the path of a cached debootstrap minbase
#                           bookworm tarball, built once per machine
#   debian_bookworm_tar PKG...  the same with packages included, cached per
#                           package list
#   tree_manifest DIR       an independent listing of a tree (find, stat,
#                           getfattr, sha256sum), for comparing trees
#
# Source it after tests/lib/common.bash, or on its own from a script.

# Builds a small, fully-populated root in DIR (which must not exist or be empty).
busybox_rootfs() {
        local d=${1:?usage: busybox_rootfs DIR} bb applet
        bb=$(command -v busybox)
        [ -n "$bb" ] || bb=/bin/busybox
        mkdir -p "$d"
        (
                trap - DEBUG ERR RETURN # see tree_manifest
                set +ET -e
                cd "$d"
                mkdir -p bin sbin usr/bin usr/sbin usr/lib etc opt/app var/log var/lib/dpkg \
                        var/empty tmp root srv home/user dev proc sys run
                cp "$bb" bin/busybox
                chmod 0755 bin/busybox
                # Applets as relative symlinks, the way a busybox root ships them.
                local target slashes i
                for applet in $("$bb" --list-full); do
                        [ "$applet" = bin/busybox ] && continue
                        [ -e "$applet" ] || [ -L "$applet" ] && continue
                        case $applet in
                        bin/*) target=busybox ;;
                        *)
                                slashes=${applet//[^\/]/}
                                target=bin/busybox
                                for ((i = 0; i < ${#slashes}; i++)); do target=../$target; done
                                ;;
                        esac
                        ln -s "$target" "$applet"
                done
                printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' >etc/passwd
                printf 'root:x:0:\nuser:x:1000:\n' >etc/group
                printf 'root:*:19000:0:99999:7:::\n' >etc/shadow
                chmod 0640 etc/shadow
                echo gold >etc/hostname
                printf '127.0.0.1 localhost\n::1 localhost\n' >etc/hosts
                # Identical files that are NOT hardlinks of each other: the store shares
                # one object, the manifest must still say they are separate files.
                echo "Welcome to gold" >etc/issue
                echo "Welcome to gold" >etc/issue.net
                # A real hardlink group of three.
                printf '#!/bin/sh\necho hello\n' >usr/bin/hello
                chmod 0755 usr/bin/hello
                ln usr/bin/hello usr/bin/hello2
                ln usr/bin/hello usr/sbin/hello3
                # Unusual modes and owners.
                chmod 1777 tmp
                chmod 0700 root
                chmod 0711 var/empty
                echo secret >opt/app/setuid
                chown 0:1000 opt/app/setuid
                chmod 4750 opt/app/setuid
                echo shared >opt/app/setgid-dir-file
                mkdir opt/app/setgid-dir
                chmod 2775 opt/app/setgid-dir
                echo "user data" >home/user/notes
                chown -R 1000:1000 home/user
                chmod 0750 home/user
                echo 'odd owner' >srv/odd
                chown 12345:54321 srv/odd
                chmod 0604 srv/odd
                : >var/log/empty.log
                # xattrs, including a file capability.
                setfattr -n user.goldroot.note -v "gold image" etc/hostname
                setfattr -n trusted.goldroot -v 0xdeadbeef etc/hosts
                cp bin/busybox usr/bin/ping
                setcap cap_net_raw+ep usr/bin/ping
                # Special files.
                mkfifo -m 0620 run/initctl
                mknod -m 0666 dev/null c 1 3
                mknod -m 0660 dev/loop7 b 7 7
                # A dangling symlink and one that points outside the root.
                ln -s /nonexistent etc/dangling
                ln -s ../../../../../../etc/passwd srv/escape
                # A name with a space and one with a newline-free odd byte.
                echo spaced >"srv/with space"
                echo latin >"$(printf 'srv/caf\351')"
                echo utf8 >"$(printf 'srv/na\303\257ve')"
        )
}

# Prints the mirror for Debian's main archive from apt's own configuration,
# one-line (sources.list) or deb822 (*.sources) style; empty if none is found.
debian_mirror() {
        local f
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
                [ -r "$f" ] || continue
                awk '$1 == "deb" {
                        i = 2
                        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                        if ($(i + 1) == "bookworm") { print $i; exit }
                }' "$f"
        done | head -n1 | grep . && return 0
        for f in /etc/apt/sources.list.d/*.sources; do
                [ -r "$f" ] || continue
                awk 'BEGIN { RS = ""; FS = "\n" }
                {
                        uris = ""; suites = ""; enabled = "yes"; types = ""
                        for (i = 1; i <= NF; i++) {
                                if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
                                if ($i ~ /^Suites:/) { suites = " " $i " " }
                                if ($i ~ /^Types:/) { types = " " $i " " }
                                if ($i ~ /^Enabled:/) { enabled = $i; sub(/^Enabled:[ \t]*/, "", enabled) }
                        }
                        if (enabled != "no" && types ~ / deb / && suites ~ / bookworm /) {
                                split(uris, u, /[ \t]+/); print u[1]; exit
                        }
                }' "$f"
        done | head -n1 | grep .
}

# Runs "$@" in a subshell that holds the test cache's lock ($1 is the cache
# directory), so that parallel callers build a cached artefact once; the
# command checks again, under the lock, whether another caller built it.
with_cache_lock() (
        exec 9>"$1/.lock"
        flock 9
        shift
        "$@"
)

# Prints the path of a Debian bookworm minbase tarball (uncompressed, with
# xattrs, numeric owners), building it once under the cache directory. Parallel
# callers wait on a lock; the tarball appears atomically.
debian_minbase_tar() {
        debian_bookworm_tar
}

# The same with extra packages (debootstrap --include), cached per package
# list: `debian_bookworm_tar busybox` is debian-bookworm-minbase+busybox.tar.
debian_bookworm_tar() {
        local cache=${GOLDROOT_TEST_CACHE:-/var/cache/goldroot-tests}
        local pkgs key out
        pkgs=$(printf '%s\n' "$@" | LC_ALL=C sort -u | paste -sd, -)
        key=minbase${pkgs:++${pkgs//,/+}}
        out=$cache/debian-bookworm-$key.tar
        mkdir -p "$cache" || return 1
        if [ ! -s "$out" ]; then
                with_cache_lock "$cache" debian_bookworm_build "$out" "$pkgs" >&2 || return 1
        fi
        echo "$out"
}

# Builds the tarball OUT with the comma-separated packages PKGS, unless a
# parallel caller already did. Runs in a subshell, under the cache lock.
debian_bookworm_build() (
        set -e
        local out=$1 pkgs=$2 tmp mirror
        [ -s "$out" ] && exit 0
        tmp=$(mktemp -d "$(dirname "$out")/.build.XXXXXX")
        trap 'umount -R "$tmp/root/proc" "$tmp/root/sys" 2>/dev/null || true; rm -rf "$tmp"' EXIT
        mirror=$(debian_mirror || true)
        debootstrap --variant=minbase ${pkgs:+--include="$pkgs"} bookworm "$tmp/root" \
                ${mirror:+"$mirror"} >"$tmp/log" 2>&1 || { tail -n 20 "$tmp/log" >&2; exit 1; }
        rm -rf "$tmp/root/var/cache/apt/archives/"*.deb
        tar --numeric-owner --xattrs --xattrs-include='*' -C "$tmp/root" \
                -cf "$tmp/out.tar" .
        sync -f "$tmp/out.tar"
        mv -T "$tmp/out.tar" "$out"
)

# An independent description of a tree, one line per path, sorted, tab-separated:
#   PATH TYPE MODE UID:GID SIZE DATA LINKGROUP XATTRS [MTIME]
# DATA is the content's sha256, a symlink's target or a device's numbers;
# LINKGROUP is the first path (in sort order) of the file's hardlink group;
# XATTRS are name=hexvalue pairs. mtimes (of everything but directories) are
# included with TREE_MANIFEST_MTIME=1. Built from find, stat, sha256sum,
# readlink and getfattr only, so it can judge goldroot's own manifests.
tree_manifest() {
        local root=${1:?usage: tree_manifest DIR}
        (
                # bats traces every command through a DEBUG trap, which would make
                # this loop twenty times slower.
                trap - DEBUG ERR RETURN
                set +ET -e
                # Bytes, not characters: in a UTF-8 locale `read` lets an invalid
                # byte swallow the newline after it.
                export LC_ALL=C
                cd "$root"
                local -a paths meta regs sums links targets
                local -A sum target first xat
                local i p type mode owner size inode mtime dev data group x line cur
                mapfile -d '' paths < <(find . -printf '%p\0' | LC_ALL=C sort -z)
                # Batched through xargs, which keeps the order, so the outputs line up.
                mapfile -d '' meta < <(printf '%s\0' "${paths[@]}" |
                        xargs -0 stat --printf '%F\t%a\t%u:%g\t%s\t%d:%i\t%Y\t%t:%T\0' --)
                for i in "${!paths[@]}"; do
                        case ${meta[$i]} in
                        "regular file"* | "regular empty file"*) regs+=("${paths[$i]}") ;;
                        "symbolic link"*) links+=("${paths[$i]}") ;;
                        esac
                done
                if [ ${#regs[@]} -gt 0 ]; then
                        mapfile -d '' sums < <(printf '%s\0' "${regs[@]}" |
                                xargs -0 sha256sum --zero --)
                        for i in "${!regs[@]}"; do sum[${regs[$i]}]=${sums[$i]:0:64}; done
                fi
                if [ ${#links[@]} -gt 0 ]; then
                        mapfile -d '' targets < <(printf '%s\0' "${links[@]}" | xargs -0 readlink -z --)
                        for i in "${!links[@]}"; do target[${links[$i]}]=${targets[$i]}; done
                fi
                # getfattr prints "# file: NAME" (bytes outside 32..126 and
                # backslashes as \ooo) and then "name=0xvalue" lines.
                while IFS= read -r line; do
                        if [[ $line == "# file: "* ]]; then
                                line=${line#"# file: "}
                                printf -v cur '%b' "${line//\\/\\0}"
                        elif [ -n "$line" ]; then
                                xat[$cur]+="$line"$'\n'
                        fi
                done < <(printf '%s\0' "${paths[@]}" |
                        xargs -0 getfattr -h -d -m - -e hex --absolute-names -- 2>/dev/null)
                for i in "${!paths[@]}"; do
                        p=${paths[$i]}
                        IFS=$'\t' read -r type mode owner size inode mtime dev <<<"${meta[$i]}"
                        group=-
                        case $type in
                        "regular file" | "regular empty file")
                                type=regular_file
                                data=${sum[$p]}
                                [ -n "${first[$inode]:-}" ] || first[$inode]=$p
                                group=${first[$inode]}
                                ;;
                        "symbolic link") type=symlink data=${target[$p]} size=- ;;
                        "character special file" | "block special file")
                                type=${type// /_} data=$dev size=- ;;
                        directory) type=directory data=- size=- mtime= ;;
                        *) type=${type// /_} data=- ;;
                        esac
                        x=${xat[$p]:-}
                        if [ -n "$x" ]; then
                                x=$(LC_ALL=C sort <<<"${x%$'\n'}" | paste -sd, -)
                        fi
                        [ "${TREE_MANIFEST_MTIME:-0}" = 1 ] || mtime=
                        printf '%q\t%s\t%s\t%s\t%s\t%q\t%q\t%s%s\n' "$p" "$type" "$mode" "$owner" \
                                "$size" "$data" "$group" "${x:--}" "${mtime:+$'\t'$mtime}"
                done
        )
}

# Prints one file of an image, read through `image export` (a delta image has
# no tree of its own under images/ID to look into).
image_file() {
        "$GOLDROOT" image export "${1:?usage: image_file IMG PATH}" - |
                tar -xOf - "./${2#/}"
}

# Mounts an image's tree read-only (`goldroot image mount`) on a fresh
# directory under the test's tmpdir and prints it; image_umount_all in the
# teardown takes the mounts down.
image_mount() {
        local dir
        dir=$(mktemp -d "$BATS_TEST_TMPDIR/image.XXXXXX")
        "$GOLDROOT" image mount "${1:?usage: image_mount IMG}" "$dir" >&2 || return 1
        echo "$dir"
}

image_umount_all() {
        local d
        for d in "$BATS_TEST_TMPDIR"/image.*; do
                [ -d "$d" ] || continue
                while mountpoint -q "$d"; do umount "$d"; done
        done
}
