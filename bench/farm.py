#!/usr/bin/env python3
"""A simulated distcc farm on one machine (issue 13): placement measured.

N daemons (ours, target/release/distccd), each in its own network namespace
on a bridge in a namespace of its own, and a client namespace; addresses
10.214.0.0/24 exist only inside those namespaces. Each host has a speed
factor: its `gcc` is a wrapper that runs the real gcc, then waits until the
job has taken FACTOR x SCALE x the job's calibrated cost (the input's size
over the bytes-per-second a local serial compile of the project managed), so
hosts are slow or fast by the clock and not by the machine's few cores.
Links are shaped with tc: `netem` rate and delay (1gbit with 0.1 ms, 25mbit
with 10 ms each way) where the kernel has sch_netem, else `tbf` for the rate
alone (said in the output).

Real projects are built with make -jSLOTS through our client and Debian's
3.4 client (/usr/bin/distcc) against the same farm, each build with a fresh
DISTCC_DIR (nothing learnt before it): liblzma (lzma-sys 0.1.20) and zlib
(libz-sys 1.1.33) from cargo's registry, as tests/client/realbuilds.rs.
Reported per build: wall time, jobs per host (the daemons' COMPILE_OK lines;
"local" = files not compiled remotely), bytes on the wire (the client's
interface), the ideal (sum of the jobs' simulated cost / sum of slots/factor)
and whether every object equals a local compile's.

Scenarios:
  equal   3 equal hosts; target: our wall within 15 % of the ideal
  slow    2 equal hosts, then the same plus one 4x slower: ours must be no
          slower with it, 3.4's is
  stop    3 equal hosts, one SIGSTOPped (all its processes) mid-build; the
          clients get DISTCC_IO_TIMEOUT=20 (3.4's default is 300 s)

Usage (root; build first: cargo build --release):
  bench/farm.py [--project liblzma,zlib] [--scenario equal,slow,stop]
                [--link 1gbit,25mbit] [--rounds 1] [--slots 2] [--scale 4]
                [--clients ours,3.4] [--bin-dir DIR] [--smoke]
--smoke: 2 equal hosts, 6 zlib files, 1gbit, scale 1, both clients: a check
that the script works (tests/bench_farm.rs runs it), not a measurement.
"""

import argparse
import glob
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NET = "10.214.0"
DEBIAN_DISTCC = "/usr/bin/distcc"
BIN = os.path.join(ROOT, "target/release")
LINKS = {"1gbit": ("1gbit", "0.1ms"), "25mbit": ("25mbit", "10ms")}

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

def registry_crate(tmp, name, version):
    proj = os.path.join(tmp, "fetch-" + name)
    os.makedirs(os.path.join(proj, "src"), exist_ok=True)
    with open(os.path.join(proj, "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n'
                '[dependencies]\n%s = "=%s"\n' % (name, version))
    with open(os.path.join(proj, "src/main.rs"), "w") as f:
        f.write("fn main() {}\n")
    sh(["cargo", "fetch", "--quiet"], cwd=proj)
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    found = glob.glob(os.path.join(home, "registry/src/*/%s-%s" % (name, version)))
    if not found:
        sys.exit("%s-%s not in cargo's registry after cargo fetch" % (name, version))
    return found[0]


def liblzma(tmp):
    src = os.path.join(tmp, "liblzma")
    shutil.copytree(registry_crate(tmp, "lzma-sys", "0.1.20"), src)
    dirs = ["common", "lzma", "lz", "check", "delta", "rangecoder", "simple"]
    files = []
    for d in dirs:
        for f in sorted(glob.glob(os.path.join(src, "xz-5.2/src/liblzma", d, "*.c"))):
            stem = os.path.basename(f)[:-2]
            if stem in ("crc32_small", "crc64_small") or stem.endswith("tablegen"):
                continue
            files.append(os.path.relpath(f, src))
    files += ["xz-5.2/src/common/tuklib_cpucores.c", "xz-5.2/src/common/tuklib_physmem.c"]
    incs = " ".join("-Ixz-5.2/src/liblzma/" + d for d in ["api"] + dirs)
    cflags = "%s -std=c99 -pthread -DHAVE_CONFIG_H=1 %s -Ixz-5.2/src/common -I." % (
        ARCH_CFLAGS, incs)
    return src, files, cflags


def zlib(tmp):
    src = os.path.join(tmp, "zlib")
    shutil.copytree(os.path.join(registry_crate(tmp, "libz-sys", "1.1.33"), "src/zlib"), src)
    files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(src, "*.c")))
    cflags = DEBIAN_CFLAGS + " -fPIC -DSTDC -D_LARGEFILE64_SOURCE -fvisibility=hidden -I."
    return src, files, cflags


