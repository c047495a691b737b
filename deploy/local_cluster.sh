#!/usr/bin/env bash
# A local gfs cluster on 127.0.0.1: one master and N chunkservers, in the background.
#
# Usage: deploy/local_cluster.sh start [N] | stop | status
#
#   start [N]  start the master and N chunkservers (default 3), each only if it is not
#              already running (a running one is reused), then wait until the master
#              answers `gfs ls /`. Exits 0 when the cluster is up.
#   stop       SIGTERM the chunkservers, SIGKILL those still alive after 10 s; then the
#              same for the master.
#   status     print each daemon's state; exit 0 if all are running, 3 otherwise.
#
# Environment:
#   GFS_HOME             state directory (default: var/ under the repository root):
#                        data in master/ and csI/, logs NAME.log, pids NAME.pid
#   GFS_BASE_PORT        master port (default 7000); chunkserver I listens on base+I
#   GFS_BIN_DIR          where the binaries are (default: build/bin under the repo root)
#   GFS_START_TIMEOUT_S  how long start waits for the cluster (default 20)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${GFS_BIN_DIR:-$ROOT/build/bin}
GFS_HOME=${GFS_HOME:-$ROOT/var}
BASE=${GFS_BASE_PORT:-7000}
START_TIMEOUT_S=${GFS_START_TIMEOUT_S:-20}
STOP_TIMEOUT_S=10
HOST=127.0.0.1

usage() {
  echo "usage: $0 start [N] | stop | status" >&2
  exit 2
}

die() {
  echo "local_cluster: $*" >&2
  exit 1
}

