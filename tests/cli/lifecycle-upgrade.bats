#!/usr/bin/env bats
# goldroot diff, upgrade and rollback: what a user sees, the backup, the
# refusals, several instances, crash recovery, and a hostile state.
load ../lib/common
load ../lib/images
load ../lib/instance
load ../lib/lifecycle

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
        # v2: /etc/hosts and /usr/bin/hello changed, /etc/motd.d/new added.
        lc_variant 2 'echo "10.0.0.1 gw" >>etc/hosts; echo v2 >usr/bin/hello;
                mkdir etc/motd.d; echo new >etc/motd.d/new'
}

teardown() {
        instance_teardown
}

@test "diff: the instance's changes as A/M/D lines, and as JSON" {
        "$GOLDROOT" create web --image bb:1
        lc_sh web 'echo hi >/etc/motd; rm /etc/issue; echo x >>/etc/group; chmod 600 /etc/passwd'
        run "$GOLDROOT" diff web
        [ "$status" -eq 0 ]
        [[ "$output" == *"A /etc/motd"* ]]
        [[ "$output" == *"D /etc/issue"* ]]
        [[ "$output" == *"M /etc/group"* ]]
        [[ "$output" == *"m /etc/passwd"* ]]
        # Personalization wrote the hostname: a local change too.
        [[ "$output" == *"M /etc/hostname"* ]]
        # A copy-up without change is not listed.
        ! grep -qx 'M /etc' <<<"$output"
        run "$GOLDROOT" diff --json web
        [ "$(jq -r '.[] | select(.path == "/etc/issue") | .change' <<<"$output")" = deleted ]
        [ "$(jq -r '.[] | select(.path == "/etc/motd") | .code' <<<"$output")" = A ]
}

@test "diff: a fresh instance has no changes; an unknown one is an error" {
        "$GOLDROOT" create web --image bb:1
        run "$GOLDROOT" diff web
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        run "$GOLDROOT" diff nosuch
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: instance nosuch: no such instance" ]
}

@test "upgrade: local edits kept, image changes show through, links move, backup kept" {
        "$GOLDROOT" create web --image bb:1
        lc_sh web 'echo local >/etc/motd; echo "192.168.1.1 local" >>/etc/hosts'
        run "$GOLDROOT" upgrade web --to bb:2
        [ "$status" -eq 0 ]
        [[ "$output" == "upgrade web: bb:1 ("*") -> bb:2 ("*"), policy keep-local"* ]]
        [[ "$output" == *"keep /etc/motd (local addition)"* ]]
        [[ "$output" == *"conflict /etc/hosts: kept local, theirs in /etc/hosts.goldnew"* ]]
        [[ "$output" == *"web: upgraded to bb:2"* ]]
        [ "$("$GOLDROOT" image links bb:2)" = web ]
        [ -z "$("$GOLDROOT" image links bb:1)" ]
        ls -d "$GOLDROOT_STORE"/instances/web/backup.* >/dev/null

        "$GOLDROOT" start web -- /bin/sleep 1000
        [ "$(in_instance web cat /etc/motd)" = local ]
        [ "$(in_instance web cat /usr/bin/hello)" = v2 ]
        [ "$(in_instance web cat /etc/motd.d/new)" = new ]
        in_instance web grep -q '192.168.1.1 local' /etc/hosts
        in_instance web grep -q '10.0.0.1 gw' /etc/hosts.goldnew
        "$GOLDROOT" stop --timeout 0 web
        # Upgrading to the image it links is nothing to do.
        run "$GOLDROOT" upgrade web --to bb:2
        [ "$status" -eq 0 ]
        [ "$output" = "web: already on bb:2 (${output##*bb:2 (}" ]
}

@test "upgrade --dry-run reports and changes nothing" {
        "$GOLDROOT" create web --image bb:1
        lc_sh web 'echo local >/etc/motd'
        before=$(lc_snapshot "$(lc_state web)")
        run "$GOLDROOT" upgrade web --to bb:2 --dry-run
        [ "$status" -eq 0 ]
        [[ "$output" == *"(dry run)"* ]]
        [[ "$output" == *"keep /etc/motd (local addition)"* ]]
        [[ "$output" == *"web: dry run:"*"nothing changed" ]]
        [ "$(lc_snapshot "$(lc_state web)")" = "$before" ]
        [ "$("$GOLDROOT" image links bb:1)" = web ]
        ! ls -d "$GOLDROOT_STORE"/instances/web/backup.* 2>/dev/null
}

