#!/usr/bin/env -S python3 -u
"""Per-job cost of TLS (issue 14): the same tiny job sent to our daemon on
127.0.0.1, one job at a time, by

  * "3.4":   Debian's distcc 3.4 client, `HOST` (clear protocol 1);
  * "clear": our client, `HOST` (clear; the extension's hello included);
  * "tls":   our client, `tls+HOST` (TLS 1.3, pinned Ed25519 keys, the
             daemon's accept byte, then the same exchange inside TLS).

The three kinds are interleaved (the order rotates every job) so that the
machine's load hits them alike. Per round and kind: the median wall time
of a whole `distcc gcc -c x.i` (the compile itself included, so the
difference is what TLS adds), the median client CPU (user+sys of the
client process), and the daemon's own CPU per job (its threads' time on
CPU from /proc/PID/task/*/schedstat, compilers excluded, a mean since it
is read around each job). Reported: the median over rounds of each
round's figure, and each round's tls - clear.

`--rtt-ms D` puts a relay in front of the daemon that holds every chunk
for D/2 ms each way, as a network with that round-trip time would (TCP's
own connect round trip is not delayed; bench/relay.py): the wall
difference then shows the round trips TLS adds.

Builds the release binaries first (`cargo build --release`; `--no-build`
to skip). Not a timed test.

    bench/tls.py --rounds 5 --jobs 60
    bench/tls.py --rounds 3 --jobs 30 --rtt-ms 2
"""

import argparse
import glob
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from relay import DelayRelay

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEBIAN_DISTCC = "/usr/bin/distcc"
KINDS = ["3.4", "clear", "tls"]


def binary(name, args):
    return os.path.join(args.bin or os.path.join(ROOT, "target", args.profile), name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit(f"daemon did not listen on {port}")


def fingerprint(text):
    return next(w for w in text.split() if w.startswith("SHA256:"))


def daemon_cpu_ns(pid):
    """The daemon's threads' time on CPU so far (ns)."""
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=60, help="jobs per kind per round")
    ap.add_argument("--profile", default="release")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--bin", help="our binaries' directory (no build)")
    ap.add_argument("--lzo", action="store_true", help="add ,lzo to the hosts")
    ap.add_argument("--rtt-ms", type=float, help="through a relay adding this round-trip time")
    args = ap.parse_args()
    if not os.access(DEBIAN_DISTCC, os.X_OK):
        sys.exit(f"{DEBIAN_DISTCC} (Debian's distcc 3.4) is needed")
    if not (args.no_build or args.bin):
        flag = ["--release"] if args.profile == "release" else []
        subprocess.run(["cargo", "build", "--quiet", *flag, "--bin", "distcc",
                        "--bin", "distccd", "--bin", "distcc-config"],
                       cwd=ROOT, check=True)

    tmp = tempfile.mkdtemp(prefix="distcc-tls-bench-")
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def setup(args, tmp):
    config = binary("distcc-config", args)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": tmp,
        "DISTCC_DIR": os.path.join(tmp, "ddir"),
        "TMPDIR": tmp,
    }
    dtls = os.path.join(tmp, "dtls")
    masq = os.path.join(tmp, "masq")
    os.makedirs(masq)
    for cc in ["gcc", "x86_64-linux-gnu-gcc"]:
        os.symlink("/usr/bin/gcc", os.path.join(masq, cc))
    dtmp = os.path.join(tmp, "dtmp")
    os.makedirs(dtmp)
    os.chmod(dtmp, 0o1777)
    os.chmod(tmp, 0o755)

    def cfg(*a):
        return subprocess.run([config, *a], env=env, check=True,
                              capture_output=True, text=True).stdout

    dfp = fingerprint(cfg("--tls-dir", dtls, "--tls-keygen", "daemon"))
    cfp = fingerprint(cfg("--tls-keygen", "client"))
    cfg("--tls-dir", dtls, "--tls-trust-client", cfp)
    cfg("--tls-trust-daemon", "127.0.0.1", dfp)
    return env, dtls, masq, dtmp


