#!/usr/bin/env bash
# Linux kernel as the client of fg-server over net_tap, to ports nobody
# listens on (fg-server listens on 8080 only, one lcore).
#
# 1. 20 connect()s one at a time to port 9: every one fails with
#    ECONNREFUSED, and fg-server counts 20 no_listener and 20 rst_sent (within
#    the RST rate limit's burst of 50, nothing is limited).
# 2. A burst of 400 connect()s at once to port 10, well above the burst: the
#    first ~50 (plus 1 per ms) get an RST, the rest are rate limited
#    (rst_rate_limited) and the kernel retransmits their SYNs. The namespace's
#    net.ipv4.tcp_syn_retries = 1 ends every connect within ~3 s, so kclient
#    never gives up a socket itself: each connect ends as ECONNREFUSED or
#    ETIMEDOUT, decided by the kernel. The counters must then add up exactly:
#      no_listener == rst_sent + rst_rate_limited (every SYN answered or limited)
#      ECONNREFUSED (both phases) == rst_sent (every RST refused one connect)
#    Timing is not checked, only the counters.
. "$(dirname "$0")/lib.sh"
require_env
BURST=400
nsexec sysctl -qw net.ipv4.tcp_syn_retries=1 || fail "cannot set tcp_syn_retries in the namespace"

tap_server srv 0 --listen 8080 --duration 100 --json "$T_DIR/srv.json"

out=$(kclient --dst $FADDR --port 9 --count 20 --parallel 1 --timeout 20) || fail "kclient failed"
log "one at a time: $out"
[ "$(jq_py "$out" 'd["ok"]')" = 0 ] || fail "connects to a closed port succeeded: $out"
[ "$(jq_py "$out" 'd["errors"].get("ECONNREFUSED", 0)')" = 20 ] || fail "expected 20 ECONNREFUSED: $out"
[ "$(jq_py "$out" 'len(d["errors"])')" = 1 ] || fail "errors other than ECONNREFUSED: $out"

sleep 0.2 # the RST bucket refills (1 token per ms, up to 50)
ulimit -n 4096
burst=$(kclient --dst $FADDR --port 10 --count $BURST --parallel $BURST --timeout 30) || fail "kclient failed"
log "burst: $burst"
[ "$(jq_py "$burst" 'd["ok"]')" = 0 ] || fail "connects to a closed port succeeded: $burst"
refused=$(jq_py "$burst" 'd["errors"].get("ECONNREFUSED", 0)')
timedout=$(jq_py "$burst" 'd["errors"].get("ETIMEDOUT", 0)')
[ $((refused + timedout)) = $BURST ] || fail "burst: errors other than ECONNREFUSED/ETIMEDOUT: $burst"
# kclient's own deadline must not have decided anything (30 s >> 3 s of SYN retries).
[ "$(jq_py "$burst" 'd["elapsed_s"] < 25')" = True ] || fail "burst: kclient ran into its own deadline: $burst"

stop_server srv
j="$T_DIR/srv.json"
nl=$(json_get "$j" no_listener)
rst=$(json_get "$j" rst_sent)
lim=$(json_get "$j" rst_rate_limited)
log "fg-server: no_listener $nl rst_sent $rst rst_rate_limited $lim syn_received $(json_get "$j" syn_received)" \
  "tcp_in $(json_get "$j" tcp_in); kernel: ECONNREFUSED $((20 + refused)) ETIMEDOUT $timedout"
[ "$(json_get "$j" syn_received)" = 0 ] || fail "SYNs reached a listener"
[ "$lim" -gt 0 ] || fail "a burst of $BURST SYNs to a closed port was not rate limited (rst_sent $rst)"
# Every SYN the kernel sent (first and retransmitted) was counted and either answered or limited.
[ "$nl" -ge $((20 + BURST)) ] || fail "no_listener $nl < $((20 + BURST)) SYNs sent"
[ "$nl" = $((rst + lim)) ] || fail "no_listener $nl != rst_sent $rst + rst_rate_limited $lim"
# Each RST refused exactly one kernel connect.
[ "$rst" = $((20 + refused)) ] || fail "rst_sent $rst != kernel ECONNREFUSED $((20 + refused))"
[ "$timedout" -gt 0 ] || fail "no connect of the burst timed out although $lim RSTs were rate limited"
[ "$(json_get "$j" dropped_malformed)" = 0 ] || fail "malformed drops"
log "PASS"
