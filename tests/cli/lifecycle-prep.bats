#!/usr/bin/env bats
# goldroot image prep: the sysprep operations into a new image version.
load ../lib/common
load ../lib/images
load ../lib/instance
load ../lib/lifecycle

setup_file() {
        instance_build_busybox
}

teardown() {
        image_umount_all
        instance_teardown
}

setup() {
        instance_import_busybox
        # A used machine: everything prep is meant to clean.
        lc_variant used 'mkdir -p etc/ssh var/lib/dhcp var/lib/systemd var/cache/apt/archives/partial \
                        etc/udev/rules.d var/tmp var/lib/dbus var/log/apt
                echo key >etc/ssh/ssh_host_ed25519_key; echo pub >etc/ssh/ssh_host_ed25519_key.pub
                echo keep >etc/ssh/sshd_config
                echo "lease 10.0.0.9" >var/lib/dhcp/dhclient.eth0.leases
                echo seed >var/lib/systemd/random-seed
                echo deb >var/cache/apt/archives/x.deb; echo bin >var/cache/apt/pkgcache.bin
                echo rule >etc/udev/rules.d/70-persistent-net.rules
                echo other >etc/udev/rules.d/99-local.rules
                echo "ls -la" >root/.ash_history; echo "vi" >home/user/.bash_history
                echo notes >home/user/notes.txt
                echo t >tmp/scratch; mkdir tmp/dir; echo t >tmp/dir/f; echo t >var/tmp/.hidden
                echo old >var/log/apt/history.log; echo login >var/log/wtmp; chmod 0664 var/log/wtmp
                cp etc/passwd etc/passwd-; cp etc/shadow etc/shadow-
                echo 0123456789abcdef0123456789abcdef >var/lib/dbus/machine-id'
}

@test "image prep --list names each operation and what it removes" {
        run "$GOLDROOT" image prep --list
        [ "$status" -eq 0 ]
        for op in machine-id ssh-host-keys logs dhcp-leases shell-history tmp-files \
                udev-net-rules package-caches random-seed passwd-backups; do
                grep -q "^$op " <<<"$output"
        done
        [[ "$output" == *'/etc/machine-id set to "uninitialized"'* ]]
        [ "$("$GOLDROOT" image prep --list --json | jq length)" -eq 10 ]
}

@test "image prep: every operation, into a new version whose parent is the image" {
        run "$GOLDROOT" image prep bb:used bb:clean
        [ "$status" -eq 0 ]
        # No systemd in the image: emptied, not systemd's "uninitialized".
        [[ "$output" == *"truncate /etc/machine-id (machine-id)"* ]]
        [[ "$output" == *"prepared bb:used as bb:clean ("*")"* ]]
        used=$("$GOLDROOT" image inspect --json bb:used | jq -r .id)
        [ "$("$GOLDROOT" image inspect --json bb:clean | jq -r .parent)" = "$used" ]
        run "$GOLDROOT" image diff bb:used bb:clean
        expected="M /etc/machine-id
D /etc/passwd-
D /etc/shadow-
D /etc/ssh/ssh_host_ed25519_key
D /etc/ssh/ssh_host_ed25519_key.pub
D /etc/udev/rules.d/70-persistent-net.rules
D /home/user/.bash_history
D /root/.ash_history
D /tmp/dir
D /tmp/dir/f
D /tmp/scratch
D /var/cache/apt/archives/x.deb
D /var/cache/apt/pkgcache.bin
D /var/lib/dbus/machine-id
D /var/lib/dhcp/dhclient.eth0.leases
D /var/lib/systemd/random-seed
D /var/log/apt/history.log
D /var/log/empty.log
D /var/tmp/.hidden
M /var/log/wtmp"
        [ "$(sort <<<"$output")" = "$(sort <<<"$expected")" ]
        root=$(image_mount bb:clean) # a delta over bb:1: look through a mount
        [ -f "$root/etc/machine-id" ] && [ ! -s "$root/etc/machine-id" ]
        [ "$(stat -c '%s %a' "$root/var/log/wtmp")" = "0 664" ]
        # What prep keeps: directories, configuration, user files.
        [ -d "$root/var/cache/apt/archives/partial" ] && [ -d "$root/tmp" ] && [ -d "$root/var/log/apt" ]
        [ "$(stat -c %a "$root/tmp")" = 1777 ]
        [ -e "$root/etc/ssh/sshd_config" ] && [ -e "$root/etc/udev/rules.d/99-local.rules" ]
        [ -e "$root/home/user/notes.txt" ] && [ -e "$root/etc/passwd" ]
}

@test "image prep --ops runs only the named operations; an unknown one is bad usage" {
        run "$GOLDROOT" image prep --ops ssh-host-keys,random-seed bb:used bb:clean
        [ "$status" -eq 0 ]
        run "$GOLDROOT" image diff bb:used bb:clean
        [ "$(sort <<<"$output" | tr '\n' ' ')" = "D /etc/ssh/ssh_host_ed25519_key D /etc/ssh/ssh_host_ed25519_key.pub D /var/lib/systemd/random-seed " ]
        run "$GOLDROOT" image prep --ops ssh-host-keys,bogus bb:used bb:clean2
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: image prep: unknown operation 'bogus' (see 'goldroot image prep --list')" ]
        run "$GOLDROOT" image prep bb:used
        [ "$status" -eq 2 ]
}

@test "an instance of a prepped image starts as a first boot, with its own id for systemd" {
        # A stand-in for systemd: prep and personalize look for the file.
        lc_variant usedsd 'mkdir -p usr/lib/systemd; cp bin/busybox usr/lib/systemd/systemd'
        run "$GOLDROOT" image prep bb:usedsd bb:cleansd
        [ "$status" -eq 0 ]
        [[ "$output" == *"rewrite /etc/machine-id (machine-id)"* ]]
        "$GOLDROOT" create web --image bb:cleansd
        "$GOLDROOT" start web -- /bin/sleep 1000
        # Left for systemd, which takes the instance's id from $container_uuid.
        [ "$(in_instance web cat /etc/machine-id)" = uninitialized ]
        uuid=$(in_instance web /bin/sh -c 'echo $container_uuid')
        [[ "$uuid" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
        "$GOLDROOT" stop --timeout 0 web
}

@test "without systemd, instances of a prepped image, or of one with 'uninitialized', get their own ids" {
        "$GOLDROOT" image prep bb:used bb:clean >/dev/null
        lc_variant uninit 'echo uninitialized >etc/machine-id'
        "$GOLDROOT" create web --image bb:clean
        "$GOLDROOT" create web2 --image bb:uninit
        "$GOLDROOT" start web -- /bin/sleep 1000
        "$GOLDROOT" start web2 -- /bin/sleep 1000
        a=$(in_instance web cat /etc/machine-id)
        b=$(in_instance web2 cat /etc/machine-id)
        [[ "$a" =~ ^[0-9a-f]{32}$ ]]
        [[ "$b" =~ ^[0-9a-f]{32}$ ]]
        [ "$a" != "$b" ]
        "$GOLDROOT" stop --timeout 0 web
        "$GOLDROOT" stop --timeout 0 web2
}
