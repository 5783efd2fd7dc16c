#!/usr/bin/env bash
# Runs the commands of docs/writing-a-driver.md and checks that what they
# print is what the guide shows. The guide tags the blocks it vouches for
# with an HTML comment on the line before the fence (invisible when the
# markdown is rendered):
#   <!-- check-guide: ID run -->        a sh block, run; it must exit 0
#   <!-- check-guide: ID start -->      a sh block that starts the host in the
#                                       foreground: run in the background until
#                                       its "ready:" line (stopped at the end)
#   <!-- check-guide: ID output -->     what the run/start block ID prints
#                                       (stdout and stderr)
#   <!-- check-guide: ID file NAME -->  the block is saved as NAME
#   <!-- check-guide: ID same-as NAME --> the block must equal the file NAME
#                                       (one the guide did not write: generated)
# Blocks run in the order they appear, in one shell state carried from
# block to block (current folder, exported variables), from the source
# root, with HOME a fresh folder (the guide works in ~) and this build's
# bentos-driver-host and bentosctl first on PATH. Before comparing, the
# real HOME in the output reads /home/you (as in the guide), trailing
# blanks go, and the latency columns of `bentosctl stats` (which differ
# from run to run) are masked on both sides. The test harness
# (bentos-testing, which the generated `make test` uses) is in ~/bentos as
# §2's host install leaves it, copied from this build (building the host
# again would take minutes).
#   tests/guide/check-guide.sh SOURCE_DIR BUILD_DIR BENTOS_DRIVER_HOST BENTOSCTL
set -uo pipefail

if [ $# -ne 4 ]; then
  echo "usage: $0 SOURCE_DIR BUILD_DIR BENTOS_DRIVER_HOST BENTOSCTL" >&2
  exit 2
fi
src=$(realpath "$1") guide=$(realpath "$1")/docs/writing-a-driver.md
failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }
host_pid=
finish() {
  echo "check-guide: $checks passed, $failures failed"
  [ "$failures" -eq 0 ]
  exit
}
for tool in meson pkg-config make c++; do
  command -v "$tool" >/dev/null || { fail "$tool not found (scripts/install-deps.sh installs the build tools)"; finish; }
done
for bin in "$3" "$4"; do [ -x "$bin" ] || { fail "$bin is not built"; finish; }; done
bindir=$(mktemp -d)
ln -s "$(realpath "$3")" "$bindir/bentos-driver-host"
ln -s "$(realpath "$4")" "$bindir/bentosctl"

# The work folder lives in the build folder, not /tmp: the host refuses
# plugins under a folder others may write (section 9), and the guide's
# outputs show none of the warnings --dev would print there. A build folder
# that is itself under such a folder (a checkout in /tmp) uses the user's
# home instead; with no safe place at all the check is skipped, loudly.
world_writable_above() {
  local d
  d=$(realpath "$1")
  while :; do
    [ -n "$(find "$d" -maxdepth 0 -perm -0002 2>/dev/null)" ] && return 0
    [ "$d" = / ] && return 1
    d=$(dirname "$d")
  done
}
work_parent=$(realpath "$2")
if world_writable_above "$work_parent"; then
  work_parent=${HOME:-/nonexistent}
  if [ ! -d "$work_parent" ] || world_writable_above "$work_parent"; then
    echo "SKIPPED: check-guide: the build folder and \$HOME are under a folder anyone may write, where the host refuses plugins (guide section 9)"
    echo "check-guide: 0 passed, 0 failed"
    exit 0
  fi
fi
work=$(mktemp -d -p "$work_parent" bentos-guide.XXXXXX)
chmod 755 "$work"
cleanup() {
  if [ -n "$host_pid" ]; then
    # The host, and whatever the block's shell started if it did not exec it.
    pkill -TERM -P "$host_pid" 2>/dev/null
    kill "$host_pid" 2>/dev/null
    wait "$host_pid" 2>/dev/null
  fi
  rm -rf "$work" "$bindir"
}
trap cleanup EXIT
mkdir -p "$work/home" "$work/blocks"
home=$work/home

# The harness in ~/bentos, as `ninja install` with --prefix ~/bentos
# --libdir=lib puts it: the header, the archive, the .pc for that prefix.
build=$(realpath "$2")
for f in "$build/testing/libbentos-testing.a" "$build/testing/bentos-testing.pc"; do
  [ -f "$f" ] || { fail "$f is not built"; finish; }
