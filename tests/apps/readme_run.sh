#!/usr/bin/env bash
# The README's run command, exactly as written there (its last step, with
# `build/` standing for this build directory), with two lcores (-l 0-1, as
# written) and with one (-l 0), on ordinary pages (FG_NO_HUGE=1: what a
# machine without reserved hugepages runs). Each run must print its live
# stats line every second, its end-of-run summary with connections
# established, and exit 0. (It used to die with SIGSEGV at exit: a listener's
# accept ring freed after EAL cleanup; and it refused one lcore.)
. "$(dirname "$0")/lib.sh"

line=$(readme_first_line '**Run**')
[ -n "$line" ] || fail "no command under **Run** in README.md"
cmd=${line##*&& }
case "$cmd" in
  build/apps/fg-loadgen\ *) ;;
  *) fail "the README's run command does not end with build/apps/fg-loadgen ...: $cmd" ;;
esac
cmd="$FG_BUILD/${cmd#build/}"
duration=$(sed -n 's/.*--duration \([0-9][0-9]*\).*/\1/p' <<<"$cmd")
[ -n "$duration" ] || fail "the README's run command has no --duration: it would never end"
[ "$duration" -le 10 ] || fail "the README's run command runs $duration s: keep it short (it runs in the suite)"
log "README: $cmd"

check_run() {
  local name=$1 rc stats est
  rc=0
  # shellcheck disable=SC2086  # the README's words, split as a shell splits them
  FG_NO_HUGE=1 run_app "$name" $((duration + 60)) $2 || rc=$?
  [ "$rc" = 0 ] || fail "$name: exit status $rc (139 = SIGSEGV)"
  stats=$(grep -c '^\[fg-loadgen ' "$T_DIR/$name.log")
  [ "$stats" -ge $((duration - 1)) ] || fail "$name: $stats live stats lines in a $duration s run"
  est=$(loadgen_established "$name")
  [ -n "$est" ] || fail "$name: no summary line"
  [ "$est" -gt 0 ] || fail "$name: nothing established"
  grep -q "no hugepages" "$T_DIR/$name.log" || fail "$name: did not run on ordinary pages"
  grep -q '^\[fg-loadgen draining' "$T_DIR/$name.log" || fail "$name: no draining line at stop"
  if grep -qiE "cannot close|segmentation|error" "$T_DIR/$name.log"; then
    fail "$name: errors in the output"
  fi
  log "$name: exit 0, $stats stats lines, $est established"
}

check_run two_lcores "$cmd"
case "$cmd" in
  *" -l 0-1 "*) check_run one_lcore "${cmd/ -l 0-1 / -l 0 }" ;;
  *) fail "the README's run command no longer says -l 0-1: update this test" ;;
esac
log "PASS"
