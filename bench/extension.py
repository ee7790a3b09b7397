#!/usr/bin/env -S python3 -u
"""Benchmark: the extension's zstd against LZO (protocol 2), our client and
our daemon on both sides (docs/extension.md, issue 12).

Every source file of a project is compiled once per round with
`distcc <cc> <flags> -c`, one job at a time, through a byte-counting TCP
relay in front of our distccd on 127.0.0.1:

  * "lzo":  host `,lzo` with DISTCC_EXTENSION=0 (3.4's protocol 2);
  * "zstd": the same host after the client learnt it speaks the extension.

Reported per job (medians over the files, rounds interleaved): bytes on the
wire each way and in all (hello and status included), client CPU (user+sys
of distcc and its children, cpp included, which both modes share), daemon
CPU (utime+stime of the distccd process from /proc, compilers excluded).

Projects (bench/projects.py): liblzma (the lzma-sys crate's C sources,
flags of its build.rs) and Dear ImGui (the imgui-sys crate's C++
sources), both fetched through cargo's registry.

Also reported: where the bytes go, per item of the protocol (bench/wire.py).

With `--callgrind N`, N of the files are also compiled once per mode
under valgrind's callgrind, and the instructions of the distcc process
itself are reported (median; load-independent; cpp, run by both modes
alike, is not followed).

Usage: bench/extension.py [--rounds N] [--bin DIR] [--project liblzma|imgui]
                          [--callgrind N]   (DIR: target/release)
"""

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time

import loopback
import projects
import wire

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def liblzma(tmp):
    src, files, flags = projects.liblzma(tmp)
    return src, "gcc", ["-O2"] + flags, files


def imgui(tmp):
    src, files, flags = projects.imgui(tmp)
    return src, "g++", ["-O2"] + flags, files


class Relay:
    """127.0.0.1:port → target, counting bytes each way."""

    def __init__(self, target):
        self.target = target
        self.up = self.down = 0
        self.conns = []  # per connection: [bytes up, bytes down]
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            c, _ = self.sock.accept()
            s = socket.create_connection(self.target)
            streams = [bytearray(), bytearray()]
            with self.lock:
                self.conns.append(streams)
            for a, b, up in ((c, s, True), (s, c, False)):
                threading.Thread(target=self.pump, args=(a, b, up, streams), daemon=True).start()

    def pump(self, a, b, up, streams):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                with self.lock:
                    if up:
                        self.up += len(data)
                    else:
                        self.down += len(data)
                    streams[0 if up else 1] += data
                b.sendall(data)
        except OSError:
            pass
        for x in (b,):
            try:
                x.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def take(self):
        """(bytes up, bytes down, {item group: bytes}) since the last take."""
        time.sleep(0.05)  # the relay's threads finish their last sends
        with self.lock:
            r = (self.up, self.down)
            conns, self.conns = self.conns, []
            self.up = self.down = 0
        groups = {}
        for up, down in conns:
            for g, n in wire.breakdown(bytes(up), bytes(down)).items():
                groups[g] = groups.get(g, 0) + n
        return r + (groups,)


