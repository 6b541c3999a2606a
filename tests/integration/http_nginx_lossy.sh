#!/usr/bin/env bash
# fg-loadgen --http against nginx with nftables dropping 20% of the packets
# of the exchange at random, each way (this kernel has no netem). Both TCPs
# must recover: Floodgate's SYN and data retransmissions (RFC 6298 RTO,
# partial ACKs), its out-of-order drops and duplicate ACKs, and Linux's own.
# What the test demands: every request ends and ends one precise way --
# requests_sent == responses_ok + responses_bad + responses_unsupported +
# response_timeouts + response_resets + response_closed + response_failed,
# nothing pending; a request on every established connection; no response
# garbled (responses_bad 0); nearly all ok (a response needs its request,
# the response and the ACKs through: with 30 s to do it, all do barring very
# bad luck -- >= 95% demanded); nginx logged a 200 for every ok response;
# packets really were dropped both ways and Floodgate really retransmitted.
# A few requests end in response_resets, and rightly: an nftables drop on
# the namespace's OUTPUT hook is a local transmit error for the kernel, and
# Linux drops a request sock whose SYN-ACK retransmission fails that way
# (reqsk_timer_handler); our ACK with the request then finds no socket and is
# answered with RST (seen in captures: the kernel ignores nothing, it has
# forgotten the handshake). Response timeouts come from Linux's own backoff
# (1 s initial RTO after a lost SYN-ACK, doubling) meeting the 30 s limit.
# Afterwards every pool is back at its start (fg-loadgen's `pools`, taken
# before its lcores started and after they stopped): connection blocks,
# table entries, timers, generator connections in flight and free mbufs;
# and every source pair the generator took was given back (gen released ==
# attempted). --drain 60 lets the last FIN exchanges finish under loss (it
# ends as soon as nothing is left). (500 connections, not the 100,000 of
# eal-loss: with Linux's 1 s SYN-ACK RTO doubling, each lost handshake costs
# seconds; eal-loss scales the timers down on both ends, a kernel peer keeps
# its own.)
. "$(dirname "$0")/active_lib.sh"
. "$(dirname "$0")/http_lib.sh"
active_env
command -v nft >/dev/null || skip_or_fail "needs nft"
N=${FG_HTTP_LOSSY_N:-500}

nsexec nft add table inet fg &&
  nsexec nft add chain inet fg in '{ type filter hook input priority 0; }' &&
  nsexec nft add chain inet fg out '{ type filter hook output priority 0; }' &&
  nsexec nft add rule inet fg in tcp dport 8080 numgen random mod 10 '< 2' counter drop &&
  nsexec nft add rule inet fg out tcp sport 8080 numgen random mod 10 '< 2' counter drop ||
  fail "cannot add the nftables rules"

# nft_drops CHAIN: packets the chain's drop rule counted.
nft_drops() {
  nsexec nft -j list chain inet fg "$1" | /usr/bin/python3 -c 'import json,sys
for r in json.load(sys.stdin)["nftables"]:
    for e in r.get("rule", {}).get("expr", []):
        if "counter" in e:
            print(e["counter"]["packets"])'
}

head -c 5000 /dev/urandom >"$T_DIR/body"
nginx_start "$T_DIR/body"
tap_loadgen lg 0 --target $KADDR:8080 --http /index.html --connections "$N" --cps 200 --close fin \
  --syn-retries 4 --response-timeout-ms 30000 --time-wait-ms 2000 --duration 110 --drain 60 --json "$T_DIR/lg.json"
loadgen_wait lg 200
log "fg-loadgen: $(http_summary lg)"
in_drops=$(nft_drops in); out_drops=$(nft_drops out)
log "nftables dropped $in_drops packets to nginx and $out_drops from it"

elapsed=$(lg lg elapsed_s)
/usr/bin/python3 -c "import sys; sys.exit(0 if $elapsed < 105 else 1)" ||
  fail "fg-loadgen ran into --duration ($elapsed s): not every connection finished"
sent=$(lg lg requests_sent)
expect_eq "requests_sent (one per established connection)" "$sent" "$(lg lg established)"
expect_eq "attempted" "$(lg lg attempted)" "$N"
expect_eq "attempted == established + timed_out" "$(($(lg lg established) + $(lg lg timed_out)))" "$N"
expect_eq "requests_pending" "$(lg lg requests_pending)" 0
sum=0
for k in responses_ok responses_bad responses_unsupported response_timeouts response_resets response_closed \
  response_failed; do
  sum=$((sum + $(lg lg $k)))
done
expect_eq "outcomes summed (ok + every error)" "$sum" "$sent"
expect_eq "responses_bad" "$(lg lg responses_bad)" 0
ok=$(lg lg responses_ok)
[ $((ok * 100)) -ge $((N * 95)) ] || fail "only $ok of $N requests got their response"
[ "$in_drops" -gt 0 ] && [ "$out_drops" -gt 0 ] || fail "nftables did not drop both ways ($in_drops in, $out_drops out)"
[ "$(lg lg data_retransmits)" -gt 0 ] || fail "no data retransmission although requests were dropped"

expect_eq "draining ended" "$(lg lg drain/end)" done
log "pools at start: $(lg lg pools/start); at the end: $(lg lg pools/end)"
for k in conns table_entries timers gen_in_flight; do
  expect_eq "pools: $k at the end" "$(lg lg pools/end/$k)" 0
  expect_eq "pools: $k at the start" "$(lg lg pools/start/$k)" 0
done
expect_eq "pools: free mbufs at the end (as at the start)" "$(lg lg pools/end/mbufs_available)" \
  "$(lg lg pools/start/mbufs_available)"
expect_eq "source pairs given back (gen released)" "$(lg lg gen/released)" "$(lg lg attempted)"

nginx_stop
logged=$(grep -c '^200 5000 "GET /index.html HTTP/1.1"$' "$T_DIR/access.log")
log "nginx logged $logged 200s"
[ "$logged" -ge "$ok" ] || fail "nginx logged $logged 200s, fewer than the $ok responses fg-loadgen read"
log "PASS"