@test "upgrade: a backup no row names is never deleted: a dry run leaves it, an upgrade sets it aside" {
        "$GOLDROOT" create web --image bb:1
        stray=$GOLDROOT_STORE/instances/web/backup.0123456789abcdef0123456789abcdef
        mkdir -p "$stray/root/etc"
        echo precious >"$stray/root/etc/x"
        run "$GOLDROOT" upgrade web --to bb:2 --dry-run
        [ "$status" -eq 0 ]
        [ "$(cat "$stray/root/etc/x")" = precious ]
        run "$GOLDROOT" upgrade web --to bb:2
        [ "$status" -eq 0 ]
        [[ "$output" == *"instance web: backup.0123456789abcdef0123456789abcdef, which no backup row names, moved to lost+found/web-backup.0123456789abcdef0123456789abcdef."* ]]
        [ ! -e "$stray" ]
        [ "$(cat "$GOLDROOT_STORE"/lost+found/web-backup.0123456789abcdef0123456789abcdef.*/root/etc/x)" = precious ]
        # The backup an upgrade replaces is dropped, not set aside.
        lc_variant 3 'echo v3 >usr/bin/hello'
        "$GOLDROOT" upgrade web --to bb:3 >/dev/null
        [ "$(ls "$GOLDROOT_STORE"/lost+found | wc -l)" -eq 1 ]
        [ "$(ls -d "$GOLDROOT_STORE"/instances/web/backup.* | wc -l)" -eq 1 ]
        "$GOLDROOT" upgrade --prune-backups web >/dev/null
        [ "$(ls "$GOLDROOT_STORE"/lost+found | wc -l)" -eq 1 ]
        ! ls -d "$GOLDROOT_STORE"/instances/web/backup.* 2>/dev/null
}

@test "upgrade keeps a sparse file's holes" {
        "$GOLDROOT" create web --image bb:1 --mode rw
        mkdir -p "$(lc_upper web)/srv"
        truncate -s 256M "$(lc_upper web)/srv/disk.img"
        printf data | dd of="$(lc_upper web)/srv/disk.img" bs=1 seek=$((100 << 20)) conv=notrunc status=none
        "$GOLDROOT" upgrade web --to bb:2 >/dev/null
        f=$(lc_upper web)/srv/disk.img
        [ "$(stat -c %s "$f")" -eq $((256 << 20)) ]
        [ "$(du -k "$f" | cut -f1)" -lt 1024 ]
        [ "$(dd if="$f" bs=1 skip=$((100 << 20)) count=4 status=none)" = data ]
}

@test "rollback restores the image link and the exact state; a second one is an error" {
        "$GOLDROOT" create web --image bb:1
        lc_sh web 'echo local >/etc/motd; rm /etc/issue; mkfifo /etc/fifo; ln -s /nowhere /etc/dangling2'
        before=$(lc_snapshot "$(lc_state web)")
        "$GOLDROOT" upgrade web --to bb:2 >/dev/null
        [ "$(lc_snapshot "$(lc_state web)")" != "$before" ]
        run "$GOLDROOT" rollback web
        [ "$status" -eq 0 ]
        [[ "$output" == "web: rolled back to bb:1 ("* ]]
        [ "$(lc_snapshot "$(lc_state web)")" = "$before" ]
        [ "$("$GOLDROOT" image links bb:1)" = web ]
        ! ls -d "$GOLDROOT_STORE"/instances/web/backup.* 2>/dev/null

        run "$GOLDROOT" rollback web
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: rollback web: nothing to roll back (no upgrade since the last rollback, or its backup was pruned)" ]
}

@test "upgrade refuses a running instance unless --restart" {
        "$GOLDROOT" create web --image bb:1
        "$GOLDROOT" start web
        run "$GOLDROOT" upgrade web --to bb:2
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: upgrade web: the instance is running: stop it first, or use --restart" ]
        [ "$("$GOLDROOT" image links bb:1)" = web ]
        run "$GOLDROOT" upgrade web --to bb:2 --restart
        [ "$status" -eq 0 ]
        [ "$("$GOLDROOT" image links bb:2)" = web ]
        [ "$(in_instance web cat /usr/bin/hello)" = v2 ]
        run "$GOLDROOT" rollback web
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: rollback web: the instance is running: stop it first" ]
}

