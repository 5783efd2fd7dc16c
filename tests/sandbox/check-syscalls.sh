#!/usr/bin/env bash
# Verifies that the daemon lives within the units' sandbox, as far as a
# machine without systemd as PID 1 allows (systemd-run cannot apply the
# unit's settings here): one daemon session under strace -f serving every
# example pattern (raw, P1-P4, a worker-thread device), control commands,
# a reload through the control socket and one through SIGHUP, sd_notify
# with the fd store, then SIGTERM; and a second start that takes over a
# passed listening socket (LISTEN_FDS). Then every system call either
# process made (the daemon and an isolated device's child) must be allowed
# by SystemCallFilter=@system-service ~@resources setrlimit prlimit64 (the
# sets as this machine's systemd-analyze expands them),
# every socket() must be AF_UNIX (RestrictAddressFamilies=AF_UNIX) and
# every /proc file opened must be per-process (ProcSubset=pid).
#   tests/sandbox/check-syscalls.sh BENTOS_DRIVER_HOST BENTOSCTL PLUGIN_DIR
# Prints "check-syscalls: N passed, N failed".
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 BENTOS_DRIVER_HOST BENTOSCTL PLUGIN_DIR" >&2
  exit 2
fi
daemon=$(realpath "$1") ctl=$(realpath "$2") plugins=$(realpath "$3")

failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }
finish() {
  echo "check-syscalls: $checks passed, $failures failed"
  [ "$failures" -eq 0 ]
  exit
}
skip() {
  echo "SKIPPED: $*"
  checks=1
  finish
}

for tool in strace systemd-analyze python3; do
  command -v "$tool" >/dev/null || skip "$tool not found (scripts/install-deps.sh installs it)"
done
strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace not permitted)"
# A sanitizer's runtime makes system calls of its own (and is never what
# the units run).
if ldd "$daemon" 2>/dev/null | grep -qE 'lib(a|t|ub)san'; then
  skip "$daemon is a sanitizer build"
fi

work=$(mktemp -d)
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill -KILL "$daemon_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# --- the allowed set ---------------------------------------------------
# Expands a syscall group of systemd-analyze into names, recursively.
expand() {
  systemd-analyze syscall-filter "$1" | tail -n +2 | sed -n 's/^    \([-@a-z0-9_]*\)$/\1/p' | while read -r entry; do
    case $entry in
      @*) expand "$entry" ;;
      *) echo "$entry" ;;
    esac
  done
}
expand @system-service | sort -u >"$work/service"
expand @resources | sort -u >"$work/resources"
# The units allow setrlimit and prlimit64 again: an isolated device's
# child lowers its own limits.
{ comm -23 "$work/service" "$work/resources"; printf '%s\n' setrlimit prlimit64; } | sort -u >"$work/allowed"
[ -s "$work/allowed" ] || { fail "systemd-analyze syscall-filter gave no system calls"; finish; }

# --- a session under strace ---------------------------------------------
mkdir -p "$work/run"
# An isolated device (a child process: spawn, limits, no_new_privs and,
# as root, a switch to nobody with its capabilities dropped).
isolated_user=""
[ "$(id -u)" = 0 ] && isolated_user=', "user": "nobody"'

cat >"$work/devices.json" <<JSON
{"devices": [
  {"name": "hello", "plugin": "hello.so"},
  {"name": "playground", "plugin": "playground.so"},
  {"name": "echo", "plugin": "echo.so"},
  {"name": "kv", "plugin": "kv.so", "threads": 2},
  {"name": "ticker", "plugin": "ticker.so", "config": {"interval_ms": 50}},
  {"name": "synth", "plugin": "synth.so"},
  {"name": "kviso", "plugin": "kv.so", "isolation": "process",
   "limits": {"memory_bytes": 1073741824, "open_files": 256, "cpu_seconds": 3600}$isolated_user}
]}
JSON
args=(--config "$work/devices.json" --plugin-dir "$plugins" --socket-dir "$work/run"
      --control-socket "$work/control.sock" --allow-insecure-plugins)
control=(--control-socket "$work/control.sock")

# Waits until the control socket answers (the daemon is ready).
wait_ready() {
  for _ in $(seq 1 200); do
    "$ctl" status "${control[@]}" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}
# Runs one bentosctl command; a failure is a failed check.
ctl_ok() {
  if out=$("$ctl" "$@" 2>&1); then pass; else fail "bentosctl $*: $out"; fi
}

