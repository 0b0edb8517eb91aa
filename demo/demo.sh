#!/usr/bin/env bash
# make demo: the whole goldroot story on a busybox image, one narrated line
# per step: a gold image imported, three clones with their own identities,
# the read-only checks of the original paper, a patch made in a maintenance
# clone and committed as v2, an upgrade that merges a clone's local edit,
# image links, and a rollback. Then the vmount story (demo/vmount.sh) as a
# second part. Exits non-zero as soon as a step does not behave; runs in its
# own mount namespace on a temporary store and removes everything it made.
#
# Usage: demo/demo.sh GOLDROOT_BINARY
set -euo pipefail

# shellcheck source=demo/lib.bash
source "$(dirname "$(realpath "$0")")/lib.bash"
STEP_WIDTH=66
demo_enter "$(realpath "$0")" "${1:?usage: demo/demo.sh GOLDROOT_BINARY}"
cd "$(dirname "$(realpath "$0")")/.."

W=$(mktemp -d /tmp/goldroot-demo.XXXXXX)
export GOLDROOT_STORE=$W/store GOLDROOT_RUNDIR=$W/run
cleanup() {
        local n
        for n in $("$GR" ls -q 2>/dev/null); do "$GR" stop --timeout 0 "$n" >/dev/null 2>&1 || true; done
        demo_umount_below "$W"
        rm -rf "$W"
}
trap cleanup EXIT
start_time=$(date +%s.%N)

inside() { "$GR" exec "$1" -- /bin/sh -c "$2"; }

# Steps that print a short result of their own.
build_gold() {
        # shellcheck source=../tests/lib/images.bash
        . tests/lib/images.bash
        busybox_rootfs "$W/gold" >/dev/null 2>&1
        rm -f "$W/gold/srv/escape"
        printf 'Welcome to gold\n' >"$W/gold/etc/issue"
        echo "$(find "$W/gold" | wc -l) paths"
}
import_gold() {
        "$GR" image import gold:v1 "$W/gold" >/dev/null
        "$GR" image tag gold:v1 base:gold
        "$GR" image inspect --json gold:v1 | jq -r '.id[:12]'
}
clones() {
        local i
        for i in 1 2 3; do
                "$GR" create web$i --image base:gold --hostname web$i --ip 10.0.0.1$i/24
                "$GR" start web$i -- /bin/sleep 1000
        done
        for i in 1 2 3; do inside web$i hostname; done | paste -sd' '
}
writable() {
        inside web1 'touch /etc/foo /var/foo /root/foo /srv/foo /tmp/foo' && echo "/etc /var /root /srv /tmp"
}
read_only() {
        local p out
        for p in /foo /usr/foo /opt/foo /bin/foo; do
                out=$(inside web1 "touch $p" 2>&1) && return 1
                [[ "$out" == *"Read-only file system"* ]] || return 1
        done
        inside web1 'mount -o remount,rw / 2>/dev/null; touch /usr/foo 2>/dev/null' && return 1
        echo "EROFS on / /usr /opt /bin, even after a remount"
}
persistent() {
        "$GR" stop --timeout 0 web1
        "$GR" start web1 -- /bin/sleep 1000
        inside web1 'test -e /etc/foo && test -e /var/foo && test -e /srv/foo && ! test -e /tmp/foo' &&
                echo "/etc/foo kept, /tmp/foo gone"
}
patch_v2() {
        "$GR" create maint --image base:gold --mode rw --hostname maint
        "$GR" start maint -- /bin/sleep 1000
        inside maint 'printf "#!/bin/sh\necho hello from gold v2\n" >/usr/bin/hello;
                printf "Welcome to gold\nPatched: v2\n" >/etc/issue'
        "$GR" stop --timeout 0 maint
        local out how
        out=$("$GR" commit maint gold:v2 | sed 's/^committed maint as //')
        how=$("$GR" image inspect gold:v2 | sed -n 's/^stored as: *//p')
        echo "$out; stored as a ${how%% over*}"
}
test_v2() {
        "$GR" create test --image gold:v2 --mode rw
        "$GR" start test -- /bin/sleep 1000
        inside test /usr/bin/hello
        "$GR" rm --force test maint
}
local_edit() {
        inside web1 'printf "web1: staff only\nWelcome to gold\n" >/etc/issue' && echo "/etc/issue"
        for i in 1 2 3; do "$GR" stop --timeout 0 web$i; done
}
upgrade_merge() {
        "$GR" image tag gold:v2 base:gold
        "$GR" upgrade web1 --to base:gold --policy merge | grep '^merged ' | paste -sd' '
}
after_upgrade() {
        "$GR" start web1 -- /bin/sleep 1000
        [ "$(inside web1 'cat /etc/issue' | tr '\n' '|')" = "web1: staff only|Welcome to gold|Patched: v2|" ] &&
                inside web1 /usr/bin/hello
}
links() {
        printf 'v1: %s; v2: %s' "$("$GR" image links gold:v1 | paste -sd' ')" \
                "$("$GR" image links gold:v2 | paste -sd' ')"
}
rollback() {
        "$GR" stop --timeout 0 web1
        "$GR" rollback web1
        "$GR" start web1 -- /bin/sleep 1000
        [ "$(inside web1 'cat /etc/issue' | tr '\n' '|')" = "web1: staff only|Welcome to gold|" ]
        "$GR" stop --timeout 0 web1
}
all_follow() {
        local up gc
        up=$("$GR" upgrade --from gold:v1 --to base:gold | tail -n1)
        "$GR" image rm gold:v1 >/dev/null
        gc=$("$GR" image gc)
        echo "$up; $gc"
}

echo "goldroot demo: one gold image, many clones, an upgrade that merges, a rollback"
step "build a busybox root to be the gold image" build_gold
step "import it as gold:v1, tagged base:gold" import_gold
step "three clones, each with its own hostname and address" clones
step "clone web1 writes /etc, /var, /root, /srv and /tmp" writable
step "the rest of / is read-only, even for root inside" read_only
step "after a restart its state is there, /tmp is fresh" persistent
step "a rw maintenance clone patches /usr and /etc, committed as v2" patch_v2
step "a test clone of v2 runs the patched binary" test_v2
step "web1 edits /etc/issue locally" local_edit
step "base:gold moves to v2; web1 upgrades with --policy merge" upgrade_merge
step "web1 sees both its edit and the patch" after_upgrade
step "image links shows who runs which gold" links
step "web1 rolls back: v1 and its own /etc/issue, exactly" rollback
step "every clone follows the gold; v1 is removed, gc frees it" all_follow
printf 'story told in %.1f s\n\n' "$(echo "$(date +%s.%N) - $start_time" | bc)"

demo/vmount.sh "$GR"
