#!/usr/bin/env bash
# bentos-bench in one command (README "Benchmarks", docs/performance.md).
#
#   scripts/bench.sh [bentos-bench options] [SCENARIO...]
#       builds a release tree (./build-release) and runs every scenario (or
#       the ones named) with the defaults the targets are stated for:
#       bentos-bench starts its own host with the example plugins in a temp
#       directory, and its raw baseline, and prints host / baseline.
#   scripts/bench.sh --smoke
#       CI: a seconds-long run of every scenario (bentos-bench --quick) in
#       the normal build (./build), checking only that each one works.
#   BENTOS_BENCH_BUILD_DIR=DIR picks another build directory for either.
#
# Exit status: bentos-bench's (0 when every scenario ran, 1 when one failed).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENTOS_BENCH_BUILD_DIR:-build-release}
setup_args=(-Dbuildtype=release)
bench_args=("$@")
if [ "${1:-}" = "--smoke" ]; then
  dir=${BENTOS_BENCH_BUILD_DIR:-build}
  setup_args=()
  bench_args=(--quick "${@:2}")
fi

scripts/install-deps.sh
if ! log=$(scripts/build.sh "$dir" "${setup_args[@]}" 2>&1); then
  echo "$log" >&2
  echo "bench: the build failed ($dir)" >&2
  exit 1
fi
exec "$dir/tools/bench/bentos-bench" "${bench_args[@]}"
