#!/usr/bin/env bats
# goldroot oci-bundle: an instance as an OCI runtime bundle, started by
# Debian's runc. The bundle's mounts are the instance's own profile over its
# own image and state, so what runc's container writes is the instance's.
load ../lib/common
load ../lib/images
load ../lib/instance

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
        # runc's own state, and container ids no parallel run shares.
        RUNC_ROOT=$BATS_TEST_TMPDIR/runc
        CID=gr-oci-$$-$BATS_TEST_NUMBER
        BUNDLE=$BATS_TEST_TMPDIR/bundle
}

teardown() {
        runc --root "$RUNC_ROOT" delete --force "$CID" >/dev/null 2>&1 || true
        instance_teardown
}

runc_run() {
        (cd "$BUNDLE" && runc --root "$RUNC_ROOT" run "$CID")
}

@test "oci-bundle: runc runs the ro instance: hostname, writable state, read-only /usr" {
        "$GOLDROOT" create web1 --image bb:1 --hostname web1.example
        run "$GOLDROOT" oci-bundle web1 "$BUNDLE" -- sh -c '
                hostname
                echo from-runc >/etc/runc-note
                echo var >/var/runc-var
                echo tmp >/tmp/runc-tmp
                touch /usr/runc-usr 2>&1
                touch /runc-root 2>&1
                mount -o remount,rw /usr 2>/dev/null || true
                touch /usr/runc-usr2 2>&1
                grep CapBnd /proc/self/status'
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        [ -d "$BUNDLE/rootfs" ]
        [ -z "$(ls -A "$BUNDLE/rootfs")" ]
        jq -e '.ociVersion | startswith("1.0.")' "$BUNDLE/config.json"
        [ "$(jq -r .root.path "$BUNDLE/config.json")" = rootfs ]
        [ "$(jq -r .root.readonly "$BUNDLE/config.json")" = true ]

        run runc_run
        echo "$output"
        [ "${lines[0]}" = web1.example ]
        [[ "$output" == *"/usr/runc-usr: Read-only file system"* ]]
        [[ "$output" == *"/runc-root: Read-only file system"* ]]
        [[ "$output" == *"/usr/runc-usr2: Read-only file system"* ]]
        runc_bnd=$(grep CapBnd <<<"$output")

        # The writes landed in the instance's state, where start finds them.
        state=$GOLDROOT_STORE/instances/web1/state
        [ "$(cat "$state/root/etc/runc-note")" = from-runc ]
        [ ! -e "$state/root/tmp/runc-tmp" ]
        [ ! -e "$state/root/usr/runc-usr" ]
        "$GOLDROOT" start web1 -- sleep 1000
        [ "$("$GOLDROOT" exec web1 -- cat /etc/runc-note)" = from-runc ]
        [ "$("$GOLDROOT" exec web1 -- cat /var/runc-var)" = var ]
        run "$GOLDROOT" exec web1 -- test -e /tmp/runc-tmp
        [ "$status" -eq 1 ]
        [ "$("$GOLDROOT" exec web1 -- hostname)" = web1.example ]
        # The same machine id: the bundle was personalized as start would.
        [ "$("$GOLDROOT" exec web1 -- cat /etc/machine-id)" != "$IMAGE_MACHINE_ID" ]
        # runc gave the process the capability bounding set goldroot gives.
        [ "$("$GOLDROOT" exec web1 -- grep CapBnd /proc/self/status)" = "$runc_bnd" ]
}

