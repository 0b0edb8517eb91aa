#!/usr/bin/env bats
# goldroot commit: an instance's merged view frozen into a new image version.
load ../lib/common
load ../lib/images
load ../lib/instance
load ../lib/lifecycle

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
}

teardown() {
        image_umount_all
        instance_teardown
}

# The new version is usually a delta image, whose tree exists only as a
# mount: look at it through `image mount`.
image_root() {
        image_mount "$1"
}

@test "commit: the merged view becomes a new version whose parent is the instance's image" {
        "$GOLDROOT" create maint --image bb:1 --mode rw
        lc_sh maint 'echo patched >/usr/bin/hello; echo "10.9.9.9 new" >>/etc/hosts;
                echo added >/opt/added; rm /etc/issue; rm -rf /home/user;
                mkdir -p /opt/app/setgid-dir/sub; chmod 0707 /opt/app/setgid-dir/sub'
        run "$GOLDROOT" commit maint bb:2
        [ "$status" -eq 0 ]
        [[ "$output" == "committed maint as bb:2 ("*", parent bb:1 ("*"): "*" paths changed" ]]
        v1=$("$GOLDROOT" image inspect --json bb:1 | jq -r .id)
        [ "$("$GOLDROOT" image inspect --json bb:2 | jq -r .parent)" = "$v1" ]
        run "$GOLDROOT" image diff bb:1 bb:2
        [[ "$output" == *"M /usr/bin/hello"* ]]
        [[ "$output" == *"M /etc/hosts"* ]]
        [[ "$output" == *"A /opt/added"* ]]
        [[ "$output" == *"D /etc/issue"* ]]
        [[ "$output" == *"D /home/user/notes"* ]]
        [[ "$output" == *"A /opt/app/setgid-dir/sub"* ]]
        [ "$(stat -c %a "$(image_root bb:2)/opt/app/setgid-dir/sub")" = 707 ]
        # Nothing else: the image's other files are the parent's.
        [[ "$output" != *"/bin/busybox"* ]]
        [[ "$output" != *"/srv/odd"* ]]

        # A new instance of v2 sees the patch, under its own identity.
        "$GOLDROOT" create test1 --image bb:2
        "$GOLDROOT" start test1 -- /bin/sleep 1000
        [ "$(in_instance test1 cat /usr/bin/hello)" = patched ]
        [ "$(in_instance test1 cat /opt/added)" = added ]
        ! in_instance test1 test -e /etc/issue
        [ "$(in_instance test1 cat /etc/hostname)" = test1 ]
}

@test "commit: its count of changed paths is the number of paths image diff lists" {
        "$GOLDROOT" create maint --image bb:1 --mode rw
        # Copied up unchanged: /, /etc, /usr, /usr/bin. A metadata-only
        # change, a deletion, an addition and a modification.
        lc_sh maint 'chmod 600 /etc/passwd; rm /etc/issue; echo new >/opt/new;
                echo patched >/usr/bin/hello'
        run "$GOLDROOT" commit maint bb:2
        [ "$status" -eq 0 ]
        n=$(sed -n 's/.*: \([0-9]*\) paths\? changed$/\1/p' <<<"$output")
        "$GOLDROOT" image diff bb:1 bb:2 >"$BATS_TEST_TMPDIR/diff"
        grep -qx 'm /etc/passwd' "$BATS_TEST_TMPDIR/diff"
        grep -qx 'D /etc/issue' "$BATS_TEST_TMPDIR/diff"
        grep -qx 'A /opt/new' "$BATS_TEST_TMPDIR/diff"
        grep -qx 'M /usr/bin/hello' "$BATS_TEST_TMPDIR/diff"
        [ -n "$n" ]
        [ "$n" -eq "$(wc -l <"$BATS_TEST_TMPDIR/diff")" ]
        # The same for --json, on a second commit of the same view.
        run "$GOLDROOT" commit --json maint bb:3
        [ "$status" -eq 0 ]
        [ "$(jq -r .changes <<<"$output")" -eq "$("$GOLDROOT" image diff bb:1 bb:3 | wc -l)" ]
}

@test "commit keeps a sparse file's holes" {
        "$GOLDROOT" create maint --image bb:1 --mode rw
        mkdir -p "$(lc_upper maint)/opt"
        truncate -s 256M "$(lc_upper maint)/opt/disk.img"
        printf data | dd of="$(lc_upper maint)/opt/disk.img" bs=1 seek=$((100 << 20)) conv=notrunc status=none
        "$GOLDROOT" commit maint bb:2 >/dev/null
        f=$(image_root bb:2)/opt/disk.img
        [ "$(stat -c %s "$f")" -eq $((256 << 20)) ]
        [ "$(dd if="$f" bs=1 skip=$((100 << 20)) count=4 status=none)" = data ]
        # The store's object (the image mount does not show its blocks).
        obj=$(find "$GOLDROOT_STORE/objects" -type f -size +100M)
        [ "$(wc -l <<<"$obj")" -eq 1 ]
        [ "$(du -k "$obj" | cut -f1)" -lt 1024 ]
}

