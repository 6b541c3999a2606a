#!/usr/bin/env bash
# fg-loadgen to targets it cannot reach; it must count them `unreachable`,
# never crash or hang, and end on its own (--connections done, or --duration).
#   neighbour  198.18.0.99, in Floodgate's /24, where nobody answers ARP: the
#              SYNs wait in the neighbour entry while ARP asks 3 times 1 s
#              apart, then every attempt is unreachable (Linux: EHOSTUNREACH)
#   flood      the same address for 6 s at 1000/s with no total: the entry's
#              queue overflows, it fails, refuses for a while and starts
#              again; the process stops on --duration and writes its JSON
#   no route   198.19.0.1, outside every subnet, no --gw: unreachable at once
#              (ENETUNREACH), no SYN ever sent, stops on --duration
. "$(dirname "$0")/active_lib.sh"
active_env
N=${FG_ACTIVE_N:-40}
DEAD=198.18.0.99
NOROUTE=198.19.0.1

# expect_zero NAME KEYS...: fg-loadgen counters that must be 0.
expect_zero() {
  local name=$1 k; shift
  for k in "$@"; do
    expect_eq "$name: $k" "$(lg "$name" "$k")" 0
  done
}

# 1. A neighbour that never answers.
tap_loadgen neighbour 0 --target $DEAD:80 --connections "$N" --cps 1000 --duration 40 --json "$T_DIR/neighbour.json"
loadgen_wait neighbour 60
log "neighbour: $(lg_summary neighbour)"
expect_eq "neighbour: attempted" "$(lg neighbour attempted)" "$N"
expect_eq "neighbour: unreachable" "$(lg neighbour unreachable)" "$N"
expect_zero neighbour established refused timed_out no_port connections_in_use
req=$(lg neighbour neigh/requests)
[ "$req" -ge 3 ] || fail "neighbour: unreachable after $req ARP requests, expected 3 first"
[ "$(lg neighbour neigh/failures)" -ge 1 ] || fail "neighbour: the neighbour entry never failed"
[ "$(lg neighbour neigh/resolved)" = 0 ] || fail "neighbour: $DEAD resolved?"

# 2. The same without a total: stops on --duration.
tap_loadgen flood 0 --target $DEAD:80 --cps 1000 --duration 6 --json "$T_DIR/flood.json"
loadgen_wait flood 40
log "flood: $(lg_summary flood)"
expect_zero flood established refused timed_out no_port
# Every attempt ended unreachable or was still in SYN-SENT when it stopped.
# (How many are unreachable by then depends on how much CPU the lcore got in
# those 6 s -- a loaded box stalled it for 3 s once -- so no count is asked.)
expect_eq "flood: unreachable + still open" $(( $(lg flood unreachable) + $(lg flood connections_in_use) )) \
  "$(lg flood attempted)"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["elapsed_s"] >= 6 else 1)' \
  "$T_DIR/flood.json" || fail "flood: stopped before --duration 6 ($(lg flood elapsed_s) s)"

# 3. No route at all.
tap_loadgen noroute 0 --target $NOROUTE:80 --cps 1000 --duration 3 --json "$T_DIR/noroute.json"
loadgen_wait noroute 40
log "noroute: $(lg_summary noroute)"
expect_zero noroute established refused timed_out no_port attempted syn_retransmits no_neighbour connections_in_use
# No route: the generator knows at start (it routes each target once) and
# counts every try as unroutable -- reported as unreachable, never sent.
[ "$(lg noroute gen/unroutable)" -gt 0 ] || fail "noroute: nothing unroutable"
expect_eq "noroute: every try failed" "$(lg noroute failed)" "$(lg noroute tried)"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["elapsed_s"] >= 3 else 1)' \
  "$T_DIR/noroute.json" || fail "noroute: stopped before --duration 3 ($(lg noroute elapsed_s) s)"
log "PASS"
