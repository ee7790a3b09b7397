#!/usr/bin/env python3
"""Benchmark: our distccd against Debian's distcc 3.4 distccd, in one run.

The same workload is served by each daemon in turn (rounds interleaved, so
machine noise hits both alike): Debian's distcc 3.4 client compiles many
small C files, 4 at a time, on 127.0.0.1. Reported per daemon (medians over
rounds) and as ratios ours/3.4:

  * throughput: jobs per second of wall time;
  * per-job latency: wall time of each `distcc` invocation (median, p90);
  * daemon CPU: time on CPU (schedstat) of the daemon's own processes
    (3.4's master and preforked children; our one process), excluding
    compilers, per job;
  * peak RSS: VmHWM of the daemon's processes (largest one, and the sum).

With --compare-sandbox, 3.4 is left out and our daemon runs with its
compiler sandbox (the default), with --no-sandbox, and, given --baseline
PATH, as another build (e.g. the last one without a sandbox), in the same
rounds. Also reported then: the CPU of the compilers and everything they
started (the daemon's reaped children, from /proc/PID/stat), and the
total per job, so what the sandbox costs in the children shows too.

Usage: bench/daemon.py [--jobs N] [--rounds R] [--protocol 1|2] [--ours PATH]
                       [--compare-sandbox [--baseline PATH]]
(builds nothing: run `cargo build --release --bin distccd` first). Must run
as root or as a user who can start both daemons; it touches nothing outside
a temp directory, and kills the daemons it starts.
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEBIAN_DISTCCD = "/usr/bin/distccd"
DEBIAN_DISTCC = "/usr/bin/distcc"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    want = ":%04X" % port
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(f) as fh:
            for line in fh.readlines()[1:]:
                p = line.split()
                if p[1].endswith(want) and p[3] == "0A":
                    return True
    return False


def proc_stat(pid):
    """(comm, pgrp, nanoseconds on CPU of all its threads) or None. The
    CPU time comes from schedstat (exact), not from utime/stime, which
    are counted in 10 ms ticks: far too coarse for ~1 ms jobs."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            data = fh.read()
        ns = 0
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as fh:
                ns += int(fh.read().split()[0])
    except (OSError, ValueError):
        return None
    comm = data[data.index("(") + 1 : data.rindex(")")]
    rest = data[data.rindex(")") + 2 :].split()
    return comm, int(rest[2]), ns


def children_cpu_s(pid):
    """CPU time of the reaped children of `pid` (cutime + cstime): for our
    daemon, the compilers and what they started."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            data = fh.read()
    except OSError:
        return 0.0
    rest = data[data.rindex(")") + 2 :].split()
    return (int(rest[13]) + int(rest[14])) / os.sysconf("SC_CLK_TCK")


def vm_hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Polls the daemon's processes: remembers the last CPU figure and the
    peak RSS of each. 3.4: the master and its preforked children (same
    process group, named distccd). Ours is one process and its compilers'
    watchdog (distccd-watch); its compilers are spawned from it and carry
    its name for the instant before exec, so only the master pid and the
    watchdog are counted (the rest is the compiler's)."""

    def __init__(self, pgid, children):
        super().__init__(daemon=True)
        self.pgid = pgid
        self.children = children
        self.cpu = {}
        self.watch = set()
        self.hwm = {}
        self.stop = threading.Event()

    def sample(self):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            st = proc_stat(pid)
            if st is None or st[1] != self.pgid or st[0] not in ("distccd", "distccd-watch"):
                continue
            if pid != self.pgid and not self.children and st[0] != "distccd-watch":
                continue
            self.cpu[pid] = st[2]
            if st[0] == "distccd-watch":
                self.watch.add(pid)
            self.hwm[pid] = max(self.hwm.get(pid, 0), vm_hwm_kb(pid))

    def run(self):
        while not self.stop.is_set():
            self.sample()
            time.sleep(0.02)

    def total_cpu_s(self):
        return sum(self.cpu.values()) / 1e9

    def watchdog_cpu_s(self):
        return sum(v for p, v in self.cpu.items() if p in self.watch) / 1e9


