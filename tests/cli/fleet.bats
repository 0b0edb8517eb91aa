#!/usr/bin/env bats
# A real fleet: a Debian bookworm gold made by debootstrap (minbase and
# busybox), prepped, twenty ro clones on a bridge inside a network namespace
# made here (never the host's network), each serving web pages with busybox
# httpd at its own address. Then a v2 that changes the page and one
# configuration default, one clone with a local edit of that configuration,
# and an upgrade of all twenty: each serves the new page, and the edit
# survives where it was made.
load ../lib/common
load ../lib/images
load ../lib/instance

N=20
EDITED=web07

setup() {
        NS=gr-fleet-$$-$BATS_TEST_NUMBER
        ip netns add "$NS"
        in_ns ip link set lo up
        in_ns ip link add br0 type bridge
        in_ns ip addr add 10.88.0.1/24 dev br0
        in_ns ip link set br0 up
        W=$BATS_TEST_TMPDIR/w
        mkdir -p "$W/mnt"
}

teardown() {
        local n
        if [ -e "$GOLDROOT_STORE/catalog.db" ]; then
                for n in $("$GOLDROOT" ls -q 2>/dev/null); do
                        in_ns "$GOLDROOT" stop --timeout 2 "$n" >/dev/null 2>&1 || true
                done
        fi
        umount "$W/mnt" 2>/dev/null || true
        image_umount_all
        ip netns del "$NS"
}

in_ns() {
        ip netns exec "$NS" "$@"
}

addr() {
        echo "10.88.0.$((10 + 10#${1#web}))"
}

names() {
        local i
        for i in $(seq -w 1 "$N"); do echo "web$i"; done
}

# GET http://ADDR/PATH from the test's namespace: the body, or its
# Content-Type (busybox wget -S prints the headers on stderr). Its -T option
# crashes in Debian 12, so timeout(1) bounds a request.
get() {
        in_ns timeout 5 busybox wget -q -O- "http://$1$2"
}

content_type() {
        in_ns timeout 5 busybox wget -S -O /dev/null "http://$1$2" 2>&1 |
                sed -n 's/^ *Content-[Tt]ype: *//p' | tr -d '\r'
}

# Waits (bounded) until httpd answers at ADDR.
wait_http() {
        local k
        for k in $(seq 100); do
                get "$1" / >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        echo "no answer from $1" >&2
        return 1
}

# A maintenance change: a rw clone of image $1, mounted on the host, changed
# by the function $3, committed as $2.
maintain() {
        "$GOLDROOT" create maint-$$ --image "$1" --mode rw
        "$GOLDROOT" mount maint-$$ "$W/mnt"
        "$3" "$W/mnt"
        "$GOLDROOT" umount "$W/mnt"
        "$GOLDROOT" commit maint-$$ "$2" >/dev/null
        "$GOLDROOT" rm maint-$$
}

# v1: the site, and busybox httpd's configuration. The MIME line comes
# first, so that a line added at the end by a clone and a change of it by
# the next version merge without touching each other.
site_v1() {
        mkdir -p "$1/srv/www"
        # The instance's PID 1. The kernel ignores SIGTERM for a PID 1 that
        # has no handler, so httpd runs as its child and the trap ends both.
        cat >"$1/usr/local/sbin/fleet-httpd" <<'EOF'
#!/bin/sh
trap 'kill $pid; exit 0' TERM INT
busybox httpd -f -p 80 -h /srv/www -c /etc/httpd.conf &
pid=$!
wait $pid
EOF
        chmod 0755 "$1/usr/local/sbin/fleet-httpd"
        echo "fleet page v1" >"$1/srv/www/index.html"
        printf '%s\n' '.txt:text/plain' '# fleet web server (busybox httpd -c)' 'I:index.html' \
                >"$1/etc/httpd.conf"
}

# v2: a new page, and the configuration default for text changes.
site_v2() {
        echo "fleet page v2" >"$1/srv/www/index.html"
        sed -i 's|^\.txt:text/plain$|.txt:text/plain;charset=utf-8|' "$1/etc/httpd.conf"
}

