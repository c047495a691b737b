#!/usr/bin/env bash
# The deploy/docker-compose.yml topology (1 master, 3 chunkservers) with real, separate
# network stacks: one network namespace per daemon and one for the client, joined by a
# bridge that lives in a namespace of its own. Then faults are injected at the network
# level and the cluster is checked from the client namespace with the `gfs` CLI:
#
#   1. round trip    put a random multi-chunk file, get it back, same sha256
#   2. link down     one chunkserver's link goes down (the first replica the master lists):
#                    reads still succeed with the same bytes and a new put still works
#   3. link up       the chunkserver comes back live and the chunks written while it was
#                    away get their third replica again
#   4. partition     the master and one chunkserver stop seeing each other (iptables DROP
#                    in the master's namespace; clients still reach it): `gfs admin report`
#                    calls it dead after --heartbeat_timeout_ms, and re-replication brings
#                    every chunk back to 3 live replicas. A spare chunkserver (cs4) joins
#                    first, since with 3 servers and one cut off there is no third place.
#                    Then the partition heals and the server is live again.
#   5. shutdown      every daemon exits 0 on SIGTERM, and no log has a sanitizer report
#
# Usage: tests/netns/run.sh [BIN_DIR]      (BIN_DIR default: build/bin; root only)
#
# Exits 0 when every check passed, 1 on a failure (with the end of each daemon's log),
# 77 (skip) when not root or network namespaces cannot be created here.
#
# Nothing outside the namespaces is touched: the host's interfaces, addresses, routes
# and firewall stay as they are. Namespace names carry this run's PID (gfsnt-PID-ROLE),
# so parallel runs do not clash; an EXIT/INT/TERM trap kills the daemons and deletes the
# namespaces and the temp dir, the daemons die with this script even on SIGKILL
# (PR_SET_PDEATHSIG), and namespaces left by a run that was SIGKILLed are deleted by the
# next run.
#
# Needs iproute2 and iptables (tests/run.sh installs both).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${1:-$ROOT/build/bin}

# Timing. The master declares a chunkserver dead after HB_TIMEOUT_MS without a heartbeat
# and looks for under-replicated chunks every REPL_CHECK_MS (as replication_itest does).
CHUNK_BYTES=$((1 << 20))
HB_MS=500
HB_TIMEOUT_MS=3000
REPL_CHECK_MS=500
LEASE_MS=2000
CLI_TIMEOUT_S=60 # bound on one CLI call (it retries an unreachable master for 30 s)
START_TIMEOUT_S=20
REREPLICATE_TIMEOUT_S=30

# Addresses exist only inside the namespaces. Ports as in the compose file.
SUBNET=10.200.0
MASTER_IP=$SUBNET.10
MASTER=$MASTER_IP:7000
CLIENT_IP=$SUBNET.100
cs_ip() { echo "$SUBNET.$((10 + $1))"; }
cs_addr() { echo "$(cs_ip "$1"):$((7000 + $1))"; }

PREFIX=gfsnt-$$
TMP_ROOT=${TMPDIR:-/tmp}
NS_BR=$PREFIX-br
NS_M=$PREFIX-m
NS_CL=$PREFIX-cl
ns_cs() { echo "$PREFIX-cs$1"; }

log() { echo "netns: $*"; }
skip() {
  echo "netns: SKIP: $*"
  exit 77
}

CHECKS=0
pass() {
  CHECKS=$((CHECKS + 1))
  echo "netns: PASS: $*"
}
fail() {
  echo "netns: FAIL: $*" >&2
  exit 1
}

now_ms() { date +%s%3N; }

# ---- preconditions -------------------------------------------------------------------
((EUID == 0)) || skip "not root (network namespaces need root)"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed"
for b in gfs-master gfs-chunkserver gfs; do
  [[ -x "$BIN/$b" ]] || fail "$BIN/$b is missing; build gfs-master, gfs-chunkserver and gfs first"
done
BIN=$(cd "$BIN" && pwd)
command -v iptables >/dev/null 2>&1 ||
  fail "iptables is not installed (apt-get install iptables); the partition check needs it"

