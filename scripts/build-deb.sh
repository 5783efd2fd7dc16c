#!/usr/bin/env bash
# Builds the Debian packages from this checkout with dpkg-buildpackage -b
# (the source package in debian/: debhelper, meson, dpkg-buildflags):
# bentos-driver-host, libbentos-driver-dev, bentos-driver-host-examples and
# their -dbgsym packages, with the .changes and .buildinfo files, into
# OUTDIR.
#   scripts/build-deb.sh [OUTDIR]     (default: ./dist)
# Prints the path of each .deb built (dbgsym packages included), one a
# line, as its last lines. Environment:
#   BENTOS_DEB_BUILD_DIR  where the tree is copied and built (default
#                         ./build-deb; kept between runs, which lets ccache
#                         reuse the objects)
#   BENTOS_JOBS           parallel jobs (default: nproc)
#
# dpkg-buildpackage writes its results into the parent folder of the tree
# it builds and leaves build files in debian/, so it builds a copy of the
# checkout (the files git knows, uncommitted changes included) instead of
# the checkout itself. `dpkg-buildpackage -us -uc -b` in the checkout works
# too (README).
set -euo pipefail
cd "$(dirname "$0")/.."

outdir=$(realpath -m "${1:-dist}")
dir=$(realpath -m "${BENTOS_DEB_BUILD_DIR:-build-deb}")
scripts/install-deps.sh
for tool in dpkg-buildpackage dpkg-parsechangelog dh; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (scripts/install-deps.sh installs dpkg-dev and debhelper)" >&2; exit 1; }
done

source=$(dpkg-parsechangelog -S Source)
version=$(dpkg-parsechangelog -S Version)
tree=$dir/$source-$version
rm -rf "$tree"
# Results of an earlier build in $dir would be mistaken for this one's.
rm -f "$dir"/*.deb "$dir"/*.ddeb "$dir"/*.changes "$dir"/*.buildinfo
mkdir -p "$tree"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked and new files, not the ignored ones (build trees, dist/);
  # a tracked file deleted in the checkout is skipped.
  git ls-files -z --cached --others --exclude-standard |
    tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$tree"
else
  tar --exclude='./build*' --exclude=./dist --exclude=./run --exclude=./.git -cf - . | tar -xf - -C "$tree"
fi

echo "building $source $version in $tree (dpkg-buildpackage -us -uc -b)"
start=$(date +%s)
log=$dir/dpkg-buildpackage.log
if ! (cd "$tree" && DEB_BUILD_OPTIONS="parallel=${BENTOS_JOBS:-$(nproc)} ${DEB_BUILD_OPTIONS:-}" \
      dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  echo "error: dpkg-buildpackage failed; the whole log is $log" >&2
  exit 1
fi
echo "built in $(($(date +%s) - start)) s (log: $log)"

mkdir -p "$outdir"
shopt -s nullglob
results=("$dir"/*.deb "$dir"/*.ddeb "$dir"/*.changes "$dir"/*.buildinfo)
[ ${#results[@]} -gt 0 ] || { echo "error: dpkg-buildpackage made no package in $dir" >&2; exit 1; }
mv -f "${results[@]}" "$outdir"/
for deb in "$outdir"/*_"$version"_*.deb "$outdir"/*_"$version"_*.ddeb; do
  echo "$(basename "$deb"): $(du -k --apparent-size "$deb" | cut -f1) KiB"
done
for deb in "$outdir"/*_"$version"_*.deb "$outdir"/*_"$version"_*.ddeb; do
  echo "$deb"
done
