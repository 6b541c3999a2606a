#!/usr/bin/env bash
# Smoke run of one benchmark executable (tests/bench/meson.build makes one
# test per executable of bench/):
#   smoke.sh micro NAME EXE   Google Benchmark: every benchmark it lists runs
#                             (FG_BENCH_SMOKE=1: smallest sizes, bench/smoke.hh;
#                             --benchmark_min_time=0.01), exit 0, each one's
#                             result in the console output and in the JSON
#                             output, none ended with an error.
#   smoke.sh e2e NAME EXE     the end-to-end mains with their short-run options
#                             (--seconds 1, few connections): exit 0, their
#                             result lines and JSON figures. Run as the machine
#                             is (hugepages when some are free) and, when that
#                             run had hugepages, again with FG_NO_HUGE=1, so
#                             both memory modes are covered.
#   smoke.sh complete NAME... every bench-* executable in the build directory
#                             is one of NAMEs (has a smoke test).
# Figures are not checked (benchmarks measure, tests check that they run).
. "$(dirname "$0")/../integration/lib.sh"

# e2e benchmarks are whole DPDK programs: two lcores, no PCI scan.
EAL=(-l 0-1 --no-pci --log-level=lib.eal:error)

# num_ok FILE KEY CMP: the JSON member KEY compared (python expression CMP on v).
num_ok() {
  /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d.get(sys.argv[2])
sys.exit(0 if v is not None and eval(sys.argv[3]) else 1)' "$1" "$2" "$3"
}
expect_json() { # FILE KEY CMP WHAT
  num_ok "$1" "$2" "$3" || fail "$4: $2 = $(json_get "$1" "$2" 2>/dev/null || echo missing), expected $3"
}
expect_line() { # LOG REGEX WHAT
  grep -qE "$2" "$1" || fail "$3: no line matching '$2' in its output"
}

run_micro() {
  local name=$1 exe=$2 rc=0
  FG_BENCH_SMOKE=1 timeout -k 10 60 "$exe" --benchmark_list_tests >"$T_DIR/list.txt" 2>"$T_DIR/list.log" || rc=$?
  [ "$rc" = 0 ] || fail "$name --benchmark_list_tests: exit $rc"
  local n
  # (Some mains print a line of their own first: benchmarks are BM_<Thing>, CONVENTIONS.md.)
  grep "^BM_" "$T_DIR/list.txt" >"$T_DIR/names.txt"
  n=$(grep -c . "$T_DIR/names.txt")
  [ "$n" -gt 0 ] || fail "$name lists no benchmark"
  rc=0
  FG_BENCH_SMOKE=1 timeout -k 10 120 "$exe" --benchmark_min_time=0.01 --benchmark_out="$T_DIR/out.json" \
    --benchmark_out_format=json >"$T_DIR/run.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || fail "$name: exit $rc (124: took over 120 s; 139: SIGSEGV)"
  /usr/bin/python3 - "$T_DIR/names.txt" "$T_DIR/out.json" "$T_DIR/run.log" <<'EOF' || fail "$name: results missing or in error"
import json, re, sys
names = [l.strip() for l in open(sys.argv[1]) if l.strip()]
out = json.load(open(sys.argv[2]))
console = open(sys.argv[3]).read()
got = {b["name"]: b for b in out.get("benchmarks", [])}
bad = 0
for n in names:
    b = got.get(n)
    if b is None:
        print(f"  {n}: no result in the JSON output"); bad += 1
    elif b.get("error_occurred"):
        print(f"  {n}: error: {b.get('error_message')}"); bad += 1
    elif not b.get("iterations", 0) > 0 or not b.get("real_time", 0) > 0:
        print(f"  {n}: no iterations or no time"); bad += 1
    elif not re.search(r"^" + re.escape(n) + r"\s+\S+ \S+\s+\S+ \S+\s+\d+", console, re.M):
        print(f"  {n}: no result line in the console output"); bad += 1
print(f"{len(names)} benchmarks listed, {len(got)} results, {bad} missing or in error")
sys.exit(1 if bad else 0)
EOF
  log "$name: $n benchmarks, each with its result"
}

