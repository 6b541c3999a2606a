#!/usr/bin/env bash
# The README's tap example, exactly as written (in a directory where build/
# is this build): fg-server starts inside a new namespace (the tap is born
# there), the kernel side gets its address, waits for ping, connects with
# bash's /dev/tcp and reads until fg-server's FIN; the block ends when
# fg-server does and removes the namespace. It must exit 0 and fg-server must
# have accepted the connection. (The old example moved the tap into the
# namespace while the PMD was still configuring it: nothing answered.)
. "$(dirname "$0")/lib.sh"
require_env
SRC=$(cd "$(dirname "$0")/../.." && pwd)
block=$(awk '/^Example, the kernel as a client of fg-server over a tap/ { f = 1 }
             f && /^```sh/ { g = 1; next } g && /^```/ { exit } g { print }' "$SRC/README.md")
[ -n "$block" ] || fail "no tap example in README.md"
grep -q "fg-server" <<<"$block" || fail "the tap example does not run fg-server"
ip netns list | grep -qw fgdemo && fail "namespace fgdemo exists already: the example needs it"
on_cleanup "ip netns del fgdemo"
mkdir -p "$T_DIR/run" && ln -s "$FG_BUILD" "$T_DIR/run/build"
printf '%s\n' "$block" >"$T_DIR/example.sh"
log "README example:"; sed 's/^/    /' "$T_DIR/example.sh"
# Its own session (process group): whatever it started goes with it on failure.
(cd "$T_DIR/run" && exec setsid bash -e -o pipefail "$T_DIR/example.sh") >"$T_DIR/example.log" 2>&1 &
pid=$!
on_cleanup "kill -KILL -- -$pid"
wait_exit "$pid" 90
rc=$?
[ "$rc" = 124 ] && fail "the example did not end within 90 s"
[ "$rc" = 0 ] || fail "the example exited $rc"
grep -q "connected, then fg-server closed" "$T_DIR/example.log" || fail "the kernel's connection did not see fg-server's FIN"
grep -qE "^fg-server: [0-9]+ SYNs, 1 accepted in" "$T_DIR/example.log" || fail "fg-server did not accept exactly one connection"
ip netns list | grep -qw fgdemo && fail "the example left its namespace"
log "$(grep -E '^fg-server: [0-9]+ SYNs' "$T_DIR/example.log")"
log "PASS"
