#!/usr/bin/env bash
# The malformed-packet matrix (matrix.py): 50 classes of bad or hostile frames
# -- IP options good, bad and source-routed, bad checksums and lengths,
# fragments, oversize frames, martian / land / broadcast / multicast sources
# and destinations, frames to other MACs, bad data offsets, option lengths
# 0/1/overrunning, window scale > 14, MSS 0, SYN+FIN, SYN+RST, no flags,
# forged cookie ACKs, RST/SYN/ACK in and out of window on an established
# connection -- sent by scapy to Floodgate and, as the oracle, to the Linux
# kernel of a second namespace listening on the same port. Floodgate must
# react as the kernel does (nothing, RST, SYN-ACK, ACK) except where the table
# marks a deliberate difference, and move the counter the table names.
#
#   ns T_NS:  scapy, tshark; tap <-> Floodgate 198.18.0.2 (fg-server --syncookies
#             always --on-accept hold); veth 198.18.1.1 <-> ns T_NS-r 198.18.1.2
#             (kernel listener, tcp_syncookies=2)
#
# Then tshark must have seen, from Floodgate, exactly the replies the matrix
# recorded, each with a good checksum; a normal kernel connection to
# Floodgate still works; and fg-server ends cleanly with nothing left in use.
. "$(dirname "$0")/lib.sh"
require_env
command -v tshark >/dev/null || skip_or_fail "needs tshark"
command -v nft >/dev/null || skip_or_fail "needs nftables"
/usr/bin/python3 -c "import scapy" 2>/dev/null || skip_or_fail "needs python3-scapy"
PORT=8080
REF_NS="${T_NS}r"
ip netns add "$REF_NS" || fail "cannot create $REF_NS"
on_cleanup "ip netns del $REF_NS"
VA="fva${RANDOM}"
VB="fvb${RANDOM}"
ip link add "$VA" type veth peer name "$VB" || fail "cannot create a veth pair"
ip link set "$VA" netns "$T_NS"
ip link set "$VB" netns "$REF_NS"
nsexec ip link set "$VA" mtu 9000 up
nsexec ip addr add 198.18.1.1/24 dev "$VA"
ip netns exec "$REF_NS" ip link set lo up
ip netns exec "$REF_NS" ip link set "$VB" up # MTU 1500: the oversize frame is the kernel's to drop
ip netns exec "$REF_NS" ip addr add 198.18.1.2/24 dev "$VB"
# rp_filter off (a new namespace's default, whatever the host has): the
# matrix says where Floodgate then differs on purpose.
ip netns exec "$REF_NS" sysctl -qw net.ipv4.tcp_syncookies=2 net.ipv4.conf.all.rp_filter=0 \
  net.ipv4.conf.default.rp_filter=0 "net.ipv4.conf.$VB.rp_filter=0"
REF_MAC=$(ip netns exec "$REF_NS" cat "/sys/class/net/$VB/address")

# The kernel listener of the reference namespace: accepts and holds.
start reflisten ip netns exec "$REF_NS" /usr/bin/python3 -c '
import select, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1024); s.setblocking(False); print("listening", flush=True)
held = []
while True:
    select.select([s], [], [], 1.0)
    try:
        c, _ = s.accept(); held.append(c)
    except BlockingIOError:
        pass
' $PORT
wait_for 10 grep -q listening "$T_DIR/reflisten.log" || fail "reference listener did not start"

tap_server srv 0 --listen $PORT --syncookies always --on-accept hold --duration 600 --json "$T_DIR/srv.json"
nsexec ip link set "$TAP" mtu 9000
FG_MAC=$(nsexec ip neigh show $FADDR | awk '{print $5}')
[ -n "$FG_MAC" ] || fail "no neighbour entry for Floodgate"
nsexec ping -c 1 -W 2 198.18.1.2 >/dev/null || fail "the reference namespace does not answer ping"
# scapy's handshakes are not the kernel's: keep the kernel of the test's
# namespace from resetting them (scapy sends through packet sockets, which
# this does not touch).
nsexec nft -f - <<'EOF' || fail "nft"
table inet fgmatrix {
  chain out { type filter hook output priority 0; tcp flags rst drop; }
}
EOF