# e2e_args NAME: the short-run options of each end-to-end main, one run per line.
e2e_args() {
  case $1 in
    bench-e2e-handshake) echo "--seconds 1" ;;
    bench-e2e-synflood) echo "--seconds 1" ;;
    # The passive side alone (blaster clients), and both sides Floodgate with
    # a hold time (the client's generator keeps its hold FIFO: counted).
    bench-e2e-memory) printf '%s\n' "--connections 20000" "--connections 20000 --pair --hold-ms 3600000" ;;
    *) return 1 ;;
  esac
}

# check_e2e NAME TAG ARGS: the result lines and figures of one run ($T_DIR/TAG.log, .json).
check_e2e() {
  local name=$1 l="$T_DIR/$2.log" j="$T_DIR/$2.json" w="$1 ($2: $3)"
  case $name in
    bench-e2e-handshake)
      expect_line "$l" '^RATIO Floodgate / kernel: [0-9.]+x' "$w"
      expect_line "$l" '^RATIO Floodgate with an application thread / kernel: [0-9.]+x' "$w"
      expect_json "$j" fg_established_per_s 'v > 0' "$w"
      expect_json "$j" fg_app_established_per_s 'v > 0' "$w"
      expect_json "$j" kernel_accepted_per_s 'v > 0' "$w"
      expect_json "$j" ratio 'v > 0' "$w"
      # The handshake floor (the same frames, no TCP work) and Floodgate's share of it.
      expect_line "$l" '^RATIO Floodgate / floor: [0-9.]+ ' "$w"
      expect_json "$j" floor_handshakes_per_s 'v > 0' "$w"
      expect_json "$j" ratio_floor 'v > 0' "$w"
      # Per CPU second on both sides (the lcore threads' time, the kernel
      # threads' and ksoftirqd's): what a shared machine cannot skew.
      expect_line "$l" '^RATIO Floodgate / kernel per CPU second: [0-9.]+x' "$w"
      expect_line "$l" '^RATIO Floodgate with an application thread / kernel per CPU second: [0-9.]+x' "$w"
      expect_json "$j" fg_cpu_s 'v > 0' "$w"
      expect_json "$j" kernel_cpu_s 'v > 0' "$w"
      expect_json "$j" ratio_cpu 'v > 0' "$w"
      expect_json "$j" ratio_app_cpu 'v > 0' "$w"
      # Both ends reconcile: on the lcore exactly (a ring pair loses nothing);
      # through the accept ring exactly, or short by what the counters account
      # for (a full accept ring drops third ACKs, as Linux does). An unexplained
      # difference exits 3 (checked above).
      expect_line "$l" '^RECONCILED \(a\) accepted on the lcore: client established [1-9][0-9]* == responder accepted' "$w"
      expect_json "$j" fg_reconciled 'v == 1' "$w"
      grep -qE '^RECONCILED \(a2\) accept ring \+ application thread: client established [1-9][0-9]* == responder accepted [0-9]+ \(cookies accepted [0-9]+\) == taken by the application thread [0-9]+$' "$l" ||
        grep -qE '^!!!! MISMATCH \(a2\) .*: explained by counted losses below' "$l" ||
        fail "$w: (a2) neither reconciled nor explained"
      expect_json "$j" fg_app_taken 'v > 0' "$w"
      ;;
    bench-e2e-synflood)
      expect_line "$l" '^RATIO Floodgate SYN-ACKs / ring floor: [0-9.]+' "$w"
      expect_json "$j" floor_replies_per_s 'v > 0' "$w"
      expect_json "$j" fg_synacks_per_s 'v > 0' "$w"
      expect_json "$j" fg_cookies_sent 'v > 0' "$w"
      # The kernel baseline runs wherever it can (root, network namespaces:
      # always in CI), and says why not elsewhere.
      if [ "$(id -u)" = 0 ]; then
        expect_line "$l" '^RATIO Floodgate SYN-ACKs per lcore / kernel per core: [0-9.]+x' "$w"
        expect_json "$j" kernel_measured 'v == 1' "$w"
        expect_json "$j" kernel_mpps_per_core 'v > 0' "$w"
        expect_json "$j" kernel_cookies_sent 'v > 0' "$w"
        expect_json "$j" ratio_kernel 'v > 0' "$w"
        local made
        made=$(grep -oE 'namespaces fgsfc-[0-9]+ ' "$l" | grep -oE '[0-9]+')
        [ -n "$made" ] || fail "$w: no namespaces named in its output"
        ip netns list | grep -qE "^fgsf[cs]-$made( |\$)" && fail "$w: left its network namespaces behind"
      else
        expect_line "$l" '^    kernel baseline NOT measured: not root' "$w"
      fi
      ;;
    bench-e2e-memory)
      expect_line "$l" '^RESULT per side' "$w"
      expect_line "$l" '^  responder +20000 connections .* per connection' "$w"
      expect_json "$j" connections 'v == 20000' "$w"
      expect_json "$j" bytes_per_connection 'v > 0' "$w"
      # Every engine allocates connect()'s 8-byte user value per slot: counted.
      expect_json "$j" user_bytes 'v >= 8 * 20000' "$w"
      if grep -q -- '--pair' <<<"$3"; then
        # The client honestly (issue 8): its user values, the active side's
        # tables and the generator (pair rings; with --hold-ms its hold
        # FIFO, 2 x 12 bytes per slot) are in its figure, which adds up.
        expect_line "$l" '^  client +20000 connections .* user values [0-9.]+ B .* generator [0-9.]+ B = [0-9.]+ B per connection' "$w"
        expect_json "$j" client_connections 'v == 20000' "$w"
        expect_json "$j" client_user_bytes 'v >= 8 * 20000' "$w"
        expect_json "$j" client_active_fixed_bytes 'v > 0' "$w"
        expect_json "$j" client_generator_bytes 'v >= 2 * 12 * 20000' "$w"
        /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