class Daemon:
    def __init__(self, kind, program, work, jobs, extra=()):
        self.kind = kind
        self.port = free_port()
        self.log = os.path.join(work, "%s.log" % kind)
        open(self.log, "w").close()
        os.chmod(self.log, 0o666)
        args = [program, "--daemon", "--no-detach", "--listen", "127.0.0.1",
                "--allow", "127.0.0.1", "--port", str(self.port), "--jobs", str(jobs),
                "--log-file", self.log, "--lifetime", "3600"]
        if kind != "debian":
            args += ["--masquerade-dir", os.path.join(work, "masq")]
        args += list(extra)
        env = {"PATH": "/usr/bin:/bin", "TMPDIR": os.path.join(work, "dtmp"),
               "HOME": work}
        self.proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.time() + 15
        while not listening(self.port):
            if self.proc.poll() is not None or time.time() > deadline:
                raise SystemExit("%s distccd did not start (see %s)" % (kind, self.log))
            time.sleep(0.02)

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def compile_all(work, files, port, protocol, parallel, tag):
    hosts = "127.0.0.1:%d/%d%s" % (port, parallel, ",lzo" if protocol == 2 else "")
    src = os.path.join(work, "src")
    env = {"PATH": "/usr/bin:/bin", "HOME": work, "TMPDIR": os.path.join(work, "ctmp"),
           "DISTCC_HOSTS": hosts, "DISTCC_DIR": os.path.join(work, "dd-" + tag),
           "DISTCC_SKIP_LOCAL_RETRY": "1"}
    os.makedirs(env["DISTCC_DIR"], exist_ok=True)

    def one(name):
        t0 = time.perf_counter()
        r = subprocess.run([DEBIAN_DISTCC, "gcc", "-O2", "-c", name, "-o",
                            name[:-2] + "." + tag + ".o"],
                           cwd=src, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise SystemExit("compile of %s failed: %s" % (name, r.stderr.decode()))
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        latencies = list(pool.map(one, files))
    return time.perf_counter() - t0, latencies


def make_workload(work, n):
    src = os.path.join(work, "src")
    os.makedirs(src)
    files = []
    for i in range(n):
        name = "f%03d.c" % i
        with open(os.path.join(src, name), "w") as fh:
            fh.write("#include <stdio.h>\n#include <string.h>\n"
                     "int f%d(const char *s) { return (int)strlen(s) * %d; }\n"
                     "void g%d(void) { printf(\"%%d\\n\", f%d(\"abc\")); }\n" % (i, i, i, i))
        files.append(name)
    return files


def run_round(kind, program, work, files, args, extra=()):
    d = Daemon(kind, program, work, args.parallel, extra)
    sampler = Sampler(d.proc.pid, children=(kind == "debian"))
    sampler.sample()
    base = sampler.total_cpu_s()
    watch0 = sampler.watchdog_cpu_s()
    kids0 = children_cpu_s(d.proc.pid)
    sampler.start()
    try:
        wall, lat = compile_all(work, files, d.port, args.protocol, args.parallel, kind)
        time.sleep(0.1)
        sampler.stop.set()
        sampler.join()
        sampler.sample()
        with open(d.log) as fh:
            ok = fh.read().count(" COMPILE_OK ")
        if ok != len(files):
            raise SystemExit("%s: %d of %d jobs compiled remotely" % (kind, ok, len(files)))
        cpu = sampler.total_cpu_s() - base
        watch = sampler.watchdog_cpu_s() - watch0
        kids = children_cpu_s(d.proc.pid) - kids0
        hwm = list(sampler.hwm.values())
        return {"jobs_s": len(files) / wall, "lat": lat, "cpu_job_ms": 1000 * cpu / len(files),
                "kids_job_ms": 1000 * kids / len(files),
                "watch_job_ms": 1000 * watch / len(files),
                "total_job_ms": 1000 * (cpu + kids) / len(files),
                "rss_max": max(hwm), "rss_sum": sum(hwm), "procs": len(hwm)}
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=200, help="C files per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--protocol", type=int, choices=(1, 2), default=2)
    ap.add_argument("--ours", default=os.path.join(ROOT, "target/release/distccd"))
    ap.add_argument("--tmpdir", default=None,
                    help="where the daemons' TMPDIR goes (default: the system temp dir)")
    ap.add_argument("--compare-sandbox", action="store_true",
                    help="ours with and without --no-sandbox (and --baseline), not 3.4")
    ap.add_argument("--baseline", default=None,
                    help="with --compare-sandbox: another distccd build to run as well")
    args = ap.parse_args()
    if args.compare_sandbox:
        kinds = [("sandbox", args.ours, ()), ("no-sandbox", args.ours, ("--no-sandbox",))]
        if args.baseline:
            kinds.append(("baseline", args.baseline, ()))
    else:
        kinds = [("ours", args.ours, ()), ("3.4", DEBIAN_DISTCCD, ())]
    for p in [k[1] for k in kinds] + [DEBIAN_DISTCC]:
        if not os.access(p, os.X_OK):
            raise SystemExit("missing %s" % p)

    work = tempfile.mkdtemp(prefix="distccd-bench-", dir=args.tmpdir)
    os.chmod(work, 0o755)  # both daemons drop root and must reach it
    try:
        for d in ("masq", "dtmp", "ctmp"):
            os.makedirs(os.path.join(work, d))
        os.chmod(os.path.join(work, "dtmp"), 0o1777)
        for cc in ("gcc", "x86_64-linux-gnu-gcc"):
            os.symlink(DEBIAN_DISTCC, os.path.join(work, "masq", cc))
        files = make_workload(work, args.jobs)
        # Warm the page cache and gcc once.
        subprocess.run(["gcc", "-c", files[0], "-o", "/dev/null"], cwd=os.path.join(work, "src"))
        results = {k[0]: [] for k in kinds}
        for r in range(args.rounds):
            # Rotate the order each round: the load of other programs
            # drifts, and whoever runs first would always pay for it.
            order = kinds[r % len(kinds):] + kinds[:r % len(kinds)]
            for kind, prog, extra in order:
                res = run_round("debian" if kind == "3.4" else kind, prog, work, files, args,
                                extra)
                results[kind].append(res)
                print("round %d %-10s  %6.1f jobs/s  cpu/job %6.3f ms  children %6.2f ms"
                      "  rss %6d kB" % (r + 1, kind, res["jobs_s"], res["cpu_job_ms"],
                                        res["kids_job_ms"], res["rss_max"]), flush=True)
        if args.compare_sandbox:
            report_sandbox(results, args)
        else:
            report(results, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fs_type(path):
    path = os.path.realpath(path or tempfile.gettempdir())
    best = ("?", "")
    with open("/proc/mounts") as fh:
        for line in fh:
            dev, mnt, kind = line.split()[:3]
            if (path + "/").startswith(mnt.rstrip("/") + "/") and len(mnt) >= len(best[1]):
                best = (kind, mnt)
    return "%s (%s)" % (best[1], best[0])


def report(results, args):
    def med(kind, key):
        return statistics.median(r[key] for r in results[kind])

    def lat(kind, q):
        all_lat = sorted(x for r in results[kind] for x in r["lat"])
        return 1000 * all_lat[min(len(all_lat) - 1, int(q * len(all_lat)))]

    rows = [
        ("throughput (jobs/s)", med("ours", "jobs_s"), med("3.4", "jobs_s")),
        ("latency median (ms)", lat("ours", 0.5), lat("3.4", 0.5)),
        ("latency p90 (ms)", lat("ours", 0.9), lat("3.4", 0.9)),
        ("daemon CPU per job (ms)", med("ours", "cpu_job_ms"), med("3.4", "cpu_job_ms")),
        ("peak RSS, largest process (kB)", med("ours", "rss_max"), med("3.4", "rss_max")),
        ("peak RSS, all processes (kB)", med("ours", "rss_sum"), med("3.4", "rss_sum")),
    ]
    print()
    print("%d jobs x %d rounds, %d at a time, protocol %d, TMPDIR on %s; medians over rounds" % (
        args.jobs, args.rounds, args.parallel, args.protocol, fs_type(args.tmpdir)))
    # Each round runs ours then 3.4 back to back: the median of the
    # per-round ratios is the figure least disturbed by the load of other
    # programs drifting during the run.
    def paired(key):
        return statistics.median(o[key] / t[key] for o, t in zip(results["ours"], results["3.4"]))

    pairs = {"throughput (jobs/s)": paired("jobs_s"),
             "daemon CPU per job (ms)": paired("cpu_job_ms")}
    print("| metric | distcc-rs | distcc 3.4 | ratio (rs/3.4) | median per-round ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, ours, ref in rows:
        ratio = ours / ref if ref else float("nan")
        pair = "%.2f" % pairs[name] if name in pairs else ""
        print("| %s | %.2f | %.2f | %.2f | %s |" % (name, ours, ref, ratio, pair))


def report_sandbox(results, args):
    """One column per configuration of ours; ratios against the baseline
    build if there is one, else against --no-sandbox, as medians of the
    per-round ratios (each round runs every configuration back to back)."""
    kinds = list(results)
    ref = "baseline" if "baseline" in results else "no-sandbox"

    def med(kind, key):
        return statistics.median(r[key] for r in results[kind])

    def lat(kind):
        all_lat = sorted(x for r in results[kind] for x in r["lat"])
        return 1000 * all_lat[len(all_lat) // 2]

    def paired(kind, key):
        return statistics.median(a[key] / b[key] for a, b in zip(results[kind], results[ref]))

    print()
    print("%d jobs x %d rounds, %d at a time, protocol %d, TMPDIR on %s; medians over rounds" % (
        args.jobs, args.rounds, args.parallel, args.protocol, fs_type(args.tmpdir)))
    head = " | ".join(kinds)
    ratios = " | ".join("%s/%s" % (k, ref) for k in kinds if k != ref)
    print("| metric | %s | %s |" % (head, ratios))
    print("|---|" + "---:|" * (len(kinds) + len(kinds) - 1))
    rows = [("throughput (jobs/s)", "jobs_s"), ("daemon CPU per job (ms)", "cpu_job_ms"),
            ("of which the watchdog (ms)", "watch_job_ms"),
            ("compilers' CPU per job (ms)", "kids_job_ms"),
            ("total CPU per job (ms)", "total_job_ms"),
            ("peak RSS, largest process (kB)", "rss_max")]
    for name, key in rows:
        vals = " | ".join("%.3f" % med(k, key) for k in kinds)
        rat = " | ".join("%.3f" % paired(k, key) if med(ref, key) else ""
                         for k in kinds if k != ref)
        print("| %s | %s | %s |" % (name, vals, rat))
    vals = " | ".join("%.1f" % lat(k) for k in kinds)
    print("| latency median (ms) | %s | %s |" % (vals, " | ".join("" for k in kinds if k != ref)))


if __name__ == "__main__":
    sys.exit(main())