# ---- namespaces left behind by runs that were SIGKILLed ------------------------------
# ns_kill_all NS: SIGKILL every process in namespace NS.
ns_kill_all() {
  local pid
  for pid in $(ip netns pids "$1" 2>/dev/null); do
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# reap_stale: deletes the namespaces and temp dirs of runs whose script is gone.
reap_stale() {
  local ns dir owner
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ "$ns" =~ ^gfsnt-([0-9]+)- ]] || continue
    owner=${BASH_REMATCH[1]}
    [[ "$owner" != "$$" ]] || continue
    kill -0 "$owner" 2>/dev/null && continue
    log "deleting namespace $ns left by an earlier run (pid $owner is gone)"
    ns_kill_all "$ns"
    ip netns del "$ns" 2>/dev/null || true
  done
  for dir in "$TMP_ROOT"/gfsnt-*; do
    [[ -d "$dir" && "$(basename "$dir")" =~ ^gfsnt-([0-9]+)\.[A-Za-z0-9]{6}$ ]] || continue
    owner=${BASH_REMATCH[1]}
    [[ "$owner" != "$$" ]] || continue
    kill -0 "$owner" 2>/dev/null && continue
    log "deleting $dir left by an earlier run (pid $owner is gone)"
    rm -rf "$dir"
  done
}

# ---- cleanup ---------------------------------------------------------------------------
WORK=
CREATED_NS=()
declare -A PIDS=()
declare -A LOGS=()

