#!/usr/bin/env bash
# fg-loadgen -l 0-1 --connections 1 against the Linux kernel over net_tap:
# one connection for two generating lcores (the other lcore's share is
# nothing) starts, the kernel accepts exactly that one, and fg-loadgen ends
# by itself with exit 0. It used to refuse to start ("TCP engine of lcore 1:
# generator needs cps > 0"). Then 5 connections with --concurrency 1 over
# the same two lcores (one slot: one lcore generates, the other idles): all 5
# established and accepted.
. "$(dirname "$0")/active_lib.sh"
active_env

kserver_start ks1 --port 8080 --backlog 128
tap_loadgen lg1 0-1 --target $KADDR:8080 --connections 1 --cps 1000 --close rst --duration 20 \
  --json "$T_DIR/lg1.json"
loadgen_wait lg1 40
log "lg1: $(lg_summary lg1)"
expect_eq "attempted" "$(lg lg1 attempted)" 1
expect_eq "established" "$(lg lg1 established)" 1
wait_until 10 kstatus_true ks1 "d['accepted'] >= 1" || fail "the kernel accepted nothing"
kserver_stop ks1
expect_eq "kernel accepted" "$(ks ks1 "d['accepted']")" 1

kserver_start ks5 --port 8081 --backlog 128
tap_loadgen lg5 0-1 --target $KADDR:8081 --connections 5 --concurrency 1 --cps 1000 --close fin \
  --time-wait-ms 1000 --duration 20 --json "$T_DIR/lg5.json"
loadgen_wait lg5 40
log "lg5: $(lg_summary lg5)"
expect_eq "attempted" "$(lg lg5 attempted)" 5
expect_eq "established" "$(lg lg5 established)" 5
wait_until 10 kstatus_true ks5 "d['accepted'] >= 5" || fail "the kernel accepted $(kstatus ks5 "d['accepted']") of 5"
kserver_stop ks5
expect_eq "kernel accepted" "$(ks ks5 "d['accepted']")" 5
log "PASS"
