#!/usr/bin/env bats
# goldroot run --rm: a throwaway instance with no catalog row and its state on
# a tmpfs of its own; what it must still do (identity, isolation, exit status)
# and what keeps its image and name safe while it runs. Also: libarchive is
# loaded only by the commands that read or write tarballs.
load ../lib/common
load ../lib/images
load ../lib/instance

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
}

teardown() {
        instance_teardown
}

@test "run --rm: own identity, writable /etc on a tmpfs, read-only /usr, nothing left" {
        run "$GOLDROOT" run --rm --name tmp1 bb:1 -- sh -c '
                hostname
                cat /etc/hostname
                grep -q "^[0-9a-f]\{32\}$" /etc/machine-id && echo machine-id ok
                touch /etc/new /var/new /root/new && echo writes ok
                touch /usr/new 2>/dev/null || echo usr read-only
                grep " /etc " /proc/mounts | grep -q "upperdir=/root,workdir=/.work/rw" && echo upper ok'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = tmp1 ]
        [ "${lines[1]}" = tmp1 ]
        [ "${lines[2]}" = "machine-id ok" ]
        [ "${lines[3]}" = "writes ok" ]
        [ "${lines[4]}" = "usr read-only" ]
        [ "${lines[5]}" = "upper ok" ]
        # The upper layer's path is the root of a tmpfs attached nowhere
        # (upperdir=/root): what the run wrote never reached the host's disk,
        # and the run's directory there is gone too.
        [ -z "$(ls "$GOLDROOT_RUNDIR/ephemeral")" ]
        [ ! -e "$GOLDROOT_STORE/instances/tmp1" ]
        run "$GOLDROOT" ls -q
        [ -z "$output" ]

        # Two runs never share a machine id.
        a=$("$GOLDROOT" run --rm bb:1 -- cat /etc/machine-id)
        b=$("$GOLDROOT" run --rm bb:1 -- cat /etc/machine-id)
        [ -n "$a" ] && [ "$a" != "$b" ]
}

@test "run --rm: the caller's environment and arguments are not in /proc/1" {
        run env GR_SECRET_TOKEN=hunter2 "$GOLDROOT" run --rm bb:1 -- sh -c '
                tr "\0" "\n" </proc/1/environ; tr -d "\0" </proc/1/cmdline; echo; echo "self: $GR_SECRET_TOKEN"'
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -eq 2 ]
        [ "${lines[0]}" = goldroot-init ]
        [ "${lines[1]}" = "self: " ]
}

@test "run --rm: the name is unique among instances and running runs" {
        "$GOLDROOT" create keep --image bb:1
        run "$GOLDROOT" run --rm --name keep bb:1 -- true
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: run keep: an instance of that name exists" ]
        "$GOLDROOT" status keep >/dev/null

        "$GOLDROOT" run --rm --name busy bb:1 -- sh -c 'while :; do sleep 0.1; done' &
        local pid=$!
        # Wait until the run holds its directory's lock.
        for _ in $(seq 100); do
                [ -d "$GOLDROOT_RUNDIR/ephemeral/busy" ] &&
                        ! flock -n "$GOLDROOT_RUNDIR/ephemeral/busy" true && break
                sleep 0.1
        done
        run "$GOLDROOT" run --rm --name busy bb:1 -- true
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: run busy: an instance of that name exists" ]
        kill -TERM "$pid"
        wait "$pid" || true
        [ ! -e "$GOLDROOT_RUNDIR/ephemeral/busy" ]
}

