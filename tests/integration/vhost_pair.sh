#!/usr/bin/env bash
# A real virtio PMD pair, two processes: fg-loadgen on virtio_user, our
# server on net_vhost, over a vhost-user socket -- the TCP checksum offload
# and multi-queue paths that ring, tap and af_packet ports never take.
#   1 queue:  fg-synresponder (SYN cookies always) and fg-loadgen, one lcore each
#   2 queues: fg-server (accept ring, application thread) and fg-loadgen, two
#             lcores each (software steering between them)
# Each: N connections, every one established on the client and accepted by
# the server, virtio_user transmitting with TCP checksum offload, both
# processes exit 0 with their summaries, no "Cannot close started device" at
# teardown, nothing malformed.
. "$(dirname "$0")/lib.sh"
N=${FG_VHOST_N:-5000}
CPUS=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)

# lcores LIST-OF-IDS: EAL lcores floating over every CPU we have (2 processes
# x 2 polling lcores on a 2-CPU machine).
lcores() { echo "--lcores=($1)@($CPUS)"; }
eal() { echo "--no-huge --no-shconf --no-pci --file-prefix=$1$T_NS --log-level=lib.eal:error"; }

run_case() {
  local name=$1 q=$2 lc=$3 server=$4
  shift 4
  local sock="$T_DIR/$name.sock"
  local srv_args=(--ip 198.18.0.2/16 --listen 80 --max-conns 65536 --duration 60 --json "$T_DIR/${name}_srv.json")
  [ "$server" = fg-server ] && srv_args+=(--on-accept rst)
  start "${name}_srv" "$FG_BUILD/apps/$server" $(lcores "$lc") $(eal s) --vdev "net_vhost0,iface=$sock,queues=$q" -- \
    "${srv_args[@]}"
  wait_for 30 test -S "$sock" || fail "$name: $server made no vhost-user socket"
  start "${name}_lg" "$FG_BUILD/apps/fg-loadgen" $(lcores "$lc") $(eal c) \
    --vdev "virtio_user0,path=$sock,queues=$q,queue_size=1024" -- --ip 198.18.1.0-198.18.1.255/16 \
    --target 198.18.0.2:80 --connections $N --cps 10000 --close rst --max-conns 65536 --duration 60 \
    --json "$T_DIR/${name}_lg.json"
  local pid rc
  pid=$(eval echo "\$PID_${name}_lg")
  wait_exit "$pid" 90
  rc=$?
  [ "$rc" = 0 ] || fail "$name: fg-loadgen exit $rc"
  local srv_pid
  srv_pid=$(eval echo "\$PID_${name}_srv")
  kill -INT "$srv_pid"
  wait_exit "$srv_pid" 30
  rc=$?
  [ "$rc" = 0 ] || fail "$name: $server exit $rc after SIGINT"
  local lg="$T_DIR/${name}_lg.json" sj="$T_DIR/${name}_srv.json"
  expect_eq "$name: established" "$(json_get "$lg" established)" $N
  expect_eq "$name: refused+timed out" $(( $(json_get "$lg" refused) + $(json_get "$lg" timed_out) )) 0
  local acc
  if [ "$server" = fg-server ]; then acc=$(json_get "$sj" accepted); else acc=$(json_get "$sj" cookies_accepted); fi
  [ "$acc" -ge $N ] || fail "$name: $server accepted $acc of $N"
  for j in "$lg" "$sj"; do
    expect_eq "$name: malformed drops in $(basename "$j")" "$(json_get "$j" dropped_malformed)" 0
  done
  grep -q "stack client: port 0 (net_virtio_user.* $q lcore(s).*tcp=1" "$T_DIR/${name}_lg.log" ||
    fail "$name: virtio_user without $q queue(s) or TCP checksum offload"
  grep -q "stack [a-z]*: port 0 (net_vhost.* $q lcore(s)" "$T_DIR/${name}_srv.log" || fail "$name: net_vhost without $q queue(s)"
  grep -q "^fg-loadgen: $N established" "$T_DIR/${name}_lg.log" || fail "$name: no fg-loadgen summary"
  grep -qE "^$server: [0-9]+ SYN" "$T_DIR/${name}_srv.log" || fail "$name: no $server summary"
  if grep -q "Cannot close started device" "$T_DIR/${name}_lg.log" "$T_DIR/${name}_srv.log"; then
    fail "$name: a started port was closed at teardown"
  fi
  log "$name: $N/$N established, $server accepted $acc; $(grep -o 'tx cksum offload.*' "$T_DIR/${name}_lg.log" | head -1) on virtio_user"
}
expect_eq() { [ "$2" = "$3" ] || fail "$1: got $2, expected $3"; }

run_case one_queue 1 0 fg-synresponder
run_case two_queues 2 0-1 fg-server
log "PASS"
