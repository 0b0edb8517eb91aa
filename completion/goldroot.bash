# bash completion for goldroot(1)                                 -*- shell-script -*-
#
# Nothing here is a copy of the command line: the verbs, the image
# subcommands, each command's options and which of them take an argument are
# read from `goldroot ... --help` when TAB is pressed, and the positional
# arguments from the command's synopsis there (NAME, IMG, NAME:TAG, FILE,
# DIR...). So a new verb or option completes without a change here, and
# tests/cli/completion.bats checks this file against --help.
#
# Completes image references (NAME:TAG and short ids, from `goldroot image
# ls`), instance names (`goldroot ls -q`), profile files (*.profile), the
# built-in modes, policies, network kinds, export formats and prep operations.

# The goldroot that is being completed, with the --store of the line.
_goldroot_run() {
        "${_goldroot_cmd[@]}" "$@" 2>/dev/null
}

# "OPTION ARG" per option of a --help text ("-" for no argument).
_goldroot_options() {
        _goldroot_run "$@" --help | awk '
                /^  -/ {
                        spec = substr($0, 3)
                        i = index(spec, "  ")
                        if (i > 0)
                                spec = substr(spec, 1, i - 1)
                        n = split(spec, alts, ", ")
                        arg = "-"
                        if (match(alts[n], / [^ ]+$/))
                                arg = substr(alts[n], RSTART + 1)
                        for (k = 1; k <= n; k++) {
                                sub(/ .*/, "", alts[k])
                                print alts[k], arg
                        }
                }'
}

# The positional arguments of the synopsis that fits the words typed, one
# metavariable a line ("NAME...", "IMG", "FILE"...). Optional groups, option
# pairs and the command after "--" are left out; of "(A | B)" the first.
_goldroot_positionals() {
        local typed=" $1 "
        shift
        _goldroot_run "$@" --help | awk -v typed="$typed" -v skip="$#" '
                NR == 1 { sub(/^Usage: /, "") }
                /^$/ { exit }
                /^ +goldroot / || NR == 1 { sub(/^ +/, ""); n++; line[n] = $0; next }
                { sub(/^ +/, " "); line[n] = line[n] $0 }
                END {
                        chosen = ""
                        for (k = 1; k <= n; k++) {
                                s = line[k]
                                while (gsub(/\[[^][]*\]/, "", s)) {}
                                while (match(s, /\([^()]*\)/)) {
                                        alt = substr(s, RSTART + 1, RLENGTH - 2)
                                        sub(/ *\|.*/, "", alt)
                                        s = substr(s, 1, RSTART - 1) alt substr(s, RSTART + RLENGTH)
                                }
                                m = split(s, w, " ")
                                ok = 1
                                out = ""
                                for (i = 2 + skip; i <= m; i++) {
                                        if (w[i] == "--")
                                                break
                                        if (w[i] ~ /^-/) {
                                                if (index(typed, " " w[i] " ") == 0)
                                                        ok = 0
                                                if (i < m && w[i + 1] ~ /^[A-Z]/)
                                                        i++
                                                continue
                                        }
                                        out = out w[i] "\n"
                                }
                                if (k == 1)
                                        chosen = out
                                if (ok) {
                                        chosen = out
                                        break
                                }
                        }
                        printf "%s", chosen
                }'
}

_goldroot_images() {
        _goldroot_run image ls | awk 'NR > 1 { if ($1 != "<none>") print $1; print $2 }' | sort -u
}

_goldroot_tags() {
        _goldroot_run image ls | awk 'NR > 1 && $1 != "<none>" { print $1 }'
}

_goldroot_instances() {
        _goldroot_run ls -q
}