def obj_name(f):
    return "build/%s.o" % f.replace("/", "_")[:-2]


def write_makefile(src, files, cflags):
    rules = "".join("%s: %s\n\t$(CC) $(CFLAGS) -c $< -o $@\n" % (obj_name(f), f) for f in files)
    with open(os.path.join(src, "Makefile"), "w") as fh:
        fh.write("CFLAGS = %s\nall: %s\n$(shell mkdir -p build)\n%s" % (
            cflags, " ".join(obj_name(f) for f in files), rules))


def calibrate(src, files, cflags):
    """Local serial compile: reference objects, preprocessed sizes, and the
    bytes per second the compiler manages (the cost model's rate)."""
    ref = os.path.join(src, "reference")
    os.makedirs(ref, exist_ok=True)
    total_bytes, total_secs, sizes = 0, 0.0, {}
    for f in files:
        i_file = os.path.join(ref, os.path.basename(f) + ".i")
        sh(["gcc"] + cflags.split() + ["-E", f, "-o", i_file], cwd=src)
        sizes[f] = os.path.getsize(i_file)
        t0 = time.monotonic()
        sh(["gcc"] + cflags.split() + ["-c", f, "-o", os.path.join(ref, os.path.basename(obj_name(f)))],
           cwd=src)
        total_secs += time.monotonic() - t0
        total_bytes += sizes[f]
    return ref, sizes, total_bytes / total_secs


# ---------------------------------------------------------------- the farm

