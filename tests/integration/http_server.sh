#!/usr/bin/env bash
# fg-server --http-body against real HTTP clients in the namespace, over
# net_tap: curl, wrk and ab (Debian's), and a raw socket sending garbage.
#  * curl GET gets the body byte for byte (20,000 random bytes: 14 segments,
#    more than the initial window of 10, so the send window is exercised);
#    curl --http1.0 too; curl -I (HEAD) gets Content-Length 20000, no body.
#  * garbage gets "400 Bad Request" and the connection closed.
#  * wrk -c 64 -d 5s (keep-alive): no socket errors, no non-2xx responses.
#  * ab -n 10000 -c 32 (HTTP/1.0, a connection per request): 10000 complete,
#    0 failed; ab -k (HTTP/1.0 keep-alive) -n 2000 -c 8: 0 failed, 2000 kept alive.
#  * fg-server's JSON: one 400, one malformed request, and at least as many
#    200s as the clients counted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"
require_env
for t in curl wrk ab; do
  command -v $t >/dev/null || skip_or_fail "needs $t"
done
head -c 20000 /dev/urandom >"$T_DIR/body"
tap_server srv 0 --listen 8080 --http-body "$T_DIR/body" --json "$T_DIR/srv.json"
URL=http://$FADDR:8080

nsexec curl -s -m 20 -o "$T_DIR/got" "$URL/some/file" || fail "curl failed"
cmp "$T_DIR/body" "$T_DIR/got" || fail "curl: the body differs from the file"
nsexec curl -s -m 20 --http1.0 -o "$T_DIR/got10" "$URL/" || fail "curl --http1.0 failed"
cmp "$T_DIR/body" "$T_DIR/got10" || fail "curl --http1.0: the body differs from the file"
nsexec curl -s -m 20 -I "$URL/" >"$T_DIR/head" || fail "curl -I failed"
grep -qi '^Content-Length: 20000' "$T_DIR/head" || fail "HEAD: no Content-Length 20000: $(cat "$T_DIR/head")"
grep -q '^HTTP/1.1 200 OK' "$T_DIR/head" || fail "HEAD: not 200: $(cat "$T_DIR/head")"
log "curl: GET (1.1 and 1.0) body identical, HEAD Content-Length 20000"

nsexec /usr/bin/python3 - "$FADDR" >"$T_DIR/garbage" <<'PY' || fail "garbage: $(cat "$T_DIR/garbage")"
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), 5)
s.settimeout(10)
s.sendall(b"\x16\x03\x01 this is not HTTP\r\n\r\n")
got = b""
while True:
    b = s.recv(4096)
    if not b:
        break  # the server closed after its 400
    got += b
print(got.decode(errors="replace").splitlines()[0] if got else "nothing")
sys.exit(0 if got.startswith(b"HTTP/1.1 400 Bad Request\r\n") else 1)
PY
log "garbage: $(cat "$T_DIR/garbage"), connection closed"

nsexec wrk -t 2 -c 64 -d 5s "$URL/" >"$T_DIR/wrk.txt" 2>&1 || fail "wrk failed: $(cat "$T_DIR/wrk.txt")"
log "wrk: $(grep -E 'requests in|Requests/sec|Socket errors|Non-2xx' "$T_DIR/wrk.txt" | tr -s ' ' | tr '\n' ';')"
grep -q "Socket errors" "$T_DIR/wrk.txt" && fail "wrk saw socket errors: $(cat "$T_DIR/wrk.txt")"
grep -q "Non-2xx" "$T_DIR/wrk.txt" && fail "wrk saw non-2xx responses: $(cat "$T_DIR/wrk.txt")"
wrk_n=$(sed -n 's/^ *\([0-9][0-9]*\) requests in.*/\1/p' "$T_DIR/wrk.txt")
[ -n "$wrk_n" ] && [ "$wrk_n" -gt 0 ] || fail "wrk completed no request: $(cat "$T_DIR/wrk.txt")"

nsexec ab -q -n 10000 -c 32 "$URL/" >"$T_DIR/ab.txt" 2>&1 || fail "ab failed: $(cat "$T_DIR/ab.txt")"
log "ab: $(grep -E 'Complete requests|Failed requests|Non-2xx|Requests per second' "$T_DIR/ab.txt" | tr -s ' ' | tr '\n' ';')"
grep -Eq '^Complete requests: +10000$' "$T_DIR/ab.txt" || fail "ab did not complete 10000: $(cat "$T_DIR/ab.txt")"
grep -Eq '^Failed requests: +0$' "$T_DIR/ab.txt" || fail "ab failed requests: $(cat "$T_DIR/ab.txt")"
grep -q "Non-2xx" "$T_DIR/ab.txt" && fail "ab saw non-2xx responses"

nsexec ab -q -k -n 2000 -c 8 "$URL/" >"$T_DIR/abk.txt" 2>&1 || fail "ab -k failed: $(cat "$T_DIR/abk.txt")"
log "ab -k: $(grep -E 'Complete requests|Failed requests|Keep-Alive requests' "$T_DIR/abk.txt" | tr -s ' ' | tr '\n' ';')"
grep -Eq '^Failed requests: +0$' "$T_DIR/abk.txt" || fail "ab -k failed requests: $(cat "$T_DIR/abk.txt")"
grep -Eq '^Keep-Alive requests: +2000$' "$T_DIR/abk.txt" || fail "ab -k: not all kept alive: $(cat "$T_DIR/abk.txt")"

stop_server srv
check_report "$T_DIR/srv.json"
ok=$(json_get "$T_DIR/srv.json" http/responses_200)
log "fg-server: $(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$T_DIR/srv.json")"
expect_min() { [ "$2" -ge "$3" ] || fail "$1: got $2, expected at least $3"; }
expect_min "200 responses" "$ok" $((3 + 1 + wrk_n + 10000 + 2000))
[ "$(json_get "$T_DIR/srv.json" http/responses_400)" = 1 ] || fail "400 responses: expected 1"
[ "$(json_get "$T_DIR/srv.json" http/requests_bad)" = 1 ] || fail "malformed requests: expected 1"
[ "$(json_get "$T_DIR/srv.json" http/head_requests)" = 1 ] || fail "HEAD requests: expected 1"
log "PASS"
