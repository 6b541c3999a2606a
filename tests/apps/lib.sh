# shellcheck shell=bash
# Helpers for the app tests: whole apps run as a user runs them, on ring pairs
# (--responder) or other ports that need no root. Built on the integration
# helpers (log, fail, start, wait_exit, json_get, cleanup on exit).
. "$(dirname "$0")/../integration/lib.sh"

T_SRC=$(cd "$(dirname "$0")/../.." && pwd)

# cpus: the CPUs this process may run on (for --lcores (a-b)@(cpus)).
cpus() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status; }

# readme_block TITLE: the first line of the ```sh block after the line that
# starts with TITLE (e.g. '**Run**') in README.md.
readme_first_line() {
  awk -v t="$1" 'index($0, t) == 1 { f = 1 } f && /^```sh/ { getline; print; exit }' "$T_SRC/README.md"
}

# run_app NAME SECONDS CMD...: runs CMD in the foreground with a time limit,
# output in $T_DIR/NAME.log; returns its exit status (124: too slow).
run_app() {
  local name=$1 t=$2; shift 2
  timeout -k 10 "$t" "$@" >"$T_DIR/$name.log" 2>&1
}

# expect_summary NAME: the log holds fg-loadgen's summary line; prints its
# established count.
loadgen_established() {
  sed -n 's/^fg-loadgen: \([0-9][0-9]*\) established in .*/\1/p' "$T_DIR/$1.log" | tail -1
}
