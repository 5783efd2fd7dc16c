#!/usr/bin/env bash
# Checks the service files as they are installed:
#  - `systemd-analyze verify` on bentos-driver-host.service, on an
#    instance of bentos-driver-host@.service and on the node_exporter pair
#    bentos-driver-host-metrics.service and .timer; any message fails
#    (verify exits 0 on warnings such as an unknown key, which are still
#    mistakes);
#  - every man: page in the units' Documentation= is in the tree (verify
#    would ask `man`, which looks on this machine, not in ROOT);
#  - `systemd-analyze security --offline=true`: prints the main unit's
#    table and fails when any service's overall exposure is above 1.0;
#  - the metrics service's command, run with a stub bentosctl and a
#    temporary textfile directory: bentos.prom is replaced whole when the
#    host answers, removed when it does not, and no .tmp is left;
#  - the example drop-in tcp-endpoints.conf (network for tcp:// endpoints
#    and the llm plugin) applied to the main unit: verify finds nothing;
#  - both host units restart the host after a crash (Restart=on-failure
#    or always; no crash signal in RestartPreventExitStatus= or
#    SuccessExitStatus=);
#  - the sysusers.d file parses (systemd-sysusers --dry-run) and the OpenRC
#    script parses (sh -n).
#   scripts/check-units.sh [--no-openrc] [ROOT]
# --no-openrc: the tree must not hold the OpenRC script (the Debian
# packages leave it out; scripts/check-package.sh).
# ROOT is an install tree; without it the release tree is built and
# installed into a temporary one (scripts/stage-install.sh). ROOT=/ checks
# the files installed on this machine (after `dpkg -i`).
set -euo pipefail
cd "$(dirname "$0")/.."

max_exposure=1.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

expect_openrc=true
if [ "${1:-}" = --no-openrc ]; then expect_openrc=false; shift; fi
root=${1:-}
if [ -z "$root" ]; then
  root=$work/root
  echo "== staging an install (scripts/stage-install.sh) =="
  scripts/stage-install.sh "$root"
fi
root=$(realpath "$root")
prefix=$root
[ "$root" != / ] || prefix=""

for tool in systemd-analyze systemd-sysusers; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (Debian package systemd; scripts/install-deps.sh installs it)" >&2; exit 1; }
done

# Where the units are depends on the prefix and on systemd.pc
# (packaging/meson.build): /lib/systemd/system for a Debian 12 package.
unit_dir=""
for d in lib/systemd/system usr/lib/systemd/system usr/local/lib/systemd/system; do
  if [ -f "$prefix/$d/bentos-driver-host.service" ]; then unit_dir=$prefix/$d; break; fi
done
[ -n "$unit_dir" ] || { echo "error: no bentos-driver-host.service under $root/{,usr/,usr/local/}lib/systemd/system" >&2; exit 1; }

# verify insists that the programs of ExecStart= and ExecReload= exist.
# The units name them by their installed paths (/usr/sbin/..., /usr/bin/...),
# so for a staging tree the copies checked here point them into the tree;
# nothing else in them changes. A template is checked through an instance
# name.
units=$work/units
mkdir -p "$units"
into_tree="s|^\(Exec[A-Za-z]*\)=/|\1=$prefix/|"
sed "$into_tree" "$unit_dir/bentos-driver-host.service" >"$units/bentos-driver-host.service"
sed "$into_tree" "$unit_dir/bentos-driver-host@.service" >"$units/bentos-driver-host@check.service"
# The metrics service runs /bin/sh, which exists; the bentosctl inside its
# command line is checked below.
for unit in bentos-driver-host-metrics.service bentos-driver-host-metrics.timer; do
  if [ -f "$unit_dir/$unit" ]; then cp "$unit_dir/$unit" "$units/$unit"; else
    echo "error: no $unit in $unit_dir" >&2
    exit 1
  fi
done

status=0
echo "== systemd-analyze verify ($unit_dir) =="
for unit in bentos-driver-host.service bentos-driver-host@check.service bentos-driver-host-metrics.service \
  bentos-driver-host-metrics.timer; do
  out=$(cd "$units" && systemd-analyze verify --man=no "$units/$unit" 2>&1) || true
  if [ -n "$out" ]; then
    echo "FAIL: $unit:"
    echo "$out"
    status=1
  else
    echo "ok: $unit"
  fi
done

