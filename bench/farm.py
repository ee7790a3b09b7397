#!/usr/bin/env python3
"""A simulated distcc farm on one machine (issue 13): placement measured.

N daemons (ours, target/release/distccd), each in its own network namespace
on a bridge in a namespace of its own, and a client namespace; addresses
10.214.0.0/24 exist only inside those namespaces. Each host has a speed
factor: its `gcc` is a wrapper that runs the real gcc, then waits until the
job has taken FACTOR x SCALE x the job's calibrated cost (the input's size
over the bytes-per-second a local serial compile of the project managed), so
hosts are slow or fast by the clock and not by the machine's few cores.
Links are shaped with tc: `netem` rate and delay (1gbit with 0.1 ms, 25mbit and 5mbit
with 10 ms each way) where the kernel has sch_netem, else `tbf` for the rate
alone (said in the output). That kernel can still get latency: with
`--rtt-ms N` every host has a relay (bench/relay.py) in its namespace on
port 3633 in front of its daemon's 3632, holding each chunk N/2 ms each way
and the client's first bytes a connect round trip more; both clients are
given the relays' ports, so both go through them.

Real projects (bench/projects.py) are built with make -j(slots of the hosts
listed) through our client and Debian's 3.4 client (/usr/bin/distcc)
against the same farm, the clients alternating which goes first each round,
each build with a fresh DISTCC_DIR (nothing learnt before it). Reported per
build: wall time (median of the rounds, and each round's), jobs per host
(ours: its own records; 3.4: the daemons' COMPILE_OK lines), "local" (jobs
compiled on the client: ours: raced or fallen back, from its records;
3.4: its "running locally instead" warnings), bytes on the wire (the
client's interface), the ideal and whether every object equals a local
compile's. The ideal is the jobs' simulated compile time over the farm's
total speed (sum of slots/factor), or the client's preprocessing (measured
serially) over this machine's cores when that is longer: every job is
preprocessed on the client first.

Scenarios (host numbers are list order):
  equal   3 equal hosts; target: our wall within 15 % of the ideal
  slow    hosts 4x,1,1: "without slow" lists hosts 2-3 only, "with 4x slow
          first" lists all three, the slow one first (3.4 gives the first
          free slot in list order to it); target: ours no slower with it
  stop    3 equal hosts; "stop 1 of 3" SIGSTOPs every process of host 1 at
          30 % of the ideal; DISTCC_IO_TIMEOUT=20 for both clients (3.4's
          default is 300 s); target: the stopped host's jobs cost a local
          compile each

Usage (root; build first: cargo build --release --bin distcc --bin distccd):
  bench/farm.py [--project liblzma,zlib] [--scenario equal,slow,stop]
                [--link 1gbit,25mbit,5mbit] [--rounds 1] [--slots 2] [--scale 12]
                [--clients ours,3.4] [--rtt-ms N] [--bin-dir DIR] [--smoke]
--smoke: 2 equal hosts, 6 zlib files, 1gbit, scale 1, both clients: a check
that the script works (tests/client/bench_farm.rs runs it), not a measurement.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import projects
import simhost

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NET = "10.214.0"
DEBIAN_DISTCC = "/usr/bin/distcc"
BIN = os.path.join(ROOT, "target/release")
RELAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "relay.py")
DAEMON_PORT, RELAY_PORT = 3632, 3633
LINKS = {"1gbit": ("1gbit", "0.1ms"), "25mbit": ("25mbit", "10ms"), "5mbit": ("5mbit", "10ms")}

ARCH_CFLAGS = ("-march=x86-64 -mtune=generic -O2 -pipe -fno-plt -fexceptions "
               "-Wp,-D_FORTIFY_SOURCE=3 -Wformat -Werror=format-security "
               "-fstack-clash-protection -fcf-protection -fno-omit-frame-pointer "
               "-mno-omit-leaf-frame-pointer")
DEBIAN_CFLAGS = ("-O2 -ffile-prefix-map=/build/zlib=. -fstack-protector-strong -Wformat "
                 "-Werror=format-security -Wdate-time -D_FORTIFY_SOURCE=2")

WRAPPER = """#!/usr/bin/python3
# bench/farm.py's compiler for one simulated host: the real gcc, then a wait
# until the job took FACTOR x SCALE x (input bytes / RATE) seconds.
import os, subprocess, sys, time
# Our distccd gives small sources on stdin ("-"), 3.4's a file.
t0 = time.monotonic()
size, data = 0, None
for a in sys.argv[1:]:
    if a == "-":
        data = sys.stdin.buffer.read()
        size = len(data)
    elif a.endswith((".i", ".ii", ".c")) and os.path.isfile(a):
        size = os.path.getsize(a)