@test "commit links the parent's unchanged files to the same objects" {
        "$GOLDROOT" create maint --image bb:1 --mode rw
        lc_sh maint 'echo patched >/usr/bin/hello'
        before=$(find "$GOLDROOT_STORE/objects" -type f | wc -l)
        "$GOLDROOT" commit maint bb:2 >/dev/null
        # One new object, the patched file (plus whatever personalization
        # wrote into /etc); every other file is the parent's object.
        after=$(find "$GOLDROOT_STORE/objects" -type f | wc -l)
        run "$GOLDROOT" image diff bb:1 bb:2
        changed_files=$(grep -c '^[AM] ' <<<"$output")
        [ "$((after - before))" -le "$changed_files" ]
        [[ "$output" == *"M /usr/bin/hello"* ]]
        [[ "$output" != *"/bin/busybox"* ]]
        r1=$(image_root bb:1)
        r2=$(image_root bb:2)
        for f in bin/busybox etc/passwd srv/odd usr/bin/ping opt/app/setuid; do
                cmp "$r1/$f" "$r2/$f"
        done
        [ "$(cat "$r2/usr/bin/hello")" = patched ]
        # Metadata the objects carry survives: a setuid bit, a capability, odd owners.
        [ "$(stat -c '%a %u:%g' "$r2/opt/app/setuid")" = "4750 0:1000" ]
        getcap "$r2/usr/bin/ping" | grep -q cap_net_raw
}

@test "commit: an opaque directory and whiteouts give exactly the instance's view" {
        "$GOLDROOT" create maint --image bb:1 --mode rw
        lc_sh maint 'rm -rf /opt/app; mkdir /opt/app; echo only >/opt/app/only; rm /srv/odd;
                mkfifo /srv/fifo; ln -s /nonexistent /srv/dangling'
        "$GOLDROOT" start maint -- /bin/sleep 1000
        view=$(in_instance maint find /opt /srv | sort)
        "$GOLDROOT" stop --timeout 0 maint
        "$GOLDROOT" commit maint bb:2 >/dev/null
        r2=$(image_root bb:2)
        [ "$(cd "$r2" && find opt srv | sed 's|^|/|' | sort)" = "$view" ]
        [ -p "$r2/srv/fifo" ]
        [ "$(readlink "$r2/srv/dangling")" = /nonexistent ]
}

@test "commit of a read-only instance takes its /etc changes" {
        "$GOLDROOT" create web --image bb:1
        lc_sh web 'echo conf >/etc/app.conf'
        "$GOLDROOT" commit web bb:2 >/dev/null
        [ "$(cat "$(image_root bb:2)/etc/app.conf")" = conf ]
}

@test "commit refuses a running instance, and bad references" {
        "$GOLDROOT" create maint --image bb:1 --mode rw
        "$GOLDROOT" start maint -- /bin/sleep 1000
        run "$GOLDROOT" commit maint bb:2
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: commit maint: the instance is running: stop it first (a commit freezes a stopped instance)" ]
        run "$GOLDROOT" commit maint nocolon
        [ "$status" -eq 2 ]
        run "$GOLDROOT" commit maint
        [ "$status" -eq 2 ]
        "$GOLDROOT" stop --timeout 0 maint
        run "$GOLDROOT" image inspect bb:2
        [ "$status" -ne 0 ]
}

@test "commit never follows a symlink the instance planted" {
        echo "host secret" >"$BATS_TEST_TMPDIR/canary"
        "$GOLDROOT" create maint --image bb:1 --mode rw
        lc_sh maint 'true'
        ln -s "$BATS_TEST_TMPDIR/canary" "$(lc_upper maint)/etc/leak"
        ln -sfn "$BATS_TEST_TMPDIR" "$(lc_upper maint)/srv"
        "$GOLDROOT" commit maint bb:2 >/dev/null
        r2=$(image_root bb:2)
        [ "$(readlink "$r2/etc/leak")" = "$BATS_TEST_TMPDIR/canary" ]
        [ -L "$r2/srv" ]
        ! grep -rqs 'host secret' "$GOLDROOT_STORE/objects" "$GOLDROOT_STORE/images"
}

@test "commit records the instance's identity; clones of the new version rewrite it as their own" {
        "$GOLDROOT" create maint --image bb:1 --mode rw --hostname gold1 --ip 10.9.0.7/24
        lc_sh maint 'echo "served by gold1 at 10.9.0.7, not 10.9.0.70" >/etc/motd'
        "$GOLDROOT" commit maint bb:2 >/dev/null
        # The gold keeps what the maintenance clone wrote...
        [ "$(cat "$(image_root bb:2)/etc/motd")" = "served by gold1 at 10.9.0.7, not 10.9.0.70" ]
        # ...and a clone of it gets its own name and address in those places,
        # whole tokens only.
        "$GOLDROOT" create web9 --image bb:2 --hostname web9 --ip 10.9.0.9/24
        "$GOLDROOT" start web9 -- /bin/sleep 1000
        [ "$("$GOLDROOT" exec web9 -- cat /etc/motd)" = "served by web9 at 10.9.0.9, not 10.9.0.70" ]
}

@test "commit twice: each delta's files read their own content, in a run of the newest" {
        "$GOLDROOT" create maint --image bb:1 --mode rw
        lc_sh maint 'echo one >/a1'
        "$GOLDROOT" commit maint bb:2
        # The next version is committed from an instance of this one: a delta
        # over a delta.
        "$GOLDROOT" create maint2 --image bb:2 --mode rw
        lc_sh maint2 'echo two >/a2'
        "$GOLDROOT" commit maint2 bb:3
        v2=$("$GOLDROOT" image inspect --json bb:2 | jq -r .id)
        [[ "$("$GOLDROOT" image inspect bb:3)" == *"delta over ${v2:0:12}"* ]]
        [[ "$("$GOLDROOT" image inspect bb:2)" == *"delta over "* ]]
        run "$GOLDROOT" run --rm bb:3 -- cat /a1 /a2
        [ "$status" -eq 0 ]
        [ "$output" = "$(printf 'one\ntwo')" ]
}
