#!/usr/bin/env bash
# Linux kernel as the client of fg-synresponder over net_tap: 1000 connect()s
# (64 in flight) all complete through SYN cookies (--syncookies always: no
# request entry is ever made); tshark shows that every SYN the kernel sent got
# a SYN-ACK acknowledging exactly that SYN (ack = its ISN + 1) with a correct
# checksum, and the JSON agrees (cookies sent = SYN-ACKs = SYNs, cookies
# accepted = connections, all of them closed again after the kernel's FIN).
. "$(dirname "$0")/lib.sh"
require_env
command -v tshark >/dev/null || skip_or_fail "needs tshark"
N=${FG_SYNRESP_N:-1000}
BIN="$FG_BUILD/apps/fg-synresponder"
[ -x "$BIN" ] || fail "no $BIN"

# The tap_server pattern of lib.sh, for fg-synresponder.
TAP="fgt${RANDOM}"
start resp "$BIN" -l ${FG_SYNRESP_LCORES:-0} $(eal_args) --vdev "net_tap0,iface=$TAP" -- \
  --ip $FADDR/24 --listen 8080,8081 --duration 120 --stats-interval 1 --json "$T_DIR/resp.json"
wait_for 20 grep -q "mac " "$T_DIR/resp.log" || fail "fg-synresponder did not come up"
ip link show "$TAP" >/dev/null 2>&1 || fail "tap $TAP did not appear"
ip link set "$TAP" netns "$T_NS" || fail "cannot move $TAP into $T_NS"
nsexec ip link set lo up
nsexec ip link set "$TAP" address 02:00:c6:12:00:01
nsexec ip addr add $KADDR/24 dev "$TAP"
nsexec ip link set "$TAP" up
wait_for 10 nsexec ping -c 1 -W 1 $FADDR || fail "fg-synresponder does not answer ping"

cap="$T_DIR/syn.pcap"
# Both directions, every segment (the check below reads the SYNs and SYN-ACKs).
ip netns exec "$T_NS" tshark -i "$TAP" -w "$cap" -B 64 -f "tcp port 8080" \
  >"$T_DIR/tshark.log" 2>&1 &
tpid=$!
T_PIDS+=($tpid)
wait_for 30 grep -q "Capturing on" "$T_DIR/tshark.log" || fail "tshark did not start"

out=$(kclient --dst $FADDR --port 8080 --count "$N" --parallel 64 --timeout 100) || fail "kclient failed"
log "kernel: $out"
[ "$(jq_py "$out" 'd["ok"]')" = "$N" ] || fail "not all $N connects succeeded: $out"
# The kernel negotiated timestamps through the cookie (TSval carries the options).
[ "$(jq_py "$out" 'd["info"]["options"] & 1')" = 1 ] || fail "timestamps not negotiated through the cookie: $out"
sleep 1
kill -INT $tpid; wait $tpid 2>/dev/null
# Let the FIN exchanges of the last connections finish, then stop.
sleep 1
kill -TERM "$PID_resp" 2>/dev/null
wait_exit "$PID_resp" 20 || fail "fg-synresponder did not stop on SIGTERM"
grep -q "syn in .*synack out" "$T_DIR/resp.log" || fail "no per-second stats line"

j="$T_DIR/resp.json"
syn=$(json_get "$j" syn_received)
synack=$(json_get "$j" synack_sent)
sent=$(json_get "$j" cookies_sent)
ok=$(json_get "$j" cookies_accepted)
req=$(json_get "$j" requests_created)
closed=$(json_get "$j" closed)
inuse=$(json_get "$j" connections_in_use)
log "json: syn $syn synack $synack cookies sent $sent accepted $ok requests $req closed $closed in use $inuse"
[ "$syn" -ge "$N" ] || fail "syn_received $syn < $N"
[ "$synack" = "$syn" ] || fail "SYN-ACKs $synack != SYNs $syn"
[ "$sent" = "$syn" ] || fail "cookies sent $sent != SYNs $syn: some SYN got no cookie"
[ "$req" = 0 ] || fail "$req request entries with --syncookies always"
[ "$ok" = "$N" ] || fail "cookies accepted $ok != $N connections"
[ "$(json_get "$j" cookies_rejected)" = 0 ] || fail "cookies rejected"
[ "$closed" = "$N" ] || fail "closed $closed != $N (held connections answer the kernel's FIN)"
[ "$inuse" = 0 ] || fail "$inuse connections still held after the kernel closed all"
[ "$(json_get "$j" dropped_malformed)" = 0 ] || fail "malformed drops"
[ "$(json_get "$j" drops_by_place/total)" = 0 ] || fail "drops: $(json_get "$j" drops_by_place)"

# tshark: every kernel SYN (raw ISN) answered by a SYN-ACK from 8080 with
# ack = ISN + 1 to the same port, checksum verified good.
tshark -r "$cap" -o tcp.relative_sequence_numbers:FALSE -o tcp.check_checksum:TRUE \
  -Y "tcp.flags.syn==1" -T fields -e tcp.srcport -e tcp.dstport -e tcp.flags.ack -e tcp.seq -e tcp.ack \
  -e tcp.checksum.status >"$T_DIR/syn.txt" 2>/dev/null
/usr/bin/python3 - "$T_DIR/syn.txt" "$N" <<'EOF' || fail "tshark check failed"
import sys
syns, answered, bad = {}, {}, 0
for line in open(sys.argv[1]):
    f = line.split("\t")
    if len(f) < 6:
        continue
    sport, dport, ack, seq, acknum, ck = int(f[0]), int(f[1]), f[2] == "1", int(f[3]), int(f[4] or 0), f[5].strip()
    if not ack and dport == 8080:
        syns[(sport, seq)] = True
    elif ack and sport == 8080:
        answered[(dport, (acknum - 1) % 2**32)] = True
        if ck != "1":
            bad += 1
missing = [k for k in syns if k not in answered]
print(f"tshark: {len(syns)} SYNs, {len(answered)} SYN-ACKs, {len(missing)} SYNs unanswered, {bad} bad checksums")
n = int(sys.argv[2])
sys.exit(0 if len(syns) >= n and not missing and bad == 0 else 1)
EOF
log "PASS: $N kernel connects through cookies, every SYN answered, all closed"
