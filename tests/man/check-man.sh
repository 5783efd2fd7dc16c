#!/usr/bin/env bash
# Keeps the man pages (docs/man) renderable and in step with the code:
#  - every page renders with groff -ww without a warning;
#  - every page's .TH names its file and section, and its NAME section is
#    one "name \- description" line (what whatis and apropos read);
#  - every option of `bentos-driver-host --help` has an entry (a .TP
#    heading) in bentos-driver-host.8;
#  - every command of `bentosctl --help`, every op of `bentosctl run
#    --help` and every option of each `bentosctl COMMAND --help` has one in
#    bentosctl.1 (the usage line's --help and --version are named in it);
#  - every option of `bentos-mount --help` has one in bentos-mount.1 (when
#    bentos-mount is built);
#  - every manifest key the daemon accepts, at every level, has one in
#    bentos-devices.json.5: the daemon lists them itself when a manifest
#    holds an unknown key.
#   tests/man/check-man.sh MANDIR BENTOS_DRIVER_HOST BENTOSCTL [BENTOS_MOUNT]
set -uo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 MANDIR BENTOS_DRIVER_HOST BENTOSCTL [BENTOS_MOUNT]" >&2
  exit 2
fi
mandir=$1 daemon=$2 ctl=$3 mount=${4:-}
command -v groff >/dev/null || { echo "FAIL: groff not found (Debian package groff-base; scripts/install-deps.sh installs it)"; exit 1; }

failures=0 checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A page's source as plain words: roff's \- is a hyphen, font changes and
# \c joins vanish, so "\fB\-\-check\fR" reads "--check".
plain_source() {
  sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\c$//' -e 's/\\&//g' "$1"
}

# Whether OPTION stands as a whole word in page $1 (plain source).
page_has_word() {
  grep -qE -- "(^|[^A-Za-z0-9_-])$(sed 's/[.]/\\./g' <<<"$2")([^A-Za-z0-9_-]|$)" "$work/$1.txt"
}

