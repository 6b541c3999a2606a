#!/usr/bin/env bash
# --pcap FILE: a pcapng capture of what the lcores receive and send, read
# back with tshark. A short fg-loadgen --responder run (40 connections, closed
# with FIN) on a ring pair: on the client's port (interface 0) tshark finds a
# SYN sent, a SYN-ACK received and the third ACK sent for every one of the
# connections established, on the responder's port (interface 1) the same
# handshakes the other way round; direction flags and timestamps are sane and
# nothing was lost. --pcap-lcores 1 captures the responder's lcore only;
# --pcap-snaplen 54 keeps 54 bytes of each frame, and
# --pcap-max-mb bounds the file, counting what it could not write.
. "$(dirname "$0")/lib.sh"
command -v tshark >/dev/null || skip_or_fail "needs tshark"
LG="$FG_BUILD/apps/fg-loadgen"
N=40
BASE=(--ip 198.18.1.0-198.18.1.255/16 --target 198.18.0.2:80 --responder --max-conns 4096 --duration 20)

run_lg() {
  local name=$1 rc=0
  shift
  FG_NO_HUGE=1 run_app "$name" 60 "$LG" -l 0-1 --no-pci --log-level=lib.eal:error -- "${BASE[@]}" \
    --json "$T_DIR/$name.json" "$@" || rc=$?
  [ "$rc" = 0 ] || fail "$name: exit status $rc"
}
ts() { tshark -r "$1" -T fields "${@:2}" 2>/dev/null; }

run_lg full --connections $N --cps 2000 --close fin --time-wait-ms 500 --pcap "$T_DIR/full.pcapng"
est=$(json_get "$T_DIR/full.json" established)
[ "$est" = $N ] || fail "full: $est of $N established"
grep -q "^fg-loadgen: pcap: .* frames written to $T_DIR/full.pcapng" "$T_DIR/full.log" || fail "no pcap summary line"
for k in not_written_busy not_written_size write_errors; do
  [ "$(json_get "$T_DIR/full.json" pcap/$k)" = 0 ] || fail "full: pcap/$k = $(json_get "$T_DIR/full.json" pcap/$k)"
done
written=$(json_get "$T_DIR/full.json" pcap/written)
total=$(ts "$T_DIR/full.pcapng" -e frame.number | wc -l)
[ "$total" = "$written" ] || fail "the report says $written frames written, tshark reads $total"

# Handshakes seen from each side: distinct client ends (address:port) per
# (interface, direction, flags, relative SEQ/ACK) -- the generator spreads
# connections over the source addresses first, so ports alone repeat. Direction: 1 in, 2 out (pcapng
# epb_flags). The third ACK is the pure ACK with SEQ 1, ACK 1.
ts "$T_DIR/full.pcapng" -Y tcp -e frame.interface_id -e frame.packet_flags_direction -e tcp.flags -e tcp.seq \
  -e tcp.ack -e tcp.srcport -e tcp.dstport -e ip.src -e ip.dst >"$T_DIR/tcp.txt"
count() { # IFACE DIR FLAGS SEQ ACK -> distinct client ends
  awk -v i="$1" -v d="$2" -v f="$3" -v s="$4" -v a="$5" '
    $1 == i && ($2 + 0) == d && $3 == f && $4 == s && (a == "-" || $5 == a) { p = ($6 == 80) ? $9 ":" $7 : $8 ":" $6; seen[p] = 1 }
    END { n = 0; for (k in seen) n++; print n }' "$T_DIR/tcp.txt"
}
# Client port 0: SYN out, SYN-ACK in, ACK out. Responder port 1: SYN in, SYN-ACK out, ACK in.
for spec in "0 2 0x0002 0 - SYN-sent" "0 1 0x0012 0 1 SYN-ACK-received" "0 2 0x0010 1 1 ACK-sent" \
            "1 1 0x0002 0 - SYN-received" "1 2 0x0012 0 1 SYN-ACK-sent" "1 1 0x0010 1 1 ACK-received"; do
  set -- $spec
  got=$(count "$1" "$2" "$3" "$4" "$5")
  [ "$got" = $N ] || fail "$6 on interface $1: $got connections, expected all $N"
  log "$6 on interface $1: $got connections"
done
# Timestamps: ordered within a second of the run, in this century.
ts "$T_DIR/full.pcapng" -e frame.time_epoch | awk -v now="$(date +%s)" '
  NR == 1 { first = $1 } { last = $1 }
  END { if (first < now - 600 || last > now + 60 || last < first) { print "bad timestamps " first " " last; exit 1 } }' ||
  fail "timestamps out of range"

# --pcap-lcores: the client generates on lcore 0, the responder answers on
# lcore 1; capturing lcore 1 only gives the responder's port alone.
run_lg one --connections 10 --cps 2000 --close rst --pcap "$T_DIR/one.pcapng" --pcap-lcores 1
ifaces=$(ts "$T_DIR/one.pcapng" -e frame.interface_id | sort -u | tr '\n' ' ')
[ "$ifaces" = "1 " ] || fail "--pcap-lcores 1: frames from interfaces '$ifaces', expected the responder's (1) only"
syns=$(ts "$T_DIR/one.pcapng" -Y "tcp.flags == 0x002" -e frame.number | wc -l)
[ "$syns" -ge 10 ] || fail "--pcap-lcores 1: $syns SYNs received by the responder, expected 10"

# Snap length.
run_lg snap --connections 10 --cps 2000 --close rst --pcap "$T_DIR/snap.pcapng" --pcap-snaplen 54
maxcap=$(ts "$T_DIR/snap.pcapng" -e frame.cap_len | sort -n | tail -1)
maxlen=$(ts "$T_DIR/snap.pcapng" -e frame.len | sort -n | tail -1)
[ "$maxcap" -le 54 ] || fail "snaplen 54: a frame kept $maxcap bytes"
[ "$maxlen" -gt 54 ] || fail "snaplen 54: no frame was longer than 54 bytes to start with ($maxlen)"

# Size bound: 0.05 MB of a run that makes far more; what did not fit is counted.
run_lg bound --cps 20000 --concurrency 500 --close rst --duration 2 --pcap "$T_DIR/bound.pcapng" --pcap-max-mb 0.05
size=$(stat -c %s "$T_DIR/bound.pcapng")
[ "$size" -le $((52429 + 4096)) ] || fail "--pcap-max-mb 0.05: file of $size bytes"
lost=$(json_get "$T_DIR/bound.json" pcap/not_written_size)
[ "$lost" -gt 0 ] || fail "--pcap-max-mb 0.05: nothing counted as not written"
tshark -r "$T_DIR/bound.pcapng" >/dev/null 2>&1 || fail "the bounded file does not read back"
log "bound: $size bytes, $lost frames not written (counted)"
log "PASS"
