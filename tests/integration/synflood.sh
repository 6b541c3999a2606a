#!/usr/bin/env bash
# SYN flood: one fg-server lcore (--syncookies auto, a SYN queue of 256) is
# flooded with spoofed SYNs (random sources in 198.18.128.0/17, random ports
# and ISNs) as fast as this machine writes them into the tap
# (fg-test-synflood: AF_PACKET, sendmmsg, no qdisc), while the kernel of the
# namespace makes 1000 ordinary connect()s to the same listener.
#
#   * at least 99% of the kernel's connects succeed (its own SYN
#     retransmissions included: a SYN lost in the flood is sent again);
#   * the flood overflowed the SYN queue, so cookies answered (cookies_sent >
#     the queue), and every SYN that reached the listener was answered or
#     counted (syn_received = requests_created + cookies_sent + counted drops);
#   * memory does not grow with the flood: fg-server's resident set after 2 s
#     of flood and at its end differ by less than 1 MiB (pools, tables and
#     mbufs are allocated up front);
#   * fg-server keeps answering ping and stops cleanly.
# Reports the flood rate, what Floodgate received and answered.
. "$(dirname "$0")/lib.sh"
require_env
FLOOD=$FG_BUILD/tests/integration/fg-test-synflood
[ -x "$FLOOD" ] || fail "fg-test-synflood not built"
SECS=10
N=1000

tap_server srv 0 --listen 8080 --syncookies auto --syn-backlog 256 --max-conns 65536 --duration 120 \
  --json "$T_DIR/srv.json"
FG_MAC=$(nsexec ip neigh show $FADDR | awk '{print $5}')
[ -n "$FG_MAC" ] || fail "no neighbour entry for Floodgate"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID_srv/status"; }

start flood ip netns exec "$T_NS" "$FLOOD" "$TAP" "$FG_MAC" $FADDR 8080 198.18.128.0/17 $SECS
sleep 2
rss_early=$(rss)
ulimit -n 4096
out=$(kclient --dst $FADDR --port 8080 --count $N --parallel 50 --timeout 90) || fail "kclient failed"
wait_exit "$PID_flood" $((SECS + 30)) || fail "the flooder did not stop"
rss_late=$(rss)
log "flood: $(cat "$T_DIR/flood.log")"
log "kernel connects during the flood: $out"
okc=$(jq_py "$out" 'd["ok"]')
[ $((okc * 100)) -ge $((N * 99)) ] || fail "only $okc of $N kernel connects succeeded during the flood"
log "fg-server RSS: ${rss_early} KiB after 2 s of flood, ${rss_late} KiB at its end"
[ $((rss_late - rss_early)) -lt 1024 ] || fail "fg-server's memory grew by $((rss_late - rss_early)) KiB with the flood"
nsexec ping -c 1 -W 2 $FADDR >/dev/null || fail "fg-server does not answer ping after the flood"

stop_server srv
j="$T_DIR/srv.json"
syn=$(json_get "$j" syn_received)
req=$(json_get "$j" requests_created)
cookies=$(json_get "$j" cookies_sent)
sent=$(json_get "$j" synack_sent)
drops=$(( $(json_get "$j" syn_accept_queue_full) + $(json_get "$j" syn_queue_overflows) +
          $(json_get "$j" pool_exhausted) + $(json_get "$j" table_full) ))
log "fg-server: rx_packets $(json_get "$j" rx_packets) syn_received $syn requests_created $req cookies_sent $cookies" \
  "synack_sent $sent synack_dup_syn $(json_get "$j" synack_dup_syn) drops $drops tx_dropped $(json_get "$j" tx_dropped)"
[ "$cookies" -gt 256 ] || fail "the flood did not overflow the SYN queue (cookies_sent $cookies)"
# Every SYN that reached the listener became a request, got a cookie, or was
# counted where it was refused.
[ "$syn" = $((req + cookies + drops)) ] ||
  fail "SYNs unaccounted for: syn_received $syn != requests $req + cookies $cookies + refused $drops"
log "PASS"
