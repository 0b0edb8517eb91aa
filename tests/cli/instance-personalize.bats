#!/usr/bin/env bats
# First-start personalization: hostname, hosts, machine id, network files,
# the whole-token rewrite of the image's identity, ssh host keys, firstboot.d
# hooks that run exactly once, and personalize --again.
load ../lib/common
load ../lib/images
load ../lib/instance

bats_require_minimum_version 1.5.0

setup_file() {
        instance_build_busybox
        local d=$BATS_FILE_TMPDIR/pers
        mkdir -p "$d"
        cp -a "$BATS_FILE_TMPDIR/bb/." "$d/"
        echo "Welcome to gold at 10.0.0.1 (gateway 10.0.0.12, host goldroot)" >"$d/etc/motd"
        printf '127.0.0.1 localhost\n10.0.0.1 gold\n' >"$d/etc/hosts"
        mkdir -p "$d/etc/goldroot/firstboot.d"
        cat >"$d/etc/goldroot/firstboot.d/10-count" <<'EOS'
#!/bin/sh
echo "run as $(hostname) role=$GOLDROOT_ROLE" >>/var/firstboot.log
EOS
        cat >"$d/etc/goldroot/firstboot.d/20-order" <<'EOS'
#!/bin/sh
echo second >>/var/firstboot.log
EOS
        echo 'never runs' >"$d/etc/goldroot/firstboot.d/15-not-executable"
        chmod 0755 "$d/etc/goldroot/firstboot.d/10-count" "$d/etc/goldroot/firstboot.d/20-order"
        # Not openssh: a stand-in that makes host keys the way ssh-keygen -A does.
        cat >"$d/usr/bin/ssh-keygen" <<'EOS'
#!/bin/sh
[ "$1" = -A ] || exit 2
mkdir -p /etc/ssh
for t in rsa ecdsa ed25519; do
        [ -e /etc/ssh/ssh_host_${t}_key ] ||
                head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >/etc/ssh/ssh_host_${t}_key
done
EOS
        chmod 0755 "$d/usr/bin/ssh-keygen"
}

setup() {
        instance_import_busybox
        "$GOLDROOT" image import pers:1 "$BATS_FILE_TMPDIR/pers" >/dev/null
}

teardown() {
        instance_teardown
}

@test "personalize: hostname, hosts entry, machine id and network files at the first start" {
        "$GOLDROOT" create web1 --image bb:1 --hostname web1.example.com --ip 10.77.0.5/24 \
                --gateway 10.77.0.1 --dns 10.77.0.53 --dns 10.77.0.54
        "$GOLDROOT" start web1 -- sleep 1000
        [ "$(in_instance web1 hostname)" = web1.example.com ]
        [ "$(in_instance web1 cat /etc/hostname)" = web1.example.com ]
        run in_instance web1 cat /etc/hosts
        [[ "$output" == *"127.0.0.1 localhost"* ]]
        [[ "$output" == *"$(printf '10.77.0.5\tweb1.example.com web1\t# goldroot')"* ]]
        run in_instance web1 cat /etc/resolv.conf
        [[ "$output" == *"nameserver 10.77.0.53"*"nameserver 10.77.0.54"* ]]
        # busybox has ifup, so the image uses ifupdown.
        run in_instance web1 cat /etc/network/interfaces
        [[ "$output" == *"iface eth0 inet static"* ]]
        [[ "$output" == *"address 10.77.0.5/24"* ]]
        [[ "$output" == *"gateway 10.77.0.1"* ]]
        [[ "$output" == *"dns-nameservers 10.77.0.53 10.77.0.54"* ]]
        # No systemd-networkd in the image, so no .network file.
        ! in_instance web1 test -e /etc/systemd/network/80-goldroot-eth0.network
        local mid
        mid=$(in_instance web1 cat /etc/machine-id)
        [ "$mid" = "$(sed -n 's/^machine_id=//p' "$GOLDROOT_STORE/instances/web1/identity")" ]
        [ "$mid" != "$IMAGE_MACHINE_ID" ]
        # The image itself is untouched.
        local img
        img=$(jq -r .root <<<"$("$GOLDROOT" image inspect --json bb:1)")
        [ "$(cat "$img/etc/hostname")" = gold ]
        [ "$(cat "$img/etc/machine-id")" = "$IMAGE_MACHINE_ID" ]
}