done
mkdir -p "$home/bentos/include/bentos" "$home/bentos/lib/pkgconfig"
cp "$src/testing/bentos/testing.hpp" "$home/bentos/include/bentos/"
cp "$build/testing/libbentos-testing.a" "$home/bentos/lib/"
# shellcheck disable=SC2016  # ${prefix} is the .pc file's own variable
sed -e "s#^prefix=.*#prefix=$home/bentos#" -e 's#^includedir=.*#includedir=${prefix}/include#' \
  -e 's#^libdir=.*#libdir=${prefix}/lib#' "$build/testing/bentos-testing.pc" >"$home/bentos/lib/pkgconfig/bentos-testing.pc"

# 1. The tagged blocks, in order: blocks/N (the text) and `list` (N ID KIND ARG).
awk -v dir="$work/blocks" '
  /^<!-- check-guide: / { n++; id = $3; kind = $4; arg = ($5 == "-->") ? "" : $5
                          print n, id, kind, arg > (dir "/list"); want = 1; next }
  want && /^```/ { want = 0; inside = 1; file = dir "/" n; printf "" > file; next }
  inside && /^```$/ { inside = 0; close(file); next }
  inside { print > file }' "$guide"
[ -f "$work/blocks/list" ] || { fail "$guide has no check-guide blocks"; finish; }
for kind in run start output file same-as; do
  grep -q " $kind" "$work/blocks/list" || fail "the guide tags no '$kind' block (the tags changed?)"
done

normalize() {  # stdin -> stdout
  sed -e "s#$home#/home/you#g" -e 's/[[:blank:]]*$//' |
    sed -E 's/^(  [a-z_]+ +[0-9]+) +[0-9.]+ +[0-9.]+ +[0-9.]+$/\1 <latency>/'
}

# The shell state a block leaves for the next one.
echo "$src" >"$work/cwd"
{
  echo "export HOME=$home PATH=$bindir:$PATH"
  echo "unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR BENTOS_CONTROL_SOCKET BENTOS_DRIVER_HOST BENTOSCTL"
} >"$work/env"
# Call it outside any `if` or `||`: there bash would ignore set -e inside
# it, and a failing command in the middle of a block would go unnoticed.
run_block() {  # BLOCK_FILE OUTPUT_FILE
  (
    cd "$(cat "$work/cwd")" || exit 1
    . "$work/env"
    set -e
    . "$1"
    pwd >"$work/cwd"
    export -p | grep -vE '^declare -[a-zA-Z]*r' >"$work/env"
  ) >"$2" 2>&1
}

declare -A outputs  # ID -> file with what its block printed
while read -r n id kind arg; do
  block=$work/blocks/$n
  cwd=$(cat "$work/cwd")
  case $kind in
    run)
      run_block "$block" "$work/$id.out"
      status=$?
      if [ "$status" -eq 0 ]; then pass; else
        fail "block '$id' exited $status:"; sed 's/^/  /' "$block"; echo "  printed:"; sed 's/^/  /' "$work/$id.out"
      fi
      outputs[$id]=$work/$id.out ;;
    start)
      # bash -c runs a one-command block by exec: $host_pid is the host.
      (cd "$cwd" && . "$work/env" && exec bash -c "$(cat "$block")") >"$work/$id.log" 2>&1 &
      host_pid=$!
      for _ in $(seq 100); do grep -q '^ready: ' "$work/$id.log" && break; sleep 0.1; done
      if grep -q '^ready: ' "$work/$id.log"; then pass; else
        fail "block '$id' printed no ready line in 10 s:"; sed 's/^/  /' "$work/$id.log"
      fi
      sed '/^ready: /q' "$work/$id.log" >"$work/$id.out"
      outputs[$id]=$work/$id.out ;;
    output)
      if [ -z "${outputs[$id]:-}" ]; then fail "output block '$id' follows no run or start block '$id'"; continue; fi
      if diff -u <(normalize <"$block") <(normalize <"${outputs[$id]}") >"$work/$id.diff"; then pass; else
        fail "block '$id': the guide shows (-) what the command does not print (+):"; sed 's/^/  /' "$work/$id.diff"
      fi ;;
    file)
      cp "$block" "$cwd/$arg" && pass || fail "block '$id': cannot write $cwd/$arg" ;;
    same-as)
      if diff -u "$block" "$cwd/$arg" >"$work/$id.diff"; then pass; else
        fail "block '$id': the guide's $arg (-) differs from the generated one (+):"; sed 's/^/  /' "$work/$id.diff"
      fi ;;
    *) fail "block $n: unknown kind '$kind' (id '$id')" ;;
  esac
done <"$work/blocks/list"
finish
