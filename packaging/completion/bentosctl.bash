# bash completion for bentosctl                          -*- shell-script -*-
# Installed as <bash-completion completionsdir>/bentosctl, where
# bash-completion loads it the first time bentosctl is completed; it also
# works when sourced by hand. It completes the commands, each command's
# options, the ops of `run`, open flags and poll events, socket paths
# (*.sock files, sockets, folders, unix:// and tcp://) and, for list,
# stats and `host SOCKET stats`, the device names of the running host
# (`bentosctl list --json`, asked with a short timeout; nothing when no host
# answers). The lists below follow tools/bentosctl (help.cpp, script.cpp,
# control.cpp, options.cpp); tests/completion/check-completion.sh checks
# them against `bentosctl --help`.

_bentosctl_commands="cat send open read write flush fsync ioctl poll release run list status stats metrics reload host new-driver help"
_bentosctl_control_commands="list status stats metrics reload"
_bentosctl_run_ops="open write write-hex write-file write-stdin read read-all flush fsync fdatasync ioctl poll release sleep"
_bentosctl_open_flags="ro wo rw nonblock append creat trunc excl cloexec sync dsync noctty nofollow directory async noatime direct path"
_bentosctl_poll_events="in out pri err hup nval rdnorm rdband wrnorm wrband msg rdhup"

# Sets words and cword from COMP_WORDS, gluing back what COMP_WORDBREAKS
# split off (':' in unix:///x.sock, '=' in --timeout=5, '|' in rw|append):
# a piece not preceded by a blank belongs to the word before it.
_bentosctl_words() {
  local line=${COMP_LINE:0:COMP_POINT} i piece
  words=() cword=-1
  for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
    piece=${COMP_WORDS[i]}
    if ((i == 0)) || [[ $line == [[:blank:]]* ]]; then
      words+=("")
      line=${line#"${line%%[![:blank:]]*}"}
    fi
    # The cursor may sit inside the last word: keep what is before it.
    [[ $line == "$piece"* ]] || piece=$line
    words[${#words[@]} - 1]+=$piece
    line=${line#"$piece"}
    ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
  done
  ((cword >= 0)) || cword=$((${#words[@]} - 1))
}

# COMPREPLY from the candidates that start with $cur, each put after $lead
# (the "--option=" of a value completed in the same word) and made
# relative to the piece bash is replacing: the part of the word after its
# last word break.
_bentosctl_reply() {
  local full=$lead$cur piece=${COMP_WORDS[COMP_CWORD]} prefix candidate
  [[ $full == *"$piece" ]] || piece=$full
  prefix=${full%"$piece"}
  COMPREPLY=()
  for candidate in "$@"; do
    [[ $candidate == "$cur"* ]] || continue
    candidate=$lead$candidate
    COMPREPLY+=("${candidate#"$prefix"}")
  done
  # A folder or a scheme is a start, not a whole word.
  if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == */ ]]; then
    compopt -o nospace 2>/dev/null
  fi
  return 0
}

# Words of a list (several joined with ',' or '|', as open flags are).
_bentosctl_joined() {
  local last=${cur##*[,|]} word
  local -a candidates=()
  for word in $1; do candidates+=("${cur%"$last"}$word"); done
  _bentosctl_reply "${candidates[@]}"
}

_bentosctl_sockets() {
  local scheme="" path=$cur file
  local -a candidates=()
  case $cur in
    unix://*) scheme=unix:// path=${cur#unix://} ;;
    tcp://*) return 0 ;;  # host:port, nothing to offer
  esac
  local IFS=$'\n'
  for file in $(compgen -f -- "$path"); do
    if [[ -d $file ]]; then candidates+=("$scheme$file/")
    elif [[ $file == *.sock || -S $file ]]; then candidates+=("$scheme$file")
    fi
  done
  # unix:// is followed by an absolute path, hence its third slash.
  [[ -z $scheme ]] && candidates+=(unix:/// tcp://)
  _bentosctl_reply "${candidates[@]}"
}

_bentosctl_files() {
  local IFS=$'\n' file
  local -a candidates=()
  for file in $(compgen -f -- "$cur"); do
    [[ -d $file ]] && candidates+=("$file/") || candidates+=("$file")
  done
  _bentosctl_reply "${candidates[@]}"
}

# The running host's device names. $1: the control socket named on the
# command line, if any (else bentosctl uses $BENTOS_CONTROL_SOCKET or its
# default). Bounded twice: the daemon must answer within 300 ms, and the
# whole call is killed after 1 s should the connect itself hang.
_bentosctl_devices() {
  local ctl=${words[0]}
  command -v -- "$ctl" >/dev/null 2>&1 || ctl=bentosctl
  local -a args=(list --json --timeout 300)
  [[ -n ${1-} ]] && args+=(--control-socket "$1")
  local answer
  if command -v timeout >/dev/null 2>&1; then
    answer=$(timeout 1 "$ctl" "${args[@]}" 2>/dev/null)
  else
    answer=$("$ctl" "${args[@]}" 2>/dev/null)
  fi
  local -a names=()
  local IFS=$'\n' match
  for match in $(grep -oE '"name" *: *"[^"]*"' <<<"$answer"); do
    match=${match%\"}
    names+=("${match##*\"}")
  done
  _bentosctl_reply "${names[@]}"
}

# Does option $1 of a command take a value (the next word)?
_bentosctl_takes_value() {
  case $1 in
    --control-socket | --timeout | --fh | --size | --out-size | --flags | --file | --hex) return 0 ;;
    --pattern | --lang | --dir) return 0 ;;  # new-driver
  esac
  return 1
}

# Completes the value of option $1.
_bentosctl_option_value() {
  case $1 in
    --control-socket) _bentosctl_sockets ;;
    --flags) _bentosctl_joined "$_bentosctl_open_flags" ;;
    --file | --dir) _bentosctl_files ;;
    --pattern) _bentosctl_reply p1 p2 p3 p4 raw ;;
    --lang) _bentosctl_reply cpp c ;;
    *) COMPREPLY=() ;;  # numbers, hex
  esac
}

