#!/usr/bin/python3
"""Issue 8 target 3 from an fg-loadgen JSON report (--json FILE): how long the
run took to establish N connections, how fast the first and the last million
(or tenth, for runs under 10 M) opened, and whether anything stalled.

    scale_report.py REPORT.json N

Read from the report's per-second series (`series`: established_per_s over
each sample's elapsed interval; the crossing of N and of each million is
interpolated inside its sample) and its totals (established, syn_retransmits,
challenge_acks of both sides, no_port, timed_out). A stall is a sample before N was reached
in which nothing was established. Prints one RESULT line (short of N: how many were
established, and the last million of those); exit 0 when the report could be
read, whether N was reached or not, 1 when it could not. Targets are printed
beside the figures, never enforced: a benchmark measures.
"""
import json
import sys


def main():
    if len(sys.argv) != 3:
        print("usage: scale_report.py REPORT.json N", file=sys.stderr)
        return 2
    path, n = sys.argv[1], int(sys.argv[2])
    with open(path) as f:
        d = json.load(f)
    series = d.get("series") or []
    if not series:
        print(f"scale_report: {path} has no per-second series", file=sys.stderr)
        return 1
    step = 1_000_000 if n >= 2_000_000 else max(1, n // 10)
    # (t, cumulative established) at each sample's end, starting at (0, 0).
    points = [(0.0, 0.0)]
    for s in series:
        t0, c0 = points[-1]
        t = float(s["t"])
        points.append((t, c0 + float(s["established_per_s"]) * (t - t0)))

    # The series' rates are rounded: a cumulative sum may end a little short
    # of the report's total. Counts within this of `count` have reached it.
    slack = max(1.0, 1e-4 * n)

    def time_at(count):
        """Elapsed seconds when the cumulative count reached `count`, or None."""
        for (ta, ca), (tb, cb) in zip(points, points[1:]):
            if cb >= count - slack:
                return ta + (tb - ta) * (min(1.0, (count - ca) / (cb - ca)) if cb > ca else 1.0)
        return None

    t_n = time_at(n)
    # Short of N: the last million (or tenth) of those established.
    end = n if t_n is not None else points[-1][1]
    t_end = time_at(end)
    t_first = time_at(step)
    t_last0 = time_at(end - step) if end >= step else None
    stalls = 0
    for (ta, ca), (tb, cb) in zip(points, points[1:]):
        if ca < n - slack and cb - ca < 0.5:
            stalls += 1
    first = step / t_first if t_first else 0.0
    last = step / (t_end - t_last0) if t_end is not None and t_last0 is not None and t_end > t_last0 else 0.0
    est = d.get("established", 0)
    resp = d.get("responder") or {}
    challenge = d.get("challenge_acks", 0) + resp.get("challenge_acks", 0)  # either side
    what = "million" if step == 1_000_000 else f"{step}"
    print(
        f"RESULT {n} established in {t_n:.1f} s (target <= 20 s at 10 M)" if t_n is not None
        else f"RESULT {n} NOT reached: {est} established in {d.get('elapsed_s', 0):.1f} s",
        end="",
    )
    print(
        f"; first {what} {first / 1e3:.0f}k/s, last {what}{'' if t_n is not None else ' established'} "
        f"{last / 1e3:.0f}k/s, "
        f"last/first {last / first if first else 0:.2f} (target >= 0.5); seconds with nothing established before "
        f"{n}: {stalls}; SYN retransmits {d.get('syn_retransmits', 0)}, challenge ACKs {challenge}, "
        f"no_port {d.get('no_port', 0)}, timed out {d.get('timed_out', 0)} (targets 0); held at the end "
        f"{d.get('connections_in_use', 0)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
