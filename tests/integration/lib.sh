# Shared helpers for integration tests against the Linux kernel.
# Every test makes its own network namespace (198.18.0.0/15 only, never routed
# out), and removes it and every process it started on exit, even on failure.
# Exit codes: 0 pass, 1 fail, 77 skip (meson's skip). A test that cannot run
# (not root, no /dev/net/tun, no netns) skips -- unless CI=true, where it fails.

set -uo pipefail

FG_BUILD=${FG_BUILD:?FG_BUILD must point at the build directory}
T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "/tmp/fg-${T_NAME}.XXXXXX")
T_NS="fg${RANDOM}${RANDOM}"
T_PIDS=()
T_CLEANUPS=()

log() { echo "[$T_NAME] $*"; }

fail() {
  log "FAIL: $*"
  for f in "$T_DIR"/*.log; do
    [ -f "$f" ] && { echo "---- $f (last 40 lines)"; tail -n 40 "$f"; }
  done
  exit 1
}

skip_or_fail() {
  if [ "${CI:-}" = "true" ]; then
    log "cannot run in CI: $*"
    exit 1
  fi
  log "SKIP: $*"
  exit 77
}

require_env() {
  [ "$(id -u)" = 0 ] || skip_or_fail "needs root"
  [ -c /dev/net/tun ] || skip_or_fail "needs /dev/net/tun"
  command -v ip >/dev/null || skip_or_fail "needs iproute2"
  ip netns add "$T_NS" 2>/dev/null || skip_or_fail "cannot create a network namespace"
  T_CLEANUPS+=("ip netns del $T_NS")
  # Tens of thousands of kernel connects per test: a wide port range, and
  # TIME-WAIT reuse (timestamps make it safe) so runs do not exhaust it.
  ip netns exec "$T_NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1
}

on_cleanup() { T_CLEANUPS+=("$*"); }

cleanup() {
  local rc=$?
  for p in "${T_PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null
  done
  for p in "${T_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  local i
  for ((i=${#T_CLEANUPS[@]}-1; i>=0; i--)); do
    eval "${T_CLEANUPS[$i]}" >/dev/null 2>&1
  done
  [ "$rc" = 0 ] && rm -rf "$T_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

nsexec() { ip netns exec "$T_NS" "$@"; }

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
  local t=$1; shift
  local n=$((t * 10))
  for _ in $(seq "$n"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# start NAME CMD...: runs CMD in the background, output in $T_DIR/NAME.log.
start() {
  local name=$1; shift
  "$@" >"$T_DIR/$name.log" 2>&1 &
  T_PIDS+=($!)
  eval "PID_$name=$!"
}

# wait_exit PID SECONDS: waits for a background process to end by itself.
wait_exit() {
  local pid=$1 t=$2
  for _ in $(seq $((t * 10))); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid"; return $?; }
    sleep 0.1
  done
  return 124
}

# json_get FILE KEY[/KEY...]: a member of the JSON object (nested keys joined by /).
json_get() {
  /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d
for k in sys.argv[2].split("/"): v=v[k]
print(v)' "$1" "$2"
}

# EAL arguments for tests: no hugepages needed, nothing shared between runs.
eal_args() {
  echo "--no-huge --no-shconf --no-pci -m 512 --file-prefix=$T_NS --log-level=lib.eal:error --log-level=user1:info"
}

KADDR=198.18.0.1
FADDR=198.18.0.2

# tap_server NAME LCORES [fg-server options...]: starts fg-server on a new
# net_tap, waits until the port is up, moves the tap into the namespace and
# gives the kernel side $KADDR/24 (and a MAC of its own). Sets $TAP.
tap_server() {
  local name=$1 lcores=$2; shift 2
  TAP="fgt${RANDOM}"
  start "$name" "$FG_BUILD/apps/fg-server" -l "$lcores" $(eal_args) --vdev "net_tap0,iface=$TAP" -- \
    --ip $FADDR/24 --stats-interval 1 "$@"
  wait_for 20 grep -q "mac " "$T_DIR/$name.log" || fail "fg-server did not come up"
  ip link show "$TAP" >/dev/null 2>&1 || fail "tap $TAP did not appear"
  ip link set "$TAP" netns "$T_NS" || fail "cannot move $TAP into $T_NS"
  nsexec ip link set lo up
  nsexec ip link set "$TAP" address 02:00:c6:12:00:01
  nsexec ip addr add $KADDR/24 dev "$TAP"
  nsexec ip link set "$TAP" up
  wait_for 10 nsexec ping -c 1 -W 1 $FADDR || fail "Floodgate does not answer ping"
}

# stop_server NAME: SIGTERM and wait for the JSON to be written.
stop_server() {
  local pid
  pid=$(eval echo "\$PID_$1")
  kill -TERM "$pid" 2>/dev/null
  wait_exit "$pid" 20 || fail "$1 did not stop on SIGTERM"
}

# kclient ARGS...: the kernel client (kclient.py) inside the namespace; prints its JSON.
kclient() { nsexec /usr/bin/python3 "$(dirname "$0")/kclient.py" "$@"; }

# jq_py JSON EXPR: evaluates a Python expression over the parsed JSON `d`.
jq_py() { /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
