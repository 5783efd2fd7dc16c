#!/usr/bin/env bash
# The driver author's path of docs/writing-a-driver.md §2, in a temporary
# prefix:
#  - `meson setup -Dsdk_only=true` + `meson install` from the source tree
#    installs the SDK (headers, bentos-driver.pc, plugin.map, the guide,
#    the pattern reference, the example sources) without building anything
#    and without looking for the host's dependencies; the time it took is
#    printed;
#  - `meson install --tags sdk --no-rebuild` from the full build directory
#    installs the same files;
#  - an example plugin in C++ and one in C, copied from the installed
#    examples, build out of tree with the installed Makefile through
#    pkg-config, export nothing but the entry, and load in the host
#    (`bentos-driver-host --check`).
#   tests/sdk/check-sdk-install.sh SOURCE_DIR BUILD_DIR BENTOS_DRIVER_HOST
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 SOURCE_DIR BUILD_DIR BENTOS_DRIVER_HOST" >&2
  exit 2
fi
src=$1 build=$2 daemon=$3

failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }
finish() {
  echo "check-sdk-install: $checks passed, $failures failed"
  [ "$failures" -eq 0 ]
  exit
}
for tool in meson pkg-config make c++ cc nm; do
  command -v "$tool" >/dev/null || { fail "$tool not found (scripts/install-deps.sh installs the build tools)"; finish; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

# 1. The SDK alone, timed.
start=$(date +%s%N)
if meson setup "$work/sdk-build" "$src" -Dsdk_only=true --prefix="$prefix" --libdir=lib >"$work/setup.log" 2>&1 &&
  meson install -C "$work/sdk-build" >"$work/install.log" 2>&1; then
  pass
else
  fail "sdk_only setup + install failed:"; cat "$work/setup.log" "$work/install.log"; finish
fi
ms=$((($(date +%s%N) - start) / 1000000))
echo "SDK installed in $((ms / 1000)).$((ms % 1000 / 100)) s (setup + install)"

# Nothing to compile, and none of the host's dependencies looked up.
if grep -qE 'Dependency (libuv|protobuf|nlohmann_json)' "$work/setup.log"; then
  fail "sdk_only still looks up the host's dependencies:"; grep -E 'Dependency' "$work/setup.log"
else
  pass
fi
built=$(find "$work/sdk-build" -name '*.o' -o -name '*.so' -o -name '*.a' | wc -l)
[ "$built" -eq 0 ] && pass || fail "sdk_only built $built object(s)"

(cd "$prefix" && find . -type f | sed 's#^\./##' | sort) >"$work/sdk.files"
for f in include/bentos/driver.h include/bentos/driver.hpp include/bentos/driver/adapter.hpp \
  include/bentos/inference.hpp lib/pkgconfig/bentos-driver.pc share/bentos/plugin.map \
  share/doc/bentos-driver/writing-a-driver.md share/doc/bentos-driver/patterns.md \
  share/doc/bentos-driver/examples/Makefile share/doc/bentos-driver/examples/kv/kv.cpp \
  share/doc/bentos-driver/examples/echo/echo.c share/doc/bentos-driver/examples/common/utf8.hpp; do
  grep -qx "$f" "$work/sdk.files" && pass || fail "the SDK lacks $f"
done

# 2. pkg-config sees that prefix only.
export PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig PKG_CONFIG_PATH=
version=$(sed -n "s/^  version : '\(.*\)',$/\1/p" "$src/meson.build" | head -1)
[ "$(pkg-config --modversion bentos-driver)" = "$version" ] && pass ||
  fail "pkg-config --modversion bentos-driver: '$(pkg-config --modversion bentos-driver)', expected '$version'"
[ "$(pkg-config --variable=plugin_map bentos-driver)" = "$prefix/share/bentos/plugin.map" ] && pass ||
  fail "plugin_map is '$(pkg-config --variable=plugin_map bentos-driver)'"
docdir=$(pkg-config --variable=docdir bentos-driver)
[ -f "$docdir/writing-a-driver.md" ] && pass || fail "docdir '$docdir' has no writing-a-driver.md"

# 3. The same files through the install tag, from the full build.
if [ -f "$build/build.ninja" ]; then
  if meson install -C "$build" --tags sdk --no-rebuild --destdir "$work/dest" >"$work/tags.log" 2>&1; then
    pass
    build_prefix=$(meson introspect "$build" --buildoptions |
      python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
    # The build's libdir may be multiarch (lib/x86_64-linux-gnu).
    (cd "$work/dest$build_prefix" && find . -type f | sed -e 's#^\./##' -e 's#^lib/[^/]*/pkgconfig/#lib/pkgconfig/#' |
      sort) >"$work/tags.files"
    if diff -u "$work/sdk.files" "$work/tags.files" >"$work/files.diff"; then pass; else
      fail "--tags sdk and sdk_only install different files:"; cat "$work/files.diff"
    fi
  else
    fail "meson install --tags sdk --no-rebuild failed:"; cat "$work/tags.log"
  fi
else
  echo "SKIPPED: --tags sdk comparison: $build is not a configured build directory"
fi

# 4. Two examples built out of tree against the installed SDK.
cp -r "$docdir/examples" "$work/examples"
if make -C "$work/examples" -s kv.so echo.so CXXFLAGS="-O0 -Wall -Wextra -Werror" CFLAGS="-O0 -Wall -Wextra -Werror" \
  >"$work/make.log" 2>&1; then
  pass
else
  fail "the installed examples do not build:"; cat "$work/make.log"; finish
fi
for so in kv.so echo.so; do
  exported=$(nm -D --defined-only "$work/examples/$so" | awk '$2 != "A" {print $3}')
  [ "$exported" = "bentos_driver_entry_v1" ] && pass || fail "$so exports: $exported"
done

# 5. The host loads them.
if [ -x "$daemon" ]; then
  cat >"$work/devices.json" <<EOF
{"devices": [{"name": "kv", "plugin": "$work/examples/kv.so"}, {"name": "echo", "plugin": "$work/examples/echo.so"}]}
EOF
  out=$("$daemon" --config "$work/devices.json" --socket-dir "$work/run" --allow-insecure-plugins --check 2>&1)
  status=$?
  if [ "$status" -eq 0 ] && grep -q 'configuration ok: 2 device(s)' <<<"$out"; then pass; else
    fail "bentos-driver-host --check on the out-of-tree plugins exited $status:"; echo "$out"
  fi
else
  echo "SKIPPED: loading the plugins: $daemon is not built"
fi
finish
