#!/usr/bin/env bash
# Linux kernel as the client of fg-server over net_tap: what the handshake
# negotiated, as the kernel itself reports it, and the passive close.
#
# For MTU 1500 and 1400: the kernel holds 50 connections open (kclient --hold,
# fg-server --on-accept hold) and `ss -tin` in the namespace shows for every
# one of them window scaling (`wscale:<ours>,<kernel's>` with ours = 7),
# timestamps, SACK and `mss:<MTU-40-12>` (Floodgate advertises MSS = MTU - 40;
# the kernel's send MSS takes off the 12 bytes of the timestamp option).
# tshark checks the same options in the SYN-ACKs Floodgate sent. Then the
# kernel closes all 50 (kclient exits): Floodgate gets their FINs, the
# application closes on EOF, the kernel ends in TIME-WAIT (it got our FIN) and
# fg-server's JSON shows fin_received == 50, 50 orderly closes and no
# connection left in use (LAST-ACK ended by the kernel's ACK).
. "$(dirname "$0")/lib.sh"
require_env
command -v ss >/dev/null || skip_or_fail "needs ss (iproute2)"
command -v tshark >/dev/null || skip_or_fail "needs tshark"
N=50

# ss_lines: ss -tin of the established connections to Floodgate's $PORT.
# (-e too: iproute2 6.1's ss prints the "ts" and "sack" flags only with it.)
ss_lines() { nsexec ss -tineH state established "( dport = :$PORT )" 2>/dev/null; }

