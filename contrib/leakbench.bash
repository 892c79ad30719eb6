# bash completion for leakbench.
#
# Install as /usr/share/bash-completion/completions/leakbench (make install
# does), or source it.  Commands and options are read from the binary's
# own --help at completion time, so they are never out of date; file
# arguments complete as files, scenario names after `serve`/`list` from
# `leakbench list`.
_leakbench() {
    local cur prev cmd
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    cmd=${COMP_WORDS[1]}
    local bin=${COMP_WORDS[0]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        local cmds
        cmds=$("$bin" --help 2>/dev/null | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1}')
        COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
        return
    fi
    case $prev in
        -o | --output) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --scheduler) COMPREPLY=($(compgen -W "threads coroutines" -- "$cur")); return ;;
        --variant | --aa) COMPREPLY=($(compgen -W "leaky graceful" -- "$cur")); return ;;
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
        --format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
    esac
    if [[ $cur == -* ]]; then
        local opts
        opts=$("$bin" "$cmd" --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]*' | sort -u)
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    if [ "$cmd" = serve ] && [ "$COMP_CWORD" -eq 2 ]; then
        local names
        names=$("$bin" list 2>/dev/null | awk '/^[a-z_]+ / {print $1}')
        COMPREPLY=($(compgen -W "$names" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _leakbench leakbench
