#!/usr/bin/env bash
# fg-loadgen --http against a real nginx (Debian's, started by the test with
# its own config in the namespace) over net_tap: 2,000 connections, one
# `GET /index.html` each (a 3,000-byte file: three segments), closed with FIN
# after the response. Every request gets its 200: fg-loadgen counts
# requests_sent = responses_ok = 2,000 and no other outcome, and nginx's
# access log holds exactly 2,000 lines "200 3000 GET /index.html HTTP/1.1".
# A second, keep-alive run sends 5 requests per connection on 100
# connections: 500 requests, 500 ok, 500 more lines in the log.
. "$(dirname "$0")/active_lib.sh"
. "$(dirname "$0")/http_lib.sh"
active_env
N=${FG_HTTP_N:-2000}

head -c 3000 /dev/urandom >"$T_DIR/body"
nginx_start "$T_DIR/body"

tap_loadgen lg 0 --target $KADDR:8080 --http /index.html --connections "$N" --cps 2000 --concurrency 256 \
  --close fin --time-wait-ms 2000 --duration 60 --json "$T_DIR/lg.json"
loadgen_wait lg 90
log "fg-loadgen: $(http_summary lg)"
expect_eq "attempted" "$(lg lg attempted)" "$N"
expect_eq "established" "$(lg lg established)" "$N"
expect_eq "requests_sent" "$(lg lg requests_sent)" "$N"
expect_eq "responses_ok" "$(lg lg responses_ok)" "$N"
for k in responses_bad responses_unsupported response_timeouts response_resets response_closed response_failed \
  requests_pending responses_unexpected; do
  expect_eq "$k" "$(lg lg $k)" 0
done
check_report "$T_DIR/lg.json"
p50=$(lg lg response_us_p50); p999=$(lg lg response_us_p999)
[ "$p50" -gt 0 ] && [ "$p999" -ge "$p50" ] || fail "response latency percentiles missing or out of order: p50 $p50 p99.9 $p999"

# Keep-alive: 5 requests, one after another, on each of 100 connections.
tap_loadgen lg2 0 --target $KADDR:8080 --http /index.html --requests-per-conn 5 --connections 100 --cps 1000 \
  --close fin --time-wait-ms 2000 --duration 60 --json "$T_DIR/lg2.json"
loadgen_wait lg2 90
log "fg-loadgen keep-alive: $(http_summary lg2)"
expect_eq "keep-alive requests_sent" "$(lg lg2 requests_sent)" 500
expect_eq "keep-alive responses_ok" "$(lg lg2 responses_ok)" 500
expect_eq "keep-alive attempted" "$(lg lg2 attempted)" 100

nginx_stop
total=$((N + 500))
lines=$(wc -l <"$T_DIR/access.log")
ok=$(grep -c '^200 3000 "GET /index.html HTTP/1.1"$' "$T_DIR/access.log")
log "nginx access log: $lines lines, $ok of them 200 3000 GET /index.html HTTP/1.1"
expect_eq "nginx access log lines" "$lines" "$total"
expect_eq "nginx 200 lines" "$ok" "$total"
log "PASS"
