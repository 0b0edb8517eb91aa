#!/usr/bin/env bats
# Every --json document, made on a real store (a busybox image, instances
# with local changes, a commit, an upgrade and a rollback), validates against
# its schema in docs/json/ (additionalProperties false: drift fails), and
# every schema there is exercised.
load ../lib/common
load ../lib/images
load ../lib/instance

bats_require_minimum_version 1.5.0

SCHEMAS=$BATS_TEST_DIRNAME/../../docs/json
VALIDATE=$BATS_TEST_DIRNAME/../lib/json-validate

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
}

teardown() {
        instance_teardown
}

# valid SCHEMA GOLDROOT-ARGS...: runs goldroot with --json and validates its
# standard output against docs/json/SCHEMA.schema.json.
valid() {
        local schema=$1 out
        shift
        out=$BATS_TEST_TMPDIR/$schema.$RANDOM.json
        "$GOLDROOT" "$@" --json >"$out" || {
                echo "goldroot $* --json failed" >&2
                return 1
        }
        "$VALIDATE" "$SCHEMAS/$schema.schema.json" "$out" || {
                echo "goldroot $* --json:" >&2
                cat "$out" >&2
                return 1
        }
        echo "$schema" >>"$BATS_FILE_TMPDIR/used"
        cat "$out" >"$BATS_TEST_TMPDIR/last.json"
}