# Completes the value of a metavariable (an option's argument or a
# positional argument) into COMPREPLY.
_goldroot_value() {
        local meta=$1 cur=$2 verb=$3 words
        case $meta in
        IMG | IMG1 | IMG2)
                words=$(_goldroot_images)
                ;;
        ID)
                words=$(_goldroot_run image ls -q)
                ;;
        NAME:TAG)
                words=$(_goldroot_tags)
                ;;
        NAME | NAME...)
                # A new name for create and run; an existing instance elsewhere.
                [ "$verb" = create ] || [ "$verb" = run ] && return 0
                words=$(_goldroot_instances)
                ;;
        MODE)
                words="ro rw volatile"
                ;;
        POLICY)
                words="keep-local merge theirs"
                ;;
        NET)
                words="none host"
                local b
                for b in /sys/class/net/*/bridge; do
                        [ -d "$b" ] || continue
                        b=${b%/bridge}
                        words+=" bridge:${b##*/}"
                done
                [ "$cur" = "${cur#bridge:}" ] && words+=" bridge:"
                ;;
        FORMAT)
                words="tar erofs"
                ;;
        OP,...)
                local done=${cur%"${cur##*,}"}
                words=$(_goldroot_run image prep --list | awk -v p="$done" '{ print p $1 }')
                ;;
        FILE)
                # Profiles for --profile; any file otherwise.
                compopt -o filenames 2>/dev/null
                if [ "$verb" = export ] || [ "$verb" = import ]; then
                        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                else
                        mapfile -t COMPREPLY < <(compgen -d -- "$cur"
                                                 compgen -f -X '!*.profile' -- "$cur")
                fi
                return 0
                ;;
        SOURCE)
                compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                return 0
                ;;
        DIR)
                compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -d -- "$cur")
                return 0
                ;;
        *)
                return 0
                ;;
        esac
        mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}

_goldroot() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=
        local -a _goldroot_cmd=("${COMP_WORDS[0]}") cmd=() positional=()
        local i w verb= sub= takes opts
        COMPREPLY=()
        [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}

        # The verb and the image subcommand, skipping global options.
        for ((i = 1; i < COMP_CWORD; i++)); do
                w=${COMP_WORDS[i]}
                if [ "$w" = --store ] && [ $((i + 1)) -lt "$COMP_CWORD" ]; then
                        _goldroot_cmd+=(--store "${COMP_WORDS[i + 1]}")
                        [ -z "$verb" ] && i=$((i + 1)) && continue
                fi
                if [ -z "$verb" ]; then
                        [[ $w == -* ]] || verb=$w
                elif [ "$verb" = image ] && [ -z "$sub" ] && [[ $w != -* ]]; then
                        sub=$w
                fi
        done

        if [ -z "$verb" ]; then
                if [ "$prev" = --store ]; then
                        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
                elif [[ $cur == -* ]]; then
                        opts=$(_goldroot_options | awk '{ print $1 }')
                        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
                else
                        opts=$(_goldroot_run --help |
                                sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p')
                        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
                fi
                return 0
        fi
        if [ "$verb" = image ] && [ -z "$sub" ]; then
                opts=$(_goldroot_run image --help |
                        sed -n 's/^  goldroot image \([a-z][a-z0-9-]*\).*/\1/p')
                mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
                return 0
        fi
        cmd=("$verb")
        [ -n "$sub" ] && cmd+=("$sub")

        # Options, and which take an argument (the global --store too).
        takes=$(_goldroot_options "${cmd[@]}"; echo "--store DIR")

        # After "--" comes the instance's command: nothing to complete.
        for ((i = 1; i < COMP_CWORD; i++)); do
                [ "${COMP_WORDS[i]}" = -- ] && return 0
        done

        # The argument of an option.
        if [[ $prev == -* ]]; then
                w=$(awk -v o="$prev" '$1 == o { print $2; exit }' <<<"$takes")
                if [ -n "$w" ] && [ "$w" != - ]; then
                        _goldroot_value "$w" "$cur" "${cmd[-1]}"
                        return 0
                fi
        fi
        if [[ $cur == -* ]]; then
                opts=$(awk '$1 != "--store" { print $1 } END { print "--help" }' <<<"$takes" | sort -u)
                mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
                return 0
        fi

        # A positional argument: which one is it?
        local n=0 seen=" "
        for ((i = 1; i < COMP_CWORD; i++)); do
                w=${COMP_WORDS[i]}
                if [[ $w == -* ]]; then
                        seen+="$w "
                        [ "$(awk -v o="$w" '$1 == o { print $2; exit }' <<<"$takes")" ] &&
                                [ "$(awk -v o="$w" '$1 == o { print $2; exit }' <<<"$takes")" != - ] &&
                                i=$((i + 1))
                        continue
                fi
                n=$((n + 1))
        done
        # The words before are the verb (and subcommand) themselves.
        n=$((n - ${#cmd[@]}))
        mapfile -t positional < <(_goldroot_positionals "$seen" "${cmd[@]}")
        [ "${#positional[@]}" -eq 0 ] && return 0
        if [ "$n" -ge "${#positional[@]}" ]; then
                # Only a repeated last one ("NAME...") takes more.
                w=${positional[-1]}
                [[ $w == *... ]] || return 0
        else
                w=${positional[n]}
        fi
        _goldroot_value "$w" "$cur" "${cmd[-1]}"
}

complete -F _goldroot goldroot