@test "upgrade --restart stops the instance before it reads the state: nothing written is lost" {
        "$GOLDROOT" create web --image bb:1
        # What the instance writes as it stops must reach the new state.
        "$GOLDROOT" start web -- /bin/sh -c \
                'trap "echo bye >/etc/bye; exit 0" TERM; while :; do sleep 1 & wait; done'
        run "$GOLDROOT" upgrade web --to bb:2 --restart
        [ "$status" -eq 0 ]
        [ "$(cat "$(lc_upper web)/etc/bye")" = bye ]
        [ "$(in_instance web cat /etc/bye)" = bye ]
        [ "$(in_instance web cat /usr/bin/hello)" = v2 ]
        "$GOLDROOT" stop --timeout 0 web
}

@test "upgrade --restart: a refused upgrade leaves the instance running, not restarted" {
        lc_variant 3 'rm etc/hosts; mkdir etc/hosts; echo x >etc/hosts/a'
        "$GOLDROOT" create web --image bb:1
        lc_sh web 'echo mine >>/etc/hosts'
        "$GOLDROOT" start web -- /bin/sleep 1000
        pid=$("$GOLDROOT" status --json web | jq -r .pid)
        run "$GOLDROOT" upgrade web --to bb:3 --restart
        [ "$status" -eq 1 ]
        [ "${lines[-1]}" = "goldroot: upgrade web: refused: 1 type conflict; nothing changed" ]
        [ "$("$GOLDROOT" image links bb:1)" = web ]
        [ "$("$GOLDROOT" status --json web | jq -r .state)" = running ]
        [ "$("$GOLDROOT" status --json web | jq -r .pid)" = "$pid" ]
        in_instance web grep -q mine /etc/hosts
        "$GOLDROOT" stop --timeout 0 web
}

@test "upgrade --restart: refused only after the stop, it starts the instance again with its own command" {
        lc_variant 3 'mkdir srv/thing; echo x >srv/thing/a'
        "$GOLDROOT" create web --image bb:1
        # The conflict appears as the instance stops: the plan on the
        # running state passes, the one on the stopped state refuses.
        "$GOLDROOT" start web -- /bin/sh -c 'trap "echo mine >/srv/thing; exit 0" TERM;
                echo started >>/etc/starts; while :; do sleep 1 & wait; done'
        lc_wait_lines "$(lc_upper web)/etc/starts" 1
        run "$GOLDROOT" upgrade web --to bb:3 --restart
        [ "$status" -eq 1 ]
        [[ "$output" == *"conflict /srv/thing: type conflict, local regular file, image directory"* ]]
        [ "${lines[-1]}" = "goldroot: upgrade web: refused: 1 type conflict; nothing changed" ]
        [ "$("$GOLDROOT" image links bb:1)" = web ]
        [ "$("$GOLDROOT" status --json web | jq -r .state)" = running ]
        # Its own command runs again (the profile's init would not write this).
        lc_wait_lines "$(lc_upper web)/etc/starts" 2
        [ "$(in_instance web cat /srv/thing)" = mine ]
        "$GOLDROOT" stop --timeout 0 web
}

@test "upgrade --restart starts the instance again on the new image with its own command" {
        "$GOLDROOT" create web --image bb:1
        "$GOLDROOT" start web -- /bin/sh -c 'echo started >>/etc/starts; exec sleep 1000'
        lc_wait_lines "$(lc_upper web)/etc/starts" 1
        run "$GOLDROOT" upgrade web --to bb:2 --restart
        [ "$status" -eq 0 ]
        lc_wait_lines "$(lc_upper web)/etc/starts" 2
        [ "$(in_instance web cat /usr/bin/hello)" = v2 ]
        "$GOLDROOT" stop --timeout 0 web
}

