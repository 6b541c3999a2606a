#!/usr/bin/env bash
# DPDK's own dpdk-telemetry.py reads Floodgate's counters over rte_telemetry:
# /floodgate/stacks, /floodgate/stats (loop, classifier and TCP counters
# summed over lcores) and /floodgate/lcore,<i>. One counter registry: the
# telemetry dict has exactly the counters of the app's --json report (flat
# keys; drops/neigh/table/gen members as drop_/neigh_/table_/gen_ keys), no more, no
# fewer.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_or_fail "needs root (/var/run/dpdk)"
command -v dpdk-telemetry.py >/dev/null || skip_or_fail "needs dpdk-telemetry.py (package dpdk-dev)"
PREFIX="fgtel${RANDOM}"
# A lone ring port sends to itself: enough to see counters move, no namespace needed.
start server "$FG_BUILD/apps/fg-server" -l 0 --no-huge --no-shconf --no-pci -m 1024 --file-prefix "$PREFIX" \
  --vdev net_ring0 --log-level=lib.eal:error -- --ip 198.18.0.2/24 --listen 80 --duration 30 --stats-interval 0 \
  --json "$T_DIR/server.json"
wait_for 20 test -S "/var/run/dpdk/$PREFIX/dpdk_telemetry.v2" || fail "no telemetry socket"
wait_for 10 grep -q "mac " "$T_DIR/server.log" || fail "fg-server did not come up"
q() { echo "$1" | timeout 10 dpdk-telemetry.py -f "$PREFIX" 2>/dev/null; }
OUT=$(q /floodgate/stacks)
log "stacks: $OUT"
echo "$OUT" | grep -q '"server"' || fail "/floodgate/stacks does not list the stack"
OUT=$(q /floodgate/stats)
for k in rx_packets garp_sent drop_bad_tcp_cksum syn_received synack_sent cookies_sent accepted rst_sent; do
  echo "$OUT" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin)['/floodgate/stats']; sys.exit(0 if '$k' in d else 1)" ||
    fail "/floodgate/stats lacks $k: $OUT"
done
# The gratuitous ARP we sent came back to us: counters are live, not zeros.
echo "$OUT" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin)['/floodgate/stats']; sys.exit(0 if d['garp_sent'] >= 1 and d['arp_in'] >= 1 else 1)" ||
  fail "counters did not move: $OUT"
TEL="$OUT"
OUT=$(q /floodgate/lcore,0)
echo "$OUT" | grep -q '"loops"' || fail "/floodgate/lcore,0: $OUT"
OUT=$(q /floodgate/lcore,7)
echo "$OUT" | grep -q '"loops"' && fail "/floodgate/lcore,7 answered for an lcore that does not exist"
stop_server server
echo "$TEL" | /usr/bin/python3 -c '
import json, sys
tel = set(json.load(sys.stdin)["/floodgate/stats"])
d = json.load(open(sys.argv[1]))
nested = {"drops": "drop_", "neigh": "neigh_", "table": "table_", "gen": "gen_"}  # registry blocks kept as objects
rep = set()
for k, v in d.items():
    if k in nested:
        rep |= {nested[k] + n for n in v}
    elif isinstance(v, int) and not isinstance(v, bool):
        rep.add(k)
# Report members that are not counters (derived or about the run).
rep -= {"connections_in_use", "dropped_malformed", "dropped_unsupported"}
missing, extra = sorted(rep - tel), sorted(tel - rep)
if missing or extra:
    print("report counters not in telemetry:", missing, "telemetry keys not in the report:", extra)
    sys.exit(1)
print(len(tel), "counters, the same in both")
' "$T_DIR/server.json" >"$T_DIR/registry.log" 2>&1 || fail "telemetry and --json disagree: $(cat "$T_DIR/registry.log")"
log "registry: $(cat "$T_DIR/registry.log")"
log "PASS"
