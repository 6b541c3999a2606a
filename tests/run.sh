#!/usr/bin/env bash
# The README's test command: installs dependencies, builds from scratch into
# build-test/, runs every suite (unit, eal, integration). Integration tests need
# root, /dev/net/tun and network namespaces; when CI=true any skipped test is a
# failure. The last line is "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps || { echo "tests: dependency install failed"; echo "0 passed, 1 failed"; exit 1; }
builddir=${FG_BUILDDIR:-build-test}
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" -Dtests=true -Dbench=true || { echo "0 passed, 1 failed"; exit 1; }
fi
ninja -C "$builddir" || { echo "tests: build failed"; echo "0 passed, 1 failed"; exit 1; }
log=$(mktemp)
meson test -C "$builddir" --print-errorlogs --timeout-multiplier 2 "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
count() { sed -n "s/^$1: *\([0-9][0-9]*\).*/\1/p" "$log" | tail -1; }
ok=$(count Ok); ok=${ok:-0}
fail=$(count Fail); fail=${fail:-0}
to=$(count Timeout); to=${to:-0}
xp=$(count "Unexpected Pass"); xp=${xp:-0}
skip=$(count Skipped); skip=${skip:-0}
rm -f "$log"
failed=$((fail + to + xp))
if [ "${CI:-}" = "true" ] && [ "$skip" -gt 0 ]; then
  echo "tests: $skip test(s) skipped while CI=true; integration tests must run in CI"
  failed=$((failed + skip))
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
echo "$ok passed, $failed failed"
[ "$failed" -eq 0 ]
