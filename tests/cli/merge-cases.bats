#!/usr/bin/env bats
# The merge table of DESIGN.md §5, corner by corner, through the command
# line: a real instance changes its files, a new image changes others, and
# goldroot upgrade merges them. Each case checks the report line and what the
# instance sees afterwards.
load ../lib/common
load ../lib/images
load ../lib/instance
load ../lib/lifecycle

setup_file() {
        instance_build_busybox
}

setup() {
        instance_import_busybox
        "$GOLDROOT" create web --image bb:1
}

teardown() {
        instance_teardown
}

# upgrade_to TAG [ARGS...]: runs the upgrade of web; exit status in $status.
upgrade_to() {
        local tag=$1
        shift
        run "$GOLDROOT" upgrade web --to "bb:$tag" "$@"
}

@test "merge: a local edit is kept while the image changes other files" {
        lc_sh web 'echo local >>/etc/group'
        lc_variant 2 'echo v2 >>etc/passwd; echo v2 >usr/bin/hello'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"keep /etc/group (local change)"* ]]
        lc_sh web 'tail -n1 /etc/group | grep -qx local && tail -n1 /etc/passwd | grep -qx v2 &&
                grep -qx v2 /usr/bin/hello'
}

@test "merge: a locally deleted directory stays deleted" {
        lc_sh web 'rm -rf /home/user'
        lc_variant 2 'echo v2 >usr/bin/hello'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"deleted /home/user (stays deleted)"* ]]
        lc_sh web '! test -e /home/user && test -d /home'
}

@test "merge: new image files appear inside a directory the instance copied up" {
        lc_sh web 'echo mine >/etc/mine'
        lc_variant 2 'echo fresh >etc/fresh; mkdir etc/fresh.d; echo deep >etc/fresh.d/deep'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"drop /etc (unchanged copy-up)"* ]]
        lc_sh web 'grep -qx fresh /etc/fresh && grep -qx deep /etc/fresh.d/deep &&
                grep -qx mine /etc/mine'
}

@test "merge: a local file where the new image has a directory is refused before any change" {
        lc_sh web 'echo mine >/etc/thing'
        lc_variant 2 'mkdir etc/thing; echo x >etc/thing/inside'
        before=$(lc_snapshot "$(lc_state web)")
        upgrade_to 2
        [ "$status" -eq 1 ]
        [[ "$output" == *"conflict /etc/thing: type conflict, local regular file, image directory"* ]]
        [ "$(lc_snapshot "$(lc_state web)")" = "$before" ]
        [ "$("$GOLDROOT" image links bb:1)" = web ]
}

@test "merge: symlinks, absolute and dangling, are carried over without being followed" {
        lc_sh web 'ln -s /etc/passwd /etc/abs; ln -s /nonexistent/target /etc/dangling2;
                ln -s ../../../../host /etc/escape'
        lc_variant 2 'echo v2 >>etc/passwd'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"keep /etc/abs (local addition)"* ]]
        [[ "$output" == *"keep /etc/dangling2 (local addition)"* ]]
        u=$(lc_upper web)
        [ "$(readlink "$u/etc/abs")" = /etc/passwd ]
        [ "$(readlink "$u/etc/dangling2")" = /nonexistent/target ]
        [ "$(readlink "$u/etc/escape")" = ../../../../host ]
        # Seen through the link, the new image's file.
        lc_sh web 'tail -n1 /etc/abs | grep -qx v2'
}

@test "merge: a chain of directories with modes 700, 770, 707 is recreated exactly" {
        lc_sh web 'mkdir -p /srv/a/b/c && chmod 700 /srv/a && chmod 770 /srv/a/b &&
                chmod 707 /srv/a/b/c && echo x >/srv/a/b/c/f && chown -R 1000:1000 /srv/a/b'
        lc_variant 2 'echo v2 >usr/bin/hello'
        upgrade_to 2
        [ "$status" -eq 0 ]
        u=$(lc_upper web)
        [ "$(stat -c '%a %u:%g' "$u/srv/a")" = "700 0:0" ]
        [ "$(stat -c '%a %u:%g' "$u/srv/a/b")" = "770 1000:1000" ]
        [ "$(stat -c '%a %u:%g' "$u/srv/a/b/c")" = "707 1000:1000" ]
        [ "$(cat "$u/srv/a/b/c/f")" = x ]
}

