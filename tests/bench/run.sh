#!/usr/bin/env bash
# gfs's benchmark harness: builds Release, starts a local cluster (1 master, 3
# chunkservers, all data on the same disk, under a temp dir), measures in the same run
# what bounds each workload on this machine (the disk's sequential write with fdatasync
# and its direct read, a bare gRPC stream between two processes, the master's ping
# rate), runs gfs-bench's workloads and prints one table: workload, result, its bound,
# the ratio, and the issue's target ratio.
#
# Usage: tests/bench/run.sh [--quick]
#   --quick  256 MiB files, 2 s per timed workload, 3 rounds: about two minutes once built.
#   default  1 GiB files, 5 s per timed workload, 5 rounds: about five minutes once built.
#
# Environment:
#   GFS_BENCH_BUILD_DIR  build directory (default build-release/ under the repo root)
#   GFS_BENCH_TMP        where the temp dir goes (default $TMPDIR or /tmp); it must be on
#                        the disk to measure: the dd test file and the cluster live there
#   GFS_BASE_PORT        first base port to try (default 7400; the next free one is used)
#
# Bounds: write (3 replicas on one disk) = disk write / 3; read = min(stream ceiling,
# disk read), each disk figure the median of three dd rounds; stat and mkdir = the
# ping ceiling (8 threads); smallfile_create with 8 threads = 2x its 1-thread rate;
# write CPU = MooseFS's 17 CPU-s per GiB (lower is better). The others have no bound
# here and print '-'. The ping, stat and mkdir (8 threads), write, read and small-file
# rows show the median of several runs (rounds), whose every result the note lists.
set -euo pipefail

usage() {
  echo "usage: $0 [--quick]" >&2
  exit 2
}

QUICK=0
case "${1:-}" in
  --quick) QUICK=1 ;;
  "") ;;
  *) usage ;;