@test "personalize: the image's recorded identity is rewritten as whole tokens only" {
        # `goldroot commit` records an image's identity; until it exists, the
        # test records one in the catalog itself.
        sqlite3 "$GOLDROOT_STORE/catalog.db" \
                "UPDATE images SET hostname = 'gold', address = '10.0.0.1/24' WHERE id IN
                 (SELECT image FROM tags WHERE name = 'pers')"
        "$GOLDROOT" create web1 --image pers:1 --ip 10.0.0.5/24
        "$GOLDROOT" start web1 -- sleep 1000
        [ "$(in_instance web1 cat /etc/motd)" = "Welcome to web1 at 10.0.0.5 (gateway 10.0.0.12, host goldroot)" ]
        run in_instance web1 cat /etc/hosts
        [[ "$output" == *"10.0.0.5 web1"* ]]
        ! grep -qw gold <<<"$output"
}

@test "personalize: firstboot.d hooks run once, in name order; ssh host keys per instance; --again redoes it" {
        "$GOLDROOT" create web1 --image pers:1 --set ROLE=frontend
        "$GOLDROOT" create web2 --image pers:1
        "$GOLDROOT" start web1 -- sleep 1000
        "$GOLDROOT" start web2 -- sleep 1000
        [ "$(in_instance web1 cat /var/firstboot.log)" = "$(printf 'run as web1 role=frontend\nsecond')" ]
        local k1 k2
        k1=$(in_instance web1 cat /etc/ssh/ssh_host_ed25519_key)
        k2=$(in_instance web2 cat /etc/ssh/ssh_host_ed25519_key)
        [ -n "$k1" ] && [ "$k1" != "$k2" ]
        local img
        img=$(jq -r .root <<<"$("$GOLDROOT" image inspect --json pers:1)")
        [ ! -e "$img/etc/ssh" ]

        # Not again at the next start.
        "$GOLDROOT" stop web1
        "$GOLDROOT" start web1 -- sleep 1000
        [ "$(in_instance web1 cat /var/firstboot.log | wc -l)" -eq 2 ]
        [ "$(in_instance web1 cat /etc/ssh/ssh_host_ed25519_key)" = "$k1" ]

        # personalize refuses a running instance, and without --again does nothing.
        run "$GOLDROOT" personalize web1
        [ "$status" -eq 1 ]
        [[ "$output" == "goldroot: personalize web1: the instance is running (pid "* ]]
        "$GOLDROOT" stop web1
        run "$GOLDROOT" -v personalize web1
        [ "$status" -eq 0 ]
        [[ "$output" == *"done already (use --again to redo it)"* ]]
        "$GOLDROOT" personalize web1 --again
        "$GOLDROOT" start web1 -- sleep 1000
        [ "$(in_instance web1 cat /var/firstboot.log | wc -l)" -eq 4 ]
}

@test "personalize: run --rm runs the hooks too, on a state kept on disk for the run only" {
        # The hooks run in instances of their own before the command, so this
        # run's state is a directory on disk, not a tmpfs of its namespace.
        run "$GOLDROOT" run --rm --name once pers:1 -- sh -c '
                cat /var/firstboot.log
                test -e /etc/ssh/ssh_host_ed25519_key && echo keys
                grep " /etc " /proc/mounts | grep -o "upperdir=[^,]*"'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "run as once role=" ]
        [ "${lines[1]}" = second ]
        [ "${lines[2]}" = keys ]
        [ "${lines[3]}" = "upperdir=$GOLDROOT_RUNDIR/ephemeral/once/state/root" ]
        [ -z "$(ls "$GOLDROOT_RUNDIR/ephemeral")" ]

        # A run with a random name makes its directory when it learns that
        # its state must be on disk, and removes it too.
        run "$GOLDROOT" run --rm pers:1 -- sh -c '
                cat /var/firstboot.log
                grep " /etc " /proc/mounts | grep -o "upperdir=[^,]*"'
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == "run as run-"*" role=" ]]
        [[ "${lines[2]}" == "upperdir=$GOLDROOT_RUNDIR/ephemeral/run-"*"/state/root" ]]
        [ -z "$(ls "$GOLDROOT_RUNDIR/ephemeral")" ]
}

