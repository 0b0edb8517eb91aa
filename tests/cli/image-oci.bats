#!/usr/bin/env bats
# image import from container images: oci:DIR[:REF], oci-archive:FILE[:REF]
# and docker-archive:FILE, as Debian's podman writes them. The inputs are
# built here from the busybox root: `podman import` makes layer 1, a build
# step makes layer 2, which deletes /etc/issue (a whiteout) and replaces
# /etc/opt (an opaque directory). Hostile layouts are refused with one line
# and leave nothing in the store.
load ../lib/common
load ../lib/images

podman_() {
        podman --root "$BATS_FILE_TMPDIR/podman/root" --runroot "$BATS_FILE_TMPDIR/podman/run" \
                --storage-driver overlay --cgroup-manager cgroupfs --events-backend file "$@"
}

setup_file() {
        local d=$BATS_FILE_TMPDIR
        busybox_rootfs "$d/bb" >/dev/null 2>&1
        # The bind mounts of a build step would hide these in layer 2.
        rm -f "$d/bb/srv/escape"
        mkdir -p "$d/bb/etc/opt/sub"
        echo old >"$d/bb/etc/opt/old"
        echo older >"$d/bb/etc/opt/sub/older"
        tar --numeric-owner -C "$d/bb" -cf "$d/layer1.tar" .
        podman_ import "$d/layer1.tar" localhost/gr-test:1 >/dev/null
        printf '%s\n' 'FROM localhost/gr-test:1' \
                'RUN rm /etc/issue && rm -rf /etc/opt && mkdir /etc/opt && echo new >/etc/opt/new' \
                >"$d/Containerfile"
        podman_ build --isolation chroot -q -t localhost/gr-test:2 -f "$d/Containerfile" "$d" >/dev/null
        podman_ save -q --format docker-archive -o "$d/docker.tar" localhost/gr-test:2
        podman_ save -q --format oci-archive -o "$d/oci.tar" localhost/gr-test:2
        mkdir "$d/oci"
        tar -C "$d/oci" -xf "$d/oci.tar"
        podman_ system reset --force >/dev/null 2>&1 || true

        # What the image must be: layer 1 with layer 2's changes. A build
        # step also leaves its mount point for /etc/resolv.conf behind.
        cp -a "$d/bb" "$d/expected"
        rm "$d/expected/etc/issue"
        rm -r "$d/expected/etc/opt"
        mkdir "$d/expected/etc/opt"
        echo new >"$d/expected/etc/opt/new"
}

setup() {
        D=$BATS_FILE_TMPDIR
        W=$BATS_TEST_TMPDIR/w
        mkdir -p "$W"
}

# The tree of image NAME:TAG as tree_manifest sees it, without xattrs (the
# podman import took none), without hardlink groups (the store links files
# of equal content and metadata), and without what a build step adds.
image_tree() {
        local id
        id=$("$GOLDROOT" image inspect --json "$1" | jq -r .id)
        tree_manifest "$GOLDROOT_STORE/images/$id/root" | cut -f1-6 | grep -v '^\./etc/resolv\.conf	'
}

expected_tree() {
        tree_manifest "$D/expected" | cut -f1-6
}

@test "import docker-archive: two layers, a whiteout and an opaque directory" {
        # The input really has what this test is about.
        layer2=$(tar -xOf "$D/docker.tar" manifest.json | jq -r '.[0].Layers[1]')
        tar -xOf "$D/docker.tar" "$layer2" | tar -t | grep -qx 'etc/.wh.issue'
        tar -xOf "$D/docker.tar" "$layer2" | tar -t | grep -qx 'etc/opt/.wh..wh..opq'

        run "$GOLDROOT" image import gr:docker "docker-archive:$D/docker.tar"
        [ "$status" -eq 0 ]
        diff <(expected_tree) <(image_tree gr:docker)
        id=$("$GOLDROOT" image inspect --json gr:docker | jq -r .id)
        root=$GOLDROOT_STORE/images/$id/root
        [ ! -e "$root/etc/issue" ]
        [ -e "$root/etc/issue.net" ]
        [ "$(ls -A "$root/etc/opt")" = new ]
        # Nothing of the archive is left in the store.
        [ -z "$(ls -A "$GOLDROOT_STORE/staging")" ]
        [ ! -e "$GOLDROOT_STORE/images/$id/oci-src" ]
}

