#!/usr/bin/env bash
# Smoke test of gfs-bench (ctest label `bench`): starts a tiny local cluster (1 master,
# 3 chunkservers) from BIN_DIR on free ports under a temp dir, runs every gfs-bench
# workload with tiny sizes and --json, and checks that each result has ops > 0 and no
# errors. Not a measurement: nothing is timed or compared.
#
# Usage: tests/bench/smoke.sh BIN_DIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
# shellcheck source=tests/bench/common.sh
source "$HERE/common.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gfs-bench-smoke.XXXXXX")
export GFS_HOME=$WORK/cluster GFS_BIN_DIR=$BIN
GFS_BASE_PORT=$(free_base_port $((20000 + RANDOM % 20000 / 10 * 10)))
export GFS_BASE_PORT
MASTER=127.0.0.1:$GFS_BASE_PORT

cleanup() {
  local rc=$?
  "$ROOT/deploy/local_cluster.sh" stop >/dev/null 2>&1 || true
  if ((rc != 0)); then
    echo "smoke: FAILED; daemon logs:" >&2
    tail -n 30 "$GFS_HOME"/*.log >&2 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$ROOT/deploy/local_cluster.sh" start 3
wait_writable "$BIN" "$MASTER" 30

failures=0
# check NAME JSON EXPECTED_WORKLOADS...: every expected workload has a result, each with
# ops > 0 and errors == 0.
check() {
  local name=$1 json=$2 obj w ops errors seen=" "
  shift 2
  while IFS= read -r obj; do
    w=$(json_field "$obj" workload)
    ops=$(json_field "$obj" ops)
    errors=$(json_field "$obj" errors)
    seen+="$w "
    if [[ ! "$ops" =~ ^[0-9]+$ ]] || ((ops == 0)) || [[ "$errors" != 0 ]]; then
      echo "smoke: $name: $w: ops=$ops errors=$errors" >&2
      failures=$((failures + 1))
    else
      echo "smoke: $name: $w ok (ops=$ops)"
    fi
  done < <(json_results "$json")
  for w in "$@"; do
    if [[ "$seen" != *" $w "* ]]; then
      echo "smoke: $name: no result for $w" >&2
      failures=$((failures + 1))
    fi
  done
}

# run NAME EXPECTED_WORKLOADS -- GFS_BENCH_ARGS...
run() {
  local name=$1 expected=() json
  shift
  while [[ "$1" != -- ]]; do
    expected+=("$1")
    shift
  done
  shift
  if ! json=$("$BIN/gfs-bench" --master="$MASTER" --base_dir=/smoke --json "$@"); then
    echo "smoke: $name: gfs-bench failed" >&2
    failures=$((failures + 1))
    return 0
  fi
  check "$name" "$json" "${expected[@]}"
}

PIDS=$(daemon_pids "$GFS_HOME")
run metadata ping stat ls mkdir rename -- \
  --workloads=ping,stat,ls,mkdir,rename --threads=1,2 --duration_ms=200
run data write read randread_4k randread_64k randread_1m -- \
  --workloads=write,read,randread_4k,randread_64k,randread_1m --threads=1,2 \
  --file_size_mb=2 --replication=3 --duration_ms=200 --daemon_pids="$PIDS"
run smallfile smallfile_create smallfile_read -- \
  --workloads=smallfile --threads=1,2 --duration_ms=200
run stream stream_source stream_sink -- \
  --workloads=stream_ceiling --threads=1 --stream_mb=4

run append append -- \
  --workloads=append --threads=1,2 --record_kb=16 --duration_ms=200

if ((failures > 0)); then
  echo "smoke: $failures check(s) failed" >&2
  exit 1
fi
echo "smoke: all gfs-bench workloads ran"