# Whether page $1 has a .TP heading (.B/.BI/.BR line) starting with WORD,
# or naming it among comma-separated alternatives (.BR a ", " b).
page_has_heading() {
  awk -v word="$2" '
    prev == ".TP" || prev == ".TQ" {
      if ($1 ~ /^\.(B|BI|BR|I|IR|IB)$/) {
        for (i = 2; i <= NF; i++) { w = $i; gsub(/"/, "", w); if (w == word) found = 1 }
      }
    }
    { prev = $1 }
    END { exit !found }' "$work/$1.txt"
}

# Long and short options at the start of the option lines of a --help
# text: "  -t, --check ...", "  --config PATH ...", "  --version, --help".
help_options() {
  grep -E '^  +-' | sed -E 's/^ +//; s/  .*//' | tr ',' '\n' | grep -oE -- '^ *--?[A-Za-z][A-Za-z-]*' | tr -d ' ' | sort -u
}

echo "== rendering (groff -mandoc -ww) and NAME sections =="
pages=("$mandir"/*.[1-8])
[ -e "${pages[0]}" ] || { echo "FAIL: no man pages in $mandir"; exit 1; }
for page in "${pages[@]}"; do
  file=$(basename "$page")
  name=${file%.*} section=${file##*.}
  plain_source "$page" >"$work/$file.txt"
  warnings=$(groff -mandoc -Tutf8 -ww -z "$page" 2>&1)
  if [ -n "$warnings" ]; then fail "$file: groff warns:"; echo "$warnings"; else pass; fi

  read -r _ th_title th_section _ < <(grep -m1 '^\.TH ' "$page")
  upper=$(tr '[:lower:]' '[:upper:]' <<<"$name")
  if [ "$th_title" = "$upper" ] && [ "$th_section" = "$section" ]; then pass
  else fail "$file: .TH says '$th_title $th_section', expected '$upper $section'"; fi

  name_line=$(sed -n '/^\.SH NAME$/{n;p;q}' "$page")
  if [[ "$name_line" =~ ^"$name "'\- '.+ ]]; then pass
  else fail "$file: the line after .SH NAME is '$name_line', expected '$name \\- DESCRIPTION'"; fi
  # The same, as a reader sees it.
  rendered=$(groff -mandoc -Tascii -P-cbou "$page" 2>/dev/null | sed -n '/^NAME$/{n;p;q}')
  if [[ "$rendered" =~ ^\ +"$name"\ +-\ + ]]; then pass
  else fail "$file: rendered NAME section reads '$rendered'"; fi
done

# Checks that every word of the list on stdin is in page $1 (by $2: word
# or heading); $3 says where the list came from, $4 the fewest expected
# (so a --help whose format changed cannot pass by listing nothing).
expect_all() {
  local page=$1 how=$2 source=$3 fewest=$4 count=0 word
  if [ ! -f "$work/$page.txt" ]; then fail "no page $page in $mandir"; return; fi
  while read -r word; do
    [ -n "$word" ] || continue
    count=$((count + 1))
    if "page_has_$how" "$page" "$word"; then pass; else fail "$page lacks '$word' (from $source)"; fi
  done
  if [ "$count" -lt "$fewest" ]; then fail "$source: found only $count entries, expected at least $fewest"; fi
}

echo "== bentos-driver-host --help -> bentos-driver-host.8 =="
# (Process substitution, not a pipe: expect_all must count in this shell.)
expect_all bentos-driver-host.8 heading "bentos-driver-host --help" 10 < <("$daemon" --help | help_options)

echo "== bentosctl --help -> bentosctl.1 =="
ctl_help=$("$ctl" --help)
# Command lines of the "Device commands:" and "Host commands" lists.
commands=$(sed -n '/^Device commands:/,/^[A-Za-z`]/p; /^Host commands/,/^$/p; /^Driver authors:/,/^$/p' <<<"$ctl_help" |
  grep -oE '^  [a-z][a-z-]*( |$)' | tr -d ' ' | sort -u)
expect_all bentosctl.1 heading "bentosctl --help" 15 <<<"$commands"
expect_all bentosctl.1 word "bentosctl --help (usage line)" 2 < <(head -n1 <<<"$ctl_help" | grep -oE -- '--[a-z][a-z-]*' | sort -u)
# Every long option any command's help names.
for cmd in $commands; do
  expect_all bentosctl.1 heading "bentosctl $cmd --help" 1 < <("$ctl" "$cmd" --help 2>&1 |
    grep -oE -- '(^|[ [(])--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+' | grep -vx -- --help | sort -u)
done
# The ops of `run`, from its "Ops" list.
expect_all bentosctl.1 heading "bentosctl run --help (ops)" 14 < <("$ctl" run --help | sed -n '/^Ops/,/^$/p' |
  grep -oE '^  [a-z][a-z-]*' | tr -d ' ' | sort -u)

if [ -n "$mount" ]; then
  echo "== bentos-mount --help -> bentos-mount.1 =="
  expect_all bentos-mount.1 heading "bentos-mount --help" 6 < <("$mount" --help | help_options)
else
  echo "(bentos-mount not built: its page is not compared with its --help)"
fi

echo "== manifest keys the daemon accepts -> bentos-devices.json.5 =="
# An unknown key far from every real one gets no "did you mean": the
# message lists every key accepted at that level instead.
bogus=zzzzzzzzzzzzzzzz
cat >"$work/keys.json" <<JSON
{"$bogus": 1, "host": {"$bogus": 1},
 "devices": [{"name": "keys", "plugin": "/nonexistent/keys.so", "$bogus": 1, "limits": {"$bogus": 1}}]}
JSON
"$daemon" --check --config "$work/keys.json" --socket-dir "$work" --control-socket none >"$work/check.out" 2>&1
status=$?
[ "$status" -eq 78 ] && pass || fail "bentos-driver-host --check on unknown keys exited $status, expected 78"
lists=$(grep -c 'expected one of: ' "$work/check.out")
[ "$lists" -eq 4 ] && pass || { fail "expected 4 'expected one of:' lists (top level, host, device, limits), found $lists:"; cat "$work/check.out"; }
expect_all bentos-devices.json.5 heading "the daemon's lists of manifest keys" 20 < <(grep -oE 'expected one of: .*' "$work/check.out" |
  sed 's/^expected one of: //' | tr ',' '\n' | tr -d ' ' | sort -u)

echo "check-man: $checks passed, $failures failed"
[ "$failures" -eq 0 ]