@test "merge: FIFOs and device nodes are carried over" {
        lc_sh web 'mkfifo -m 0640 /srv/pipe'
        mknod -m 0600 "$(lc_upper web)/srv/null2" c 1 3
        lc_variant 2 'echo v2 >usr/bin/hello'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"carry /srv/pipe (fifo)"* ]]
        [[ "$output" == *"carry /srv/null2 (character device)"* ]]
        u=$(lc_upper web)
        [ -p "$u/srv/pipe" ]
        [ "$(stat -c %a "$u/srv/pipe")" = 640 ]
        [ "$(stat -c '%t:%T %a' "$u/srv/null2")" = "1:3 600" ]
}

@test "merge: a directory the image removed still holds the local file" {
        lc_sh web 'echo mine >/home/user/mine'
        lc_variant 2 'rm -rf home/user'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"keep /home/user (directory removed by the image holds local files)"* ]]
        lc_sh web 'grep -qx mine /home/user/mine && ! test -e /home/user/notes'
}

@test "merge: a copy-up without change is dropped, so the new image shows through" {
        lc_sh web 'chmod 0644 /etc/passwd'   # its mode already: a copy-up, no change
        [ -e "$(lc_upper web)/etc/passwd" ]
        lc_variant 2 'echo v2 >>etc/passwd'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"drop /etc/passwd (unchanged copy-up)"* ]]
        [ ! -e "$(lc_upper web)/etc/passwd" ]
        lc_sh web 'tail -n1 /etc/passwd | grep -qx v2'
}

@test "merge: both sides add the same path, equal: dropped" {
        lc_sh web 'echo same >/etc/both'
        lc_variant 2 'echo same >etc/both'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"drop /etc/both (the image made the same change)"* ]]
        [ ! -e "$(lc_upper web)/etc/both" ]
}

@test "merge: both sides add the same path, different: a conflict, ours kept, theirs beside it" {
        lc_sh web 'echo ours >/etc/both'
        lc_variant 2 'echo theirs >etc/both'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"conflict /etc/both: kept local, theirs in /etc/both.goldnew"* ]]
        lc_sh web 'grep -qx ours /etc/both && grep -qx theirs /etc/both.goldnew'
}

@test "merge: the same change on both sides is dropped" {
        lc_sh web 'echo "staff:x:50:" >>/etc/group'
        lc_variant 2 'echo "staff:x:50:" >>etc/group'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"drop /etc/group (the image made the same change)"* ]]
        [ ! -e "$(lc_upper web)/etc/group" ]
}

@test "merge policy: different edits of one text file merge cleanly" {
        lc_sh web 'sed -i "1s/.*/root:x:0:admin/" /etc/group'
        lc_variant 2 'echo "staff:x:50:" >>etc/group'
        upgrade_to 2 --policy merge
        [ "$status" -eq 0 ]
        [[ "$output" == *"merged /etc/group (clean line merge)"* ]]
        lc_sh web 'test "$(cat /etc/group)" = "$(printf "root:x:0:admin\nuser:x:1000:\nstaff:x:50:")" &&
                ! test -e /etc/group.goldnew'
}

@test "merge policy: a real conflict falls back to keep-local with .goldnew" {
        lc_sh web 'sed -i "1s/.*/127.0.0.1 ours/" /etc/hosts'
        lc_variant 2 'sed -i "1s/.*/127.0.0.1 theirs/" etc/hosts'
        upgrade_to 2 --policy merge
        [ "$status" -eq 0 ]
        [[ "$output" == *"conflict /etc/hosts: kept local, theirs in /etc/hosts.goldnew (conflicting changes: 1 conflicting hunk)"* ]]
        lc_sh web 'grep -qx "127.0.0.1 ours" /etc/hosts && grep -qx "127.0.0.1 theirs" /etc/hosts.goldnew'
}