@test "oci-bundle: config.json carries the profile's mounts, namespaces and init" {
        "$GOLDROOT" create web2 --image bb:1
        "$GOLDROOT" oci-bundle web2 "$BUNDLE"
        c=$BUNDLE/config.json
        [ "$(jq -c .process.args "$c")" = '["/sbin/init"]' ]
        [ "$(jq -r .hostname "$c")" = web2 ]
        jq -e '.process.env | index("GOLDROOT_NAME=web2")' "$c"
        # / is the instance's overlay, made read-only by the runtime.
        [ "$(jq -r '.mounts[0].destination' "$c")" = / ]
        [ "$(jq -r '.mounts[0].type' "$c")" = overlay ]
        [[ "$(jq -r '.mounts[0].options[0]' "$c")" == *"upperdir=$GOLDROOT_STORE/instances/web2/state/root,"* ]]
        # The writable parts, in the profile's order, then tmpfs and the ro dpkg bind.
        [ "$(jq -r '[.mounts[] | .destination] | join(" ")' "$c")" = \
                "/ /etc /var /root /srv /home /tmp /run /var/lib/dpkg /proc /dev /dev/pts /dev/shm /dev/mqueue /sys" ]
        [ "$(jq -r '.mounts[] | select(.destination == "/etc") | .source' "$c")" = "$BUNDLE/rootfs/etc" ]
        [ "$(jq -r '.mounts[] | select(.destination == "/var/lib/dpkg") | .options | join(",")' "$c")" = rbind,ro ]
        [ "$(jq -r '.mounts[] | select(.destination == "/tmp") | .options | join(",")' "$c")" = nosuid,nodev,mode=1777 ]
        [ "$(jq -r '[.linux.namespaces[].type] | sort | join(" ")' "$c")" = "cgroup ipc mount network pid uts" ]
        jq -e '.linux.maskedPaths | index("/proc/kcore")' "$c"
        jq -e '.process.capabilities.bounding | index("CAP_MKNOD") | not' "$c"
        jq -e '.process.capabilities.bounding | index("CAP_NET_BIND_SERVICE")' "$c"

        # --net host: no network namespace.
        "$GOLDROOT" create web3 --image bb:1 --net host
        "$GOLDROOT" oci-bundle web3 "$BATS_TEST_TMPDIR/b3" -- true
        [ "$(jq -r '[.linux.namespaces[].type] | sort | join(" ")' "$BATS_TEST_TMPDIR/b3/config.json")" = \
                "cgroup ipc mount pid uts" ]
}

@test "oci-bundle: a rw instance writes /usr into its state" {
        "$GOLDROOT" create maint --image bb:1 --mode rw
        "$GOLDROOT" oci-bundle maint "$BUNDLE" -- sh -c 'echo patched >/usr/patched; hostname'
        [ "$(jq -r .root.readonly "$BUNDLE/config.json")" = false ]
        run runc_run
        [ "$status" -eq 0 ]
        [ "$output" = maint ]
        [ "$(cat "$GOLDROOT_STORE/instances/maint/state/root/usr/patched")" = patched ]
        run "$GOLDROOT" diff maint
        [[ "$output" == *"A /usr/patched"* ]]
}

@test "oci-bundle: what a bundle cannot express is one clear line, and nothing is left" {
        cat >"$BATS_TEST_TMPDIR/seeded.profile" <<'EOF'
root    image    -        /       ro
etc     tmpfs    -        /etc    copy,size=1M
set     init     /sbin/init
EOF
        "$GOLDROOT" create seeded --image bb:1 --profile "$BATS_TEST_TMPDIR/seeded.profile"
        run "$GOLDROOT" oci-bundle seeded "$BUNDLE"
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: oci-bundle seeded: entry 'etc': tmpfs copy (seeding from underneath) cannot be expressed in an OCI bundle" ]
        [ ! -e "$BUNDLE" ]

        "$GOLDROOT" create vol --image bb:1 --mode volatile
        run "$GOLDROOT" oci-bundle vol "$BUNDLE"
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: oci-bundle vol: entry 'root': an overlay with upper=tmpfs cannot be expressed in an OCI bundle" ]
        [ ! -e "$BUNDLE" ]

        "$GOLDROOT" create bridged --image bb:1 --net bridge:grbr$$ --ip 10.9.0.2/24
        run "$GOLDROOT" oci-bundle bridged "$BUNDLE"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == "goldroot: oci-bundle bridged: network bridge:grbr$$ cannot be expressed"* ]]
        [ ! -e "$BUNDLE" ]

        "$GOLDROOT" create busy --image bb:1
        "$GOLDROOT" start busy -- sleep 1000
        run "$GOLDROOT" oci-bundle busy "$BUNDLE"
        [ "$status" -eq 1 ]
        [[ "$output" == "goldroot: oci-bundle busy: the instance is running (pid "* ]]

        run "$GOLDROOT" oci-bundle nosuch "$BUNDLE"
        [ "$status" -eq 1 ]
        [[ "$output" == *"no such instance"* ]]
        run "$GOLDROOT" oci-bundle busy
        [ "$status" -eq 2 ]
}

@test "oci-bundle: a symlink in the state that a runtime would follow is refused" {
        "$GOLDROOT" create evil --image bb:1
        "$GOLDROOT" personalize evil
        state=$GOLDROOT_STORE/instances/evil/state
        # As if the instance (in rw mode, say) had made /var a link to the host's /etc.
        mkdir -p "$state/root"
        rm -rf "$state/root/var"
        ln -s /etc "$state/root/var"
        run "$GOLDROOT" oci-bundle evil "$BUNDLE"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == "goldroot: oci-bundle evil: entry 'var': state:/root/var is or crosses a symlink"* ]]
        [ ! -e "$BUNDLE/config.json" ]
}