# run_mtu MTU PORT (a port per run: the previous run's TIME-WAITs stay in the namespace).
run_mtu() {
  local mtu=$1
  PORT=$2
  local mss=$((mtu - 40))          # what Floodgate advertises
  local kmss=$((mss - 12))         # the kernel's send MSS with timestamps on
  local j="$T_DIR/srv_$mtu.json"
  tap_server "srv_$mtu" 0 --listen $PORT --on-accept hold --mtu "$mtu" --duration 100 --json "$j"
  # net_tap gives the kernel's side Floodgate's MTU; put it back to 1500 so the
  # kernel's own MTU cannot be what limits its MSS: only what Floodgate advertised.
  log "mtu $mtu: kernel side $(nsexec ip -o link show "$TAP" | grep -o 'mtu [0-9]*') from net_tap, set to 1500"
  nsexec ip link set "$TAP" mtu 1500 || fail "cannot set the tap's MTU"

  local cap="$T_DIR/synack_$mtu.pcap"
  ip netns exec "$T_NS" tshark -i "$TAP" -w "$cap" -f "tcp src port $PORT and (tcp[13] & 0x12) == 0x12" \
    >"$T_DIR/tshark_$mtu.log" 2>&1 &
  local tpid=$!
  T_PIDS+=($tpid)
  wait_for 30 grep -q "Capturing on" "$T_DIR/tshark_$mtu.log" || fail "tshark did not start"
  sleep 1 # "Capturing on" comes before the capture filter is attached: frames sent at once are missed

  # kclient holds its connections until its stdin closes: a FIFO we keep open.
  local fifo="$T_DIR/hold_$mtu.fifo" ready="$T_DIR/ready_$mtu" kout="$T_DIR/kclient_$mtu.out"
  mkfifo "$fifo"
  exec 7<>"$fifo"
  # (ip netns exec execs python: $! is kclient's pid; 7>&-: it must not hold a writer itself.)
  ip netns exec "$T_NS" /usr/bin/python3 "$(dirname "$0")/kclient.py" --dst $FADDR --port $PORT --count $N \
    --parallel $N --timeout 30 --hold --ready-file "$ready" <"$fifo" 7>&- >"$kout" 2>"$T_DIR/kclient_$mtu.log" &
  local kpid=$!
  T_PIDS+=($kpid)
  wait_for 40 test -s "$ready" || fail "mtu $mtu: kclient did not get its connections up: $(cat "$kout")"
  local out; out=$(head -n 1 "$kout")
  log "mtu $mtu: kclient $out"
  [ "$(jq_py "$out" 'd["ok"]')" = $N ] || fail "mtu $mtu: not all $N connects succeeded: $out"
  # TCP_INFO of the first connection: snd_wscale is ours (7), snd_mss the kernel's send MSS;
  # options bits TCPI_OPT_TIMESTAMPS 1, SACK 2, WSCALE 4.
  [ "$(jq_py "$out" 'd["info"]["snd_wscale"]')" = 7 ] || fail "mtu $mtu: kernel's snd_wscale is not 7: $out"
  [ "$(jq_py "$out" 'd["info"]["snd_mss"]')" = $kmss ] || fail "mtu $mtu: kernel's snd_mss is not $kmss: $out"
  [ "$(jq_py "$out" 'd["info"]["options"] & 7')" = 7 ] || fail "mtu $mtu: TS/SACK/WSCALE not all on: $out"

  # ss -tin: every one of the 50 connections.
  local lines; lines=$(ss_lines)
  echo "$lines" >"$T_DIR/ss_$mtu.txt"
  local total; total=$(echo "$lines" | grep -c "wscale:")
  [ "$total" = $N ] || fail "mtu $mtu: ss shows $total established connections with TCP info, expected $N"
  local kws; kws=$(echo "$lines" | grep -o "wscale:7,[0-9]*" | head -n 1 | cut -d, -f2)
  [ -n "$kws" ] || fail "mtu $mtu: no wscale:7,N in ss: $(echo "$lines" | head -n 1)"
  [ "$kws" = "$(jq_py "$out" 'd["info"]["rcv_wscale"]')" ] || fail "mtu $mtu: ss and TCP_INFO disagree on the kernel's wscale"
  local good; good=$(echo "$lines" | grep -E " ts " | grep -E " sack " | grep -E " wscale:7,$kws " |
    grep -E " pmtu:1500 " | grep -cE " mss:$kmss ")
  [ "$good" = $N ] || fail "mtu $mtu: only $good of $N connections show ts sack wscale:7,$kws mss:$kmss pmtu:1500: $(echo "$lines" | head -n 2)"
  log "mtu $mtu: ss shows $N connections with ts sack wscale:7,$kws mss:$kmss"

  # What Floodgate put in its SYN-ACKs (decoded by tshark): MSS = MTU-40, WS shift 7, and the options
  # in Linux's layout: MSS(2), SACK_PERM(4), TS(8), NOP(1), WS(3).
  kill -INT $tpid; wait $tpid 2>/dev/null
  local opts
  opts=$(tshark -r "$cap" -Y "tcp.flags.syn==1 && tcp.flags.ack==1" -T fields -E separator=' ' \
    -e tcp.options.mss_val -e tcp.options.wscale.shift -e tcp.option_kind 2>/dev/null | sort | uniq -c)
  log "mtu $mtu: SYN-ACKs (count, MSS, WS shift, option kinds): $(echo $opts)"
  echo "$opts" | grep -qxE " *$N $mss 7 2,4,8,1,3" ||
    fail "mtu $mtu: expected $N SYN-ACKs with MSS $mss, WS 7, options 2,4,8,1,3; got: $opts"

  # The kernel closes: FINs to Floodgate, the app closes on EOF, our FIN comes
  # back and the kernel's sockets end in TIME-WAIT.
  exec 7>&-
  wait_exit $kpid 20 || fail "mtu $mtu: kclient did not exit after its stdin closed"
  tw() { [ "$(nsexec ss -tanH state time-wait "( dport = :$PORT )" | wc -l)" = $N ]; }
  wait_for 20 tw || fail "mtu $mtu: kernel has $(nsexec ss -tanH state time-wait | wc -l) of $N in TIME-WAIT; still: $(nsexec ss -tanH | head -n 5)"
  # The kernel's last ACK (ending our LAST-ACK) left as it entered TIME-WAIT: give the lcore a moment.
  sleep 1
  stop_server "srv_$mtu"
  local fin closed inuse peer
  fin=$(json_get "$j" fin_received)
  closed=$(json_get "$j" closed)
  inuse=$(json_get "$j" connections_in_use)
  peer=$(json_get "$j" app_threads/peer_closed)
  log "mtu $mtu: fg-server fin_received $fin closed $closed peer_closed events $peer connections_in_use $inuse" \
    "fin_sent $(json_get "$j" fin_sent) fin_retransmits $(json_get "$j" fin_retransmits) accepted $(json_get "$j" accepted)"
  [ "$(json_get "$j" accepted)" = $N ] || fail "mtu $mtu: accepted $(json_get "$j" accepted), expected $N"
  [ "$fin" = $N ] || fail "mtu $mtu: fin_received $fin, expected $N"
  [ "$peer" = $N ] || fail "mtu $mtu: the application saw $peer peer_closed events, expected $N"
  [ "$(json_get "$j" fin_sent)" = $N ] || fail "mtu $mtu: fin_sent $(json_get "$j" fin_sent), expected $N"
  [ "$closed" = $N ] || fail "mtu $mtu: closed $closed, expected $N (LAST-ACK ended by the kernel's ACK)"
  # Nothing was in use before the kernel connected: all 50 are back.
  [ "$inuse" = 0 ] || fail "mtu $mtu: connections_in_use $inuse after every connection closed, expected 0"
  [ "$(json_get "$j" rst_sent)" = 0 ] || fail "mtu $mtu: fg-server sent $(json_get "$j" rst_sent) RSTs"
  nsexec ip link del "$TAP" 2>/dev/null
}

run_mtu 1500 8080
run_mtu 1400 8081
log "PASS"
