#!/usr/bin/env bats
# goldroot plan: the ordered plan and the dependency graph of a profile, as a
# user sees them, and the one-line errors for bad profiles and bad usage.
load ../lib/common

setup() {
        P="$BATS_TEST_TMPDIR/profiles"
        mkdir -p "$P"
        cat >"$P/web.profile" <<'PROFILE'
# NAME    TYPE     SOURCE               TARGET          OPTIONS
log       bind     logs:share/%n/log    /var/log        rw,create
root      image    -                    /               ro
etc       overlay  image:/etc           /etc            upper=state:etc
tmp       tmpfs    -                    /tmp            size=64M,mode=1777
dpkg      bind     image:/var/lib/dpkg  /var/lib/dpkg   ro,optional
PROFILE
        cat >"$P/logs.profile" <<'PROFILE'
area      tmpfs    -                    /srv/logs       size=16M
share     bind     logs:area/share      /srv/share      create
PROFILE
}

@test "plan --profile prints one line per mount, in dependency order" {
        run "$GOLDROOT" plan --profile "$P/web.profile"
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -eq 7 ]
        [[ "${lines[0]}" =~ ^1\ +root\ +bind\ +image:/\ +-\>\ /\ +ro$ ]]
        [[ "${lines[1]}" =~ ^2\ +etc\ +overlay\ +image:/etc\ +-\>\ /etc\ +rw,upper=state:/etc,work=state:/.work/etc$ ]]
        [[ "${lines[2]}" =~ ^3\ +tmp\ +tmpfs\ +tmpfs\ +-\>\ /tmp\ +rw,size=64M,mode=1777$ ]]
        [[ "${lines[3]}" =~ ^4\ +dpkg\ +bind\ +image:/var/lib/dpkg\ +-\>\ /var/lib/dpkg\ +ro,optional$ ]]
        [[ "${lines[4]}" =~ ^5\ +logs:area\ +tmpfs\ +tmpfs\ +-\>\ host:/srv/logs\ +rw,size=16M,shared$ ]]
        [[ "${lines[5]}" =~ ^6\ +logs:share\ +bind\ +host:/srv/logs/share\ +-\>\ host:/srv/share\ +rw,create,shared$ ]]
        # %n defaults to the profile's name.
        [[ "${lines[6]}" =~ ^7\ +log\ +bind\ +host:/srv/share/web/log\ +-\>\ /var/log\ +rw,create$ ]]
}

@test "plan columns line up" {
        run "$GOLDROOT" plan --profile "$P/web.profile"
        [ "$status" -eq 0 ]
        arrow=$(awk '{ print index($0, " -> ") }' <<<"$output" | sort -u)
        [ "$(wc -l <<<"$arrow")" -eq 1 ]
}

@test "--name, --hostname and --image-id fill the placeholders" {
        cat >"$P/ph.profile" <<'PROFILE'
a         bind     state:%n             /srv/%h/%i      ro
PROFILE
        run "$GOLDROOT" plan --profile "$P/ph.profile" --name web7 --hostname h7.example --image-id 0abc
        [ "$status" -eq 0 ]
        [[ "$output" =~ ^1\ +a\ +bind\ +state:/web7\ +-\>\ /srv/h7.example/0abc\ +ro$ ]]
}

@test "%i without --image-id is an error at its column, exit 2" {
        printf 'a tmpfs - /srv/%%i\n' >"$P/noid.profile"
        run "$GOLDROOT" plan --profile "$P/noid.profile"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "$output" = "goldroot: $P/noid.profile:1:16: placeholder '%i' has no value: no image id" ]
}

@test "--dot prints a graph that dot accepts" {
        run "$GOLDROOT" plan --profile "$P/web.profile" --dot
        [ "$status" -eq 0 ]
        [[ "$output" == "digraph goldroot {"* ]]
        [[ "$output" == *'subgraph "cluster_1_logs"'* ]]
        [[ "$output" == *'[label="nest"]'* ]]
        [[ "$output" == *'[label="ref"]'* ]]
        "$GOLDROOT" plan --profile "$P/web.profile" --dot | dot -Tsvg >"$BATS_TEST_TMPDIR/g.svg"
        grep -q '<svg' "$BATS_TEST_TMPDIR/g.svg"
        grep -q 'logs:share' "$BATS_TEST_TMPDIR/g.svg"
}

@test "a dependency cycle exits 2 with one line naming the whole cycle" {
        cat >"$P/cycle.profile" <<'PROFILE'
a         tmpfs    -                    /a              after=b
b         tmpfs    -                    /b              after=c
c         tmpfs    -                    /c              after=a
PROFILE
        run "$GOLDROOT" plan --profile "$P/cycle.profile"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "$output" = "goldroot: $P/cycle.profile:1:1: dependency cycle: a -> b -> c -> a" ]
}

