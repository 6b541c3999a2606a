#!/usr/bin/env bash
# Signals on every path: SIGTERM at any moment of start-up or run makes
# fg-loadgen --responder stop in order -- exit 0, its summary printed, no
# crash -- wherever it lands (0.05 s to 3 s after start). During draining a
# second SIGINT ends it: connections kept in SYN-SENT (a static ARP entry to a
# host that never answers; the draining line counts them as syn_sent) would
# hold draining for --drain 60 s; the last line says the signal ended it.
. "$(dirname "$0")/lib.sh"
LG="$FG_BUILD/apps/fg-loadgen"
EAL=(-l 0-1 --no-pci --log-level=lib.eal:error)
ARGS=(--ip 198.18.1.0-198.18.1.255/16 --target 198.18.0.2:80 --responder --cps 20000 --concurrency 500
      --max-conns 65536 --duration 60)
export FG_NO_HUGE=1

for delay in 0.05 0.3 1 3; do
  FG_NO_HUGE=1 "$LG" "${EAL[@]}" -- "${ARGS[@]}" >"$T_DIR/term_$delay.log" 2>&1 &
  pid=$!
  T_PIDS+=($pid)
  sleep "$delay"
  kill -TERM $pid
  wait_exit $pid 60
  rc=$?
  [ "$rc" = 0 ] || fail "SIGTERM after $delay s: exit $rc"
  grep -q "^fg-loadgen: [0-9]* established in" "$T_DIR/term_$delay.log" || fail "SIGTERM after $delay s: no summary"
  grep -qiE "segmentation|core dumped|terminate called" "$T_DIR/term_$delay.log" && fail "SIGTERM after $delay s: crashed"
  log "SIGTERM after $delay s: exit 0, $(grep -o '^fg-loadgen: [0-9]* established in [0-9.]* s' "$T_DIR/term_$delay.log")"
done

# Draining held up by SYN-SENT connections; the second SIGINT ends it.
"$LG" "${EAL[@]}" -- --ip 198.18.1.0-198.18.1.255/16 --target 198.18.0.99:80 --arp 198.18.0.99=02:00:00:00:00:99 \
  --responder --responder-ip 198.18.0.2/16 --cps 1000 --concurrency 50 --max-conns 65536 --duration 60 --drain 60 \
  >"$T_DIR/drain.log" 2>&1 &
pid=$!
T_PIDS+=($pid)
wait_for 60 grep -q '^\[fg-loadgen ' "$T_DIR/drain.log" || fail "drain: no stats line"
kill -INT $pid
wait_for 30 grep -q '^\[fg-loadgen draining.* [1-9][0-9]* connection(s) still closing (syn_sent [1-9][0-9]*)' "$T_DIR/drain.log" ||
  fail "drain: no draining line with connections still closing in SYN-SENT"
kill -0 $pid 2>/dev/null || fail "drain: ended at once although connections were still in SYN-SENT"
kill -INT $pid
wait_exit $pid 20
rc=$?
[ "$rc" = 124 ] && fail "drain: the second SIGINT did not end draining (--drain 60)"
[ "$rc" = 0 ] || fail "drain: exit $rc"
grep -q "^fg-loadgen: 0 established in" "$T_DIR/drain.log" || fail "drain: no summary"
grep '^\[fg-loadgen draining' "$T_DIR/drain.log" | tail -1 |
  grep -q ': ended by a second signal, [1-9][0-9]* connection(s) dropped at exit$' ||
  fail "drain: the last draining line does not say the second signal ended it"
log "drain: $(grep '^\[fg-loadgen draining' "$T_DIR/drain.log" | tail -1); ended by the second SIGINT, exit 0"
log "PASS"