_bentosctl_options_of() {
  case $1 in
    cat | send) echo "--flags --size --fh --timeout --json --help" ;;
    run) echo "--fh --timeout --out-size --json --help" ;;
    list | status | stats | metrics | reload) echo "--control-socket --json --timeout --help" ;;
    host) echo "--json --timeout --help" ;;  # the socket is its first word
    new-driver) echo "--pattern --lang --dir --help" ;;
    read) echo "--flags --fh --timeout --json --verbose --all --help" ;;
    write) echo "--flags --fh --timeout --json --verbose --file --hex --help" ;;
    fsync) echo "--flags --fh --timeout --json --verbose --datasync --help" ;;
    ioctl) echo "--flags --fh --timeout --json --verbose --out-size --help" ;;
    *) echo "--flags --fh --timeout --json --verbose --help" ;;
  esac
}

_bentosctl_is_op() {
  [[ " $_bentosctl_run_ops " == *" $1 "* ]]
}

# After `run SOCKET`: walks the ops before the cursor to tell whether the
# word being completed is an op, an op's argument, or either.
_bentosctl_run_args() {
  local i=$1 word need="" optional=""
  for (( ; i < cword; i++)); do
    word=${words[i]}
    if [[ -n $need ]]; then
      [[ $need == ioctl ]] && optional=ioctl-payload
      need=""
      continue
    fi
    if [[ -n $optional ]] && ! _bentosctl_is_op "$word"; then
      optional=""
      continue
    fi
    optional=""
    case $word in
      write | write-hex | write-file | sleep | ioctl) need=$word ;;
      open | read | read-all | poll) optional=$word ;;
    esac
  done
  case $need in
    write-file) _bentosctl_files; return ;;
    ?*) COMPREPLY=(); return ;;  # text, hex, milliseconds, an ioctl CMD
  esac
  local -a candidates=($_bentosctl_run_ops)
  case $optional in
    open) [[ $cur == *[,\|]* ]] && { _bentosctl_joined "$_bentosctl_open_flags"; return; }
      candidates+=($_bentosctl_open_flags) ;;
    poll) [[ $cur == *[,\|]* ]] && { _bentosctl_joined "$_bentosctl_poll_events"; return; }
      candidates+=($_bentosctl_poll_events) ;;
  esac
  _bentosctl_reply "${candidates[@]}"
}

