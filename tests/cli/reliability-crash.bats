#!/usr/bin/env bats
# Crash consistency: every named crash point (GOLDROOT_CRASH_AT, test builds
# only) of import, commit, prep, create, rm, upgrade (one and --all),
# rollback, image rm, gc and tag. For each: a store with busybox images and
# rw instances with local state; the operation is killed at the point (exit
# 137; a point never reached fails the test); then
#   1. the next command succeeds (it recovers the journal),
#   2. fsck --full reports nothing,
#   3. every instance's state is exactly its state from before the
#      operation or from after it (path, type, mode, owner, content),
#   4. running the operation again completes it, and leaves exactly the
#      after state, with fsck still clean.
load ../lib/common
load ../lib/images
load ../lib/instance
load ../lib/reliability

# The crash points this file covers; the first test checks that it is every
# point the source defines.
POINTS=(
        import-after-journal
        import-after-staging
        import-before-objects
        import-after-objects
        import-before-rename
        import-after-rename
        import-before-commit
        import-after-commit
        commit-after-journal
        commit-after-staging
        commit-before-objects
        commit-after-objects
        commit-before-rename
        commit-after-rename
        commit-before-commit
        commit-after-commit
        prep-after-journal
        prep-after-staging
        prep-before-objects
        prep-after-objects
        prep-before-rename
        prep-after-rename
        prep-before-commit
        prep-after-commit
        create-after-journal
        create-after-mkdir
        create-after-identity
        instance-create-before-commit
        create-after-commit
        rm-after-journal
        instance-rm-before-commit
        instance-rm-after-commit
        rm-after-rename-aside
        rm-after-delete
        upgrade-after-journal
        upgrade-after-build
        upgrade-after-sync
        upgrade-before-commit
        upgrade-in-commit
        upgrade-after-commit
        upgrade-between-renames
        upgrade-after-renames
        upgrade-after-cleanup
        upgrade-all-between-instances
        rollback-after-journal
        rollback-in-commit
        rollback-after-commit
        rollback-between-renames
        rollback-after-renames
        rollback-after-backup-row
        rollback-after-cleanup
        image-rm-after-journal
        image-rm-before-commit
        image-rm-after-commit
        image-rm-after-delete
        gc-after-journal
        gc-after-first-object
        gc-before-end
        tag-before-commit
        tag-after-commit
        flatten-after-swap
)
# Points of operations outside the store, tested where the operation is.
OTHER_POINTS=(
        mount-after-attach # tests/cli/mount-failure.bats
)

setup_file() {
        rel_template
}

teardown() {
        instance_teardown
}

# The operation a crash point belongs to.
op_of() {
        case $1 in
        import-*) echo "image import bb:new $BATS_FILE_TMPDIR/variant-new" ;;
        commit-*) echo "commit a new:1" ;;
        prep-*) echo "image prep bb:1 bb:prep" ;;
        create-* | instance-create-*) echo "create n --image bb:1 --mode rw" ;;
        rm-* | instance-rm-*) echo "rm b" ;;
        upgrade-all-*) echo "upgrade --all --to bb:2" ;;
        upgrade-*) echo "upgrade a --to bb:2" ;;
        rollback-*) echo "rollback c" ;;
        image-rm-*) echo "image rm bb:3" ;;
        gc-*) echo "image gc" ;;
        tag-*) echo "image tag bb:2 bb:latest" ;;
        flatten-*) echo "image rm lone:1" ;;
        *) return 1 ;;
        esac
}

# Whether an operation's result is in place, for operations that refuse to
# run twice (create, rm, rollback, image rm).
op_done() {
        case $1 in
        "create "*) "$GOLDROOT" status n >/dev/null ;;
        "rm "*) ! "$GOLDROOT" status b >/dev/null 2>&1 ;;
        "rollback "*) [ "$("$GOLDROOT" image links bb:1 | grep -cx c)" = 1 ] ;;
        "image rm bb:3") ! "$GOLDROOT" image inspect bb:3 >/dev/null 2>&1 ;;
        "image rm lone:1") ! "$GOLDROOT" image inspect lone:1 >/dev/null 2>&1 ;;
        *) return 1 ;;
        esac
}

