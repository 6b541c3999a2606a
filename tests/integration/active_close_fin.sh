#!/usr/bin/env bash
# fg-loadgen closes with FIN (--close fin) against the kernel: the kernel sees
# an orderly close on every connection (recv() returns 0, never ECONNRESET),
# closes its side, and Floodgate goes FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT for
# each of them and holds TIME-WAIT for --time-wait-ms:
#   expire  --time-wait-ms 3000, fg-loadgen alive for ~16 s: entered == N and
#           expired == N, nothing left in use
#   held    --time-wait-ms 30000, fg-loadgen alive for ~8 s: entered == N,
#           expired == 0, all N still held when it stops
#
# fg-loadgen stops once its generator is done (every connection tried and no
# longer in flight: a FIN sent counts as done), whatever --duration says, so
# TIME-WAIT entries alone do not keep it alive. To run it long enough without
# racing a timer, every second connection goes to a port whose SYNs nftables
# drops: the generator is done only when those time out, after --syn-retries
# (3: 1+2+4+8 = 15 s; 2: 7 s). Those are counted timed_out; the time-wait
# counters only ever see the N real ones.
. "$(dirname "$0")/active_lib.sh"
active_env
command -v nft >/dev/null || skip_or_fail "needs nft"
N=${FG_ACTIVE_N:-1000}

nsexec nft add table inet fg &&
  nsexec nft add chain inet fg in '{ type filter hook input priority 0; }' &&
  nsexec nft add rule inet fg in tcp dport 8081 drop || fail "cannot add the nftables rule"

# run_case NAME TIME_WAIT_MS SYN_RETRIES EXPECT_EXPIRED
run_case() {
  local name=$1 tw=$2 retries=$3 expired=$4
  kserver_start "ks_$name" --port 8080
  tap_loadgen "$name" 0 --target $KADDR:8080 --target $KADDR:8081 --syn-retries "$retries" \
    --connections $((2 * N)) --cps 2000 --close fin --time-wait-ms "$tw" --duration 50 --json "$T_DIR/$name.json"
  loadgen_wait "$name" 70
  log "$name: fg-loadgen: $(lg_summary "$name")"
  wait_until 20 kstatus_true "ks_$name" "d['distinct'] >= $N and d['ended_first']['fin'] >= $N" ||
    log "$name: the kernel did not see $N accepted and ended within 20 s of fg-loadgen's exit"
  kserver_stop "ks_$name"
  log "$name: kernel: $(cat "$T_DIR/ks_$name.json")"

  expect_eq "$name: attempted" "$(lg "$name" attempted)" $((2 * N))
  expect_eq "$name: established" "$(lg "$name" established)" "$N"
  expect_eq "$name: timed_out (the linger port)" "$(lg "$name" timed_out)" "$N"
  local k
  for k in refused unreachable no_port gen/closed_by_rst rst_sent fin_timeouts fin_wait_2_timeouts; do
    expect_eq "$name: $k" "$(lg "$name" $k)" 0
  done
  expect_eq "$name: fin_sent" "$(lg "$name" fin_sent)" "$N"
  expect_eq "$name: fin_received" "$(lg "$name" fin_received)" "$N"
  expect_eq "$name: time_wait_entered" "$(lg "$name" time_wait_entered)" "$N"
  expect_eq "$name: time_wait_expired" "$(lg "$name" time_wait_expired)" "$expired"
  expect_eq "$name: connections still in use (in TIME-WAIT)" "$(lg "$name" connections_in_use)" $((N - expired))

  expect_eq "$name: 4-tuples the kernel accepted" "$(ks "ks_$name" 'd["distinct"]')" "$N"
  expect_eq "$name: connections the kernel accepted" "$(ks "ks_$name" 'd["accepted"]')" "$N"
  expect_eq "$name: orderly closes (recv 0) the kernel saw" "$(ks "ks_$name" 'd["ended"]["fin"]')" "$N"
  expect_eq "$name: resets or errors the kernel saw" \
    "$(ks "ks_$name" 'd["ended"]["rst"] + sum(d["ended"]["other"].values())')" 0
}

run_case expire 3000 3 "$N"
run_case held 30000 2 0
log "PASS"
