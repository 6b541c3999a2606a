#!/usr/bin/env bash
# fg-loadgen runs out of local ports: --port-range 40000-40015 (16 ports),
# --close hold (connections stay ESTABLISHED until the end), 100 connections
# to one kernel address:port. Exactly 16 are established and held at once --
# the kernel counts 16 open, from 16 peer ports inside the range -- and the
# other 84 fail at once with `no_port` (EADDRNOTAVAIL): no crash, no stall,
# the process stops on --duration and writes its JSON. Held "until the end"
# means until the run ends: draining then closes the 16 with FIN (the kernel
# reads EOF on each, none is reset).
#
# One lcore (-l 0): the port allocator hands an lcore only the ports whose
# 4-tuple it owns under the steering function, so with two lcores each would
# get about half of the 16 ports and fewer connections would fit.
. "$(dirname "$0")/active_lib.sh"
active_env
N=100
PORTS=16

kserver_start ks --port 8080 --keep
tap_loadgen lg 0 --target $KADDR:8080 --port-range 40000-$((40000 + PORTS - 1)) --close hold --connections $N \
  --cps 1000 --duration 8 --json "$T_DIR/lg.json"
wait_until 20 kstatus_true ks "d['open'] >= $PORTS" ||
  fail "the kernel did not see $PORTS connections open: $(cat "$T_DIR/ks.status")"
# While fg-loadgen still holds them: the kernel's own list of the connections.
ports=$(nsexec ss -Htn state established '( sport = :8080 )' | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un)
log "held peer ports: $(echo $ports)"
expect_eq "peer ports held" "$(echo "$ports" | grep -c .)" $PORTS
for p in $ports; do
  [ "$p" -ge 40000 ] && [ "$p" -lt $((40000 + PORTS)) ] || fail "peer port $p outside --port-range"
done
kill -0 "$PID_lg" 2>/dev/null || fail "fg-loadgen ended before --duration"
loadgen_wait lg 40
log "fg-loadgen: $(lg_summary lg)"
kserver_stop ks
log "kernel: $(cat "$T_DIR/ks.json")"

expect_eq "attempted" "$(lg lg attempted)" $PORTS
expect_eq "established" "$(lg lg established)" $PORTS
for k in refused timed_out unreachable gen/closed_by_rst; do
  expect_eq "$k" "$(lg lg $k)" 0
done
# Every no_port came from the generator's free lists, at once: the engine was never asked.
expect_eq "generator no_port" "$(lg lg gen/no_port)" $((N - PORTS))
expect_eq "engine no_port" "$(lg lg no_port)" 0
expect_eq "FINs sent by draining" "$(lg lg fin_sent)" $PORTS
grep -q "^\[fg-loadgen draining" "$T_DIR/lg.log" || fail "no draining line"
# The kernel (kserver --keep) never closes: ours wait in FIN-WAIT-2 at exit.
expect_eq "connections at the end (FIN-WAIT-2)" "$(lg lg connections_in_use)" $PORTS
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["elapsed_s"] >= 8 else 1)' \
  "$T_DIR/lg.json" || fail "stopped before --duration 8 ($(lg lg elapsed_s) s)"
expect_eq "kernel accepted" "$(ks ks 'd["accepted"]')" $PORTS
expect_eq "kernel most open at once" "$(ks ks 'd["max_open"]')" $PORTS
expect_eq "kernel connections ended by our FIN" "$(ks ks 'd["ended"]["fin"]')" $PORTS
expect_eq "kernel connections ended otherwise" "$(ks ks 'd["ended"]["rst"] + sum(d["ended"]["other"].values())')" 0
log "PASS"
