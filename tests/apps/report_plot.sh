#!/usr/bin/env bash
# --json reports and fg-plot. A 4-second fg-loadgen --responder run writes a
# report that validates against apps/report.schema.json, whose per-second
# series (at least 3 samples) adds up to the totals, with RTT p50 <= p99 <=
# p99.9; so do an fg-synresponder and an fg-server report (a looped-back
# net_ring port: no root); the summary has p99.9, and draining ends with
# nothing left closing. fg-plot draws rate.svg, open.svg and rtt.svg from
# the loadgen report: each SVG holds its named series with one point per
# sample, at heights that follow the report's values; fg-plot refuses a
# report without samples.
. "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null || skip_or_fail "needs gnuplot (gnuplot-nox)"
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || skip_or_fail "needs python3-jsonschema"
SCHEMA="$T_SRC/apps/report.schema.json"
EAL=(--no-pci --log-level=lib.eal:error)

rc=0
FG_NO_HUGE=1 run_app lg 60 "$FG_BUILD/apps/fg-loadgen" -l 0-1 "${EAL[@]}" -- --ip 198.18.1.0-198.18.1.255/16 \
  --target 198.18.0.2:80 --responder --cps 5000 --concurrency 200 --close fin --time-wait-ms 1500 --max-conns 65536 \
  --duration 4 --json "$T_DIR/lg.json" || rc=$?
[ "$rc" = 0 ] || fail "fg-loadgen: exit $rc"
/usr/bin/python3 "$T_SRC/tests/apps/check_report.py" "$SCHEMA" "$T_DIR/lg.json" --min-samples 3 ||
  fail "the fg-loadgen report does not hold"
grep -q "^fg-loadgen: .* established in .* p99.9 [0-9]* us$" "$T_DIR/lg.log" || fail "no p99.9 in the summary"
# Draining: the generator stops, held and closing connections finish (the
# TIME-WAIT left to expire is drain.sh's).
last=$(grep '^\[fg-loadgen draining' "$T_DIR/lg.log" | tail -1)
[[ "$last" =~ \]\ 0\ connection\(s\)\ still\ closing,\ [0-9]+\ in\ TIME-WAIT ]] || fail "draining ended with: $last"
log "fg-loadgen report: valid, $(json_get "$T_DIR/lg.json" established) established"

for app in fg-synresponder fg-server; do
  rc=0
  FG_NO_HUGE=1 run_app "$app" 60 "$FG_BUILD/apps/$app" -l 0 "${EAL[@]}" --vdev net_ring0 -- --ip 198.18.0.2/24 \
    --listen 80 --max-conns 4096 --duration 2 --json "$T_DIR/$app.json" || rc=$?
  [ "$rc" = 0 ] || fail "$app: exit $rc"
  /usr/bin/python3 "$T_SRC/tests/apps/check_report.py" "$SCHEMA" "$T_DIR/$app.json" --min-samples 1 ||
    fail "the $app report does not hold"
  log "$app report: valid"
done

"$FG_BUILD/apps/fg-plot" "$T_DIR/lg.json" "$T_DIR/plots" >"$T_DIR/plot.log" 2>&1 || fail "fg-plot failed"
/usr/bin/python3 - "$T_DIR/lg.json" "$T_DIR/plots" <<'PY' || fail "the SVGs do not hold the report's series"
import json, math, re, sys
d = json.load(open(sys.argv[1])); out = sys.argv[2]; s = d["series"]
def groups(svg):
    """{title: [(x, y) of each point marker]} of every plotted series."""
    res = {}
    for part in open(svg).read().split('<g id="gnuplot_plot_')[1:]:
        title = re.search(r"<title>([^<]*)</title>", part).group(1)
        res[title] = [(float(a), float(b)) for a, b in
                      re.findall(r"<use xlink:href='#gpPt\d+' transform='translate\(([\d.]+),([\d.]+)\)", part)]
    return res
want = {
    "rate.svg": {"attempted/s": "attempted_per_s", "established/s": "established_per_s"},
    "open.svg": {"open (generator)": "open", "in use (all states)": "connections_in_use", "TIME-WAIT": "time_wait"},
    "rtt.svg": {"p50": ("rtt_us", "p50"), "p99": ("rtt_us", "p99"), "p99.9": ("rtt_us", "p999")},
}
bad = []
for svg, series in want.items():
    g = groups(f"{out}/{svg}")
    for title, key in series.items():
        if title not in g:
            bad.append(f"{svg}: no series '{title}'"); continue
        vals = [x[key[0]][key[1]] if x[key[0]]["n"] else None for x in s] if isinstance(key, tuple) else [x[key] for x in s]
        # gnuplot draws one marker per point, and one more in the key (below the plot: the lowest).
        pts = g[title]
        defined = [v for v in vals if v is not None]
        if len(pts) != len(defined) + 1:
            bad.append(f"{svg} '{title}': {len(pts) - 1} points for {len(defined)} samples"); continue
        key = max(pts, key=lambda p: p[1])
        data = sorted(p for p in pts if p != key)
        if len(set(defined)) < 2:
            continue
        # Heights are an affine map of the values (of their logs on the log-scale RTT plot), within a pixel.
        f = (lambda v: math.log(v)) if svg == "rtt.svg" else (lambda v: v)
        (ya, va), (yb, vb) = (data[defined.index(min(defined))][1], f(min(defined))), (data[defined.index(max(defined))][1], f(max(defined)))
        if not ya > yb:
            bad.append(f"{svg} '{title}': the largest value is not drawn highest"); continue
        for (x, y), v in zip(data, defined):
            want_y = ya + (f(v) - va) * (yb - ya) / (vb - va)
            if abs(y - want_y) > 1.5:
                bad.append(f"{svg} '{title}': value {v} drawn at y {y}, expected {want_y:.1f}"); break
for b in bad: print(b)
sys.exit(1 if bad else 0)
PY
log "fg-plot: $(cat "$T_DIR/plot.log")"

# A server's report: rates and connections open; no RTTs to draw, and it says so.
"$FG_BUILD/apps/fg-plot" "$T_DIR/fg-server.json" "$T_DIR/splots" >"$T_DIR/splot.log" 2>&1 || fail "fg-plot on fg-server's report failed"
for f in rate open; do
  grep -q "<title>connections\|<title>SYNs in/s</title>\|<title>in use</title>" "$T_DIR/splots/$f.svg" ||
    fail "fg-server's $f.svg holds no series"
done
[ ! -e "$T_DIR/splots/rtt.svg" ] && grep -q "no handshake RTTs" "$T_DIR/splot.log" || fail "fg-plot on a server report: rtt.svg?"

# A report without samples is refused with a message.
echo '{"app": "fg-loadgen", "series": []}' >"$T_DIR/empty.json"
rc=0
"$FG_BUILD/apps/fg-plot" "$T_DIR/empty.json" "$T_DIR/p2" 2>"$T_DIR/empty.err" || rc=$?
[ "$rc" = 2 ] && grep -q "no per-second samples" "$T_DIR/empty.err" || fail "fg-plot on an empty series: exit $rc"
log "PASS"
