#!/usr/bin/env bash
# The commands of the README's performance section (every `build/...` code
# span under "## Performance": the end-to-end benchmarks, fg-loadgen's 10 M
# run and its scale_report.py), run as written there but short -- --seconds
# 1, 20,000 connections instead of 10,000,000, --duration 3 -- with two
# lcores (-l 0-1, as written) and with one (-l 0), on ordinary pages
# (FG_NO_HUGE=1). Each must exit 0 and print its result line (RATIO or
# RESULT). Figures are not checked: benchmarks measure, tests check that
# they run. A bench-e2e command quoted anywhere else in the README fails the
# test: the figures and their commands live in one place.
. "$(dirname "$0")/lib.sh"
export FG_NO_HUGE=1

section=$(awk '/^## / { f = ($0 == "## Performance") } f' "$T_SRC/README.md")
[ -n "$section" ] || fail "README.md has no '## Performance' section"
cmds=$(grep -o '`build/[^`]*`' <<<"$section" | tr -d '`' | sort -u)
[ -n "$cmds" ] || fail "no build/... command in the README's performance section"
for b in bench-e2e-handshake bench-e2e-synflood bench-e2e-memory fg-loadgen; do
  grep -q "build/[a-z0-9/]*$b -l 0-1 " <<<"$cmds" || fail "the performance section has no '$b -l 0-1' command"
done
outside=$(awk '/^## / { f = ($0 == "## Performance") } !f' "$T_SRC/README.md" | grep -o '`[^`]*bench-e2e-[^`]*`' || true)
[ -z "$outside" ] || fail "bench-e2e commands outside the performance section (keep them in one place): $outside"

# short CMD: the command with its long-run options made short.
short() {
  sed -E -e 's/--seconds [0-9.]+/--seconds 1/g' -e 's/--duration [0-9]+/--duration 3/g' \
    -e 's/(--connections|--max-conns) 10000000/\1 20000/g' -e 's/(scale_report\.py [^ ]+) 10000000/\1 20000/g' <<<"$1"
}

(cd "$T_DIR" && ln -sfn "$FG_BUILD" build && ln -sfn "$T_SRC/bench" bench)
n=0
while IFS= read -r cmd; do
  s=$(short "$cmd")
  grep -qE '[0-9]{7}' <<<"$s" && fail "a long run left in the README's command (add it to short()): $s"
  case "$s" in
    *" -l 0-1 "*) ;;
    *) fail "the README's command does not say -l 0-1: $cmd" ;;
  esac
  for l in "0-1" "0"; do
    n=$((n + 1))
    run="${s// -l 0-1 / -l $l }"
    rc=0
    (cd "$T_DIR" && timeout -k 10 300 bash -c "$run") >"$T_DIR/run$n.log" 2>&1 || rc=$?
    [ "$rc" = 0 ] || { tail -20 "$T_DIR/run$n.log"; fail "$run: exit $rc"; }
    grep -qE "^(RATIO|RESULT)" "$T_DIR/run$n.log" || { tail -20 "$T_DIR/run$n.log"; fail "$run: no RATIO/RESULT line"; }
    grep -q "no hugepages" "$T_DIR/run$n.log" || fail "$run: did not run on ordinary pages"
    case "$run" in
      # 20,000 on a ring pair in 3 s: scale_report.py must find them all in the series.
      *scale_report.py*) grep -qE '^RESULT 20000 established in [0-9.]+ s' "$T_DIR/run$n.log" ||
        { tail -5 "$T_DIR/run$n.log"; fail "$run: scale_report.py did not see 20000 established"; } ;;
    esac
    log "-l $l: $(awk '{ print $1 }' <<<"$run" | xargs basename): $(grep -m1 -E '^(RATIO|RESULT)' "$T_DIR/run$n.log" | cut -c1-160)"
  done
done <<<"$cmds"
log "PASS"
