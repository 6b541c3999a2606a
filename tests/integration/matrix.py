#!/usr/bin/python3
"""The malformed-packet matrix: the same crafted segments to a Linux socket
and to Floodgate, and what each did about them.

Two targets listen on the same port: Floodgate (fg-server behind a net_tap,
--syncookies always --on-accept hold) and the Linux kernel of a second
namespace (tcp_syncookies=2, a listener that accepts and holds). For every
case, scapy sends the frames from a fresh source port and records the
target's reaction from what comes back within a short window: nothing, an
RST, a SYN-ACK, an ACK (a duplicate or challenge ACK), an ICMP error. Cases
on an established connection first complete a handshake from that port.

Floodgate's reaction must equal the kernel's -- the kernel is the oracle,
whatever its version -- except in the cases marked `deliberate`, where the
expected Floodgate reaction is given with the reason (documented in
lib/tcp/FIDELITY.md). For Floodgate every case also names the counters that
must have moved (read over rte_telemetry before and after the case).

Prints a table and one JSON object (--out): per case, both reactions and the
counter deltas. Exit status 0 if every case held.
"""
import argparse
import json
import os
import socket
import sys
import time

import errno

from scapy.all import AsyncSniffer, Ether, ICMP, IP, Raw, TCP, conf, fragment, get_if_hwaddr, sendp
from scapy.layers.inet import TCPerror

conf.verb = 0

WAIT = 0.5  # s: a reaction, if any, comes within this (both answer in well under 1 ms)
SETTLE = 10  # s: longest wait for Floodgate's counters to show a case was handled (a loaded machine)


def flags_of(p):
    f = p[TCP].flags
    s = ""
    for bit, ch in ((0x02, "S"), (0x04, "R"), (0x10, "A"), (0x01, "F")):
        if f & bit:
            s += ch
    return s


class Target:
    def __init__(self, name, iface, ip, mac, src, telemetry=None):
        self.name = name
        self.iface = iface
        self.ip = ip
        self.mac = mac
        self.src = src
        self.srcmac = get_if_hwaddr(iface)
        self.telemetry = telemetry
        self.pkts = []
        self.sniffer = AsyncSniffer(iface=iface, filter="tcp or icmp", store=False, prn=self.pkts.append)
        self.sniffer.start()
        time.sleep(0.5)
        self.seen = 0

    def new_packets(self):
        n = len(self.pkts)
        out = self.pkts[self.seen:n]
        self.seen = n
        return out

    def eth(self, dst=None):
        return Ether(src=self.srcmac, dst=dst or self.mac)

    def send(self, frames):
        for f in frames:
            try:
                sendp(f, iface=self.iface)
            except OSError as e:
                # A veth whose peer drops the frame (longer than the peer's
                # MTU) says so right away: the kernel dropped it.
                if e.errno != errno.ENOBUFS:
                    raise

    def stop(self):
        self.sniffer.stop()


