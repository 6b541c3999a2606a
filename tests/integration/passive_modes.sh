#!/usr/bin/env bash
# Linux kernel as the client of fg-server over net_tap: 10,000 connect()s
# succeed in each SYN-cookie mode (never, always, auto with a SYN queue of 8,
# with 2 lcores so segments are steered between them); every SYN-ACK Floodgate
# sent decodes in tshark with a correct checksum.
. "$(dirname "$0")/lib.sh"
require_env
command -v tshark >/dev/null || skip_or_fail "needs tshark"
N=${FG_PASSIVE_N:-10000}

run_mode() {
  local mode=$1 synq=$2 par=$3
  tap_server "srv_$mode" 0-1 --listen 8080 --syncookies "$mode" --syn-backlog "$synq" \
    --on-accept close --duration 120 --json "$T_DIR/$mode.json"
  local cap="$T_DIR/$mode.pcap"
  # (ip netns exec execs tshark: $! is tshark's pid.)
  ip netns exec "$T_NS" tshark -i "$TAP" -w "$cap" -B 64 -f "tcp src port 8080 and (tcp[13] & 0x12) == 0x12" >"$T_DIR/tshark_$mode.log" 2>&1 &
  local tpid=$!
  T_PIDS+=($tpid)
  wait_for 30 grep -q "Capturing on" "$T_DIR/tshark_$mode.log" || fail "tshark did not start"
  sleep 1 # tshark says "Capturing on" before its filter is attached
  local out
  out=$(kclient --dst $FADDR --port 8080 --count "$N" --parallel "$par" --timeout 100) || fail "kclient failed"
  log "$mode: $out"
  [ "$(jq_py "$out" 'd["ok"]')" = "$N" ] || fail "$mode: not all $N connects succeeded: $out"
  sleep 1
  kill -INT $tpid; wait $tpid 2>/dev/null
  stop_server "srv_$mode"
  local j="$T_DIR/$mode.json"
  local acc; acc=$(json_get "$j" accepted)
  # At least N. More is possible with two lcores on a tap: Linux may send a
  # flow's third ACK and its FIN on different tap queues; if the ACK reaches
  # its owner lcore (through the redirect ring) after the connection already
  # closed, it is a valid cookie ACK again and opens a connection the client
  # no longer has -- exactly as a delayed ACK does with Linux's cookies. The
  # ghost is reset by the client at once.
  [ "$acc" -ge "$N" ] || fail "$mode: accepted $acc < $N"
  local sent ok; sent=$(json_get "$j" cookies_sent); ok=$(json_get "$j" cookies_accepted)
  case $mode in
    never)  [ "$sent" = 0 ] || fail "never: $sent cookies sent" ;;
    always) [ "$sent" -ge "$N" ] && [ "$ok" -ge "$N" ] || fail "always: cookies sent $sent accepted $ok" ;;
    auto)   [ "$sent" -gt 0 ] && [ "$ok" -gt 0 ] || fail "auto with SYN queue $synq: cookies sent $sent accepted $ok" ;;
  esac
  [ "$(json_get "$j" dropped_malformed)" = 0 ] || fail "$mode: malformed drops"
  # tshark: every SYN-ACK with a verified, correct checksum.
  local total bad
  total=$(tshark -r "$cap" -o tcp.check_checksum:TRUE -Y "tcp.flags.syn==1 && tcp.flags.ack==1" -T fields -e tcp.checksum.status 2>/dev/null | wc -l)
  bad=$(tshark -r "$cap" -o tcp.check_checksum:TRUE -Y "tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.checksum.status != 1" -T fields -e frame.number 2>/dev/null | wc -l)
  [ "$total" -ge "$N" ] || fail "$mode: tshark saw $total SYN-ACKs, expected >= $N"
  [ "$bad" = 0 ] || fail "$mode: $bad SYN-ACKs with a bad or unverified checksum"
  log "$mode: $N connects, accepted $acc, cookies sent $sent accepted $ok, $total SYN-ACKs all good in tshark"
  nsexec ip link del "$TAP" 2>/dev/null
}

run_mode never 4096 64
run_mode always 4096 64
run_mode auto 8 256
log "PASS"
