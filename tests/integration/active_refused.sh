#!/usr/bin/env bash
# fg-loadgen against a kernel port nobody listens on: the kernel answers every
# SYN with RST/ACK, and every attempt ends `refused` (RFC 9293 3.10.7.3: an
# acceptable RST in SYN-SENT) -- none established, timed out or unreachable,
# no RST sent back (never answer a RST), nothing left open. The kernel's own
# count of RSTs it sent (TcpOutRsts) covers every attempt.
. "$(dirname "$0")/active_lib.sh"
active_env
N=${FG_ACTIVE_N:-2000}

ksnmp() {
  nsexec cat /proc/net/snmp | awk -v f="$1" '
    $1 == "Tcp:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
    $1 == "Tcp:" && h  { for (i = 2; i <= NF; i++) if (n[i] == f) print $i }'
}

rsts0=$(ksnmp OutRsts)
tap_loadgen lg 0 --target $KADDR:9 --connections "$N" --cps 5000 --duration 40 --json "$T_DIR/lg.json"
loadgen_wait lg 60
log "fg-loadgen: $(lg_summary lg)"
rsts=$(($(ksnmp OutRsts) - rsts0))
log "kernel: $rsts RSTs sent"

expect_eq "attempted" "$(lg lg attempted)" "$N"
expect_eq "refused" "$(lg lg refused)" "$N"
for k in established timed_out unreachable no_port rst_sent synsent_bad_ack synsent_rst_no_ack connections_in_use; do
  expect_eq "$k" "$(lg lg $k)" 0
done
[ "$rsts" -ge "$N" ] || fail "the kernel sent $rsts RSTs for $N refused attempts"
log "PASS"
