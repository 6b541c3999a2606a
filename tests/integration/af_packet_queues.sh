#!/usr/bin/env bash
# net_af_packet with qpairs=2: the kernel fans frames out over both sockets
# (PACKET_FANOUT), so a queue nobody polls loses them without a word (our SYN
# went out, the RST that answered it was never seen). With -l 0 (one lcore,
# one queue) the app now refuses to start, saying what to change; with
# -l 0-1 both queues are polled: 200 connections to a closed kernel port are
# all refused (every RST seen, none timed out), 200 to a listening one all
# established and accepted.
. "$(dirname "$0")/active_lib.sh"
active_env
command -v ethtool >/dev/null || skip_or_fail "needs ethtool"
N=200
VA="fga${RANDOM}"
VB="fgb${RANDOM}"
ip link add "$VA" type veth peer name "$VB" || fail "cannot create veth pair"
on_cleanup "ip link del $VA"
ip link set "$VB" netns "$T_NS"
# Unfilled TCP checksums otherwise (see ping_af_packet.sh).
ethtool -K "$VA" tx off rx off >/dev/null
nsexec ethtool -K "$VB" tx off rx off >/dev/null
ip link set "$VA" up
nsexec ip addr add $KADDR/24 dev "$VB"
nsexec ip link set "$VB" up
VDEV="net_af_packet0,iface=$VA,qpairs=2"

# One lcore for two queue pairs: refused at start, with the fix in the message.
rc=0
timeout 60 "$FG_BUILD/apps/fg-loadgen" -l 0 $(eal_args) --vdev "$VDEV" -- --ip $FADDR/24 --target $KADDR:9 \
  --connections 1 --duration 5 >"$T_DIR/one.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "-l 0 with qpairs=2: exit $rc, expected 1"
grep -q "has 2 queues and its peer spreads frames over all of them, but 1 lcore(s) poll it.*give EAL 2 lcore(s).*qpairs=1" \
  "$T_DIR/one.log" || fail "-l 0 with qpairs=2: no message saying what to change"
log "-l 0, qpairs=2: $(grep -o 'port .*' "$T_DIR/one.log" | tail -1)"

run_lg() {
  local name=$1 port=$2 rc=0
  timeout 90 "$FG_BUILD/apps/fg-loadgen" -l 0-1 $(eal_args) --vdev "$VDEV" -- --ip $FADDR/24 --target $KADDR:$port \
    --connections $N --cps 500 --close rst --syn-retries 2 --duration 40 --json "$T_DIR/$name.json" \
    >"$T_DIR/$name.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || fail "$name: exit $rc"
  log "$name: $(lg_summary "$name")"
}
run_lg closed 9
expect_eq "closed: refused" "$(lg closed refused)" $N
expect_eq "closed: timed_out" "$(lg closed timed_out)" 0
kserver_start ks --port 8080 --backlog 1024
run_lg open 8080
expect_eq "open: established" "$(lg open established)" $N
expect_eq "open: timed_out" "$(lg open timed_out)" 0
wait_until 10 kstatus_true ks "d['accepted'] >= $N" || fail "the kernel accepted $(kstatus ks "d['accepted']")"
kserver_stop ks
expect_eq "kernel accepted" "$(ks ks "d['accepted']")" $N
log "PASS"