@test "run --rm --name: ls, status and exec find the run; create refuses its name; stop ends it; other stores do not see it" {
        "$GOLDROOT" run --rm --name vis bb:1 -- sleep 4248.5 3>&- &
        local pid=$! rc=0 id
        wait_for_process 'sleep 4248.5'
        # The run records its status right after the command starts.
        wait_for_state vis running
        id=$("$GOLDROOT" image inspect --json bb:1 | jq -r .id)
        run "$GOLDROOT" status --json vis
        [ "$(jq -r .image <<<"$output")" = "$id" ]
        [ "$(jq -r .mode <<<"$output")" = ro ]
        [ "$(jq -r .pid <<<"$output")" -gt 1 ]
        run "$GOLDROOT" ls -q
        [ "$output" = vis ]
        run "$GOLDROOT" ls
        [[ "$output" == *$'\n'"vis   running "* ]]
        run "$GOLDROOT" exec vis -- cat /etc/hostname
        [ "$status" -eq 0 ]
        [ "$output" = vis ]
        run "$GOLDROOT" create vis --image bb:1
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: create vis: a run --rm of that name is running" ]

        # The runtime directory is shared; the run is this store's only.
        mkdir "$BATS_TEST_TMPDIR/other" # an empty store (only image import makes a missing one)
        run env GOLDROOT_STORE="$BATS_TEST_TMPDIR/other" "$GOLDROOT" ls -q
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        run env GOLDROOT_STORE="$BATS_TEST_TMPDIR/other" "$GOLDROOT" exec vis -- true
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: instance vis: no such instance" ]

        run timeout 20 "$GOLDROOT" stop vis
        [ "$status" -eq 0 ]
        wait "$pid" || rc=$?
        [ "$rc" -eq 143 ]
        [ ! -e "$GOLDROOT_RUNDIR/ephemeral/vis" ]
        run "$GOLDROOT" ls -q
        [ -z "$output" ]
}

