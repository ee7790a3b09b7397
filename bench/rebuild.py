#!/usr/bin/env python3
"""A rebuild after one header changed, on a shaped link (issue 16): our
client in pump mode with the daemons' header cache against Debian's 3.4
client in plain mode, on bench/farm.py's farm (our daemons in network
namespaces, every link shaped with tc to the rate given).

For each client, in one run: a clean `make -jN` of the project (first
build: a fresh DISTCC_DIR, the daemons' header caches as the previous
client left them: empty for the first client, which is ours), then one
header is changed (a comment line appended: by default one every file
includes, --header another) and `make -jN` again with the same
DISTCC_DIR, the objects of the files that include it (cc -MM) removed
first: what make with dependency files would rebuild. Reported per build: wall
time, bytes the client sent and received (its interface's counters) and
whether every object equals a local compile's. The hosts' compilers run
for real (SCALE 0: no simulated compile time; this machine's cores are
shared by the client and every host).

--simulate: hosts that use little CPU (bench/simhost.py): each job is held
for the seconds a local compile of its source took (measured serially
before the builds, one table for both clients) and gets that compile's
object, so the client's CPU (3.4's plain client preprocesses every job
here) and the link set the pace, as with a laptop feeding a farm over a
VPN; objects are then copies, and "objects = local" is not a check.

--link-at hosts (the default): every host's link and the client's are
shaped, each sending at the rate (the client's uploads share one link,
the hosts answer on six); --link-at client: the client's link alone, both
ways, the hosts on an unshaped LAN (issue 16's client on a VPN or Wi-Fi).
--timeline (with --simulate): where each build's time went, job by job
(bench/timeline.py).

Usage (root; cargo build --release --bin distcc --bin distccd first):
  bench/rebuild.py [--project liblzma|harfbuzz|zlib] [--link 25mbit] [--hosts 3]
                   [--slots 2] [--simulate [--sim-scale F]] [--bin-dir DIR]
                   [--link-at hosts|client] [--header PATH] [--timeline]
"""

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import farm
import projects
import simhost
import timeline

HEADERS = {"liblzma": "xz-5.2/src/liblzma/common/common.h", "zlib": "zutil.h",
           "harfbuzz": "harfbuzz/src/hb.hh"}
COMPILER = {"harfbuzz": "g++"}


def make(f, src, env, cc):
    jobs = f.slots * len(f.factors)
    tx0, rx0, pk0 = counters(f)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    make.started = time.time()
    t0 = time.monotonic()
    proc = subprocess.run(["ip", "netns", "exec", f.ns(0), "make", "-s", "-j%d" % jobs,
                           "CC=%s %s" % (env.pop("CC"), cc)], cwd=src, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The client side's CPU: make, the distcc clients, their preprocessors
    # (and, with --simulate, nothing of the hosts', which are daemons).
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if proc.returncode != 0:
        sys.exit("build failed:\n%s" % proc.stderr[-3000:])
    tx1, rx1, pk1 = counters(f)
    fell_back = proc.stderr.count("running locally") + proc.stderr.count("failed to distribute")
    make.packets = pk1 - pk0
    make.stderr = proc.stderr
    return wall, tx1 - tx0, rx1 - rx0, fell_back, cpu


def dependents(src, files, cc, cflags, header):
    """The files whose compile reads HEADER (cc -MM)."""
    want = os.path.realpath(header)
    out = []
    for x in files:
        deps = subprocess.run([cc] + cflags.split() + ["-MM", x], cwd=src, check=True,
                              capture_output=True, text=True).stdout
        if want in {os.path.realpath(os.path.join(src, d))
                    for d in deps.replace("\\\n", " ").split()[1:]}:
            out.append(x)
    return out


def log_sizes(f):
    return [os.path.getsize(log) for log in f.logs]


def placed(f, sizes):
    """Which host compiled each file since the daemons' logs had SIZES:
    their summary lines end with the compiler and the input."""
    where = {}
    for i, (log, start) in enumerate(zip(f.logs, sizes)):
        with open(log, errors="replace") as text:
            text.seek(start)
            for line in text:
                if "COMPILE_OK" in line:
                    where[line.split()[-1]] = i
    return where


def payload(ddir, start):
    """The bytes the clients themselves counted (sent=, recv= of their
    records in DISTCC_DIR/stats/jobs, src/state/record.rs) past offset
    START: what they wrote and read, without TCP/IP headers or resends."""
    path = os.path.join(ddir, "stats", "jobs")
    sent = recv = 0
    if os.path.exists(path):
        with open(path) as text:
            text.seek(start)
            for line in text:
                words = dict(w.split("=", 1) for w in line.split() if "=" in w)
                sent += int(words.get("sent", 0))
                recv += int(words.get("recv", 0))
    return sent, recv


def jobs_size(ddir):
    path = os.path.join(ddir, "stats", "jobs")
    return os.path.getsize(path) if os.path.exists(path) else 0


def counters(f):
    out = subprocess.run(["ip", "netns", "exec", f.ns(0), "cat",
                          "/sys/class/net/eth0/statistics/tx_bytes",
                          "/sys/class/net/eth0/statistics/rx_bytes",
                          "/sys/class/net/eth0/statistics/tx_packets"],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1]), int(out[2])


