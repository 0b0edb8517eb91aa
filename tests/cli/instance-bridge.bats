#!/usr/bin/env bats
# --net bridge:BR: a veth pair per instance with its static address. All of it
# happens inside a network namespace the test makes, never the host's.
load ../lib/common
load ../lib/images
load ../lib/instance

setup_file() {
        instance_build_busybox
}

setup() {
        NS=gr-test-$$-$BATS_TEST_NUMBER
        ip netns add "$NS"
        ip netns exec "$NS" ip link add br0 type bridge
        ip netns exec "$NS" ip link set br0 up
        instance_import_busybox
}

teardown() {
        instance_teardown
        ip netns del "$NS"
}

in_ns() {
        ip netns exec "$NS" "$@"
}

@test "bridge: two instances answer each other's ping at their configured addresses" {
        in_ns "$GOLDROOT" create a --image bb:1 --net bridge:br0 --ip 10.77.0.2/24 --gateway 10.77.0.1
        in_ns "$GOLDROOT" create b --image bb:1 --net bridge:br0 --ip 10.77.0.3/24
        in_ns "$GOLDROOT" start a -- sleep 1000
        in_ns "$GOLDROOT" start b -- sleep 1000

        run in_ns "$GOLDROOT" exec a -- ip -4 -o addr show dev eth0
        [[ "$output" == *"inet 10.77.0.2/24"* ]]
        run in_ns "$GOLDROOT" exec a -- ip route
        [[ "$output" == *"default via 10.77.0.1"* ]]
        in_ns "$GOLDROOT" exec a -- ping -c1 -W2 10.77.0.3
        in_ns "$GOLDROOT" exec b -- ping -c1 -W2 10.77.0.2
        # The host's network namespace has neither the bridge nor the veths.
        ! ip link show br0 2>/dev/null
        [ "$(in_ns ip -o link show master br0 | wc -l)" -eq 2 ]

        # Their peers go with them. The kernel dismantles a dead network
        # namespace from a work queue, so the veths vanish shortly after stop:
        # wait for that (bounded), then assert.
        in_ns "$GOLDROOT" stop a
        in_ns "$GOLDROOT" stop b
        local n
        for n in $(seq 100); do
                [ "$(in_ns ip -o link show master br0 | wc -l)" -eq 0 ] && break
                sleep 0.1
        done
        [ "$(in_ns ip -o link show master br0 | wc -l)" -eq 0 ]
}

@test "net none: only loopback; net host: the caller's interfaces" {
        in_ns ip link add gr-probe0 type veth peer name gr-probe1
        in_ns "$GOLDROOT" create lonely --image bb:1
        in_ns "$GOLDROOT" create shared --image bb:1 --net host
        in_ns "$GOLDROOT" start lonely -- sleep 1000
        in_ns "$GOLDROOT" start shared -- sleep 1000
        run in_ns "$GOLDROOT" exec lonely -- ip -o link
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == *": lo: "* ]]
        run in_ns "$GOLDROOT" exec shared -- ip -o link
        [[ "$output" == *gr-probe0* ]]
}
