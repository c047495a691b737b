# shellcheck shell=bash
# Shared by tests/bench/run.sh and tests/bench/smoke.sh (sourced, not run): a throw-away
# local cluster on free ports, and reading gfs-bench's --json output without jq/python.

# free_base_port FIRST: prints a base port P >= FIRST such that P..P+3 accept no
# connections (master on P, chunkservers on P+1..P+3); probes in steps of 10.
free_base_port() {
  local p=$1 i busy
  for ((; p < 65000; p += 10)); do
    busy=0
    for ((i = 0; i < 4; i++)); do
      if (: <>"/dev/tcp/127.0.0.1/$((p + i))") 2>/dev/null; then
        busy=1
        break
      fi
    done
    if ((!busy)); then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# wait_writable BIN_DIR MASTER TIMEOUT_S: waits until a 3-replica put succeeds (the
# chunkservers have registered with the master).
wait_writable() {
  local bin=$1 master=$2 timeout_s=$3 deadline=$((SECONDS + $3))
  until echo ready | timeout 20 "$bin/gfs" --master="$master" put -f -r 3 - /.bench-ready \
    >/dev/null 2>"${TMPDIR:-/tmp}/.gfs-bench-ready.err.$$"; do
    if ((SECONDS >= deadline)); then
      echo "the cluster did not accept a 3-replica put within ${timeout_s}s:" >&2
      cat "${TMPDIR:-/tmp}/.gfs-bench-ready.err.$$" >&2 || true
      rm -f "${TMPDIR:-/tmp}/.gfs-bench-ready.err.$$"
      return 1
    fi
    sleep 0.5
  done
  rm -f "${TMPDIR:-/tmp}/.gfs-bench-ready.err.$$"
}

# daemon_pids GFS_HOME: the cluster's pids, comma-separated.
daemon_pids() {
  local f pids=()
  for f in "$1"/*.pid; do
    [[ -e "$f" ]] && pids+=("$(<"$f")")
  done
  local IFS=,
  echo "${pids[*]}"
}

# json_results JSON: one result object per line ({"workload":...}).
json_results() {
  local results=${1#*\"results\":\[}
  results=${results%%\],\"not_measured\"*}
  grep -o '{"workload":"[^}]*}' <<<"$results" || true
}

# json_field OBJECT KEY: the value of KEY in a one-level JSON object (strings unquoted).
json_field() {
  local v
  v=$(grep -o "\"$2\":\(\"[^\"]*\"\|[^,}]*\)" <<<"$1" | head -n 1) || true
  v=${v#*\":}
  v=${v#\"}
  echo "${v%\"}"
}

# json_pick JSON WORKLOAD THREADS KEY: KEY of the result of WORKLOAD with THREADS threads.
json_pick() {
  local obj
  while IFS= read -r obj; do
    if [[ "$(json_field "$obj" workload)" == "$2" && "$(json_field "$obj" threads)" == "$3" ]]; then
      json_field "$obj" "$4"
      return 0
    fi
  done < <(json_results "$1")
  return 1
}
