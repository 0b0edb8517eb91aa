#!/usr/bin/env bats
# goldroot start, exec, stop, run: detached instances under a monitor, the
# console log, exit statuses, SIGTERM then SIGKILL, and rm --force.
load ../lib/common
load ../lib/images
load ../lib/instance

bats_require_minimum_version 1.5.0

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
}

teardown() {
        instance_teardown
}

@test "start: detached with a command; exec sees the instance; status; stop" {
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" start web1 -- sh -c 'echo hello from web1; echo started >/tmp/mark; exec sleep 1000'
        run "$GOLDROOT" status web1
        [[ "$output" == *"state:    running"* ]]
        [[ "$output" =~ pid:\ +[0-9]+ ]]
        [[ "$output" =~ uptime:\ +[0-9]+s ]]
        run "$GOLDROOT" ls
        [[ "${lines[1]}" =~ ^web1\ +running\ +[0-9]+\ +bb:1\ +ro\ +[0-9]+s$ ]]
        [ "$(jq -r '.state' <<<"$("$GOLDROOT" status --json web1)")" = running ]

        run "$GOLDROOT" exec web1 -- hostname
        [ "$output" = web1 ]
        run "$GOLDROOT" exec web1 -- cat /tmp/mark
        [ "$output" = started ]
        # The exec joins the instance's PID namespace: its command is there.
        run "$GOLDROOT" exec web1 -- ps -o comm
        [[ "$output" == *sleep* ]]
        run "$GOLDROOT" exec web1 -- sh -c 'exit 42'
        [ "$status" -eq 42 ]

        # Starting twice is refused.
        run "$GOLDROOT" start web1 -- true
        [ "$status" -eq 1 ]
        [[ "$output" == "goldroot: start web1: the instance is running (pid "* ]]

        "$GOLDROOT" stop web1
        run "$GOLDROOT" status web1
        [[ "$output" == *"state:    stopped"* ]]
        run "$GOLDROOT" exec web1 -- true
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: exec web1: the instance is not running (start it first)" ]
        grep -qx 'hello from web1' "$GOLDROOT_STORE/instances/web1/run/console.log"
        # Stopping a stopped instance is not an error.
        "$GOLDROOT" stop web1
}

@test "start: the default command is the profile's init; without one in the image, a clear error" {
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" start web1
        # busybox's init, as PID 1 itself (no goldroot-init in between).
        run "$GOLDROOT" exec web1 -- cat /proc/1/comm
        [ "$output" = init ]
        "$GOLDROOT" stop web1

        mkdir "$BATS_TEST_TMPDIR/noinit"
        cp -a "$BATS_FILE_TMPDIR/bb/." "$BATS_TEST_TMPDIR/noinit/"
        rm "$BATS_TEST_TMPDIR/noinit/sbin/init"
        "$GOLDROOT" image import noinit:1 "$BATS_TEST_TMPDIR/noinit" >/dev/null
        "$GOLDROOT" create web2 --image noinit:1
        run "$GOLDROOT" start web2
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: start web2: the image has no /sbin/init: give a command after --" ]
        "$GOLDROOT" start web2 -- sleep 1000
}

@test "stop: SIGTERM first, SIGKILL after --timeout for a command that ignores it" {
        "$GOLDROOT" create polite --image bb:1
        "$GOLDROOT" create stubborn --image bb:1
        "$GOLDROOT" start polite -- sleep 1000
        "$GOLDROOT" start stubborn -- sh -c 'trap "" TERM; while :; do sleep 1; done'
        "$GOLDROOT" stop polite
        [ "$(jq -r '.exit_status' <<<"$("$GOLDROOT" status --json polite)")" -eq 143 ]
        run "$GOLDROOT" -v stop --timeout 1 stubborn
        [ "$status" -eq 0 ]
        [[ "$output" == *"stop stubborn: killed after 1 s"* ]]
        [ "$(jq -r '.exit_status' <<<"$("$GOLDROOT" status --json stubborn)")" -eq 137 ]
        run "$GOLDROOT" stop --timeout soon stubborn
        [ "$status" -eq 2 ]
}

