#!/usr/bin/env bats
# goldroot create, ls, status, rm: names, the catalog link, disk use, and
# all-or-nothing creation and removal.
load ../lib/common
load ../lib/images
load ../lib/instance

bats_require_minimum_version 1.5.0

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
}

teardown() {
        instance_teardown
}

@test "create: an instance links its image; ls, ls -q, status" {
        "$GOLDROOT" create web1 --image bb:1 --ip 10.0.0.5/24 --set ROLE=web
        "$GOLDROOT" create --image bb:1 web2 --mode rw --hostname other
        run "$GOLDROOT" ls -q
        [ "$status" -eq 0 ]
        [ "$output" = "$(printf 'web1\nweb2')" ]
        run "$GOLDROOT" ls
        [ "${lines[0]}" = "$(printf '%-4s  %-8s  %7s  %-24s  %-8s  %s' NAME STATE PID IMAGE MODE UPTIME)" ]
        [[ "${lines[1]}" =~ ^web1\ +stopped\ +-\ +bb:1\ +ro\ +-$ ]]
        [[ "${lines[2]}" =~ ^web2\ +stopped\ +-\ +bb:1\ +rw\ +-$ ]]
        run "$GOLDROOT" status web2
        [ "$status" -eq 0 ]
        [[ "$output" == *"state:    stopped"* ]]
        [[ "$output" == *"hostname: other"* ]]
        [[ "$output" == *"(bb:1)"* ]]
        run "$GOLDROOT" image links bb:1
        [ "$output" = "$(printf 'web1\nweb2')" ]
        grep -qx 'set.ROLE=web' "$GOLDROOT_STORE/instances/web1/identity"
        grep -qx 'ip=10.0.0.5/24' "$GOLDROOT_STORE/instances/web1/identity"
}

@test "create: at most 16 KiB on disk before the first write, whatever the image's size" {
        "$GOLDROOT" create small --image bb:1
        [ "$(du -sk "$GOLDROOT_STORE/instances/small" | cut -f1)" -le 16 ]
        # A bigger image costs a clone nothing more.
        mkdir -p "$BATS_TEST_TMPDIR/big"
        cp -a "$BATS_FILE_TMPDIR/bb/." "$BATS_TEST_TMPDIR/big/"
        head -c 32M /dev/urandom >"$BATS_TEST_TMPDIR/big/usr/lib/blob"
        "$GOLDROOT" image import big:1 "$BATS_TEST_TMPDIR/big" >/dev/null
        "$GOLDROOT" create large --image big:1
        [ "$(du -sk "$GOLDROOT_STORE/instances/large" | cut -f1)" -le 16 ]
}

@test "create: bad names are refused with exit 2 and one line" {
        local name long
        long=$(printf 'a%.0s' {1..65})
        for name in "a/b" ".." "a..b" "$long" ".hidden" "sp ace" "caf$(printf '\351')"; do
                run "$GOLDROOT" create "$name" --image bb:1
                [ "$status" -eq 2 ]
                [ "${#lines[@]}" -eq 1 ]
                [[ "$output" == "goldroot: create $name: invalid instance name: "* ]]
        done
        # Anything starting with '-' is an option to getopt.
        run "$GOLDROOT" create -x --image bb:1
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        run "$GOLDROOT" create "a/b" --image bb:1
        [ "$output" = "goldroot: create a/b: invalid instance name: it contains '/'" ]
        run "$GOLDROOT" create "$long" --image bb:1
        [[ "$output" == *"longer than 64 characters" ]]
        run "$GOLDROOT" create a..b --image bb:1
        [[ "$output" == *"it contains '..'" ]]
        # 64 is fine.
        "$GOLDROOT" create "${long:1}" --hostname h64 --image bb:1
        run "$GOLDROOT" ls -q
        [ "$output" = "${long:1}" ]
        [ ! -e "$GOLDROOT_STORE/instances/a" ]
}

