#!/usr/bin/env bash
# docs/writing-a-driver.md §3.9 as a driver author runs it: the harness
# installed with `meson install --tags sdk,testing --no-rebuild` into a
# temporary prefix, then the guide's own mykv.cpp and mykv_test.cpp (taken
# from the guide's "<!-- file: NAME -->" blocks, so the guide cannot drift)
# built out of tree as the generated Makefile builds them: mykv.so through
# `pkg-config bentos-driver`, the test through `pkg-config bentos-testing`;
# the test, which loads ./mykv.so, run. Prints the compile and run times.
#   tests/sdk/check-testing-install.sh SOURCE_DIR BUILD_DIR
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 SOURCE_DIR BUILD_DIR" >&2
  exit 2
fi
src=$1 build=$2

failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }
finish() {
  echo "check-testing-install: $checks passed, $failures failed"
  [ "$failures" -eq 0 ]
  exit
}
for tool in meson pkg-config c++ python3; do
  command -v "$tool" >/dev/null || { fail "$tool not found (scripts/install-deps.sh installs the build tools)"; finish; }
done
if ! echo '#include <doctest/doctest.h>' | c++ -std=c++20 -fsyntax-only -x c++ - 2>/dev/null; then
  echo "SKIPPED: doctest headers not found (Debian doctest-dev), which the guide's test uses"
  finish
fi

if ! meson introspect "$build" --buildoptions | python3 -c '
import json, sys
options = {o["name"]: o["value"] for o in json.load(sys.stdin)}
sys.exit(0 if options.get("install_testing", True) else 1)'; then
  echo "SKIPPED: $build is configured with -Dinstall_testing=false"
  finish
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/dest

# 1. Install the SDK and the harness from the build directory.
if meson install -C "$build" --tags sdk,testing --no-rebuild --destdir "$dest" >"$work/install.log" 2>&1; then
  pass
else
  fail "meson install --tags sdk,testing failed:"; cat "$work/install.log"; finish
fi
pc=$(find "$dest" -name bentos-testing.pc | head -1)
[ -n "$pc" ] && pass || { fail "bentos-testing.pc was not installed"; finish; }
header=$(find "$dest" -path '*/include/bentos/testing.hpp' | head -1)
[ -n "$header" ] && pass || fail "bentos/testing.hpp was not installed"
lib=$(find "$dest" -name libbentos-testing.a | head -1)
[ -n "$lib" ] && pass || fail "libbentos-testing.a was not installed"

# A --destdir install keeps the configured prefix in the .pc files; the
# sysroot makes pkg-config's -I and -L point where they landed.
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR=$dest

# 2. The guide's files.
if python3 - "$src/docs/writing-a-driver.md" "$work" <<'PY'; then pass; else fail "the guide has no mykv.cpp and mykv_test.cpp blocks"; finish; fi
import re, sys
text = open(sys.argv[1]).read()
for name in ("mykv.cpp", "mykv_test.cpp"):
    # The file's tag, maybe other tags (check-guide's), then the block.
    m = re.search(r"<!-- file: " + re.escape(name) + r" -->\n(?:<!--[^\n]*-->\n)*```cpp\n(.*?)```", text, re.S)
    if not m:
        sys.exit(1)
    open(sys.argv[2] + "/" + name, "w").write(m.group(1))
PY

# 3. Build and run as the guide does (with -Werror: warning-free).
cd "$work" || finish
# shellcheck disable=SC2046  # pkg-config's output is a list of flags
if c++ -std=c++20 -fPIC -fvisibility=hidden $(pkg-config --cflags bentos-driver) -O2 -g -Wall -Wextra -Werror \
  mykv.cpp -o mykv.so -shared -Wl,--version-script="$(pkg-config --variable=plugin_map bentos-driver)" -Wl,-z,defs \
  >plugin.log 2>&1; then
  pass
else
  fail "the guide's driver does not build as a plugin:"; cat plugin.log; finish
fi
start=$(date +%s%N)
# shellcheck disable=SC2046  # pkg-config's output is a list of flags
if c++ -std=c++20 -O2 -g -Wall -Wextra -Werror $(pkg-config --cflags bentos-testing) mykv_test.cpp \
  -o mykv_test $(pkg-config --libs bentos-testing) >build.log 2>&1; then
  pass
else
  fail "the guide's test does not build:"; cat build.log; finish
fi
ms=$((($(date +%s%N) - start) / 1000000))
echo "the guide's test built in $((ms / 1000)).$((ms % 1000 / 100)) s"
start=$(date +%s%N)
if ./mykv_test >run.log 2>&1; then pass; else fail "the guide's test failed:"; cat run.log; fi
ms=$((($(date +%s%N) - start) / 1000000))
echo "the guide's test ran in $ms ms"
grep -q 'test cases: *3 | *3 passed' run.log && pass || { fail "expected 3 passing test cases:"; cat run.log; }
finish