esac
(($# <= 1)) || usage

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/bench/common.sh
source "$HERE/common.sh"
export LC_ALL=C

if ((QUICK)); then
  FILE_MB=256 DD_MB=256 STREAM_MB=512 DURATION_MS=2000 ROUNDS=3 MODE=quick
else
  FILE_MB=1024 DD_MB=1024 STREAM_MB=2048 DURATION_MS=5000 ROUNDS=5 MODE=full
fi

# ---- Build (Release, binaries only) ----
BUILD=${GFS_BENCH_BUILD_DIR:-$ROOT/build-release}
BIN=$BUILD/bin
build_start=$SECONDS
echo "== building Release into $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGFS_BUILD_TESTS=OFF >/dev/null
ninja -C "$BUILD" -j2 gfs-master gfs-chunkserver gfs gfs-bench
echo "== built in $((SECONDS - build_start)) s"
measure_start=$SECONDS

WORK=$(mktemp -d "${GFS_BENCH_TMP:-${TMPDIR:-/tmp}}/gfs-bench.XXXXXX")
TABLE=$WORK/table.txt
RESULTS=$WORK/results.jsonl
ERRLOG=$WORK/gfs-bench.stderr
export GFS_HOME=$WORK/cluster GFS_BIN_DIR=$BIN
GFS_BASE_PORT=$(free_base_port "${GFS_BASE_PORT:-7400}")
export GFS_BASE_PORT
MASTER=127.0.0.1:$GFS_BASE_PORT
failed=0

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  local rc=$?
  "$ROOT/deploy/local_cluster.sh" stop >/dev/null 2>&1 || true
  # Free the disk (chunk data, the dd file); keep the table, the JSON and the logs.
  rm -rf "$WORK/dd.bin" "$GFS_HOME"/cs*/ "$GFS_HOME/master"
  echo "(cluster stopped; table, JSON results and logs are in $WORK)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "== $MODE run in $WORK (on $(df -P "$WORK" | awk 'NR == 2 { print $1 }'))"

# calc EXPR: floating-point arithmetic; prints '-' when a term is missing ('-', empty).
calc() {
  awk "BEGIN { $1 }" 2>/dev/null || echo -
}
# ratio A B: A / B with two decimals, or '-'.
ratio() {
  if [[ "$1" =~ ^[0-9.e+-]+$ && "$2" =~ ^[0-9.e+-]+$ ]]; then
    calc "if ($2 > 0) printf \"%.2f\", $1 / $2; else printf \"-\""
  else
    echo -
  fi
}
# num X DECIMALS: X rounded, or '-'.
num() {
  if [[ "$1" =~ ^[0-9.e+-]+$ ]]; then calc "printf \"%.${2}f\", $1"; else echo -; fi
}

# dd_rate DD_OUTPUT: MB/s (10^6) from dd's "N bytes (...) copied, S s, ..." line.
dd_rate() {
  sed -n 's/^\([0-9]*\) bytes .* copied, \([0-9.e+-]*\) s,.*/\1 \2/p' <<<"$1" |
    awk '{ if ($2 > 0) printf "%.0f", $1 / $2 / 1e6; else print "-" }'
}

# median A B C: the middle one of three numbers ('-' counts as lowest).
median() {
  printf '%s\n' "$@" | sed 's/^-$/-1/' | sort -n | sed -n 2p | sed 's/^-1$/-/'
}

# ---- The disk, in the directory the chunkservers use ----
# Three rounds each; the bound is the median (this VM's disk moved 390-1,330 MB/s
# between single runs within an hour).
echo "== disk: dd $DD_MB MiB write with fdatasync, then direct read; 3 rounds"
READ_NOTE="dd iflag=direct; page cache NOT dropped (not root)"
writes=() reads=()
for round in 1 2 3; do
  dd_write=$(dd if=/dev/zero of="$WORK/dd.bin" bs=1M count="$DD_MB" conv=fdatasync 2>&1 | tail -n 1)
  writes+=("$(dd_rate "$dd_write")")
  echo "   write $round: $dd_write"
  if [[ $EUID -eq 0 ]]; then
    sync
    if echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then
      READ_NOTE="dd iflag=direct after drop_caches; the VM host may still cache it"
    fi
  fi
  dd_read=$(dd if="$WORK/dd.bin" of=/dev/null bs=1M iflag=direct 2>&1 | tail -n 1)
  reads+=("$(dd_rate "$dd_read")")
  echo "   read $round:  $dd_read"
  rm -f "$WORK/dd.bin"
done
DISK_WRITE=$(median "${writes[@]}")
DISK_READ=$(median "${reads[@]}")
DISK_WRITES="${writes[*]}" DISK_READS="${reads[*]}"

# ---- The cluster ----
echo "== starting 1 master + 3 chunkservers on $MASTER..$((GFS_BASE_PORT + 3))"
"$ROOT/deploy/local_cluster.sh" start 3
wait_writable "$BIN" "$MASTER" 30
PIDS=$(daemon_pids "$GFS_HOME")
DROP=()
if [[ $EUID -eq 0 ]]; then DROP=(--drop_caches); fi

JSON_ping='' JSON_stream='' JSON_seq='' JSON_rand='' JSON_small='' JSON_meta='' JSON_append=''
# Each round's JSON of the rows that run several times.
PING_RUNS=() META_RUNS=() SEQ_RUNS=() SMALL_RUNS=()
# bench NAME ARGS...: runs gfs-bench --json; the JSON goes to $RESULTS and to the
# variable JSON_<NAME>.
bench() {
  local name=$1 out
  shift
  echo "== gfs-bench $*"
  if out=$("$BIN/gfs-bench" --master="$MASTER" --json "$@" 2>>"$ERRLOG"); then
    echo "$out" >>"$RESULTS"
  else
    echo "   FAILED (stderr in $ERRLOG):" >&2
    tail -n 5 "$ERRLOG" >&2 || true
    failed=1
    out='{"results":[],"not_measured":[]}'
  fi
  printf -v "JSON_$name" '%s' "$out"
}

# The metadata rows are measured against the ping ceiling, so they run next to it, before
# the data workloads leave gigabytes of dirty pages for the kernel to write back. The
# rows with a target on the ping ceiling (ping, stat and mkdir with 8 threads) run in
# $ROUNDS rounds, interleaved: this VM's host moves single runs by 10-20%, and the table
# shows each one's median run. (In ten full runs of three rounds, single rounds gave
# stat/ping 0.72-1.24, mkdir/ping 0.20-0.91 and small files' 8/1-thread rate 1.72-2.52.)
bench ping --workloads=ping --threads=8 --duration_ms="$DURATION_MS"
PING_RUNS+=("$JSON_ping")
bench meta --workloads=stat,mkdir,ls,rename --threads=1,8 --duration_ms="$DURATION_MS"
META_RUNS+=("$JSON_meta")
for ((round = 2; round <= ROUNDS; round++)); do
  bench ping --workloads=ping --threads=8 --duration_ms="$DURATION_MS"
  PING_RUNS+=("$JSON_ping")
  bench meta_round --workloads=stat,mkdir --threads=8 --duration_ms="$DURATION_MS"
  META_RUNS+=("$JSON_meta_round")
done
bench stream --workloads=stream_ceiling --threads=1 --stream_mb="$STREAM_MB"
# Sequential write and read in rounds too: single runs of either moved by 10-20% on
# this VM, and the table shows each one's median run.
for ((round = 1; round <= ROUNDS; round++)); do
  bench seq --workloads=write,read --threads=1 --file_size_mb="$FILE_MB" --replication=3 \
    --daemon_pids="$PIDS" "${DROP[@]}"
  SEQ_RUNS+=("$JSON_seq")
done
bench rand --workloads=randread_4k,randread_64k,randread_1m --threads=1,8 \
  --file_size_mb="$FILE_MB" --replication=3 --duration_ms="$DURATION_MS" \
  --daemon_pids="$PIDS" "${DROP[@]}"
# Small files in rounds, like the metadata rows: single runs of the 1-thread rate, the
# bound of the 8-thread row, moved by a third on this VM.
for ((round = 1; round <= ROUNDS; round++)); do
  bench small --workloads=smallfile --threads=1,8 --replication=3 \
    --duration_ms="$DURATION_MS" --daemon_pids="$PIDS"
  SMALL_RUNS+=("$JSON_small")
done
bench append --workloads=append --threads=1,4,8 --replication=3 --duration_ms="$DURATION_MS"

# ---- The table ----
# pick JSON WORKLOAD THREADS KEY: the value, or '-'.
pick() {
  json_pick "$@" 2>/dev/null || echo -
}
# median_run WORKLOAD THREADS JSON...: the JSON whose WORKLOAD/THREADS result has the
# median ops/s among those that have one (the lower middle of an even count); nothing
# when none has.
median_run() {
  local w=$1 t=$2 json value
  shift 2
  local -a runs=()
  for json in "$@"; do
    value=$(pick "$json" "$w" "$t" ops_per_s)
    [[ "$value" == - ]] || runs+=("$value $json")
  done
  ((${#runs[@]} > 0)) || return 0
  printf '%s\n' "${runs[@]}" | sort -n -k1,1 | sed -n "$(((${#runs[@]} + 1) / 2))p" | cut -d' ' -f2-
}
# all_runs WORKLOAD THREADS JSON...: every run's ops/s, e.g. "16414, 15020, 17101"
# (MB/s with KEY=mb_per_s in the environment).
all_runs() {
  local w=$1 t=$2 json out=''
  shift 2
  for json in "$@"; do out+="${out:+, }$(num "$(pick "$json" "$w" "$t" "${KEY:-ops_per_s}")" 0)"; done
  echo "$out"
}
MEDIAN_ping=$(median_run ping 8 "${PING_RUNS[@]}")
MEDIAN_stat=$(median_run stat 8 "${META_RUNS[@]}")
MEDIAN_mkdir=$(median_run mkdir 8 "${META_RUNS[@]}")
MEDIAN_write=$(median_run write 1 "${SEQ_RUNS[@]}")
MEDIAN_read=$(median_run read 1 "${SEQ_RUNS[@]}")
PING=$(pick "$MEDIAN_ping" ping 8 ops_per_s)
STREAM=$(pick "$JSON_stream" stream_source 1 mb_per_s)
STREAM_SINK=$(pick "$JSON_stream" stream_sink 1 mb_per_s)
WRITE_BOUND=$(calc "printf \"%.0f\", $DISK_WRITE / 3")
READ_BOUND=$(calc "m = $STREAM; if ($DISK_READ < m) m = $DISK_READ; printf \"%.0f\", m")
MEDIAN_small1=$(median_run smallfile_create 1 "${SMALL_RUNS[@]}")
MEDIAN_small8=$(median_run smallfile_create 8 "${SMALL_RUNS[@]}")
SMALL1=$(pick "$MEDIAN_small1" smallfile_create 1 ops_per_s)
SMALL_BOUND=$(calc "printf \"%.0f\", 2 * $SMALL1")

FMT="%-18s %3s %14s %16s %6s %7s %9s %9s  %s\n"
{
  echo "gfs benchmark ($MODE: files ${FILE_MB} MiB, ${DURATION_MS} ms per timed workload), $(date -u +%FT%TZ), $(nproc) cores"
  echo "ratio = result / bound; target = the issue's goal for the ratio ('<' : at most)"
  # shellcheck disable=SC2059
  printf "$FMT" workload thr result bound ratio target p50_us p99_us note
  # shellcheck disable=SC2059
  printf "$FMT" "disk write" - "$DISK_WRITE MB/s" - - - - - \
    "dd bs=1M conv=fdatasync, $DD_MB MiB of zeros; median of ${DISK_WRITES// /, }"
  # shellcheck disable=SC2059
  printf "$FMT" "disk read" - "$DISK_READ MB/s" - - - - - \
    "$READ_NOTE; median of ${DISK_READS// /, }"
  # shellcheck disable=SC2059
  printf "$FMT" "stream ceiling" 1 "$(num "$STREAM" 0) MB/s" - - - - - \
    "bare gRPC stream, server->client, 1 MiB msgs (client->server: $(num "$STREAM_SINK" 0) MB/s)"
  # shellcheck disable=SC2059
  printf "$FMT" "ping ceiling" 8 "$(num "$PING" 0) op/s" - - - \
    "$(pick "$MEDIAN_ping" ping 8 p50_us)" "$(pick "$MEDIAN_ping" ping 8 p99_us)" \
    "empty RPC to the master; median of $(all_runs ping 8 "${PING_RUNS[@]}")"

  # row JSON WORKLOAD THREADS UNIT BOUND TARGET NOTE
  row() {
    local json=$1 w=$2 t=$3 unit=$4 bound=$5 target=$6 note=$7 value errors
    if [[ "$unit" == MB/s ]]; then
      value=$(pick "$json" "$w" "$t" mb_per_s)
    else
      value=$(pick "$json" "$w" "$t" ops_per_s)
    fi
    errors=$(pick "$json" "$w" "$t" errors)
    if [[ "$errors" != 0 && "$errors" != - ]]; then note="$errors ERRORS; $note"; fi
    if [[ "$value" == - ]]; then note="NOT RUN (gfs-bench failed); $note"; fi
    local shown=-
    [[ "$value" == - ]] || shown="$(num "$value" 0) $unit"
    local bound_shown=-
    [[ "$bound" == - || -z "$bound" ]] || bound_shown="$bound $unit"
    # shellcheck disable=SC2059
    printf "$FMT" "$w" "$t" "$shown" "$bound_shown" "$(ratio "$value" "$bound")" "$target" \
      "$(num "$(pick "$json" "$w" "$t" p50_us)" 0)" "$(num "$(pick "$json" "$w" "$t" p99_us)" 0)" "$note"
  }
  WRITE_CPU=$(pick "$MEDIAN_write" write 1 daemon_cpu_s_per_gib)
  CLIENT_CPU=$(pick "$MEDIAN_write" write 1 client_cpu_s_per_gib)
  row "$MEDIAN_write" write 1 MB/s "$WRITE_BOUND" 0.70 "3 replicas; bound = disk write / 3; median of $(
    KEY=mb_per_s all_runs write 1 "${SEQ_RUNS[@]}") MB/s"
  # shellcheck disable=SC2059
  printf "$FMT" "write cpu" 1 "$(num "$WRITE_CPU" 1) s/GiB" "17 s/GiB" \
    "$(ratio "$WRITE_CPU" 17)" "<1.00" - - \
    "daemons' user+sys per GiB written, median write run (client: $(num "$CLIENT_CPU" 1) s/GiB); bound = MooseFS"
  READ_CACHE=$(pick "$MEDIAN_read" read 1 note)
  row "$MEDIAN_read" read 1 MB/s "$READ_BOUND" 0.80 "bound = min(stream, disk read); median of $(
    KEY=mb_per_s all_runs read 1 "${SEQ_RUNS[@]}") MB/s; ${READ_CACHE#*; }"
  for w in randread_4k randread_64k randread_1m; do
    for t in 1 8; do
      row "$JSON_rand" "$w" "$t" op/s - - "$(num "$(pick "$JSON_rand" "$w" "$t" mb_per_s)" 1) MB/s"
    done
  done
  row "$MEDIAN_small1" smallfile_create 1 op/s - - "create+write 4 KiB+close, durable; median of $(
    all_runs smallfile_create 1 "${SMALL_RUNS[@]}")"
  row "$MEDIAN_small8" smallfile_create 8 op/s "$SMALL_BOUND" 1.00 \
    "bound = 2 x the 1-thread rate; median of $(
      all_runs smallfile_create 8 "${SMALL_RUNS[@]}")"
  row "$MEDIAN_small1" smallfile_read 1 op/s - - "open+read 4 KiB (the median create run's files)"
  row "$MEDIAN_small8" smallfile_read 8 op/s - - "open+read 4 KiB (the median create run's files)"
  row "$JSON_meta" stat 1 op/s - - ""
  row "$MEDIAN_stat" stat 8 op/s "$(num "$PING" 0)" 0.80 \
    "bound = ping ceiling; median of $(all_runs stat 8 "${META_RUNS[@]}")"
  row "$JSON_meta" mkdir 1 op/s - - "durable; fsyncs $(pick "$JSON_meta" mkdir 1 fsyncs)"
  row "$MEDIAN_mkdir" mkdir 8 op/s "$(num "$PING" 0)" 0.50 \
    "bound = ping ceiling; durable; fsyncs $(pick "$MEDIAN_mkdir" mkdir 8 fsyncs); median of $(all_runs mkdir 8 "${META_RUNS[@]}")"
  row "$JSON_meta" ls 8 op/s - - "100 entries per call"
  row "$JSON_meta" rename 8 op/s - - "durable"
  APPEND1=$(pick "$JSON_append" append 1 mb_per_s)
  row "$JSON_append" append 1 MB/s - - "64 KiB records, one shared file"
  row "$JSON_append" append 4 MB/s - - "64 KiB records, one shared file"
  row "$JSON_append" append 8 MB/s "$(num "$APPEND1" 0)" 1.00 \
    "bound = the 1-appender rate (GFS: it fell as appenders grew)"
  echo "measured in $((SECONDS - measure_start)) s (build not counted); other processes on this machine add noise"
} >"$TABLE"

echo
cat "$TABLE"
echo
echo "table: $TABLE"
echo "JSON:  $RESULTS (one gfs-bench run per line)"
exit "$failed"
