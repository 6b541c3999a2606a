#!/usr/bin/python3
"""fg-plot REPORT.json OUTDIR: draws the per-second series of a Floodgate
report (fg-loadgen --json, fg-server --json, fg-synresponder --json) with
gnuplot (Debian's gnuplot-nox) as SVG files in OUTDIR:

  rate.svg  connections per second over time: attempted and established
            (fg-loadgen); SYNs in, SYN-ACKs out and accepted (servers)
  open.svg  connections open over time: the generator's open ones, every
            connection block in use, TIME-WAIT held (fg-loadgen); in use
            (servers)
  rtt.svg   handshake RTT p50, p99 and p99.9 of each second, microseconds,
            log scale (fg-loadgen; seconds without a handshake are gaps)

Each plot's data is also left next to it as NAME.dat (whitespace separated,
one line a second) for other tools. Exit status: 0, 1 if gnuplot fails, 2 for
a bad report or usage.
"""
import json
import math
import os
import shutil
import subprocess
import sys


def die(code, msg):
    print("fg-plot: " + msg, file=sys.stderr)
    sys.exit(code)


def num(v):
    return "NaN" if v is None or (isinstance(v, float) and not math.isfinite(v)) else repr(v)


def write_dat(path, header, rows):
    with open(path, "w") as f:
        f.write("# " + " ".join(header) + "\n")
        for r in rows:
            f.write(" ".join(num(v) for v in r) + "\n")


def plot(outdir, name, title, ylabel, columns, rows, logscale=False):
    """columns: [(header, legend)], rows: [[t, v1, v2...]]"""
    dat = os.path.join(outdir, name + ".dat")
    svg = os.path.join(outdir, name + ".svg")
    write_dat(dat, ["t"] + [c[0] for c in columns], rows)
    lines = [
        "set terminal svg size 900,480 dynamic enhanced font 'sans,11' background rgb 'white'",
        "set output '%s'" % svg.replace("'", "''"),
        "set title '%s' noenhanced" % title.replace("'", "''"),
        "set xlabel 'seconds'",
        "set ylabel '%s'" % ylabel,
        "set grid",
        "set key below",
        "set datafile missing 'NaN'",
        "set yrange [%s:*]" % ("1" if logscale else "0"),
    ]
    if logscale:
        lines.append("set logscale y")
    plots = []
    for i, (_, legend) in enumerate(columns):
        plots.append("'%s' using 1:%d with linespoints pointtype 7 pointsize 0.5 title '%s'"
                     % (dat.replace("'", "''"), i + 2, legend))
    lines.append("plot " + ", ".join(plots))
    r = subprocess.run(["gnuplot"], input="\n".join(lines) + "\n", text=True, capture_output=True)
    if r.returncode != 0:
        die(1, "gnuplot failed on %s: %s" % (name, r.stderr.strip()))
    return svg


def main():
    if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr if len(sys.argv) != 2 else sys.stdout)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    report, outdir = sys.argv[1], sys.argv[2]
    try:
        with open(report) as f:
            d = json.load(f)
    except OSError as e:
        die(2, "cannot read %s: %s" % (report, e.strerror))
    except ValueError as e:
        die(2, "%s is not JSON: %s" % (report, e))
    if not isinstance(d, dict) or "app" not in d:
        die(2, "%s is not a Floodgate report (no \"app\")" % report)
    series = d.get("series")
    if not isinstance(series, list) or not series:
        die(2, "%s has no per-second samples (\"series\" is empty: a run shorter than a second?)" % report)
    if shutil.which("gnuplot") is None:
        die(1, "gnuplot is not installed (Debian: apt-get install gnuplot-nox)")
    os.makedirs(outdir, exist_ok=True)
    app = d["app"]
    t = [s["t"] for s in series]
    made = []
    try:
        if app == "fg-loadgen":
            made.append(plot(outdir, "rate", "%s: connections per second" % app, "connections/s",
                             [("attempted_per_s", "attempted/s"), ("established_per_s", "established/s")],
                             [[s["t"], s["attempted_per_s"], s["established_per_s"]] for s in series]))
            made.append(plot(outdir, "open", "%s: connections open" % app, "connections",
                             [("open", "open (generator)"), ("connections_in_use", "in use (all states)"),
                              ("time_wait", "TIME-WAIT")],
                             [[s["t"], s["open"], s["connections_in_use"], s["time_wait"]] for s in series]))

            def pct(s, k):
                r = s["rtt_us"]
                return r[k] if r["n"] > 0 else None
            made.append(plot(outdir, "rtt", "%s: handshake RTT per second" % app, "microseconds",
                             [("p50", "p50"), ("p99", "p99"), ("p999", "p99.9")],
                             [[s["t"], pct(s, "p50"), pct(s, "p99"), pct(s, "p999")] for s in series],
                             logscale=True))
        elif app in ("fg-server", "fg-synresponder"):
            made.append(plot(outdir, "rate", "%s: per second" % app, "per second",
                             [("syn_per_s", "SYNs in/s"), ("synack_per_s", "SYN-ACKs out/s"),
                              ("accepted_per_s", "accepted/s"), ("cookies_accepted_per_s", "cookie ACKs/s")],
                             [[s["t"], s["syn_per_s"], s["synack_per_s"], s["accepted_per_s"],
                               s["cookies_accepted_per_s"]] for s in series]))
            made.append(plot(outdir, "open", "%s: connections open" % app, "connections",
                             [("connections_in_use", "in use")],
                             [[s["t"], s["connections_in_use"]] for s in series]))
            print("fg-plot: %s reports have no handshake RTTs: no rtt.svg" % app)
        else:
            die(2, "unknown app %r in %s" % (app, report))
    except (KeyError, TypeError) as e:
        die(2, "%s: a sample lacks %s (not a report of this version?)" % (report, e))
    print("fg-plot: %d samples (%.0f s) -> %s" % (len(t), t[-1], ", ".join(made)))


if __name__ == "__main__":
    main()
