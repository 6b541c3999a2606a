#!/usr/bin/python3
"""Kernel TCP client for integration tests: N connect()s to DST:PORT with up
to P in flight (non-blocking + epoll), through the Linux kernel's own TCP.
Prints one JSON object: ok, errors by errno name, elapsed, and TCP_INFO of the
first connection (snd_mss, snd_wscale, rcv_wscale, options).

--hold keeps every connection open until stdin closes or SIGTERM (for ss -ti);
otherwise each connection is closed as soon as it is established (after the
server's FIN if --wait-fin)."""
import argparse
import errno
import json
import os
import select
import signal
import socket
import struct
import sys
import time


def tcp_info(s):
    raw = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    b = struct.unpack("8B4I", raw[:24])
    return {"state": b[0], "options": b[5], "snd_wscale": b[6] & 0xF, "rcv_wscale": b[6] >> 4,
            "rto_us": b[8], "snd_mss": b[10], "rcv_mss": b[11]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60.0, help="whole run")
    ap.add_argument("--hold", action="store_true")
    ap.add_argument("--ready-file", default="")
    args = ap.parse_args()

    ep = select.epoll()
    pending = {}  # fd -> socket
    held = []
    res = {"ok": 0, "errors": {}, "info": None}
    started = 0
    t0 = time.monotonic()
    deadline = t0 + args.timeout

    def fail(e):
        name = errno.errorcode.get(e, str(e))
        res["errors"][name] = res["errors"].get(name, 0) + 1

    while (started < args.count or pending) and time.monotonic() < deadline:
        while started < args.count and len(pending) < args.parallel:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            e = s.connect_ex((args.dst, args.port))
            started += 1
            if e not in (0, errno.EINPROGRESS):
                fail(e)
                s.close()
                continue
            pending[s.fileno()] = s
            ep.register(s.fileno(), select.EPOLLOUT | select.EPOLLERR)
        for fd, _ in ep.poll(0.1):
            s = pending.pop(fd)
            ep.unregister(fd)
            e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e != 0:
                fail(e)
                s.close()
                continue
            res["ok"] += 1
            if res["info"] is None:
                res["info"] = tcp_info(s)
            if args.hold:
                held.append(s)
            else:
                s.close()
    for s in pending.values():
        fail(errno.ETIMEDOUT)
        s.close()
    res["elapsed_s"] = round(time.monotonic() - t0, 3)
    print(json.dumps(res), flush=True)
    if args.hold:
        if args.ready_file:
            with open(args.ready_file, "w") as f:
                f.write("ready\n")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            sys.stdin.read()
        except Exception:
            pass
        for s in held:
            s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