[[ "$BASE" =~ ^[0-9]+$ ]] || die "GFS_BASE_PORT must be a port number, got '$BASE'"
[[ "$START_TIMEOUT_S" =~ ^[0-9]+$ ]] || die "GFS_START_TIMEOUT_S must be a number of seconds"
case "$GFS_HOME" in
  /*) ;;
  *) GFS_HOME=$PWD/$GFS_HOME ;;
esac

binary_for() {
  case "$1" in
    master) echo gfs-master ;;
    cs*) echo gfs-chunkserver ;;
    *) return 1 ;;
  esac
}

# alive PID: the process exists and is not a zombie.
alive() {
  local pid=$1 stat
  kill -0 "$pid" 2>/dev/null || return 1
  { stat=$(<"/proc/$pid/stat"); } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ "${stat%% *}" != Z ]]
}

# running_pid NAME: prints the pid of daemon NAME if its pid file names a live process
# that runs the expected binary (so a recycled pid is not mistaken for the daemon).
running_pid() {
  local name=$1 pidfile="$GFS_HOME/$1.pid" pid exe=
  [[ -f "$pidfile" ]] || return 1
  pid=$(<"$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  IFS= read -r -d '' exe <"/proc/$pid/cmdline" 2>/dev/null || true
  [[ "$(basename -- "${exe:-none}")" == "$(binary_for "$name")" ]] || return 1
  echo "$pid"
}

# listen_of PID: the --listen=... value on the process's command line.
listen_of() {
  local arg args=()
  mapfile -d '' args <"/proc/$1/cmdline" 2>/dev/null || true
  for arg in "${args[@]}"; do
    if [[ "$arg" == --listen=* ]]; then
      echo "${arg#--listen=}"
      return 0
    fi
  done
  echo "?"
}

# start_daemon NAME LISTEN COMMAND...: starts COMMAND with nohup unless NAME runs.
start_daemon() {
  local name=$1 listen=$2 pid
  shift 2
  if pid=$(running_pid "$name"); then
    local actual
    actual=$(listen_of "$pid")
    if [[ "$actual" != "$listen" ]]; then
      die "$name is already running (pid $pid) on $actual, not $listen; run '$0 stop' first"
    fi
    echo "$name: already running (pid $pid) on $listen"
    return 0
  fi
  nohup "$@" >>"$GFS_HOME/$name.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$GFS_HOME/$name.pid"
  echo "$name: started (pid $pid) on $listen, log $GFS_HOME/$name.log"
}

# master_answers: `gfs ls /` succeeds. The CLI retries an unreachable master for
# many seconds, so first check cheaply that the port accepts connections.
master_answers() {
  if ! (: <>"/dev/tcp/$HOST/$BASE") 2>/dev/null; then
    echo "nothing accepts connections on $HOST:$BASE" >"$GFS_HOME/.probe.err"
    return 1
  fi
  timeout 5 "$BIN/gfs" --master="$HOST:$BASE" ls / >/dev/null 2>"$GFS_HOME/.probe.err"
}

# The names of the chunkservers this GFS_HOME knows about: csI.pid files plus the
# count recorded by the last start.
chunkserver_names() {
  local n=0 i f names=()
  if [[ -f "$GFS_HOME/cluster.env" ]]; then
    n=$(sed -n 's/^CHUNKSERVERS=\([0-9][0-9]*\)$/\1/p' "$GFS_HOME/cluster.env")
    n=${n:-0}
  fi
  for ((i = 1; i <= n; i++)); do
    names+=("cs$i")
  done
  for f in "$GFS_HOME"/cs*.pid; do
    [[ -e "$f" ]] || continue
    f=$(basename "$f" .pid)
    [[ "$f" =~ ^cs[0-9]+$ ]] || continue
    if [[ " ${names[*]} " != *" $f "* ]]; then
      names+=("$f")
    fi
  done
  if ((${#names[@]} > 0)); then
    printf '%s\n' "${names[@]}" | sort -t s -k 2 -n
  fi
}

# check_alive NAME...: exits 1, showing the end of its log, if one of them (just
# started by this script) is not running. Only liveness is checked: right after the
# start the process may still be nohup on its way to exec'ing the daemon, which
# running_pid's binary check would take for an exit.
check_alive() {
  local name pid
  for name in "$@"; do
    pid=$(cat "$GFS_HOME/$name.pid" 2>/dev/null) || pid=
    if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! alive "$pid"; then
      {
        echo "local_cluster: $name exited during start; last lines of $GFS_HOME/$name.log:"
        tail -n 20 "$GFS_HOME/$name.log" || true
        echo "(daemons that did start keep running: '$0 stop' stops them)"
      } >&2
      exit 1
    fi
  done
}

cmd_start() {
  local n=${1:-3}
  [[ "$n" =~ ^[0-9]+$ ]] || usage
  local b
  for b in gfs-master gfs; do
    [[ -x "$BIN/$b" ]] || die "$BIN/$b is not built; build first (deploy/quickstart.sh, or: ninja -C build gfs-master gfs)"
  done

  mkdir -p "$GFS_HOME/master"
  GFS_HOME=$(cd "$GFS_HOME" && pwd)

  local started=(master)
  start_daemon master "$HOST:$BASE" \
    "$BIN/gfs-master" --listen="$HOST:$BASE" --data_dir="$GFS_HOME/master"

  local have_cs=0 i
  if [[ -x "$BIN/gfs-chunkserver" ]]; then
    have_cs=1
    for ((i = 1; i <= n; i++)); do
      mkdir -p "$GFS_HOME/cs$i"
      start_daemon "cs$i" "$HOST:$((BASE + i))" \
        "$BIN/gfs-chunkserver" --listen="$HOST:$((BASE + i))" --master="$HOST:$BASE" \
        --data_dir="$GFS_HOME/cs$i"
      started+=("cs$i")
    done
  else
    echo "note: $BIN/gfs-chunkserver is not built yet; starting the master only"
  fi
  printf 'BASE_PORT=%s\nCHUNKSERVERS=%s\n' "$BASE" "$((have_cs ? n : 0))" >"$GFS_HOME/cluster.env"

  local deadline=$((SECONDS + START_TIMEOUT_S)) name
  until master_answers; do
    check_alive "${started[@]}"
    if ((SECONDS >= deadline)); then
      {
        echo "local_cluster: the master did not answer 'gfs ls /' on $HOST:$BASE within ${START_TIMEOUT_S}s"
        echo "last probe error:"
        cat "$GFS_HOME/.probe.err" || true
        echo "last lines of $GFS_HOME/master.log:"
        tail -n 20 "$GFS_HOME/master.log" || true
        echo "(daemons that did start keep running: '$0 stop' stops them)"
      } >&2
      exit 1
    fi
    sleep 0.2
  done
  # TODO(chunkservers): once `gfs admin report` exists, also wait until all N
  # chunkservers are reported live, so that a put right after start finds replicas.
  # A daemon that failed to start (e.g. its port was taken by another process that
  # answered the probe) has exited by now or exits within a moment.
  sleep 0.3
  check_alive "${started[@]}"
  echo "cluster up: master $HOST:$BASE, $((have_cs ? n : 0)) chunkserver(s), home $GFS_HOME"
}

# stop_group NAME...: SIGTERM all of them, wait up to STOP_TIMEOUT_S, then SIGKILL.
stop_group() {
  local name pid pids=() names=()
  for name in "$@"; do
    if pid=$(running_pid "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$name")
    else
      rm -f "$GFS_HOME/$name.pid"
    fi
  done
  ((${#pids[@]} > 0)) || return 0

  local deadline=$((SECONDS + STOP_TIMEOUT_S)) left i
  while :; do
    left=0
    for pid in "${pids[@]}"; do
      if alive "$pid"; then left=1; fi
    done
    ((left)) || break
    ((SECONDS < deadline)) || break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    if alive "${pids[$i]}"; then
      echo "${names[$i]}: still running ${STOP_TIMEOUT_S}s after SIGTERM; sending SIGKILL"
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    else
      echo "${names[$i]}: stopped (pid ${pids[$i]})"
    fi
    rm -f "$GFS_HOME/${names[$i]}.pid"
  done
}

cmd_stop() {
  if [[ ! -d "$GFS_HOME" ]]; then
    echo "nothing to stop: $GFS_HOME does not exist"
    return 0
  fi
  local cs=()
  mapfile -t cs < <(chunkserver_names)
  # Chunkservers first, so that they do not spend their last seconds on a dead master.
  if ((${#cs[@]} > 0)); then
    stop_group "${cs[@]}"
  fi
  stop_group master
}

cmd_status() {
  local rc=0 name pid cs=()
  if [[ -d "$GFS_HOME" ]]; then
    mapfile -t cs < <(chunkserver_names)
  fi
  for name in master "${cs[@]}"; do
    if [[ -d "$GFS_HOME" ]] && pid=$(running_pid "$name"); then
      local extra=
      if [[ "$name" == master ]]; then
        if master_answers; then extra=", answering"; else extra=", not answering"; fi
      fi
      printf '%-8s running (pid %s) on %s%s\n' "$name" "$pid" "$(listen_of "$pid")" "$extra"
    else
      printf '%-8s stopped\n' "$name"
      rc=3
    fi
  done
  if ((${#cs[@]} == 0)) && [[ ! -x "$BIN/gfs-chunkserver" ]]; then
    echo "(no chunkservers: gfs-chunkserver is not built yet)"
  fi
  return "$rc"
}

case "${1:-}" in
  start)
    (($# <= 2)) || usage
    cmd_start "${2:-3}"
    ;;
  stop)
    (($# == 1)) || usage
    cmd_stop
    ;;
  status)
    (($# == 1)) || usage
    cmd_status || exit $?
    ;;
  *) usage ;;
esac
