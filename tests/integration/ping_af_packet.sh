#!/usr/bin/env bash
# As ping_tap.sh, over one end of a veth pair driven by net_af_packet; the
# other end is in the namespace with the kernel's address.
. "$(dirname "$0")/lib.sh"
require_env
command -v ethtool >/dev/null || skip_or_fail "needs ethtool"

VA="fga${RANDOM}"
VB="fgb${RANDOM}"
KADDR=198.18.0.1
FADDR=198.18.0.2
ip link add "$VA" type veth peer name "$VB" || fail "cannot create veth pair"
on_cleanup "ip link del $VA"
ip link set "$VB" netns "$T_NS"
# The kernel hands af_packet TCP segments with unfilled checksums unless the
# veth offloads are off on both ends (DESIGN.md, facts found on these machines).
ethtool -K "$VA" tx off rx off >/dev/null
nsexec ethtool -K "$VB" tx off rx off >/dev/null
ip link set "$VA" up
nsexec ip link set lo up
nsexec ip addr add $KADDR/24 dev "$VB"
nsexec ip link set "$VB" up
KMAC=$(nsexec cat "/sys/class/net/$VB/address")

start server "$FG_BUILD/apps/fg-server" -l 0 $(eal_args) --vdev "net_af_packet0,iface=$VA" -- \
  --ip $FADDR/24 --resolve $KADDR --duration 25 --stats-interval 1 --json "$T_DIR/server.json"
wait_for 15 grep -q "mac " "$T_DIR/server.log" || fail "fg-server did not come up"
FMAC=$(grep -o 'mac [0-9a-f:]*' "$T_DIR/server.log" | head -1 | cut -d' ' -f2)

# Floodgate asks for the kernel's MAC (--resolve) before anyone pings: the
# kernel answers, and creates an entry for the asker as Linux does.
wait_for 10 sh -c "ip netns exec $T_NS ip neigh show $FADDR dev "$VB" | grep -q lladdr" ||
  fail "Floodgate's ARP request for $KADDR never reached the kernel"
nsexec ping -c 5 -i 0.2 -W 2 $FADDR >"$T_DIR/ping.log" 2>&1 || fail "kernel ping to Floodgate failed"
grep -q " 0% packet loss" "$T_DIR/ping.log" || fail "ping lost packets"
log "ping ok"
nsexec ip neigh show $FADDR dev "$VB" | grep -qi "lladdr $FMAC" || fail "kernel neighbour table lacks $FADDR -> $FMAC"
log "kernel learned $FADDR at $FMAC"

kill -TERM "$PID_server"
wait_exit "$PID_server" 10 || fail "fg-server did not stop on SIGTERM"
[ "$(json_get "$T_DIR/server.json" icmp_echo_replies)" -ge 5 ] || fail "fewer than 5 echo replies counted"
GOT=$(json_get "$T_DIR/server.json" resolved/$KADDR)
[ "${GOT,,}" = "${KMAC,,}" ] || fail "Floodgate resolved $KADDR to '$GOT', kernel MAC is $KMAC"
[ "$(json_get "$T_DIR/server.json" neigh/confirmed)" -ge 1 ] || fail "no ARP reply to our request was seen"
log "Floodgate resolved $KADDR at $KMAC"
log "PASS"