@test "stop: --timeout is digits alone, 0 to 86400; anything else is a usage error" {
        "$GOLDROOT" create web1 --image bb:1
        local t
        for t in " 5" "5 " "+5" "-5" "-0" "" "0x10" "5s" "86401" "99999999999999999999999"; do
                run -2 "$GOLDROOT" stop --timeout "$t" web1
                [ "$output" = "goldroot: stop: bad --timeout '$t' (seconds, 0 to 86400)" ]
                run -2 "$GOLDROOT" stop -t "$t" web1
        done
        run -0 "$GOLDROOT" stop --timeout 86400 web1
        run -0 "$GOLDROOT" stop --timeout 0 web1
}

@test "run: foreground, exit status passed through, --rm cleans up" {
        run "$GOLDROOT" run --rm bb:1 -- sh -c 'echo out; echo err >&2; exit 7'
        [ "$status" -eq 7 ]
        [[ "$output" == *out* ]]
        [[ "$output" == *err* ]]
        run "$GOLDROOT" ls -q
        [ -z "$output" ]
        [ -z "$(ls -A "$GOLDROOT_STORE/instances")" ]
        run "$GOLDROOT" image links bb:1
        [ -z "$output" ]

        # Killed by a signal: 128 + N, as a shell says.
        run "$GOLDROOT" run --rm bb:1 -- sh -c 'kill -KILL $$'
        [ "$status" -eq 137 ]

        # Without --rm the instance stays, stopped, with its state.
        "$GOLDROOT" run --name keep bb:1 -- touch /etc/kept
        run "$GOLDROOT" ls -q
        [ "$output" = keep ]
        # In its state, wherever the profile keeps /etc.
        [ -n "$(find "$GOLDROOT_STORE/instances/keep/state" -name kept)" ]
        "$GOLDROOT" start keep -- sleep 1000
        "$GOLDROOT" exec keep -- test -e /etc/kept
}

@test "run, exec: a command not found is 127, one that cannot be executed 126, with one line" {
        run -127 "$GOLDROOT" run --rm bb:1 -- nosuchcmd
        [ "$output" = "goldroot: executing nosuchcmd: No such file or directory" ]
        # A file without the execute bit: found, not executable.
        run -126 "$GOLDROOT" run --rm bb:1 -- /etc/passwd
        [ "$output" = "goldroot: executing /etc/passwd: Permission denied" ]
        run -1 "$GOLDROOT" run --rm bb:1 -- sh -c 'exit 1'
        [ -z "$output" ]
        run -127 "$GOLDROOT" run --name kept bb:1 -- nosuchcmd
        [ "$output" = "goldroot: executing nosuchcmd: No such file or directory" ]

        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" start web1 -- sleep 1000
        run -127 "$GOLDROOT" exec web1 -- nosuchcmd
        [ "$output" = "goldroot: executing nosuchcmd: No such file or directory" ]
        run -126 "$GOLDROOT" exec web1 -- /etc/passwd
        [ "$output" = "goldroot: executing /etc/passwd: Permission denied" ]
        # A script whose interpreter is missing is not found, as in a shell.
        "$GOLDROOT" exec web1 -- sh -c 'printf "#!/no/such/sh\n" >/etc/s; chmod 755 /etc/s'
        run -127 "$GOLDROOT" exec web1 -- /etc/s
        [ "$output" = "goldroot: executing /etc/s: No such file or directory" ]
        run -1 "$GOLDROOT" exec web1 -- false
        [ -z "$output" ]
}

@test "run: an instance whose start fails never ran and is removed again, with the start's error alone" {
        printf 'root image - / ro\ndata bind %s /srv rw\n' "$BATS_TEST_TMPDIR/nosuchdir" \
                >"$BATS_TEST_TMPDIR/bad.profile"
        run -1 "$GOLDROOT" run --profile "$BATS_TEST_TMPDIR/bad.profile" bb:1 -- true
        [ "$output" = "goldroot: mount entry 'data' (bind on /srv): cannot open $BATS_TEST_TMPDIR/nosuchdir: No such file or directory" ]
        run -1 "$GOLDROOT" run --name named --profile "$BATS_TEST_TMPDIR/bad.profile" bb:1 -- true
        [ "${#lines[@]}" -eq 1 ]
        run -0 "$GOLDROOT" ls -q
        [ -z "$output" ]
        [ -z "$(ls -A "$GOLDROOT_STORE/instances")" ]
        run -0 "$GOLDROOT" image links bb:1
        [ -z "$output" ]
        "$GOLDROOT" fsck

        # An instance that ran stays, even if its command failed to execute.
        run -127 "$GOLDROOT" run --name ran bb:1 -- nosuchcmd
        # A name that is taken fails the create, and the instance stays.
        run -1 "$GOLDROOT" run --name ran bb:1 -- true
        run -0 "$GOLDROOT" ls -q
        [ "$output" = ran ]
}