@test "merge policy: binary files are not merged line by line" {
        lc_sh web 'printf "a\0b" >/etc/blob'
        lc_variant 2 'printf "a\0c" >etc/blob'
        upgrade_to 2 --policy merge
        [ "$status" -eq 0 ]
        [[ "$output" == *"conflict /etc/blob: kept local, theirs in /etc/blob.goldnew (binary content)"* ]]
}

@test "theirs policy: the image's version is taken, the local one saved as .goldsave" {
        lc_sh web 'echo ours >>/etc/hosts'
        lc_variant 2 'echo theirs >>etc/hosts'
        upgrade_to 2 --policy theirs
        [ "$status" -eq 0 ]
        [[ "$output" == *"conflict /etc/hosts: took theirs, local saved as /etc/hosts.goldsave"* ]]
        lc_sh web 'tail -n1 /etc/hosts | grep -qx theirs && tail -n1 /etc/hosts.goldsave | grep -qx ours'
}

@test "theirs twice: the first .goldsave is kept, the second goes to a free name" {
        lc_sh web 'echo local1 >>/etc/hosts'
        lc_variant 2 'echo theirs2 >>etc/hosts'
        lc_variant 3 'echo theirs2 >>etc/hosts; echo theirs3 >>etc/hosts'
        upgrade_to 2 --policy theirs
        [ "$status" -eq 0 ]
        lc_sh web 'echo local2 >>/etc/hosts'
        upgrade_to 3 --policy theirs
        [ "$status" -eq 0 ]
        [[ "$output" == *"keep /etc/hosts.goldsave (local addition)"* ]]
        [[ "$output" == *"conflict /etc/hosts: took theirs, local saved as /etc/hosts.goldsave.1"* ]]
        lc_sh web 'tail -n1 /etc/hosts.goldsave | grep -qx local1 &&
                tail -n1 /etc/hosts.goldsave.1 | grep -qx local2 && tail -n1 /etc/hosts | grep -qx theirs3'
}

@test "a local directory at PATH.goldnew is kept; the dry run and the upgrade name the same free name" {
        lc_sh web 'echo ours >>/etc/hosts; mkdir /etc/hosts.goldnew; echo precious >/etc/hosts.goldnew/data'
        lc_variant 2 'echo theirs >>etc/hosts'
        upgrade_to 2 --dry-run
        [ "$status" -eq 0 ]
        [[ "$output" == *"conflict /etc/hosts: kept local, theirs in /etc/hosts.goldnew.1"* ]]
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"conflict /etc/hosts: kept local, theirs in /etc/hosts.goldnew.1"* ]]
        lc_sh web 'grep -qx precious /etc/hosts.goldnew/data && tail -n1 /etc/hosts.goldnew.1 | grep -qx theirs'
}

@test "merge: files the instance hardlinked together stay one file" {
        lc_sh web 'echo shared >/etc/h1; ln /etc/h1 /etc/h2; mkdir /etc/sub; ln /etc/h1 /etc/sub/h3'
        lc_variant 2 'echo v2 >usr/bin/hello'
        upgrade_to 2
        [ "$status" -eq 0 ]
        u=$(lc_upper web)
        [ "$(stat -c %i "$u/etc/h1")" = "$(stat -c %i "$u/etc/h2")" ]
        [ "$(stat -c %i "$u/etc/h1")" = "$(stat -c %i "$u/etc/sub/h3")" ]
        [ "$(stat -c %h "$u/etc/h1")" = 3 ]
        lc_sh web 'echo changed >/etc/h1; grep -qx changed /etc/sub/h3'
}

@test "merge: deleted locally but changed by the image: stays deleted, or restored by theirs" {
        lc_sh web 'rm /etc/issue'
        lc_variant 2 'echo "Welcome to v2" >etc/issue'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"conflict /etc/issue: deleted locally, changed in the image; stays deleted"* ]]
        lc_sh web '! test -e /etc/issue'
        "$GOLDROOT" rollback web >/dev/null
        upgrade_to 2 --policy theirs
        [[ "$output" == *"conflict /etc/issue: deleted locally, changed in the image; restored from the image"* ]]
        lc_sh web 'grep -qx "Welcome to v2" /etc/issue'
}

