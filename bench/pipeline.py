#!/usr/bin/env -S python3 -u
"""The request right behind the hello (docs/extension.md §2.1): wall time
per job on a network with a round-trip time, our client before and after
it, next to Debian's distcc 3.4 client, all against our distccd on
127.0.0.1 behind a relay that delays every chunk by RTT/2 each way and
the connect by its round trip (bench/relay.py; the kernel has no
sch_netem).

Kinds, interleaved job by job (the order rotates) so that the machine's
load hits them alike, each with its own $DISTCC_DIR (learnt by a first,
unmeasured job):

  * "3.4":    /usr/bin/distcc, host `,lzo` (protocol 2);
  * "before": our client from --before DIR (waits for the extension's offer);
  * "ours":   our client from --bin DIR.

Jobs: `gcc -O2 -c` of a small preprocessed file (`.i`: no cpp, so the
round trips are all there is besides the compile) and of the same as a
`.c` source with a header (cpp runs while the client connects). Reported
per kind: median wall per job, median client CPU, and the network round
trips the relay saw per job (the server answering after the client
spoke; with cpp, a pipelined client speaks again with DOTI after the
offer came, so the count says 2 there while it waited for nothing).

    bench/pipeline.py --before /tmp/before --bin target/release --rtt-ms 20 --rounds 3 --jobs 20
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

import loopback
from relay import DelayRelay

DEBIAN_DISTCC = "/usr/bin/distcc"
KINDS = ["3.4", "before", "ours"]
SOURCE = """#include "util.h"
int table[64];
int sum(int n) { int s = 0; for (int i = 0; i < n && i < 64; i++) s += twice(table[i]); return s; }
int main(void) { return sum(10); }
"""
HEADER = "static inline int twice(int x) { return 2 * x; }\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="our binaries, after")
    ap.add_argument("--before", required=True, help="our binaries, before")
    ap.add_argument("--rtt-ms", type=float, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=20, help="jobs per kind, source and round")
    args = ap.parse_args()
    if not os.access(DEBIAN_DISTCC, os.X_OK):
        sys.exit(DEBIAN_DISTCC + " (Debian's distcc 3.4) is needed")
    bins = {k: os.path.abspath(d) for k, d in (("ours", args.bin), ("before", args.before))}
    compilers = ("gcc", "x86_64-linux-gnu-gcc")
    with loopback.distccd(bins["ours"], "bench-pipeline-", compilers) as (d, port, tmp):
        relay = DelayRelay(("127.0.0.1", port), args.rtt_ms / 2000, connect_rtt=True)
        host = "127.0.0.1:%d,lzo" % relay.port
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        with open(os.path.join(src, "util.h"), "w") as f:
            f.write(HEADER)
        with open(os.path.join(src, "job.c"), "w") as f:
            f.write(SOURCE)
        subprocess.run(["gcc", "-E", "job.c", "-o", "job.i"], cwd=src, check=True)
        clients = {"3.4": DEBIAN_DISTCC, "before": os.path.join(bins["before"], "distcc"),
                   "ours": os.path.join(bins["ours"], "distcc")}
        envs = {k: {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "DISTCC_HOSTS": host,
                    "DISTCC_DIR": os.path.join(tmp, "ddir-" + k), "DISTCC_FALLBACK": "0"}
                for k in KINDS}

        def job(kind, source):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = relay.round_trips
            w0 = time.perf_counter()
            subprocess.run([clients[kind], "gcc", "-O2", "-c", source, "-o", "out-%s.o" % kind],
                           cwd=src, env=envs[kind], check=True)
            wall = time.perf_counter() - w0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            return wall * 1000, cpu * 1000, relay.round_trips - t0

        for kind in KINDS:  # learn the host (probe, offer) first
            os.makedirs(envs[kind]["DISTCC_DIR"])
            job(kind, "job.c")
            job(kind, "job.c")
        results = {(k, s): {"wall": [], "cpu": [], "trips": []} for k in KINDS for s in ("job.i", "job.c")}
        for rnd in range(args.rounds):
            for i in range(args.jobs):
                for source in ("job.i", "job.c"):
                    order = KINDS[i % 3:] + KINDS[:i % 3]
                    for kind in order:
                        wall, cpu, trips = job(kind, source)
                        r = results[(kind, source)]
                        r["wall"].append(wall)
                        r["cpu"].append(cpu)
                        r["trips"].append(trips)
            print("round %d done" % (rnd + 1))
        print("\nadded RTT %.0f ms (connect included), %d rounds x %d jobs per kind and source, load %s"
              % (args.rtt_ms, args.rounds, args.jobs, open("/proc/loadavg").read().split()[0]))
        print("| per job (median) | 3.4 | ours before | ours after | after - before |")
        print("|---|---:|---:|---:|---:|")
        med = statistics.median
        for source, what in (("job.i", ".i (no cpp)"), ("job.c", ".c (cpp)")):
            for key, label in (("wall", "wall, ms"), ("cpu", "client CPU, ms"), ("trips", "round trips")):
                v = {k: med(results[(k, source)][key]) for k in KINDS}
                print("| %s, %s | %.1f | %.1f | %.1f | %+.1f |"
                      % (what, label, v["3.4"], v["before"], v["ours"], v["ours"] - v["before"]))
        for kind in ("before", "ours"):
            print("%s memory: %s" % (kind, " / ".join(
                open(os.path.join(envs[kind]["DISTCC_DIR"], "extension", f)).read().strip()
                for f in os.listdir(os.path.join(envs[kind]["DISTCC_DIR"], "extension"))
                if not f.endswith(".probe"))))


if __name__ == "__main__":
    main()
