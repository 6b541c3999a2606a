#!/usr/bin/env bash
# Linux kernel as the client of fg-server over net_tap, with Floodgate's
# SYN-ACKs dropped at random on their way into the namespace (this kernel has
# no netem: an nftables rule on the namespace's input hook, with a counter).
#
# --syncookies never, 30% of SYN-ACKs dropped: 300 kernel connect()s (32 in
#   flight) all succeed, recovered by Floodgate's SYN-ACK retransmission timer
#   (synack_retransmits > 0) and by the kernel's SYN retransmissions answered
#   from the request (synack_dup_syn); no cookie is sent.
# --syncookies always, 10% dropped: Floodgate keeps no state, so only the
#   KERNEL's SYN retransmission recovers: every retransmitted SYN gets a fresh
#   cookie SYN-ACK, so cookies_sent > 300 connections (exactly 300 + the
#   SYN-ACKs nft dropped), and Floodgate never retransmits a SYN-ACK. (10% rather than 30%: the kernel's SYN RTO doubles
#   from 1 s, and at 30% one of 300 connects would lose 5 SYN-ACKs in a row --
#   a 31 s connect -- in about half the runs.)
. "$(dirname "$0")/lib.sh"
require_env
command -v nft >/dev/null || skip_or_fail "needs nft (nftables)"
N=${FG_LOSSY_N:-300}
PAR=32
PORT=8080

# drop_synacks PERCENT: (re)creates table inet fg dropping PERCENT% of SYN-ACKs.
drop_synacks() {
  nsexec nft delete table inet fg 2>/dev/null
  nsexec nft add table inet fg || skip_or_fail "nftables does not work in a namespace here"
  nsexec nft add chain inet fg in '{ type filter hook input priority 0; }' || fail "nft add chain"
  nsexec nft add rule inet fg in tcp flags '&' '(syn|ack)' == '(syn|ack)' numgen random mod 100 '<' "$1" counter drop ||
    fail "nft add rule"
}
nft_dropped() { nsexec nft list chain inet fg in | grep -o 'packets [0-9]*' | awk '{print $2}'; }

run_mode() {
  local mode=$1 pct=$2
  local j="$T_DIR/$mode.json"
  tap_server "srv_$mode" 0 --listen $PORT --syncookies "$mode" --on-accept close --duration 100 --json "$j"
  drop_synacks "$pct"
  local out
  out=$(kclient --dst $FADDR --port $PORT --count "$N" --parallel $PAR --timeout 50) || fail "kclient failed"
  log "$mode ($pct% SYN-ACKs dropped): $out"
  local dropped; dropped=$(nft_dropped)
  [ "$(jq_py "$out" 'd["ok"]')" = "$N" ] || fail "$mode: not all $N connects succeeded ($dropped SYN-ACKs dropped): $out"
  sleep 1
  stop_server "srv_$mode"
  local syn sent rtx dup cs ca acc
  syn=$(json_get "$j" syn_received); sent=$(json_get "$j" synack_sent)
  rtx=$(json_get "$j" synack_retransmits); dup=$(json_get "$j" synack_dup_syn)
  cs=$(json_get "$j" cookies_sent); ca=$(json_get "$j" cookies_accepted); acc=$(json_get "$j" accepted)
  log "$mode: nft dropped $dropped SYN-ACKs; fg-server syn_received $syn synack_sent $sent synack_retransmits $rtx" \
    "synack_dup_syn $dup cookies_sent $cs cookies_accepted $ca accepted $acc synack_timeouts $(json_get "$j" synack_timeouts)"
  [ "$dropped" -gt 0 ] || fail "$mode: nft dropped no SYN-ACK"
  [ "$acc" = "$N" ] || fail "$mode: accepted $acc, expected $N"
  # Every SYN-ACK Floodgate sent either reached the kernel or was dropped by nft;
  # the kernel completed $N handshakes: SYN-ACKs sent == dropped + delivered >= dropped + N.
  [ $((sent + rtx + dup)) -ge $((dropped + N)) ] ||
    fail "$mode: $sent + $rtx + $dup SYN-ACKs sent < $dropped dropped + $N delivered"
  case $mode in
    never)
      [ "$rtx" -gt 0 ] || fail "never: no SYN-ACK retransmission although $dropped were dropped"
      [ "$cs" = 0 ] || fail "never: $cs cookies sent"
      ;;
    always)
      [ "$cs" -gt "$N" ] || fail "always: cookies_sent $cs not above $N connections: the kernel's SYN retransmissions got no new cookie"
      [ "$ca" = "$N" ] || fail "always: cookies_accepted $ca, expected $N"
      [ "$rtx" = 0 ] || fail "always: $rtx SYN-ACK retransmissions without any state"
      [ "$cs" = "$syn" ] || fail "always: cookies_sent $cs != syn_received $syn (every SYN gets a cookie)"
      # Stateless: the kernel retransmits a SYN exactly when its SYN-ACK was dropped.
      [ "$syn" = $((N + dropped)) ] || fail "always: syn_received $syn != $N connects + $dropped dropped SYN-ACKs"
      ;;
  esac
  nsexec nft delete table inet fg
  nsexec ip link del "$TAP" 2>/dev/null
}

run_mode never 30
run_mode always 10
log "PASS"