@test "create: bad options are usage errors" {
        run "$GOLDROOT" create web1
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: create: web1: --image IMG is required" ]
        run "$GOLDROOT" create web1 --image bb:1 --ip 10.0.0.5
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: create web1: bad --ip '10.0.0.5' (expected ADDR/PREFIX)" ]
        run "$GOLDROOT" create web1 --image bb:1 --ip 10.0.0.5/24 --gateway fd00::1
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: create web1: bad --gateway 'fd00::1': not of the family of --ip '10.0.0.5/24'" ]
        run "$GOLDROOT" create web1 --image bb:1 --ip fd00::5/64 --gateway 10.0.0.1
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: create web1: bad --gateway '10.0.0.1': not of the family of --ip 'fd00::5/64'" ]
        run "$GOLDROOT" run --rm --name r1 --ip 10.0.0.5/24 --gateway fd00::1 bb:1 -- true
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: run r1: bad --gateway 'fd00::1': not of the family of --ip '10.0.0.5/24'" ]
        run "$GOLDROOT" create web1 --image bb:1 --mode rx
        [ "$status" -eq 2 ]
        run "$GOLDROOT" create web1 --image bb:1 --net bridge:
        [ "$status" -eq 2 ]
        run "$GOLDROOT" create web1 --image bb:1 --set 1=a
        [ "$status" -eq 2 ]
        run "$GOLDROOT" create web_1 --image bb:1
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: create web_1: the name is not a valid hostname: give --hostname" ]
        run "$GOLDROOT" create web1 --image nosuch:1
        [ "$status" -eq 1 ]
        printf 'root image - / bogus\n' >"$BATS_TEST_TMPDIR/bad.profile"
        run "$GOLDROOT" create web1 --image bb:1 --profile "$BATS_TEST_TMPDIR/bad.profile"
        [ "$status" -eq 2 ]
        [[ "$output" == *"bad.profile:1:"* ]]
        run "$GOLDROOT" ls -q
        [ -z "$output" ]
        [ -z "$(ls -A "$GOLDROOT_STORE/instances")" ]
}

@test "create, run: --set of a variable goldroot sets itself is refused" {
        local key
        for key in NAME HOSTNAME IP GATEWAY DNS; do
                run "$GOLDROOT" create web1 --image bb:1 --set "$key=evil"
                [ "$status" -eq 2 ]
                [ "$output" = "goldroot: create web1: bad --set '$key': GOLDROOT_$key is reserved (goldroot sets it itself)" ]
                run "$GOLDROOT" run --rm --name r1 --set "$key=evil" bb:1 -- true
                [ "$status" -eq 2 ]
                [ "$output" = "goldroot: run r1: bad --set '$key': GOLDROOT_$key is reserved (goldroot sets it itself)" ]
        done
        run "$GOLDROOT" ls -q
        [ -z "$output" ]
        # Others still work, and names differ in case.
        run "$GOLDROOT" run --rm --name r1 --set ROLE=web --set name=x bb:1 -- sh -c 'echo $GOLDROOT_ROLE $GOLDROOT_name $GOLDROOT_NAME'
        [ "$status" -eq 0 ]
        [ "$output" = "web x r1" ]
        # An identity written before: the built-in values win.
        "$GOLDROOT" create web1 --image bb:1 --ip 10.0.0.5/24
        printf 'set.HOSTNAME=evil\nset.IP=1.2.3.4\n' >>"$GOLDROOT_STORE/instances/web1/identity"
        "$GOLDROOT" start web1 -- sleep 1000
        run "$GOLDROOT" exec web1 -- sh -c 'env | grep -c evil; echo $GOLDROOT_HOSTNAME $GOLDROOT_IP'
        [ "${lines[0]}" = 0 ]
        [ "${lines[1]}" = "web1 10.0.0.5/24" ]
}