@test "run: a foreground instance is running for ls, status and exec, and stop and rm --force end it" {
        "$GOLDROOT" run --name fg bb:1 -- sleep 4245.5 3>&- &
        local pid=$! rc=0
        wait_for_process 'sleep 4245.5'
        # The run records its status right after the command starts.
        wait_for_state fg running
        run "$GOLDROOT" ls
        [[ "$output" == *$'\n'"fg    running "* ]]
        run "$GOLDROOT" status --json fg
        [ "$(jq -r .state <<<"$output")" = running ]
        [ "$(jq -r .pid <<<"$output")" -gt 1 ]
        run "$GOLDROOT" exec fg -- cat /etc/hostname
        [ "$status" -eq 0 ]
        [ "$output" = fg ]
        # Refused at once, as for a detached instance: not after the run's
        # end (start then started it again).
        local runpid
        runpid=$(jq -r .pid <<<"$("$GOLDROOT" status --json fg)")
        run timeout 20 "$GOLDROOT" start fg -- true
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: start fg: the instance is running (pid $runpid)" ]
        run timeout 20 "$GOLDROOT" personalize --again fg
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: personalize fg: the instance is running (pid $runpid)" ]
        run timeout 20 "$GOLDROOT" oci-bundle fg "$BATS_TEST_TMPDIR/bundle"
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: oci-bundle fg: the instance is running (pid $runpid)" ]
        kill -0 "$pid"

        # stop does not wait for the run's end: it makes it, and the run
        # exits with the command's status.
        run timeout 20 "$GOLDROOT" stop fg
        [ "$status" -eq 0 ]
        wait "$pid" || rc=$?
        [ "$rc" -eq 143 ]
        run "$GOLDROOT" status --json fg
        [ "$(jq -r .state <<<"$output")" = stopped ]
        [ "$(jq -r .exit_status <<<"$output")" -eq 143 ]
        "$GOLDROOT" rm fg

        # One killed with SIGKILL leaves no running status behind.
        "$GOLDROOT" run --name fg1 bb:1 -- sleep 4247.5 3>&- &
        pid=$!
        wait_for_process 'sleep 4247.5'
        kill9_takes_along "$pid" 'sleep 4247.5'
        # The instance's PID 1 outlives its last process by a moment.
        wait_for_state fg1 stopped
        "$GOLDROOT" rm fg1

        "$GOLDROOT" run --name fg2 bb:1 -- sh -c 'trap "" TERM; sleep 4246.5' 3>&- &
        pid=$!
        wait_for_process 'sleep 4246.5'
        wait_for_state fg2 running
        run timeout 20 "$GOLDROOT" rm fg2
        [ "$status" -eq 1 ]
        [[ "$output" == *"rm fg2: the instance is busy"* ]]
        run timeout 30 "$GOLDROOT" rm --force fg2
        [ "$status" -eq 0 ]
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 137 ]
        run "$GOLDROOT" ls -q
        [ -z "$output" ]
}

@test "run: signals reach the command" {
        "$GOLDROOT" run --rm bb:1 -- sh -c 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 0.1; done' \
                >"$BATS_TEST_TMPDIR/out" 2>&1 &
        local pid=$!
        for _ in $(seq 100); do grep -q ready "$BATS_TEST_TMPDIR/out" && break; sleep 0.1; done
        kill -TERM "$pid"
        local rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 3 ]
        grep -q 'got TERM' "$BATS_TEST_TMPDIR/out"
}

@test "exec: killed with SIGKILL, goldroot takes its command with it, not the instance" {
        "$GOLDROOT" create ex1 --image bb:1
        "$GOLDROOT" start ex1 -- sleep 4238.5
        "$GOLDROOT" exec ex1 -- sleep 4237.5 &
        local pid=$!
        wait_for_process 'sleep 4237.5'
        kill9_takes_along "$pid" 'sleep 4237.5'
        run "$GOLDROOT" status ex1
        [[ "$output" == *"state:    running"* ]]
        "$GOLDROOT" stop ex1
}