_bentosctl() {
  local cur words cword lead=""
  _bentosctl_words
  cur=${words[cword]}
  COMPREPLY=()

  if ((cword == 1)); then
    if [[ $cur == -* ]]; then _bentosctl_reply --help --version
    else _bentosctl_reply $_bentosctl_commands
    fi
    return 0
  fi
  local command=${words[1]} control_socket=""
  case $command in
    help) ((cword == 2)) && _bentosctl_reply $_bentosctl_commands; return 0 ;;
    host)
      # host CONTROL_SOCKET [COMMAND] [DEVICE]: the first two words that
      # are no options, as bentosctl reads them.
      local i host_command_at=0
      local -a host_words=()
      for ((i = 2; i < cword; i++)); do
        [[ ${words[i]} == -* ]] && continue
        host_words+=("${words[i]}")
        ((${#host_words[@]} == 2)) && host_command_at=$i
      done
      if [[ $cur != -* ]]; then
        case ${#host_words[@]} in
          0) _bentosctl_sockets; return 0 ;;
          1) _bentosctl_reply $_bentosctl_control_commands; return 0 ;;
        esac
      fi
      control_socket=${host_words[0]-}
      ;;
  esac

  local prev=${words[cword - 1]}
  if [[ $cur != -*=* ]] && _bentosctl_takes_value "$prev"; then
    _bentosctl_option_value "$prev"
    return 0
  fi
  if [[ $cur == --*=* ]]; then
    local option=${cur%%=*}
    lead=$option=
    cur=${cur#*=}
    _bentosctl_option_value "$option"
    return 0
  fi
  if [[ $cur == -* ]]; then
    _bentosctl_reply $(_bentosctl_options_of "$command")
    return 0
  fi

  # The positional words before the cursor, option values left out.
  # `host CONTROL_SOCKET COMMAND ...` is COMMAND with two words more.
  local i word first_positional=2 sub=$command
  local -a positional=()
  if [[ $command == host ]]; then
    first_positional=$((host_command_at + 1)) sub=${host_words[1]-status}
  fi
  for ((i = first_positional; i < cword; i++)); do
    word=${words[i]}
    case $word in
      --control-socket=*) control_socket=${word#*=} ;;
      -*=*) ;;
      -*)
        if _bentosctl_takes_value "$word"; then
          [[ $word == --control-socket ]] && control_socket=${words[i + 1]}
          ((i++))
        fi
        ;;
      *)
        positional+=("$word")
        # run: the first op ends the options; the ops take over from here.
        if [[ $sub == run ]] && ((${#positional[@]} == 1)); then
          local j
          for ((j = i + 1; j < cword; j++)); do
            word=${words[j]}
            if [[ $word == -* ]]; then
              _bentosctl_takes_value "$word" && ((j++))
              continue
            fi
            _bentosctl_run_args "$j"
            return 0
          done
          _bentosctl_reply $_bentosctl_run_ops
          return 0
        fi
        ;;
    esac
  done
  case $sub in
    list | stats) ((${#positional[@]} == 0)) && _bentosctl_devices "$control_socket" ;;
    status | metrics | reload | new-driver) ;;  # new-driver: NAME is the author's
    run) ((${#positional[@]} == 0)) && _bentosctl_sockets ;;
    open | poll)
      if ((${#positional[@]} == 0)); then _bentosctl_sockets
      elif ((${#positional[@]} == 1)); then
        [[ $sub == open ]] && _bentosctl_joined "$_bentosctl_open_flags" || _bentosctl_joined "$_bentosctl_poll_events"
      fi
      ;;
    cat | send | read | write | flush | fsync | ioctl | release)
      ((${#positional[@]} == 0)) && _bentosctl_sockets ;;
  esac
  return 0
}

complete -F _bentosctl bentosctl
