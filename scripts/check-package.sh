#!/usr/bin/env bash
# Builds the Debian packages (scripts/build-deb.sh: dpkg-buildpackage on
# debian/), runs lintian --pedantic on them, installs the three of them on
# this machine with dpkg -i, checks what they installed and that it works
# the way docs/operations.md tells an operator to use it, then purges them
# and checks that nothing is left: the machine ends as it started (the
# bentos user and group, which the package keeps on purge, are removed here
# when the package created them).
#   scripts/check-package.sh [DIR]    (default: build them; DIR holds
#                                      the .debs and .changes of a build)
# Needs root (dpkg). Refuses to run when one of the packages is installed
# already, since the check ends by purging it.
#
# What it checks:
#  - lintian --pedantic: no error and no warning (overrides, each with its
#    reason, are in debian/*.lintian-overrides);
#  - the split: daemon, tools, units (the metrics timer not enabled), sysusers.d/tmpfiles.d, man pages,
#    completion and guides from bentos-driver-host (Recommends: fuse3, no
#    OpenRC script, no file in /etc/init.d); headers, bentos-driver.pc,
#    plugin.map, the driver guide and the test harness (testing.hpp,
#    libbentos-testing.a, bentos-testing.pc, whose pkg-config Requires come
#    from libbentos-driver-dev's Depends) from libbentos-driver-dev; the seven
#    example plugins (root, 0644) and the example manifest from
#    bentos-driver-host-examples; the /etc/bentos drop-in folders;
#  - `man` finds all five pages; every link in the installed guides leads
#    to an installed file; the programs are hardened
#    (tests/hardening/check-hardening.sh);
#  - the driver author's path on the packages alone, timed: in an empty
#    folder, as an unprivileged user (bentos) with a clean environment,
#    `bentosctl new-driver demo --pattern p2` in C++ and in C, `make` and
#    `make test` (the generated harness test through pkg-config
#    bentos-testing): each step must pass; the times of each step, the
#    install included, and whether the install and the C++ driver's steps
#    together take under 120 s are printed ("author-path (packages):
#    ..."), not asserted (issue 16's goal: a tested driver in under 2
#    minutes once the packages are present);
#  - the maintainer scripts' work: the bentos system user and group,
#    /run/bentos and /run/bentos/drivers owned by them;
#  - `bentos-driver-host --check` with the installed example manifest (as
#    root and as bentos) and with the installed default configuration;
#  - the units (scripts/check-units.sh --no-openrc /): systemd-analyze
#    verify, exposure;
#  - the operator's path: a plugin built out of tree against the installed
#    headers (pkg-config bentos-driver), dropped into /etc/bentos/drivers.d
#    with a manifest in /etc/bentos/devices.d, served by the main unit's
#    exact ExecStart command line as bentos, while a template instance's
#    ExecStart serves the example manifest beside it; each answers through
#    its socket, and both exit 0 on SIGTERM leaving no socket behind.
set -euo pipefail
cd "$(dirname "$0")/.."

daemon_package=bentos-driver-host
dev_package=libbentos-driver-dev
examples_package=bentos-driver-host-examples
packages=("$daemon_package" "$dev_package" "$examples_package")
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
package_state() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true; }

[ "$(id -u)" -eq 0 ] || fail "scripts/check-package.sh installs packages with dpkg: run it as root"
for p in "${packages[@]}"; do
  state=$(package_state "$p")
  if [ -n "$state" ] && [ "$state" != not-installed ]; then
    fail "$p is already on this machine (status '$state'); this check would purge it. Remove it first: dpkg --purge ${packages[*]}"
  fi
done
scripts/install-deps.sh

# Whether the check, rather than the machine's owner, creates the user.
user_existed=false
getent passwd bentos >/dev/null && user_existed=true
group_existed=false
getent group bentos >/dev/null && group_existed=true

work=$(mktemp -d)
daemon_pids=()
instance=pkgcheck
dropin_plugin=/etc/bentos/drivers.d/pkgcheck-hello.so
dropin_manifest=/etc/bentos/devices.d/pkgcheck.json
instance_manifest=/etc/bentos/devices.$instance.json
author_dir=  # the driver author's folder, made once the user bentos exists