@test "rm: a running instance is refused without --force; --force stops it first" {
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" start web1 -- sleep 1000
        local pid
        pid=$(jq -r .pid <<<"$("$GOLDROOT" status --json web1)")
        run "$GOLDROOT" rm web1
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: rm web1: the instance is running: stop it first or use --force" ]
        kill -0 "$pid"
        "$GOLDROOT" rm --force web1
        ! kill -0 "$pid" 2>/dev/null
        run "$GOLDROOT" ls -q
        [ -z "$output" ]
}

@test "isolation: root inside cannot write the image, even after remount attempts" {
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" start web1 -- sleep 1000
        run in_instance web1 mount -o remount,rw /
        [ "$status" -ne 0 ]
        run in_instance web1 mount -o remount,rw,bind /usr
        [ "$status" -ne 0 ]
        run in_instance web1 mount -o remount,rw /usr
        [ "$status" -ne 0 ]
        run in_instance web1 touch /usr/foo
        [ "$status" -ne 0 ]
        [[ "$output" == *"Read-only file system"* ]]
        run in_instance web1 sh -c 'echo x >/usr/bin/hello'
        [ "$status" -ne 0 ]
        [[ "$output" == *"Read-only file system"* ]]
        # Still read-only after all that, and the image is unchanged.
        run in_instance web1 touch /foo
        [[ "$output" == *"Read-only file system"* ]]
        local img
        img=$(jq -r .root <<<"$("$GOLDROOT" image inspect --json bb:1)")
        [ ! -e "$img/foo" ]
        [ ! -e "$img/usr/foo" ]
        [ "$(cat "$img/usr/bin/hello")" = "$(printf '#!/bin/sh\necho hello')" ]
}

@test "isolation: the host's mounts are invisible; the bounding set is dropped; --privileged opts out" {
        mkdir -p "$BATS_TEST_TMPDIR/hostmnt"
        mount -t tmpfs gr-host-secret "$BATS_TEST_TMPDIR/hostmnt"
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" create priv --image bb:1 --privileged
        "$GOLDROOT" start web1 -- sleep 1000
        "$GOLDROOT" start priv -- sleep 1000
        umount "$BATS_TEST_TMPDIR/hostmnt"

        run in_instance web1 cat /proc/self/mountinfo
        [ "$status" -eq 0 ]
        [[ "$output" != *gr-host-secret* ]]
        # Only the instance's own mounts: the profile's, /dev, /proc, /sys.
        [ "${#lines[@]}" -lt 40 ]
        run in_instance web1 sh -c 'cut -d" " -f5 /proc/self/mountinfo'
        [[ "$output" != *"$BATS_TEST_TMPDIR"* ]]

        local bnd
        bnd=$(in_instance web1 sh -c 'grep CapBnd /proc/self/status' | awk '{print $2}')
        # CAP_SYS_MODULE 16, CAP_SYS_RAWIO 17, CAP_SYS_ADMIN 21, CAP_SYS_TIME 25, CAP_MKNOD 27
        for bit in 16 17 21 25 27; do
                [ $(( 0x$bnd >> bit & 1 )) -eq 0 ]
        done
        # busybox date reports the failure but exits 0.
        run in_instance web1 date -s 2000-01-01
        [[ "$output" == *"can't set date: Operation not permitted"* ]]

        bnd=$(in_instance priv sh -c 'grep CapBnd /proc/self/status' | awk '{print $2}')
        for bit in 16 17 21 25 27; do
                [ $(( 0x$bnd >> bit & 1 )) -eq 1 ]
        done
}

