#!/usr/bin/python3
"""Kernel TCP server for integration tests: listens on ADDR:PORT with a given
backlog, accepts in a loop (non-blocking + epoll) through the Linux kernel's
own TCP, and watches every accepted connection until it ends:

  fin    recv() returned 0: the peer closed in order (FIN)
  rst    recv() failed with ECONNRESET: the peer reset it
  other  any other error (by errno name)

--close-on-fin (default) closes our side as soon as the peer's FIN arrives,
so the peer sees our FIN too (its FIN-WAIT-2 -> TIME-WAIT); --keep leaves
every connection open until the end (to count held connections).

Prints one JSON object when it gets SIGTERM/SIGINT or after --duration:
accepted, distinct (different peer address:port pairs accepted), open (still
open now), max_open (most open at once), ended {fin, rst, other} of every
connection, ended_first {fin, rst, other} of the first connection accepted
from each peer address:port (a later one from the same pair is a new
incarnation of a 4-tuple: with SYN cookies, Linux accepts a stray ACK whose
SEQ-1 and ACK-1 form a valid cookie, e.g. a TIME-WAIT ACK after the first
incarnation closed), bytes received, elapsed_s. --status FILE is rewritten with
the same JSON whenever a count changes (at most every 50 ms), so a test can
poll for "N accepted" or "16 open" without sleeping blindly. --ready-file is
written once the socket listens."""
import argparse
import errno
import json
import os
import resource
import select
import signal
import socket
import sys
import time

STATUS_PERIOD_S = 0.05  # status file rewrites at most this often: cheap for the poll loop, quick for the test


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="0.0.0.0")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--backlog", type=int, default=65535)
    ap.add_argument("--duration", type=float, default=0, help="stop after this long; 0: until SIGTERM")
    ap.add_argument("--keep", action="store_true", help="never close accepted connections ourselves")
    ap.add_argument("--status", default="")
    ap.add_argument("--ready-file", default="")
    args = ap.parse_args()

    # Tens of thousands of sockets may be open at once (accept queue drained
    # faster than the peers close): lift the descriptor limit.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, 1 << 20))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    stop = [False]

    def on_signal(*_):
        stop[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.addr, args.port))
    ls.listen(args.backlog)
    ls.setblocking(False)
    ep = select.epoll()
    ep.register(ls.fileno(), select.EPOLLIN)

    conns = {}  # fd -> socket
    first = set()  # fds of first incarnations
    peers = set()  # (addr, port) ever accepted
    res = {"accepted": 0, "distinct": 0, "open": 0, "max_open": 0, "ended": {"fin": 0, "rst": 0, "other": {}},
           "ended_first": {"fin": 0, "rst": 0, "other": {}}, "bytes": 0}
    t0 = time.monotonic()

    def snapshot():
        res["open"] = len(conns)
        res["elapsed_s"] = round(time.monotonic() - t0, 3)
        return json.dumps(res)

    def write_status():
        if args.status:
            tmp = args.status + ".tmp"
            with open(tmp, "w") as f:
                f.write(snapshot() + "\n")
            os.replace(tmp, args.status)

    def count_end(fd, kind, err):
        for key in ("ended", "ended_first") if fd in first else ("ended",):
            if kind == "other":
                name = errno.errorcode.get(err, str(err))
                res[key]["other"][name] = res[key]["other"].get(name, 0) + 1
            else:
                res[key][kind] += 1

    def end(fd, kind, err=0):
        s = conns.pop(fd)
        ep.unregister(fd)
        count_end(fd, kind, err)
        first.discard(fd)
        s.close()

    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("ready\n")
    write_status()
    dirty = False
    last_status = 0.0
    while not stop[0]:
        if args.duration > 0 and time.monotonic() - t0 >= args.duration:
            break
        try:
            events = ep.poll(0.05)
        except InterruptedError:
            continue
        for fd, ev in events:
            if fd == ls.fileno():
                while True:
                    try:
                        s, peer = ls.accept()
                    except BlockingIOError:
                        break
                    except OSError as e:
                        # A connection reset before accept() may surface here
                        # (ECONNABORTED): it never was ours to count.
                        if e.errno in (errno.ECONNABORTED, errno.EPROTO):
                            continue
                        raise
                    s.setblocking(False)
                    conns[s.fileno()] = s
                    res["accepted"] += 1
                    if peer not in peers:
                        peers.add(peer)
                        first.add(s.fileno())
                        res["distinct"] += 1
                    res["max_open"] = max(res["max_open"], len(conns))
                    ep.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
                    dirty = True
                continue
            s = conns.get(fd)
            if s is None:
                continue
            while True:
                try:
                    b = s.recv(65536)
                except BlockingIOError:
                    if ev & (select.EPOLLHUP | select.EPOLLERR):
                        e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        end(fd, "rst" if e == errno.ECONNRESET else "other", e)
                        dirty = True
                    break
                except ConnectionResetError:
                    end(fd, "rst")
                    dirty = True
                    break
                except OSError as e:
                    end(fd, "other", e.errno)
                    dirty = True
                    break
                if not b:
                    if args.keep:
                        # Stay open, stop watching (epoll would still report
                        # HUP/ERR with an empty mask): the FIN is noted once.
                        ep.unregister(fd)
                        count_end(fd, "fin", 0)
                    else:
                        end(fd, "fin")
                    dirty = True
                    break
                res["bytes"] += len(b)
        now = time.monotonic()
        if dirty and now - last_status >= STATUS_PERIOD_S:
            write_status()
            dirty = False
            last_status = now
    write_status()
    print(snapshot(), flush=True)
    for s in conns.values():
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