@test "run --rm --name: a damaged record is one line, and a symlink in a run's place is not followed" {
        "$GOLDROOT" run --rm --name rec bb:1 -- sleep 4249.5 3>&- &
        local pid=$! rc=0 e=$GOLDROOT_RUNDIR/ephemeral
        wait_for_process 'sleep 4249.5'
        wait_for_state rec running
        cp "$e/rec/record" "$BATS_TEST_TMPDIR/record"
        echo garbage >"$e/rec/record"
        run "$GOLDROOT" status rec
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: run rec: cannot read $e/rec/record: Bad message" ]
        cp "$BATS_TEST_TMPDIR/record" "$e/rec/record"
        cp "$e/rec/identity" "$BATS_TEST_TMPDIR/identity"
        printf 'no-such-key = 1\n' >"$e/rec/identity"
        run "$GOLDROOT" exec rec -- true
        [ "$status" -eq 2 ]
        [[ "$output" == "goldroot: $e/rec/identity:1:1: "* ]]
        [ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
        cp "$BATS_TEST_TMPDIR/identity" "$e/rec/identity"

        # A directory elsewhere, locked as a run holds its own, behind a
        # symlink in the runtime directory: not a run.
        mkdir "$BATS_TEST_TMPDIR/outside"
        cp "$BATS_TEST_TMPDIR/record" "$BATS_TEST_TMPDIR/identity" "$BATS_TEST_TMPDIR/outside/"
        ln -s "$BATS_TEST_TMPDIR/outside" "$e/evil"
        flock -o "$BATS_TEST_TMPDIR/outside" sleep 4250.5 3>&- &
        local holder=$!
        wait_for_process 'sleep 4250.5'
        run "$GOLDROOT" status evil
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: instance evil: no such instance" ]
        run "$GOLDROOT" ls -q
        [ "$output" = rec ]
        kill "$holder"
        pkill -f '^sleep 4250.5'
        rm "$e/evil"

        run timeout 20 "$GOLDROOT" stop rec
        [ "$status" -eq 0 ]
        wait "$pid" || rc=$?
        [ "$rc" -eq 143 ]
}

@test "run --rm: a run with a random name and its state in memory puts nothing on disk" {
        # Not even a directory under the runtime directory: a run killed with
        # SIGKILL leaves nothing behind to sweep.
        "$GOLDROOT" run --rm bb:1 -- sleep 4241.5 &
        local pid=$!
        wait_for_process 'sleep 4241.5'
        [ -z "$(ls -A "$GOLDROOT_RUNDIR/ephemeral" 2>/dev/null)" ]
        kill9_takes_along "$pid" 'sleep 4241.5'
        [ -z "$(ls -A "$GOLDROOT_RUNDIR/ephemeral" 2>/dev/null)" ]
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
}

@test "run --rm: runs make and lock their directories one at a time" {
        # Otherwise a second run of the same name, between the first's mkdir
        # and its lock, would take the directory for a crashed run's leftover.
        mkdir -p "$GOLDROOT_RUNDIR/ephemeral"
        exec 8>"$GOLDROOT_RUNDIR/ephemeral/.lock"
        flock 8
        "$GOLDROOT" run --rm --name queued bb:1 -- true 8>&- &
        local pid=$!
        sleep 0.5
        # It waits for the lock before it makes anything.
        [ ! -e "$GOLDROOT_RUNDIR/ephemeral/queued" ]
        kill -0 "$pid"
        exec 8>&-
        wait "$pid"
        [ ! -e "$GOLDROOT_RUNDIR/ephemeral/queued" ]
}

@test "run --rm: a symlink planted at ephemeral/.lock is not followed" {
        mkdir -p "$GOLDROOT_RUNDIR/ephemeral" "$BATS_TEST_TMPDIR/canary"
        echo keep >"$BATS_TEST_TMPDIR/canary/f"
        ln -s "$BATS_TEST_TMPDIR/canary/f" "$GOLDROOT_RUNDIR/ephemeral/.lock"
        run "$GOLDROOT" run --rm --name x bb:1 -- true
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: run x: cannot lock $GOLDROOT_RUNDIR/ephemeral: Too many levels of symbolic links" ]
        [ "$(cat "$BATS_TEST_TMPDIR/canary/f")" = keep ]
        [ ! -e "$GOLDROOT_RUNDIR/ephemeral/x" ]
}

@test "run --rm: a crashed run's leftover directory is replaced" {
        mkdir -p "$GOLDROOT_RUNDIR/ephemeral/left/state/root/etc"
        echo stale >"$GOLDROOT_RUNDIR/ephemeral/left/state/root/etc/stale"
        run "$GOLDROOT" run --rm --name left bb:1 -- sh -c 'test -e /etc/stale && echo stale || echo fresh'
        [ "$status" -eq 0 ]
        [ "$output" = fresh ]
        [ ! -e "$GOLDROOT_RUNDIR/ephemeral/left" ]
}

@test "run --rm: the next run that makes its directory removes those of dead runs, not live ones" {
        mkdir -p "$GOLDROOT_RUNDIR/ephemeral/run-deadbeef/state/root/etc"
        "$GOLDROOT" run --rm --name live bb:1 -- sleep 4239.5 &
        local pid=$!
        wait_for_process 'sleep 4239.5'
        run "$GOLDROOT" run --rm --name next bb:1 -- true
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        [ ! -e "$GOLDROOT_RUNDIR/ephemeral/run-deadbeef" ]
        [ -d "$GOLDROOT_RUNDIR/ephemeral/live" ]
        kill -0 "$pid"
        kill -TERM "$pid"
        wait "$pid" || true
        [ -z "$(ls "$GOLDROOT_RUNDIR/ephemeral")" ]
}

@test "run --rm: killed with SIGKILL, goldroot takes its instance with it" {
        "$GOLDROOT" run --rm --name killed bb:1 -- sleep 4242.5 &
        local pid=$!
        wait_for_process 'sleep 4242.5'
        kill9_takes_along "$pid" 'sleep 4242.5'
        # The store needs nothing; the name's leftover directory is taken over
        # by the next run of that name.
        [ -d "$GOLDROOT_RUNDIR/ephemeral/killed" ]
        run "$GOLDROOT" run --rm --name killed bb:1 -- true
        [ "$status" -eq 0 ]
        [ ! -e "$GOLDROOT_RUNDIR/ephemeral/killed" ]
}

@test "run --rm: fsck removes what a killed run left, with one line under -v, and leaves a live run's" {
        "$GOLDROOT" run --rm --name killed bb:1 -- sleep 4243.5 &
        local killed=$!
        wait_for_process 'sleep 4243.5'
        kill9_takes_along "$killed" 'sleep 4243.5'
        # A live run holds the store lock that fsck takes exclusively, so the
        # live one here is a run of another store in the same runtime
        # directory: its directory, locked the way a run locks it.
        mkdir "$GOLDROOT_RUNDIR/ephemeral/live"
        flock -o "$GOLDROOT_RUNDIR/ephemeral/live" sleep 4244.5 &
        local live=$!
        wait_for_process 'sleep 4244.5'

        [ -d "$GOLDROOT_RUNDIR/ephemeral/killed" ]
        # A dead run is no instance, even with its record still there.
        [ -f "$GOLDROOT_RUNDIR/ephemeral/killed/record" ]
        run "$GOLDROOT" ls -q
        [ -z "$output" ]
        run "$GOLDROOT" -v fsck
        [ "$status" -eq 0 ]
        [[ $'\n'"$output"$'\n' == *$'\n'"removed $GOLDROOT_RUNDIR/ephemeral/killed, left by a run --rm that died"$'\n'* ]]
        [[ "$output" != *"/live"* ]]
        [ ! -e "$GOLDROOT_RUNDIR/ephemeral/killed" ]
        [ -d "$GOLDROOT_RUNDIR/ephemeral/live" ]
        kill -0 "$live"

        kill "$live"
        pkill -f '^sleep 4244.5'
        wait "$live" || true
        # Without -v, as quietly as the journal's recovery.
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
        [[ "$output" != *"/live"* ]]
        [ ! -e "$GOLDROOT_RUNDIR/ephemeral/live" ]
}

@test "run --rm: the store lock held for the run keeps image rm away from its image" {
        "$GOLDROOT" run --rm bb:1 -- sleep 4240.5 &
        local pid=$!
        wait_for_process 'sleep 4240.5'
        # No catalog row links the image, so only the lock stands in the way:
        # image rm waits for it instead of removing the tree under the run.
        run timeout 2 "$GOLDROOT" image rm bb:1
        [ "$status" -eq 124 ]
        "$GOLDROOT" image inspect bb:1 >/dev/null
        kill -TERM "$pid"
        wait "$pid" || true
        "$GOLDROOT" image rm bb:1
        run "$GOLDROOT" image inspect bb:1
        [ "$status" -ne 0 ]
}

@test "goldroot needs libc alone at start: not libm, which SQLite's SQL math functions load" {
        run readelf -d "$GOLDROOT"
        [ "$status" -eq 0 ]
        [[ "$output" == *"[libc.so.6]"* ]]
        [[ "$output" != *"[libm.so"* ]]
        # The catalog, SQLite's work, still opens and answers.
        "$GOLDROOT" image ls
}

@test "libarchive is not linked: only tarball import and export load it" {
        run ldd "$GOLDROOT"
        [ "$status" -eq 0 ]
        [[ "$output" != *libarchive* ]]
        [[ "$output" != *libxml2* ]]
        [[ "$output" != *libicu* ]]
        mkdir -p "$BATS_TEST_TMPDIR/t/etc"
        echo hello >"$BATS_TEST_TMPDIR/t/etc/motd"
        tar -C "$BATS_TEST_TMPDIR/t" -czf "$BATS_TEST_TMPDIR/t.tar.gz" .
        "$GOLDROOT" image import tar:1 "$BATS_TEST_TMPDIR/t.tar.gz"
        "$GOLDROOT" image export tar:1 "$BATS_TEST_TMPDIR/out.tar.xz"
        [ "$(tar -xOJf "$BATS_TEST_TMPDIR/out.tar.xz" ./etc/motd)" = hello ]
}