stop_daemons() {
  local name pid deadline
  for name in "${!PIDS[@]}"; do
    kill -TERM "${PIDS[$name]}" 2>/dev/null || true
  done
  deadline=$((SECONDS + 5))
  for name in "${!PIDS[@]}"; do
    pid=${PIDS[$name]}
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.1
    done
    if kill -KILL "$pid" 2>/dev/null; then
      log "$name did not exit within 5 s of SIGTERM: SIGKILL"
    fi
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

cleanup() {
  local rc=$? ns name
  set +e
  trap - EXIT INT TERM
  if ((rc != 0 && rc != 77)) && ((${#LOGS[@]} > 0)); then
    for name in $(printf '%s\n' "${!LOGS[@]}" | sort); do
      echo "---- last lines of $name's log (${LOGS[$name]})" >&2
      tail -n 15 "${LOGS[$name]}" >&2
    done
  fi
  stop_daemons
  for ns in "${CREATED_NS[@]}"; do
    ns_kill_all "$ns"
    ip netns del "$ns" 2>/dev/null
  done
  [[ -n "$WORK" ]] && rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

reap_stale

# ---- topology ----------------------------------------------------------------------------
T_START=$(now_ms)
if ! err=$(ip netns add "$NS_BR" 2>&1); then
  skip "ip netns is unusable here: ip netns add: $err"
fi
CREATED_NS+=("$NS_BR")
WORK=$(mktemp -d "$TMP_ROOT/$PREFIX.XXXXXX")

ip -n "$NS_BR" link set lo up
ip -n "$NS_BR" link add br0 type bridge
ip -n "$NS_BR" link set br0 up

# add_node NS ADDR PORT_NAME: namespace NS with eth0 at ADDR/24, whose veth peer
# PORT_NAME is a port of the bridge.
add_node() {
  local ns=$1 addr=$2 port=$3
  ip netns add "$ns"
  CREATED_NS+=("$ns")
  ip -n "$NS_BR" link add "$port" type veth peer name eth0 netns "$ns"
  ip -n "$NS_BR" link set "$port" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
}

add_node "$NS_M" "$MASTER_IP" v-m
add_node "$NS_CL" "$CLIENT_IP" v-cl
for i in 1 2 3 4; do
  add_node "$(ns_cs "$i")" "$(cs_ip "$i")" "v-cs$i"
done
# Fail now, not in the middle of the scenario, if iptables cannot work in a namespace.
if ! err=$(ip netns exec "$NS_M" iptables -S 2>&1); then
  fail "iptables does not work inside a network namespace here: $err"
fi
log "namespaces $PREFIX-{br,m,cl,cs1..cs4} on $SUBNET.0/24 ready in $(($(now_ms) - T_START)) ms"

# ---- daemons and the CLI -----------------------------------------------------------------
# start_daemon NAME NS COMMAND...: runs COMMAND in namespace NS in the background, output
# in $WORK/NAME.log. It gets SIGKILL if this script dies.
start_daemon() {
  local name=$1 ns=$2
  shift 2
  LOGS[$name]=$WORK/$name.log
  ip netns exec "$ns" setpriv --pdeathsig KILL "$@" >"${LOGS[$name]}" 2>&1 </dev/null &
  PIDS[$name]=$!
}

start_chunkserver() {
  local i=$1
  mkdir -p "$WORK/cs$i"
  start_daemon "cs$i" "$(ns_cs "$i")" "$BIN/gfs-chunkserver" \
    --listen="$(cs_addr "$i")" --advertise="$(cs_addr "$i")" --master="$MASTER" \
    --data_dir="$WORK/cs$i" --rack="rack$i" --heartbeat_ms="$HB_MS"
}

# gfs ARGS...: the CLI, run in the client namespace. In the background, so that a signal
# to this script runs the trap at once instead of after the CLI is done. Not inside $(...)
# (the trap would wait for that) nor with redirections on the call (the trap's output
# would go there too): capture with cli_out.
# Like the daemons, the CLI (and timeout) get SIGKILL if this script dies.
CLI=(setpriv --pdeathsig KILL timeout "$CLI_TIMEOUT_S"
  ip netns exec "$NS_CL" setpriv --pdeathsig KILL "$BIN/gfs" --master="$MASTER")
gfs() {
  "${CLI[@]}" "$@" &
  wait "$!"
}

# cli_out ARGS...: gfs ARGS with its stdout in $OUT (and stderr in $WORK/cli.err).
OUT=
cli_out() {
  local rc=0
  "${CLI[@]}" "$@" >"$WORK/cli.out" 2>"$WORK/cli.err" &
  wait "$!" || rc=$?
  OUT=$(<"$WORK/cli.out")
  return "$rc"
}

# cli_text ARGS...: for failure messages: what gfs ARGS printed, stdout and stderr.
cli_text() {
  cli_out "$@" || true
  printf '%s\n%s' "$OUT" "$(<"$WORK/cli.err")"
}

# check_daemons: fails if a daemon has exited.
check_daemons() {
  local name
  for name in "${!PIDS[@]}"; do
    kill -0 "${PIDS[$name]}" 2>/dev/null || fail "$name exited unexpectedly"
  done
}

# wait_for TIMEOUT_S WHAT COMMAND...: runs COMMAND every 0.3 s until it succeeds;
# fails naming WHAT if it has not within TIMEOUT_S seconds.
wait_for() {
  local limit=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + limit))
  while check_daemons && ! "$@"; do
    ((SECONDS < deadline)) || fail "$what: not within ${limit}s"
    sleep 0.3
  done
}

# master_listening: the master accepts TCP connections (seen from the client namespace).
# Checked before the first CLI call, which would retry an absent master for 30 s.
# The single quotes are bash -c's script, which expands them itself.
# shellcheck disable=SC2016
master_listening() {
  timeout 5 ip netns exec "$NS_CL" bash -c ': <>"/dev/tcp/$1/$2"' _ "$MASTER_IP" "${MASTER##*:}" \
    2>/dev/null
}

# live_count_is TOTAL LIVE: `gfs admin report` ends with "TOTAL chunkservers, LIVE live".
live_count_is() {
  cli_out admin report || return 1
  [[ "${OUT##*$'\n'}" == "$1 chunkservers, $2 live" ]]
}

# state_is ADDR STATE: ADDR's state in `gfs admin report` is STATE (live or dead).
state_is() {
  local line
  cli_out admin report || return 1
  while read -r -a line; do
    [[ "${line[0]:-}" != "$1" ]] || [[ "${line[2]:-}" != "$2" ]] || return 0
  done <<<"$OUT"
  return 1
}

# replicated PATH CHUNKS [EXCLUDED_ADDR]: `gfs stat --json PATH` shows CHUNKS chunks,
# each with exactly 3 replicas, none of them EXCLUDED_ADDR.
replicated() {
  local path=$1 chunks=$2 excluded=${3:-none} sets set n=0
  cli_out stat --json "$path" || return 1
  sets=$(grep -o '"replicas":\[[^]]*\]' <<<"$OUT") || return 1
  while IFS= read -r set; do
    n=$((n + 1))
    [[ "$set" != *"\"$excluded\""* ]] || return 1
    [[ "$(grep -o '"[0-9.]*:[0-9]*"' <<<"$set" | sort -u | wc -l)" == 3 ]] || return 1
  done <<<"$sets"
  ((n == chunks))
}

# fsck_healthy: `gfs admin fsck` exits 0 and finds nothing missing or under-replicated.
fsck_healthy() {
  cli_out admin fsck / || return 1
  [[ "$OUT" == *" 0 missing, 0 under-replicated, 0 corrupt replicas: HEALTHY"* ]]
}

# same_content A B: files A and B have the same sha256.
same_content() { [[ "$(sha256sum <"$1")" == "$(sha256sum <"$2")" ]]; }

# same_bytes REMOTE LOCAL: gets REMOTE into the work dir and compares sha256 with LOCAL.
same_bytes() {
  local remote=$1 expected=$2 got
  got=$WORK/got.$(basename "$remote")
  rm -f "$got"
  gfs get "$remote" "$got" || fail "gfs get $remote failed"
  same_content "$got" "$expected" || fail "gfs get $remote: sha256 differs from what was put"
}

chunks_of() { echo $((($(stat -c %s "$1") + CHUNK_BYTES - 1) / CHUNK_BYTES)); }

# ---- 0. start ------------------------------------------------------------------------------
mkdir -p "$WORK/master"
start_daemon master "$NS_M" "$BIN/gfs-master" --listen="$MASTER" --data_dir="$WORK/master" \
  --chunk_size_bytes="$CHUNK_BYTES" --heartbeat_timeout_ms="$HB_TIMEOUT_MS" \
  --replication_check_ms="$REPL_CHECK_MS" --lease_ms="$LEASE_MS"
for i in 1 2 3; do
  start_chunkserver "$i"
done
t0=$(now_ms)
wait_for "$START_TIMEOUT_S" "master accepting connections on $MASTER" master_listening
wait_for "$START_TIMEOUT_S" "3 chunkservers live in gfs admin report" live_count_is 3 3
pass "master $MASTER and 3 chunkservers (each in its own namespace) up, all 3 live ($(($(now_ms) - t0)) ms)"

# ---- 1. round trip -------------------------------------------------------------------------
FILE_A=$WORK/a.bin
head -c $((3 * CHUNK_BYTES + 12345)) /dev/urandom >"$FILE_A"
CHUNKS_A=$(chunks_of "$FILE_A")
t0=$(now_ms)
gfs put "$FILE_A" /a || fail "gfs put /a failed"
same_bytes /a "$FILE_A"
pass "put + get of a $CHUNKS_A-chunk file from the client namespace, sha256 identical ($(($(now_ms) - t0)) ms)"
replicated /a "$CHUNKS_A" || fail "/a: not every chunk has 3 replicas: $(cli_text stat /a)"
pass "/a: all $CHUNKS_A chunks have 3 replicas"

# ---- 2. one chunkserver's link down --------------------------------------------------------
# The first replica the master lists for /a's chunk 0, so that the reader meets the cut
# rather than skipping it. The get and the put run at once, right after the cut, so that
# both meet it before the master notices.
cli_out stat --json /a || fail "gfs stat --json /a failed: $(<"$WORK/cli.err")"
[[ "$OUT" =~ \"replicas\":\[\"[0-9.]+:([0-9]+)\" ]] || fail "no replica in gfs stat --json /a: $OUT"
DOWN=$((BASH_REMATCH[1] - 7000))
((DOWN >= 1 && DOWN <= 3)) || fail "unexpected first replica port ${BASH_REMATCH[1]} of /a"
DOWN_ADDR=$(cs_addr "$DOWN")
FILE_B=$WORK/b.bin
head -c $((2 * CHUNK_BYTES + 777)) /dev/urandom >"$FILE_B"
CHUNKS_B=$(chunks_of "$FILE_B")
log "link down: eth0 of $(ns_cs "$DOWN") ($DOWN_ADDR)"
ip -n "$(ns_cs "$DOWN")" link set eth0 down
t0=$(now_ms)
"${CLI[@]}" get /a "$WORK/got.a" &
get_pid=$!
"${CLI[@]}" put "$FILE_B" /b &
put_pid=$!
wait "$get_pid" || fail "gfs get /a with $DOWN_ADDR unreachable failed"
get_ms=$(($(now_ms) - t0))
same_content "$WORK/got.a" "$FILE_A" || fail "gfs get /a with $DOWN_ADDR unreachable: sha256 differs"
pass "get /a with $DOWN_ADDR unreachable: sha256 identical ($get_ms ms)"
wait "$put_pid" || fail "gfs put /b with $DOWN_ADDR unreachable failed"
pass "put of a new $CHUNKS_B-chunk file /b with $DOWN_ADDR unreachable ($(($(now_ms) - t0)) ms)"
same_bytes /b "$FILE_B"
pass "get /b with $DOWN_ADDR unreachable: sha256 identical"

# ---- 3. the link comes back ----------------------------------------------------------------
ip -n "$(ns_cs "$DOWN")" link set eth0 up
t0=$(now_ms)
wait_for 20 "$(cs_addr "$DOWN") live again after its link came back" \
  state_is "$(cs_addr "$DOWN")" live
wait_for "$REREPLICATE_TIMEOUT_S" "gfs admin fsck healthy with nothing under-replicated" \
  fsck_healthy
replicated /b "$CHUNKS_B" || fail "/b: not every chunk has 3 replicas: $(cli_text stat /b)"
pass "link up: $(cs_addr "$DOWN") live again, every chunk back at 3 replicas ($(($(now_ms) - t0)) ms)"

# ---- 4. master <-> one chunkserver partitioned ---------------------------------------------
start_chunkserver 4
wait_for "$START_TIMEOUT_S" "spare chunkserver cs4 live" live_count_is 4 4
pass "spare chunkserver $(cs_addr 4) joined: 4 chunkservers, 4 live"

CUT=$((DOWN % 3 + 1)) # another one than in step 2
CUT_ADDR=$(cs_addr "$CUT")
CUT_IP=$(cs_ip "$CUT")
log "partition: DROP between $MASTER_IP and $CUT_IP (iptables in the master's namespace)"
ip netns exec "$NS_M" iptables -w -A INPUT -s "$CUT_IP" -j DROP
ip netns exec "$NS_M" iptables -w -A OUTPUT -d "$CUT_IP" -j DROP
t0=$(now_ms)
wait_for $((HB_TIMEOUT_MS / 1000 + 15)) "$CUT_ADDR reported dead after the partition" \
  state_is "$CUT_ADDR" dead
dead_ms=$(($(now_ms) - t0))
# The last heartbeat that got through was about one period before the cut; allow two.
((dead_ms >= HB_TIMEOUT_MS - 2 * HB_MS)) ||
  fail "$CUT_ADDR was reported dead ${dead_ms} ms after the partition, before --heartbeat_timeout_ms=$HB_TIMEOUT_MS"
live_count_is 4 3 || fail "after the partition: expected '4 chunkservers, 3 live': $(cli_text admin report)"
pass "$CUT_ADDR reported dead ${dead_ms} ms after the partition (--heartbeat_timeout_ms=$HB_TIMEOUT_MS); the other 3 live"

t0=$(now_ms)
wait_for "$REREPLICATE_TIMEOUT_S" "/a re-replicated to 3 live replicas without $CUT_ADDR" \
  replicated /a "$CHUNKS_A" "$CUT_ADDR"
wait_for "$REREPLICATE_TIMEOUT_S" "/b re-replicated to 3 live replicas without $CUT_ADDR" \
  replicated /b "$CHUNKS_B" "$CUT_ADDR"
fsck_healthy || fail "gfs admin fsck after re-replication: $(cli_text admin fsck /)"
pass "re-replication: every chunk of /a and /b back at 3 live replicas, none on $CUT_ADDR; fsck healthy ($(($(now_ms) - t0)) ms)"
same_bytes /a "$FILE_A"
same_bytes /b "$FILE_B"
pass "get /a and /b after re-replication: sha256 identical"

ip netns exec "$NS_M" iptables -w -D INPUT -s "$CUT_IP" -j DROP
ip netns exec "$NS_M" iptables -w -D OUTPUT -d "$CUT_IP" -j DROP
t0=$(now_ms)
wait_for 20 "$CUT_ADDR live again after the partition healed" live_count_is 4 4
pass "partition healed: $CUT_ADDR live again, 4 chunkservers, 4 live ($(($(now_ms) - t0)) ms)"

# ---- 5. clean shutdown ---------------------------------------------------------------------
# stop_checked NAME...: SIGTERM, then each must exit with status 0 within 10 s.
stop_checked() {
  local name rc deadline
  for name in "$@"; do
    kill -TERM "${PIDS[$name]}"
  done
  deadline=$((SECONDS + 10))
  for name in "$@"; do
    while kill -0 "${PIDS[$name]}" 2>/dev/null; do
      ((SECONDS < deadline)) || fail "$name did not exit within 10 s of SIGTERM"
      sleep 0.1
    done
    rc=0
    wait "${PIDS[$name]}" || rc=$?
    unset "PIDS[$name]"
    ((rc == 0)) || fail "$name exited with status $rc on SIGTERM"
  done
}
check_daemons
stop_checked cs1 cs2 cs3 cs4
stop_checked master
# Sanitizer builds (tests/run.sh's build-asan) report into the logs.
for name in master cs1 cs2 cs3 cs4; do
  if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "${LOGS[$name]}"; then
    fail "$name's log has a sanitizer report"
  fi
done
pass "SIGTERM: the master and the 4 chunkservers exited with status 0, no sanitizer reports"

log "all $CHECKS checks passed in $(($(now_ms) - T_START)) ms"