def line(row):
    c, b, w, tx, rx, local, ok, cpu = row
    return "| %s | %s | %.1f | %.3f | %.3f | %d | %s | %.1f |" % (
        c, b, w, tx / 1e6, rx / 1e6, local, verdict(ok), cpu)


def verdict(ok):
    return ok if isinstance(ok, str) else "yes" if ok else "NO"


def same(src, files, ref):
    return all(
        open(os.path.join(src, farm.obj_name(x)), "rb").read()
        == open(os.path.join(ref, simhost.object_name(x)), "rb").read()
        for x in files)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project", default="liblzma", choices=sorted(HEADERS))
    ap.add_argument("--link", default="25mbit", choices=sorted(farm.LINKS))
    ap.add_argument("--hosts", type=int, default=3)
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--simulate", action="store_true",
                    help="hosts that use little CPU (bench/simhost.py)")
    ap.add_argument("--sim-scale", type=float, default=1.0,
                    help="with --simulate: the measured seconds times this (0.25: hosts "
                    "4x as fast as this machine's measured compile)")
    ap.add_argument("--bin-dir", default=farm.BIN)
    ap.add_argument("--link-at", default="hosts", choices=("hosts", "client"),
                    help="shape every host's link and the client's (hosts) or the "
                    "client's alone, both ways (client)")
    ap.add_argument("--header", help="the header changed, relative to the project "
                    "(default: one every file includes)")
    ap.add_argument("--timeline", action="store_true",
                    help="with --simulate: where each build's time went, job by job")
    a = ap.parse_args()
    farm.BIN = os.path.abspath(a.bin_dir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    if os.geteuid() != 0:
        sys.exit("bench/rebuild.py needs root (network namespaces)")
    tmp = tempfile.mkdtemp(prefix="distcc-rebuild-")
    os.chmod(tmp, 0o755)
    print("load average at the start: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
    rows = []
    try:
        src, files, flags = getattr(projects, a.project)(tmp)
        cc = COMPILER.get(a.project, "gcc")
        cflags = farm.ARCH_CFLAGS + " " + " ".join(flags)
        farm.write_makefile(src, files, cflags)
        header = os.path.join(src, a.header or HEADERS[a.project])
        original = open(header, "rb").read()
        rebuilt = dependents(src, files, cc, cflags, header)
        print("%s: %d of %d files include it" % (os.path.relpath(header, src), len(rebuilt),
                                                 len(files)), flush=True)
        wrap, tlog = timeline.wrapper(tmp) if a.timeline else (None, None)
        notes = []
        fdir = tempfile.mkdtemp(prefix="farm-", dir=tmp)
        os.chmod(fdir, 0o755)
        # Local reference objects, before and after the change (and with
        # --simulate the seconds each local compile took).
        refs, secs = {}, {}
        for build, text in (("first", original),
                            ("second", original + b"\n/* changed for the rebuild */\n")):
            if a.simulate and build == "second":
                # The hosts copy objects, which are not checked: the
                # first build's serve.
                refs[build] = refs["first"]
                break
            with open(header, "wb") as h:
                h.write(text)
            refs[build] = os.path.join(tmp, "reference-" + build)
            os.makedirs(refs[build])
            secs[build] = simhost.measure(src, files, cc, cflags, refs[build],
                                          serial=build == "first")
            print("local compile, %s build: %.1f s%s" % (
                build, sum(secs[build].values()), " serial" if build == "first" else ""),
                flush=True)
        table = os.path.join(tmp, "simhost.tsv") if a.simulate else None
        f = farm.Farm(fdir, [1] * a.hosts, a.slots, a.link, 1.0, 0.0, table=table,
                      link_at=a.link_at)
        try:
            hosts_of, counted = {}, {}
            for client in ("ours", "3.4"):
                ddir = tempfile.mkdtemp(prefix="ddir-", dir=tmp)
                hosts = " ".join("%s/%d,cpp,lzo" % (f.addr(i), a.slots)
                                 if client == "ours" else "%s/%d,lzo" % (f.addr(i), a.slots)
                                 for i in range(1, a.hosts + 1))
                env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "DISTCC_DIR": ddir,
                       "DISTCC_HOSTS": hosts, "TMPDIR": "/tmp"}
                if client == "ours":
                    env.update(DISTCC_PUMP="1", CC=os.path.join(farm.BIN, "distcc"))
                else:
                    env["CC"] = farm.DEBIAN_DISTCC
                if wrap:
                    env["CC"] = "%s %s" % (wrap, env["CC"])
                for build in ("first", "second"):
                    with open(header, "wb") as h:
                        h.write(original if build == "first"
                                else original + b"\n/* changed for the rebuild */\n")
                    ref = refs[build]
                    if table:
                        # One table for both clients: the first build's
                        # seconds, this build's objects.
                        simhost.write_table(table, secs["first"], ref, a.sim_scale,
                                            a.timeline)
                    if build == "first":
                        shutil.rmtree(os.path.join(src, "build"), ignore_errors=True)
                    else:
                        for x in rebuilt:
                            os.unlink(os.path.join(src, farm.obj_name(x)))
                    sizes, records = log_sizes(f), jobs_size(ddir)
                    toff = os.path.getsize(tlog) if wrap and os.path.exists(tlog) else 0
                    wall, tx, rx, local, cpu = make(f, src, dict(env), cc)
                    if wrap:
                        told = timeline.report(
                            "%s, %s build" % (client, build), make.started, tlog, toff,
                            make.stderr, os.path.join(ddir, "stats", "jobs")
                            if client == "ours" else None, records, a.slots * a.hosts)
                        notes += told
                        print(told[0], flush=True)
                    hosts_of[(client, build)] = placed(f, sizes)
                    if client == "ours":
                        counted[build] = payload(ddir, records) + (make.packets,)
                    row = (client, build, wall, tx, rx, local,
                           "copied" if table else same(src, files, ref), cpu)
                    rows.append(row)
                    print(line(row), flush=True)
            print("ours: payload (the clients' own count, no TCP/IP): sent %.3f and %.3f MB, "
                  "received %.3f and %.3f MB" % (
                      counted["first"][0] / 1e6, counted["second"][0] / 1e6,
                      counted["first"][1] / 1e6, counted["second"][1] / 1e6))
            print("ours: packets sent %d and %d (%.1f and %.1f per file)" % (
                counted["first"][2], counted["second"][2],
                counted["first"][2] / len(files), counted["second"][2] / len(files)))
            for client in ("ours", "3.4"):
                a1, a2 = hosts_of[(client, "first")], hosts_of[(client, "second")]
                print("%s: files compiled on the same host in both builds: %d of %d" % (
                    client, sum(1 for x in a1 if a2.get(x) == a1[x]), len(a1)))
                # A host the second build left out (ours: measured over
                # twice as slow, the placement's tier) moves all its files.
                unused = set(a1.values()) - set(a2.values())
                moved = [x for x in a2 if x in a1 and a2[x] != a1[x]]
                print("%s: %d files moved, %d of them from the %d hosts the second build "
                      "gave no job" % (client, len(moved),
                                       sum(1 for x in moved if a1[x] in unused), len(unused)))
        finally:
            print("shaping: %s" % f.shaping)
            f.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("load average at the end: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
    r = {(c, b): (w, tx, rx) for c, b, w, tx, rx, _, _, _ in rows}
    print()
    print("\n".join(notes))
    print()
    print("%s, %d hosts x %d slots, %s at the %s: %d files, %d rebuilt after %s%s" % (
        a.project, a.hosts, a.slots, a.link, "hosts and client" if a.link_at == "hosts"
        else "client only", len(files), len(rebuilt), a.header or HEADERS[a.project],
        ", simulated hosts (bench/simhost.py), compile times x%g" % a.sim_scale
        if a.simulate else ""))
    print()
    print("| client | build | wall s | MB sent | MB received | compiled here | objects = local "
          "| client CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(line(row))
    print()
    print("ours, second build / first: bytes sent %.3f, bytes in all %.3f" % (
        r[("ours", "second")][1] / r[("ours", "first")][1],
        (r[("ours", "second")][1] + r[("ours", "second")][2])
        / (r[("ours", "first")][1] + r[("ours", "first")][2])))
    print("ours second build / 3.4's second build: wall %.2f, bytes sent %.3f" % (
        r[("ours", "second")][0] / r[("3.4", "second")][0],
        r[("ours", "second")][1] / r[("3.4", "second")][1]))


if __name__ == "__main__":
    main()
