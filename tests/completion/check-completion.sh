#!/usr/bin/env bash
# Checks the shell completion of bentosctl (packaging/completion):
#  - bash: sources bentosctl.bash and runs its completion function on
#    several command lines, as bash would call it (COMP_WORDS split at
#    COMP_WORDBREAKS), comparing COMPREPLY with what is expected: the
#    commands and the ops of `run` as `bentosctl --help` and `bentosctl run
#    --help` list them, each command's options against its --help, socket
#    paths, open flags, and the device names a control socket answers (a
#    python3 stub speaking the control protocol: one JSON line per request),
#    from $BENTOS_CONTROL_SOCKET, --control-socket and `host SOCKET`;
#  - zsh: `zsh -n` on _bentosctl when zsh is installed (else SKIPPED, said
#    loudly).
#   tests/completion/check-completion.sh COMPLETION_DIR BENTOSCTL
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 COMPLETION_DIR BENTOSCTL" >&2
  exit 2
fi
dir=$1 ctl=$(realpath "$2")
command -v python3 >/dev/null || { echo "FAIL: python3 not found (scripts/install-deps.sh installs it)"; exit 1; }

failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }

work=$(mktemp -d)
stubs=()
cleanup() {
  local pid
  for pid in "${stubs[@]}"; do kill "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=../../packaging/completion/bentosctl.bash
source "$dir/bentosctl.bash"

# Runs the completion on LINE (the cursor at its end) and prints COMPREPLY
# sorted, one a line. COMP_WORDS is split as bash splits it: at blanks,
# with each run of COMP_WORDBREAKS characters used here (: = |) a word of
# its own. The first word is the bentosctl under test.
complete_line() {
  local line=$1 token
  local -a split=()
  for token in $line; do
    while IFS= read -r token; do split+=("$token"); done < <(grep -oE '[:=|]+|[^:=|]+' <<<"$token")
  done
  [[ $line == *[[:blank:]] ]] && split+=("")
  split[0]=$ctl
  COMP_LINE="$ctl ${line#bentosctl }"
  COMP_POINT=${#COMP_LINE}
  COMP_WORDS=("${split[@]}")
  COMP_CWORD=$((${#split[@]} - 1))
  COMPREPLY=()
  _bentosctl
  printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
}

words_sorted() { tr ' ' '\n' <<<"$*" | sed '/^$/d' | sort; }

# expect NAME LINE WORD...: COMPREPLY for LINE is exactly the WORDs.
expect() {
  local name=$1 line=$2
  shift 2
  local got want
  got=$(complete_line "$line")
  want=$(words_sorted "$@")
  if [ "$got" = "$want" ]; then pass; else
    fail "$name: '$line<TAB>'"
    diff <(echo "$want") <(echo "$got") | sed 's/^/    /'
  fi
}

# expect_has NAME LINE WORD...: COMPREPLY for LINE holds every WORD.
expect_has() {
  local name=$1 line=$2 word got
  shift 2
  got=$(complete_line "$line")
  for word in "$@"; do
    if grep -qxF -- "$word" <<<"$got"; then pass; else fail "$name: '$line<TAB>' lacks '$word' (got: $(tr '\n' ' ' <<<"$got"))"; fi
  done
}

echo "== bash: commands and ops, against bentosctl's own help =="
ctl_help=$("$ctl" --help)
help_commands=$(sed -n '/^Device commands:/,/^[A-Za-z`]/p; /^Host commands/,/^$/p; /^Driver authors:/,/^$/p' <<<"$ctl_help" |
  grep -oE '^  [a-z][a-z-]*( |$)' | tr -d ' ')
[ "$(wc -w <<<"$help_commands")" -ge 15 ] && pass || fail "found only '$help_commands' in bentosctl --help"
# `help` is a command too, though the help text does not list itself.
expect "first word" "bentosctl " $help_commands help
expect "first word, prefix" "bentosctl st" status stats
expect "first word, option" "bentosctl --" --help --version

run_ops=$("$ctl" run --help | sed -n '/^Ops/,/^$/p' | grep -oE '^  [a-z][a-z-]*' | tr -d ' ')
[ "$(wc -w <<<"$run_ops")" -ge 14 ] && pass || fail "found only '$run_ops' in bentosctl run --help"
expect "run ops" "bentosctl run run/kv.sock " $run_ops
expect "run ops after options" "bentosctl run --json --timeout 100 run/kv.sock " $run_ops
expect "run ops after an op" "bentosctl run run/kv.sock release " $run_ops
expect "run: an op's text is no op" "bentosctl run run/kv.sock write " 
expect "run: ops after write TEXT" "bentosctl run run/kv.sock write open " $run_ops
expect_has "run: open takes flags or an op" "bentosctl run run/kv.sock open " rw nonblock read release
expect "run: prefix" "bentosctl run run/kv.sock open rw write-" write-file write-hex write-stdin

echo "== bash: each command's options, against its --help =="
for cmd in $help_commands; do
  offered=$(complete_line "bentosctl $cmd --")
  documented=$("$ctl" "$cmd" --help 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u)
  for option in $offered; do
    if grep -qxF -- "$option" <<<"$documented" || [ "$option" = --help ]; then pass
    else fail "bentosctl $cmd --<TAB> offers $option, which 'bentosctl $cmd --help' does not name"; fi
  done
  [ -n "$offered" ] && pass || fail "bentosctl $cmd --<TAB> offers nothing"
done
# For these, the help lists exactly the command's own options.
for cmd in cat send run list; do
  documented=$("$ctl" "$cmd" --help 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u | grep -vx -- --help)
  for option in $documented; do
    expect_has "bentosctl $cmd options" "bentosctl $cmd --" "$option"
  done
done

echo "== bash: sockets, files, flags =="
mkdir -p "$work/cwd/sub"
: >"$work/cwd/kv.sock"
: >"$work/cwd/notes.txt"
cd "$work/cwd" || exit 1
expect "socket paths" "bentosctl cat " kv.sock sub/ unix:/// tcp://
expect "socket paths after options" "bentosctl read --all --timeout 5 " kv.sock sub/ unix:/// tcp://
expect "socket path prefix" "bentosctl send k" kv.sock
# unix:///... is split at ':' by bash: the reply replaces only the last piece.
expect "unix:// socket" "bentosctl cat unix://$work/cwd/k" "//$work/cwd/kv.sock"
expect "unix:// scheme" "bentosctl cat un" unix:///
expect "--control-socket value" "bentosctl list --control-socket " kv.sock sub/ unix:/// tcp://
# bash splits "--control-socket=k" into "--control-socket", "=", "k", and
# "--control-socket=" into "--control-socket", "=": a reply replaces the last.
expect "--control-socket=value" "bentosctl list --control-socket=k" kv.sock
expect "--control-socket=" "bentosctl list --control-socket=" =kv.sock =sub/ =unix:/// =tcp://
expect "run write-file" "bentosctl run kv.sock open write-file n" notes.txt
expect "open flags" "bentosctl open kv.sock rw,no" rw,noatime rw,noctty rw,nofollow rw,nonblock
expect "--flags" "bentosctl cat --flags r" ro rw
expect "nothing after the socket" "bentosctl cat kv.sock "
cd - >/dev/null || exit 1

echo "== bash: device names from the control socket =="
# A stub control socket: answers every request line with one list answer.
start_stub() {
  local socket=$1
  shift
  python3 - "$socket" "$@" <<'PY' &
import json, os, socket, sys
path, names = sys.argv[1], sys.argv[2:]
answer = json.dumps({"ok": True, "devices": [
    {"name": n, "pattern": "raw", "driver": "stub", "driver_version": "1", "plugin": "/x.so",
     "socket": "unix:///run/" + n + ".sock", "device_path": "/dev/bentos/" + n} for n in names]},
    separators=(",", ":")) + "\n"
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(8)
while True:
    conn, _ = server.accept()
    with conn:
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        if data:
            conn.sendall(answer.encode())
PY
  stubs+=($!)
  local tries=0
  while [ ! -S "$socket" ] && [ "$tries" -lt 100 ]; do sleep 0.05; tries=$((tries + 1)); done
  [ -S "$socket" ] || fail "the stub control socket $socket did not appear"
}
start_stub "$work/a.sock" alpha beta nested/gamma
start_stub "$work/b.sock" delta
export BENTOS_CONTROL_SOCKET=$work/a.sock
expect "stats, \$BENTOS_CONTROL_SOCKET" "bentosctl stats " alpha beta nested/gamma
expect "list, prefix" "bentosctl list a" alpha
expect "stats --control-socket" "bentosctl stats --control-socket $work/b.sock " delta
expect "stats --control-socket=" "bentosctl stats --control-socket=$work/b.sock " delta
expect "host SOCKET stats" "bentosctl host $work/b.sock stats " delta
expect "host SOCKET" "bentosctl host $work/b.sock " list metrics reload stats status
expect "host --json SOCKET stats" "bentosctl host --json $work/b.sock stats " delta
expect "one device only" "bentosctl stats alpha "
expect "status takes no device" "bentosctl status "
expect "metrics takes no device" "bentosctl metrics "
expect "metrics options" "bentosctl metrics --" --control-socket --help --json --timeout
# No host: no names, and no long wait.
export BENTOS_CONTROL_SOCKET=$work/none.sock
start=$(date +%s%N)
expect "no control socket" "bentosctl stats "
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed_ms" -lt 2000 ] && pass || fail "completing with no control socket took $elapsed_ms ms"
unset BENTOS_CONTROL_SOCKET

echo "== zsh =="
if command -v zsh >/dev/null; then
  if zsh -n "$dir/_bentosctl"; then pass; else fail "zsh -n $dir/_bentosctl"; fi
  head -n1 "$dir/_bentosctl" | grep -qx '#compdef bentosctl' && pass || fail "_bentosctl does not start with '#compdef bentosctl'"
else
  # Counted as passed, like a doctest case that skips: scripts/test.sh
  # turns each "SKIPPED:" line into a skip.
  echo "SKIPPED: zsh not installed (zsh -n $dir/_bentosctl not run)"
  pass
fi

echo "check-completion: $checks passed, $failures failed"
[ "$failures" -eq 0 ]
