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

Usage: bench/extension.py [--rounds N] [--bin DIR]   (DIR: target/release)
"""

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

import loopback
import projects

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
            for a, b, up in ((c, s, True), (s, c, False)):
                threading.Thread(target=self.pump, args=(a, b, up), daemon=True).start()

    def pump(self, a, b, up):
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
                b.sendall(data)
        except OSError:
            pass
        for x in (b,):
            try:
                x.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def take(self):
        time.sleep(0.05)  # the relay's threads finish their last sends
        with self.lock:
            r = (self.up, self.down)
            self.up = self.down = 0
        return r


def daemon_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release"))
    args = ap.parse_args()
    d, port, tmp = loopback.start_distccd(
        args.bin, "bench-ext-", ("gcc", "g++", "x86_64-linux-gnu-gcc", "x86_64-linux-gnu-g++"))
    try:
        relay = Relay(("127.0.0.1", port))
        host = "127.0.0.1:%d,lzo" % relay.port
        for name, make in (("liblzma", liblzma), ("imgui (C++)", imgui)):
            src, cc, flags, files = make(tmp)
            results = {m: {"up": [], "down": [], "wire": [], "client": [], "daemon": []} for m in ("lzo", "zstd")}
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
                        up, down = relay.take()
                        res = results[mode]
                        res["up"].append(up)
                        res["down"].append(down)
                        res["wire"].append(up + down)
                        res["client"].append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
                        res["daemon"].append(daemon_cpu(d.pid) - c0)
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
    finally:
        d.terminate()
        d.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