@test "isolation: the caller's environment and arguments are not in /proc/1 (start, exec)" {
        "$GOLDROOT" create web1 --image bb:1
        GR_SECRET_TOKEN=hunter2 "$GOLDROOT" start web1 -- sleep 1000
        run in_instance web1 sh -c 'tr "\0" "\n" </proc/1/environ'
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        # The caller's "goldroot start web1 -- sleep 1000" is gone too.
        [ "$(in_instance web1 sh -c 'tr -d "\0" </proc/1/cmdline')" = goldroot-init ]
        [ "$(in_instance web1 cat /proc/1/comm)" = goldroot-init ]
        # The command itself still has its arguments and the instance's
        # environment.
        run in_instance web1 sh -c 'tr "\0" " " </proc/2/cmdline'
        [ "$output" = "sleep 1000 " ]
        run in_instance web1 sh -c 'tr "\0" "\n" </proc/2/environ'
        [[ "$output" == *PATH=/usr/local/sbin* ]]
        [[ "$output" != *hunter2* ]]
}

@test "isolation: a symlink in the state at a writable bind's place is refused, not followed (ro)" {
        local img
        img=$(jq -r .root <<<"$("$GOLDROOT" image inspect --json bb:1)")
        "$GOLDROOT" create ro1 --image bb:1
        mkdir -p "$GOLDROOT_STORE/instances/ro1/state/root"
        # /srv -> / would bind the whole overlay writable over / (or at /srv).
        ln -s / "$GOLDROOT_STORE/instances/ro1/state/root/srv"
        run "$GOLDROOT" start ro1 -- sleep 1000
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == "goldroot: mount entry 'srv' (bind on /srv): @rw:/srv is a symlink that is not the image's: "* ]]
        run "$GOLDROOT" status --json ro1
        [ "$(jq -r .state <<<"$output")" != running ]

        # Elsewhere in the image (/usr): the same.
        rm "$GOLDROOT_STORE/instances/ro1/state/root/srv"
        ln -s usr "$GOLDROOT_STORE/instances/ro1/state/root/home"
        run "$GOLDROOT" start ro1 -- sleep 1000
        [ "$status" -eq 1 ]
        [[ "$output" == *"@rw:/home is a symlink that is not the image's"* ]]
        rm "$GOLDROOT_STORE/instances/ro1/state/root/home"
        ln -s usr "$GOLDROOT_STORE/instances/ro1/state/root/srv"
        run "$GOLDROOT" start ro1 -- sleep 1000
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == *"@rw:/srv is a symlink that is not the image's"* ]]
        rm "$GOLDROOT_STORE/instances/ro1/state/root/srv"

        # Gone, the instance starts and / is read-only again.
        "$GOLDROOT" start ro1 -- sleep 1000
        run in_instance ro1 touch /usr/bin/EVIL
        [ "$status" -ne 0 ]
        [[ "$output" == *"Read-only file system"* ]]
        in_instance ro1 touch /srv/ok /home/ok
        [ ! -e "$img/usr/bin/EVIL" ]
        [ ! -e "$GOLDROOT_STORE/instances/ro1/state/root/usr/bin/EVIL" ]
}

# A copy of the busybox root in $BATS_TEST_TMPDIR/NAME, for an image with a
# layout of its own.
bb_variant() {
        local d=$BATS_TEST_TMPDIR/$1
        cp -a "$BATS_FILE_TMPDIR/bb" "$d"
        echo "$d"
}

@test "isolation: the image's own symlinks lead binds (ostree layout, ro): /root, /home, /srv writable" {
        local d
        d=$(bb_variant ost)
        # ostree/bootc: the writable homes live under /var.
        mkdir -p "$d/var"
        mv "$d/root" "$d/var/roothome"
        mv "$d/home" "$d/var/home"
        mv "$d/srv" "$d/var/srv"
        ln -s var/roothome "$d/root"
        ln -s var/home "$d/home"
        ln -s var/srv "$d/srv"
        "$GOLDROOT" image import ost:1 "$d" >/dev/null
        "$GOLDROOT" create o1 --image ost:1
        "$GOLDROOT" start o1 -- sleep 1000
        in_instance o1 sh -c 'echo r >/root/r; echo h >/home/h; echo s >/srv/s'
        run in_instance o1 touch /usr/bin/EVIL
        [ "$status" -ne 0 ]
        [[ "$output" == *"Read-only file system"* ]]
        [ "$(cat "$GOLDROOT_STORE/instances/o1/state/root/var/srv/s")" = s ]
        "$GOLDROOT" stop --timeout 0 o1
        "$GOLDROOT" start o1 -- sleep 1000
        [ "$(in_instance o1 cat /root/r /home/h /srv/s /home/user/notes)" = "r
h
s
user data" ]

        # A trusted link leads on through one the state planted: refused.
        "$GOLDROOT" stop --timeout 0 o1
        rm -r "$GOLDROOT_STORE/instances/o1/state/root/var/srv"
        ln -s / "$GOLDROOT_STORE/instances/o1/state/root/var/srv"
        run "$GOLDROOT" start o1 -- sleep 1000
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == "goldroot: mount entry 'srv' (bind on /srv): @rw:/var/srv is a symlink that is not the image's: "* ]]
        # So is the same link as the image's with another target.
        rm "$GOLDROOT_STORE/instances/o1/state/root/var/srv"
        ln -s var/roothome/.. "$GOLDROOT_STORE/instances/o1/state/root/srv"
        run "$GOLDROOT" start o1 -- sleep 1000
        [ "$status" -eq 1 ]
        [[ "$output" == *"@rw:/srv is a symlink that is not the image's"* ]]
}

