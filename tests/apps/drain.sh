#!/usr/bin/env bash
# Draining at the end of a run: fg-loadgen --responder closes every
# connection with FIN (--close fin), so each one it opened ends in TIME-WAIT
# on our side. When --duration is over, a "draining" line at the stats
# interval shows the connections still closing (by state) and the TIME-WAIT
# held, until nothing is left -- the TIME-WAIT count must start above zero and
# fall to zero as the entries expire (--time-wait-ms 1500) -- then the summary,
# exit 0, and a report whose drain object says "done" with nothing left.
# Bounded: with TIME-WAIT longer than --drain, draining ends when --drain
# passes and says how many connections are dropped at exit. The servers
# (each on net_vhost, fg-loadgen on virtio_user in another process) drain
# too when SIGINT stops them: fg-server's TIME-WAIT (it closes first) is
# waited out; fg-synresponder's held connections are shown as open, not
# waited for, and reported dropped at exit.
. "$(dirname "$0")/lib.sh"
LG="$FG_BUILD/apps/fg-loadgen"
EAL=(-l 0-1 --no-pci --log-level=lib.eal:error)
ARGS=(--ip 198.18.1.0-198.18.1.255/16 --target 198.18.0.2:80 --responder --cps 5000 --concurrency 200
      --close fin --max-conns 65536 --duration 2 --stats-interval 0.25)
export FG_NO_HUGE=1

# drain_counts LOG: "CLOSING TIME_WAIT" of every draining line, one a line.
drain_counts() {
  sed -n 's/^\[fg-loadgen draining *[0-9.]*s\] \([0-9][0-9]*\) connection(s) still closing[^,]*, \([0-9][0-9]*\) in TIME-WAIT.*/\1 \2/p' "$1"
}

# TIME-WAIT waited out: the count falls to zero, --drain 60 is never reached.
rc=0
run_app tw 120 "$LG" "${EAL[@]}" -- "${ARGS[@]}" --time-wait-ms 1500 --drain 60 --json "$T_DIR/tw.json" || rc=$?
[ "$rc" = 0 ] || fail "tw: exit $rc"
grep -q "^fg-loadgen: [1-9][0-9]* established in" "$T_DIR/tw.log" || fail "tw: no summary"
# The draining lines come before the summary.
last_drain=$(grep -n '^\[fg-loadgen draining' "$T_DIR/tw.log" | tail -1 | cut -d: -f1)
summary=$(grep -n '^fg-loadgen: [0-9]* established in' "$T_DIR/tw.log" | cut -d: -f1)
[ -n "$last_drain" ] && [ "$last_drain" -lt "$summary" ] || fail "tw: no draining line before the summary"
mapfile -t counts < <(drain_counts "$T_DIR/tw.log")
[ "${#counts[@]}" -ge 2 ] || fail "tw: ${#counts[@]} draining line(s); expected one while TIME-WAIT is held and one at the end"
read -r c0 tw0 <<<"${counts[0]}"
[ "$tw0" -gt 0 ] || fail "tw: the first draining line holds no TIME-WAIT: ${counts[0]}"
# No connection is opened while draining: closing + TIME-WAIT never grows.
prev=$((c0 + tw0))
for x in "${counts[@]}"; do
  read -r c t <<<"$x"
  [ $((c + t)) -le "$prev" ] || fail "tw: draining went from $prev to $((c + t)) connections"
  prev=$((c + t))
done
grep '^\[fg-loadgen draining' "$T_DIR/tw.log" | tail -1 |
  grep -q '\] 0 connection(s) still closing, 0 in TIME-WAIT.*: drained$' ||
  fail "tw: draining did not end with nothing left: $(grep '^\[fg-loadgen draining' "$T_DIR/tw.log" | tail -1)"
[ "$(json_get "$T_DIR/tw.json" drain/end)" = done ] || fail "tw: report drain/end $(json_get "$T_DIR/tw.json" drain/end)"
[ "$(json_get "$T_DIR/tw.json" drain/time_wait_left)" = 0 ] || fail "tw: report drain/time_wait_left"
[ "$(json_get "$T_DIR/tw.json" connections_in_use)" = 0 ] || fail "tw: connections in use at exit"
entered=$(json_get "$T_DIR/tw.json" time_wait_entered)
[ "$entered" -gt 0 ] && [ "$(json_get "$T_DIR/tw.json" time_wait_expired)" = "$entered" ] ||
  fail "tw: $entered entered TIME-WAIT, $(json_get "$T_DIR/tw.json" time_wait_expired) expired"
log "tw: ${#counts[@]} draining lines, TIME-WAIT $tw0 -> 0 in $(json_get "$T_DIR/tw.json" drain/s) s; $entered expired"

# TIME-WAIT longer than --drain: draining ends after --drain, and says what is dropped.
rc=0
run_app bound 120 "$LG" "${EAL[@]}" -- "${ARGS[@]}" --time-wait-ms 60000 --drain 0.5 --json "$T_DIR/bound.json" || rc=$?
[ "$rc" = 0 ] || fail "bound: exit $rc"
grep -q "^fg-loadgen: [1-9][0-9]* established in" "$T_DIR/bound.log" || fail "bound: no summary"
last=$(grep '^\[fg-loadgen draining' "$T_DIR/bound.log" | tail -1)
[[ "$last" =~ ,\ ([1-9][0-9]*)\ in\ TIME-WAIT.*:\ --drain\ 0.5\ s\ passed,\ ([1-9][0-9]*)\ connection\(s\)\ dropped\ at\ exit$ ]] ||
  fail "bound: last draining line: $last"