@test "create, run: an identity over 64 KiB is refused; ls lists an instance whose identity it cannot read" {
        local v
        v=$(head -c 70000 /dev/zero | tr '\0' a)
        run "$GOLDROOT" create big --image bb:1 --set "K=$v"
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: create big: the identity would be larger than 65536 bytes (its --set values are too long)" ]
        run "$GOLDROOT" run --rm --name big --set "K=$v" bb:1 -- true
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [ ! -e "$GOLDROOT_STORE/instances/big" ]
        # Just under the bound is fine.
        "$GOLDROOT" create big --image bb:1 --set "K=${v:0:50000}"
        "$GOLDROOT" status big >/dev/null

        # One made too large behind goldroot's back: ls still lists every
        # instance, it too, and says what is wrong with it.
        "$GOLDROOT" create web1 --image bb:1
        printf 'set.L=%s\n' "$v" >>"$GOLDROOT_STORE/instances/big/identity"
        run --separate-stderr "$GOLDROOT" ls
        [ "$status" -eq 1 ]
        [ "$stderr" = "goldroot: instance big: cannot read its identity: File too large" ]
        [ "${#lines[@]}" -eq 3 ]
        [[ "${lines[1]}" =~ ^big\ +stopped ]]
        [[ "${lines[2]}" =~ ^web1\ +stopped ]]
        run --separate-stderr "$GOLDROOT" ls --json
        [ "$status" -eq 1 ]
        [ "$(jq -c '[.[] | [.name, .hostname]]' <<<"$output")" = '[["big",null],["web1","web1"]]' ]
        # A damaged one the same.
        printf 'bogus\n' >"$GOLDROOT_STORE/instances/big/identity"
        run --separate-stderr "$GOLDROOT" ls -q
        [ "$output" = "$(printf 'big\nweb1')" ]
        run --separate-stderr "$GOLDROOT" ls
        [ "$status" -eq 1 ]
        [[ "${lines[2]}" =~ ^web1\ +stopped ]]
        "$GOLDROOT" rm big
}

@test "create --profile NAME records the file found on the search path" {
        mkdir -p "$BATS_TEST_TMPDIR/site" "$BATS_TEST_TMPDIR/elsewhere"
        printf 'root image - / ro\n' >"$BATS_TEST_TMPDIR/site/bare.profile"
        cd "$BATS_TEST_TMPDIR/elsewhere"
        GOLDROOT_PROFILE_DIR="$BATS_TEST_TMPDIR/site" "$GOLDROOT" create web1 --image bb:1 --profile bare
        grep -qx "profile=$BATS_TEST_TMPDIR/site/bare.profile" "$GOLDROOT_STORE/instances/web1/identity"
        "$GOLDROOT" create web2 --image bb:1 --profile rw
        grep -qx "profile=.*/rw.profile" "$GOLDROOT_STORE/instances/web2/identity"
        run "$GOLDROOT" create web3 --image bb:1 --profile nosuch
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: cannot find profile 'nosuch': no such file here or on the profile search path" ]
}

@test "create: an existing name fails and is left untouched" {
        "$GOLDROOT" create web1 --image bb:1 --hostname first
        local before
        before=$(cat "$GOLDROOT_STORE/instances/web1/identity")
        touch "$GOLDROOT_STORE/instances/web1/state/mine"
        run "$GOLDROOT" create web1 --image bb:1 --hostname second
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: create web1: an instance of that name exists: pick another name, or remove it first ('goldroot rm web1')" ]
        [ "$(cat "$GOLDROOT_STORE/instances/web1/identity")" = "$before" ]
        [ -e "$GOLDROOT_STORE/instances/web1/state/mine" ]
}

@test "create: several names in one command, each with its own identity; all or none" {
        "$GOLDROOT" create web1 web2 web3 --image bb:1 --mode rw --set ROLE=web
        [ "$("$GOLDROOT" ls -q | tr '\n' ' ')" = "web1 web2 web3 " ]
        for n in web1 web2 web3; do
                grep -qx "hostname=$n" "$GOLDROOT_STORE/instances/$n/identity"
                grep -qx "mode=rw" "$GOLDROOT_STORE/instances/$n/identity"
                grep -qx "set.ROLE=web" "$GOLDROOT_STORE/instances/$n/identity"
        done
        # Every instance has its own machine id.
        [ "$(cat "$GOLDROOT_STORE"/instances/web*/identity | grep -c '^machine_id=')" = 3 ]
        [ "$(cat "$GOLDROOT_STORE"/instances/web*/identity | grep '^machine_id=' | sort -u | wc -l)" = 3 ]

        # One existing name: nothing is created, the existing one is untouched.
        touch "$GOLDROOT_STORE/instances/web2/state/mine"
        run "$GOLDROOT" create db1 web2 db2 --image bb:1
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: create web2: an instance of that name exists: nothing was created" ]
        [ "$("$GOLDROOT" ls -q | tr '\n' ' ')" = "web1 web2 web3 " ]
        [ ! -e "$GOLDROOT_STORE/instances/db1" ]
        [ -e "$GOLDROOT_STORE/instances/web2/state/mine" ]

        # A name twice, a bad name among good ones, one address for several.
        run "$GOLDROOT" create db1 db1 --image bb:1
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: create: db1: name given twice" ]
        run "$GOLDROOT" create db1 'bad/name' --image bb:1
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        run "$GOLDROOT" create db1 db2 --ip 10.0.0.5/24 --image bb:1
        [ "$status" -eq 2 ]
        [[ "$output" == "goldroot: create: --hostname and --ip name one instance"* ]]
        [ "$("$GOLDROOT" ls -q | tr '\n' ' ')" = "web1 web2 web3 " ]
}