@test "a parse error exits 2 with FILE:LINE:COL" {
        printf 'root image - /\ntmp tmpfs - /tmp size=lots\n' >"$P/bad.profile"
        run "$GOLDROOT" plan --profile "$P/bad.profile"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "$output" = "goldroot: $P/bad.profile:2:23: bad size 'lots'" ]
}

@test "includes are found on \$GOLDROOT_PROFILE_DIR" {
        mkdir -p "$BATS_TEST_TMPDIR/site"
        printf 'tmp tmpfs - /tmp\n' >"$BATS_TEST_TMPDIR/site/common.profile"
        printf 'root image - /\ninclude common\n' >"$P/inc.profile"
        GOLDROOT_PROFILE_DIR="$BATS_TEST_TMPDIR/site" run "$GOLDROOT" plan --profile "$P/inc.profile"
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -eq 2 ]
        [[ "${lines[1]}" =~ ^2\ +tmp\ +tmpfs ]]
        run "$GOLDROOT" plan --profile "$P/inc.profile"
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: $P/inc.profile:2:9: included profile 'common' not found" ]
}

@test "a missing profile file exits 1 with one line" {
        run "$GOLDROOT" plan --profile "$P/nope.profile"
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: cannot read profile '$P/nope.profile': No such file or directory" ]
}

@test "plan NAME of an instance that does not exist: exit 1, one line" {
        run "$GOLDROOT" plan web1
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: store $GOLDROOT_STORE: no such store" ]
        mkdir -p "$BATS_TEST_TMPDIR/empty"
        "$GOLDROOT" image import e:1 "$BATS_TEST_TMPDIR/empty" >/dev/null
        run "$GOLDROOT" plan web1
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == "goldroot: "*web1* ]]
        run "$GOLDROOT" plan web1 --name x
        [ "$status" -eq 2 ]
        run "$GOLDROOT" plan --profile "$P/nope.profile" --dot --json
        [ "$status" -eq 2 ]
}

@test "bad usage exits 2 with one line" {
        run "$GOLDROOT" plan
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: plan: missing instance NAME or --profile FILE" ]
        run "$GOLDROOT" plan web1 --profile "$P/web.profile"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        run "$GOLDROOT" plan --profile "$P/web.profile" --frobnicate
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: plan: unknown option '--frobnicate'" ]
        run "$GOLDROOT" plan --profile
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: plan: option '--profile' needs a value" ]
}

@test "plan --help prints usage and exits 0" {
        run "$GOLDROOT" plan --help
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == "Usage: goldroot plan --profile FILE [--dot | --json]"* ]]
        [[ "${lines[2]}" == "       goldroot plan NAME [--dot | --json]" ]]
}

@test "search path: the profile's directory, then the site directory, then the built-in profiles" {
        mkdir -p "$BATS_TEST_TMPDIR/p" "$BATS_TEST_TMPDIR/site"
        printf 'include ro\n' >"$BATS_TEST_TMPDIR/p/main.profile"
        # Nothing beside it and nothing in the site dir: the built-in ro is used.
        GOLDROOT_PROFILE_DIR="$BATS_TEST_TMPDIR/site" run "$GOLDROOT" plan --profile "$BATS_TEST_TMPDIR/p/main.profile"
        [ "$status" -eq 0 ]
        [[ "$output" == *"etc"*"bind"*"@rw:/etc"*"-> /etc"* ]]
        # A site profile of the same name wins over the built-in one.
        printf 'root image - / ro\nsite tmpfs - /site\n' >"$BATS_TEST_TMPDIR/site/ro.profile"
        GOLDROOT_PROFILE_DIR="$BATS_TEST_TMPDIR/site" run "$GOLDROOT" plan --profile "$BATS_TEST_TMPDIR/p/main.profile"
        [ "$status" -eq 0 ]
        [[ "$output" == *"-> /site"* ]]
        [[ "$output" != *"-> /etc"* ]]
        # And one beside the including file wins over both.
        printf 'root image - / ro\nlocal tmpfs - /local\n' >"$BATS_TEST_TMPDIR/p/ro.profile"
        GOLDROOT_PROFILE_DIR="$BATS_TEST_TMPDIR/site" run "$GOLDROOT" plan --profile "$BATS_TEST_TMPDIR/p/main.profile"
        [ "$status" -eq 0 ]
        [[ "$output" == *"-> /local"* ]]
}

@test "including a file twice is an error at the second include line, exit 2" {
        printf 'tmp tmpfs - /tmp\n' >"$P/common.profile"
        printf 'root image - /\ninclude common\ninclude common\n' >"$P/twice.profile"
        run "$GOLDROOT" plan --profile "$P/twice.profile"
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: $P/twice.profile:3:9: 'common' is already included at $P/twice.profile:2" ]
}

