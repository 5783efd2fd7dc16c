#!/usr/bin/env bash
# Builds a release tree and installs it into a staging directory with
# `meson install --destdir`, laid out as on a Debian system (--prefix=/usr
# --sysconfdir=/etc), for scripts/check-units.sh to check the units without
# building the Debian packages (scripts/build-deb.sh does that).
#   scripts/stage-install.sh DESTDIR
# DESTDIR must not exist or be empty. BENTOS_PKG_BUILD_DIR (default
# ./build-stage) is the build directory; BENTOS_JOBS the parallel jobs.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: scripts/stage-install.sh DESTDIR" >&2
  exit 2
fi
destdir=$(realpath -m "$1")
# An install tree is merged into DESTDIR; refuse one that already holds
# something (or is /), rather than mix old files into the package.
if [ "$destdir" = / ] || { [ -e "$destdir" ] && [ -n "$(ls -A "$destdir")" ]; }; then
  echo "error: staging directory '$destdir' is not empty" >&2
  exit 2
fi

scripts/install-deps.sh

dir=${BENTOS_PKG_BUILD_DIR:-build-stage}
# Release build, no test suite (the package does not ship it), bentos-mount
# required (a package silently missing it would be worse than a failed
# build), and no test harness library (a driver author's tool, ~100 MB with
# debug info, which libbentos-driver-dev carries; the units need none of
# it). Debian's meson picks libdir lib/<multiarch> for --prefix=/usr.
options=(-Dprefix=/usr -Dsysconfdir=/etc -Dlocalstatedir=/var -Dbuildtype=release
         -Dtests=false -Dfuzz=false -Dfuse=enabled -Dinstall_testing=false)
# Meson's configure output is long; it is shown only when it fails.
log=$(mktemp)
if [ -f "$dir/build.ninja" ]; then
  configure=(meson configure "$dir" "${options[@]}")
else
  configure=(meson setup "$dir" "${options[@]}")
fi
if ! "${configure[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "error: '${configure[*]}' failed" >&2
  exit 1
fi
rm -f "$log"
ninja -C "$dir" -j"${BENTOS_JOBS:-$(nproc)}"

# The modes meson gives must not depend on the caller's umask: a group- or
# world-writable directory would make the package's plugin folders fail the
# daemon's plugin ownership check.
umask 022
mkdir -p "$destdir"
meson install -C "$dir" --destdir "$destdir" --no-rebuild --strip --quiet
