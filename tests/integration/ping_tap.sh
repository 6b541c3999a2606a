#!/usr/bin/env bash
# The kernel pings Floodgate over net_tap moved into a namespace; the
# kernel's neighbour table learns Floodgate's MAC; Floodgate resolves the
# kernel's MAC by ARP (asked with --resolve) and reports it.
. "$(dirname "$0")/lib.sh"
require_env

TAP="fgt${RANDOM}"
KADDR=198.18.0.1
FADDR=198.18.0.2
start server "$FG_BUILD/apps/fg-server" -l 0 $(eal_args) --vdev "net_tap0,iface=$TAP" -- \
  --ip $FADDR/24 --resolve $KADDR --duration 25 --stats-interval 1 --json "$T_DIR/server.json"
# Move the tap only once the port is started (the PMD configures it by name).
wait_for 15 grep -q "mac " "$T_DIR/server.log" || fail "fg-server did not come up"
ip link show "$TAP" >/dev/null 2>&1 || fail "tap $TAP did not appear"
ip link set "$TAP" netns "$T_NS" || fail "cannot move $TAP into $T_NS"
nsexec ip link set lo up
# The tap PMD gives the kernel side its own MAC: make them differ, so
# "Floodgate resolved the kernel's MAC" means something.
nsexec ip link set "$TAP" address 02:00:c6:12:00:01
nsexec ip addr add $KADDR/24 dev "$TAP"
nsexec ip link set "$TAP" up
KMAC=$(nsexec cat "/sys/class/net/$TAP/address")

# Floodgate asks for the kernel's MAC (--resolve) before anyone pings: the
# kernel answers, and creates an entry for the asker as Linux does.
wait_for 10 sh -c "ip netns exec $T_NS ip neigh show $FADDR dev "$TAP" | grep -q lladdr" ||
  fail "Floodgate's ARP request for $KADDR never reached the kernel"
nsexec ping -c 5 -i 0.2 -W 2 $FADDR >"$T_DIR/ping.log" 2>&1 || fail "kernel ping to Floodgate failed"
grep -q " 0% packet loss" "$T_DIR/ping.log" || fail "ping lost packets"
log "ping ok"

FMAC=$(grep -o 'mac [0-9a-f:]*' "$T_DIR/server.log" | head -1 | cut -d' ' -f2)
[ -n "$FMAC" ] || fail "fg-server did not print its MAC"
nsexec ip neigh show $FADDR dev "$TAP" | grep -qi "lladdr $FMAC" || fail "kernel neighbour table lacks $FADDR -> $FMAC"
log "kernel learned $FADDR at $FMAC"

kill -TERM "$PID_server"
wait_exit "$PID_server" 10 || fail "fg-server did not stop on SIGTERM"
[ -f "$T_DIR/server.json" ] || fail "no JSON written"
[ "$(json_get "$T_DIR/server.json" icmp_echo_replies)" -ge 5 ] || fail "fewer than 5 echo replies counted"
GOT=$(json_get "$T_DIR/server.json" resolved/$KADDR)
[ "${GOT,,}" = "${KMAC,,}" ] || fail "Floodgate resolved $KADDR to '$GOT', kernel MAC is $KMAC"
[ "$(json_get "$T_DIR/server.json" neigh/confirmed)" -ge 1 ] || fail "no ARP reply to our request was seen"
log "Floodgate resolved $KADDR at $KMAC"
log "PASS"