@test "import oci:DIR, oci:DIR:REF and oci-archive:FILE give the same image as docker-archive" {
        "$GOLDROOT" image import gr:docker "docker-archive:$D/docker.tar" >"$W/id-docker"
        "$GOLDROOT" image import gr:oci "oci:$D/oci" >"$W/id-oci"
        "$GOLDROOT" image import gr:ref "oci:$D/oci:localhost/gr-test:2" >"$W/id-ref"
        "$GOLDROOT" image import gr:arch "oci-archive:$D/oci.tar" >"$W/id-arch"
        diff "$W/id-docker" "$W/id-oci"
        diff "$W/id-docker" "$W/id-ref"
        diff "$W/id-docker" "$W/id-arch"
        diff <(expected_tree) <(image_tree gr:oci)
        # The layers are gzip-compressed in the OCI layout, plain in the docker one.
        jq -r .layers[].mediaType "$D/oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$D/oci/index.json" | cut -d: -f2)" |
                grep -q 'tar+gzip'

        # The older docker layout names each layer as V1ID/layer.tar, a
        # symlink to the one copy the archive holds.
        mkdir "$W/old"
        tar -C "$W/old" -xf "$D/docker.tar"
        for l in $(jq -r '.[0].Layers[]' "$W/old/manifest.json"); do
                v1=$(cd "$W/old" && for f in */layer.tar; do
                        if [ "$(readlink "$f")" = "../$l" ]; then echo "${f%/layer.tar}"; fi; done)
                [ -n "$v1" ]
                jq --arg l "$l" --arg v "$v1/layer.tar" '.[0].Layers |= map(if . == $l then $v else . end)' \
                        "$W/old/manifest.json" >"$W/m" && mv "$W/m" "$W/old/manifest.json"
        done
        grep -q '/layer.tar' "$W/old/manifest.json"
        tar -C "$W/old" -cf "$W/old.tar" .
        "$GOLDROOT" image import gr:old "docker-archive:$W/old.tar" >"$W/id-old"
        diff "$W/id-docker" "$W/id-old"

        run "$GOLDROOT" image import gr:nope "oci:$D/oci:localhost/nope:1"
        [ "$status" -eq 1 ]
        [ "$output" = "goldroot: import oci:$D/oci:localhost/nope:1: no manifest named 'localhost/nope:1' in index.json" ]
}

# An OCI layout in $1 from layer tarballs $2...: index.json, manifest and
# config with the right digests, unless the caller breaks them afterwards.
make_layout() {
        local dir=$1 l d diff_ids=() layers=() cfg man
        shift
        mkdir -p "$dir/blobs/sha256"
        echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
        for l in "$@"; do
                d=$(sha256sum "$l" | cut -d' ' -f1)
                cp "$l" "$dir/blobs/sha256/$d"
                diff_ids+=("\"sha256:$d\"")
                layers+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$d\",\"size\":$(stat -c %s "$l")}")
        done
        cfg=$(printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[%s]}}' \
                "$(IFS=,; echo "${diff_ids[*]}")")
        d=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
        printf '%s' "$cfg" >"$dir/blobs/sha256/$d"
        man=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
                "$d" "${#cfg}" "$(IFS=,; echo "${layers[*]}")")
        d=$(printf '%s' "$man" | sha256sum | cut -d' ' -f1)
        printf '%s' "$man" >"$dir/blobs/sha256/$d"
        printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' \
                "$d" "${#man}" >"$dir/index.json"
}

snapshot_store() {
        (cd "$GOLDROOT_STORE" && find objects images staging | LC_ALL=C sort)
        "$GOLDROOT" image ls --json
}

# Refusal: exit 2, one line matching the extended regex $2, store unchanged.
refused() {
        run "$GOLDROOT" image import evil:x "$1"
        echo "$output"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "goldroot: import $1: "* ]]
        [[ "${lines[0]}" =~ $2 ]]
        diff "$W/before" <(snapshot_store)
}

hostile_setup() {
        mkdir -p "$W/l1/etc" "$W/l2/etc"
        echo one >"$W/l1/etc/motd"
        echo two >"$W/l2/etc/two"
        tar -C "$W/l1" -cf "$W/l1.tar" .
        tar -C "$W/l2" -cf "$W/l2.tar" .
        # A layout built here imports, so each refusal below is its flaw alone.
        make_layout "$W/good" "$W/l1.tar" "$W/l2.tar"
        "$GOLDROOT" image import good:v1 "oci:$W/good" >/dev/null
        snapshot_store >"$W/before"
}