@test "FILE:ENTRY naming a file the profile includes is an error at the reference, exit 2" {
        printf 't tmpfs - /run/gr-inc size=1M\n' >"$P/common2.profile"
        printf 'r tmpfs - /\ninclude common2\nlog bind common2:t /var/log\n' >"$P/inc2.profile"
        run "$GOLDROOT" plan --profile "$P/inc2.profile"
        [ "$status" -eq 2 ]
        [ "$output" = "goldroot: $P/inc2.profile:3:10: 'common2' is included in the profile being planned (at $P/inc2.profile:2): its entries cannot be shared" ]
        # after= only orders: it may name the included entry so.
        printf 'r tmpfs - /\ninclude common2\nlog tmpfs - /var/log after=common2:t\n' >"$P/inc2.profile"
        run "$GOLDROOT" plan --profile "$P/inc2.profile"
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -eq 3 ]
        [[ "$output" != *shared* ]]
}

@test "--profile NAME is looked up on the search path; a path or an existing file is used as it is" {
        # The built-in ro, from anywhere.
        cd /
        run "$GOLDROOT" plan --profile ro
        [ "$status" -eq 0 ]
        [[ "$output" == *"etc"*"bind"*"@rw:/etc"*"-> /etc"* ]]
        # %n defaults to the profile's name, as for a file.
        mkdir -p "$BATS_TEST_TMPDIR/site"
        printf 'a tmpfs - /srv/%%n\n' >"$BATS_TEST_TMPDIR/site/site1.profile"
        GOLDROOT_PROFILE_DIR="$BATS_TEST_TMPDIR/site" run "$GOLDROOT" plan --profile site1
        [ "$status" -eq 0 ]
        [[ "$output" =~ ^1\ +a\ +tmpfs\ +tmpfs\ +-\>\ /srv/site1\ +rw$ ]]
        # The current directory comes first, as a file's own directory does.
        mkdir -p "$BATS_TEST_TMPDIR/here"
        cd "$BATS_TEST_TMPDIR/here"
        printf 'here tmpfs - /here\n' >site1.profile
        GOLDROOT_PROFILE_DIR="$BATS_TEST_TMPDIR/site" run "$GOLDROOT" plan --profile site1
        [ "$status" -eq 0 ]
        [[ "$output" == *"-> /here"* ]]
        # An existing file without the suffix is that file.
        printf 'plain tmpfs - /plain\n' >ro
        run "$GOLDROOT" plan --profile ro
        [ "$status" -eq 0 ]
        [[ "$output" =~ ^1\ +plain\ +tmpfs ]]
        # A name found nowhere: exit 1, one line.
        run "$GOLDROOT" plan --profile nosuch
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: cannot find profile 'nosuch': no such file here or on the profile search path" ]
        # A path is never looked up.
        run "$GOLDROOT" plan --profile ./nosuch
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: cannot read profile './nosuch': No such file or directory" ]
}

@test "two shared profiles of the same name are two clusters in --dot and told apart in the plan" {
        mkdir -p "$P/d1/sub"
        printf 'cc tmpfs - /srv/c1\n' >"$P/d1/c.profile"
        printf 'cc tmpfs - /srv/c2\n' >"$P/d1/sub/c.profile"
        # A reference in an included file looks beside that file first.
        printf 'y bind c:cc /y\n' >"$P/d1/sub/inc.profile"
        printf 'x tmpfs - /srv/x\n' >"$P/d1/b.profile"
        printf 'a bind c:cc /a\nb bind b:x /b\ninclude sub/inc\n' >"$P/d1/main2.profile"
        run "$GOLDROOT" plan --profile "$P/d1/main2.profile" --dot
        [ "$status" -eq 0 ]
        ids=$(grep -o 'subgraph "[^"]*"' <<<"$output" | sort)
        [ "$(wc -l <<<"$ids")" -eq 3 ]
        [ "$(uniq <<<"$ids" | wc -l)" -eq 3 ]
        # The labels stay the profiles' names.
        [ "$(grep -c 'label="c";' <<<"$output")" -eq 2 ]
        "$GOLDROOT" plan --profile "$P/d1/main2.profile" --dot | dot -Tplain >"$BATS_TEST_TMPDIR/g.txt"
        [ "$(grep -c '^node' "$BATS_TEST_TMPDIR/g.txt")" -eq 6 ]
        # The text plan names the two by their files; names that are not
        # ambiguous stay short.
        run "$GOLDROOT" plan --profile "$P/d1/main2.profile"
        [ "$status" -eq 0 ]
        [[ "$output" == *" $P/d1/c.profile:cc "*"-> host:/srv/c1"* ]]
        [[ "$output" == *" $P/d1/sub/c.profile:cc "*"-> host:/srv/c2"* ]]
        [[ "$output" == *" b:x "* ]]
        [[ "$output" != *" c:cc "* ]]
}