echo "== a crashed host is restarted (Restart=) =="
# A plugin in the host's process that crashes it (SIGSEGV, SIGABRT...:
# the host logs one line and dies by that signal) or calls exit(N) must
# bring the host back: Restart=on-failure or always restarts on an
# unclean signal and on a non-zero exit (systemd.service(5), the table
# under Restart=). A signal listed in RestartPreventExitStatus= or
# SuccessExitStatus= would undo that for it. The last assignment of a key
# wins; an empty one resets the list.
last_value() { sed -n "s/^$1=//p" "$2" | tail -n1; }
list_value() { # every entry since the last empty assignment
  sed -n "s/^$1=//p" "$2" | awk '$0 == "" { list = ""; next } { list = list " " $0 } END { print list }'
}
for unit in bentos-driver-host.service bentos-driver-host@check.service; do
  restart=$(last_value Restart "$units/$unit")
  case $restart in
    on-failure | always) ;;
    *)
      echo "FAIL: $unit: Restart=${restart:-(unset: no)}, expected on-failure or always"
      status=1
      continue
      ;;
  esac
  kept=""
  for key in RestartPreventExitStatus SuccessExitStatus; do
    for sig in SIGSEGV SIGBUS SIGFPE SIGILL SIGABRT; do
      for entry in $(list_value "$key" "$units/$unit"); do
        if [ "$entry" = "$sig" ] || [ "$entry" = "${sig#SIG}" ]; then kept="$kept $key=$entry"; fi
      done
    done
  done
  if [ -n "$kept" ]; then
    echo "FAIL: $unit: a crash by signal is not restarted:$kept"
    status=1
  else
    echo "ok: $unit: Restart=$restart, and no crash signal is exempted"
  fi
done

echo "== man pages named by Documentation= =="
# A Debian image that excludes /usr/share/man from packages (the slim ones:
# path-exclude in /etc/dpkg/dpkg.cfg.d) has none to find after dpkg -i.
man_excluded=""
if [ "$root" = / ] && grep -qs '^path-exclude=/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
  man_excluded=yes
fi
for unit in bentos-driver-host.service bentos-driver-host@check.service bentos-driver-host-metrics.service \
  bentos-driver-host-metrics.timer; do
  for doc in $(sed -n 's/^Documentation=//p' "$units/$unit"); do
    case $doc in man:*) ;; *) continue ;; esac
    page=${doc#man:} name=${page%(*} section=${page#*(}
    section=${section%)}
    found=""
    for d in usr/share/man usr/local/share/man; do
      for f in "$prefix/$d/man$section/$name.$section" "$prefix/$d/man$section/$name.$section.gz"; do
        [ -f "$f" ] && found=$f
      done
    done
    if [ -n "$found" ]; then
      echo "ok: $unit: $doc is $found"
    elif [ -n "$man_excluded" ]; then
      echo "SKIPPED: $unit: $doc: dpkg excludes /usr/share/man on this machine"
    else
      echo "FAIL: $unit: Documentation=$doc, but no $name.$section under $root/{usr,usr/local}/share/man/man$section"
      status=1
    fi
  done
done

echo "== systemd-analyze security --offline=true bentos-driver-host.service =="
# Prints "→ Overall exposure level for NAME: 1.5 OK" last.
exposure_of() {
  sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$1"
}
for unit in bentos-driver-host.service bentos-driver-host@check.service bentos-driver-host-metrics.service; do
  report=$(systemd-analyze security --offline=true "$units/$unit" 2>&1) || true
  [ "$unit" = bentos-driver-host.service ] && echo "$report"
  exposure=$(exposure_of "$report")
  if [ -z "$exposure" ]; then
    echo "FAIL: $unit: no exposure level in systemd-analyze security's output:"
    echo "$report"
    status=1
  elif awk -v e="$exposure" -v max="$max_exposure" 'BEGIN { exit !(e > max) }'; then
    echo "FAIL: $unit: exposure $exposure is above $max_exposure"
    status=1
  else
    echo "ok: $unit: exposure $exposure (at most $max_exposure)"
  fi
done

echo "== the metrics service's command (stub bentosctl, temporary textfile directory) =="
# ExecStart=/bin/sh -c '...' as systemd runs it: $$ is a literal $.
metrics_unit=$units/bentos-driver-host-metrics.service
script=$(sed -n "s/^ExecStart=\/bin\/sh -c '\(.*\)'$/\1/p" "$metrics_unit" | sed 's/\$\$/$/g')
ctl_path=$(grep -oE '[^ ]*/bentosctl' <<<"$script" | head -n1)
textfile_dir=/var/lib/prometheus/node-exporter
if [ -z "$script" ] || [ -z "$ctl_path" ]; then
  echo "FAIL: no ExecStart=/bin/sh -c '... bentosctl ...' in $metrics_unit"
  status=1
