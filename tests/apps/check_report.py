#!/usr/bin/python3
"""check_report.py SCHEMA REPORT [--min-samples N]: validates a Floodgate
report against apps/report.schema.json and checks that its per-second series
adds up to its totals. Exit 0 or 1 with the reasons."""
import json
import sys

import jsonschema


def main():
    schema_path, report_path = sys.argv[1], sys.argv[2]
    min_samples = int(sys.argv[sys.argv.index("--min-samples") + 1]) if "--min-samples" in sys.argv else 1
    schema = json.load(open(schema_path))
    jsonschema.Draft202012Validator.check_schema(schema)
    d = json.load(open(report_path))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(d), key=lambda e: list(e.path))
    bad = ["schema: %s at /%s" % (e.message, "/".join(str(p) for p in e.path)) for e in errors]
    s = d.get("series", [])
    if len(s) < min_samples:
        bad.append("series: %d samples, expected at least %d" % (len(s), min_samples))
    prev = 0.0
    for i, x in enumerate(s):
        if not x["t"] > prev:
            bad.append("series[%d]: t %s not after %s" % (i, x["t"], prev))
        prev = x["t"]
    if d.get("app") == "fg-loadgen" and s:
        # The samples' established add up to (at most) the total: the last
        # partial second is not sampled.
        t0 = 0.0
        est = att = 0.0
        for x in s:
            dt = x["t"] - t0
            est += x["established_per_s"] * dt
            att += x["attempted_per_s"] * dt
            t0 = x["t"]
            r = x["rtt_us"]
            if r["n"] and not r["p50"] <= r["p99"] <= r["p999"]:
                bad.append("rtt at t=%s: p50 %s p99 %s p99.9 %s out of order" % (x["t"], r["p50"], r["p99"], r["p999"]))
        if not est <= d["established"] + 0.5:
            bad.append("series: %.1f established in the samples, %d in all" % (est, d["established"]))
        if s[-1]["t"] >= 3 and est < 0.5 * d["established"] * (s[-1]["t"] / d["elapsed_s"]):
            bad.append("series: %.1f established in the samples of %.1f s, %d in %.1f s"
                       % (est, s[-1]["t"], d["established"], d["elapsed_s"]))
        if not d["rtt_us_p50"] <= d["rtt_us_p99"] <= d["rtt_us_p999"] <= max(d["rtt_us_max"], d["rtt_us_p999"]):
            bad.append("rtt percentiles out of order")
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
