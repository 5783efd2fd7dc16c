#!/usr/bin/env bash
# Configures (once) and builds a build directory.
#   scripts/build.sh [BUILD_DIR [MESON_SETUP_ARGS...]]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "$@" >/dev/null
fi
ninja -C "$dir" -j"${BENTOS_JOBS:-$(nproc)}"
