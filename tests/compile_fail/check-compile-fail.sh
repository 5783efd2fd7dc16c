#!/usr/bin/env bash
# The C++ layer's compile-time diagnostics (bentos/driver/hook_check.hpp):
#  - each fail_*.cpp here is a driver mistake; it must fail to compile,
#    and the compiler's output must hold every `// expect: TEXT` line of
#    the snippet, in at most `// max-errors: N` error lines (default 1: one
#    static_assert saying what to write, not pages of template errors);
#  - each ok_*.cpp must compile without a warning (one per pattern, and
#    the forms the layer accepts since: on_request(std::string) by value,
#    const char* and std::string_view answers, loop_only);
#  - abi/bentos/driver/hook_names.hpp is what tools/gen-hook-names.py
#    writes (the generated table is committed, so the SDK installs without
#    running anything).
# Snippets compile against SOURCE_DIR/abi, the installed layout
# (<include>/bentos/driver.hpp), with the project's warning flags.
#   tests/compile_fail/check-compile-fail.sh SOURCE_DIR [CXX...]
set -uo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 SOURCE_DIR [CXX...]" >&2
  exit 2
fi
src=$1
shift
cxx=("$@")
[ ${#cxx[@]} -eq 0 ] && cxx=("${CXX:-c++}")
flags=(-std=c++20 -Wall -Wextra -Wpedantic -Werror -Wshadow=local -fsyntax-only -I"$src/abi")

passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if command -v python3 >/dev/null; then
  python3 "$src/tools/gen-hook-names.py" "$work/hook_names.hpp"
  if cmp -s "$work/hook_names.hpp" "$src/abi/bentos/driver/hook_names.hpp"; then pass; else
    fail "abi/bentos/driver/hook_names.hpp is stale: run tools/gen-hook-names.py abi/bentos/driver/hook_names.hpp"
  fi
else
  echo "SKIPPED: the generated table check: python3 not found"
fi

for snippet in "$src"/tests/compile_fail/fail_*.cpp "$src"/tests/compile_fail/ok_*.cpp; do
  name=$(basename "$snippet")
  out=$work/$name.out
  "${cxx[@]}" "${flags[@]}" "$snippet" >"$out" 2>&1
  status=$?
  case $name in
    ok_*)
      if [ "$status" -eq 0 ] && [ ! -s "$out" ]; then pass; else
        fail "$name must compile cleanly (exit $status):"; head -20 "$out"
      fi
      continue
      ;;
  esac
  if [ "$status" -eq 0 ]; then
    fail "$name compiled, but it is a mistake the layer must reject"
    continue
  fi
  ok=1
  expectations=0
  while IFS= read -r expected; do
    expectations=$((expectations + 1))
    grep -qF -- "$expected" "$out" || { ok=0; echo "  $name: the output lacks: $expected"; }
  done < <(sed -n 's#^// expect: ##p' "$snippet")
  [ "$expectations" -gt 0 ] || { ok=0; echo "  $name: no '// expect:' line"; }
  max=$(sed -n 's#^// max-errors: ##p' "$snippet" | head -1)
  errors=$(grep -c 'error:' "$out")
  if [ "$errors" -gt "${max:-1}" ]; then
    ok=0
    echo "  $name: $errors error lines, at most ${max:-1} expected:"
    grep 'error:' "$out" | cut -c1-200 | head -10
  fi
  [ "$ok" -eq 1 ] && pass || fail "$name (compiler output: $(grep -m1 'error:' "$out" | cut -c1-200))"
done

echo "check-compile-fail: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