def run(args, tmp):
    distcc = binary("distcc", args)
    distccd = binary("distccd", args)
    env, dtls, masq, dtmp = setup(args, tmp)
    port = free_port()
    log = os.path.join(tmp, "daemon.log")
    daemon = subprocess.Popen(
        [distccd, "--daemon", "--no-detach", "--port", str(port),
         "--listen", "127.0.0.1", "--allow", "127.0.0.1", "--jobs", "2",
         "--masquerade-dir", masq, "--log-file", log, "--log-level", "warning",
         "--tls", "--tls-dir", dtls],
        env={"PATH": "/usr/bin:/bin", "TMPDIR": dtmp}, start_new_session=True)
    try:
        wait_port(port)
        relay = None
        if args.rtt_ms is not None:
            relay = DelayRelay(("127.0.0.1", port), args.rtt_ms / 2000)
        target = relay.port if relay else port
        src = os.path.join(tmp, "x.i")
        with open(src, "w") as f:
            f.write("int f(int a) { return a * 3 + 1; }\n")
        opts = ",lzo" if args.lzo else ""
        hosts = {
            "3.4": f"127.0.0.1:{target}{opts}",
            "clear": f"127.0.0.1:{target}{opts}",
            "tls": f"tls+127.0.0.1:{target}{opts}",
        }
        clients = {"3.4": DEBIAN_DISTCC, "clear": distcc, "tls": distcc}
        rounds = []
        for r in range(args.rounds):
            rounds.append(one_round(args, env, tmp, src, hosts, clients, daemon.pid, relay))
            print(f"round {r + 1}: " + ", ".join(
                f"{k} {statistics.median(rounds[-1]['wall'][k]):.2f}/"
                f"{statistics.median(rounds[-1]['cpu'][k]):.2f} ms"
                for k in KINDS) + " (wall/client CPU)")
        with open(log) as f:
            problems = [l for l in f if "refused" in l or "ERROR" in l]
        if problems:
            sys.exit("daemon refused jobs:\n" + "".join(problems))
    finally:
        os.killpg(daemon.pid, 15)
        daemon.wait()
    report(args, hosts, rounds)


def one_round(args, env, tmp, src, hosts, clients, dpid, relay):
    wall = {k: [] for k in KINDS}
    cpu = {k: [] for k in KINDS}
    dcpu = {k: [] for k in KINDS}
    trips = {k: [] for k in KINDS}
    for i in range(args.jobs):
        order = KINDS[i % 3:] + KINDS[:i % 3]
        for kind in order:
            e = dict(env, DISTCC_HOSTS=hosts[kind], DISTCC_FALLBACK="0")
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            d0 = daemon_cpu_ns(dpid)
            r0 = relay.round_trips if relay else 0
            t0 = time.perf_counter()
            subprocess.run([clients[kind], "gcc", "-c", src, "-o",
                            os.path.join(tmp, "x.o")],
                           env=e, check=True, cwd=tmp)
            t1 = time.perf_counter()
            # The daemon's last bookkeeping after the reply.
            time.sleep(0.002)
            dcpu[kind].append((daemon_cpu_ns(dpid) - d0) / 1e6)
            if relay:
                trips[kind].append(relay.round_trips - r0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall[kind].append((t1 - t0) * 1000)
            cpu[kind].append(((after.ru_utime - before.ru_utime)
                              + (after.ru_stime - before.ru_stime)) * 1000)
    return {"wall": wall, "cpu": cpu, "dcpu": dcpu, "trips": trips}


def report(args, hosts, rounds):
    med = statistics.median
    print(f"\nrounds: {args.rounds}, jobs per kind per round: {args.jobs}, "
          f"added rtt: {args.rtt_ms} ms, hosts: {hosts}")
    print("| per job (median over rounds) | 3.4 clear | ours clear | ours tls "
          "| tls - clear | tls / 3.4 |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = [("wall, median (ms)", "wall", med),
            ("client CPU, median (ms)", "cpu", med),
            ("daemon CPU, mean (ms)", "dcpu", statistics.mean)]
    if args.rtt_ms is not None:
        rows.append(("network round trips, median", "trips", med))
    for name, key, stat in rows:
        per = {k: med([stat(r[key][k]) for r in rounds]) for k in KINDS}
        print(f"| {name} | {per['3.4']:.2f} | {per['clear']:.2f} | "
              f"{per['tls']:.2f} | {per['tls'] - per['clear']:+.2f} | "
              f"{per['tls'] / per['3.4']:.2f} |")
    for key, label in [("cpu", "client CPU"), ("wall", "wall")]:
        diffs = [med(r[key]["tls"]) - med(r[key]["clear"]) for r in rounds]
        print(f"tls - clear, {label}, per round (ms): "
              + " ".join(f"{d:+.2f}" for d in diffs))


if __name__ == "__main__":
    main()
