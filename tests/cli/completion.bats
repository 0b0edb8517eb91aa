#!/usr/bin/env bats
# completion/goldroot.bash: sourced and called the way bash calls it, with
# COMP_WORDS and COMP_CWORD set, against a real store holding a busybox image
# and two instances.
load ../lib/common
load ../lib/images
load ../lib/instance

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
        "$GOLDROOT" image tag bb:1 bb:gold
        "$GOLDROOT" create web1 --image bb:1
        "$GOLDROOT" create web2 --image bb:gold
        ID=$("$GOLDROOT" image ls -q)
        source "$BATS_TEST_DIRNAME/../../completion/goldroot.bash"
}

teardown() {
        instance_teardown
}

# complete WORD... : the completions for a command line whose last word is
# being completed, sorted, one a line.
complete_words() {
        COMP_WORDS=("$GOLDROOT" "$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _goldroot
        [ "${#COMPREPLY[@]}" -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort
}

lines_of() {
        printf '%s\n' "$@" | sort
}

# What --help lists, extracted independently of the completion's parser.
help_options() {
        {
                "$GOLDROOT" "$@" --help | grep '^  -' | sed 's/^  //; s/  .*//' |
                        grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | tr -d ' ,'
                echo --help
        } | sort -u
}

@test "the first word: the verbs of --help, and the global options" {
        run complete_words ""
        [ "$output" = "$("$GOLDROOT" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p' | sort)" ]
        [[ "$output" == *personalize* ]]
        run complete_words st
        [ "$output" = "$(lines_of start status stop)" ]
        run complete_words --st
        [ "$output" = --store ]
        run complete_words -v image ""
        [[ "$output" == *prep* ]]
}

@test "image subcommands" {
        run complete_words image ""
        [ "$output" = "$(lines_of diff export gc import inspect links ls mount prep rm tag untag)" ]
        run complete_words image un
        [ "$output" = untag ]
}

@test "the options of every verb and image subcommand are exactly its --help's" {
        local v c n=0
        for v in $("$GOLDROOT" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p'); do
                [ "$v" = image ] && continue
                [ "$(complete_words "$v" -)" = "$(help_options "$v")" ] || {
                        echo "goldroot $v: $(complete_words "$v" -)" >&2
                        return 1
                }
                n=$((n + 1))
        done
        for c in $(complete_words image ""); do
                [ "$(complete_words image "$c" -)" = "$(help_options image "$c")" ] || {
                        echo "goldroot image $c: $(complete_words image "$c" -)" >&2
                        return 1
                }
                n=$((n + 1))
        done
        [ "$n" -ge 27 ]
        # Spot checks that do not go through --help at all.
        run complete_words stop web1 -
        [ "$output" = "$(lines_of -t --timeout --help)" ]
        run complete_words upgrade --dr
        [ "$output" = --dry-run ]
        run complete_words rm --f
        [ "$output" = --force ]
}

@test "image references: tags and short ids from the store" {
        run complete_words create web3 --image ""
        [ "$output" = "$(lines_of bb:1 bb:gold "${ID:0:12}")" ]
        run complete_words create web3 --image bb:g
        [ "$output" = bb:gold ]
        run complete_words image inspect ""
        [ "$output" = "$(lines_of bb:1 bb:gold "${ID:0:12}")" ]
        run complete_words image diff bb:1 b
        [ "$output" = "$(lines_of bb:1 bb:gold)" ]
        # diff takes two.
        run complete_words image diff bb:1 bb:gold ""
        [ -z "$output" ]
        run complete_words upgrade web1 --to bb:
        [ "$output" = "$(lines_of bb:1 bb:gold)" ]
        run complete_words run --rm ""
        [ "$output" = "$(lines_of bb:1 bb:gold "${ID:0:12}")" ]
        # commit's second argument is a NAME:TAG.
        run complete_words commit web1 ""
        [ "$output" = "$(lines_of bb:1 bb:gold)" ]
        run complete_words plan --profile ro.profile --image-id ""
        [ "$output" = "$ID" ]
}

@test "instance names where a NAME goes, none where a new one does" {
        run complete_words stop ""
        [ "$output" = "$(lines_of web1 web2)" ]
        run complete_words status w
        [ "$output" = "$(lines_of web1 web2)" ]
        # status takes one NAME, rm several.
        run complete_words status web1 ""
        [ -z "$output" ]
        run complete_words rm web1 ""
        [ "$output" = "$(lines_of web1 web2)" ]
        run complete_words rm --force web1 w
        [ "$output" = "$(lines_of web1 web2)" ]
        run complete_words upgrade --to bb:gold ""
        [ "$output" = "$(lines_of web1 web2)" ]
        run complete_words create ""
        [ -z "$output" ]
        # plan NAME, or plan --profile FILE with no NAME.
        run complete_words plan ""
        [ "$output" = "$(lines_of web1 web2)" ]
        run complete_words plan --profile x.profile ""
        [ -z "$output" ]
        # After "--" comes the instance's own command line.
        run complete_words start web1 -- ""
        [ -z "$output" ]
        # --store on the line is the store asked.
        run complete_words --store "$BATS_TEST_TMPDIR/none" stop ""
        [ -z "$output" ]
        run complete_words --store "$GOLDROOT_STORE" stop ""
        [ "$output" = "$(lines_of web1 web2)" ]
}

@test "profile files, modes and the other values" {
        mkdir -p "$BATS_TEST_TMPDIR/p/sub"
        touch "$BATS_TEST_TMPDIR/p/web.profile" "$BATS_TEST_TMPDIR/p/notes.txt"
        run complete_words create web3 --profile "$BATS_TEST_TMPDIR/p/"
        [ "$output" = "$(lines_of "$BATS_TEST_TMPDIR/p/sub" "$BATS_TEST_TMPDIR/p/web.profile")" ]
        run complete_words mount --profile "$BATS_TEST_TMPDIR/p/w"
        [ "$output" = "$BATS_TEST_TMPDIR/p/web.profile" ]
        run complete_words create web3 --mode ""
        [ "$output" = "$(lines_of ro rw volatile)" ]
        run complete_words upgrade --all --policy ""
        [ "$output" = "$(lines_of keep-local merge theirs)" ]
        run complete_words run --net ""
        [[ "$output" == *none*host*bridge:* ]] || [[ "$output" == *bridge:*none* ]]
        run complete_words image export bb:1 x --format ""
        [ "$output" = "$(lines_of erofs tar)" ]
        run complete_words image prep bb:1 bb:p --ops machine-id,ss
        [ "$output" = machine-id,ssh-host-keys ]
        # mount NAME DIR: an instance, then a directory; umount DIR.
        run complete_words mount ""
        [ "$output" = "$(lines_of web1 web2)" ]
        run complete_words mount web1 "$BATS_TEST_TMPDIR/p/"
        [ "$output" = "$BATS_TEST_TMPDIR/p/sub" ]
        run complete_words mount --profile x.profile "$BATS_TEST_TMPDIR/p/"
        [ "$output" = "$BATS_TEST_TMPDIR/p/sub" ]
        run complete_words umount "$BATS_TEST_TMPDIR/p/s"
        [ "$output" = "$BATS_TEST_TMPDIR/p/sub" ]
        run complete_words image import x:1 "$BATS_TEST_TMPDIR/p/n"
        [ "$output" = "$BATS_TEST_TMPDIR/p/notes.txt" ]
}
