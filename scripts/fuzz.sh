#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang + ASan + UBSan in
# ./build-fuzz and runs each for a while (docs/fuzzing.md).
#   scripts/fuzz.sh                      every target, 60 s each
#   scripts/fuzz.sh --seconds 3600 fuzz_wire
#   scripts/fuzz.sh --corpus DIR fuzz_manifest   keep the grown corpus in DIR
# Each target starts from a temporary copy of its seed corpus (the committed
# fuzz/corpus/<name> plus, for fuzz_wire, every frame of
# tests/data/golden-frames.tsv), so the committed corpus never grows.
# Prints execs and coverage per target; exits 1 if any target crashed,
# leaked, timed out or failed a check, naming the saved input
# (build-fuzz/artifacts/<target>/).
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(fuzz_wire fuzz_manifest fuzz_patterns fuzz_host)
seconds=60
corpus_dir=""
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --corpus) corpus_dir="${2:?--corpus needs a directory}"; shift 2 ;;
    --corpus=*) corpus_dir="${1#*=}"; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  case " ${all_targets[*]} " in *" $t "*) ;; *) echo "fuzz.sh: unknown target $t (have: ${all_targets[*]})" >&2; exit 2 ;; esac
done
if [ -n "$corpus_dir" ] && [ ${#targets[@]} -ne 1 ]; then
  echo "fuzz.sh: --corpus needs exactly one target" >&2; exit 2
fi
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: --seconds wants a whole number" >&2; exit 2 ;; esac

# The normal build dependencies, then clang and its runtime (libFuzzer,
# sanitizers): installed here only, so the normal install stays small.
scripts/install-deps.sh
need=()
command -v clang >/dev/null && command -v clang++ >/dev/null || need+=(clang)
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed" || need+=(libclang-rt-14-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

dir=build-fuzz
if [ ! -f "$dir/build.ninja" ]; then
  # fuzzer-no-link: coverage instrumentation for the host libraries too,
  # not only for the fuzz target sources.
  CC=clang CXX=clang++ meson setup "$dir" -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized \
    -Dc_args=-fsanitize=fuzzer-no-link -Dcpp_args=-fsanitize=fuzzer-no-link
fi
build=("${targets[@]}")
# fuzz_host dlopens the example plugins from the build tree.
case " ${targets[*]} " in *" fuzz_host "*) build+=(hello kv echo playground ticker synth) ;; esac
meson compile -C "$dir" "${build[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/bentos-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Wire seeds: each golden frame after the target's 9-byte header (byte 0:
# max_frame_bytes 0 = default; bytes 1..8: chunk sizes), one seed with all
# frames back to back, and the same again with a tiny frame limit.
write_wire_seeds() {
  python3 - "$1" <<'PY'
import os, sys
out = sys.argv[1]
tsv = os.path.join("tests", "data", "golden-frames.tsv")
frames = []
for line in open(tsv, encoding="utf-8"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    name, hexframe = line.split("\t")[:2]
    frames.append((name, bytes.fromhex(hexframe)))
header = bytes([0, 0, 2, 6, 16, 63, 1, 3, 5])
for name, frame in frames:
    open(os.path.join(out, "golden-" + name), "wb").write(header + frame)
everything = b"".join(f for _, f in frames)
open(os.path.join(out, "golden-all"), "wb").write(header + everything)
open(os.path.join(out, "golden-all-limit-32"), "wb").write(bytes([32]) + header[1:] + everything)
print(f"{len(frames)} golden frames from {tsv}")
PY
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
for t in "${targets[@]}"; do
  corpus="$work/$t"
  if [ -n "$corpus_dir" ]; then corpus="$corpus_dir"; fi
  mkdir -p "$corpus" "$dir/artifacts/$t"
  seeds="$work/seeds-$t"
  mkdir -p "$seeds"
  short=${t#fuzz_}
  if [ -d "fuzz/corpus/$short" ]; then cp -r "fuzz/corpus/$short/." "$seeds/"; fi
  if [ "$t" = fuzz_wire ]; then write_wire_seeds "$seeds"; fi
  log="$dir/artifacts/$t/last-run.log"
  echo "== $t: $seconds s (log $log) =="
  rc=0
  # The first directory is the working corpus (new inputs go there); the
  # seed directory is read only.
  "$dir/fuzz/$t" "$corpus" "$seeds" \
    -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/$t/" >"$log" 2>&1 || rc=$?
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1 || true)
  [ -n "$done_line" ] || done_line=$(grep -E '^#[0-9]+' "$log" | tail -n1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
  corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$done_line")
  if [ "$rc" -eq 0 ]; then
    line="$t: ok, ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
  else
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)
    line="$t: FAILED (exit $rc) after ${execs:-?} execs; input: ${artifact:-none saved}"
    failed+=("$t")
    echo "---- $t: the end of $log ----"
    tail -n 60 "$log"
  fi
  echo "$line"
  summary+=("$line")
done

echo
echo "fuzzing summary ($seconds s per target):"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing FAILED: ${failed[*]} (reproduce: $dir/fuzz/<target> <input>; see docs/fuzzing.md)" >&2
  exit 1
fi
