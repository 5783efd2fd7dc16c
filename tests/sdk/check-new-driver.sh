#!/usr/bin/env bash
# `bentosctl new-driver` as a new driver author meets it:
#  - for every pattern and language with a template, a generated project
#    builds warning-free (-Werror) against the SDK and the test harness
#    installed from this build into a temporary folder (`meson install
#    --tags sdk,testing`, as check-testing-install.sh does), and its
#    generated harness test (`make test`: NAME_test.cpp through
#    `pkg-config bentos-testing`) passes;
#  - the generated test can fail: a driver changed after generation fails it;
#  - --dev keeps everything under the project folder (--check --dump);
#  - existing files are never overwritten, bad names and unknown patterns
#    are refused.
# The new author's path, timed from a clean folder, is check-author-path.sh.
#   tests/sdk/check-new-driver.sh BUILD_DIR BENTOS_DRIVER_HOST BENTOSCTL
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 BUILD_DIR BENTOS_DRIVER_HOST BENTOSCTL" >&2
  exit 2
fi
build=$1
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
BENTOS_DRIVER_HOST=$(realpath "$2")
ctl=$(realpath "$3")
if ! echo '#include <doctest/doctest.h>' | c++ -std=c++20 -fsyntax-only -x c++ - 2>/dev/null; then
  echo "SKIPPED: doctest headers not found (Debian doctest-dev), which the generated tests use"
  finish
fi
if ! meson introspect "$build" --buildoptions | python3 -c '
import json, sys
options = {o["name"]: o["value"] for o in json.load(sys.stdin)}
sys.exit(0 if options.get("install_testing", True) else 1)'; then
  echo "SKIPPED: $build is configured with -Dinstall_testing=false: no harness to build the generated tests with"
  finish
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. The SDK and the harness, from this build, into a folder of their own.
# A --destdir install keeps the configured prefix in the .pc files; the
# sysroot makes pkg-config's paths point where they landed.
dest=$work/dest
if meson install -C "$build" --tags sdk,testing --no-rebuild --destdir "$dest" >"$work/install.log" 2>&1; then
  pass
else
  fail "meson install --tags sdk,testing failed:"; cat "$work/install.log"; finish
fi
pc=$(find "$dest" -name bentos-testing.pc | head -1)
[ -n "$pc" ] || { fail "bentos-testing.pc was not installed"; finish; }
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR=$dest
PKG_CONFIG_PATH=$(dirname "$pc")
unset PKG_CONFIG_LIBDIR

# 2. Each template: generate, build with -Werror, run its harness test.
# doctest's summary: "[doctest] test cases: N | N passed | 0 failed | ...".
all_passed='^\[doctest\] test cases: *([1-9][0-9]*) \| *\1 passed \| *0 failed'
generate_build_test() {  # PATTERN LANG -> 0 when all went well
  local pattern=$1 lang=$2 name="my_${1}_$2" out
  if ! out=$("$ctl" new-driver "$name" --pattern "$pattern" --lang "$lang" --dir "$work/$name" 2>&1); then
    fail "new-driver $name --pattern $pattern --lang $lang: $out"; return 1
  fi
  if [ ! -f "$work/$name/${name}_test.cpp" ]; then
    fail "$pattern/$lang: no ${name}_test.cpp generated: $(ls "$work/$name")"; return 1
  fi
  if ! out=$(make -C "$work/$name" test CXXFLAGS="-O0 -Wall -Wextra -Werror" CFLAGS="-O0 -Wall -Wextra -Werror" 2>&1); then
    fail "$pattern/$lang: make test failed:"; echo "$out" | sed 's/^/  /'; return 1
  fi
  if ! grep -qE "$all_passed" <<<"$out"; then
    fail "$pattern/$lang: the generated test printed no passing summary:"; echo "$out" | sed 's/^/  /'; return 1
  fi
  pass
}
for combo in p2:cpp p1:cpp p3:cpp p4:cpp raw:cpp raw:c p1:c p2:c p3:c; do
  generate_build_test "${combo%:*}" "${combo#*:}"
done

# 3. The generated test catches a driver that no longer answers as it did.
if [ -f "$work/my_p2_cpp/my_p2_cpp.cpp" ]; then
  sed -i 's/"request "/"answer "/' "$work/my_p2_cpp/my_p2_cpp.cpp"
  out=$(make -C "$work/my_p2_cpp" test CXXFLAGS="-O0" 2>&1)
  if [ $? -ne 0 ] && grep -qE '^\[doctest\] test cases: *2 \| *1 passed \| *1 failed' <<<"$out" &&
    grep -q 'request 1: hello' <<<"$out"; then pass; else
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

finish