parts = sum(d[k] for k in ("pool_bytes", "table_bytes", "wheel_bytes", "xfer_bytes", "client_user_bytes",
                           "client_active_fixed_bytes", "client_generator_bytes"))
ok = parts == d["client_bytes"] and abs(d["client_bytes_per_connection"] * d["client_connections"] - parts) <= 1e-4 * parts
ok = ok and d["client_bytes_per_connection"] > d["bytes_per_connection"]
sys.exit(0 if ok else 1)' "$j" || fail "$w: the client's bytes per connection are not the sum of its parts"
      fi
      ;;
  esac
}

run_e2e() {
  local name=$1 exe=$2 all args rc tag huge n=0
  all=$(e2e_args "$name") || fail "$name: new end-to-end benchmark: add its short-run options to tests/bench/smoke.sh"
  while IFS= read -r args; do
    n=$((n + 1))
    for tag in machine no_huge; do
      if [ "$tag" = no_huge ]; then
        [ "$huge" = 1 ] || break # the first run was on ordinary pages already
        export FG_NO_HUGE=1
      fi
      rc=0
      # shellcheck disable=SC2086  # the options, word by word
      timeout -k 10 100 "$exe" "${EAL[@]}" -- $args --json "$T_DIR/$tag$n.json" >"$T_DIR/$tag$n.log" 2>&1 || rc=$?
      [ "$rc" = 0 ] || fail "$name ($tag: $args): exit $rc (124: took over 100 s)"
      huge=$(json_get "$T_DIR/$tag$n.json" hugepages) || fail "$name ($tag: $args): no JSON output"
      check_e2e "$name" "$tag$n" "$args"
      log "$name ($tag: $args; $([ "$huge" = 1 ] && echo hugepages || echo no hugepages)): $(grep -m1 -E '^(RATIO|RESULT)' "$T_DIR/$tag$n.log")"
    done
    unset FG_NO_HUGE
  done <<<"$all"
}

case ${1:-} in
  micro) run_micro "$2" "$3" ;;
  e2e) run_e2e "$2" "$3" ;;
  complete)
    shift
    missing=0
    while IFS= read -r f; do
      b=$(basename "$f")
      case " $* " in
        *" $b "*) ;;
        *) log "$f has no smoke test: add it to fg_bench_exes (bench/meson.build)"; missing=1 ;;
      esac
    done < <(find "$FG_BUILD/bench" -type f -name 'bench-*' -perm -u+x)
    [ "$missing" = 0 ] || fail "benchmark executables without a smoke test"
    log "every bench-* executable has a smoke test ($# of them)"
    ;;
  *) fail "usage: smoke.sh micro|e2e NAME EXE | smoke.sh complete NAME..." ;;
esac
log "PASS"
