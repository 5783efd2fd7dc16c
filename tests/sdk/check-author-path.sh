#!/usr/bin/env bash
# The new driver author's path from source, timed, from a clean temporary
# folder, as docs/writing-a-driver.md §2 ("From the source tree"), §3.1
# and §3.9 tell it. The path issue 16 times ("under 2 minutes of wall time
# after the Debian packages are present") is the packages' one, which
# builds nothing: scripts/check-package.sh times it after installing them.
# This one builds the harness, so it is the slow path, kept measured:
#   1. meson setup      a build folder for the host, tests off
#   2. build            only what the path needs: `ninja sdk-testing` (the
#                       harness library, the host's core inside, and the
#                       installed guides) and bentosctl
#   3. install          the SDK and the harness (--tags sdk,testing) into a
#                       temporary prefix
#   4. new-driver       bentosctl new-driver mydrv --pattern p2
#   5. make             the plugin mydrv.so
#   6. make test        the generated harness test, built and run
# Each step must succeed and the test pass; the times are printed, with
# whether the total is under 120 s, for information only: a loaded machine
# is slow, not wrong. A compiler cache (ccache, which meson uses when it is
# installed) is left to the environment and named in the output, since it
# changes the build time the most; CCACHE_DISABLE=1 times a machine without
# one, as a clean CI machine is (scripts/install-deps.sh installs none).
#   tests/sdk/check-author-path.sh SOURCE_DIR
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 SOURCE_DIR" >&2
  exit 2
fi
src=$(realpath "$1")
failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }
finish() {
  echo "check-author-path: $checks passed, $failures failed"
  [ "$failures" -eq 0 ]
  exit
}
for tool in meson ninja pkg-config make c++ cc; do
  command -v "$tool" >/dev/null || { fail "$tool not found (scripts/install-deps.sh installs the build tools)"; finish; }
done
if ! echo '#include <doctest/doctest.h>' | c++ -std=c++20 -fsyntax-only -x c++ - 2>/dev/null; then
  echo "SKIPPED: doctest headers not found (Debian doctest-dev), which the generated test uses"
  finish
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build=$work/build prefix=$work/prefix project=$work/mydrv
now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds() { printf '%d.%d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }
report=""
total_ms=0
# step NAME COMMAND... : runs it with its output in $work/NAME.log, times it.
step() {
  local name=$1 t0 ms
  shift
  t0=$(now_ms)
  "$@" >"$work/$name.log" 2>&1
  local status=$?
  ms=$(($(now_ms) - t0))
  total_ms=$((total_ms + ms))
  report+="author-path: $(printf '%-10s' "$name") $(seconds "$ms")"$'\n'
  if [ "$status" -ne 0 ]; then
    fail "$name ($*) exited $status:"; sed 's/^/  /' "$work/$name.log"; return 1
  fi
  pass
}
# Every line starts "author-path: ", which scripts/test.sh shows after its
# summary.
print_times() {
  local cache=off verdict=no
  if [ -z "${CCACHE_DISABLE:-}" ] && grep -q ccache "$build/build.ninja" 2>/dev/null; then cache=on; fi
  [ "$total_ms" -lt 120000 ] && verdict=yes
  printf '%s' "$report"
  echo "author-path: total $(seconds "$total_ms") (from source; the packages' path: scripts/check-package.sh); under 120 s: $verdict (ccache $cache, $(nproc) cores)"
}

cd "$work" || finish
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
jobs=${BENTOS_JOBS:-$(nproc)}
step setup meson setup "$build" "$src" --prefix="$prefix" --libdir=lib -Dtests=false &&
  step build ninja -C "$build" -j"$jobs" sdk-testing tools/bentosctl/bentosctl &&
  step install meson install -C "$build" --tags sdk,testing --no-rebuild &&
  step new-driver "$build/tools/bentosctl/bentosctl" new-driver mydrv --pattern p2 --dir "$project" &&
  step make make -C "$project" &&
  step make-test make -C "$project" test
ok=$?
print_times
if [ $ok -eq 0 ]; then
  # The generated test ran and all its cases passed.
  if grep -qE '^\[doctest\] test cases: *([1-9][0-9]*) \| *\1 passed \| *0 failed' "$work/make-test.log"; then pass; else
    fail "the generated test printed no passing summary:"; sed 's/^/  /' "$work/make-test.log"
  fi
  # Only the path's targets were built: not the host, not the tests.
  if [ ! -e "$build/host/bentos-driver-host" ]; then pass; else
    fail "the build step built the host too (more than the path needs)"
  fi
fi
finish
