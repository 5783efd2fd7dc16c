#!/usr/bin/env bash
# Checks that the programs carry the hardening the build promises (meson.build,
# "Hardening"; dpkg-buildflags' hardening=+all in the Debian package), by
# reading each ELF file:
#  - BIND_NOW: the dynamic section's FLAGS has BIND_NOW or FLAGS_1 has NOW
#    (-z now), so the GOT can be made read-only at start;
#  - a GNU_RELRO program header (-z relro);
#  - __stack_chk_fail imported (-fstack-protector-strong);
#  - at least one fortified *_chk function imported (_FORTIFY_SOURCE), when
#    the build is optimized and not sanitized (glibc's checks need
#    optimization); otherwise that check is skipped, saying why.
# Works on installed, stripped programs too (the dynamic symbols stay).
#   tests/hardening/check-hardening.sh HARDENING FORTIFY ELF...
# HARDENING is meson's -Dhardening (true|false; false skips every check);
# FORTIFY is "yes" or the reason the build has no _FORTIFY_SOURCE.
set -uo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 true|false yes|REASON ELF..." >&2
  exit 2
fi
hardening=$1 fortify=$2
shift 2
command -v readelf >/dev/null || { echo "FAIL: readelf not found (Debian package binutils)"; exit 1; }

failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; checks=$((checks + 1)); }
report() { echo "check-hardening: $checks passed, $failures failed"; [ "$failures" -eq 0 ]; }

if [ "$hardening" != true ]; then
  echo "SKIPPED: built with -Dhardening=false, so nothing is promised"
  report
  exit
fi
if [ "$fortify" != yes ]; then
  echo "SKIPPED: fortified *_chk imports not checked: $fortify"
fi

for elf in "$@"; do
  name=$(basename "$elf")
  if ! dynamic=$(readelf -dW "$elf" 2>&1) || ! headers=$(readelf -lW "$elf" 2>&1) ||
     ! symbols=$(readelf --dyn-syms -W "$elf" 2>&1); then
    fail "$name: readelf cannot read $elf"
    continue
  fi
  if grep -qE '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*[[:space:]]NOW([[:space:]]|$)' <<<"$dynamic"; then
    pass "$name: BIND_NOW"
  else
    fail "$name: no BIND_NOW in the dynamic section (linked without -z now)"
  fi
  if grep -qw GNU_RELRO <<<"$headers"; then
    pass "$name: GNU_RELRO segment"
  else
    fail "$name: no GNU_RELRO segment (linked without -z relro)"
  fi
  # Imports: undefined dynamic symbols, version suffix (@GLIBC_2.4) dropped.
  imports=$(awk '$7 == "UND" && $8 != "" { sub(/@.*/, "", $8); print $8 }' <<<"$symbols" | sort -u)
  if grep -qx '__stack_chk_fail' <<<"$imports"; then
    pass "$name: imports __stack_chk_fail"
  else
    fail "$name: does not import __stack_chk_fail (built without -fstack-protector-strong)"
  fi
  if [ "$fortify" = yes ]; then
    chk=$(grep -E '^__[a-z0-9_]+_chk$' <<<"$imports" | grep -vx '__stack_chk_fail' | paste -sd ' ')
    if [ -n "$chk" ]; then
      pass "$name: fortified imports: $chk"
    else
      fail "$name: imports no fortified *_chk function (built without _FORTIFY_SOURCE)"
    fi
  fi
done

report