class Farm:
    def __init__(self, tmp, factors, slots, link, rate, scale):
        self.tmp, self.factors, self.slots = tmp, factors, slots
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
            self.shape(ns, link)
        for i, factor in enumerate(factors, start=1):
            self.start_daemon(i, factor, rate, scale)

    def ns(self, i):
        return "%s-%d" % (self.prefix, i)

    def addr(self, i):
        return "%s.%d" % (NET, i + 1)

    def shape(self, ns, link):
        rate, delay = LINKS[link]
        netem = ["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "eth0", "root",
                 "netem", "rate", rate, "delay", delay, "limit", "10000"]
        if subprocess.run(netem, stderr=subprocess.DEVNULL).returncode == 0:
            self.shaping = "netem rate %s delay %s each way" % (rate, delay)
            return
        ns_run(ns, ["tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", rate,
                    "burst", "256kb", "latency", "50ms"])
        self.shaping = "tbf rate %s (no sch_netem in this kernel: latency not added)" % rate

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
        log = os.path.join(home, "distccd.log")
        open(log, "w").close()
        os.chmod(log, 0o666)
        self.logs.append(log)
        cmd = ["ip", "netns", "exec", self.ns(i),
               os.path.join(BIN, "distccd"), "--daemon", "--no-detach",
               "--jobs", str(self.slots), "--allow", NET + ".0/24", "--log-level", "info",
               "--log-file", log, "--lifetime", "7200"]
        env = {"PATH": bindir + ":/usr/bin:/bin", "TMPDIR": dtmp, "HOME": home}
        self.daemons.append(subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                             start_new_session=True))
        deadline = time.time() + 20
        while time.time() < deadline:
            r = subprocess.run(["ip", "netns", "exec", self.ns(0), "bash", "-c",
                                "exec 3<>/dev/tcp/%s/3632" % self.addr(i)],
                               stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        sys.exit("distccd in %s did not start" % self.ns(i))

    def hosts(self, count=None):
        n = len(self.factors) if count is None else count
        return " ".join("%s/%d,lzo" % (self.addr(i), self.slots) for i in range(1, n + 1))

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

def build(farm, src, files, ref, client, hosts, jobs, io_timeout=None, stop=None):
    """One clean make -jJOBS; returns a result dict."""
    shutil.rmtree(os.path.join(src, "build"), ignore_errors=True)
    ddir = tempfile.mkdtemp(prefix="distcc-dir-", dir=farm.tmp)
    cc = os.path.join(BIN, "distcc") if client == "ours" else DEBIAN_DISTCC
    env = {"PATH": "/usr/bin:/bin", "HOME": farm.tmp, "DISTCC_DIR": ddir,
           "DISTCC_HOSTS": hosts, "TMPDIR": "/tmp"}
    if io_timeout:
        env["DISTCC_IO_TIMEOUT"] = str(io_timeout)
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
    same = all(
        open(os.path.join(src, obj_name(f)), "rb").read()
        == open(os.path.join(ref, os.path.basename(obj_name(f))), "rb").read()
        for f in files)
    return {"wall": wall, "per_host": per_host, "local": len(files) - sum(per_host),
            "bytes": farm.wire_bytes() - before_bytes, "same": same}


def ideal(sizes, rate, scale, factors, slots):
    work = sum(sizes.values()) / rate * scale
    return work / sum(slots / f for f in factors)


def median_build(rounds, *args, **kw):
    runs = [build(*args, **kw) for _ in range(rounds)]
    best = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
    best = dict(best)
    best["wall"] = statistics.median(r["wall"] for r in runs)
    best["same"] = all(r["same"] for r in runs)
    return best


def row(scenario, link, project, client, factors, res, ideal_s):
    return "| %s | %s | %s | %s | %s | %.1f | %.1f | %.2f | %s | %d | %.1f | %s |" % (
        scenario, link, project, client, ",".join("%g" % f for f in factors), res["wall"],
        ideal_s, res["wall"] / ideal_s, "/".join(str(n) for n in res["per_host"]),
        res["local"], res["bytes"] / 1e6, "yes" if res["same"] else "NO")


HEADER = ("| scenario | link | project | client | host speeds (1 = fast) | wall s | ideal s | "
          "wall/ideal | jobs per host | local | MB on wire | objects = local |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|")


def main():
    global BIN
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project", default="liblzma,zlib")
    ap.add_argument("--scenario", default="equal,slow,stop")
    ap.add_argument("--link", default="1gbit,25mbit")
    ap.add_argument("--clients", default="ours,3.4")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--scale", type=float, default=4.0,
                    help="simulated compile time over real (keeps the real CPU from being the limit)")
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
    try:
        for pname in a.project.split(","):
            src, files, cflags = {"liblzma": liblzma, "zlib": zlib}[pname](tmp)
            if a.smoke:
                files = files[:6]
            write_makefile(src, files, cflags)
            ref, sizes, rate = calibrate(src, files, cflags)
            print("%s: %d files, local serial compile %.1f s (%.0f KB/s preprocessed)" % (
                pname, len(files), sum(sizes.values()) / rate, rate / 1e3), flush=True)
            for link in a.link.split(","):
                for scen in a.scenario.split(","):
                    plans = {
                        "smoke": [("smoke", [1, 1], None)],
                        "equal": [("equal", [1, 1, 1], None)],
                        "slow": [("without slow", [1, 1], None), ("with 4x slow", [1, 1, 4], None)],
                        "stop": [("stop 1 of 3", [1, 1, 1], "stop")],
                    }[scen]
                    for label, factors, special in plans:
                        fdir = tempfile.mkdtemp(prefix="farm-", dir=tmp)
                        os.chmod(fdir, 0o755)
                        farm = Farm(fdir, factors, a.slots, link, rate, a.scale)
                        try:
                            ideal_s = ideal(sizes, rate, a.scale, factors, a.slots)
                            jobs = a.slots * len(factors)
                            for client in clients:
                                kw = {}
                                if special == "stop":
                                    kw = {"io_timeout": 20, "stop": (len(factors), ideal_s * 0.3)}
                                res = median_build(a.rounds, farm, src, files, ref, client,
                                                   farm.hosts(), jobs, **kw)
                                line = row(label, link, pname, client, factors, res, ideal_s)
                                lines.append(line)
                                print(line, flush=True)
                        finally:
                            print("  shaping: %s" % farm.shaping, flush=True)
                            farm.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(HEADER)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
