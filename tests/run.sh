#!/usr/bin/env bash
# The README's test command: installs dependencies, builds from scratch into
# build-test/, runs every suite (unit, eal, integration). Integration tests need
# root, /dev/net/tun and network namespaces; when CI=true any skipped test is a
# failure. The last line is "N passed, N failed".
#
# Two more phases, on by default in CI (.ci/run sets them), off otherwise so a
# developer's run before landing stays short. Both use one second build,
# clang with ASan + UBSan and libFuzzer's coverage (build-fuzz/,
# FG_FUZZ_BUILDDIR):
#   FG_SANITIZE=1         unit + eal suites again under ASan + UBSan, any
#                         report fails the test
#   FG_FUZZ_SECONDS=N     every libFuzzer target for N seconds, see
#                         tests/fuzz/run.sh
#   FG_TSAN=1             the application-thread API (eal-rings: connect,
#                         poll_events, accept_burst, close from six threads
#                         while the lcores run) under ThreadSanitizer, from a
#                         third build of that one test (clang, build-tsan/,
#                         FG_TSAN_BUILDDIR); any report fails it
# Each of their tests / targets counts as one test in the final line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps || { echo "tests: dependency install failed"; echo "0 passed, 1 failed"; exit 1; }
builddir=${FG_BUILDDIR:-build-test}
t_start=$(date +%s)
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
failed=$((fail + to + xp))
# An integration, apps or bench-smoke test that failed gets one more run,
# alone, and a pass then counts -- but is printed as FLAKY with the first
# run's output above it. Those tests run whole processes (the Linux peer,
# Python servers, our apps with their lcores) on two shared CPUs: a peer
# descheduled at the wrong moment (a listen(4) queue overflowing, a tap read
# late) can fail one run on a loaded machine. A test that fails twice fails;
# the unit and eal suites are never re-run.
flaky=""
for t in $(sed -n "s#^ *[0-9]*/[0-9]* floodgate:\(integration\|apps\|bench-smoke\) / \([a-z0-9_-]*\) *\(FAIL\|TIMEOUT\) .*#\2#p" "$log" | sort -u); do
  echo "tests: $t failed: running it once more"
  rlog=$(mktemp)
  meson test -C "$builddir" --no-rebuild --print-errorlogs --timeout-multiplier 2 "$t" > "$rlog" 2>&1
  sed -n '/^ *1\/1 /,/^Timeout:/p' "$rlog"
  if grep -qE "^ *1/1 .* OK " "$rlog"; then
    flaky="$flaky $t"
    failed=$((failed - 1))
    ok=$((ok + 1))
  fi
  rm -f "$rlog"
done
if [ -n "$flaky" ]; then
  echo "tests: FLAKY (failed once, passed when run again):$flaky"
  [ "$failed" -eq 0 ] && rc=0
fi
rm -f "$log"
if [ "${CI:-}" = "true" ] && [ "$skip" -gt 0 ]; then
  echo "tests: $skip test(s) skipped while CI=true; integration tests must run in CI"
  failed=$((failed + skip))
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
echo "tests: main build and suites took $(( $(date +%s) - t_start )) s"