[ "$(json_get "$T_DIR/bound.json" drain/end)" = timeout ] || fail "bound: report drain/end"
[ "$(json_get "$T_DIR/bound.json" drain/time_wait_left)" = "${BASH_REMATCH[1]}" ] || fail "bound: report drain/time_wait_left"
log "bound: $last"

# The servers, each on net_vhost with fg-loadgen on virtio_user in a second
# process (the README's virtio pair), stopped by SIGINT while fg-loadgen still
# runs: they stop listening and drain.
CPUS=$(cpus)
server_case() {
  local name=$1 app=$2 close=$3; shift 3
  local sock="$T_DIR/$name.sock"
  start "${name}_srv" "$FG_BUILD/apps/$app" "--lcores=(0)@($CPUS)" --no-pci --file-prefix "s$name$$" \
    --log-level=lib.eal:error --vdev "net_vhost0,iface=$sock,queues=1" -- --ip 198.18.0.2/16 --listen 80 \
    --max-conns 65536 --duration 120 --stats-interval 0.25 --drain 60 --json "$T_DIR/${name}_srv.json" "$@"
  wait_for 30 test -S "$sock" || fail "$name: $app made no vhost-user socket"
  start "${name}_lg" "$LG" "--lcores=(0)@($CPUS)" --no-pci --file-prefix "c$name$$" --log-level=lib.eal:error \
    --vdev "virtio_user0,path=$sock,queues=1,queue_size=1024" -- --ip 198.18.1.0-198.18.1.255/16 \
    --target 198.18.0.2:80 --cps 2000 --concurrency 300 --close "$close" --max-conns 65536 --duration 120
  wait_for 60 grep -q '^\[fg-loadgen .*total est [1-9][0-9]\{2,\}' "$T_DIR/${name}_lg.log" ||
    fail "$name: fg-loadgen established no connections with $app"
  sleep 1
  local srv lg rc
  srv=$(eval echo "\$PID_${name}_srv")
  lg=$(eval echo "\$PID_${name}_lg")
  kill -INT "$srv"
  wait_exit "$srv" 30
  rc=$?
  [ "$rc" = 124 ] && fail "$name: $app still draining 30 s after SIGINT"
  [ "$rc" = 0 ] || fail "$name: $app exit $rc"
  kill -INT "$lg"
  wait_exit "$lg" 30 || fail "$name: fg-loadgen exit $? after SIGINT"
  grep -qE "^$app: [0-9]+ SYN" "$T_DIR/${name}_srv.log" || fail "$name: no $app summary"
}

# fg-server closes every accepted connection first (FIN): on its side they
# end in TIME-WAIT (1.5 s), which draining waits out.
server_case server fg-server hold --on-accept close --time-wait-ms 1500
mapfile -t counts < <(sed -n 's/^\[fg-server draining *[0-9.]*s\] \([0-9][0-9]*\) connection(s) still closing[^,]*, \([0-9][0-9]*\) in TIME-WAIT.*/\1 \2/p' "$T_DIR/server_srv.log")
[ "${#counts[@]}" -ge 2 ] || fail "server: ${#counts[@]} draining line(s)"
read -r c0 tw0 <<<"${counts[0]}"
[ "$tw0" -gt 0 ] || fail "server: the first draining line holds no TIME-WAIT: ${counts[0]}"
last=$(grep '^\[fg-server draining' "$T_DIR/server_srv.log" | tail -1)
[[ "$last" =~ \]\ 0\ connection\(s\)\ still\ closing,\ 0\ in\ TIME-WAIT.*:\ drained ]] || fail "server: last draining line: $last"
[ "$(json_get "$T_DIR/server_srv.json" drain/end)" = done ] || fail "server: report drain/end"
[ "$(json_get "$T_DIR/server_srv.json" time_wait_entered)" = "$(json_get "$T_DIR/server_srv.json" time_wait_expired)" ] ||
  fail "server: TIME-WAIT entered $(json_get "$T_DIR/server_srv.json" time_wait_entered), expired $(json_get "$T_DIR/server_srv.json" time_wait_expired)"
log "server: TIME-WAIT $tw0 -> 0 in $(json_get "$T_DIR/server_srv.json" drain/s) s: $last"

# fg-synresponder holds every connection on the lcore and closes none: they
# are open, shown and not waited for (--drain 60 would outlast wait_exit 30).
server_case synresp fg-synresponder hold
last=$(grep '^\[fg-synresponder draining' "$T_DIR/synresp_srv.log" | tail -1)
[[ "$last" =~ \ ([1-9][0-9]*)\ open\ \(established\ [1-9][0-9]*\)\ not\ waited\ for:\ drained,\ ([1-9][0-9]*)\ connection\(s\)\ dropped\ at\ exit$ ]] ||
  fail "synresp: last draining line: $last"
[ "$(json_get "$T_DIR/synresp_srv.json" drain/end)" = done ] || fail "synresp: report drain/end"
[ "$(json_get "$T_DIR/synresp_srv.json" drain/open_left)" = "${BASH_REMATCH[1]}" ] || fail "synresp: report drain/open_left"
log "synresp: $last"
log "PASS"
