# Helpers for the mount and vmount suites: what /proc/self/mountinfo says about
# a path. Test paths contain no characters that mountinfo escapes.

# Number of mounts at or below DIR.
mounts_under() {
        awk -v d="$1" '$5 == d || index($5, d "/") == 1 { n++ } END { print n + 0 }' \
                /proc/self/mountinfo
}

# Number of mounts exactly at PATH (stacked ones count separately).
mounts_at() {
        awk -v d="$1" '$5 == d { n++ } END { print n + 0 }' /proc/self/mountinfo
}

# The per-mount options (field 6) of the top mount at PATH.
mount_opts() {
        awk -v d="$1" '$5 == d { o = $6 } END { print o }' /proc/self/mountinfo
}

# The file system type of the top mount at PATH.
mount_fstype() {
        awk -v d="$1" '$5 == d { for (i = 7; i <= NF; i++) if ($i == "-") t = $(i + 1) }
                       END { print t }' /proc/self/mountinfo
}

# Loop devices backed by FILE, one per line.
loops_of() {
        losetup -n -O NAME -j "$1"
}

# Succeeds if the options field of the mount at PATH has OPT.
has_opt() {
        [[ ",$(mount_opts "$1")," == *",$2,"* ]]
}

# Tears down anything a failed test left under $BATS_TEST_TMPDIR: tests run in
# a private mount namespace, but loop devices are global.
mount_teardown() {
        local d=$BATS_TEST_TMPDIR
        [ -n "$d" ] || return 0
        awk -v d="$d" 'index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | tac |
                while read -r m; do umount -l "$m" 2>/dev/null; done
        while read -r dev file; do
                [[ "$file" == "($d/"* ]] && losetup -d "${dev%:}" 2>/dev/null
        done < <(losetup -a | awk '{ print $1, $3 }')
        return 0
}
