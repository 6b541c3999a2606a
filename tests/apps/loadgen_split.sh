#!/usr/bin/env bash
# fg-loadgen splits connections, rate and concurrency over any number of
# generating lcores, idle ones included: --connections 1 with two generating
# lcores (four lcores on the CPUs we have: two generate, two respond) opens
# exactly one connection and exits 0 (it used to refuse to start: "generator
# needs cps > 0"); 3 connections over two lcores (uneven), and the responder
# sharing the only lcore with the generator (-l 0), end the same way.
. "$(dirname "$0")/lib.sh"

LG="$FG_BUILD/apps/fg-loadgen"
ARGS=(--ip 198.18.1.0-198.18.1.255/16 --target 198.18.0.2:80 --responder --cps 1000 --duration 30 --max-conns 4096)

case_n() {
  local name=$1 lcores=$2 n=$3 rc
  shift 3
  rc=0
  FG_NO_HUGE=1 run_app "$name" 60 "$LG" $lcores --no-pci --log-level=lib.eal:error -- "${ARGS[@]}" --connections "$n" --json "$T_DIR/$name.json" "$@" ||
    rc=$?
  [ "$rc" = 0 ] || fail "$name: exit status $rc"
  expect_eq "$name: attempted" "$(json_get "$T_DIR/$name.json" attempted)" "$n"
  expect_eq "$name: established" "$(json_get "$T_DIR/$name.json" established)" "$n"
  expect_eq "$name: summary" "$(loadgen_established "$name")" "$n"
  grep -q "generating lcore" "$T_DIR/$name.log" || fail "$name: no start line"
  log "$name: $n of $n established, exit 0"
}

expect_eq() { [ "$2" = "$3" ] || fail "$1: got $2, expected $3"; }

four="--lcores=(0-3)@($(cpus))"
case_n one_on_two "$four" 1
grep -q "2 generating lcore(s), 2 responder lcore(s)" "$T_DIR/one_on_two.log" || fail "one_on_two: not two generating lcores"
case_n three_on_two "$four" 3
case_n three_on_two_conc1 "$four" 3 --concurrency 1
case_n shared_lcore "-l 0" 3
grep -q "1 generating lcore(s), 1 responder lcore(s)" "$T_DIR/shared_lcore.log" || fail "shared_lcore: start line"
log "PASS"
