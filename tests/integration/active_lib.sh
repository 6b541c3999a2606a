# shellcheck shell=bash
# Helpers for the active-open integration tests: fg-loadgen on a net_tap in a
# network namespace, the Linux kernel as the server (kserver.py). Sourced
# after lib.sh (which it sources itself).
#
# Start-up order. fg-loadgen's lcores start generating right after it prints
# its start line, and the tap can only move into the namespace after that
# (net_tap configures it by name in our namespace while the port starts).
# So the first SYNs find no kernel yet. They never leave Floodgate: they wait
# in the neighbour entry of the kernel's address (16 per entry, the oldest
# dropped beyond that, as Linux does) while ARP asks for it (3 requests 1 s
# apart). The ARP requests sent before the move are lost, so as soon as the
# kernel side is configured we ping Floodgate from it: the kernel's ARP request
# to Floodgate resolves the entry at once (Floodgate learns from requests
# addressed to it), the queued SYNs go out, and the SYNs dropped from the
# queue come back with the SYN retransmission timer (1 s). Nothing depends on
# timing as long as the kernel side is configured within ARP's 3 s (measured:
# 0.1-0.3 s after the start line on a loaded 2-core box); a static --arp entry
# would lift even that limit but let the first SYNs into the host namespace
# before the move, where a host that forwards would route them out.
. "$(dirname "$0")/lib.sh"

KMAC=02:00:c6:12:00:01
T_SRC=$(dirname "$0")

# active_env: root, tap, namespace; the kernel listens with big queues.
active_env() {
  require_env
  command -v /usr/bin/python3 >/dev/null || skip_or_fail "needs /usr/bin/python3"
  # Room for 10,000 connections in the accept queue at once (per namespace).
  nsexec sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535 ||
    fail "cannot set somaxconn in $T_NS"
  nsexec ip link set lo up
}

# kserver_start NAME ARGS...: kserver.py in the namespace; waits until it listens.
kserver_start() {
  local name=$1; shift
  rm -f "$T_DIR/$name.ready" "$T_DIR/$name.status"
  # (chrt and ip netns exec exec python: PID_NAME is kserver's own pid, for
  # SIGTERM.) The kernel peer runs under SCHED_FIFO: on a loaded 2-core
  # machine a descheduled accept loop overflows listen(4)'s queue for long
  # enough that Linux drops every one of a connection's 5 SYNs (the backlog
  # case: 9 of 10,000 timed out once at nice -10, 12 in a CI run) -- the
  # machine's load, not either stack. kserver sleeps in epoll_wait between
  # events, so it cannot starve the CPU it runs on.
  start "$name" chrt -f 10 ip netns exec "$T_NS" /usr/bin/python3 "$T_SRC/kserver.py" --status "$T_DIR/$name.status" \
    --ready-file "$T_DIR/$name.ready" "$@"
  wait_for 20 test -f "$T_DIR/$name.ready" || fail "kserver $name did not start"
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds or SECONDS
# of wall time have passed (lib.sh's wait_for counts polls, and a poll that
# runs python on a loaded box takes longer than its 0.1 s sleep).
wait_until() {
  local end=$((SECONDS + $1)); shift
  while [ "$SECONDS" -lt "$end" ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  "$@" >/dev/null 2>&1
}

# kstatus NAME EXPR: evaluates a Python expression over kserver's live status `d`.
kstatus() {
  /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$T_DIR/$1.status" "$2" 2>/dev/null
}

# kstatus_true NAME EXPR: succeeds when EXPR is true in kserver's live status.
kstatus_true() { [ "$(kstatus "$1" "bool($2)")" = True ]; }

# kserver_stop NAME: SIGTERM, wait, final JSON in $T_DIR/NAME.json.
kserver_stop() {
  local name=$1 pid
  pid=$(eval echo "\$PID_$name")
  kill -TERM "$pid" 2>/dev/null
  wait_exit "$pid" 20 || fail "kserver $name did not stop on SIGTERM"
  tail -n 1 "$T_DIR/$name.log" >"$T_DIR/$name.json"
  /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T_DIR/$name.json" 2>/dev/null ||
    fail "kserver $name wrote no JSON"
}

# tap_loadgen NAME LCORES [fg-loadgen options...]: starts fg-loadgen on a new
# net_tap with Floodgate at $FADDR/24, waits for its start line, moves the tap
# into the namespace, gives the kernel $KADDR/24 and $KMAC, and makes the
# kernel ARP for Floodgate (see the top of this file). Sets $TAP.
tap_loadgen() {
  local name=$1 lcores=$2; shift 2
  TAP="fgt${RANDOM}"
  start "$name" "$FG_BUILD/apps/fg-loadgen" -l "$lcores" $(eal_args) --vdev "net_tap0,iface=$TAP" -- \
    --ip $FADDR/24 --stats-interval 1 "$@"
  wait_for 60 grep -q "^fg-loadgen: .*generating lcore" "$T_DIR/$name.log" || fail "fg-loadgen did not come up"
  ip link show "$TAP" >/dev/null 2>&1 || fail "tap $TAP did not appear"
  ip link set "$TAP" netns "$T_NS" || fail "cannot move $TAP into $T_NS"
  nsexec ip link set "$TAP" address $KMAC
  nsexec ip addr add $KADDR/24 dev "$TAP"
  nsexec ip link set "$TAP" up
  wait_for 10 nsexec ping -c 1 -W 1 $FADDR || fail "Floodgate does not answer ping"
}

# loadgen_wait NAME SECONDS: waits for fg-loadgen to end by itself (--connections
# done or --duration), checks it exited 0 and wrote its --json ($T_DIR/NAME.json).
loadgen_wait() {
  local name=$1 t=$2 pid rc
  pid=$(eval echo "\$PID_$name")
  wait_exit "$pid" "$t"
  rc=$?
  [ "$rc" = 124 ] && fail "$name did not end within $t s"
  [ "$rc" = 0 ] || fail "$name exited with status $rc"
  [ -s "$T_DIR/$name.json" ] || fail "$name wrote no JSON"
}

# lg NAME KEY: a member of fg-loadgen's JSON (nested keys joined by /).
lg() { json_get "$T_DIR/$1.json" "$2"; }

# ks NAME EXPR: a Python expression over kserver's final JSON `d`.
ks() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T_DIR/$1.json" "$2"; }

# knetstat FIELD: a TcpExt counter of the namespace's kernel (/proc/net/netstat).
knetstat() {
  nsexec cat /proc/net/netstat | awk -v f="$1" '
    $1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
    $1 == "TcpExt:" && h  { for (i = 2; i <= NF; i++) if (n[i] == f) print $i }'
}

# lg_summary NAME: one line of the counters that matter, for the log.
lg_summary() {
  /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
keys = ["attempted", "established", "refused", "timed_out", "unreachable", "no_port", "syn_retransmits",
        "closed_by_rst", "fin_sent", "time_wait_entered", "time_wait_expired", "connections_in_use",
        "rtt_us_min", "rtt_us_p50", "rtt_us_p99", "rtt_us_max", "elapsed_s"]
print(" ".join("%s=%s" % (k, d.get(k, d.get("gen", {}).get(k))) for k in keys))' "$T_DIR/$1.json"
}

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got $2, expected $3"; }