class Telemetry:
    """rte_telemetry v2 client: /floodgate/stats of fg-server."""

    def __init__(self, prefix):
        self.path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix

    def stats(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(self.path)
        s.recv(16384)  # the greeting
        s.send(b"/floodgate/stats")
        d = json.loads(s.recv(1 << 20).decode())
        s.close()
        return d["/floodgate/stats"]


def reaction(target, sport, pkts):
    """The target's answers to port `sport`: a sorted, comma-joined set."""
    seen = set()
    for p in pkts:
        if IP not in p or p[IP].src == target.src:
            continue
        if TCP in p and p[IP].src == target.ip and p[TCP].dport == sport:
            seen.add(flags_of(p))
        elif ICMP in p and p[IP].dst == target.src:
            inner = p[ICMP].payload
            if TCPerror in inner and inner[TCPerror].sport == sport:
                seen.add("ICMP%d/%d" % (p[ICMP].type, p[ICMP].code))
    return ",".join(sorted(seen)) or "none"


# ---- the cases --------------------------------------------------------------
# Each case: name, builder(target, sport, ctx) -> frames, est (needs an
# established connection first), fg counters that must move ({name: delta or
# None for "> 0"}), deliberate (None, or (floodgate reaction, why)).

def syn(t, sport, seq=1000, **kw):
    ip = kw.pop("ip", {})
    tcp = kw.pop("tcp", {})
    return t.eth(kw.pop("dst_mac", None)) / IP(src=kw.pop("src", t.src), dst=kw.pop("dst", t.ip), **ip) / \
        TCP(sport=sport, dport=kw.pop("dport", PORT), seq=seq, flags=kw.pop("flags", "S"), window=64240, **tcp)


def raw_opts(t, sport, opts, flags="S"):
    """A SYN whose TCP options are the raw bytes `opts` (padded with EOL)."""
    opts = opts + b"\0" * (-len(opts) % 4)
    p = syn(t, sport, flags=flags)
    p[TCP].dataofs = 5 + len(opts) // 4
    p[TCP].remove_payload()
    return p / Raw(opts)


def rebuild(p):
    return Ether(bytes(p))


def inet_cksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_options(t, sport, opts):
    """A SYN with the raw IP options `opts` (padded with EOL), checksums right."""
    opts = opts + b"\0" * (-len(opts) % 4)
    b = bytearray(bytes(syn(t, sport)))
    b[34:34] = opts
    b[14] = 0x45 + len(opts) // 4
    b[16:18] = (len(b) - 14).to_bytes(2, "big")
    b[24:26] = b"\0\0"
    ihl = (b[14] & 15) * 4
    b[24:26] = inet_cksum(bytes(b[14:14 + ihl])).to_bytes(2, "big")
    return [Ether(bytes(b))]


def corrupt_ip_cksum(t, sport):
    p = rebuild(syn(t, sport))
    p[IP].chksum ^= 0x5555
    return [p]


def corrupt_tcp_cksum(t, sport):
    p = rebuild(syn(t, sport))
    p[TCP].chksum ^= 0x5555
    return [p]


def fragments(t, sport):
    p = syn(t, sport) / Raw(b"x" * 64)
    return [t.eth() / f for f in fragment(p[IP], fragsize=32)]


def first_fragment(t, sport):
    p = syn(t, sport) / Raw(b"x" * 64)
    return [t.eth() / fragment(p[IP], fragsize=32)[0]]


def truncated_tcp(t, sport):
    p = rebuild(syn(t, sport))
    b = bytearray(bytes(p))
    b = b[:14 + 20 + 12]  # IP says 32 bytes: 12 of TCP
    b[16:18] = (32).to_bytes(2, "big")
    q = Ether(bytes(b))
    del q[IP].chksum
    return [Ether(bytes(q))]


def doff(t, sport, n):
    p = rebuild(syn(t, sport))
    p[TCP].dataofs = n
    del p[TCP].chksum
    return [rebuild(p)]


def ip_total_short(t, sport):
    p = rebuild(syn(t, sport))
    p[IP].len = 16  # < the IP header
    del p[IP].chksum
    return [rebuild(p)]


def ihl_beyond(t, sport):
    p = rebuild(syn(t, sport))
    p[IP].ihl = 15  # 60 bytes of header in a 40-byte packet
    del p[IP].chksum
    return [rebuild(p)]


def oversize(t, sport):
    return [syn(t, sport) / Raw(b"x" * 1600)]


def est(t, sport, ctx, flags, dseq=0, dack=0, payload=b""):
    """A segment on the connection from `sport`: SEQ = RCV.NXT of the target + dseq, ACK = its SND.NXT + dack."""
    p = t.eth() / IP(src=t.src, dst=t.ip) / TCP(sport=sport, dport=PORT, flags=flags, window=64240,
                                                seq=(ctx["snd"] + dseq) % 2**32, ack=(ctx["rcv"] + dack) % 2**32)
    if payload:
        p = p / Raw(payload)
    return [p]


PORT = 8080
CLOSED = 9

CASES = [
    # --- to the listener: well formed, as controls ---
    ("syn", lambda t, s, c: [syn(t, s)], False, {"syn_received": 1, "cookies_sent": 1}, None),
    ("syn_ttl0", lambda t, s, c: [syn(t, s, ip={"ttl": 0})], False, {"syn_received": 1}, None),
    ("syn_with_data", lambda t, s, c: [syn(t, s) / Raw(b"x" * 100)], False, {"syn_received": 1}, None),
    # --- IP header ---
    ("ip_options_rr", lambda t, s, c: ip_options(t, s, b"\x07\x07\x04" + b"\0" * 4), False,
     {"syn_received": 1}, None),
    ("ip_options_nop", lambda t, s, c: ip_options(t, s, b"\x01\x01\x01\x00"), False, {"syn_received": 1}, None),
    ("ip_options_router_alert", lambda t, s, c: ip_options(t, s, b"\x94\x04\x00\x00"), False,
     {"syn_received": 1}, None),
    ("ip_options_lsrr", lambda t, s, c: ip_options(t, s, b"\x83\x07\x04\xc6\x12\x00\x09"), False,
     {"drop_ip_source_route": 1}, None),
    ("ip_options_bad_length", lambda t, s, c: ip_options(t, s, b"\x07\x09\x04\x00"), False,
     {"drop_bad_ip_options": 1},
     ("none", "Linux also sends ICMP parameter problem; we send no ICMP errors")),
    ("ip_bad_checksum", lambda t, s, c: corrupt_ip_cksum(t, s), False, {"drop_bad_ip_cksum": 1}, None),
    ("ip_total_length_short", lambda t, s, c: ip_total_short(t, s), False, {"drop_ip_total_len": 1}, None),
    ("ip_ihl_beyond_packet", lambda t, s, c: ihl_beyond(t, s), False, {"drop_truncated_ip": 1}, None),
    ("ip_fragments", lambda t, s, c: fragments(t, s), False, {"drop_ip_fragment": 3},
     ("none", "no IP reassembly: fragments are counted drops (Linux reassembles and answers)")),
    ("ip_first_fragment_only", lambda t, s, c: first_fragment(t, s), False, {"drop_ip_fragment": 1}, None),
    ("oversize_frame", lambda t, s, c: oversize(t, s), False, {"oversize": 1}, None),
    # --- addresses ---
    ("src_is_target_land", lambda t, s, c: [syn(t, s, src=t.ip)], False, {"martian_src": 1}, None),
    ("src_subnet_broadcast", lambda t, s, c: [syn(t, s, src=BCAST[t.name])], False, {"martian_src": 1},
     ("none", "no reply to a broadcast source: Linux drops it only with rp_filter on (Debian's host default), "
              "the reference namespace has it off")),
    ("src_loopback", lambda t, s, c: [syn(t, s, src="127.0.0.1")], False, {"drop_bad_src_addr": 1}, None),
    ("src_zeronet", lambda t, s, c: [syn(t, s, src="0.1.2.3")], False, {"drop_bad_src_addr": 1}, None),
    ("src_multicast", lambda t, s, c: [syn(t, s, src="224.0.0.9")], False, {"drop_bad_src_addr": 1}, None),
    ("src_limited_broadcast", lambda t, s, c: [syn(t, s, src="255.255.255.255")], False,
     {"drop_bad_src_addr": 1}, None),
    ("dst_multicast", lambda t, s, c: [syn(t, s, dst="224.0.0.9")], False, {"drop_bad_dst_addr": 1}, None),
    ("dst_subnet_broadcast", lambda t, s, c: [syn(t, s, dst=BCAST[t.name])], False, {"to_broadcast": 1}, None),
    ("mac_broadcast", lambda t, s, c: [syn(t, s, dst_mac="ff:ff:ff:ff:ff:ff")], False, {"l2_not_unicast": 1},
     None),
    ("mac_other_host", lambda t, s, c: [syn(t, s, dst_mac="02:00:00:00:77:77")], False, {"l2_otherhost": 1},
     None),
    # --- TCP header ---
    ("tcp_bad_checksum", lambda t, s, c: corrupt_tcp_cksum(t, s), False, {"drop_bad_tcp_cksum": 1}, None),
    ("tcp_truncated_header", lambda t, s, c: truncated_tcp(t, s), False, {"drop_truncated_tcp": 1}, None),
    ("tcp_doff_below_5", lambda t, s, c: doff(t, s, 4), False, {"drop_bad_tcp_doff": 1}, None),
    ("tcp_doff_beyond_packet", lambda t, s, c: doff(t, s, 15), False, {"drop_bad_tcp_doff": 1}, None),
    ("opt_length_0", lambda t, s, c: [raw_opts(t, s, b"\x02\x00\x05\xb4")], False, {"syn_received": 1}, None),
    ("opt_length_1", lambda t, s, c: [raw_opts(t, s, b"\x03\x01\x07")], False, {"syn_received": 1}, None),
    ("opt_overrunning", lambda t, s, c: [raw_opts(t, s, b"\x01\x01\x08\x0a\x00\x00")], False,
     {"syn_received": 1}, None),
    ("opt_wscale_15", lambda t, s, c: [raw_opts(t, s, b"\x02\x04\x05\xb4\x01\x03\x03\x0f")], False,
     {"syn_received": 1}, None),
    ("opt_mss_0", lambda t, s, c: [raw_opts(t, s, b"\x02\x04\x00\x00")], False, {"syn_received": 1}, None),
    # --- flags to the listener ---
    ("syn_fin", lambda t, s, c: [syn(t, s, flags="SF")], False, {"synfin_dropped": 1}, None),
    ("syn_rst", lambda t, s, c: [syn(t, s, flags="SR")], False, {"synrst_dropped": 1}, None),
    ("no_flags", lambda t, s, c: [syn(t, s, flags="")], False, {"noflags_dropped": 1}, None),
    ("fin_only", lambda t, s, c: [syn(t, s, flags="F")], False, {"listen_no_syn_dropped": 1}, None),
    ("rst_to_listener", lambda t, s, c: [syn(t, s, flags="R")], False, {"listen_rst_ignored": 1}, None),
    ("forged_cookie_ack", lambda t, s, c: [syn(t, s, flags="A", tcp={"ack": 0x12345678})], False,
     {"cookies_rejected": 1}, None),
    ("synack_to_listener", lambda t, s, c: [syn(t, s, flags="SA", tcp={"ack": 777})], False,
     {"listen_ack_rst": 1}, None),
    ("syn_to_closed_port", lambda t, s, c: [syn(t, s, dport=CLOSED)], False, {"no_listener": 1}, None),
    ("ack_to_closed_port", lambda t, s, c: [syn(t, s, dport=CLOSED, flags="A", tcp={"ack": 4242})], False,
     {"no_listener": 1}, None),
    ("rst_to_closed_port", lambda t, s, c: [syn(t, s, dport=CLOSED, flags="R")], False, {"no_listener": 1}, None),
    # --- an established connection ---
    ("est_rst_exact", lambda t, s, c: est(t, s, c, "R"), True, {"rst_received": 1}, None),
    ("est_rst_in_window", lambda t, s, c: est(t, s, c, "R", dseq=100), True, {"challenge_acks": 1}, None),
    ("est_rst_out_of_window", lambda t, s, c: est(t, s, c, "R", dseq=-100000), True,
     {"rst_out_of_window": 1}, None),
    ("est_syn_in_window", lambda t, s, c: est(t, s, c, "S", dseq=10), True, {"challenge_acks": 1}, None),
    ("est_syn_out_of_window", lambda t, s, c: est(t, s, c, "S", dseq=-100000), True,
     {"challenge_acks": 1}, None),
    ("est_data_out_of_window", lambda t, s, c: est(t, s, c, "PA", dseq=200000, payload=b"y" * 10), True,
     {"out_of_window": 1}, None),
    ("est_ack_of_unsent_data", lambda t, s, c: est(t, s, c, "A", dack=1000), True, {"ack_too_new": 1},
     ("A", "kernel-version: Linux 6.x answers with a challenge ACK (RFC 9293: send an ACK), older ones drop it")),
    ("est_ack_below_isn", lambda t, s, c: est(t, s, c, "A", dack=-5), True, {"ack_too_old": 1}, None),
    ("est_no_ack_flag", lambda t, s, c: est(t, s, c, "P", payload=b"z"), True, {"no_ack_dropped": 1}, None),
    ("est_data_in_order", lambda t, s, c: est(t, s, c, "PA", payload=b"hello"), True,
     {"data_segments": 1}, None),
]
BCAST = {}


def handshake(t, sport):
    """SYN, SYN-ACK, ACK from sport; returns {'snd': our next seq, 'rcv': theirs} or None."""
    t.new_packets()
    t.send([syn(t, sport, seq=5000)])
    deadline = time.time() + SETTLE
    sa = None
    while time.time() < deadline and sa is None:
        time.sleep(0.05)
        for p in t.new_packets():
            if TCP in p and IP in p and p[IP].src == t.ip and p[TCP].dport == sport and flags_of(p) == "SA":
                sa = p
    if sa is None:
        return None
    ctx = {"snd": 5001, "rcv": sa[TCP].seq + 1}
    t.send(est(t, sport, ctx, "A"))
    time.sleep(0.1)
    t.new_packets()
    return ctx


def run_case(t, case, sport):
    name, build, needs_est, want, _ = case
    ctx = {}
    start = t.telemetry.stats() if t.telemetry else {}
    if needs_est:
        ctx = handshake(t, sport)
        if ctx is None:
            return "no handshake", {}
    before = t.telemetry.stats() if t.telemetry else {}
    t.new_packets()
    t.send(build(t, sport, ctx))
    if t.telemetry and want:
        # Floodgate's lcore shares two CPUs with everything else on this
        # machine and may not run for a while: wait until the case's counters
        # have moved (at most SETTLE s), then WAIT more for a reply, so a
        # late frame is not taken for the next case's.
        deadline = time.time() + SETTLE
        while time.time() < deadline:
            time.sleep(0.05)
            now = t.telemetry.stats()
            if all((now.get(k, 0) - before.get(k, 0)) >= (1 if v is None else v) for k, v in want.items()):
                break
    time.sleep(WAIT)
    r = reaction(t, sport, t.new_packets())
    delta = {}
    if t.telemetry:
        after = t.telemetry.stats()
        delta = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    # Clean up whatever the case left: an RST at the connection's sequence, or for a request.
    if needs_est:
        t.send(est(t, sport, ctx, "R"))
        if t.telemetry:
            # ... and wait until the case's connection is gone (at most SETTLE
            # s), so its erasure is not counted in the next case.
            def left(now):
                return (now.get("table_inserts", 0) - start.get("table_inserts", 0)) - \
                       (now.get("table_erases", 0) - start.get("table_erases", 0))
            deadline = time.time() + SETTLE
            while time.time() < deadline and left(t.telemetry.stats()) > 0:
                time.sleep(0.05)
    time.sleep(0.02)
    t.new_packets()
    return r, delta


def main():
    global PORT
    ap = argparse.ArgumentParser()
    ap.add_argument("--fg-iface", required=True)
    ap.add_argument("--fg-ip", required=True)
    ap.add_argument("--fg-mac", required=True)
    ap.add_argument("--fg-src", required=True)
    ap.add_argument("--fg-bcast", required=True)
    ap.add_argument("--telemetry-prefix", required=True)
    ap.add_argument("--ref-iface", required=True)
    ap.add_argument("--ref-ip", required=True)
    ap.add_argument("--ref-mac", required=True)
    ap.add_argument("--ref-src", required=True)
    ap.add_argument("--ref-bcast", required=True)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    PORT = a.port
    BCAST["floodgate"] = a.fg_bcast
    BCAST["linux"] = a.ref_bcast
    fg = Target("floodgate", a.fg_iface, a.fg_ip, a.fg_mac, a.fg_src, Telemetry(a.telemetry_prefix))
    lx = Target("linux", a.ref_iface, a.ref_ip, a.ref_mac, a.ref_src)
    cases = [c for c in CASES if not a.only or c[0] in a.only.split(",")]
    results = []
    bad = 0
    print("%-28s %-12s %-12s %s" % ("case", "linux", "floodgate", "counters"))
    for i, case in enumerate(cases):
        name, _, _, want, deliberate = case
        sport = 20000 + i
        lr, _ = run_case(lx, case, sport)
        fr, delta = run_case(fg, case, sport)
        expect = deliberate[0] if deliberate else lr
        ok = fr == expect
        problems = []
        if not ok:
            problems.append("floodgate %s, expected %s" % (fr, expect))
        for k, v in want.items():
            got = delta.get(k, 0)
            if (v is None and got <= 0) or (v is not None and got != v):
                problems.append("counter %s moved by %d, expected %s" % (k, got, v if v is not None else "> 0"))
        if deliberate and lr == fr and not deliberate[1].startswith("kernel-version"):
            problems.append("marked deliberate but the kernel did the same (%s): update the table" % lr)
        if problems:
            bad += 1
        moved = ",".join("%s+%d" % (k, v) for k, v in sorted(delta.items())
                         if not k.startswith(("rx_", "tx_", "loops", "busy_loops", "tcp_in", "acks_sent")))
        print("%-28s %-12s %-12s %s%s" % (name, lr, fr, moved,
                                          ("   <-- " + "; ".join(problems)) if problems else
                                          ("   (deliberate: %s)" % deliberate[1] if deliberate else "")))
        results.append({"case": name, "linux": lr, "floodgate": fr, "expected": expect, "counters": delta,
                        "deliberate": deliberate[1] if deliberate else None, "problems": problems})
    fg.stop()
    lx.stop()
    summary = {"cases": len(cases), "failed": bad, "results": results}
    if a.out:
        with open(a.out, "w") as f:
            json.dump(summary, f)
    print("%d cases, %d failed" % (len(cases), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
