#!/usr/bin/env bash
# Builds the Debian package (scripts/build-deb.sh), installs it on this
# machine with dpkg -i, checks what it installed and that it works the way
# docs/operations.md tells an operator to use it, then purges it and checks
# that nothing is left: the machine ends as it started (the bentos user and
# group, which the package keeps on purge, are removed here when the
# package created them).
#   scripts/check-package.sh [DEB]    (default: build one)
# Needs root (dpkg). Refuses to run when bentos-driver-host is installed
# already, since the check ends by purging it.
#
# What it checks once installed:
#  - the files: daemon, tools, units (the metrics timer not enabled),
#    OpenRC script, sysusers.d/tmpfiles.d,
#    headers, bentos-driver.pc, the seven example plugins (root, 0644), the
#    example manifest, the /etc/bentos drop-in folders, the conffiles;
#  - postinst's work: the bentos system user and group, /run/bentos and
#    /run/bentos/drivers owned by them;
#  - `bentos-driver-host --check` with the installed example manifest (as
#    root and as bentos) and with the installed default configuration;
#  - the units (scripts/check-units.sh /): systemd-analyze verify, exposure;
#  - the operator's path: a plugin built out of tree against the installed
#    headers (pkg-config bentos-driver), dropped into /etc/bentos/drivers.d
#    with a manifest in /etc/bentos/devices.d, served by the main unit's
#    exact ExecStart command line as bentos, while a template instance's
#    ExecStart serves the example manifest beside it; each answers through
#    its socket, and both exit 0 on SIGTERM leaving no socket behind.
set -euo pipefail
cd "$(dirname "$0")/.."

package=bentos-driver-host
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

[ "$(id -u)" -eq 0 ] || fail "scripts/check-package.sh installs a package with dpkg: run it as root"
state=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
if [ -n "$state" ] && [ "$state" != not-installed ]; then
  fail "$package is already on this machine (status '$state'); this check would purge it. Remove it first: dpkg --purge $package"
fi
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

# Runs on every exit: stops what this script started, purges the package if
# it is still installed, removes the files it added and the user it caused.
cleanup() {
  local pid
  for pid in "${daemon_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -f "$dropin_plugin" "$dropin_manifest" "$instance_manifest"
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)" = installed ] ||
     [ "$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)" = config-files ]; then
    dpkg --purge "$package" >/dev/null || echo "warning: dpkg --purge $package failed" >&2
  fi
  if ! $user_existed && getent passwd bentos >/dev/null; then userdel bentos || true; fi
  if ! $group_existed && getent group bentos >/dev/null; then groupdel bentos || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ $# -ge 1 ]; then
  deb=$(realpath "$1")
else
  echo "== building the package (scripts/build-deb.sh) =="
  deb=$(scripts/build-deb.sh "$work/dist" | tail -n1)
fi
[ -f "$deb" ] || fail "no package at '$deb'"

echo "== dpkg -i $(basename "$deb") =="
dpkg -i "$deb"
version=$(dpkg-query -W -f='${Version}' "$package")
upstream_version=${version%-*}
dpkg -L "$package" | sort >"$work/files"

echo "== installed files =="
need_file() {  # need_file PATH MODE DESCRIPTION
  [ -f "$1" ] || fail "$3: $1 is missing"
  local mode owner
  mode=$(stat -c %a "$1")
  owner=$(stat -c %U:%G "$1")
  [ "$mode" = "$2" ] || fail "$3: $1 has mode $mode, expected $2"
  [ "$owner" = root:root ] || fail "$3: $1 is owned by $owner, expected root:root"
  ok "$3: $1 ($mode root:root)"
}
need_file /usr/sbin/bentos-driver-host 755 "daemon"
need_file /usr/bin/bentosctl 755 "bentosctl"
need_file /usr/bin/bentos-mount 755 "bentos-mount"
need_file /etc/init.d/bentos-driver-host 755 "OpenRC script"
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
need_file /usr/include/bentos/driver.h 644 "C header"
need_file /usr/include/bentos/driver.hpp 644 "C++ header"
example=/usr/share/bentos-driver-host/examples/devices.json
need_file "$example" 644 "example manifest"
[ "$(pkg-config --modversion bentos-driver)" = "$upstream_version" ] ||
  fail "pkg-config --modversion bentos-driver says '$(pkg-config --modversion bentos-driver)', expected $upstream_version"
ok "pkg-config bentos-driver $upstream_version ($(pkg-config --path bentos-driver))"
plugindir=$(pkg-config --variable=plugindir bentos-driver)
for p in hello playground echo kv ticker synth llm; do
  need_file "$plugindir/$p.so" 644 "example plugin"
done
need_file "$(pkg-config --variable=plugin_map bentos-driver)" 644 "plugin version script"
for d in /etc/bentos/drivers.d /etc/bentos/devices.d; do
  [ "$(stat -c %F:%a:%U:%G "$d" 2>/dev/null)" = directory:755:root:root ] || fail "$d: missing or not a 0755 root:root folder"
  ok "drop-in folder $d (0755 root:root)"
done
[ ! -e /etc/bentos/devices.json ] || fail "the package must not install /etc/bentos/devices.json (a fresh install starts no device)"
ok "no /etc/bentos/devices.json: a fresh install serves no device"
grep -q '^ /etc/init.d/bentos-driver-host ' <(dpkg-query -W -f='${Conffiles}\n' "$package") ||
  fail "/etc/init.d/bentos-driver-host is not a conffile"
ok "conffiles: $(dpkg-query -W -f='${Conffiles}' "$package" | awk 'NF { printf "%s ", $1 }')"

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

echo "== units (scripts/check-units.sh /) =="
scripts/check-units.sh /

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

echo "== dpkg --purge $package =="
dpkg --purge "$package"
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
if getent passwd bentos >/dev/null; then ok "the user bentos is kept on purge (packaging/debian/postrm says why)"; fi
# cleanup (on exit) removes the user and group if this check caused them.
echo "package: all checks passed"
