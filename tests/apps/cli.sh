#!/usr/bin/env bash
# What every app does with its command line: --version, --help and
# --list-counters (the counter registry: key, block, description; with or
# without "--") exit 0; bad options, bad config files and start-up errors
# (no such port, bad EAL options, a port listened on twice, an unwritable
# --json or --pcap) exit non-zero with a message naming the problem, and
# never crash; --max-error-rate makes fg-loadgen exit 3 and say why.
. "$(dirname "$0")/lib.sh"
EAL=(--no-pci --log-level=lib.eal:error)
export FG_NO_HUGE=1

# expect NAME STATUS PATTERN CMD...: CMD exits STATUS and its output matches PATTERN.
expect() {
  local name=$1 want=$2 pat=$3 rc=0
  shift 3
  run_app "$name" 60 "$@" || rc=$?
  [ "$rc" = "$want" ] || fail "$name: exit status $rc, expected $want"
  grep -qE -- "$pat" "$T_DIR/$name.log" || fail "$name: output does not match '$pat'"
  grep -qiE "segmentation|core dumped|terminate called|assert" "$T_DIR/$name.log" && fail "$name: crashed"
  log "$name: exit $rc: $(grep -E -- "$pat" "$T_DIR/$name.log" | head -1)"
}

for app in fg-loadgen fg-server fg-synresponder; do
  A="$FG_BUILD/apps/$app"
  if [ $app = fg-loadgen ]; then REQ=(--target 198.18.0.1:80 --connections 1 --syn-retries 0); else REQ=(--listen 80); fi
  expect "$app-version" 0 "^$app [0-9]+\.[0-9]+\.[0-9]+ \(git [^)]+\)$" "$A" --version
  expect "$app-version2" 0 "^$app [0-9]+\.[0-9]+\.[0-9]+" "$A" -l 0 -- --version
  expect "$app-help" 0 "^usage: $app \[EAL options\] -- \[options\]" "$A" --help
  grep -q -- "--pcap FILE" "$T_DIR/$app-help.log" || fail "$app --help: no --pcap"
  expect "$app-counters" 0 "^syn_received +tcp +SYNs that reached a listener$" "$A" --list-counters
  grep -q "^drops/bad_tcp_cksum  *drops  *TCP checksum wrong" "$T_DIR/$app-counters.log" || fail "$app --list-counters: no drops"
  expect "$app-badopt" 2 "^$app: unknown option '--frobnicate'" "$A" -l 0 -- --frobnicate
  expect "$app-badval" 2 "^$app: --mtu: 100 is out of range" "$A" -l 0 -- --ip 198.18.0.2/24 --mtu 100
  expect "$app-noconfig" 2 "^$app: cannot read config file /nonexistent.ini" "$A" -l 0 -- --config /nonexistent.ini
  printf '[floodgate]\nfrobnicate = 1\n' >"$T_DIR/bad.ini"
  expect "$app-badkey" 2 "config file: unknown key 'frobnicate'" "$A" -l 0 -- --config "$T_DIR/bad.ini"
  expect "$app-noip" 2 "^$app: give .*--ip" "$A" -l 0 -- "${REQ[@]}"
  expect "$app-badeal" 1 "^$app: EAL initialisation failed" "$A" -l 99 "${EAL[@]}" -- --ip 198.18.0.2/24 "${REQ[@]}"
  expect "$app-noport" 1 "^$app: port 3 does not exist" "$A" -l 0 "${EAL[@]}" -- --ip 198.18.0.2/24 --port 3 \
    "${REQ[@]}"
  expect "$app-pcap" 1 "^$app: --pcap: cannot create /nonexistent/x.pcapng" "$A" -l 0 "${EAL[@]}" --vdev net_ring0 -- \
    --ip 198.18.0.2/24 "${REQ[@]}" --max-conns 4096 --duration 1 --pcap /nonexistent/x.pcapng
  expect "$app-json" 1 "^$app: cannot write /nonexistent/x.json" "$A" -l 0 "${EAL[@]}" --vdev net_ring0 -- \
    --ip 198.18.0.2/24 "${REQ[@]}" --max-conns 4096 --duration 1 --json /nonexistent/x.json
done
for app in fg-server fg-synresponder; do
  expect "$app-twice" 1 "^$app: listen on port 80: listen: address already in use" "$FG_BUILD/apps/$app" -l 0 \
    "${EAL[@]}" --vdev net_ring0 -- --ip 198.18.0.2/24 --listen 80,80 --max-conns 4096 --duration 1
done

# --max-error-rate: one source address, two local ports, ten connections held
# 1 ms: two are established, eight find no port: 0.8 of the tries failed.
LGA=(-l 0-1 "${EAL[@]}" -- --ip 198.18.1.1/16 --target 198.18.0.2:80 --responder --max-conns 4096 --port-range
     40000-40001 --close hold --hold-ms 1 --connections 10 --cps 1000 --duration 20)
expect rate_over 3 "error rate 0.8000 exceeds --max-error-rate 0.5: 8 of 10 tried failed \(refused 0, timed out 0, unreachable 0, no port 8\): exit 3" \
  "$FG_BUILD/apps/fg-loadgen" "${LGA[@]}" --max-error-rate 0.5 --json "$T_DIR/over.json"
[ "$(json_get "$T_DIR/over.json" exit/status)" = 3 ] || fail "rate_over: the report's exit status"
json_get "$T_DIR/over.json" exit/reason | grep -q "exceeds --max-error-rate" || fail "rate_over: the report's reason"
grep -q "^fg-loadgen: 2 established" "$T_DIR/rate_over.log" || fail "rate_over: no summary"
expect rate_under 0 "^fg-loadgen: 2 established" "$FG_BUILD/apps/fg-loadgen" "${LGA[@]}" --max-error-rate 0.9
expect rate_bad 2 "max-error-rate: 1.5 is out of range" "$FG_BUILD/apps/fg-loadgen" "${LGA[@]}" --max-error-rate 1.5
log "PASS"
