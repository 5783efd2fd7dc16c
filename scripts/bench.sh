#!/usr/bin/env bash
# Builds a release tree (./build-release), starts the host with the example
# devices (config/devices.json) on sockets in a temp directory, runs
# bentos-bench against kv, echo, hello and the in-process raw framed-echo
# baseline, stops the host and prints the table (README "Benchmarks").
#   scripts/bench.sh [bentos-bench options]   e.g. --seconds 5 --connections 4 --depth 16
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if ! log=$(scripts/build.sh build-release -Dbuildtype=release 2>&1); then
  echo "$log" >&2
  echo "bench: the release build failed (build-release)" >&2
  exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/bentos-bench.XXXXXX")
host_pid=""
cleanup() {
  if [ -n "$host_pid" ] && kill -0 "$host_pid" 2>/dev/null; then
    kill -TERM "$host_pid" 2>/dev/null || true
    wait "$host_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

build-release/host/bentos-driver-host \
  --config config/devices.json \
  --plugin-dir build-release/plugins \
  --socket-dir "$dir" \
  --control-socket "$dir/control.sock" \
  --log-level warn 2>"$dir/host.log" &
host_pid=$!

# Wait (up to 10 s) for the sockets the benchmark uses.
for _ in $(seq 100); do
  if [ -S "$dir/kv.sock" ] && [ -S "$dir/echo.sock" ] && [ -S "$dir/hello.sock" ]; then break; fi
  if ! kill -0 "$host_pid" 2>/dev/null; then
    echo "bench: bentos-driver-host exited; its log:" >&2
    cat "$dir/host.log" >&2
    exit 1
  fi
  sleep 0.1
done

status=0
build-release/tools/bench/bentos-bench "$@" \
  kv="$dir/kv.sock" echo="$dir/echo.sock" hello="$dir/hello.sock" baseline || status=$?
if [ -s "$dir/host.log" ]; then
  echo "bench: host log (warnings and errors):" >&2
  cat "$dir/host.log" >&2
fi
exit "$status"
