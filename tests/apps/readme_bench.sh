#!/usr/bin/env bash
# The benchmark commands the README quotes figures from, as written there
# (`build/bench/e2e/bench-e2e-handshake -l 0-1`, and the others named the
# same way), on ordinary pages (FG_NO_HUGE=1): each exits 0 and prints its
# result (the ratio, or the bytes per connection). Figures are not checked:
# benchmarks measure, tests check that they run.
. "$(dirname "$0")/lib.sh"
export FG_NO_HUGE=1
cmds=$(grep -o '`[^`]*bench-e2e-[a-z]* -l [^`]*`' "$T_SRC/README.md" | tr -d '`' | sort -u)
[ -n "$cmds" ] || fail "no bench command in README.md"
while IFS= read -r cmd; do
  case "$cmd" in
    build/bench/e2e/*) ;;
    bench-e2e-*) cmd="build/bench/e2e/$cmd" ;; # named after the first one, in the same sentence
    *) fail "unexpected bench command in README.md: $cmd" ;;
  esac
  name=$(awk '{ print $1 }' <<<"$cmd" | xargs basename)
  rc=0
  # shellcheck disable=SC2086  # the README's words
  (cd "$T_DIR" && ln -sfn "$FG_BUILD" build && timeout -k 10 600 $cmd) >"$T_DIR/$name.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || fail "$cmd: exit $rc"
  grep -qE "^(RATIO|RESULT)" "$T_DIR/$name.log" || fail "$cmd: no RATIO/RESULT line"
  log "$cmd: $(grep -E '^(RATIO|  responder)' "$T_DIR/$name.log" | head -1)"
done <<<"$cmds"
log "PASS"
