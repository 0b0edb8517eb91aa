#!/usr/bin/env bats
# A real kill -9 at random moments of `upgrade --all` (three rw instances
# with local edits, busybox bb:1 -> bb:2), 200 times. The delays are drawn
# from a seeded generator (GOLDROOT_KILL_SEED, printed; random by default) over
# the span a clean run takes. After each kill:
#   1. the next command succeeds (it recovers the journal),
#   2. fsck reports nothing,
#   3. every instance's state is exactly its state before or after the upgrade,
#   4. upgrade --all runs again to completion and leaves exactly the after
#      states.
load ../lib/common
load ../lib/images
load ../lib/instance
load ../lib/reliability

ROUNDS=${GOLDROOT_KILL_ROUNDS:-200}
NAMES="a b c"

setup_file() {
        local t=$BATS_FILE_TMPDIR/template v2
        instance_build_busybox
        v2=$(rel_variant 2 'echo "10.0.0.1 gw" >>etc/hosts; echo v2 >usr/bin/hello;
                mkdir etc/motd.d; echo new >etc/motd.d/new; rm etc/issue')
        (
                export GOLDROOT_STORE=$t
                "$GOLDROOT" image import bb:1 "$BATS_FILE_TMPDIR/bb" >/dev/null
                "$GOLDROOT" image import bb:2 "$v2" >/dev/null
                for n in $NAMES; do
                        "$GOLDROOT" create "$n" --image bb:1 --mode rw >/dev/null
                        rel_local_edits "$n"
                done
        )
}

teardown() {
        instance_teardown
}

# The template's instances and catalog again; images and objects are the
# template's already (an upgrade does not change them).
reset_instances() {
        local t=$BATS_FILE_TMPDIR/template f
        rm -rf "$GOLDROOT_STORE/instances" "$GOLDROOT_STORE"/catalog.db*
        cp -a "$t/instances" "$GOLDROOT_STORE/"
        for f in "$t"/catalog.db*; do cp -a "$f" "$GOLDROOT_STORE/"; done
}

@test "kill -9 at random moments of upgrade --all, $ROUNDS times: recovered, fsck clean, no state lost, re-run completes" {
        local seed=${GOLDROOT_KILL_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
        local before=$BATS_TEST_TMPDIR/before after=$BATS_TEST_TMPDIR/after
        local now=$BATS_TEST_TMPDIR/now span_ms delay pid st killed=0 finished=0 i
        echo "# seed $seed (GOLDROOT_KILL_SEED=$seed reproduces the delays)" >&3
        RANDOM=$seed

        rel_store
        rel_quick_states "$NAMES" >"$before"
        # The span of a clean run, to draw the delays from.
        local t0=$EPOCHREALTIME
        "$GOLDROOT" upgrade --all --to bb:2 >/dev/null
        span_ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 800 + 1 }')
        rel_quick_states "$NAMES" >"$after"
        ! cmp -s "$before" "$after"

        for ((i = 1; i <= ROUNDS; i++)); do
                reset_instances
                delay=$((RANDOM * 32768 + RANDOM))
                delay=$((delay % span_ms))
                "$GOLDROOT" upgrade --all --to bb:2 >/dev/null 2>&1 &
                pid=$!
                sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
                kill -9 "$pid" 2>/dev/null || true
                st=0
                wait "$pid" || st=$?
                if [ "$st" -eq 137 ]; then killed=$((killed + 1)); else finished=$((finished + 1)); fi

                # 1. The next command recovers.
                if ! out=$("$GOLDROOT" image ls 2>&1); then
                        echo "round $i (delay ${delay}ms): image ls failed: $out"
                        false
                fi
                # 2. fsck is clean.
                if ! out=$("$GOLDROOT" fsck 2>&1); then
                        echo "round $i (delay ${delay}ms): $out"
                        false
                fi
                # 3. Every state is the before or the after state.
                rel_quick_states "$NAMES" >"$now"
                if ! rel_blocks_ok "$now" "$before" "$after" "$NAMES"; then
                        echo "round $i (delay ${delay}ms): a state was lost"
                        false
                fi
                # 4. The upgrade runs again to completion.
                if ! out=$("$GOLDROOT" upgrade --all --to bb:2 2>&1); then
                        echo "round $i (delay ${delay}ms): upgrade again: $out"
                        false
                fi
                rel_quick_states "$NAMES" >"$now"
                if ! cmp -s "$now" "$after"; then
                        echo "round $i (delay ${delay}ms): the re-run did not end in the after states"
                        diff "$after" "$now" || true
                        false
                fi
        done
        echo "# $ROUNDS rounds over ${span_ms}ms: $killed killed mid-way, $finished finished before the kill" >&3
}