def daemon_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def instructions(argv, cwd, env):
    """Instructions the distcc process itself runs (callgrind; its
    children, cpp included, are not followed)."""
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + argv,
                         cwd=cwd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("distcc failed under callgrind: %s" % out.stderr)
    return int(out.stderr.split("Collected : ")[1].split()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release"))
    ap.add_argument("--project", choices=("all", "liblzma", "imgui"), default="all")
    ap.add_argument("--callgrind", type=int, default=0, metavar="N",
                    help="also count the client's instructions on N files per mode")
    args = ap.parse_args()
    compilers = ("gcc", "g++", "x86_64-linux-gnu-gcc", "x86_64-linux-gnu-g++")
    with loopback.distccd(args.bin, "bench-ext-", compilers) as (d, port, tmp):
        relay = Relay(("127.0.0.1", port))
        host = "127.0.0.1:%d,lzo" % relay.port
        for name, make in (("liblzma", liblzma), ("imgui (C++)", imgui)):
            if args.project not in ("all", name.split()[0]):
                continue
            src, cc, flags, files = make(tmp)
            results = {m: {"up": [], "down": [], "wire": [], "client": [], "daemon": [], "items": {}}
                       for m in ("lzo", "zstd")}
            ddir = os.path.join(tmp, "ddir-" + cc)
            for rnd in range(args.rounds):
                for mode in (("lzo", "zstd") if rnd % 2 == 0 else ("zstd", "lzo")):
                    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "DISTCC_DIR": ddir, "TMPDIR": tmp,
                           "DISTCC_HOSTS": host, "DISTCC_EXTENSION": "0" if mode == "lzo" else "1"}
                    if mode == "zstd" and rnd < 2 and not os.path.isdir(os.path.join(ddir, "extension")):
                        # The first success makes the client probe: learn first.
                        subprocess.run([os.path.join(args.bin, "distcc"), cc] + flags +
                                       ["-c", files[0], "-o", "/dev/null"], cwd=src, env=env, check=True)
                        relay.take()
                    for f in files:
                        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                        c0 = daemon_cpu(d.pid)
                        out = subprocess.run([os.path.join(args.bin, "distcc"), cc] + flags +
                                             ["-c", f, "-o", os.path.join(tmp, "out.o")],
                                             cwd=src, env=env, capture_output=True)
                        if out.returncode != 0:
                            sys.exit("distcc failed on %s: %s" % (f, out.stderr.decode()))
                        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                        up, down, groups = relay.take()
                        res = results[mode]
                        for g, b in groups.items():
                            res["items"][g] = res["items"].get(g, 0) + b
                        res["up"].append(up)
                        res["down"].append(down)
                        res["wire"].append(up + down)
                        res["client"].append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
                        res["daemon"].append(daemon_cpu(d.pid) - c0)
            counts = {m: [] for m in ("lzo", "zstd")}
            for f in files[::max(1, len(files) // args.callgrind)][:args.callgrind] if args.callgrind else []:
                for mode in ("lzo", "zstd"):
                    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "DISTCC_DIR": ddir, "TMPDIR": tmp,
                           "DISTCC_HOSTS": host, "DISTCC_EXTENSION": "0" if mode == "lzo" else "1"}
                    counts[mode].append(instructions([os.path.join(args.bin, "distcc"), cc] + flags +
                                                     ["-c", f, "-o", os.path.join(tmp, "out.o")], src, env))
                    relay.take()
            n = len(files)
            print("\n%s: %d files x %d rounds, %s %s" % (name, n, args.rounds, cc, " ".join(flags[:4])))
            print("| per job | LZO (protocol 2) | zstd (extension) | zstd / LZO |")
            print("|---|---|---|---|")
            for key, label, unit in (("up", "bytes sent (median)", 1), ("down", "bytes received (median)", 1),
                                     ("wire", "bytes on the wire (median)", 1),
                                     ("client", "client CPU, ms (median)", 1000),
                                     ("daemon", "daemon CPU, ms (median)", 1000)):
                a = statistics.median(results["lzo"][key]) * unit
                b = statistics.median(results["zstd"][key]) * unit
                print("| %s | %.0f | %.0f | %.2f |" % (label, a, b, b / a if a else float("nan")))
            tl = sum(results["lzo"]["wire"])
            tz = sum(results["zstd"]["wire"])
            print("| bytes on the wire, all jobs | %d | %d | %.2f |" % (tl, tz, tz / tl))
            cl = sum(results["lzo"]["daemon"]) * 1000 / len(results["lzo"]["daemon"])
            cz = sum(results["zstd"]["daemon"]) * 1000 / len(results["zstd"]["daemon"])
            print("| daemon CPU, ms (mean) | %.1f | %.1f | %.2f |" % (cl, cz, cz / cl if cl else float("nan")))
            ml = sum(results["lzo"]["client"]) * 1000 / len(results["lzo"]["client"])
            mz = sum(results["zstd"]["client"]) * 1000 / len(results["zstd"]["client"])
            print("| client CPU, ms (mean) | %.1f | %.1f | %.2f |" % (ml, mz, mz / ml))
            if args.callgrind:
                a, b = (statistics.median(counts[m]) / 1e6 for m in ("lzo", "zstd"))
                print("| client instructions, M (median of %d, callgrind, cpp not included) | %.2f | %.2f | %.2f |"
                      % (len(counts["lzo"]), a, b, b / a))
            print("\nWhere the bytes go, per job (mean):\n")
            print("| item | LZO (protocol 2) | zstd (extension) |")
            print("|---|---|---|")
            jobs = {m: len(results[m]["wire"]) for m in results}
            groups = sorted(set(results["lzo"]["items"]) | set(results["zstd"]["items"]),
                            key=lambda g: -results["lzo"]["items"].get(g, 0) - results["zstd"]["items"].get(g, 0))
            for g in groups:
                print("| %s | %.0f | %.0f |" % (g, results["lzo"]["items"].get(g, 0) / jobs["lzo"],
                                               results["zstd"]["items"].get(g, 0) / jobs["zstd"]))


if __name__ == "__main__":
    main()