# The daemon starts through sh so that LISTEN_PID can name its own pid
# (exec keeps it); strace's trace starts with that sh, which the analysis
# skips (everything before the daemon's execve).
start_traced() {
  local trace=$1
  shift
  env "$@" strace -f -qq -o "$trace" -- /bin/sh -c 'LISTEN_PID=$$ exec "$0" "$@"' "$daemon" "${args[@]}" \
    >>"$work/daemon.log" 2>&1 &
  local strace_pid=$!
  wait_ready || { fail "the daemon did not start: $(cat "$work/daemon.log")"; return 1; }
  daemon_pid=$("$ctl" status "${control[@]}" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
  echo "$strace_pid" >"$work/strace.pid"
}
stop_traced() {
  kill -TERM "$daemon_pid"
  wait "$(cat "$work/strace.pid")"
  daemon_pid=""
}

# NOTIFY_SOCKET names a socket nobody reads: the sd_notify calls (and the
# FDSTORE messages with their fds) are still made, which is what counts.
start_traced "$work/trace1" NOTIFY_SOCKET="$work/notify.sock" || finish
ctl_ok run "$work/run/hello.sock" open read read release
ctl_ok run "$work/run/playground.sock" open rw,nonblock write hi read poll release
ctl_ok send "$work/run/echo.sock" hello
ctl_ok send "$work/run/kv.sock" name=bentos
ctl_ok send "$work/run/kv.sock" name
ctl_ok run "$work/run/ticker.sock" open read read release
ctl_ok run "$work/run/synth.sock" open write hello read-all release
ctl_ok ioctl "$work/run/synth.sock" 0x80
ctl_ok send "$work/run/kviso.sock" name=isolated
ctl_ok send "$work/run/kviso.sock" name
ctl_ok list "${control[@]}"
ctl_ok stats "${control[@]}"
# A reload that removes, adds and restarts devices (create and destroy on
# lifecycle threads), then one by SIGHUP.
sed -i -e '/"hello"/d' -e 's/"interval_ms": 50/"interval_ms": 60/' "$work/devices.json"
sed -i 's/^\]}$/, {"name": "echo2", "plugin": "echo.so"}\n]}/' "$work/devices.json"
ctl_ok reload "${control[@]}"
ctl_ok send "$work/run/echo2.sock" again
kill -HUP "$daemon_pid"
sleep 0.5
ctl_ok status "${control[@]}"
stop_traced

# A start that takes over a passed listening socket, as after a restart.
python3 - "$work/run/echo.sock" "$work/trace2" "$daemon" "${args[@]}" <<'PY' >>"$work/daemon.log" 2>&1 &
import os, socket, sys
path, trace, daemon, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
env = dict(os.environ, LISTEN_FDS="1", LISTEN_FDNAMES=path)
os.execvpe("strace", ["strace", "-f", "-qq", "-o", trace, "--", "/bin/sh", "-c",
                      'LISTEN_PID=$$ exec "$0" "$@"', daemon] + args, env)
PY
echo $! >"$work/strace.pid"
if wait_ready; then
  daemon_pid=$("$ctl" status "${control[@]}" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
  ctl_ok send "$work/run/echo.sock" adopted
  if grep -q "echo.sock: taken over" "$work/daemon.log"; then pass; else fail "the passed socket was not taken over: $(cat "$work/daemon.log")"; fi
  stop_traced
else
  fail "the daemon did not start with a passed socket: $(cat "$work/daemon.log")"
fi

# --- the analysis ----------------------------------------------------------
for trace in "$work/trace1" "$work/trace2"; do
  [ -f "$trace" ] || continue
  # From the daemon's execve on (before it: the sh that set LISTEN_PID).
  awk -v d="execve(\"$daemon\"" 'started || index($0, d) { started = 1; print }' "$trace" >"$trace.daemon"
  if [ ! -s "$trace.daemon" ]; then
    fail "$trace: no execve of $daemon"
    continue
  fi
  # "PID name(" lines; "<... name resumed>" continues a call already counted.
  sed -n 's/^[0-9]\+ \+\([a-z_0-9]\+\)(.*/\1/p' "$trace.daemon" | sort -u >"$trace.calls"
  echo "$(wc -l <"$trace.calls") distinct system calls in $(basename "$trace")"
  while read -r call; do
    if grep -qx "$call" "$work/allowed"; then pass; else fail "$call is not allowed by @system-service ~@resources ($(grep -m1 " $call(" "$trace.daemon"))"; fi
  done <"$trace.calls"
  while read -r line; do
    fail "a socket other than AF_UNIX: $line"
  done < <(grep -E '^[0-9]+ +socket\(' "$trace.daemon" | grep -v 'socket(AF_UNIX')
  while read -r line; do
    fail "a /proc file that is not per-process (ProcSubset=pid): $line"
  done < <(grep -E '"/proc/' "$trace.daemon" | grep -vE '"/proc/(self|thread-self|[0-9]+)(/|")')
  pass
done
finish
