#!/usr/bin/env bash
# Checks that host/ stays layered as docs/architecture.md draws it: a file
# may include headers from its own folder and the folders below it, never
# from one above. The order, lowest first, is the LAYERS line below and the
# "Layers and folders" list of docs/architecture.md; this check also fails
# when the two disagree, so the picture cannot drift from the code.
#   tests/layers/check-layers.sh [SOURCE_ROOT]
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"

LAYERS="util wire net config patterns loop plugin device isolation daemon"

passed=0
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

rank() {
  local i=0 layer
  for layer in $LAYERS; do
    [ "$layer" = "$1" ] && { echo "$i"; return; }
    i=$((i + 1))
  done
  echo -1
}

# Every folder under host/ is a layer: a new one must be placed in the order.
for dir in host/*/; do
  layer=$(basename "$dir")
  if [ "$(rank "$layer")" -lt 0 ]; then
    fail "host/$layer/ is in no layer: add it to LAYERS here and to docs/architecture.md"
  else
    passed=$((passed + 1))
  fi
done

# The documented order: the "host/NAME/" entries of the layer list, top
# (highest) first, must be LAYERS reversed.
documented=$(awk '/^## Layers and folders/{on=1; next} /^## /{on=0} on' docs/architecture.md |
  grep -oE '^  host/[a-z_]+/' | sed 's|^  host/||; s|/$||' | tr '\n' ' ' | sed 's/ $//')
expected=$(echo "$LAYERS" | tr ' ' '\n' | tac | tr '\n' ' ' | sed 's/ $//')
if [ "$documented" = "$expected" ]; then
  passed=$((passed + 1))
else
  fail "docs/architecture.md lists the layers as '$documented', this check as '$expected'"
fi

# Every quoted include of a host folder from a host file.
while IFS=: read -r file _ include; do
  from=$(echo "$file" | cut -d/ -f2)
  to=$(echo "$include" | sed -E 's/.*#include "([a-z_]+)\/.*/\1/')
  [ "$(rank "$to")" -ge 0 ] || continue  # bentos/ (the ABI) and system headers
  if [ "$(rank "$to")" -gt "$(rank "$from")" ]; then
    fail "$file includes $to/ (layer $to is above $from): $(echo "$include" | sed 's/^ *//')"
  else
    passed=$((passed + 1))
  fi
done < <(grep -rnE '^#include "[a-z_]+/' host --include='*.h' --include='*.cpp')

echo "check-layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
