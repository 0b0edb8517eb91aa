# What demo/demo.sh and demo/vmount.sh share. Sourced, never run.

# demo_enter SCRIPT BIN: sets GR to BIN's absolute path and, unless that was
# done already, runs SCRIPT again in a private mount namespace of its own, so
# that nothing it mounts outlives it. Root only.
demo_enter() {
        GR=$(realpath "$2")
        if [ "$(id -u)" -ne 0 ]; then
                echo "$(basename "$1"): must run as root (it mounts things)" >&2
                exit 1
        fi
        if [ -z "${GOLDROOT_DEMO_NAMESPACE:-}" ]; then
                exec env GOLDROOT_DEMO_NAMESPACE=1 unshare -m --propagation private -- "$1" "$GR"
        fi
}

# demo_umount_below DIR: lazily unmounts everything below DIR, deepest first.
demo_umount_below() {
        awk -v d="$1" 'index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | tac |
                while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# step DESCRIPTION COMMAND...: runs the command and prints one numbered line,
# "ok" with what it printed, or "FAILED" with its output, and then exits 1.
# STEP_WIDTH is the description's column width.
n=0
step() {
        local what=$1
        shift
        n=$((n + 1))
        if out=$("$@" 2>&1); then
                printf '%2d. %-*s ok%s\n' "$n" "${STEP_WIDTH:-62}" "$what" "${out:+  ($out)}"
        else
                printf '%2d. %-*s FAILED\n' "$n" "${STEP_WIDTH:-62}" "$what"
                [ -n "$out" ] && printf '    %s\n' "$out"
                exit 1
        fi
}