real = "/usr/bin/" + os.path.basename(sys.argv[0])
rc = subprocess.run([real] + sys.argv[1:], input=data).returncode
left = size / %(rate)r * %(scale)r * %(factor)r - (time.monotonic() - t0)
if left > 0:
    time.sleep(left)
sys.exit(rc)
"""


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ns_run(ns, cmd, **kw):
    return sh(["ip", "netns", "exec", ns] + cmd, **kw)


# ---------------------------------------------------------------- projects

def liblzma(tmp):
    src, files, flags = projects.liblzma(tmp)
    return src, files, "%s %s" % (ARCH_CFLAGS, " ".join(flags))


def zlib(tmp):
    src, files, flags = projects.zlib(tmp)
    return src, files, "%s %s" % (DEBIAN_CFLAGS, " ".join(flags))


obj_name = projects.obj_name


def write_makefile(src, files, cflags):
    rules = "".join("%s: %s\n\t$(CC) $(CFLAGS) -c $< -o $@\n" % (obj_name(f), f) for f in files)
    with open(os.path.join(src, "Makefile"), "w") as fh:
        fh.write("CFLAGS = %s\nall: %s\n$(shell mkdir -p build)\n%s" % (
            cflags, " ".join(obj_name(f) for f in files), rules))


def calibrate(src, files, cflags):
    """Local serial compile: reference objects, preprocessed sizes, the
    bytes per second the compiler manages (the cost model's rate) and the
    seconds the preprocessor took in all (the client's own share)."""
    ref = os.path.join(src, "reference")
    os.makedirs(ref, exist_ok=True)
    total_bytes, total_secs, cpp_secs, sizes = 0, 0.0, 0.0, {}
    for f in files:
        i_file = os.path.join(ref, os.path.basename(f) + ".i")
        t0 = time.monotonic()
        sh(["gcc"] + cflags.split() + ["-E", f, "-o", i_file], cwd=src)
        cpp_secs += time.monotonic() - t0
        sizes[f] = os.path.getsize(i_file)
        t0 = time.monotonic()
        sh(["gcc"] + cflags.split() + ["-c", f, "-o", os.path.join(ref, os.path.basename(obj_name(f)))],
           cwd=src)
        total_secs += time.monotonic() - t0
        total_bytes += sizes[f]
    return ref, sizes, total_bytes / total_secs, cpp_secs


# ---------------------------------------------------------------- the farm

class Farm:
    def __init__(self, tmp, factors, slots, link, rate, scale, rtt_ms=None, table=None,
                 link_at="hosts"):
        """LINK_AT "hosts": every namespace's eth0 sends at the link's rate
        (the client's uploads share its one link, each host sends back on
        its own: 1 + N links); "client": only the client's link is shaped,
        both ways (its eth0, and the switch's port towards it), the hosts
        on an unshaped LAN: a client on a VPN or Wi-Fi feeding a farm."""
        self.tmp, self.factors, self.slots, self.rtt_ms = tmp, factors, slots, rtt_ms
        # bench/simhost.py's table: hosts that hold jobs instead of compiling.
        self.table = table
        self.prefix = "bf%d" % (os.getpid() % 100000)
        self.daemons, self.logs = [], []
        self.shaping = None
        self.ns_list = []
        sw = self.prefix + "-sw"
        sh(["ip", "netns", "add", sw])
        self.ns_list.append(sw)
        sh(["ip", "-n", sw, "link", "add", "br0", "type", "bridge"])
        sh(["ip", "-n", sw, "link", "set", "br0", "up"])
        for i in range(len(factors) + 1):
            ns = self.ns(i)
            sh(["ip", "netns", "add", ns])
            self.ns_list.append(ns)
            port = "p%d" % i
            sh(["ip", "-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0",
                "netns", ns])
            sh(["ip", "-n", sw, "link", "set", port, "master", "br0", "up"])
            sh(["ip", "-n", ns, "addr", "add", "%s/24" % self.addr(i), "dev", "eth0"])
            sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])
            if link_at == "hosts" or i == 0:
                self.shape(ns, "eth0", link)
        if link_at == "client":
            self.shape(sw, "p0", link)
            self.shaping += ", the client's link only, both ways"
        for i, factor in enumerate(factors, start=1):
            self.start_daemon(i, factor, rate, scale)
            if rtt_ms is not None:
                self.start_relay(i)
        if rtt_ms is not None:
            self.shaping += ", plus %g ms RTT from a userspace relay per host" % rtt_ms

    def ns(self, i):
        return "%s-%d" % (self.prefix, i)

    def addr(self, i):
        return "%s.%d" % (NET, i + 1)

    def shape(self, ns, dev, link):
        rate, delay = LINKS[link]
        netem = ["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root",
                 "netem", "rate", rate, "delay", delay, "limit", "10000"]
        if subprocess.run(netem, stderr=subprocess.DEVNULL).returncode == 0:
            self.shaping = "netem rate %s delay %s each way" % (rate, delay)
            return
        ns_run(ns, ["tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", rate,
                    "burst", "256kb", "latency", "50ms"])
        self.shaping = "tbf rate %s (no sch_netem in this kernel: no tc latency)" % rate

    def start_daemon(self, i, factor, rate, scale):
        home = os.path.join(self.tmp, "host%d" % i)
        bindir = os.path.join(home, "bin")
        dtmp = os.path.join(home, "tmp")
        os.makedirs(bindir)
        os.makedirs(dtmp)
        os.chmod(home, 0o755)
        os.chmod(dtmp, 0o1777)
        # Clients send gcc as x86_64-linux-gnu-gcc (3.4 rewrites it too).
        machine = subprocess.run(["gcc", "-dumpmachine"], capture_output=True, text=True,
                                 check=True).stdout.strip()
        for name in ("gcc", "cc", machine + "-gcc"):
            wrapper = os.path.join(bindir, name)
            with open(wrapper, "w") as f:
                f.write(WRAPPER % {"rate": float(rate), "scale": float(scale),
                                   "factor": float(factor)})
            os.chmod(wrapper, 0o755)
        if self.table:
            simhost.install(bindir, self.table)
        log = os.path.join(home, "distccd.log")
        open(log, "w").close()
        os.chmod(log, 0o666)
        self.logs.append(log)
        cmd = ["ip", "netns", "exec", self.ns(i),
               os.path.join(BIN, "distccd"), "--daemon", "--no-detach",
               "--jobs", str(self.slots), "--allow", NET + ".0/24", "--log-level", "info",
               "--log-file", log, "--lifetime", "7200"]
        if self.table:
            # The sandboxed wrapper reads its table and the reference objects.
            cmd += ["--sandbox-allow-path", os.path.dirname(self.table)]
        env = {"PATH": bindir + ":/usr/bin:/bin", "TMPDIR": dtmp, "HOME": home}
        self.daemons.append(subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                             start_new_session=True))
        deadline = time.time() + 20
        while time.time() < deadline:
            r = subprocess.run(["ip", "netns", "exec", self.ns(0), "bash", "-c",
                                "exec 3<>/dev/tcp/%s/%d" % (self.addr(i), DAEMON_PORT)],
                               stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        sys.exit("distccd in %s did not start" % self.ns(i))

    def start_relay(self, i):
        """The latency relay of host I: its address's RELAY_PORT to its daemon."""
        relay = subprocess.Popen(
            ["ip", "netns", "exec", self.ns(i), sys.executable, RELAY,
             "%s:%d" % (self.addr(i), RELAY_PORT), "%s:%d" % (self.addr(i), DAEMON_PORT),
             "--rtt-ms", str(self.rtt_ms), "--connect-rtt"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
            start_new_session=True)
        self.daemons.append(relay)
        if relay.stdout.readline().strip() != "ready":
            sys.exit("the relay in %s did not start" % self.ns(i))

    def hosts(self, which):
        """The host list of the hosts numbered WHICH (1-based), in that order
        (the relays' port with --rtt-ms)."""
        port = "" if self.rtt_ms is None else ":%d" % RELAY_PORT
        return " ".join("%s%s/%d,lzo" % (self.addr(i), port, self.slots) for i in which)

    def wire_bytes(self):
        out = subprocess.run(["ip", "netns", "exec", self.ns(0), "cat",
                              "/sys/class/net/eth0/statistics/rx_bytes",
                              "/sys/class/net/eth0/statistics/tx_bytes"],
                             capture_output=True, text=True, check=True).stdout.split()
        return sum(int(x) for x in out)

    def compiled(self):
        counts = []
        for log in self.logs:
            with open(log, errors="replace") as f:
                counts.append(f.read().count("COMPILE_OK"))
        return counts

    def signal_host(self, i, sig):
        pids = subprocess.run(["ip", "netns", "pids", self.ns(i)], capture_output=True,
                              text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), sig)
            except (ProcessLookupError, ValueError):
                pass

    def close(self):
        for i in range(1, len(self.factors) + 1):
            self.signal_host(i, signal.SIGCONT)
            self.signal_host(i, signal.SIGKILL)
        for p in self.daemons:
            p.wait()
        for ns in self.ns_list:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


# ---------------------------------------------------------------- builds

def ours_counts(ddir, farm):
    """Where our client's jobs ran, from its records ($DISTCC_DIR/stats/jobs):
    remote jobs per host, and jobs compiled here (raced or fallen back)."""
    per_host = [0] * len(farm.factors)
    local = 0
    why = {}
    path = os.path.join(ddir, "stats", "jobs")
    with open(path) as f:
        for line in f:
            words = dict(w.split("=", 1) for w in line.split() if "=" in w)
            if words.get("ran") == "local":
                local += 1
                why[words.get("why", "-")] = why.get(words.get("why", "-"), 0) + 1
            elif words.get("ran") == "remote":
                addr = words.get("host", "").split("_")[1]
                per_host[int(addr.rsplit(".", 1)[1]) - 2] += 1
    print("    ours, compiled here: %s" % (why or "none"), flush=True)
    return per_host, local


def build(farm, src, files, ref, client, which, io_timeout=None, stop=None):
    """One clean make -j(slots of the hosts listed) with the hosts numbered
    WHICH; STOP = (host, seconds): SIGSTOP that host then. Returns a dict."""
    shutil.rmtree(os.path.join(src, "build"), ignore_errors=True)
    ddir = tempfile.mkdtemp(prefix="distcc-dir-", dir=farm.tmp)
    cc = os.path.join(BIN, "distcc") if client == "ours" else DEBIAN_DISTCC
    env = {"PATH": "/usr/bin:/bin", "HOME": farm.tmp, "DISTCC_DIR": ddir,
           "DISTCC_HOSTS": farm.hosts(which), "TMPDIR": "/tmp"}
    if io_timeout:
        env["DISTCC_IO_TIMEOUT"] = str(io_timeout)
    jobs = farm.slots * len(which)
    before_jobs, before_bytes = farm.compiled(), farm.wire_bytes()
    t0 = time.monotonic()
    proc = subprocess.Popen(["ip", "netns", "exec", farm.ns(0), "make", "-s", "-j%d" % jobs,
                             "CC=%s gcc" % cc], cwd=src, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if stop:
        host, after = stop
        try:
            proc.wait(timeout=after)
        except subprocess.TimeoutExpired:
            farm.signal_host(host, signal.SIGSTOP)
    _, err = proc.communicate()
    wall = time.monotonic() - t0
    # Counted before a stopped host resumes: what it finishes afterwards
    # was compiled locally by the client meanwhile.
    per_host = [a - b for a, b in zip(farm.compiled(), before_jobs)]
    if stop:
        farm.signal_host(stop[0], signal.SIGCONT)
    if proc.returncode != 0:
        sys.exit("build with %s failed:\n%s" % (client, err[-3000:]))
    # Both clients say so on stderr when a job falls back here.
    local = err.count("running locally instead")
    if client == "ours":
        # Exact: a raced job's remote compile may still have finished.
        per_host, local = ours_counts(ddir, farm)
    same = all(
        open(os.path.join(src, obj_name(f)), "rb").read()
        == open(os.path.join(ref, os.path.basename(obj_name(f))), "rb").read()
        for f in files)
    return {"wall": wall, "per_host": per_host, "local": local,
            "bytes": farm.wire_bytes() - before_bytes, "same": same}


def ideal(sizes, rate, cpp_secs, scale, factors, slots):
    """The shortest the build can take: its simulated compile time over the
    farm's total speed, or the client's preprocessing over its cores if
    that is longer (cpp runs here, on this machine's cores)."""
    work = sum(sizes.values()) / rate * scale
    return max(work / sum(slots / f for f in factors), cpp_secs / (os.cpu_count() or 1))


def summary(label, link, project, client, factors, runs, ideal_s, wall_ref=None):
    walls = [r["wall"] for r in runs]
    mid = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
    wall = statistics.median(walls)
    vs = " - |" if wall_ref is None else " %.2f |" % (wall / wall_ref)
    return "| %s | %s | %s | %s | %s | %.1f | %s | %.1f | %.2f |%s %s | %d | %.1f | %s |" % (
        label, link, project, client, ",".join("%g" % f for f in factors), wall,
        " ".join("%.1f" % w for w in walls), ideal_s, wall / ideal_s, vs,
        "/".join(str(n) for n in mid["per_host"]), mid["local"], mid["bytes"] / 1e6,
        "yes" if all(r["same"] for r in runs) else "NO")


HEADER = ("| scenario | link | project | client | host speeds, list order (1 = fast) | wall s (median) "
          "| rounds | ideal s | wall/ideal | vs without | jobs per host (median run) | local | MB on wire "
          "| objects = local |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")

# Each scenario: its farm's speed factors (list order) and the builds of a
# round: (label, hosts listed (1-based), special).
SCENARIOS = {
    "smoke": ([1, 1], [("smoke", [1, 2], None)]),
    "equal": ([1, 1, 1], [("equal", [1, 2, 3], None)]),
    # The slow host first in the list: 3.4's first free slot is its.
    "slow": ([4, 1, 1], [("without slow", [2, 3], None), ("with 4x slow first", [1, 2, 3], None)]),
    # The first host listed is stopped: it has jobs in both clients.
    "stop": ([1, 1, 1], [("no stop", [1, 2, 3], None), ("stop 1 of 3", [1, 2, 3], "stop")]),
}


def run_scenario(a, scen, link, pname, src, files, ref, sizes, rate, cpp_secs, clients):
    factors, plan = SCENARIOS[scen]
    fdir = tempfile.mkdtemp(prefix="farm-", dir=os.path.dirname(src))
    os.chmod(fdir, 0o755)
    farm = Farm(fdir, factors, a.slots, link, rate, a.scale, a.rtt_ms)
    runs = {}
    try:
        for rnd in range(a.rounds):
            # Clients alternate which goes first, round by round.
            order = clients[rnd % len(clients):] + clients[:rnd % len(clients)]
            for label, which, special in plan:
                ideal_s = ideal(sizes, rate, cpp_secs, a.scale, [factors[i - 1] for i in which],
                                a.slots)
                for client in order:
                    kw = {}
                    if special == "stop":
                        kw = {"io_timeout": 20, "stop": (which[0], ideal_s * 0.3)}
                    res = build(farm, src, files, ref, client, which, **kw)
                    runs.setdefault((label, client), []).append(res)
                    print("  round %d %s %s: %.1f s, jobs %s, local %d, same %s" % (
                        rnd + 1, label, client, res["wall"], res["per_host"], res["local"],
                        res["same"]), flush=True)
    finally:
        print("  shaping: %s" % farm.shaping, flush=True)
        farm.close()
    lines = []
    for label, which, _ in plan:
        speeds = [factors[i - 1] for i in which]
        ideal_s = ideal(sizes, rate, cpp_secs, a.scale, speeds, a.slots)
        for client in clients:
            ref_runs = runs.get((plan[0][0], client)) if len(plan) > 1 else None
            wall_ref = statistics.median(r["wall"] for r in ref_runs) if ref_runs else None
            link_s = link if a.rtt_ms is None else "%s, +%g ms RTT" % (link, a.rtt_ms)
            lines.append(summary(label, link_s, pname, client, speeds, runs[(label, client)],
                                 ideal_s, wall_ref))
    return lines


def main():
    global BIN
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project", default="liblzma")
    ap.add_argument("--scenario", default="equal,slow,stop")
    ap.add_argument("--link", default="1gbit")
    ap.add_argument("--clients", default="ours,3.4")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--scale", type=float, default=12.0,
                    help="simulated compile time over real (keeps the real CPU from being the limit)")
    ap.add_argument("--rtt-ms", type=float,
                    help="add this round-trip time with a relay in front of each daemon")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--bin-dir", default=BIN, help="where distcc and distccd are [target/release]")
    a = ap.parse_args()
    BIN = os.path.abspath(a.bin_dir)
    # SIGTERM unwinds like ^C: every farm's namespaces and daemons go.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    if os.geteuid() != 0:
        sys.exit("bench/farm.py needs root (network namespaces)")
    for prog in [os.path.join(BIN, "distcc"),
                 os.path.join(BIN, "distccd")]:
        if not os.path.exists(prog):
            sys.exit("%s missing: run cargo build --release first (or give --bin-dir)" % prog)
    clients = a.clients.split(",")
    if "3.4" in clients and not os.path.exists(DEBIAN_DISTCC):
        sys.exit("Debian's distcc is not installed (scripts/install-test-deps)")
    if a.smoke:
        a.project, a.scenario, a.link, a.scale, a.rounds = "zlib", "smoke", "1gbit", 1.0, 1
    tmp = tempfile.mkdtemp(prefix="distcc-farm-")
    os.chmod(tmp, 0o755)
    lines = []
    print("load average at the start: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
    try:
        for pname in a.project.split(","):
            src, files, cflags = {"liblzma": liblzma, "zlib": zlib}[pname](tmp)
            if a.smoke:
                files = files[:6]
            write_makefile(src, files, cflags)
            ref, sizes, rate, cpp_secs = calibrate(src, files, cflags)
            print("%s: %d files, local serial compile %.1f s (%.0f KB/s preprocessed), "
                  "preprocessing %.1f s" % (pname, len(files), sum(sizes.values()) / rate,
                                            rate / 1e3, cpp_secs), flush=True)
            for link in a.link.split(","):
                for scen in a.scenario.split(","):
                    lines += run_scenario(a, scen, link, pname, src, files, ref, sizes, rate,
                                          cpp_secs, clients)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("load average at the end: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
    print()
    print(HEADER)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
