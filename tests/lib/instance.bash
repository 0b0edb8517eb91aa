# Helpers for the instance suites (tests/cli/instance-*.bats). Load after
# common and images.
#
#   instance_build_busybox      (setup_file) a busybox root in $BATS_FILE_TMPDIR/bb,
#                               with a machine-id of its own and a hostname "gold"
#   instance_import_busybox     imports it as bb:1 into this test's store
#   instance_teardown           stops every instance of this test's store, so no
#                               process outlives the test

IMAGE_MACHINE_ID=0123456789abcdef0123456789abcdef

instance_build_busybox() {
        local d=$BATS_FILE_TMPDIR/bb
        [ -d "$d" ] && return 0
        busybox_rootfs "$d" >/dev/null 2>&1
        echo "$IMAGE_MACHINE_ID" >"$d/etc/machine-id"
        # The escaping symlink of the fixture would only get in the way here.
        rm -f "$d/srv/escape"
}

instance_import_busybox() {
        "$GOLDROOT" image import bb:1 "$BATS_FILE_TMPDIR/bb" >/dev/null
}

instance_teardown() {
        local n
        [ -e "$GOLDROOT_STORE/catalog.db" ] || return 0
        for n in $("$GOLDROOT" ls -q 2>/dev/null); do
                "$GOLDROOT" stop --timeout 2 "$n" || true
        done
}

# The content of a file inside a running instance.
in_instance() {
        local name=$1
        shift
        "$GOLDROOT" exec "$name" -- "$@"
}
