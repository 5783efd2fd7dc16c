#!/usr/bin/env bash
# Builds the Debian package bentos-driver-host_<version>-<rev>_<arch>.deb
# from `meson install --destdir` (scripts/stage-install.sh) with dpkg-deb:
# Depends computed by dpkg-shlibdeps from the ELF files' NEEDED entries,
# every file under /etc a conffile, maintainer scripts from
# packaging/debian/.
#   scripts/build-deb.sh [OUTDIR]     (default: ./dist)
# Prints the package's path as its last line. Environment:
#   BENTOS_DEB_REVISION  Debian revision (default 1)
#   BENTOS_DEB_MAINTAINER  the Maintainer field
#   BENTOS_PKG_BUILD_DIR, BENTOS_JOBS  as for scripts/stage-install.sh
set -euo pipefail
cd "$(dirname "$0")/.."

outdir=${1:-dist}
package=bentos-driver-host
dir=${BENTOS_PKG_BUILD_DIR:-build-deb}
maintainer=${BENTOS_DEB_MAINTAINER:-BentOS maintainers <bentos@localhost>}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# debhelper's layout (debian/control beside the package tree
# debian/<package>), which is where dpkg-shlibdeps expects the files.
root=$work/debian/$package
scripts/stage-install.sh "$root"
for tool in dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (Debian package dpkg-dev; scripts/install-deps.sh installs it)" >&2; exit 1; }
done

version=$(meson introspect --projectinfo "$dir" | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
deb_version=$version-${BENTOS_DEB_REVISION:-1}
arch=$(dpkg --print-architecture)

# Shared objects are not programs: Debian ships them 0644 (meson installs
# the plugins 0755). Root-owned (dpkg-deb --root-owner-group below) and not
# group/other-writable, they pass the daemon's plugin ownership check.
find "$root" -type f -name '*.so' -exec chmod 0644 {} +

# Debian policy (12.1) wants manual pages compressed with gzip -9n (-n: no
# name or time stamp, so the package is reproducible).
[ ! -d "$root/usr/share/man" ] || find "$root/usr/share/man" -type f -name '*.[1-9]' -exec gzip -9n {} +

# Debian policy wants a copyright file in every package's doc directory.
# The license is project()'s in meson.build (meson 1.0's introspection
# does not report it).
license=$(sed -n "s/^ *license *: *'\([^']*\)'.*/\1/p" meson.build | head -n1)
[ -n "$license" ] || { echo "error: no license : '...' line in meson.build's project()" >&2; exit 1; }
cat >"$root/usr/share/doc/$package/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: $package

Files: *
Copyright: the $package authors
License: $license
 On Debian systems the full text is in /usr/share/common-licenses/$license.
EOF

installed_size=$(du -sk --apparent-size "$root" | cut -f1)
mkdir -p "$root/DEBIAN"

# Depends: dpkg-shlibdeps maps every NEEDED library of every ELF file to
# the package and minimum version that provides it (libuv1, libfuse3-3,
# libstdc++6, ...). It wants debhelper's layout: debian/control (a minimal
# one will do) beside the package tree debian/<package>/ with its DEBIAN
# directory, and paths relative to it.
elf_files=()
while IFS= read -r -d '' f; do
  [ "$(od -An -tx1 -N4 "$work/$f" | tr -d ' \n')" = 7f454c46 ] && elf_files+=("$f")
done < <(cd "$work" && find "debian/$package" -path "debian/$package/DEBIAN" -prune -o -type f -print0)
[ ${#elf_files[@]} -gt 0 ] || { echo "error: no ELF files under $root: did the install fail?" >&2; exit 1; }
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$package" "$package" >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O "${elf_files[@]}")
depends=${shlibs#shlibs:Depends=}
if [ -z "$depends" ] || [ "$depends" = "$shlibs" ]; then
  echo "error: dpkg-shlibdeps gave no Depends: '$shlibs'" >&2
  exit 1
fi

sed -e "s|@VERSION@|$deb_version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
    -e "s|@INSTALLED_SIZE@|$installed_size|" -e "s|@DEPENDS@|$depends|" \
    packaging/debian/control.in >"$root/DEBIAN/control"
if grep -q '@[A-Z_]*@' "$root/DEBIAN/control"; then
  echo "error: unreplaced placeholder in DEBIAN/control:" >&2
  grep '@[A-Z_]*@' "$root/DEBIAN/control" >&2
  exit 1
fi
for script in postinst prerm postrm; do
  install -m 0755 "packaging/debian/$script" "$root/DEBIAN/$script"
done
# Every file under /etc is the operator's to edit: dpkg keeps their changes
# on upgrade and removes them only on purge.
(cd "$root" && find etc -type f | sed 's|^|/|' | sort) >"$root/DEBIAN/conffiles"
[ -s "$root/DEBIAN/conffiles" ] || rm "$root/DEBIAN/conffiles"
# md5sums for debsums / dpkg --verify (conffiles have their own sums).
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print0 | sort -z |
  xargs -0 md5sum | sed 's|  \./|  |') >"$root/DEBIAN/md5sums"

mkdir -p "$outdir"
deb=$outdir/${package}_${deb_version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "built $deb: Depends: $depends"
realpath "$deb"