@test "isolation: create binds through the image's symlinks (/etc/localtime, /var/run, merged /usr)" {
        local d
        d=$(bb_variant links)
        mkdir -p "$d/usr/share/zoneinfo/Etc" "$d/usr/lib" "$d/mnt"
        echo UTC >"$d/usr/share/zoneinfo/Etc/UTC"
        ln -s /usr/share/zoneinfo/Etc/UTC "$d/etc/localtime"
        ln -s /run "$d/var/run"
        ln -s usr/lib "$d/lib"
        "$GOLDROOT" image import links:1 "$d" >/dev/null
        echo tz >"$BATS_TEST_TMPDIR/tz"
        echo sock >"$BATS_TEST_TMPDIR/sock"
        mkdir "$BATS_TEST_TMPDIR/mods"
        echo mod >"$BATS_TEST_TMPDIR/mods/m.ko"

        printf 'include ro\ntz bind %s /etc/localtime ro,create\n' "$BATS_TEST_TMPDIR/tz" >"$BATS_TEST_TMPDIR/tz.profile"
        run "$GOLDROOT" run --rm --profile "$BATS_TEST_TMPDIR/tz.profile" links:1 -- cat /etc/localtime
        [ "$status" -eq 0 ]
        [ "$output" = tz ]
        printf 'include ro\nsock bind %s /var/run/host.sock create\n' "$BATS_TEST_TMPDIR/sock" >"$BATS_TEST_TMPDIR/sock.profile"
        run "$GOLDROOT" run --rm --profile "$BATS_TEST_TMPDIR/sock.profile" links:1 -- cat /run/host.sock
        [ "$status" -eq 0 ]
        [ "$output" = sock ]
        printf 'include rw\nmods bind %s /lib/modules ro,create\n' "$BATS_TEST_TMPDIR/mods" >"$BATS_TEST_TMPDIR/mods.profile"
        run "$GOLDROOT" run --rm --profile "$BATS_TEST_TMPDIR/mods.profile" links:1 -- cat /usr/lib/modules/m.ko
        [ "$status" -eq 0 ]
        [ "$output" = mod ]
}

@test "isolation: a link planted under a writable bind's source is refused (ro, no create)" {
        local d img
        d=$(bb_variant mnt)
        mkdir "$d/mnt"
        "$GOLDROOT" image import mnt:1 "$d" >/dev/null
        img=$(jq -r .root <<<"$("$GOLDROOT" image inspect --json mnt:1)")
        printf 'include ro\ndata bind @rw/srv/data /mnt rw,optional\n' >"$BATS_TEST_TMPDIR/hole.profile"
        "$GOLDROOT" create h1 --image mnt:1 --profile "$BATS_TEST_TMPDIR/hole.profile"
        "$GOLDROOT" start h1 -- sleep 1000
        # Root inside the instance may write /srv: /srv/data -> ../usr would
        # bind /usr writable at /mnt.
        in_instance h1 ln -s ../usr /srv/data
        "$GOLDROOT" stop --timeout 0 h1
        run "$GOLDROOT" start h1 -- sleep 1000
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == "goldroot: mount entry 'data' (bind on /mnt): @rw:/srv/data is a symlink that is not the image's: "* ]]
        [ ! -e "$img/usr/bin/pwned" ]
}
