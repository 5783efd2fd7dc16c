#!/usr/bin/env bash
# `bentosctl new-driver` as a new driver author meets it:
#  - for every pattern and language with a template, a generated project
#    builds warning-free (-Werror) against the SDK installed on its own
#    (`meson setup -Dsdk_only=true` into a temporary prefix, as
#    check-sdk-install.sh does) and its generated test passes against this
#    build's bentos-driver-host --dev and bentosctl;
#  - the generated test can fail: a driver changed after generation fails it;
#  - --dev keeps everything under the project folder (--check --dump);
#  - existing files are never overwritten, bad names and unknown patterns
#    are refused;
#  - the new author's path (SDK install + generate + build + test) is timed
#    and must stay under 2 minutes (issue 16's goal).
#   tests/sdk/check-new-driver.sh SOURCE_DIR BENTOS_DRIVER_HOST BENTOSCTL
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 SOURCE_DIR BENTOS_DRIVER_HOST BENTOSCTL" >&2
  exit 2
fi
src=$1
failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }
finish() {
  echo "check-new-driver: $checks passed, $failures failed"
  [ "$failures" -eq 0 ]
  exit
}
for tool in meson pkg-config make c++ cc python3; do
  command -v "$tool" >/dev/null || { fail "$tool not found (scripts/install-deps.sh installs the build tools)"; finish; }
done
for bin in "$2" "$3"; do [ -x "$bin" ] || { fail "$bin is not built"; finish; }; done
export BENTOS_DRIVER_HOST BENTOSCTL
BENTOS_DRIVER_HOST=$(realpath "$2") BENTOSCTL=$(realpath "$3")
ctl=$BENTOSCTL
# The generated tests use bentosctl and the host from PATH when these are unset.

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds() { echo "$(($1 / 1000)).$(($1 % 1000 / 100)) s"; }

# 1. The SDK alone, into a prefix of its own.
start=$(now_ms)
if meson setup "$work/sdk-build" "$src" -Dsdk_only=true --prefix="$work/prefix" --libdir=lib >"$work/setup.log" 2>&1 &&
  meson install -C "$work/sdk-build" >"$work/install.log" 2>&1; then
  pass
else
  fail "sdk_only setup + install failed:"; cat "$work/setup.log" "$work/install.log"; finish
fi
sdk_ms=$(($(now_ms) - start))
export PKG_CONFIG_LIBDIR=$work/prefix/lib/pkgconfig PKG_CONFIG_PATH=

# 2. Each template: generate, build with -Werror, run its test.
first_project_ms=
generate_build_test() {  # PATTERN LANG -> 0 when all went well
  local pattern=$1 lang=$2 name="my_${1}_$2" t0 out
  t0=$(now_ms)
  if ! out=$("$ctl" new-driver "$name" --pattern "$pattern" --lang "$lang" --dir "$work/$name" 2>&1); then
    fail "new-driver $name --pattern $pattern --lang $lang: $out"; return 1
  fi
  if ! out=$(make -C "$work/$name" test CXXFLAGS="-O0 -Wall -Wextra -Werror" CFLAGS="-O0 -Wall -Wextra -Werror" 2>&1); then
    fail "$pattern/$lang: make test failed:"; echo "$out" | sed 's/^/  /'; return 1
  fi
  if ! grep -q "^test-$name: [1-9][0-9]* passed, 0 failed$" <<<"$out"; then
    fail "$pattern/$lang: the generated test printed no passing summary:"; echo "$out" | sed 's/^/  /'; return 1
  fi
  [ -n "$first_project_ms" ] || first_project_ms=$(($(now_ms) - t0))
  pass
}
for combo in p2:cpp p1:cpp p3:cpp p4:cpp raw:cpp raw:c p1:c p2:c p3:c; do
  generate_build_test "${combo%:*}" "${combo#*:}"
done

# 3. The generated test catches a driver that no longer answers as it did.
if [ -f "$work/my_p2_cpp/my_p2_cpp.cpp" ]; then
  sed -i 's/"request "/"answer "/' "$work/my_p2_cpp/my_p2_cpp.cpp"
  out=$(make -C "$work/my_p2_cpp" test CXXFLAGS="-O0" 2>&1)
  if [ $? -ne 0 ] && grep -q "^test-my_p2_cpp: 0 passed, 1 failed$" <<<"$out"; then pass; else
    fail "the generated test passed a changed driver:"; echo "$out" | sed 's/^/  /'
  fi
fi

# 3b. What --dev means to the daemon, in a generated project: everything
# under the project folder, no system socket (even when run as root).
if [ -d "$work/my_p1_cpp" ]; then
  dump=$(cd "$work/my_p1_cpp" && "$BENTOS_DRIVER_HOST" --dev --check --dump 2>"$work/dump.log")
  status=$?
  expected="$work/my_p1_cpp/devices.json $work/my_p1_cpp/run $work/my_p1_cpp/run/control.sock True"
  got=$(python3 -c 'import json, sys
c = json.load(sys.stdin)["command_line"]
print(" ".join(c["config"]), c["socket_dir"], c["control_socket"], c["allow_insecure_plugins"])' <<<"$dump" 2>&1)
  if [ $status -eq 0 ] && [ "$got" = "$expected" ]; then pass; else
    fail "bentos-driver-host --dev --check --dump (exit $status): '$got', expected '$expected'"; cat "$work/dump.log"
  fi
  if grep -q '^warn: --dev: loading plugins without the ownership and permission checks' "$work/dump.log"; then pass; else
    fail "--dev did not warn that plugin checks are relaxed:"; cat "$work/dump.log"
  fi
fi

# 4. Nothing overwritten; bad requests refused with exit 2.
mkdir -p "$work/taken" && echo keep >"$work/taken/Makefile"
out=$("$ctl" new-driver taken --pattern p2 --dir "$work/taken" 2>&1)
status=$?
if [ $status -eq 2 ] && grep -q "refusing to overwrite" <<<"$out" && [ "$(cat "$work/taken/Makefile")" = keep ] &&
  [ ! -e "$work/taken/taken.cpp" ]; then pass; else
  fail "new-driver over an existing Makefile: exit $status, '$out', files: $(ls "$work/taken")"
fi
refused() {  # EXPECTED_MESSAGE ARGS...
  local expected=$1 out status
  shift
  out=$(cd "$work" && "$ctl" new-driver "$@" 2>&1)
  status=$?
  if [ $status -eq 2 ] && grep -qF -- "$expected" <<<"$out"; then pass; else
    fail "new-driver $*: exit $status, '$out' (expected exit 2 and '$expected')"
  fi
}
refused "must start with a lower-case letter" Foo --pattern p2
refused "must start with a lower-case letter" 1kv --pattern p2
refused "character '-' not allowed" my-kv --pattern p2
refused "--pattern is p1, p2, p3, p4 or raw" kv --pattern p5
refused "no C template for p4" kv --pattern p4 --lang c
refused "missing --pattern" kv
[ ! -e "$work/kv" ] && [ ! -e "$work/Foo" ] && pass || fail "a refused new-driver wrote files"

# 5. The new author's path: the SDK, then the first project generated,
# built and tested.
if [ -n "$first_project_ms" ]; then
  path_ms=$((sdk_ms + first_project_ms))
  echo "new author's path: $(seconds "$path_ms") (SDK install $(seconds "$sdk_ms"), generate + build + test $(seconds "$first_project_ms"))"
  [ "$path_ms" -lt 120000 ] && pass || fail "the new author's path took $(seconds "$path_ms"), over 2 minutes"
fi
finish