# The states after the operation ran without a crash, once per operation.
after_states() {
        local op=$1 f=$BATS_FILE_TMPDIR/after-${1//[^a-z0-9]/_}
        if [ ! -e "$f" ]; then
                rel_store
                # shellcheck disable=SC2086
                "$GOLDROOT" $op >/dev/null
                rel_states "$f"
        fi
        echo "$f"
}

crash_case() {
        local point=$1 op before after
        op=$(op_of "$point")
        after=$(after_states "$op")
        rel_store
        before=$BATS_TEST_TMPDIR/before
        rel_states "$before"

        # shellcheck disable=SC2086
        run env GOLDROOT_CRASH_AT="$point" "$GOLDROOT" $op
        echo "$op at $point: exit $status: $output"
        [ "$status" -eq 137 ] # the point was reached

        # 1. The next command recovers.
        run "$GOLDROOT" -v image ls
        echo "$output"
        [ "$status" -eq 0 ]
        # 2. fsck is clean, 3. no state is lost.
        rel_fsck_clean
        rel_state_ok "$before" "$after"
        # 4. The operation runs again to completion.
        # shellcheck disable=SC2086
        run "$GOLDROOT" $op
        echo "again: exit $status: $output"
        [ "$status" -eq 0 ] || op_done "$op"
        rel_fsck_clean
        rel_state_ok "$after" "$after"
}

@test "the file covers every crash point the source defines, and there are at least 50" {
        local src=$BATS_TEST_DIRNAME/../../src defined
        defined=$({
                grep -rhoE 'crash_point\("[a-z-]+"' "$src" | sed -E 's/.*\("//; s/"$//'
                grep -rhoE 'builder_crash_point\(b, "[a-z-]+"' "$src" |
                        sed -E 's/.*"([a-z-]+)"$/\1/' | while read -r s; do
                        for k in import commit prep; do echo "$k-$s"; done
                done
        } | sort -u)
        [ "$(printf '%s\n' "${POINTS[@]}" "${OTHER_POINTS[@]}" | sort -u)" = "$defined" ]
        [ "$(wc -l <<<"$defined")" -ge 50 ]
}

@test "crash at flatten-after-swap (image rm of a delta's base)" {
        crash_case flatten-after-swap
        # The delta was made whole and its base is gone; it reads the same.
        [ "$("$GOLDROOT" image inspect lone:2 | sed -n 's/^stored as: *//p')" = "whole tree" ]
        [ "$(image_file lone:2 /etc/two)" = two ]
}

@test "crash at import-after-journal" {
        crash_case import-after-journal
}

@test "crash at import-after-staging" {
        crash_case import-after-staging
}

@test "crash at import-before-objects" {
        crash_case import-before-objects
}

@test "crash at import-after-objects" {
        crash_case import-after-objects
}

@test "crash at import-before-rename" {
        crash_case import-before-rename
}

@test "crash at import-after-rename" {
        crash_case import-after-rename
}

@test "crash at import-before-commit" {
        crash_case import-before-commit
}

@test "crash at import-after-commit" {
        crash_case import-after-commit
}

@test "crash at commit-after-journal" {
        crash_case commit-after-journal
}

@test "crash at commit-after-staging" {
        crash_case commit-after-staging
}

@test "crash at commit-before-objects" {
        crash_case commit-before-objects
}

@test "crash at commit-after-objects" {
        crash_case commit-after-objects
}

@test "crash at commit-before-rename" {
        crash_case commit-before-rename
}

@test "crash at commit-after-rename" {
        crash_case commit-after-rename
}

@test "crash at commit-before-commit" {
        crash_case commit-before-commit
}

@test "crash at commit-after-commit" {
        crash_case commit-after-commit
}

@test "crash at prep-after-journal" {
        crash_case prep-after-journal
}

@test "crash at prep-after-staging" {
        crash_case prep-after-staging
}

@test "crash at prep-before-objects" {
        crash_case prep-before-objects
}

@test "crash at prep-after-objects" {
        crash_case prep-after-objects
}

@test "crash at prep-before-rename" {
        crash_case prep-before-rename
}

@test "crash at prep-after-rename" {
        crash_case prep-after-rename
}

@test "crash at prep-before-commit" {
        crash_case prep-before-commit
}

@test "crash at prep-after-commit" {
        crash_case prep-after-commit
}

@test "crash at create-after-journal" {
        crash_case create-after-journal
}

@test "crash at create-after-mkdir" {
        crash_case create-after-mkdir
}

@test "crash at create-after-identity" {
        crash_case create-after-identity
}

@test "crash at instance-create-before-commit" {
        crash_case instance-create-before-commit
}

@test "crash at create-after-commit" {
        crash_case create-after-commit
}

@test "crash at rm-after-journal" {
        crash_case rm-after-journal
}

@test "crash at instance-rm-before-commit" {
        crash_case instance-rm-before-commit
}

@test "crash at instance-rm-after-commit" {
        crash_case instance-rm-after-commit
}

@test "crash at rm-after-rename-aside" {
        crash_case rm-after-rename-aside
}

@test "crash at rm-after-delete" {
        crash_case rm-after-delete
}

@test "crash at upgrade-after-journal" {
        crash_case upgrade-after-journal
}

@test "crash at upgrade-after-build" {
        crash_case upgrade-after-build
}

@test "crash at upgrade-after-sync" {
        crash_case upgrade-after-sync
}

@test "crash at upgrade-before-commit" {
        crash_case upgrade-before-commit
}

@test "crash at upgrade-in-commit" {
        crash_case upgrade-in-commit
}

@test "crash at upgrade-after-commit" {
        crash_case upgrade-after-commit
}

@test "crash at upgrade-between-renames" {
        crash_case upgrade-between-renames
}

@test "crash at upgrade-after-renames" {
        crash_case upgrade-after-renames
}

@test "crash at upgrade-after-cleanup" {
        crash_case upgrade-after-cleanup
}

@test "crash at upgrade-all-between-instances" {
        crash_case upgrade-all-between-instances
}

@test "crash at rollback-after-journal" {
        crash_case rollback-after-journal
}

@test "crash at rollback-in-commit" {
        crash_case rollback-in-commit
}

@test "crash at rollback-after-commit" {
        crash_case rollback-after-commit
}

@test "crash at rollback-between-renames" {
        crash_case rollback-between-renames
}

@test "crash at rollback-after-renames" {
        crash_case rollback-after-renames
}

@test "crash at rollback-after-backup-row" {
        crash_case rollback-after-backup-row
}

@test "crash at rollback-after-cleanup" {
        crash_case rollback-after-cleanup
}

@test "crash at image-rm-after-journal" {
        crash_case image-rm-after-journal
}

@test "crash at image-rm-before-commit" {
        crash_case image-rm-before-commit
}

@test "crash at image-rm-after-commit" {
        crash_case image-rm-after-commit
}

@test "crash at image-rm-after-delete" {
        crash_case image-rm-after-delete
}

@test "crash at gc-after-journal" {
        crash_case gc-after-journal
}

@test "crash at gc-after-first-object" {
        crash_case gc-after-first-object
}

@test "crash at gc-before-end" {
        crash_case gc-before-end
}

@test "crash at tag-before-commit" {
        crash_case tag-before-commit
}

@test "crash at tag-after-commit" {
        crash_case tag-after-commit
}