@test "merge: a file the instance changed and the image removed is kept (keep-local)" {
        lc_sh web 'echo mine >>/srv/odd'
        lc_variant 2 'rm srv/odd'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"conflict /srv/odd: kept local (removed in the image)"* ]]
        lc_sh web 'tail -n1 /srv/odd | grep -qx mine'
}

@test "merge: mode, owner and xattr changes alone are local changes, kept" {
        lc_sh web 'chmod 0600 /etc/group; chown 1000 /srv/with\ space'
        setfattr -n user.mine -v yes "$(lc_upper web)/etc/group"
        lc_variant 2 'echo v2 >usr/bin/hello'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"keep /etc/group (local change)"* ]]
        [[ "$output" == *"keep /srv/with space (local change)"* ]]
        u=$(lc_upper web)
        [ "$(stat -c %a "$u/etc/group")" = 600 ]
        [ "$(getfattr --only-values -n user.mine "$u/etc/group")" = yes ]
        [ "$(stat -c %u "$u/srv/with space")" = 1000 ]
}

@test "merge: an opaque directory keeps hiding the image's entries, new ones included" {
        lc_sh web 'rm -rf /home/user && mkdir /home/user && echo only >/home/user/only'
        lc_variant 2 'echo new >home/user/new'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"keep /home/user (replaces the image directory)"* ]]
        [[ "$output" == *"deleted /home/user/notes (stays deleted)"* ]]
        [[ "$output" == *"conflict /home/user/new: added in the image, hidden locally; stays deleted"* ]]
        lc_sh web 'test "$(ls /home/user)" = only'
        "$GOLDROOT" rollback web >/dev/null
        upgrade_to 2 --policy theirs
        [ "$status" -eq 0 ]
        [[ "$output" == *"conflict /home/user/new: added in the image, hidden locally; restored from the image"* ]]
        lc_sh web 'test "$(ls /home/user | xargs)" = "new only"'
}

@test "merge: a deleted directory the image changed below is a conflict, restored by theirs" {
        lc_sh web 'rm -rf /home/user'
        lc_variant 2 'echo new >home/user/new'
        upgrade_to 2
        [ "$status" -eq 0 ]
        [[ "$output" == *"conflict /home/user: deleted locally, changed in the image; stays deleted"* ]]
        [[ "$output" == *"conflict /home/user/new: added in the image; stays deleted"* ]]
        lc_sh web '! test -e /home/user'
        "$GOLDROOT" rollback web >/dev/null
        upgrade_to 2 --policy theirs
        [ "$status" -eq 0 ]
        [[ "$output" == *"conflict /home/user: deleted locally, changed in the image; restored from the image"* ]]
        lc_sh web 'grep -qx new /home/user/new && test -e /home/user/notes'
}

@test "merge: a directory replaced by a file, changed below by the image, is a type conflict" {
        lc_sh web 'rm -rf /home/user && echo file >/home/user'
        lc_variant 2 'echo new >home/user/new'
        before=$(lc_snapshot "$(lc_state web)")
        upgrade_to 2 --policy theirs
        [ "$status" -eq 1 ]
        [[ "$output" == *"conflict /home/user: type conflict, local regular file, image directory (both changed, to different types)"* ]]
        [ "$(lc_snapshot "$(lc_state web)")" = "$before" ]
}

@test "merge: a symlink the image retargets shows through when unchanged locally" {
        lc_sh web 'echo x >/etc/mine'
        lc_variant 2 'ln -sfn /elsewhere etc/dangling'
        upgrade_to 2
        [ "$status" -eq 0 ]
        lc_sh web 'test "$(readlink /etc/dangling)" = /elsewhere'
}

@test "merge: a second upgrade replaces the first one's .goldnew" {
        lc_sh web 'echo ours >>/etc/hosts'
        lc_variant 2 'echo two >>etc/hosts'
        lc_variant 3 'echo three >>etc/hosts'
        upgrade_to 2
        upgrade_to 3
        [ "$status" -eq 0 ]
        lc_sh web 'tail -n1 /etc/hosts.goldnew | grep -qx three && tail -n1 /etc/hosts | grep -qx ours'
}