elif [ ! -x "$prefix$ctl_path" ]; then
  echo "FAIL: the metrics service runs $ctl_path, which is not in $root"
  status=1
else
  echo "ok: it runs $ctl_path ($prefix$ctl_path)"
  textfile=$work/textfile
  mkdir -p "$textfile"
  # The stub answers like bentosctl metrics, or fails like it with no host.
  stub=$work/bentosctl-stub
  printf '#!/bin/sh\n[ "$1" = metrics ] || exit 2\n[ -z "$STUB_FAIL" ] || exit 2\necho "bentos_devices 3"\n' >"$stub"
  chmod +x "$stub"
  script=${script//"$textfile_dir"/"$textfile"}
  script=${script//"$ctl_path"/"$stub"}
  echo "bentos_devices 1" >"$textfile/bentos.prom"
  sh -c "$script" || { echo "FAIL: the metrics service failed with an answering host"; status=1; }
  if [ "$(cat "$textfile/bentos.prom" 2>/dev/null)" = "bentos_devices 3" ] && [ ! -e "$textfile/bentos.prom.tmp" ]; then
    echo "ok: the host answered: bentos.prom replaced, no .tmp left"
  else
    echo "FAIL: after a run with an answering host: $(ls -A "$textfile")"
    status=1
  fi
  STUB_FAIL=1 sh -c "$script" && { echo "FAIL: the metrics service succeeded with no host"; status=1; }
  if [ ! -e "$textfile/bentos.prom" ] && [ ! -e "$textfile/bentos.prom.tmp" ]; then
    echo "ok: no answer: bentos.prom removed (no stale metrics), no .tmp left"
  else
    echo "FAIL: after a run with no host: $(ls -A "$textfile")"
    status=1
  fi
fi

echo "== the example drop-in tcp-endpoints.conf =="
# A drop-in's lines apply as if appended to the unit, so the unit with the
# drop-in appended is what systemd would run with it.
dropin=""
for d in usr/share usr/local/share; do
  f=$prefix/$d/bentos-driver-host/examples/tcp-endpoints.conf
  if [ -f "$f" ]; then dropin=$f; break; fi
done
if [ -z "$dropin" ]; then
  echo "FAIL: no bentos-driver-host/examples/tcp-endpoints.conf under $root/{usr,usr/local}/share"
  status=1
else
  cat "$units/bentos-driver-host.service" "$dropin" >"$units/bentos-driver-host-tcp.service"
  out=$(systemd-analyze verify --man=no "$units/bentos-driver-host-tcp.service" 2>&1) || true
  report=$(systemd-analyze security --offline=true "$units/bentos-driver-host-tcp.service" 2>&1) || true
  if [ -n "$out" ]; then
    echo "FAIL: the unit with $dropin:"
    echo "$out"
    status=1
  elif ! grep -q "PrivateNetwork=.*Service has access to the host's network" <<<"$report"; then
    echo "FAIL: the unit with $dropin still has no network (systemd-analyze security):"
    echo "$report"
    status=1
  else
    echo "ok: $dropin (exposure with it: $(exposure_of "$report"))"
  fi
fi

echo "== sysusers.d and OpenRC =="
sysusers=""
for d in usr/lib/sysusers.d lib/sysusers.d usr/local/lib/sysusers.d; do
  if [ -f "$prefix/$d/bentos-driver-host.conf" ]; then sysusers=$prefix/$d/bentos-driver-host.conf; break; fi
done
if [ -z "$sysusers" ]; then
  echo "FAIL: no sysusers.d/bentos-driver-host.conf under $root"
  status=1
elif out=$(systemd-sysusers --dry-run "$sysusers" 2>&1); then
  echo "ok: $sysusers"
else
  echo "FAIL: $sysusers:"
  echo "$out"
  status=1
fi
openrc=$prefix/etc/init.d/bentos-driver-host
if ! $expect_openrc; then
  if [ -e "$openrc" ]; then
    echo "FAIL: $openrc is installed, expected none (--no-openrc)"
    status=1
  else
    echo "ok: no OpenRC script (--no-openrc)"
  fi
elif [ ! -f "$openrc" ]; then
  echo "FAIL: no $openrc"
  status=1
elif sh -n "$openrc"; then
  echo "ok: $openrc (sh -n)"
else
  echo "FAIL: $openrc does not parse (sh -n)"
  status=1
fi

if [ "$status" -eq 0 ]; then echo "units: all checks passed"; else echo "units: some checks FAILED"; fi
exit "$status"