cap="$T_DIR/matrix.pcap"
ip netns exec "$T_NS" tshark -i "$TAP" -w "$cap" -B 64 -f "tcp and src host $FADDR" >"$T_DIR/tshark.log" 2>&1 &
tpid=$!
T_PIDS+=($tpid)
wait_for 30 grep -q "Capturing on" "$T_DIR/tshark.log" || fail "tshark did not start"
sleep 1 # "Capturing on" comes before the capture filter is attached

out="$T_DIR/matrix.json"
nsexec /usr/bin/python3 "$(dirname "$0")/matrix.py" --fg-iface "$TAP" --fg-ip $FADDR --fg-mac "$FG_MAC" \
  --fg-src $KADDR --fg-bcast 198.18.0.255 --telemetry-prefix "$T_NS" \
  --ref-iface "$VA" --ref-ip 198.18.1.2 --ref-mac "$REF_MAC" --ref-src 198.18.1.1 --ref-bcast 198.18.1.255 \
  --port $PORT --out "$out" ${FG_MATRIX_ONLY:+--only "$FG_MATRIX_ONLY"} > "$T_DIR/matrix.log" 2>&1
rc=$?
cat "$T_DIR/matrix.log"
[ $rc = 0 ] || fail "the matrix found differences (above)"
n=$(json_get "$out" cases)
[ "${FG_MATRIX_ONLY:-}" != "" ] || [ "$n" -ge 30 ] || fail "only $n cases"

# tshark: what Floodgate sent, per case port, and every checksum good.
sleep 1
kill -INT $tpid; wait $tpid 2>/dev/null
tshark -r "$cap" -o tcp.check_checksum:TRUE -T fields -E separator=' ' \
  -e tcp.dstport -e tcp.flags.syn -e tcp.flags.reset -e tcp.flags.ack -e tcp.flags.fin -e tcp.checksum.status \
  > "$T_DIR/tshark.txt" 2>/dev/null
/usr/bin/python3 - "$out" "$T_DIR/tshark.txt" <<'EOF' || fail "tshark disagrees with the matrix"
import json, sys
m = json.load(open(sys.argv[1]))
seen, bad = {}, 0
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) < 6:
        continue
    port, syn, rst, ack, fin, ck = int(f[0]), f[1] == "1", f[2] == "1", f[3] == "1", f[4] == "1", f[5]
    if ck != "1":
        bad += 1
    flags = ("S" if syn else "") + ("R" if rst else "") + ("A" if ack else "") + ("F" if fin else "")
    seen.setdefault(port, set()).add(flags)
wrong = []
for i, r in enumerate(m["results"]):
    port = 20000 + i
    got = ",".join(sorted(seen.get(port, set()))) or "none"
    want = r["floodgate"]
    est = r["case"].startswith("est_")
    # Cases on a connection: tshark also saw its handshake's SYN-ACK.
    if est:
        got = ",".join(sorted(seen.get(port, set()) - {"SA"})) or "none"
    if got != want and not (est and want == "none" and got == "none"):
        wrong.append("%s: tshark %s, matrix %s" % (r["case"], got, want))
print("tshark: %d frames from Floodgate on %d case ports, %d bad checksums" %
      (sum(1 for _ in open(sys.argv[2])), len(seen), bad))
for w in wrong:
    print("  " + w)
sys.exit(1 if wrong or bad else 0)
EOF

# A normal kernel connection still works.
ok=$(kclient --dst $FADDR --port $PORT --count 5 --parallel 1 --timeout 20) || fail "kclient failed"
[ "$(jq_py "$ok" 'd["ok"]')" = 5 ] || fail "a normal connection failed after the matrix: $ok"
log "kernel connects after the matrix: $ok"

stop_server srv
j="$T_DIR/srv.json"
log "fg-server: connections_in_use $(json_get "$j" connections_in_use) martian_src $(json_get "$j" martian_src)" \
  "l2_otherhost $(json_get "$j" l2_otherhost) oversize $(json_get "$j" oversize)"
log "PASS"
