#!/usr/bin/env bash
# Installs the Debian 12 packages gfs needs to build and test, but only those that are
# missing: a machine that already has them all is left alone (no apt-get at all).
# Runs apt-get as root, or through sudo when not root.
#
# Usage: deploy/install_deps.sh [EXTRA_PACKAGE...]
set -euo pipefail

PACKAGES=(
  cmake
  g++
  ninja-build
  ccache
  libgrpc++-dev
  protobuf-compiler-grpc
  libprotobuf-dev
  protobuf-compiler
  librocksdb-dev
  libgoogle-glog-dev
  libgflags-dev
  libgtest-dev
  libgmock-dev
  iproute2
)
PACKAGES+=("$@")

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "install_deps: no dpkg/apt-get here (not Debian?); not installing anything." >&2
  echo "install_deps: gfs needs the equivalents of: ${PACKAGES[*]}" >&2
  exit 0
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  # "ii " = wanted install, currently installed, no error flags.
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "ii "* ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install_deps: all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install_deps: missing packages (${missing[*]}) and not root, and sudo is not available" >&2
  exit 1
fi

echo "install_deps: installing ${missing[*]}"
apt_opts=(-o DPkg::Lock::Timeout=600)
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
