#!/usr/bin/env bats
# Concurrency (issue 6, item 3): 8 processes run 200 mixed operations each
# (create, start, stop, upgrade, commit, rm, image tag, image gc) against one
# store at the same time, over a small shared pool of instance names so that
# they collide. Pass: the catalog is intact, every error is one of the clean
# refusals listed below, and the image of an instance that ran throughout was
# never collected (its tree still matches its manifest).
load ../lib/common
load ../lib/images
load ../lib/instance
load ../lib/lifecycle

bats_require_minimum_version 1.5.0

WORKERS=8
OPS=${CONCURRENCY_OPS:-200} # fewer only for a quick local look

setup_file() {
        instance_build_busybox
}

setup() {
        T=$BATS_TEST_TMPDIR
        instance_import_busybox
        lc_variant 2 'echo v2 >etc/motd'
}

teardown() {
        image_umount_all
        instance_teardown
}

# One worker: $OPS operations chosen by a generator seeded with its number,
# each with a time limit. Every failure's stderr goes to $T/err.$1, prefixed
# with the operation.
worker() {
        local w=$1 op n img out rc
        RANDOM=$((w * 7919))
        for ((k = 0; k < OPS; k++)); do
                n=i$((RANDOM % 6))
                img=bb:$((RANDOM % 2 + 1))
                case $((RANDOM % 16)) in
                0 | 1 | 2) op=(create "$n" --image "$img") ;;
                3 | 4) op=(start "$n" -- /bin/sleep 1000) ;;
                5 | 6) op=(stop --timeout 1 "$n") ;;
                7 | 8) op=(upgrade "$n" --to "$img") ;;
                9) op=(rollback "$n") ;;
                10) op=(commit "$n" "snap$w:$k") ;;
                11 | 12) op=(rm --force "$n") ;;
                13) op=(image tag "$img" "moving:$((RANDOM % 3))") ;;
                14) op=(image gc) ;;
                15) op=(diff "$n") ;;
                esac
                out=$(timeout 60 "$GOLDROOT" -q "${op[@]}" 2>&1 >/dev/null) && rc=0 || rc=$?
                if [ "$rc" -ne 0 ]; then
                        printf '%s\t%s\t%s\n' "$rc" "${op[*]}" "${out//$'\n'/\\n}" >>"$T/err.$w"
                fi
        done
        return 0
}

# The refusals a concurrent command may legitimately meet: another command
# holds the instance, the instance is running (or not), or another worker has
# just created, removed or upgraded it. Each is one line, exit status 1 (or 2
# for a name another worker has taken), and changes nothing.
ALLOWED='^goldroot: (create|start|stop|upgrade|rollback|commit|rm|diff|instance) i[0-9]+: ('
ALLOWED+='the instance is busy \(another goldroot command or a foreground run holds it\)'
ALLOWED+='|no such instance'
ALLOWED+="|an instance of that name exists: pick another name, or remove it first \\('goldroot rm i[0-9]+'\\)"
ALLOWED+='|the instance is running \(pid [0-9]+\)'
ALLOWED+='|the instance is running: stop it first, or use --restart'
ALLOWED+='|the instance is running: stop it first( \(a commit freezes a stopped instance\))?'
ALLOWED+='|nothing to roll back \(no upgrade since the last rollback, or its backup was pruned\)'
ALLOWED+=')$'

@test "concurrency: 8 processes x 200 mixed operations on one store" {
        # An instance that runs throughout, on an image of its own that no
        # worker touches and no tag names: gc must never take its files.
        lc_variant keep 'echo keep >etc/motd; head -c 200000 /dev/urandom >usr/bin/keep-blob'
        keep_id=$("$GOLDROOT" image inspect bb:keep --json | sed -n 's/.*"id": *"\([0-9a-f]*\)".*/\1/p' | head -1)
        [ -n "$keep_id" ]
        "$GOLDROOT" create keeper --image bb:keep
        "$GOLDROOT" start keeper -- /bin/sleep 100000

        local pids=()
        for ((w = 1; w <= WORKERS; w++)); do
                worker "$w" &
                pids+=($!)
        done
        for p in "${pids[@]}"; do
                wait "$p"
        done

        # Every error is an allowed refusal, in one line.
        cat "$T"/err.* >"$T/errors" 2>/dev/null || true
        echo "errors: $(wc -l <"$T/errors")"
        cut -f3 "$T/errors" | sed 's/i[0-9]*:/iN:/; s/pid [0-9]*/pid N/' | sort | uniq -c | sort -rn
        bad=$(cut -f3 "$T/errors" | grep -Ev "$ALLOWED" || true)
        [ -z "$bad" ] || { echo "unexpected errors:"; grep -F -f <(echo "$bad") "$T/errors"; false; }
        # Exit status 1 (an operational refusal), never a crash or a timeout.
        [ -z "$(cut -f1 "$T/errors" | grep -v '^1$' | grep -v '^2$')" ]

        # The catalog is intact.
        [ "$(sqlite3 "$GOLDROOT_STORE/catalog.db" 'PRAGMA integrity_check')" = ok ]
        [ -z "$(sqlite3 "$GOLDROOT_STORE/catalog.db" 'PRAGMA foreign_key_check')" ]
        # No staging and no half-removed instance is left once the next command ran.
        "$GOLDROOT" ls >/dev/null
        [ -z "$(ls -A "$GOLDROOT_STORE/staging")" ]
        for d in "$GOLDROOT_STORE"/instances/*; do
                n=$(basename "$d")
                "$GOLDROOT" status "$n" >/dev/null
        done

        # The keeper's image survived every gc: still in the store, its tree
        # matches its manifest file for file, and the running instance reads it.
        "$GOLDROOT" image ls --json | grep -q "$keep_id"
        [ "$("$GOLDROOT" exec keeper -- /bin/cat /etc/motd)" = keep ]
        [ "$("$GOLDROOT" exec keeper -- /bin/busybox sha256sum /usr/bin/keep-blob | cut -d' ' -f1)" = \
                "$(sha256sum "$BATS_TEST_TMPDIR/variant-keep/usr/bin/keep-blob" | cut -d' ' -f1)" ]
        # (bb:keep may be stored as a delta: look through a mount.)
        root=$(image_mount "$keep_id")
        diff <(tree_manifest "$BATS_TEST_TMPDIR/variant-keep" | cut -f1-6) \
                <(tree_manifest "$root" | cut -f1-6)
        umount "$root"
        # fsck agrees: nothing to report after the storm.
        run "$GOLDROOT" fsck --full
        echo "$output"
        [ "$status" -eq 0 ]
        # And every instance still running after the storm can read its image.
        for n in $("$GOLDROOT" ls -q); do
                if "$GOLDROOT" status "$n" | grep -q 'state: *running'; then
                        [ "$("$GOLDROOT" exec "$n" -- /bin/cat /etc/issue)" = "Welcome to gold" ]
                fi
        done
}