# Runs on every exit: stops what this script started, purges the packages
# still installed, removes the files it added and the user it caused.
cleanup() {
  local pid p purge=()
  for pid in "${daemon_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -f "$dropin_plugin" "$dropin_manifest" "$instance_manifest"
  for p in "${packages[@]}"; do
    case "$(package_state "$p")" in installed|config-files|half-installed|half-configured|unpacked) purge+=("$p") ;; esac
  done
  if [ ${#purge[@]} -gt 0 ]; then
    dpkg --purge "${purge[@]}" >/dev/null || echo "warning: dpkg --purge ${purge[*]} failed" >&2
  fi
  if ! $user_existed && getent passwd bentos >/dev/null; then userdel bentos || true; fi
  if ! $group_existed && getent group bentos >/dev/null; then groupdel bentos || true; fi
  rm -rf "$work"
  if [ -n "$author_dir" ]; then rm -rf "$author_dir"; fi
}
trap cleanup EXIT

if [ $# -ge 1 ]; then
  dist=$(realpath "$1")
else
  echo "== building the packages (scripts/build-deb.sh) =="
  dist=$work/dist
  scripts/build-deb.sh "$dist"
fi
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
debs=()
for p in "${packages[@]}"; do
  deb=$dist/${p}_${version}_$arch.deb
  [ -f "$deb" ] || fail "no package $deb"
  debs+=("$deb")
done
dbgsym=$dist/${daemon_package}-dbgsym_${version}_$arch.deb
[ -f "$dbgsym" ] || fail "no debug symbols package $dbgsym"
ok "built: $(cd "$dist" && ls -- *_"$version"_*.deb | tr '\n' ' ')"

echo "== lintian --pedantic =="
changes=$dist/bentos-driver-host_${version}_$arch.changes
[ -f "$changes" ] || fail "no $changes"
# lintian exits 1 for errors in the packages (caught below with the
# warnings, read from its output) and 2 when it could not check them.
lintian_status=0
lintian_out=$(lintian --pedantic --display-info "$changes" 2>&1) || lintian_status=$?
[ -z "$lintian_out" ] || echo "$lintian_out"
[ "$lintian_status" -le 1 ] || fail "lintian could not check $changes (exit $lintian_status)"
if grep -qE '^[EW]: ' <<<"$lintian_out"; then
  fail "lintian reports errors or warnings (override one only with a reason, in debian/*.lintian-overrides)"
fi
ok "lintian --pedantic: no error, no warning ($(grep -cE '^[IPX]: ' <<<"$lintian_out" || true) info/pedantic/experimental tags)"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds() { printf '%d.%d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }

echo "== dpkg -i ${debs[*]##*/} =="
install_t0=$(now_ms)
dpkg -i "${debs[@]}"
install_ms=$(($(now_ms) - install_t0))
upstream_version=${version%-*}
for p in "${packages[@]}"; do dpkg -L "$p"; done | sort -u >"$work/files"

echo "== installed files =="
need_file() {  # need_file PATH MODE DESCRIPTION [PACKAGE]
  [ -f "$1" ] || fail "$3: $1 is missing"
  local mode owner package
  mode=$(stat -c %a "$1")
  owner=$(stat -c %U:%G "$1")
  [ "$mode" = "$2" ] || fail "$3: $1 has mode $mode, expected $2"
  [ "$owner" = root:root ] || fail "$3: $1 is owned by $owner, expected root:root"
  package=$(dpkg-query -S "$1" 2>/dev/null | cut -d: -f1)
  [ "$package" = "${4:-$daemon_package}" ] || fail "$3: $1 comes from '$package', expected ${4:-$daemon_package}"
  ok "$3: $1 ($mode root:root, $package)"
}
need_file /usr/sbin/bentos-driver-host 755 "daemon"
need_file /usr/bin/bentosctl 755 "bentosctl"
need_file /usr/bin/bentos-mount 755 "bentos-mount"
unit_dir=$(dirname "$(grep -m1 '/systemd/system/bentos-driver-host\.service$' "$work/files")")
need_file "$unit_dir/bentos-driver-host.service" 644 "systemd unit"
need_file "$unit_dir/bentos-driver-host@.service" 644 "systemd template unit"
need_file "$unit_dir/bentos-driver-host-metrics.service" 644 "node_exporter metrics service"
need_file "$unit_dir/bentos-driver-host-metrics.timer" 644 "node_exporter metrics timer"
[ ! -e /etc/systemd/system/timers.target.wants/bentos-driver-host-metrics.timer ] ||
  fail "the package enabled bentos-driver-host-metrics.timer; it ships disabled"
ok "bentos-driver-host-metrics.timer is not enabled"
need_file /usr/lib/sysusers.d/bentos-driver-host.conf 644 "sysusers.d"
need_file /usr/lib/tmpfiles.d/bentos-driver-host.conf 644 "tmpfiles.d"
need_file /usr/share/bash-completion/completions/bentosctl 644 "bash completion"
need_file /usr/share/doc/bentos-driver-host/operations.md 644 "operator's guide"
need_file /usr/include/bentos/driver.h 644 "C header" "$dev_package"
need_file /usr/include/bentos/driver.hpp 644 "C++ header" "$dev_package"
need_file /usr/share/doc/bentos-driver/writing-a-driver.md 644 "driver guide" "$dev_package"
need_file /usr/include/bentos/testing.hpp 644 "test harness header" "$dev_package"
need_file "$(pkg-config --path bentos-testing)" 644 "test harness pkg-config file" "$dev_package"
need_file "$(pkg-config --variable=libdir bentos-testing)/libbentos-testing.a" 644 "test harness library" "$dev_package"
# Each module the harness's .pc requires comes from the package itself or
# from one it depends on: an author installing libbentos-driver-dev alone
# gets a pkg-config bentos-testing that resolves.
dev_depends=$(dpkg-query -W -f='${Depends}' "$dev_package")
# Its package names, one a line (versions and architectures dropped).
dev_depends_names=$(tr ',|' '\n\n' <<<"$dev_depends" | sed 's/^ *//; s/[ :(].*//')
while read -r module _; do
  [ -n "$module" ] || continue
  pc=$(pkg-config --path "$module") || fail "bentos-testing.pc requires $module, which pkg-config does not find"
  owner=$(dpkg-query -S "$pc" 2>/dev/null | cut -d: -f1) || fail "no package owns $pc ($module)"
  [ "$owner" = "$dev_package" ] || grep -qxF "$owner" <<<"$dev_depends_names" ||
    fail "bentos-testing.pc requires $module ($pc, from $owner), but $dev_package does not depend on $owner (Depends: $dev_depends)"
  ok "bentos-testing.pc requires $module: from $owner"
done < <(pkg-config --print-requires bentos-testing)
pkg-config --libs bentos-testing >/dev/null || fail "pkg-config --libs bentos-testing does not resolve"
example=/usr/share/bentos-driver-host/examples/devices.json
need_file "$example" 644 "example manifest" "$examples_package"
[ "$(pkg-config --modversion bentos-driver)" = "$upstream_version" ] ||
  fail "pkg-config --modversion bentos-driver says '$(pkg-config --modversion bentos-driver)', expected $upstream_version"
need_file "$(pkg-config --path bentos-driver)" 644 "pkg-config file" "$dev_package"
plugindir=$(pkg-config --variable=plugindir bentos-driver)
for p in hello playground echo kv ticker synth llm; do
  need_file "$plugindir/$p.so" 644 "example plugin" "$examples_package"
done
need_file "$(pkg-config --variable=plugin_map bentos-driver)" 644 "plugin version script" "$dev_package"
for d in /etc/bentos/drivers.d /etc/bentos/devices.d; do
  [ "$(stat -c %F:%a:%U:%G "$d" 2>/dev/null)" = directory:755:root:root ] || fail "$d: missing or not a 0755 root:root folder"
  ok "drop-in folder $d (0755 root:root)"
done
[ ! -e /etc/bentos/devices.json ] || fail "the package must not install /etc/bentos/devices.json (a fresh install starts no device)"
ok "no /etc/bentos/devices.json: a fresh install serves no device"
if grep -q '^/etc/init\.d/' "$work/files" || [ -e /etc/init.d/bentos-driver-host ]; then
  fail "the Debian packages must not install an OpenRC script (/etc/init.d)"
fi
ok "no OpenRC script in /etc/init.d"
recommends=$(dpkg-query -W -f='${Recommends}' "$daemon_package")
grep -qw fuse3 <<<"$recommends" || fail "$daemon_package does not recommend fuse3 (Recommends: '$recommends')"
ok "$daemon_package Recommends: $recommends"

echo "== man pages, guides, hardening =="
for page in 8:bentos-driver-host 1:bentosctl 1:bentos-mount 5:bentos-devices.json 7:bentos-driver; do
  where=$(man -w "${page%%:*}" "${page#*:}" 2>/dev/null) || fail "man ${page%%:*} ${page#*:}: no manual entry"
  # Renders without a groff warning.
  if ! out=$(MANWIDTH=80 man --warnings "${page%%:*}" "${page#*:}" 2>&1 >/dev/null) || [ -n "$out" ]; then
    fail "man ${page%%:*} ${page#*:} does not render cleanly: $out"
  fi
  ok "man ${page%%:*} ${page#*:}: $where"
done
# Every relative or absolute link of every installed guide leads to an
# installed file (packaging/install-docs.py rewrites them at install).
links=0
while IFS= read -r guide; do
  while IFS= read -r target; do
    path=${target%%#*}
    case "$path" in /*) resolved=$path ;; *) resolved=$(dirname "$guide")/$path ;; esac
    [ -e "$resolved" ] || fail "$guide links '$target', which is not installed ($resolved)"
    links=$((links + 1))
  done < <(awk '/^ *```/ { fenced = !fenced; next } !fenced' "$guide" |
           grep -oE '\]\([^)[:space:]]+\)' | sed 's/^](//; s/)$//' | grep -vE '^([a-z][a-z0-9+.-]*:|#)' || true)
done < <(grep -E '^/usr/share/doc/bentos-driver(-host)?/.*\.md$' "$work/files")
[ "$links" -gt 0 ] || fail "found no link in the installed guides: was the check written for other names?"
ok "all $links links in the installed guides lead to installed files"
tests/hardening/check-hardening.sh true yes /usr/sbin/bentos-driver-host /usr/bin/bentosctl /usr/bin/bentos-mount ||
  fail "the installed programs are not hardened (above)"

echo "== the driver author's path on the packages, timed =="
# In a fresh folder, as the unprivileged user bentos (which the package
# made) with a clean environment: no PKG_CONFIG_PATH, no compiler cache,
# what an author has right after the install. Each step must pass; the
# times are printed for information only (a loaded machine is slow, not
# wrong).
author_dir=$(mktemp -d /tmp/bentos-author.XXXXXX)
chown bentos:bentos "$author_dir"
author_report="author-path (packages): $(printf '%-16s' "dpkg -i") $(seconds "$install_ms") (the ${#debs[@]} packages)"$'\n'
declare -A lang_ms=([cpp]=0 [c]=0)  # each driver's steps, in ms
author_step() {  # author_step NAME FOLDER COMMAND...
  local name=$1 dir=$2 t0 ms log=$work/author-${1// /-}.log
  shift 2
  t0=$(now_ms)
  if ! (cd "$dir" && exec setpriv --reuid=bentos --regid=bentos --init-groups -- \
          env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$author_dir" LC_ALL=C.UTF-8 "$@") >"$log" 2>&1; then
    sed 's/^/  /' "$log" >&2
    fail "author-path: $name ($*) failed in $dir"
  fi
  ms=$(($(now_ms) - t0))
  lang_ms[${name%% *}]=$((lang_ms[${name%% *}] + ms))
  author_report+="author-path (packages): $(printf '%-16s' "$name") $(seconds "$ms")"$'\n'
  ok "author-path: $name"
}
for lang in cpp c; do
  author_step "$lang new-driver" "$author_dir" bentosctl new-driver demo --pattern p2 --lang "$lang" --dir "$lang"
  author_step "$lang make" "$author_dir/$lang" make
  [ -f "$author_dir/$lang/demo.so" ] || fail "author-path: $lang make built no demo.so"
  author_step "$lang make test" "$author_dir/$lang" make test
  # The generated test ran and every one of its cases passed.
  grep -qE '^\[doctest\] test cases: *([1-9][0-9]*) \| *\1 passed \| *0 failed' "$work/author-$lang-make-test.log" ||
    fail "author-path: $lang make test printed no passing doctest summary: $(cat "$work/author-$lang-make-test.log")"
  ok "author-path: $lang: the generated harness test passed ($(grep -m1 '^\[doctest\] test cases' "$work/author-$lang-make-test.log"))"
done
# The path is the install and one driver, C++ (the slower to compile);
# the C driver's steps are reported beside it.
path_ms=$((install_ms + lang_ms[cpp]))
verdict=no
[ "$path_ms" -lt 120000 ] && verdict=yes
printf '%s' "$author_report"
echo "author-path (packages): total $(seconds "$path_ms") (the install, then the C++ driver; the C driver's steps: $(seconds "${lang_ms[c]}")); under 120 s: $verdict ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
rm -rf "$author_dir"
author_dir=

echo "== postinst: user, group, runtime directories =="
getent passwd bentos >/dev/null || fail "postinst did not create the user bentos"
getent group bentos >/dev/null || fail "postinst did not create the group bentos"
[ "$(id -gn bentos)" = bentos ] || fail "the user bentos's primary group is $(id -gn bentos), expected bentos"
ok "user and group bentos: $(getent passwd bentos)"
for d in /run/bentos /run/bentos/drivers; do
  [ "$(stat -c %a:%U:%G "$d" 2>/dev/null)" = 755:bentos:bentos ] || fail "$d: missing or not 0755 bentos:bentos"
  ok "$d (0755 bentos:bentos)"
done

echo "== bentos-driver-host --check =="
bentos-driver-host --version
out=$(bentos-driver-host --check --config "$example")
echo "$out"
[ "$(tail -n1 <<<"$out")" = "configuration ok: 7 device(s)" ] || fail "--check on $example did not accept its 7 devices"
# As the service user, which is who loads plugins in production: the
# plugin ownership rules must accept the packaged files for it too.
as_bentos=(setpriv --reuid=bentos --regid=bentos --init-groups --)
"${as_bentos[@]}" bentos-driver-host --check --config "$example" | tail -n1 | grep -qx "configuration ok: 7 device(s)" ||
  fail "--check on $example as the user bentos failed"
ok "--check on $example as bentos"
bentos-driver-host --check | tail -n1 | grep -qx "configuration ok: 0 device(s)" ||
  fail "--check on the installed default configuration failed"
ok "--check on the installed default configuration: 0 devices"

echo "== units (scripts/check-units.sh --no-openrc /) =="
scripts/check-units.sh --no-openrc /

echo "== an out-of-tree plugin against the installed headers, served by the units' command lines =="
# The plugin: the hello example compiled the way docs/writing-a-driver.md
# tells an author to, against /usr/include and bentos-driver.pc only.
# shellcheck disable=SC2046 # pkg-config prints several flags on purpose
cc -std=c99 -shared -fPIC -fvisibility=hidden $(pkg-config --cflags bentos-driver) \
  -Wl,--version-script="$(pkg-config --variable=plugin_map bentos-driver)" \
  plugins/hello/hello.c -o "$work/pkgcheck-hello.so"
install -m 0644 -o root -g root "$work/pkgcheck-hello.so" "$dropin_plugin"
printf '{"devices": [{"name": "pkgcheck", "plugin": "pkgcheck-hello.so"}]}\n' >"$dropin_manifest"
install -m 0644 "$example" "$instance_manifest"
bentos-driver-host --check | tail -n1 | grep -qx "configuration ok: 1 device(s)" ||
  fail "--check does not accept the drop-in $dropin_manifest"
ok "built $dropin_plugin; --check accepts $dropin_manifest"

# The ExecStart= line of an installed unit, %i replaced, as words.
exec_start() {  # exec_start UNIT_FILE INSTANCE
  local line
  line=$(sed -n 's/^ExecStart=//p' "$1")
  [ -n "$line" ] || fail "$1 has no ExecStart="
  printf '%s\n' "${line//%i/$2}"
}
line=$(exec_start "$unit_dir/bentos-driver-host.service" "")
read -ra main_cmd <<<"$line"
line=$(exec_start "$unit_dir/bentos-driver-host@.service" "$instance")
read -ra instance_cmd <<<"$line"
# What systemd does before ExecStart that this machine has to do by hand:
# RuntimeDirectory= (the instance's socket folder), User=/Group=, UMask=.
install -d -o bentos -g bentos -m 0755 "/run/bentos/drivers-$instance"
(umask 0077; exec "${as_bentos[@]}" "${main_cmd[@]}") >"$work/main.log" 2>&1 &
daemon_pids+=($!)
(umask 0077; exec "${as_bentos[@]}" "${instance_cmd[@]}") >"$work/instance.log" 2>&1 &
daemon_pids+=($!)

wait_for_socket() {  # wait_for_socket PATH LOG
  local i
  for ((i = 0; i < 100; i++)); do
    [ -S "$1" ] && return 0
    sleep 0.1
  done
  cat "$2" >&2
  fail "no socket $1 after 10 s"
}
main_sockets=(/run/bentos/driver-host.sock /run/bentos/drivers/pkgcheck.sock)
instance_sockets=("/run/bentos/driver-host-$instance.sock")
for p in hello playground echo kv ticker synth llm; do instance_sockets+=("/run/bentos/drivers-$instance/$p.sock"); done
for s in "${main_sockets[@]}"; do wait_for_socket "$s" "$work/main.log"; done
for s in "${instance_sockets[@]}"; do wait_for_socket "$s" "$work/instance.log"; done
for s in "${main_sockets[@]}" "${instance_sockets[@]}"; do
  [ "$(stat -c %a:%U:%G "$s")" = 660:bentos:bentos ] || fail "$s is $(stat -c %a:%U:%G "$s"), expected 660:bentos:bentos"
done
ok "main unit's command line: ${main_sockets[*]} (0660 bentos:bentos)"
ok "instance $instance's command line: ${#instance_sockets[@]} sockets under /run/bentos (0660 bentos:bentos)"
greeting=$(timeout 10 bentosctl cat /run/bentos/drivers/pkgcheck.sock)
[ "$greeting" = "Hello from BentOS!" ] || fail "the drop-in device answered '$greeting'"
ok "bentosctl cat /run/bentos/drivers/pkgcheck.sock: $greeting"
answer=$(timeout 10 bentosctl send "/run/bentos/drivers-$instance/kv.sock" 'name=bentos')
[ "$answer" = OK ] || fail "the instance's kv device answered '$answer'"
ok "bentosctl send /run/bentos/drivers-$instance/kv.sock name=bentos: $answer"

# SIGTERM, as systemctl stop sends: both exit 0 and remove their sockets.
for pid in "${daemon_pids[@]}"; do kill -TERM "$pid"; done
for pid in "${daemon_pids[@]}"; do
  status=0
  wait "$pid" || status=$?
  [ "$status" -eq 0 ] || { cat "$work/main.log" "$work/instance.log" >&2; fail "a host exited with status $status after SIGTERM"; }
done
daemon_pids=()
for s in "${main_sockets[@]}" "${instance_sockets[@]}"; do
  [ ! -e "$s" ] || fail "$s is still there after the host stopped"
done
ok "SIGTERM: both hosts exited 0 and removed their sockets"
rm -f "$dropin_plugin" "$dropin_manifest" "$instance_manifest"
rmdir "/run/bentos/drivers-$instance"

echo "== dpkg --purge ${packages[*]} =="
dpkg --purge "${packages[@]}"
left=()
while IFS= read -r f; do
  [ -e "$f" ] || continue
  # Folders other packages use too (/usr/lib, /etc/init.d...) stay.
  if [ -d "$f" ] && { [ -n "$(ls -A "$f")" ] || dpkg-query -S "$f" >/dev/null 2>&1; }; then continue; fi
  left+=("$f")
done <"$work/files"
# And what the maintainer scripts made: runtime folders, the enablement
# link and deb-systemd-helper's records of it.
for f in /etc/bentos /run/bentos /var/log/bentos-driver-host.log \
         /etc/systemd/system/multi-user.target.wants/bentos-driver-host.service \
         /var/lib/systemd/deb-systemd-helper-enabled/bentos-driver-host.service.dsh-also \
         /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/bentos-driver-host.service \
         /var/lib/systemd/deb-systemd-helper-masked/bentos-driver-host.service; do
  [ ! -e "$f" ] && [ ! -L "$f" ] || left+=("$f")
done
[ ${#left[@]} -eq 0 ] || fail "left behind after purge: ${left[*]}"
ok "purge removed every file of the package, /etc/bentos, /run/bentos and the enablement link"
if getent passwd bentos >/dev/null; then ok "the user bentos is kept on purge (debian/bentos-driver-host.postrm says why)"; fi
# cleanup (on exit) removes the user and group if this check caused them.
echo "package: all checks passed"