@test "personalize: a failing hook fails the start; the next start runs the hooks again" {
        local d=$BATS_TEST_TMPDIR/failing
        mkdir -p "$d"
        cp -a "$BATS_FILE_TMPDIR/pers/." "$d/"
        # Fails at its first run, succeeds at the second.
        printf '#!/bin/sh
echo attempt >>/var/attempts
[ "$(wc -l </var/attempts)" -ge 2 ] || exit 5
' \
                >"$d/etc/goldroot/firstboot.d/30-flaky"
        chmod 0755 "$d/etc/goldroot/firstboot.d/30-flaky"
        "$GOLDROOT" image import failing:1 "$d" >/dev/null
        "$GOLDROOT" create web1 --image failing:1
        run "$GOLDROOT" start web1 -- sleep 1000
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: personalize web1: /etc/goldroot/firstboot.d/30-flaky failed with exit status 5 (see run/console.log)" ]
        run "$GOLDROOT" status web1
        [[ "$output" == *"state:    stopped"* ]]

        "$GOLDROOT" start web1 -- sleep 1000
        [ "$(in_instance web1 cat /var/attempts | wc -l)" -eq 2 ]
        [ "$(in_instance web1 grep -c 'run as' /var/firstboot.log)" -eq 2 ]
        "$GOLDROOT" stop web1
        "$GOLDROOT" start web1 -- sleep 1000
        [ "$(in_instance web1 cat /var/attempts | wc -l)" -eq 2 ]
}

@test "personalize: stop and rm --force end a start that hangs in a hook; status shows it running" {
        local d=$BATS_TEST_TMPDIR/hang
        mkdir -p "$d"
        cp -a "$BATS_FILE_TMPDIR/bb/." "$d/"
        mkdir -p "$d/etc/goldroot/firstboot.d"
        printf '#!/bin/sh\nexec sleep 4251.5\n' >"$d/etc/goldroot/firstboot.d/10-hang"
        chmod 0755 "$d/etc/goldroot/firstboot.d/10-hang"
        "$GOLDROOT" image import hang:1 "$d" >/dev/null
        "$GOLDROOT" create hg --image hang:1
        "$GOLDROOT" start hg -- sleep 1000 3>&- &
        local pid=$! rc=0
        wait_for_process 'sleep 4251.5'
        wait_for_state hg running
        run timeout 20 "$GOLDROOT" stop -t 0 hg
        [ "$status" -eq 0 ]
        wait "$pid" || rc=$?
        [ "$rc" -eq 1 ]
        ! pgrep -f '^sleep 4251.5'
        run "$GOLDROOT" status --json hg
        [ "$(jq -r .state <<<"$output")" = stopped ]

        "$GOLDROOT" start hg -- sleep 1000 3>&- &
        pid=$!
        wait_for_process 'sleep 4251.5'
        wait_for_state hg running
        run timeout 30 "$GOLDROOT" rm --force hg
        [ "$status" -eq 0 ]
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 1 ]
        ! pgrep -f '^sleep 4251.5'
        run "$GOLDROOT" ls -q
        [ -z "$output" ]
}

