#!/usr/bin/env bash
# The end-to-end benchmarks run their two sides on a ring pair and on a real
# virtio PMD pair (virtio_user <-> net_vhost in the process): each, briefly,
# exits 0 with its result line, on both kinds of ports. What is checked is
# that they work (connections made, SYN-ACKs counted, memory accounted), not
# how fast (no timed assertions: bench/ measures, tests check).
. "$(dirname "$0")/lib.sh"
B="$FG_BUILD/bench/e2e"
EAL=(-l 0-1 --no-pci --log-level=lib.eal:error)
export FG_NO_HUGE=1

for ports in ring vhost; do
  rc=0
  run_app "hs_$ports" 90 "$B/bench-e2e-handshake" "${EAL[@]}" -- --only fg --seconds 1 --ports $ports \
    --json "$T_DIR/hs_$ports.json" || rc=$?
  [ "$rc" = 0 ] || fail "handshake on $ports: exit $rc"
  est=$(json_get "$T_DIR/hs_$ports.json" fg_established_per_s)
  /usr/bin/python3 -c "import sys; sys.exit(0 if float('$est') > 0 else 1)" || fail "handshake on $ports: nothing established"
  [ "$(json_get "$T_DIR/hs_$ports.json" fg_timed_out)" = 0 ] || fail "handshake on $ports: timeouts"

  rc=0
  run_app "sf_$ports" 90 "$B/bench-e2e-synflood" "${EAL[@]}" -- --seconds 1 --ports $ports --no-kernel \
    --json "$T_DIR/sf_$ports.json" || rc=$?
  [ "$rc" = 0 ] || fail "synflood on $ports: exit $rc"
  grep -q "^RATIO Floodgate SYN-ACKs / $ports floor" "$T_DIR/sf_$ports.log" || fail "synflood on $ports: no ratio line"
  [ "$(json_get "$T_DIR/sf_$ports.json" fg_cookies_sent)" -gt 0 ] || fail "synflood on $ports: no cookies sent"

  rc=0
  run_app "mem_$ports" 120 "$B/bench-e2e-memory" "${EAL[@]}" -- --connections 5000 --pair --cps 20000 --ports $ports \
    --json "$T_DIR/mem_$ports.json" || rc=$?
  [ "$rc" = 0 ] || fail "memory on $ports: exit $rc"
  [ "$(json_get "$T_DIR/mem_$ports.json" connections)" = 5000 ] || fail "memory on $ports: not 5000 held"
  grep -q "^RESULT per side" "$T_DIR/mem_$ports.log" || fail "memory on $ports: no result"
  log "$ports: handshake $(printf %.0f "$est")/s, synflood $(grep -o 'RATIO.*Mpps)' "$T_DIR/sf_$ports.log"), memory 5000 held"
done
grep -q "virtio_user <-> net_vhost pair" "$T_DIR/hs_vhost.log" || fail "the vhost runs did not say so"

# With hugepages free, a vhost pair still passes frames: DPDK 22.11's
# virtio_user and net_vhost in one process on hugepages pass nothing ("Too
# many memory regions") or deadlock (--single-file-segments), so the
# benchmarks run it on ordinary pages; asking for hugepages explicitly is a
# clear error. The test reserves the pages itself and gives them back.
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
orig=$(cat "$hp/nr_hugepages" 2>/dev/null || echo 0)
on_cleanup "echo $orig > $hp/nr_hugepages"
if echo $((orig + 600)) >"$hp/nr_hugepages" 2>/dev/null && [ "$(cat "$hp/free_hugepages")" -ge 512 ]; then
  rc=0
  FG_NO_HUGE= run_app sf_vhost_huge 90 "$B/bench-e2e-synflood" "${EAL[@]}" -- --seconds 1 --ports vhost --no-kernel \
    --json "$T_DIR/sf_vhost_huge.json" || rc=$?
  [ "$rc" = 0 ] || fail "synflood on vhost with hugepages free: exit $rc"
  grep -q "^bench-e2e-synflood: no hugepages" "$T_DIR/sf_vhost_huge.log" ||
    fail "synflood on vhost with hugepages free: not on ordinary pages"
  [ "$(json_get "$T_DIR/sf_vhost_huge.json" fg_cookies_sent)" -gt 0 ] ||
    fail "synflood on vhost with hugepages free: no cookies sent"
  rc=0
  FG_NO_HUGE= run_app sf_vhost_inmem 60 "$B/bench-e2e-synflood" -l 0-1 --no-pci --in-memory --log-level=lib.eal:error \
    -- --seconds 1 --ports vhost --no-kernel || rc=$?
  [ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "synflood on vhost with --in-memory: exit $rc, expected a clear error"
  grep -q "needs ordinary pages" "$T_DIR/sf_vhost_inmem.log" || fail "synflood on vhost with --in-memory: no message"
  echo "$orig" >"$hp/nr_hugepages"
  log "vhost with hugepages free: ran on ordinary pages; --in-memory refused with a message"
else
  echo "$orig" >"$hp/nr_hugepages" 2>/dev/null || true
  [ "${CI:-}" != true ] || fail "could not reserve 512 hugepages for the vhost-with-hugepages case"
  log "SKIP: could not reserve hugepages (not root, or no memory): the vhost-with-hugepages case did not run"
fi
log "PASS"
