#!/usr/bin/env -S python3 -u
"""A TCP relay that adds network latency, for benchmarks on a kernel
without sch_netem (bench/tls.py, bench/farm.py --rtt-ms).

Every chunk read on one side is sent on the other one-way (RTT/2) later,
in order: the byte streams are kept, a half close is passed on once the
data before it is. The relay ends TCP on both sides, so it models the
round trips of a conversation, not a window's bandwidth-delay limit. With
`connect_rtt` the client's first bytes also wait the round trip its
connect would have cost (the kernel has answered the connect at once).

As a program (e.g. inside a network namespace):

    bench/relay.py LISTEN_ADDR:PORT TARGET_ADDR:PORT --rtt-ms 20 [--connect-rtt]

prints "ready" once it listens, then relays until killed.
"""

import argparse
import socket
import sys
import threading
import time


class DelayRelay:
    """listen -> target, every chunk held `one_way` s in each direction.
    Counts the round trips: each time the server answers after the client
    spoke (the client then waits one network round trip)."""

    def __init__(self, target, one_way, listen=("127.0.0.1", 0), connect_rtt=False):
        self.target, self.one_way, self.connect_rtt = target, one_way, connect_rtt
        self.lock = threading.Lock()
        self.round_trips = 0
        self.last = {}
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(listen)
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.sock.accept()
            # Not before the SYN, SYN-ACK round trip would have ended.
            start = time.perf_counter() + (2 * self.one_way if self.connect_rtt else 0)
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            conn = object()
            for a, b, side in [(client, server, "c"), (server, client, "d")]:
                a.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                threading.Thread(target=self.pipe, args=(a, b, conn, side, start),
                                 daemon=True).start()

    def turn(self, conn, side):
        with self.lock:
            if side == "d" and self.last.get(conn) == "c":
                self.round_trips += 1
            self.last[conn] = side

    def pipe(self, src, dst, conn, side, start):
        # Reading and sending in one thread each, every chunk sent when it
        # is due: chunks never overtake each other, as on a wire.
        queue, cond = [], threading.Condition()

        def sender():
            while True:
                with cond:
                    while not queue:
                        cond.wait()
                    due, data = queue.pop(0)
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                try:
                    if data:
                        dst.sendall(data)
                    else:
                        dst.shutdown(socket.SHUT_WR)
                        return
                except OSError:
                    return

        threading.Thread(target=sender, daemon=True).start()
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if data:
                self.turn(conn, side)
            with cond:
                queue.append((max(time.perf_counter(), start) + self.one_way, data))
                cond.notify()
            if not data:
                return


def addr(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("listen", type=addr)
    ap.add_argument("target", type=addr)
    ap.add_argument("--rtt-ms", type=float, required=True)
    ap.add_argument("--connect-rtt", action="store_true",
                    help="delay the client's first bytes by the connect's round trip too")
    a = ap.parse_args()
    DelayRelay(a.target, a.rtt_ms / 2000, a.listen, a.connect_rtt)
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