@test "personalize: a foreground run's hooks write to its stderr; a failing one is named without a console log" {
        local d=$BATS_TEST_TMPDIR/loud
        mkdir -p "$d"
        cp -a "$BATS_FILE_TMPDIR/bb/." "$d/"
        mkdir -p "$d/etc/goldroot/firstboot.d"
        printf '#!/bin/sh\necho hook out; echo hook err >&2; exit 5\n' >"$d/etc/goldroot/firstboot.d/10-loud"
        chmod 0755 "$d/etc/goldroot/firstboot.d/10-loud"
        "$GOLDROOT" image import loud:1 "$d" >/dev/null
        run --separate-stderr "$GOLDROOT" run --rm --name r1 loud:1 -- echo never
        [ "$status" -eq 1 ]
        [ -z "$output" ]
        [ "$stderr" = "$(printf 'hook out\nhook err\ngoldroot: personalize r1: /etc/goldroot/firstboot.d/10-loud failed with exit status 5')" ]
        run --separate-stderr "$GOLDROOT" run --name fg1 loud:1 -- echo never
        [ "$status" -eq 1 ]
        [ -z "$output" ]
        [ "$stderr" = "$(printf 'hook out\nhook err\ngoldroot: personalize fg1: /etc/goldroot/firstboot.d/10-loud failed with exit status 5')" ]
        # A detached start's go to its console log, which the error names.
        "$GOLDROOT" create web1 --image loud:1
        run "$GOLDROOT" start web1 -- sleep 1000
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: personalize web1: /etc/goldroot/firstboot.d/10-loud failed with exit status 5 (see run/console.log)" ]
        grep -qx 'hook err' "$GOLDROOT_STORE/instances/web1/run/console.log"
}

@test "personalize: a symlink planted at /etc/hostname is replaced, not followed" {
        local d=$BATS_TEST_TMPDIR/hostile
        mkdir -p "$d"
        cp -a "$BATS_FILE_TMPDIR/bb/." "$d/"
        echo "host file" >"$BATS_TEST_TMPDIR/hostfile"
        rm "$d/etc/hostname" "$d/etc/hosts"
        ln -s "$BATS_TEST_TMPDIR/hostfile" "$d/etc/hostname"
        ln -s ../../../../../../../..$BATS_TEST_TMPDIR/hostfile "$d/etc/hosts"
        rm -f "$d/etc/machine-id"
        ln -s /etc/passwd "$d/etc/machine-id"
        "$GOLDROOT" image import hostile:1 "$d" >/dev/null
        "$GOLDROOT" create web1 --image hostile:1
        "$GOLDROOT" start web1 -- sleep 1000
        [ "$(cat "$BATS_TEST_TMPDIR/hostfile")" = "host file" ]
        [ "$(in_instance web1 cat /etc/hostname)" = web1 ]
        run in_instance web1 cat /etc/passwd
        [[ "${lines[0]}" == root:x:0:0:* ]]
        [[ "$(in_instance web1 cat /etc/machine-id)" =~ ^[0-9a-f]{32}$ ]]
}

@test "personalize: a marker in the state that is a symlink or a directory is not 'done'; it is replaced by a file" {
        local st=$GOLDROOT_STORE/instances/web1/state kind
        echo "personalized=1" >"$BATS_TEST_TMPDIR/elsewhere"
        for kind in symlink directory; do
                "$GOLDROOT" create web1 --image pers:1
                case $kind in
                symlink) ln -s "$BATS_TEST_TMPDIR/elsewhere" "$st/.goldroot-personalized" ;;
                directory) mkdir -p "$st/.goldroot-personalized/sub" ;;
                esac
                "$GOLDROOT" start web1 -- sleep 1000
                # The first start's work was done: the hooks ran.
                [ "$(in_instance web1 cat /var/firstboot.log)" = "$(printf 'run as web1 role=\nsecond')" ]
                [ "$(in_instance web1 hostname)" = web1 ]
                [ -f "$st/.goldroot-personalized" ] && [ ! -L "$st/.goldroot-personalized" ]
                grep -qx 'hostname=web1' "$st/.goldroot-personalized"
                [ "$(cat "$BATS_TEST_TMPDIR/elsewhere")" = "personalized=1" ]
                # And now it counts: not again.
                "$GOLDROOT" stop web1
                run -0 "$GOLDROOT" -v personalize web1
                [[ "$output" == *"done already (use --again to redo it)"* ]]
                "$GOLDROOT" rm web1
        done
}