@test "upgrade: a type conflict is reported before any change; exit 1" {
        lc_variant 3 'rm etc/hosts; mkdir etc/hosts; echo x >etc/hosts/a'
        "$GOLDROOT" create web --image bb:1
        lc_sh web 'echo mine >>/etc/hosts'
        before=$(lc_snapshot "$(lc_state web)")
        run "$GOLDROOT" upgrade web --to bb:3
        [ "$status" -eq 1 ]
        [[ "$output" == *"conflict /etc/hosts: type conflict, local regular file, image directory"* ]]
        [ "${lines[-1]}" = "goldroot: upgrade web: refused: 1 type conflict; nothing changed" ]
        [ "$(lc_snapshot "$(lc_state web)")" = "$before" ]
        [ "$("$GOLDROOT" image links bb:1)" = web ]
        [ -z "$(ls -A "$GOLDROOT_STORE/instances/web" | grep -v '^identity$\|^state$\|^run$')" ]
}

@test "upgrade of several instances: one failure does not stop the others; the summary names it" {
        lc_variant 3 'rm -f etc/motd; mkdir etc/motd'
        for n in a b c; do "$GOLDROOT" create $n --image bb:1; done
        lc_sh b 'echo mine >/etc/motd'
        run "$GOLDROOT" upgrade --all --to bb:3
        [ "$status" -eq 1 ]
        [[ "$output" == *"a: upgraded to bb:3"* ]]
        [[ "$output" == *"goldroot: upgrade b: refused: 1 type conflict; nothing changed"* ]]
        [[ "$output" == *"c: upgraded to bb:3"* ]]
        [[ "$output" == *"2 of 3 instances upgraded or current; failed: b"* ]]
        [ "$("$GOLDROOT" image links bb:3 | tr '\n' ' ')" = "a c " ]
        [ "$("$GOLDROOT" image links bb:1)" = b ]
}

@test "upgrade of several names, one of them no instance: nothing is upgraded" {
        for n in a b; do "$GOLDROOT" create $n --image bb:1; done
        run "$GOLDROOT" upgrade a nosuch b --to bb:2
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: instance nosuch: no such instance" ]
        [ "$("$GOLDROOT" image links bb:1 | tr '\n' ' ')" = "a b " ]
        [ -z "$(ls "$GOLDROOT_STORE/instances/a" | grep "^backup")" ]
        run "$GOLDROOT" upgrade --prune-backups a nosuch
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: instance nosuch: no such instance" ]
}

@test "upgrade --from IMG picks the instances that link it; --json reports every path" {
        for n in a b; do "$GOLDROOT" create $n --image bb:1; done
        "$GOLDROOT" create c --image bb:2
        lc_sh a 'echo mine >/etc/motd'
        run "$GOLDROOT" upgrade --json --from bb:1 --to bb:2
        [ "$status" -eq 0 ]
        [ "$(jq -r '[.instances[].name] | join(" ")' <<<"$output")" = "a b" ]
        [ "$(jq -r '.instances[0].status' <<<"$output")" = upgraded ]
        [ "$(jq -r '.instances[0].entries[] | select(.path == "/etc/motd") | .outcome' <<<"$output")" = keep ]
        [ "$(jq -r '.failed | length' <<<"$output")" = 0 ]
        [ "$("$GOLDROOT" image links bb:2 | tr '\n' ' ')" = "a b c " ]
}

@test "upgrade: usage errors exit 2" {
        run "$GOLDROOT" upgrade web
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: upgrade: --to IMG is required" ]
        run "$GOLDROOT" upgrade --to bb:2
        [ "$status" -eq 2 ]
        run "$GOLDROOT" upgrade --all web --to bb:2
        [ "$status" -eq 2 ]
        run "$GOLDROOT" upgrade --all --to bb:2 --policy newest
        [ "$status" -eq 2 ]
        [[ "$output" == "goldroot: upgrade: bad --policy 'newest'"* ]]
}

@test "upgrade --prune-backups drops the rollback point" {
        "$GOLDROOT" create web --image bb:1
        "$GOLDROOT" upgrade web --to bb:2 >/dev/null
        run "$GOLDROOT" upgrade --prune-backups web
        [ "$status" -eq 0 ]
        [ "$output" = "web: backup dropped" ]
        ! ls -d "$GOLDROOT_STORE"/instances/web/backup.* 2>/dev/null
        run "$GOLDROOT" rollback web
        [ "$status" -eq 1 ]
        # The next upgrade replaces the backup of the one before.
        "$GOLDROOT" upgrade web --to bb:1 >/dev/null
        "$GOLDROOT" upgrade web --to bb:2 >/dev/null
        [ "$(ls -d "$GOLDROOT_STORE"/instances/web/backup.* | wc -l)" -eq 1 ]
        "$GOLDROOT" rollback web >/dev/null
        [ "$("$GOLDROOT" image links bb:1)" = web ]
}

