#!/usr/bin/env bats
# The paper's maintenance scenario, end to end, on the busybox image and on a
# real Debian minbase image: patch a maintenance instance, commit it as the
# next gold, move the gold tag, upgrade some clones, see the split, roll one
# back byte-exact, upgrade all, and drop the old gold.
load ../lib/common
load ../lib/images
load ../lib/instance
load ../lib/lifecycle

teardown() {
        instance_teardown
}

# scenario USRFILE ETCFILE ADDFILE RMFILE: the image is base:v1 in the store.
scenario() {
        local usrfile=$1 etcfile=$2 addfile=$3 rmfile=$4 n before v1

        v1=$("$GOLDROOT" image inspect --json base:v1 | jq -r .id)
        "$GOLDROOT" image tag base:v1 base:gold

        # 1. A rw maintenance instance of the gold, patched.
        "$GOLDROOT" create maint --image base:gold --mode rw
        lc_sh maint "echo patched-usr >$usrfile; echo patched-etc >>$etcfile;
                mkdir -p \$(dirname $addfile); echo added >$addfile; rm $rmfile"

        # 2. Committed as v2; a test instance of v2 checks the patch.
        run "$GOLDROOT" commit maint base:v2
        [ "$status" -eq 0 ]
        "$GOLDROOT" create check --image base:v2 --mode rw
        lc_sh check "grep -qx patched-usr $usrfile && grep -qx patched-etc $etcfile &&
                grep -qx added $addfile && ! test -e $rmfile"
        "$GOLDROOT" rm maint check

        # 3. The gold tag moves to v2.
        "$GOLDROOT" image tag base:v2 base:gold
        [ "$("$GOLDROOT" image inspect --json base:gold | jq -r .parent)" = "$v1" ]

        # 4. Three ro clones of v1, each with its own /etc edits; two upgraded.
        for n in web1 web2 web3; do
                "$GOLDROOT" create $n --image base:v1
                lc_sh $n "echo $n >/etc/role; echo '# $n' >>$etcfile"
        done
        before=$(lc_snapshot "$(lc_state web1)")
        run "$GOLDROOT" upgrade web1 web2 --to base:gold
        [ "$status" -eq 0 ]
        [[ "$output" == *"keep /etc/role (local addition)"* ]]
        [[ "$output" == *"conflict $etcfile: kept local, theirs in $etcfile.goldnew"* ]]
        for n in web1 web2; do
                lc_sh $n "grep -qx $n /etc/role && grep -qx patched-usr $usrfile &&
                        grep -qx added $addfile && ! test -e $rmfile &&
                        grep -qx '# $n' $etcfile && grep -qx patched-etc $etcfile.goldnew"
        done

        # 5. image links shows the split.
        [ "$("$GOLDROOT" image links base:v1)" = web3 ]
        [ "$("$GOLDROOT" image links base:gold | tr '\n' ' ')" = "web1 web2 " ]

        # 6. The old gold cannot go while web3 links it.
        run "$GOLDROOT" image rm base:v1
        [ "$status" -eq 1 ]
        [[ "$output" == *"web3"* ]]
        [[ "$output" != *"web1"* ]]

        # 7. web1 rolled back, byte-exact.
        "$GOLDROOT" rollback web1
        [ "$(lc_snapshot "$(lc_state web1)")" = "$before" ]
        [ "$("$GOLDROOT" image links base:v1 | tr '\n' ' ')" = "web1 web3 " ]
        lc_sh web1 "grep -qx web1 /etc/role && ! grep -q patched-usr $usrfile && test -e $rmfile"

        # 8. All upgraded.
        run "$GOLDROOT" upgrade --from base:v1 --to base:gold
        [ "$status" -eq 0 ]
        [[ "$output" == *"2 of 2 instances upgraded or current"* ]]
        [ -z "$("$GOLDROOT" image links base:v1)" ]
        lc_sh web3 "grep -qx web3 /etc/role && grep -qx patched-usr $usrfile"

        # 9. The old gold goes, and gc frees what only it used.
        run "$GOLDROOT" image rm base:v1
        [ "$status" -eq 0 ]
        run "$GOLDROOT" image gc
        [ "$status" -eq 0 ]
        [[ "$output" == "removed "[1-9]*" objects, freed "* ]]
        lc_sh web2 "grep -qx patched-usr $usrfile"
}

@test "the paper's scenario on the busybox image" {
        busybox_rootfs "$BATS_TEST_TMPDIR/bb" >/dev/null 2>&1
        rm -f "$BATS_TEST_TMPDIR/bb/srv/escape"
        "$GOLDROOT" image import base:v1 "$BATS_TEST_TMPDIR/bb" >/dev/null
        scenario /usr/bin/hello /etc/hosts /usr/local/bin/tool /etc/issue
}

@test "the paper's scenario on the Debian minbase image" {
        tarball=$(debian_minbase_tar)
        "$GOLDROOT" image import base:v1 "$tarball" >/dev/null
        scenario /usr/lib/os-release /etc/issue /usr/local/bin/tool /etc/motd
}