@test "fleet: twenty Debian web servers on a bridge, upgraded with a local edit kept" {
        local tar n a
        tar=$(debian_bookworm_tar busybox)

        "$GOLDROOT" image import debian:base "$tar" >/dev/null
        "$GOLDROOT" image prep debian:base debian:gold >/dev/null
        maintain debian:gold debian:v1 site_v1
        # The gold really is Debian's busybox, and it has httpd. (debian:v1 is
        # a delta over the prepped gold: look through a mount.)
        root=$(image_mount debian:v1)
        [ -x "$root/bin/busybox" ]
        grep -q 'Debian' "$root/etc/os-release"
        [ "$(cut -d. -f1 "$root/etc/debian_version")" = 12 ]
        umount "$root"

        # The ro layout, with httpd under a small script as the instance's init.
        cat >"$W/fleet.profile" <<'EOF'
include  ro
set      init     /usr/local/sbin/fleet-httpd
set      network  bridge:br0
EOF
        for n in $(names); do
                in_ns "$GOLDROOT" create "$n" --image debian:v1 --profile "$W/fleet.profile" \
                        --ip "$(addr "$n")/24" --gateway 10.88.0.1
        done
        for n in $(names); do
                in_ns "$GOLDROOT" start "$n"
        done
        # Each one's own file, so an answer proves which instance gave it.
        for n in $(names); do
                in_ns "$GOLDROOT" exec "$n" -- sh -c "hostname >/srv/www/whoami.txt"
        done
        for n in $(names); do
                a=$(addr "$n")
                wait_http "$a"
                [ "$(get "$a" /)" = "fleet page v1" ]
                [ "$(get "$a" /whoami.txt)" = "$n" ]
                [ "$(content_type "$a" /whoami.txt)" = text/plain ]
        done
        # ro: the image cannot be written, even by root in the instance.
        run in_ns "$GOLDROOT" exec web01 -- touch /usr/foo
        [[ "$output" == *"Read-only file system"* ]]

        # One clone adds a MIME type to its httpd configuration.
        in_ns "$GOLDROOT" exec "$EDITED" -- sh -c \
                'echo ".fleet:text/x-fleet" >>/etc/httpd.conf; echo local >/srv/www/x.fleet'

        maintain debian:v1 debian:v2 site_v2
        run "$GOLDROOT" image diff debian:v1 debian:v2
        [ "$output" = "$(printf 'M /etc/httpd.conf\nM /srv/www/index.html')" ]

        # All twenty, each stopped, merged and started again on v2.
        run in_ns "$GOLDROOT" upgrade --all --to debian:v2 --policy merge --restart
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"merged /etc/httpd.conf"* ]]
        [ "$("$GOLDROOT" image links debian:v2 | wc -l)" -eq "$N" ]
        [ -z "$("$GOLDROOT" image links debian:v1)" ]

        for n in $(names); do
                a=$(addr "$n")
                wait_http "$a"
                [ "$(get "$a" /)" = "fleet page v2" ]
                [ "$(get "$a" /whoami.txt)" = "$n" ]
                # The new default, in every clone, the edited one included.
                [ "$(content_type "$a" /whoami.txt)" = "text/plain;charset=utf-8" ]
        done
        # The local edit survived where it was made, and only there.
        a=$(addr "$EDITED")
        [ "$(content_type "$a" /x.fleet)" = text/x-fleet ]
        run in_ns "$GOLDROOT" exec "$EDITED" -- cat /etc/httpd.conf
        [ "$output" = "$(printf '%s\n' '.txt:text/plain;charset=utf-8' \
                '# fleet web server (busybox httpd -c)' 'I:index.html' '.fleet:text/x-fleet')" ]
        run in_ns "$GOLDROOT" exec web01 -- grep -c fleet: /etc/httpd.conf
        [ "$output" = 0 ]
        [ -z "$(in_ns "$GOLDROOT" exec web01 -- find /etc -name '*.goldnew')" ]
}