@test "hostile layouts: digest mismatch, missing blob, bad digest strings" {
        hostile_setup
        id=$("$GOLDROOT" image inspect --json good:v1 | jq -r .id)
        [ "$(cat "$GOLDROOT_STORE/images/$id/root/etc/two")" = two ]

        # A layer whose bytes are not what its digest says.
        cp -a "$W/good" "$W/mismatch"
        l=$(sha256sum "$W/l2.tar" | cut -d' ' -f1)
        echo extra >>"$W/mismatch/blobs/sha256/$l"
        refused "oci:$W/mismatch" "blobs/sha256/$l: digest mismatch: sha256:[0-9a-f]{64}, expected sha256:$l\$"

        # A missing layer blob.
        cp -a "$W/good" "$W/missing"
        rm "$W/missing/blobs/sha256/$l"
        refused "oci:$W/missing" "missing blob sha256:$l\$"

        # A digest that would be a path.
        cp -a "$W/good" "$W/climb"
        jq '.manifests[0].digest = "sha256:../../../../etc/passwd"' "$W/good/index.json" >"$W/climb/index.json"
        refused "oci:$W/climb" "bad or unsupported digest 'sha256:../../../../etc/passwd'\$"

        # Not JSON at all.
        cp -a "$W/good" "$W/garbage"
        echo '{"manifests": [' >"$W/garbage/index.json"
        refused "oci:$W/garbage" "index.json: not valid JSON"

        # A docker archive whose layer does not match the config's diff_id.
        mkdir "$W/dock"
        tar -C "$W/dock" -xf "$D/docker.tar"
        l=$(jq -r '.[0].Layers[1]' "$W/dock/manifest.json")
        chmod u+w "$W/dock/$l"
        echo extra >>"$W/dock/$l"
        tar -C "$W/dock" -cf "$W/dock.tar" .
        refused "docker-archive:$W/dock.tar" "layer $l: digest mismatch"

        # A docker archive whose symlink member climbs out of it.
        mkdir "$W/dock2"
        tar -C "$W/dock2" -xf "$D/docker.tar"
        f=$(cd "$W/dock2" && ls -d */layer.tar | head -n1)
        ln -sfn ../../../../etc/passwd "$W/dock2/$f"
        tar -C "$W/dock2" -cf "$W/dock2.tar" .
        refused "docker-archive:$W/dock2.tar" "member '\./$f': symlink leaves the archive\$"
}

@test "a directory given as docker-archive: or oci-archive: is refused as not an archive" {
        hostile_setup
        mkdir "$W/dock"
        tar -C "$W/dock" -xf "$D/docker.tar"
        refused "docker-archive:$W/dock" ": $W/dock is a directory, not an archive\$"
        refused "oci-archive:$W/good" ": $W/good is a directory, not an archive \\(an OCI image layout directory is oci:DIR\\)\$"
}

@test "a docker archive whose layer member is a symlink to itself is refused as bad input" {
        hostile_setup
        mkdir "$W/dock"
        tar -C "$W/dock" -xf "$D/docker.tar"
        f=$(cd "$W/dock" && jq -r '.[0].Layers[0]' manifest.json)
        ln -sfn "$(basename "$f")" "$W/dock/$f"
        tar -C "$W/dock" -cf "$W/loop.tar" .
        refused "docker-archive:$W/loop.tar" ": $f: too many symlinks in the archive \\(a loop, or more than 8 in a row\\)\$"
}

@test "hostile layers: whiteouts that escape, ../ names, hardlinks out of the image" {
        hostile_setup

        # A whiteout whose name is "..": it would delete /etc's parent.
        mkdir -p "$W/wh/etc"
        : >"$W/wh/etc/.wh.."
        tar -C "$W/wh" -cf "$W/wh.tar" .
        make_layout "$W/escape" "$W/l1.tar" "$W/wh.tar"
        refused "oci:$W/escape" "whiteout '/etc/\.wh\.\.' escapes its directory\$"

        # A whiteout that climbs out with ../ in its name.
        (cd "$W" && tar -cPf climb.tar --transform 's,^l2/etc/two,../../.wh.etc,' l2/etc/two)
        tar -tf "$W/climb.tar" | grep -qx '../../.wh.etc'
        make_layout "$W/climb" "$W/l1.tar" "$W/climb.tar"
        refused "oci:$W/climb" "archive entry '../../.wh.etc': path leaves the archive \('\.\.'\)\$"

        # A hardlink to a file a later layer removes.
        mkdir -p "$W/hl"
        ln "$W/l1/etc/motd" "$W/l1/etc/motd-link"
        tar -C "$W/l1" -cf "$W/l1-hl.tar" .
        mkdir -p "$W/rm/etc"
        : >"$W/rm/etc/.wh.motd"
        tar -C "$W/rm" -cf "$W/rm.tar" .
        make_layout "$W/hardlink" "$W/l1-hl.tar" "$W/rm.tar"
        refused "oci:$W/hardlink" "hardlink '/etc/motd-link' to '/etc/motd', which is missing or changed by a later layer\$"
}

@test "a whiteout removes a whole tree, and a file replaces a directory" {
        mkdir -p "$W/a/srv/tree/deep" "$W/a/opt/d/x" "$W/b/srv" "$W/b/opt"
        echo 1 >"$W/a/srv/tree/deep/f"
        echo 2 >"$W/a/opt/d/x/f"
        : >"$W/b/srv/.wh.tree"
        echo now-a-file >"$W/b/opt/d"
        tar -C "$W/a" -cf "$W/a.tar" .
        tar -C "$W/b" -cf "$W/b.tar" .
        make_layout "$W/lay" "$W/a.tar" "$W/b.tar"
        "$GOLDROOT" image import t:1 "oci:$W/lay"
        id=$("$GOLDROOT" image inspect --json t:1 | jq -r .id)
        root=$GOLDROOT_STORE/images/$id/root
        [ -d "$root/srv" ]
        [ -z "$(ls -A "$root/srv")" ]
        [ -f "$root/opt/d" ]
        [ "$(cat "$root/opt/d")" = now-a-file ]
}