@test "image rm of the image an instance could roll back to deletes its backup; fsck stays clean" {
        "$GOLDROOT" create web --image bb:1 --mode rw
        "$GOLDROOT" upgrade web --to bb:2 >/dev/null
        ls -d "$GOLDROOT_STORE"/instances/web/backup.*
        run "$GOLDROOT" image rm bb:1
        [ "$status" -eq 0 ]
        ! ls -d "$GOLDROOT_STORE"/instances/web/backup.* 2>/dev/null
        [ ! -e "$GOLDROOT_STORE/lost+found" ]
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
        [[ "$output" == *" 0 problems, 0 repaired" ]]
        run "$GOLDROOT" rollback web
        [ "$status" -eq 1 ]
        # The state it upgraded to is untouched.
        [ "$("$GOLDROOT" image links bb:2)" = web ]
        "$GOLDROOT" diff web >/dev/null
}

@test "image rm: a running instance keeps running; its backup goes all the same" {
        # nb:2, of another name and content, is no delta over bb:1.
        cp -a "$BATS_FILE_TMPDIR/bb" "$BATS_TEST_TMPDIR/nb"
        echo nb >"$BATS_TEST_TMPDIR/nb/etc/nb"
        "$GOLDROOT" image import nb:2 "$BATS_TEST_TMPDIR/nb" >/dev/null
        "$GOLDROOT" create web --image bb:1 --mode rw
        "$GOLDROOT" upgrade web --to nb:2 >/dev/null
        "$GOLDROOT" start web -- /bin/sleep 1000
        run "$GOLDROOT" image rm bb:1
        [ "$status" -eq 0 ]
        ! ls -d "$GOLDROOT_STORE"/instances/web/backup.* 2>/dev/null
        [ "$("$GOLDROOT" exec web -- /bin/sh -c "cat /etc/nb")" = nb ]
        "$GOLDROOT" stop --timeout 0 web
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
}

@test "image rm: a crash after its commit leaves the backup to the next command, which deletes it" {
        for point in image-rm-after-commit image-rm-after-delete; do
                "$GOLDROOT" create "w-$point" --image bb:1 --mode rw
                "$GOLDROOT" upgrade "w-$point" --to bb:2 >/dev/null
                run env GOLDROOT_CRASH_AT=$point "$GOLDROOT" image rm bb:1
                [ "$status" -eq 137 ]
                ls -d "$GOLDROOT_STORE/instances/w-$point"/backup.*
                "$GOLDROOT" diff "w-$point" >/dev/null
                ! ls -d "$GOLDROOT_STORE/instances/w-$point"/backup.* 2>/dev/null
                [ ! -e "$GOLDROOT_STORE/lost+found" ]
                run "$GOLDROOT" fsck
                [ "$status" -eq 0 ]
                [[ "$output" == *" 0 problems, 0 repaired" ]]
                ! "$GOLDROOT" image inspect bb:1 2>/dev/null
                instance_import_busybox # for the next round
        done
}

@test "image rm: refused while another command holds an instance that could roll back to it" {
        "$GOLDROOT" create web --image bb:1 --mode rw
        "$GOLDROOT" upgrade web --to bb:2 >/dev/null
        run flock "$GOLDROOT_STORE/instances/web" "$GOLDROOT" image rm bb:1
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: image bb:1: instance web, which could roll back to it, is busy (another goldroot command holds it): try again" ]
        "$GOLDROOT" image inspect bb:1 >/dev/null
        ls -d "$GOLDROOT_STORE"/instances/web/backup.*
        "$GOLDROOT" rollback web >/dev/null
        [ "$("$GOLDROOT" image links bb:1)" = web ]
}

