#!/usr/bin/env bash
# The README's virtio pair example, exactly as written (in a directory where
# build/ is this build, FG_NO_HUGE=1): fg-synresponder on net_vhost, then
# fg-loadgen on virtio_user through the socket; the block must exit 0, all
# 10,000 connections established and accepted with cookies.
. "$(dirname "$0")/lib.sh"
block=$(awk '/^Example, a real virtio PMD pair across two processes/ { f = 1 }
             f && /^```sh/ { g = 1; next } g && /^```/ { exit } g { print }' "$T_SRC/README.md")
[ -n "$block" ] || fail "no virtio pair example in README.md"
[ -e /tmp/fgvh.sock ] && fail "/tmp/fgvh.sock exists: the example needs it"
on_cleanup "rm -f /tmp/fgvh.sock"
mkdir -p "$T_DIR/run" && ln -s "$FG_BUILD" "$T_DIR/run/build"
printf '%s\n' "$block" >"$T_DIR/example.sh"
(cd "$T_DIR/run" && FG_NO_HUGE=1 exec setsid bash -e -o pipefail "$T_DIR/example.sh") >"$T_DIR/example.log" 2>&1 &
pid=$!
on_cleanup "kill -KILL -- -$pid"
wait_exit "$pid" 120
rc=$?
[ "$rc" = 124 ] && fail "the example did not end within 120 s"
[ "$rc" = 0 ] || fail "the example exited $rc"
grep -q "^fg-loadgen: 10000 established in" "$T_DIR/example.log" || fail "fg-loadgen did not establish all 10000"
grep -qE "^fg-synresponder: [0-9]+ SYNs in, .* cookies accepted 10000," "$T_DIR/example.log" ||
  fail "fg-synresponder did not accept all 10000"
grep -q "Cannot close started device" "$T_DIR/example.log" && fail "a started port was closed at teardown"
log "$(grep -E '^fg-(loadgen|synresponder): [0-9]' "$T_DIR/example.log" | tr '\n' ' ')"
log "PASS"
