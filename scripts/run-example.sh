#!/usr/bin/env bash
# Sets everything up and runs the host in the foreground, serving the
# example devices of config/devices.json with sockets under ./run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build >/dev/null
rundir="$PWD/run"
mkdir -p "$rundir"
ctl="build/tools/bentosctl/bentosctl"
cat <<MSG
bentos-driver-host is starting with the example devices (config/devices.json).
Sockets are in $rundir. From another terminal, try:

  $ctl run $rundir/hello.sock open read read release
  $ctl run $rundir/kv.sock open rw write 'name=bentos' flush read write name read release
  $ctl list --control-socket $rundir/control.sock
  $ctl stats kv --control-socket $rundir/control.sock

Press Ctrl-C to stop.
MSG
args=(--config config/devices.json --plugin-dir build/plugins --socket-dir "$rundir"
      --control-socket "$rundir/control.sock")
# The host refuses plugins that someone besides root or you could replace
# (docs/security.md). A checkout made with umask 002 is group-writable, so
# its build/plugins fails that check: only then run with
# --allow-insecure-plugins, and say so.
if ! check=$(build/host/bentos-driver-host --check "${args[@]}" 2>&1) && grep -q "refusing to load" <<<"$check"; then
  echo "note: build/plugins fails the plugin trust check (a group-writable checkout?); using --allow-insecure-plugins" >&2
  args+=(--allow-insecure-plugins)
fi
exec build/host/bentos-driver-host "${args[@]}" "$@"