@test "a crash after the upgrade's commit is finished by the next command" {
        "$GOLDROOT" create web --image bb:1
        lc_sh web 'echo local >/etc/motd'
        before=$(lc_snapshot "$(lc_state web)")
        run env GOLDROOT_CRASH_AT=upgrade-after-commit "$GOLDROOT" upgrade web --to bb:2
        [ "$status" -eq 137 ]
        ls -d "$GOLDROOT_STORE"/instances/web/.upgrade.*
        run "$GOLDROOT" diff web
        [ "$status" -eq 0 ]
        [[ "$output" == *"A /etc/hosts.goldnew"* ]] || [[ "$output" == *"A /etc/motd"* ]]
        ! ls -d "$GOLDROOT_STORE"/instances/web/.upgrade.* 2>/dev/null
        [ "$("$GOLDROOT" image links bb:2)" = web ]
        "$GOLDROOT" rollback web
        [ "$(lc_snapshot "$(lc_state web)")" = "$before" ]
}

@test "a crash before the upgrade's commit leaves the instance as it was" {
        "$GOLDROOT" create web --image bb:1
        lc_sh web 'echo local >/etc/motd'
        before=$(lc_snapshot "$(lc_state web)")
        run env GOLDROOT_CRASH_AT=upgrade-before-commit "$GOLDROOT" upgrade web --to bb:2
        [ "$status" -eq 137 ]
        "$GOLDROOT" diff web >/dev/null
        ! ls -d "$GOLDROOT_STORE"/instances/web/.upgrade.* 2>/dev/null
        [ "$(lc_snapshot "$(lc_state web)")" = "$before" ]
        [ "$("$GOLDROOT" image links bb:1)" = web ]
        run "$GOLDROOT" rollback web
        [ "$status" -eq 1 ]
}

@test "a crash in the middle of a rollback is finished by the next command" {
        "$GOLDROOT" create web --image bb:1
        lc_sh web 'echo local >/etc/motd'
        before=$(lc_snapshot "$(lc_state web)")
        "$GOLDROOT" upgrade web --to bb:2 >/dev/null
        run env GOLDROOT_CRASH_AT=rollback-between-renames "$GOLDROOT" rollback web
        [ "$status" -eq 137 ]
        [ ! -e "$(lc_state web)" ]
        "$GOLDROOT" diff web >/dev/null
        [ "$(lc_snapshot "$(lc_state web)")" = "$before" ]
        [ "$("$GOLDROOT" image links bb:1)" = web ]
        run "$GOLDROOT" rollback web
        [ "$status" -eq 1 ]
}

@test "hostile state: a symlink to a host file is never followed by diff, upgrade or rollback" {
        hostdir=$BATS_TEST_TMPDIR/host
        mkdir "$hostdir"
        echo "host secret" >"$hostdir/canary"
        chmod 0600 "$hostdir/canary"
        host_before=$(lc_snapshot "$hostdir")
        "$GOLDROOT" create web --image bb:1
        lc_sh web 'echo local >/etc/motd'
        # The guest plants links to the host: over an image file, over an image
        # directory, and where the new image changes a file (a type conflict).
        upper=$(lc_upper web)
        ln -sfn "$hostdir/canary" "$upper/etc/group"
        mkdir -p "$upper/srv"
        ln -sfn "$hostdir" "$upper/home"
        run "$GOLDROOT" diff web
        [ "$status" -eq 0 ]
        [[ "$output" == *"M /etc/group"* ]]
        [[ "$output" == *"M /home"* ]]
        [[ "$output" != *"canary"* ]]
        for policy in merge theirs keep-local; do
                run "$GOLDROOT" upgrade web --to bb:2 --policy $policy
                [ "$status" -eq 0 ]
                [ "$(readlink "$(lc_upper web)/etc/group")" = "$hostdir/canary" ]
                [ "$(readlink "$(lc_upper web)/home")" = "$hostdir" ]
                "$GOLDROOT" rollback web >/dev/null
        done
        ln -sfn "$hostdir/canary" "$upper/etc/hosts"
        run "$GOLDROOT" upgrade web --to bb:2
        [ "$status" -eq 1 ]
        [[ "$output" == *"conflict /etc/hosts: type conflict, local symlink, image regular file"* ]]
        # The host side is exactly as it was, and nothing of it was copied in.
        [ "$(lc_snapshot "$hostdir")" = "$host_before" ]
        ! grep -rqs 'host secret' "$GOLDROOT_STORE/instances/web"
}
