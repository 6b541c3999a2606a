#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each (two at a time: one per CPU of
# the CI machines), starting from its seed corpus under tests/fuzz/. A crash,
# leak, sanitizer report or violated invariant fails the run; the input that
# did it is copied into the target's corpus directory in the source tree (so
# `git status` shows it: commit it with the fix, and fuzz-replay keeps it as a
# regression test in every build) and printed as hex.
#
#   bash tests/fuzz/run.sh BUILDDIR [SECONDS]     (BUILDDIR set up with -Dfuzz=true)
#
# Prints one line per target, "fuzz-NAME: ok, R runs, C coverage" or
# "fuzz-NAME: FAILED ...", and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
builddir=${1:?usage: run.sh BUILDDIR [SECONDS]}
secs=${2:-60}
src=tests/fuzz
work=$(mktemp -d /tmp/fg-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

# target -> its corpus directory (the first one libFuzzer is given is where
# it writes new inputs: a scratch copy, never the source tree).
declare -A corpus=(
  [classify]=corpus
  [engine]=corpus-engine
  [tcp-options]=corpus-tcp-options
  [config]=corpus-config
)
names=(engine classify tcp-options config)

run_one() {
  local name=$1 bin=$builddir/tests/fuzz/fuzz-$1 dir=$work/$1
  mkdir -p "$dir/new" "$dir/art"
  cp "$src/${corpus[$name]}"/* "$dir/new/" 2>/dev/null
  # -rss_limit_mb: ASan + EAL (--no-huge, 256 MB) need more than the 2 GB default
  # allows for on a long run; -timeout: a script that takes a second is a hang.
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$dir/art/" "$dir/new" > "$dir/log" 2>&1
  echo $? > "$dir/rc"
}

pids=()
for name in "${names[@]}"; do
  if [ ! -x "$builddir/tests/fuzz/fuzz-$name" ]; then
    echo "fuzz-$name: FAILED, not built (meson setup $builddir -Dfuzz=true with CC=clang CXX=clang++)"
    mkdir -p "$work/$name"; echo 127 > "$work/$name/rc"; : > "$work/$name/log"
    continue
  fi
  run_one "$name" &
  pids+=($!)
  if [ "${#pids[@]}" -ge 2 ]; then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
done
wait

passed=0
failed=0
for name in "${names[@]}"; do
  dir=$work/$name
  rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  cov=$(sed -n 's/^#[0-9]*.*DONE *cov: \([0-9]*\).*/\1/p' "$dir/log" | tail -1)
  if [ "$rc" = 0 ]; then
    echo "fuzz-$name: ok, ${runs:-?} runs in ${secs} s, coverage ${cov:-?}"
    passed=$((passed + 1))
    continue
  fi
  [ "$rc" = 127 ] && { failed=$((failed + 1)); continue; }
  echo "fuzz-$name: FAILED (exit $rc)"
  grep -E "invariant violated|ERROR: |SUMMARY: |runtime error" "$dir/log" | head -5 | sed 's/^/    /'
  for a in "$dir"/art/*; do
    [ -f "$a" ] || continue
    keep="$src/${corpus[$name]}/regress-$(basename "$a")"
    cp "$a" "$keep"
    echo "    input saved as $keep ($(stat -c %s "$a") bytes; commit it with the fix):"
    od -An -tx1 -v "$a" | head -8 | sed 's/^/     /'
  done
  tail -30 "$dir/log" | sed 's/^/    | /'
  failed=$((failed + 1))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