@test "create: several names, and the third cannot be made: the first two are removed again" {
        # A mount on the third name's leftover directory makes its creation
        # fail after the first two were made (in a private mount namespace).
        mkdir -p "$GOLDROOT_STORE/instances/db3"
        run unshare -m --propagation private bash -c '
                mount -t tmpfs busy "$GOLDROOT_STORE/instances/db3"
                "$GOLDROOT" create db1 db2 db3 db4 --image bb:1
        '
        [ "$status" -eq 1 ]
        [[ "$output" == *"create db3: cannot remove a leftover directory"* ]]
        run "$GOLDROOT" ls -q
        [ -z "$output" ]
        [ ! -e "$GOLDROOT_STORE/instances/db1" ]
        [ ! -e "$GOLDROOT_STORE/instances/db2" ]
        [ ! -e "$GOLDROOT_STORE/instances/db4" ]
        # Only the test's own leftover is left, and then the store is clean.
        rmdir "$GOLDROOT_STORE/instances/db3"
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
}

@test "create: several names and a crash part-way: each instance is whole or absent, the next commands repair and finish" {
        # After the first instance's commit: it is there, whole; the others are not.
        GOLDROOT_CRASH_AT=create-after-commit run "$GOLDROOT" create db1 db2 db3 --image bb:1
        [ "$status" -eq 137 ]
        [ "$("$GOLDROOT" ls -q | tr '\n' ' ')" = "db1 " ]
        [ -s "$GOLDROOT_STORE/instances/db1/identity" ]
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
        # Before the first commit: nothing counts, and the leftover goes.
        GOLDROOT_CRASH_AT=instance-create-before-commit run "$GOLDROOT" create db2 db3 --image bb:1
        [ "$status" -eq 137 ]
        [ "$("$GOLDROOT" ls -q | tr '\n' ' ')" = "db1 " ]
        [ ! -e "$GOLDROOT_STORE/instances/db2" ]
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
        # Run again, the command completes.
        "$GOLDROOT" create db2 db3 --image bb:1
        [ "$("$GOLDROOT" ls -q | tr '\n' ' ')" = "db1 db2 db3 " ]
        run "$GOLDROOT" fsck
        [ "$status" -eq 0 ]
}

@test "create: several names, one of them a symlink out of the store: refused, nothing followed, fsck sets it aside" {
        canary=$BATS_TEST_TMPDIR/canary
        mkdir -p "$canary" "$GOLDROOT_STORE/instances"
        echo keep >"$canary/file"
        ln -s "$canary" "$GOLDROOT_STORE/instances/db2"
        run "$GOLDROOT" create db1 db2 db3 --image bb:1
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: create db2: instances/db2 is not a directory goldroot made: 'goldroot fsck --repair' moves it to lost+found" ]
        # Nothing was created, nothing behind the link was touched.
        run "$GOLDROOT" ls -q
        [ -z "$output" ]
        [ "$(ls -A "$canary")" = file ]
        [ "$(cat "$canary/file")" = keep ]
        "$GOLDROOT" fsck --repair >/dev/null 2>&1 || true
        [ ! -e "$GOLDROOT_STORE/instances/db2" ] && [ ! -L "$GOLDROOT_STORE/instances/db2" ]
        [ "$(ls -A "$canary")" = file ]
        "$GOLDROOT" create db1 db2 db3 --image bb:1
        [ "$("$GOLDROOT" ls -q | tr '\n' ' ')" = "db1 db2 db3 " ]
}

