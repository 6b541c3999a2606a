#!/usr/bin/env bash
# fg-loadgen against the kernel with SYNs lost on the way: an nftables rule in
# the namespace drops 3 in 10 SYNs at random (this kernel has no netem).
# Floodgate's SYN retransmission timer (1 s, doubling) recovers them: all 300
# connections establish, the kernel accepts all 300, and fg-loadgen counts at
# least one retransmission per SYN nftables dropped.
#
# The rule stops dropping after ~60 SYNs (an nftables quota on the bytes of
# the SYNs it matched). Without a cap a connection loses k SYNs in a row with
# probability 0.3^k, and the 6th try leaves 63 s after the first: for 300
# connections one run in five would need a minute or more. With the cap, the
# drops fall in the first seconds and no connection loses more than two or
# three SYNs.
. "$(dirname "$0")/active_lib.sh"
active_env
command -v nft >/dev/null || skip_or_fail "needs nft"
N=${FG_ACTIVE_N:-300}
SYN_BYTES=60 # a Floodgate SYN: 20 B IPv4 + 20 B TCP + 20 B options (MSS, SACK-permitted, timestamps, NOP, window scale)
MAX_DROPS=60

nsexec nft add table inet fg &&
  nsexec nft add chain inet fg in '{ type filter hook input priority 0; }' &&
  nsexec nft add rule inet fg in tcp dport 8080 'tcp flags & (syn|ack) == syn' numgen random mod 10 '< 3' \
    quota until $((SYN_BYTES * MAX_DROPS)) bytes counter drop ||
  fail "cannot add the nftables rule"

# nft_drops: packets the drop rule's counter saw.
nft_drops() {
  nsexec nft -j list chain inet fg in | /usr/bin/python3 -c 'import json,sys
for r in json.load(sys.stdin)["nftables"]:
    for e in r.get("rule", {}).get("expr", []):
        if "counter" in e:
            print(e["counter"]["packets"])'
}

kserver_start ks --port 8080
tap_loadgen lg 0 --target $KADDR:8080 --connections "$N" --cps 100 --close fin --duration 50 --json "$T_DIR/lg.json"
loadgen_wait lg 70
log "fg-loadgen: $(lg_summary lg)"
drops=$(nft_drops)
log "nftables dropped $drops SYNs; Floodgate's own neighbour queue dropped $(lg lg neigh_queue_dropped) before ARP resolved"

expect_eq "attempted" "$(lg lg attempted)" "$N"
expect_eq "established" "$(lg lg established)" "$N"
for k in refused timed_out unreachable no_port; do
  expect_eq "$k" "$(lg lg $k)" 0
done
[ -n "$drops" ] && [ "$drops" -gt 0 ] || fail "nftables dropped no SYN ($drops): the loss did not happen"
rtx=$(lg lg syn_retransmits)
[ "$rtx" -ge "$drops" ] || fail "syn_retransmits $rtx < $drops SYNs dropped: a lost SYN was not retransmitted"

wait_until 20 kstatus_true ks "d['distinct'] >= $N and d['ended_first']['fin'] >= $N" ||
  log "the kernel did not see $N accepted and ended within 20 s of fg-loadgen's exit"
kserver_stop ks
log "kernel: $(cat "$T_DIR/ks.json")"
expect_eq "4-tuples the kernel accepted" "$(ks ks 'd["distinct"]')" "$N"
expect_eq "connections the kernel accepted" "$(ks ks 'd["accepted"]')" "$N"
expect_eq "orderly closes the kernel saw" "$(ks ks 'd["ended_first"]["fin"]')" "$N"
log "PASS"
