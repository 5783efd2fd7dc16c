#!/usr/bin/env bash
# Builds and runs every test (unit and integration), then prints one
# summary line "N passed, N failed, N skipped".
#   scripts/test.sh              the normal build (./build)
#   scripts/test.sh --sanitize   an ASan+UBSan build (./build-asan)
#   scripts/test.sh --tsan       the 'threads' suite under ThreadSanitizer (./build-tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

dir=build
setup_args=()
# Suite 'timing' (the author's path from source, timed) is a measurement,
# not a check: run it with `meson test -C build --suite timing`.
suite_args=(--no-suite timing)
if [ "${1:-}" = "--tsan" ]; then
  dir=build-tsan
  setup_args=(-Db_sanitize=thread -Db_lundef=false -Dbuildtype=debugoptimized)
  suite_args=(--suite threads)
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
elif [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  setup_args=(-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug)
  # Suite 'sdk' checks the driver author's toolchain (the SDK installs,
  # compile-time diagnostics, generated drivers, the guide's commands): it
  # compiles out-of-tree plugins for minutes and finds nothing a sanitizer
  # would; the normal run covers it.
  suite_args=(--no-suite sdk --no-suite timing)
  # Make any sanitizer finding fatal, and report leaks.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
scripts/build.sh "$dir" "${setup_args[@]}"

status=0
meson test -C "$dir" --print-errorlogs --num-processes "${BENTOS_JOBS:-$(nproc)}" "${suite_args[@]}" || status=$?

# Count test cases across every doctest executable, skips included, and
# the checks of the shell-script tests ("check-man: N passed, N failed").
log="$dir/meson-logs/testlog.txt"
read -r passed failed skipped < <(awk '
  /^\[doctest\] test cases:/ { p += $6; f += $9; s += $12 }
  /^check-[a-z-]+: [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 }
  END { printf "%d %d %d\n", p, f, s }' "$log")
# A test case that cannot run here (no /dev/fuse, say) passes after a
# "SKIPPED: reason" message: count it as skipped, not passed.
loud_skips=$(grep -c "SKIPPED:" "$log" || true)
passed=$((passed - loud_skips))
skipped=$((skipped + loud_skips))
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$loud_skips" -gt 0 ]; then
  echo "skipped, with reasons:"; grep -h "SKIPPED:" "$log" | sed 's/^.*SKIPPED:/  SKIPPED:/' | sort | uniq -c
fi
# The new author's path (tests/sdk/check-author-path.sh, suite 'timing'),
# timed step by step, when it ran: its times after the summary.
if grep -q '^author-path: total ' "$log"; then
  echo "the new author's path from source (build and install of the SDK + harness, new-driver, make, harness test; scripts/check-package.sh times it on the Debian packages):"
  grep -h '^author-path: ' "$log" | sed 's/^author-path: /  /'
fi
exit $status
