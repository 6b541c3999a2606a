#!/usr/bin/env bash
# fg-synresponder --idle-timeout: connections held on the lcore that receive
# nothing for that long are closed with FIN. 20 kernel connections sit idle;
# each must read EOF (our FIN) no sooner than the timeout after its handshake
# (it can only come later on a loaded box, never earlier), all of them within
# a generous bound; fg-synresponder counts 20 idle_timeouts. A 21st
# connection that keeps sending stays open past the timeout.
. "$(dirname "$0")/lib.sh"
require_env
BIN="$FG_BUILD/apps/fg-synresponder"
[ -x "$BIN" ] || fail "no $BIN"
IDLE=${FG_IDLE:-2}

TAP="fgt${RANDOM}"
start resp "$BIN" -l 0 $(eal_args) --vdev "net_tap0,iface=$TAP" -- \
  --ip $FADDR/24 --listen 8080 --idle-timeout $IDLE --duration 120 --stats-interval 1 --json "$T_DIR/resp.json"
wait_for 20 grep -q "mac " "$T_DIR/resp.log" || fail "fg-synresponder did not come up"
ip link show "$TAP" >/dev/null 2>&1 || fail "tap $TAP did not appear"
ip link set "$TAP" netns "$T_NS" || fail "cannot move $TAP into $T_NS"
nsexec ip link set lo up
nsexec ip link set "$TAP" address 02:00:c6:12:00:01
nsexec ip addr add $KADDR/24 dev "$TAP"
nsexec ip link set "$TAP" up
wait_for 10 nsexec ping -c 1 -W 1 $FADDR || fail "fg-synresponder does not answer ping"

out=$(nsexec /usr/bin/python3 - $FADDR <<'EOF'
import json, select, socket, sys, time
N, dst = 20, sys.argv[1]
idle = []
for _ in range(N):
    s = socket.create_connection((dst, 8080), timeout=10)
    idle.append((s, time.monotonic()))
busy = socket.create_connection((dst, 8080), timeout=10)
busy_start = time.monotonic()
eof = {}
deadline = time.monotonic() + 30
while len(eof) < N and time.monotonic() < deadline:
    busy.send(b"x")  # keeps the busy one from ever going idle
    r, _, _ = select.select([s for s, _ in idle if s.fileno() not in eof], [], [], 0.2)
    for s in r:
        if s.recv(1) == b"":
            eof[s.fileno()] = time.monotonic() - dict(idle)[s]
busy_alive = True
busy.setblocking(False)
try:
    busy_alive = busy.recv(1) != b""
except BlockingIOError:
    pass
print(json.dumps({"eof": len(eof), "min_s": round(min(eof.values()), 2) if eof else None,
                  "max_s": round(max(eof.values()), 2) if eof else None,
                  "busy_open_s": round(time.monotonic() - busy_start, 2), "busy_alive": busy_alive}))
EOF
) || fail "the kernel client failed"
log "kernel: $out"
[ "$(jq_py "$out" 'd["eof"]')" = 20 ] || fail "not every idle connection was closed: $out"
[ "$(jq_py "$out" 'd["min_s"] >= '$IDLE' - 0.05')" = True ] || fail "closed before --idle-timeout $IDLE: $out"
[ "$(jq_py "$out" 'd["busy_alive"] and d["busy_open_s"] > '$IDLE)" = True ] ||
  fail "the busy connection did not stay open past the timeout: $out"
kill -TERM "$PID_resp"; wait_exit "$PID_resp" 20 || fail "fg-synresponder did not stop"
log "fg-synresponder: idle_timeouts $(json_get "$T_DIR/resp.json" idle_timeouts)"
[ "$(json_get "$T_DIR/resp.json" idle_timeouts)" = 20 ] || fail "idle_timeouts != 20"
log "PASS"