@test "every schema is a valid draft 2020-12 schema, and is in the README" {
        local s n=0
        for s in "$SCHEMAS"/*.schema.json; do
                run /usr/bin/python3 -c '
import json, sys, jsonschema
s = json.load(open(sys.argv[1]))
assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema", s["$schema"]
jsonschema.Draft202012Validator.check_schema(s)' "$s"
                [ "$status" -eq 0 ]
                grep -qF "($(basename "$s"))" "$SCHEMAS/README.md"
                n=$((n + 1))
        done
        [ "$n" -ge 15 ]
}

@test "image documents: import, ls, inspect, links, diff, prep, gc" {
        cp -a "$BATS_FILE_TMPDIR/bb" "$BATS_TEST_TMPDIR/bb2"
        echo v2 >"$BATS_TEST_TMPDIR/bb2/etc/version"
        chmod 0600 "$BATS_TEST_TMPDIR/bb2/etc/hostname"
        rm "$BATS_TEST_TMPDIR/bb2/etc/issue.net"
        valid image-import image import bb:2 "$BATS_TEST_TMPDIR/bb2"
        [ "$(jq -r .tag "$BATS_TEST_TMPDIR/last.json")" = bb:2 ]
        "$GOLDROOT" create web1 --image bb:1
        valid image-ls image ls
        [ "$(jq length "$BATS_TEST_TMPDIR/last.json")" -eq 2 ]
        valid image-inspect image inspect bb:1
        [ "$(jq -r '.instances[0]' "$BATS_TEST_TMPDIR/last.json")" = web1 ]
        valid image-links image links bb:1
        valid image-diff image diff bb:1 bb:2
        [ "$(jq -r '.[] | select(.path == "/etc/version") | .change' "$BATS_TEST_TMPDIR/last.json")" = A ]
        [ "$(jq -r '.[] | select(.path == "/etc/hostname") | .fields[0]' "$BATS_TEST_TMPDIR/last.json")" = mode ]
        valid image-prep-list image prep --list
        valid image-prep image prep bb:1 bb:prep
        [ "$(jq '.actions | length' "$BATS_TEST_TMPDIR/last.json")" -gt 0 ]
        "$GOLDROOT" image rm bb:2
        valid image-gc image gc
        [ "$(jq .objects_removed "$BATS_TEST_TMPDIR/last.json")" -gt 0 ]
        valid fsck fsck --full
        [ "$(jq .remaining "$BATS_TEST_TMPDIR/last.json")" -eq 0 ]
        [ "$(jq .images "$BATS_TEST_TMPDIR/last.json")" -eq 2 ]
}

@test "instance and maintenance documents: ls, status, diff, commit, upgrade, rollback, prune" {
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" create web2 --image bb:1 --ip 10.0.0.2/24
        "$GOLDROOT" start web1 -- sleep 1000
        valid instance-ls ls
        [ "$(jq -r '.[] | select(.name == "web1") | .state' "$BATS_TEST_TMPDIR/last.json")" = running ]
        valid instance-status status web1
        [ "$(jq .pid "$BATS_TEST_TMPDIR/last.json")" -gt 0 ]
        "$GOLDROOT" exec web1 -- sh -c 'echo local >/etc/local; echo x >>/etc/hostname; rm /etc/issue.net'
        "$GOLDROOT" stop web1
        valid instance-status status web1
        valid instance-status status web2
        [ "$(jq -r .ip "$BATS_TEST_TMPDIR/last.json")" = 10.0.0.2/24 ]
        valid diff diff web1
        [ "$(jq -r '.[] | select(.path == "/etc/local") | .code' "$BATS_TEST_TMPDIR/last.json")" = A ]

        valid commit commit web1 bb:2
        valid upgrade upgrade --from bb:1 --to bb:2 --dry-run
        [ "$(jq .dry_run "$BATS_TEST_TMPDIR/last.json")" = true ]
        valid upgrade upgrade web2 --to bb:2 --policy merge
        [ "$(jq -r '.instances[0].status' "$BATS_TEST_TMPDIR/last.json")" = upgraded ]
        # Refusals are documents too (exit status 1). A name that is no
        # instance is not: it fails the command before anything is done.
        "$GOLDROOT" create web3 --image bb:1
        "$GOLDROOT" start web1 -- sleep 1000
        "$GOLDROOT" start web3 -- sleep 1000
        run "$GOLDROOT" upgrade web1 web3 --to bb:2 --json
        [ "$status" -eq 1 ]
        echo "$output" | grep '^{' >"$BATS_TEST_TMPDIR/fail.json"
        "$VALIDATE" "$SCHEMAS/upgrade.schema.json" "$BATS_TEST_TMPDIR/fail.json"
        [ "$(jq -r '.failed | length' "$BATS_TEST_TMPDIR/fail.json")" -eq 2 ]
        "$GOLDROOT" stop web1
        "$GOLDROOT" stop web3
        "$GOLDROOT" rm web3

        valid rollback rollback web2
        valid upgrade upgrade web2 --to bb:2
        valid upgrade-prune upgrade --prune-backups
        [ "$(jq -r '.pruned[0]' "$BATS_TEST_TMPDIR/last.json")" = web2 ]
}

@test "ls, status: an instance made with --profile shows the profile's name as its mode" {
        cp "$BATS_TEST_DIRNAME/../../profiles/rw.profile" "$BATS_TEST_TMPDIR/web.profile"
        "$GOLDROOT" create web1 --image bb:1 --profile "$BATS_TEST_TMPDIR/web.profile"
        "$GOLDROOT" create web2 --image bb:1 --profile rw
        "$GOLDROOT" create web3 --image bb:1 --mode volatile
        valid instance-ls ls
        [ "$(jq -r '[.[] | .mode] | join(" ")' "$BATS_TEST_TMPDIR/last.json")" = "web rw volatile" ]
        valid instance-status status web1
        [ "$(jq -r .mode "$BATS_TEST_TMPDIR/last.json")" = web ]
        run -0 "$GOLDROOT" status web1
        [[ "$output" == *"mode:     web"* ]]
        run -0 "$GOLDROOT" ls
        [[ "${lines[1]}" =~ ^web1\ +stopped\ +-\ +bb:1\ +web\ +-$ ]]
        # Running, the same.
        "$GOLDROOT" start web1 -- sleep 1000
        valid instance-status status web1
        [ "$(jq -r .mode "$BATS_TEST_TMPDIR/last.json")" = web ]
}

@test "plan: of a profile and of an instance, as text and as JSON" {
        "$GOLDROOT" create web1 --image bb:1
        valid plan plan --profile "$BATS_TEST_DIRNAME/../../profiles/ro.profile" --image-id abcd
        [ "$(jq -r '.[0].entry' "$BATS_TEST_TMPDIR/last.json")" = rw ]
        [ "$(jq -r '.[0].target' "$BATS_TEST_TMPDIR/last.json")" = null ]
        [ "$(jq -r '.[] | select(.entry == "etc") | .after[0]' "$BATS_TEST_TMPDIR/last.json")" = 1 ]
        valid plan plan web1
        [ "$(jq -r '.[] | select(.entry == "tmp") | .target' "$BATS_TEST_TMPDIR/last.json")" = /tmp ]
        run "$GOLDROOT" plan web1
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == *"rw"*"overlay"*"image:/"*"(aside)"* ]]
        run "$GOLDROOT" plan web1 --dot
        [[ "$output" == "digraph"* ]]
}

@test "a document with a field its schema does not know fails validation" {
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" status web1 --json | jq '. + {"extra": 1}' >"$BATS_TEST_TMPDIR/x.json"
        run "$VALIDATE" "$SCHEMAS/instance-status.schema.json" "$BATS_TEST_TMPDIR/x.json"
        [ "$status" -eq 1 ]
        [[ "$output" == *"'extra' was unexpected"* ]]
        "$GOLDROOT" status web1 --json | jq 'del(.state)' >"$BATS_TEST_TMPDIR/y.json"
        run "$VALIDATE" "$SCHEMAS/instance-status.schema.json" "$BATS_TEST_TMPDIR/y.json"
        [ "$status" -eq 1 ]
}

@test "the tests above validated a document of every schema" {
        local s
        for s in "$SCHEMAS"/*.schema.json; do
                s=$(basename "$s" .schema.json)
                grep -qx "$s" "$BATS_FILE_TMPDIR/used" || {
                        echo "no document validated against $s" >&2
                        return 1
                }
        done
}
