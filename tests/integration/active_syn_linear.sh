#!/usr/bin/env bash
# --syn-linear-timeouts (Linux 6.5+ tcp_syn_linear_timeouts) against the
# kernel doing the same: both connect to a port whose SYNs the kernel of the
# namespace drops (nftables), with 2 SYN retries and 4 linear timeouts.
# Linux: the first 4 retransmissions keep the initial RTO (1 s), 4 more are
# allowed by count, but the whole attempt still ends when the classic backoff
# of 2 retries would (1 + 2 + 4 = 7 s, tcp_model_timeout): 6 SYNs 1 s apart,
# ETIMEDOUT at 7 s -- where the classic backoff sends 3 SYNs at 0, 1 and 3 s.
#
# Floodgate (fg-loadgen --syn-retries 2 --syn-linear-timeouts 4) must send as
# many SYNs as the kernel client of a second namespace (tcp_syn_retries=2,
# tcp_syn_linear_timeouts=4; on a kernel without that sysctl, the 6 the
# schedule above gives) and end timed_out after 5 retransmissions. nftables
# counts the SYNs that reach the kernel from each, exactly. No gap is timed
# (a loaded box delays timers): the counts tell linear (6 SYNs in 7 s) from
# classic (3).
. "$(dirname "$0")/active_lib.sh"
active_env
command -v nft >/dev/null || skip_or_fail "needs nftables"

# The kernel as the client: a second namespace behind a veth.
REF_NS="${T_NS}r"
ip netns add "$REF_NS" || fail "cannot create $REF_NS"
on_cleanup "ip netns del $REF_NS"
VA="fla${RANDOM}"; VB="flb${RANDOM}"
ip link add "$VA" type veth peer name "$VB" || fail "veth"
ip link set "$VA" netns "$T_NS"; ip link set "$VB" netns "$REF_NS"
nsexec ip addr add 198.18.1.1/24 dev "$VA"; nsexec ip link set "$VA" up
ip netns exec "$REF_NS" ip addr add 198.18.1.2/24 dev "$VB"; ip netns exec "$REF_NS" ip link set "$VB" up
ip netns exec "$REF_NS" sysctl -qw net.ipv4.tcp_syn_retries=2
kernel_linear=yes
ip netns exec "$REF_NS" sysctl -qw net.ipv4.tcp_syn_linear_timeouts=4 2>/dev/null || kernel_linear=no

# Every SYN to port 80 of this namespace is counted and dropped: nftables
# counts exactly what reached the kernel from each side (SYNs Floodgate sent
# before its tap moved here wait for ARP and arrive too).
nsexec nft -f - <<EOF || fail "nft"
table inet fglinear {
  counter from_floodgate {}
  counter from_kernel {}
  chain in {
    type filter hook input priority 0;
    tcp dport 80 tcp flags syn iifname "$VA" counter name from_kernel drop
    tcp dport 80 tcp flags syn counter name from_floodgate drop
  }
}
EOF
syns() { nsexec nft list counter inet fglinear "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

tap_loadgen lg 0 --target $KADDR:80 --connections 1 --syn-retries 2 --syn-linear-timeouts 4 --json "$T_DIR/lg.json"
start kclient ip netns exec "$REF_NS" /usr/bin/python3 -c '
import errno, socket, time
s = socket.socket(); t = time.time()
try:
    s.connect(("198.18.1.1", 80)); print("connected")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno), round(time.time() - t, 1))
'
loadgen_wait lg 40
wait_exit "$PID_kclient" 40 || fail "the kernel client did not end"
log "kernel client: $(cat "$T_DIR/kclient.log") (tcp_syn_linear_timeouts: $kernel_linear)"
log "fg-loadgen: $(lg_summary lg)"
grep -q ETIMEDOUT "$T_DIR/kclient.log" || fail "the kernel client did not time out"
expect_eq "timed_out" "$(lg lg timed_out)" 1
# 5 retransmissions fit in the 7 s (the classic backoff sends 2): a loaded
# box that delays timers by a second may fit one fewer; 3 or less is not linear.
r=$(lg lg syn_retransmits)
[ "$r" -ge 4 ] && [ "$r" -le 5 ] || fail "syn_retransmits $r, expected 5 (4 on a late timer)"
fsyn=$(syns from_floodgate)
ksyn=$(syns from_kernel)
[ "$kernel_linear" = yes ] || ksyn=6
log "SYNs that reached the kernel: from Floodgate $fsyn, from the kernel client $ksyn"
[ "$ksyn" -ge 5 ] || fail "the kernel sent $ksyn SYNs: its linear timeouts did not apply"
[ "$fsyn" = $((r + 1)) ] || fail "Floodgate sent $fsyn SYNs, its counters say $((r + 1))"
[ "$fsyn" -le "$ksyn" ] && [ "$fsyn" -ge $((ksyn - 1)) ] || fail "Floodgate sent $fsyn SYNs, the kernel $ksyn"
log "PASS"