# ---- one clang build with ASan + UBSan (+ libFuzzer coverage): the unit and
# eal suites under the sanitizers, then the fuzz targets ----
# -Dfuzz=true compiles every library with -fsanitize=fuzzer-no-link,address,
# undefined (top-level meson.build): the same objects serve both phases, so
# CI compiles the tree a second time, not a third. Only the targets these
# phases run are built (no apps, benches or integration helpers).
if [ "${FG_SANITIZE:-0}" = 1 ] || [ "${FG_FUZZ_SECONDS:-0}" -gt 0 ]; then
  t=$(date +%s)
  sdir=${FG_FUZZ_BUILDDIR:-build-fuzz}
  san_ok=1
  if [ ! -f "$sdir/build.ninja" ]; then
    # -O1: sanitizer builds compile about twice as fast as at -O3 and still
    # inline enough for the fuzzers' speed.
    CC=clang CXX=clang++ meson setup "$sdir" -Dtests=true -Dbench=false -Dfuzz=true -Doptimization=1 \
      > /tmp/fg-san-setup.log 2>&1 || { cat /tmp/fg-san-setup.log; san_ok=0; failed=$((failed + 1)); }
  fi
  fuzz_targets="tests/fuzz/fuzz-engine tests/fuzz/fuzz-classify tests/fuzz/fuzz-tcp-options tests/fuzz/fuzz-config"
  suite_targets=""
  if [ "$san_ok" = 1 ] && [ "${FG_SANITIZE:-0}" = 1 ]; then
    # Regenerate first (a no-op when no meson.build changed): in a build
    # directory set up before a test was added, introspection would not
    # list it, and meson test would refuse to run a test never built.
    ninja -C "$sdir" build.ninja > /dev/null || san_ok=0
    suite_targets=$(meson introspect "$sdir" --tests | python3 -c '
import json, sys, os
root = sys.argv[1]
for t in json.load(sys.stdin):
    if set(t["suite"]) & {"floodgate:unit", "floodgate:eal", "unit", "eal"}:
        print(os.path.relpath(t["cmd"][0], root))' "$(cd "$sdir" && pwd)" | sort -u)
  fi
  [ "${FG_FUZZ_SECONDS:-0}" -gt 0 ] || fuzz_targets=""
  # shellcheck disable=SC2086
  if [ "$san_ok" = 1 ] && ! ninja -C "$sdir" $suite_targets $fuzz_targets; then
    echo "tests: sanitizer/fuzz build failed"
    san_ok=0
    failed=$((failed + 1))
  fi
  echo "tests: sanitizer/fuzz build took $(( $(date +%s) - t )) s"

  if [ "$san_ok" = 1 ] && [ "${FG_SANITIZE:-0}" = 1 ]; then
    t=$(date +%s)
    slog=$(mktemp)
    # Any ASan or UBSan report ends the test (-fno-sanitize-recover=undefined,
    # abort_on_error) and fails it.
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      meson test -C "$sdir" --no-rebuild --print-errorlogs --timeout-multiplier 4 --suite unit --suite eal 2>&1 |
      tee "$slog" | grep -E "^ *[0-9]+/[0-9]+ |^(Ok|Fail|Timeout|Skipped):"
    s_ok=$(sed -n 's/^Ok: *\([0-9][0-9]*\).*/\1/p' "$slog" | tail -1)
    s_fail=$(sed -n 's/^Fail: *\([0-9][0-9]*\).*/\1/p' "$slog" | tail -1)
    s_to=$(sed -n 's/^Timeout: *\([0-9][0-9]*\).*/\1/p' "$slog" | tail -1)
    s_skip=$(sed -n 's/^Skipped: *\([0-9][0-9]*\).*/\1/p' "$slog" | tail -1)
    s_bad=$(( ${s_fail:-0} + ${s_to:-0} ))
    if [ "${CI:-}" = "true" ] && [ "${s_skip:-0}" -gt 0 ]; then
      echo "tests: ${s_skip} sanitizer test(s) skipped while CI=true"
      s_bad=$((s_bad + s_skip))
    fi
    if [ "$s_bad" -gt 0 ]; then
      grep -B2 -A40 -E "ERROR: AddressSanitizer|runtime error|FAIL" "$slog" | head -150
    fi
    [ -z "$s_ok" ] && [ "$s_bad" -eq 0 ] && s_bad=1 # nothing ran
    ok=$((ok + ${s_ok:-0}))
    failed=$((failed + s_bad))
    rm -f "$slog"
    echo "tests: ASan+UBSan suites took $(( $(date +%s) - t )) s"
  fi

  if [ "$san_ok" = 1 ] && [ "${FG_FUZZ_SECONDS:-0}" -gt 0 ]; then
    t=$(date +%s)
    flog=$(mktemp)
    bash tests/fuzz/run.sh "$sdir" "$FG_FUZZ_SECONDS" 2>&1 | tee "$flog"
    f_line=$(tail -1 "$flog")
    ok=$((ok + $(echo "$f_line" | sed -n 's/^\([0-9]*\) passed.*/\1/p' | grep . || echo 0)))
    f_bad=$(echo "$f_line" | sed -n 's/.*, \([0-9]*\) failed$/\1/p')
    failed=$((failed + ${f_bad:-1}))
    rm -f "$flog"
    echo "tests: fuzz phase took $(( $(date +%s) - t )) s"
  fi
fi

# ---- ThreadSanitizer: the application-thread API (eal-rings) ----
# Only that test and what it links are built (-O1 -g). -DRTE_USE_C11_MEM_MODEL
# selects DPDK's C11 ring code (__atomic acquire/release, what DPDK uses on
# Arm) for the rings our code enqueues and dequeues -- accept, command and
# event rings -- instead of x86's compiler barriers and inline assembly,
# which TSan cannot see. Suppressions (tests/tsan.supp) name DPDK's code only.
# Both stacks of the test share one lcore, so packets (through the ring PMD
# and the mempool drivers, uninstrumented .so files) never cross threads.
if [ "${FG_TSAN:-0}" = 1 ]; then
  t=$(date +%s)
  tdir=${FG_TSAN_BUILDDIR:-build-tsan}
  tsan_ok=1
  if [ ! -f "$tdir/build.ninja" ]; then
    CC=clang CXX=clang++ meson setup "$tdir" -Dtests=true -Dbench=false -Db_sanitize=thread -Db_lundef=false \
      -Doptimization=1 -Ddebug=true -Dcpp_args=-DRTE_USE_C11_MEM_MODEL \
      > /tmp/fg-tsan-setup.log 2>&1 || { cat /tmp/fg-tsan-setup.log; tsan_ok=0; }
  fi
  if [ "$tsan_ok" = 1 ] && ! ninja -C "$tdir" tests/eal/eal-rings; then
    echo "tests: TSan build failed"
    tsan_ok=0
  fi
  echo "tests: TSan build took $(( $(date +%s) - t )) s"
  if [ "$tsan_ok" = 1 ]; then
    t=$(date +%s)
    tlog=$(mktemp)
    sym=""
    for s in /usr/lib/llvm-*/bin/llvm-symbolizer; do [ -x "$s" ] && sym=":external_symbolizer_path=$s"; done
    TSAN_OPTIONS="halt_on_error=1:exitcode=66:suppressions=$PWD/tests/tsan.supp$sym" \
      timeout -k 10 600 "$tdir/tests/eal/eal-rings" > "$tlog" 2>&1
    trc=$?
    if [ "$trc" -eq 0 ] && grep -q "^\[  PASSED  \] 1 test" "$tlog" && ! grep -q "WARNING: ThreadSanitizer" "$tlog"; then
      echo "tests: eal-rings under TSan: OK"
      ok=$((ok + 1))
    else
      grep -A60 -E "WARNING: ThreadSanitizer|FATAL|Failure|FAILED" "$tlog" | head -150
      echo "tests: eal-rings under TSan: FAIL (exit $trc)"
      tsan_ok=0
    fi
    rm -f "$tlog"
    echo "tests: TSan phase took $(( $(date +%s) - t )) s"
  fi
  [ "$tsan_ok" = 1 ] || failed=$((failed + 1))
fi

echo "tests: total $(( $(date +%s) - t_start )) s"
echo "$ok passed, $failed failed"
[ "$failed" -eq 0 ]
