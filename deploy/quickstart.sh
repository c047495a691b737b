#!/usr/bin/env bash
# From a fresh Debian 12 to a running local gfs cluster and a checked round trip:
#
#   1. installs the missing Debian packages (deploy/install_deps.sh; root or sudo)
#   2. builds the binaries into build/ (Release on the first configure; a build/ that is
#      already configured, e.g. by tests/run.sh, is reused as it is)
#   3. starts the local cluster (deploy/local_cluster.sh start 3; reuses a running one)
#   4. runs a round trip with the gfs CLI and checks every step
#   5. prints how to use the cluster and how to stop it
#
# Idempotent: run it again and it reuses the build and the running cluster.
# Environment: GFS_HOME, GFS_BASE_PORT as for deploy/local_cluster.sh; CCACHE_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BASE=${GFS_BASE_PORT:-7000}
MASTER=127.0.0.1:$BASE
BIN=$ROOT/build/bin
export CCACHE_DIR="${CCACHE_DIR:-${HOME:-/root}/.ccache}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"

step() { echo; echo "==> $*"; }
fail() {
  echo "quickstart: FAILED: $*" >&2
  exit 1
}

# --- 1. packages ---------------------------------------------------------------------
step "packages"
deploy/install_deps.sh

# --- 2. build ------------------------------------------------------------------------
step "build (build/)"
if [[ -f build/CMakeCache.txt ]] &&
  ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' build/CMakeCache.txt; then
  echo "build/ was configured with another generator; resetting its CMake cache"
  rm -rf build/CMakeCache.txt build/CMakeFiles
fi
if [[ ! -f build/build.ninja ]]; then
  # Tests stay ON so that tests/run.sh can reuse this configuration as it is.
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGFS_SANITIZE=OFF -DGFS_BUILD_TESTS=ON
fi
all_targets=$(ninja -C build -t targets all)
targets=(gfs-master gfs)
if grep -q '^gfs-chunkserver: phony' <<<"$all_targets"; then
  targets+=(gfs-chunkserver)
fi
ninja -C build -j "$(nproc)" "${targets[@]}"

# --- 3. cluster ----------------------------------------------------------------------
step "local cluster"
deploy/local_cluster.sh start 3

# --- 4. round trip -------------------------------------------------------------------
gfs() { "$BIN/gfs" --master="$MASTER" "$@"; }

# check DESCRIPTION COMMAND...: runs a gfs command, shows its output, fails loudly.
OUT=
check() {
  local what=$1
  shift
  if ! OUT=$(gfs "$@" 2>&1); then
    printf '%s\n' "$OUT" >&2
    fail "$what: 'gfs $*' failed"
  fi
  echo "ok: $what (gfs $*)"
  if [[ -n "$OUT" ]]; then
    printf '%s\n' "$OUT" | sed 's/^/    /'
  fi
}
expect_missing() {
  if gfs stat "$1" >/dev/null 2>&1; then
    fail "$1 still exists"
  fi
  echo "ok: $1 is gone"
}

step "metadata round trip"
DIR=/quickstart/demo
# A previous run that stopped half-way may have left /quickstart behind.
if gfs stat /quickstart >/dev/null 2>&1; then
  check "remove the leftovers of an earlier run" rm -r /quickstart
fi
check "make a directory with parents" mkdir -p "$DIR"
check "mkdir -p again is not an error" mkdir -p "$DIR"
check "create an empty file" touch "$DIR/hello.txt"
check "touch an existing file is not an error" touch "$DIR/hello.txt"
check "list it" ls -l "$DIR"
grep -q 'hello\.txt' <<<"$OUT" || fail "ls -l $DIR does not show hello.txt"
check "stat as JSON" stat --json "$DIR/hello.txt"
grep -Eq '"type" *: *"file"' <<<"$OUT" || fail "stat --json does not say type file"
grep -Eq '"size" *: *"?0"? *[,}]' <<<"$OUT" || fail "stat --json does not say size 0"
check "rename" mv "$DIR/hello.txt" "$DIR/renamed.txt"
expect_missing "$DIR/hello.txt"
check "list after the rename" ls "$DIR"
grep -q 'renamed\.txt' <<<"$OUT" || fail "ls $DIR does not show renamed.txt"

# ---------------------------------------------------------------------------------------
# DATA PATH (put/get round trip of a file of two chunks, 64 MiB each): runs once
# gfs-chunkserver is built.
# ---------------------------------------------------------------------------------------
if [[ -x "$BIN/gfs-chunkserver" ]]; then
  step "data round trip (put/get)"
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  SIZE=$((70 * 1024 * 1024 + 12345))
  head -c "$SIZE" /dev/urandom >"$TMP/in"
  SUM=$(sha256sum <"$TMP/in" | cut -d' ' -f1)
  check "upload 70 MiB (two chunks)" put "$TMP/in" "$DIR/data.bin"
  check "download it" get "$DIR/data.bin" "$TMP/out"
  [[ "$(sha256sum <"$TMP/out" | cut -d' ' -f1)" == "$SUM" ]] ||
    fail "the downloaded bytes differ from the uploaded ones (sha256)"
  echo "ok: get returned the same bytes (sha256 $SUM)"
  gfs cat "$DIR/data.bin" | cmp - "$TMP/in" || fail "cat returned other bytes"
  echo "ok: cat returned the same bytes"
  check "stat the uploaded file" stat --json "$DIR/data.bin"
  grep -Eq "\"size\" *: *\"?$SIZE\"? *[,}]" <<<"$OUT" ||
    fail "stat --json does not show the uploaded size"
  grep -q '"index":1' <<<"$OUT" || fail "stat --json does not show two chunks"
else
  echo
  echo "(gfs-chunkserver is not built yet: skipping the put/get round trip)"
fi

step "clean up"
check "remove recursively" rm -r /quickstart
expect_missing /quickstart

# --- 5. how to use it ----------------------------------------------------------------
stop_cmd="deploy/local_cluster.sh stop"
env_prefix=
if [[ -n "${GFS_HOME:-}" ]]; then env_prefix+="GFS_HOME=$GFS_HOME "; fi
if [[ -n "${GFS_BASE_PORT:-}" ]]; then env_prefix+="GFS_BASE_PORT=$GFS_BASE_PORT "; fi

cat <<EOF

quickstart: OK. The cluster keeps running in the background (logs in ${GFS_HOME:-var}/).

Use it:
  export GFS_MASTER=$MASTER
  build/bin/gfs ls /
  build/bin/gfs mkdir -p /some/dir
  build/bin/gfs stat --json /some/dir

Status and stop:
  ${env_prefix}deploy/local_cluster.sh status
  ${env_prefix}$stop_cmd
EOF
