#!/usr/bin/env bash
# Every file in config/ runs as its comment says (the command line after the
# file shows it; --duration and --json are added on the command line, which
# wins over the file), exits 0 and prints its summary:
#   fg-loadgen-responder.ini  as written, 3 s
#   fg-loadgen-tap.ini        inside namespace fgdemo, the kernel listening on
#                             198.18.0.1:8080: all 10,000 connections established
#                             (with room beyond the file's 30 s on a loaded box)
#   fg-server.ini             inside namespace fgdemo: the kernel connects 200
#                             times to each of ports 80 and 443; stopped with SIGINT
#   fg-loadgen-nic.ini        a 4-queue virtio_user port in place of the PCI NIC
#                             (-a ... replaced, 4 lcores on our CPUs), fg-synresponder
#                             on net_vhost as the gateway 198.18.4.1 and both targets
. "$(dirname "$0")/lib.sh"
require_env
SRC=$(cd "$(dirname "$0")/../.." && pwd)
RUN="$T_DIR/run"
mkdir -p "$RUN" && ln -s "$FG_BUILD" "$RUN/build" && ln -s "$SRC/config" "$RUN/config"
CPUS=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
export FG_NO_HUGE=1

# cmd_of FILE: the command its comment shows (the line with "-- --config config/FILE").
cmd_of() { sed -n "s|^;[[:space:]]*\(.*-- --config config/$1\)[[:space:]]*\$|\1|p" "$SRC/config/$1" | head -1; }
for f in "$SRC"/config/*.ini; do
  n=$(basename "$f")
  [ -n "$(cmd_of "$n")" ] || fail "config/$n does not show the command that runs it"
  case $n in
    fg-loadgen-responder.ini | fg-loadgen-tap.ini | fg-server.ini | fg-loadgen-nic.ini) ;;
    *) fail "config/$n is new: add it to this test" ;;
  esac
done
# bg NAME CMD: CMD (a shell command line) in its own session, from $RUN.
bg() {
  local name=$1
  (cd "$RUN" && exec setsid bash -c "$2") >"$T_DIR/$name.log" 2>&1 &
  eval "PID_$name=$!"
  on_cleanup "kill -KILL -- -$!"
}
finish() { # NAME SECONDS: waits for it, expects exit 0
  local pid rc
  pid=$(eval echo "\$PID_$1")
  wait_exit "$pid" "$2"
  rc=$?
  [ "$rc" = 124 ] && fail "$1 did not end within $2 s"
  [ "$rc" = 0 ] || fail "$1 exited $rc"
}
fgdemo() {
  ip netns list | grep -qw fgdemo && fail "namespace fgdemo exists already"
  ip netns add fgdemo || fail "cannot create namespace fgdemo"
  on_cleanup "ip netns del fgdemo"
  ip -n fgdemo link set lo up
  ip netns exec fgdemo sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535
}
kernel_side() { # the second line of the tap comments, until the tap exists
  local t=0
  until ip -n fgdemo addr add 198.18.0.1/24 dev fgtap0 2>/dev/null; do
    sleep 0.1; t=$((t + 1)); [ $t -lt 300 ] || fail "fgtap0 never appeared in fgdemo"
  done
  ip -n fgdemo link set fgtap0 up
}
del_fgdemo() { ip netns del fgdemo; }

# ---- fg-loadgen-responder.ini ----
bg responder "$(cmd_of fg-loadgen-responder.ini) --duration 3 --json $T_DIR/responder.json"
finish responder 90
est=$(json_get "$T_DIR/responder.json" established)
[ "$est" -gt 0 ] || fail "responder: nothing established"
grep -q "^fg-loadgen: $est established in" "$T_DIR/responder.log" || fail "responder: no summary"
log "fg-loadgen-responder.ini: $est established, exit 0"

# ---- fg-loadgen-tap.ini ----
fgdemo
ip netns exec fgdemo /usr/bin/python3 "$SRC/tests/integration/kserver.py" --port 8080 --ready-file "$T_DIR/ks.ready" \
  --status "$T_DIR/ks.status" >"$T_DIR/ks.log" 2>&1 &
T_PIDS+=($!)
ks_pid=$!
wait_for 20 test -f "$T_DIR/ks.ready" || fail "kserver did not start"
# (--duration 150: the file's 30 s are plenty on a quiet box; the run ends by
# itself once its 10,000 connections are done.)
bg tap "$(cmd_of fg-loadgen-tap.ini) --duration 150 --json $T_DIR/tap.json"
kernel_side
finish tap 180
expect() { [ "$2" = "$3" ] || fail "$1: got $2, expected $3"; }
expect "tap: established" "$(json_get "$T_DIR/tap.json" established)" 10000
grep -q "^fg-loadgen: 10000 established in" "$T_DIR/tap.log" || fail "tap: no summary"
kill -TERM $ks_pid; wait $ks_pid 2>/dev/null
log "fg-loadgen-tap.ini: 10000 established, exit 0"
del_fgdemo

# ---- fg-server.ini ----
fgdemo
bg server "$(cmd_of fg-server.ini) --json $T_DIR/server.json"
kernel_side
wait_for 20 ip netns exec fgdemo ping -c 1 -W 1 198.18.0.2 || fail "fg-server does not answer ping"
for p in 80 443; do
  out=$(ip netns exec fgdemo /usr/bin/python3 "$SRC/tests/integration/kclient.py" --dst 198.18.0.2 --port $p \
    --count 200 --parallel 16 --timeout 60) || fail "kclient to $p failed"
  [ "$(jq_py "$out" 'd["ok"]')" = 200 ] || fail "server: port $p: $out"
done
kill -INT "$PID_server"
finish server 30
acc=$(json_get "$T_DIR/server.json" accepted)
[ "$acc" -ge 400 ] || fail "server: accepted $acc of 400"
grep -qE "^fg-server: [0-9]+ SYNs, $acc accepted in" "$T_DIR/server.log" || fail "server: no summary"
log "fg-server.ini: $acc accepted on 80 and 443, exit 0 after SIGINT"
del_fgdemo

# ---- fg-loadgen-nic.ini, on a virtio_user port ----
SOCK="$T_DIR/nic.sock"
bg gateway "build/apps/fg-synresponder '--lcores=(0-3)@($CPUS)' --no-pci --file-prefix=fgnicgw$T_NS \
  --log-level=lib.eal:error --vdev net_vhost0,iface=$SOCK,queues=4 -- --ip 198.18.4.1/22 \
  --ip 198.19.0.10-198.19.0.11/16 --listen 80 --max-conns 65536 --duration 120 --json $T_DIR/gateway.json"
wait_for 60 test -S "$SOCK" || fail "nic: fg-synresponder made no vhost-user socket"
nic=$(cmd_of fg-loadgen-nic.ini)
nic=${nic/ -l 0-3 / \'--lcores=(0-3)@($CPUS)\' --file-prefix=fgnic$T_NS }
nic=${nic/ -a 0000:01:00.0 / --no-pci --vdev virtio_user0,path=$SOCK,queues=4,queue_size=1024 }
log "nic: $nic"
bg nic "$nic --duration 3 --json $T_DIR/nic.json"
finish nic 180
est=$(json_get "$T_DIR/nic.json" established)
[ "$est" -gt 0 ] || fail "nic: nothing established"
expect "nic: refused" "$(json_get "$T_DIR/nic.json" refused)" 0
grep -q "4 generating lcore(s)" "$T_DIR/nic.log" || fail "nic: not 4 lcores"
grep -q "^fg-loadgen: $est established in" "$T_DIR/nic.log" || fail "nic: no summary"
kill -INT "$PID_gateway"
finish gateway 30
log "fg-loadgen-nic.ini: $est established through the gateway to both targets, exit 0"
log "PASS"