@test "create: a crash before the catalog commit leaves nothing that counts" {
        GOLDROOT_CRASH_AT=instance-create-before-commit run "$GOLDROOT" create web1 --image bb:1
        [ "$status" -eq 137 ]
        [ -d "$GOLDROOT_STORE/instances/web1" ]
        run "$GOLDROOT" ls -q
        [ -z "$output" ]
        # ls cleaned the leftover directory up.
        [ ! -e "$GOLDROOT_STORE/instances/web1" ]
        "$GOLDROOT" create web1 --image bb:1
}

@test "rm: removes the row and the directory; image rm is refused while linked" {
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" create web2 --image bb:1
        run "$GOLDROOT" image rm bb:1
        [ "$status" -eq 1 ]
        [[ "$output" == *"linked by web1, web2"* ]]
        "$GOLDROOT" rm web1
        [ ! -e "$GOLDROOT_STORE/instances/web1" ]
        run "$GOLDROOT" image links bb:1
        [ "$output" = web2 ]
        run "$GOLDROOT" rm web1
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: instance web1: no such instance" ]
        "$GOLDROOT" rm web2
        "$GOLDROOT" image rm bb:1
}

@test "rm: several names; a missing, running or assembled one removes none of them" {
        local d=$BATS_TEST_TMPDIR/asm n
        for n in a b c; do "$GOLDROOT" create "$n" --image bb:1; done
        run -1 "$GOLDROOT" rm a nosuch b
        [ "$output" = "goldroot: instance nosuch: no such instance" ]
        run -0 "$GOLDROOT" ls -q
        [ "$output" = "$(printf 'a\nb\nc')" ]

        "$GOLDROOT" start c -- sleep 1000
        run -1 "$GOLDROOT" rm a b c
        [ "$output" = "goldroot: rm c: the instance is running: stop it first or use --force" ]
        run -0 "$GOLDROOT" ls -q
        [ "$output" = "$(printf 'a\nb\nc')" ]
        "$GOLDROOT" stop c

        mkdir "$d"
        "$GOLDROOT" mount b "$d"
        run -1 "$GOLDROOT" rm --force a b c
        "$GOLDROOT" umount "$d"
        [ "$output" = "goldroot: rm b: the instance is assembled on $d by goldroot mount (goldroot umount it first)" ]
        run -0 "$GOLDROOT" ls -q
        [ "$output" = "$(printf 'a\nb\nc')" ]

        # All good (a name twice is one instance): all go.
        "$GOLDROOT" start c -- sleep 1000
        "$GOLDROOT" rm --force a b c a
        run -0 "$GOLDROOT" ls -q
        [ -z "$output" ]
        [ -z "$(ls -A "$GOLDROOT_STORE/instances")" ]
}

@test "rm: all or nothing across a crash on either side of the commit" {
        "$GOLDROOT" create web1 --image bb:1
        GOLDROOT_CRASH_AT=instance-rm-before-commit run "$GOLDROOT" rm web1
        [ "$status" -eq 137 ]
        # Not committed: the instance is still whole.
        run "$GOLDROOT" ls -q
        [ "$output" = web1 ]
        [ -e "$GOLDROOT_STORE/instances/web1/identity" ]

        GOLDROOT_CRASH_AT=instance-rm-after-commit run "$GOLDROOT" rm web1
        [ "$status" -eq 137 ]
        # Committed: the instance is gone, and its directory with the next command.
        [ -d "$GOLDROOT_STORE/instances/web1" ]
        run "$GOLDROOT" ls -q
        [ -z "$output" ]
        [ -z "$(ls -A "$GOLDROOT_STORE/instances")" ]
}

@test "ls --json and status --json" {
        "$GOLDROOT" create web1 --image bb:1 --ip 10.0.0.5/24 --net none
        run "$GOLDROOT" ls --json
        [ "$status" -eq 0 ]
        [ "$(jq -r '.[0].name' <<<"$output")" = web1 ]
        [ "$(jq -r '.[0].state' <<<"$output")" = stopped ]
        [ "$(jq -r '.[0].pid' <<<"$output")" = null ]
        [ "$(jq -r '.[0].image_ref' <<<"$output")" = bb:1 ]
        [ "$(jq -r '.[0].ip' <<<"$output")" = 10.0.0.5/24 ]
        run "$GOLDROOT" status --json web1
        [ "$(jq -r '.mode' <<<"$output")" = ro ]
        [ "$(jq -r '.net' <<<"$output")" = none ]
        [ "$(jq -r '.image | length' <<<"$output")" -eq 64 ]
}
