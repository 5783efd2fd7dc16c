#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build, test and run
# bentos-driver-host. Does nothing when they are all present already, so
# every other script can call it first.
set -euo pipefail

packages=(
  g++ pkg-config meson ninja-build
  protobuf-compiler libprotobuf-dev
  libuv1-dev nlohmann-json3-dev doctest-dev
  # The llm plugin (plugins/llm): its HTTP transport needs libcurl.
  libcurl4-openssl-dev
  libfuse3-dev fuse3 python3
  # The man page test renders every page (tests/man/check-man.sh).
  groff-base
  # Packaging (scripts/build-deb.sh, check-units.sh): dpkg-buildpackage, and
  # systemd for systemd.pc (the unit directory) and systemd-analyze.
  dpkg-dev systemd
  # tests/sandbox/check-syscalls.sh traces the daemon's system calls.
  strace
  # The Debian source package (scripts/build-deb.sh, dpkg-buildpackage) and
  # its check (scripts/check-package.sh runs lintian).
  debhelper lintian
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
