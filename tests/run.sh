#!/usr/bin/env bash
# Builds gfs and runs every test, as CI does (.ci/run calls this).
#
#   1. installs the missing Debian packages (deploy/install_deps.sh)
#   2. build/       RelWithDebInfo, sanitizers off: build, ctest
#   3. build-asan/  Debug with ASan + UBSan:       build, ctest
#
# Exits non-zero on the first failure. Prints the time of each phase at the end.
#
# Environment:
#   GFS_SKIP_ASAN=1   skip step 3 (quick local iteration only; CI runs everything)
#   CCACHE_DIR        compiler cache (ccache's own default when unset)
#   ASAN_OPTIONS, UBSAN_OPTIONS   override the sanitizer defaults used below
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

JOBS=$(nproc)

export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"

TIMINGS=()
START=$SECONDS

print_timings() {
  echo
  echo "==== tests/run.sh: phases"
  local line
  for line in "${TIMINGS[@]}"; do
    echo "  $line"
  done
  echo "  $(printf '%-24s %6ds' total $((SECONDS - START)))"
}

# phase NAME COMMAND...: runs one command, records its time, stops everything on failure.
phase() {
  local name=$1
  shift
  echo
  echo "==== [$name] $*"
  local t0=$SECONDS rc=0
  "$@" || rc=$?
  local result=ok
  if ((rc != 0)); then
    result="FAILED (exit $rc)"
  fi
  TIMINGS+=("$(printf '%-24s %6ds  %s' "$name" $((SECONDS - t0)) "$result")")
  if ((rc != 0)); then
    print_timings
    echo "tests/run.sh: FAILED in phase '$name'" >&2
    exit "$rc"
  fi
}

# A build dir first configured with another generator cannot be reused by -G Ninja;
# drop its cache (not the whole dir) so that the configure below starts over.
reset_if_not_ninja() {
  local dir=$1
  if [[ -f "$dir/CMakeCache.txt" ]] &&
    ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$dir/CMakeCache.txt"; then
    echo "tests/run.sh: $dir was configured with another generator; resetting its CMake cache"
    rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles"
  fi
}

# iptables: tests/netns/run.sh cuts links with it (iproute2 is in install_deps.sh already).
phase deps deploy/install_deps.sh iptables

# The compose file, validated only where Debian's docker-compose (v1) is installed
# (it is not one of our dependencies; the check takes under a second).
if command -v docker-compose >/dev/null 2>&1; then
  phase compose-config docker-compose -f deploy/docker-compose.yml config -q
fi

# --- build/: the regular build -------------------------------------------------------
reset_if_not_ninja build
phase configure cmake -S . -B build -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGFS_SANITIZE=OFF -DGFS_BUILD_TESTS=ON
phase build cmake --build build -j "$JOBS"
phase test ctest --test-dir build --output-on-failure --no-tests=error -j2

# --- build-asan/: AddressSanitizer + UndefinedBehaviorSanitizer ----------------------
if [[ "${GFS_SKIP_ASAN:-0}" == 1 ]]; then
  echo
  echo "==== GFS_SKIP_ASAN=1: skipping the sanitizer build (CI never does)"
  TIMINGS+=("$(printf '%-24s %6s  %s' asan '-' 'SKIPPED (GFS_SKIP_ASAN=1)')")
else
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  reset_if_not_ninja build-asan
  phase asan-configure cmake -S . -B build-asan -G Ninja \
    -DCMAKE_BUILD_TYPE=Debug -DGFS_SANITIZE=ON -DGFS_BUILD_TESTS=ON
  phase asan-build cmake --build build-asan -j "$JOBS"
  phase asan-test ctest --test-dir build-asan --output-on-failure --no-tests=error -j2
fi

print_timings
echo "tests/run.sh: all passed"
