#!/usr/bin/env python3
"""Benchmark: our distcc client against Debian's distcc 3.4 client, in one run.

Both clients send to the SAME daemon on 127.0.0.1 (Debian's distccd 3.4 by
default, `--daemon ours` for ours), rounds interleaved and rotated so machine
noise hits all alike. Reported as medians and ratios ours/3.4:

  * per-job overhead: wall time of `distcc gcc -O2 -c` minus that of a plain
    local `gcc -O2 -c`, for a trivial C file and a header-heavy C++ file;
  * client CPU per job (user+sys of the client and its children: cpp);
  * the same for our client in pump mode ("pump": a `,cpp,lzo` host and
    DISTCC_PUMP=1; the daemon preprocesses, protocol 3), with the include
    cache shared by a build's clients (a fresh pump directory per build or
    job, as `pump make` makes) and without it ("pump-nocache":
    DISTCC_PUMP_CACHE=0), and in 3.4's protocol 3 without the extension
    (zstd, the header cache) ("pump-noext": DISTCC_EXTENSION=0);
  * a real C project of 50+ files (liblzma from the lzma-sys crate on
    crates.io, fetched with `cargo fetch`) built with `make -j4`: wall time
    and client-side CPU (make, clients, cpp, link; not the daemon).

  * with --floor R: plain mode against its floor on every liblzma file
    (see floor() for the definition).
  * with --cpu R: client CPU per job from each job process's own rusage,
    our pump client against 3.4's plain client and the floor, every file
    of liblzma and of a sample of harfbuzz (C++) compiled one by one, R
    interleaved rounds, medians (see cpu_per_job()).

Usage: bench/client.sh [--rounds N] [--project-rounds M] [--daemon debian|ours|each]
                       [--daemon-tmpdir DIR] [--floor R] [--cpu R]
(bench/client.sh builds the release binaries first). Touches nothing outside
a temp directory and kills the daemon it starts.
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
import time

import projects

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.path.join(ROOT, "target/release/distcc")
OUR_DISTCCD = os.path.join(ROOT, "target/release/distccd")
DEBIAN_DISTCC = "/usr/bin/distcc"
DEBIAN_DISTCCD = "/usr/bin/distccd"

TRIVIAL_C = "int twice(int x) { return 2 * x; }\n"
HEAVY_CXX = """#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <vector>
std::map<std::string, int> count(const std::vector<std::string> &w) {
    std::map<std::string, int> m;
    for (const auto &s : w) m[s]++;
    return m;
}
"""


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


DAEMON_TMPDIRS = []


def start_daemon(kind, tmp, suffix="", dtmp_base=None):
    # The daemon's TMPDIR: pump jobs create and delete a file per header
    # there, which costs far more on some filesystems than others.
    dtmp = tempfile.mkdtemp(prefix="dtmp%s-" % suffix, dir=dtmp_base or tmp)
    DAEMON_TMPDIRS.append(dtmp)
    os.chmod(dtmp, 0o1777)
    masq = os.path.join(tmp, "masq" + suffix)
    os.makedirs(masq)
    for cc in ("gcc", "g++", "cc", "c++", "x86_64-linux-gnu-gcc", "x86_64-linux-gnu-g++"):
        os.symlink("/usr/bin/gcc", os.path.join(masq, cc))
    port = free_port()
    prog = DEBIAN_DISTCCD if kind == "debian" else OUR_DISTCCD
    cmd = [prog, "--daemon", "--no-detach", "--listen", "127.0.0.1", "--port", str(port),
           "--allow", "127.0.0.1", "--log-file", "/dev/null", "--lifetime", "3600"]
    if kind == "ours":
        cmd += ["--masquerade-dir", masq]
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": dtmp, "HOME": tmp}
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 15
    while not listening(port):
        if proc.poll() is not None or time.time() > deadline:
            sys.exit("daemon did not start: %s" % cmd)
        time.sleep(0.02)
    return proc, port


def run(cmd, env, cwd):
    """(wall seconds, CPU seconds of the process and its waited children)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or "running locally" in err or "failed to distribute" in err:
        sys.exit("%s failed or fell back (%s):\n%s" % (cmd, proc.returncode, err))
    return wall, ru.ru_utime + ru.ru_stime


def client_env(tmp, name, port):
    """The environment of one client; "pump" is ours in pump mode (a
    `,cpp,lzo` host and DISTCC_PUMP=1, what `pump make` sets, and a fresh
    pump directory as `pump` makes for each build)."""
    ddir = os.path.join(tmp, "ddir-" + name)
    ctmp = os.path.join(tmp, "ctmp-" + name)
    os.makedirs(ddir, exist_ok=True)
    os.makedirs(ctmp, exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "DISTCC_DIR": ddir, "TMPDIR": ctmp,
           "DISTCC_HOSTS": "127.0.0.1:%d" % port, "LC_ALL": "C"}
    if "pump" in name:
        env["DISTCC_HOSTS"] += ",cpp,lzo"
        env["DISTCC_PUMP"] = "1"
        env["DISTCC_PUMP_DIR"] = tempfile.mkdtemp(prefix="pumpdir-", dir=tmp)
    if name.endswith("nocache"):
        env["DISTCC_PUMP_CACHE"] = "0"
    if name.endswith("noext"):
        env["DISTCC_EXTENSION"] = "0"
    return env


def med(xs):
    return statistics.median(xs)


def cpp_alone(cc, src, work, flags=("-O2",)):
    """The preprocessor command our client runs for `cc -O2 -c src`: the
    `cc1 -E` line of the driver's plan (src/client/local/cppfast.rs)."""
    out = subprocess.run([cc, "-###"] + list(flags) + ["-E", src, "-o", src + ".cpp.i"], cwd=work,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}).stderr
    for line in out.splitlines():
        if line.startswith(" ") and "/cc1" in line.split()[0]:
            return [w.strip('"') for w in line.split()]
    sys.exit("no cc1 line in %s -### output:\n%s" % (cc, out))


def per_job(tmp, ports, rounds):
    work = os.path.join(tmp, "jobs")
    os.makedirs(work)
    with open(os.path.join(work, "trivial.c"), "w") as f:
        f.write(TRIVIAL_C)
    with open(os.path.join(work, "heavy.cc"), "w") as f:
        f.write(HEAVY_CXX)
    clients = [("local", []), ("3.4", [DEBIAN_DISTCC]), ("ours", [OURS]), ("cpp", None),
               ("pump", [OURS])]
    rows = []
    for src, cc in (("trivial.c", "gcc"), ("heavy.cc", "g++")):
        cmd = [cc, "-O2", "-c", src, "-o", src + ".o"]
        cpp = cpp_alone(cc, src, work)

        def job(name, prefix):
            argv = cpp if prefix is None else prefix + cmd
            return run(argv, client_env(tmp, name, ports[name]), work)

        times = {name: ([], []) for name, _ in clients}
        for name, prefix in clients:  # warm caches (and our -dumpmachine cache)
            job(name, prefix)
        for r in range(rounds):
            k = r % len(clients)
            order = clients[k:] + clients[:k]
            for name, prefix in order:
                w, c = job(name, prefix)
                times[name][0].append(w)
                times[name][1].append(c)
        wall = {n: med(t[0]) for n, t in times.items()}
        cpu = {n: med(t[1]) for n, t in times.items()}
        rows.append((src, wall, cpu))
    return rows


LIBLZMA_FLAGS = []
LIBLZMA_FILES = []


def liblzma_with_makefile(tmp):
    """liblzma (bench/projects.py) and a Makefile with the flags of
    lzma-sys's build.rs, at -O2; its flags and files are kept in
    LIBLZMA_FLAGS and LIBLZMA_FILES."""
    src, files, flags = projects.liblzma(tmp)
    LIBLZMA_FLAGS[:] = ["-O2"] + flags
    LIBLZMA_FILES[:] = files
    objs = " ".join(projects.obj_name(f) for f in files)
    rules = "\n".join("%s: %s\n\t$(CC) $(CFLAGS) -c $< -o $@\n" % (projects.obj_name(f), f)
                      for f in files)
    with open(os.path.join(src, "Makefile"), "w") as fh:
        fh.write("CFLAGS = %s\n" % " ".join(LIBLZMA_FLAGS))
        fh.write("all: build/liblzma.a\n\nbuild/liblzma.a: %s\n\tar rcs $@ $^\n\n" % objs)
        fh.write("$(shell mkdir -p build)\n\n" + rules)
    return src, len(files)


def project(tmp, ports, rounds):
    src, n = liblzma_with_makefile(tmp)
    clients = [("local", "gcc"), ("3.4", DEBIAN_DISTCC + " gcc"), ("ours", OURS + " gcc"),
               ("pump", OURS + " gcc"), ("pump-nocache", OURS + " gcc"),
               ("pump-noext", OURS + " gcc")]
    times = {name: ([], []) for name, _ in clients}
    for r in range(rounds):
        k = r % len(clients)
        order = clients[k:] + clients[:k]
        for name, cc in order:
            shutil.rmtree(os.path.join(src, "build"), ignore_errors=True)
            env = client_env(tmp, "proj-" + name, ports[name])
            w, c = run(["make", "-s", "-j4", "CC=" + cc], env, src)
            times[name][0].append(w)
            times[name][1].append(c)
    return n, {k: med(v[0]) for k, v in times.items()}, {k: med(v[1]) for k, v in times.items()}


def floor(tmp, ports, rounds):
    """Plain mode against its floor, per liblzma job (client CPU, and wall).

    The floor of a plain-mode job is what no plain client can avoid: the
    preprocessor run (the `cc1 -E` line of the driver's plan, alone) plus
    starting `distcc` and sending one request to the loopback daemon
    (our `distcc` compiling the already-preprocessed `.i` of the same
    file, which runs no preprocessor). Every liblzma file is compiled
    once per client per round, rounds interleaved and rotated; the
    figures are the per-round sums / number of files, medians over rounds.
    """
    src, _ = liblzma_with_makefile(tmp)
    os.makedirs(os.path.join(src, "build"), exist_ok=True)
    jobs = []
    for f in LIBLZMA_FILES:
        obj = projects.obj_name(f)
        cpp = cpp_alone("gcc", f, src, LIBLZMA_FLAGS)
        jobs.append((f, obj, cpp, f + ".cpp.i"))
    env_of = lambda name: client_env(tmp, "floor-" + name, ports["ours" if name != "3.4" else "3.4"])
    for f, obj, cpp, ipath in jobs:  # the .i files, and warm caches
        subprocess.run(cpp, cwd=src, check=True, stdout=subprocess.DEVNULL)
    clients = {
        "cpp": lambda j: j[2],
        "ours .i": lambda j: [OURS, "gcc"] + LIBLZMA_FLAGS + ["-c", j[3], "-o", j[1]],
        "ours": lambda j: [OURS, "gcc"] + LIBLZMA_FLAGS + ["-c", j[0], "-o", j[1]],
        "3.4 .i": lambda j: [DEBIAN_DISTCC, "gcc"] + LIBLZMA_FLAGS + ["-c", j[3], "-o", j[1]],
        "3.4": lambda j: [DEBIAN_DISTCC, "gcc"] + LIBLZMA_FLAGS + ["-c", j[0], "-o", j[1]],
    }
    names = list(clients)
    for name in names:
        run(clients[name](jobs[0]), env_of(name), src)
    sums = {n: ([], []) for n in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            w = c = 0.0
            for j in jobs:
                dw, dc = run(clients[name](j), env_of(name), src)
                w += dw
                c += dc
            sums[name][0].append(w / len(jobs))
            sums[name][1].append(c / len(jobs))
    wall = {n: med(v[0]) for n, v in sums.items()}
    cpu = {n: med(v[1]) for n, v in sums.items()}
    return len(jobs), wall, cpu


def cpu_per_job(tmp, ports, rounds, project, opt):
    """Client CPU per job, from each job process's rusage (`wait4`: user +
    sys of the client and the children it waited for, i.e. 3.4's cpp),
    so the figures do not depend on what else the machine runs as wall
    times do (a loaded machine still inflates them somewhat: caches).

    Every file of `project` is compiled once per client per round, the
    clients' order rotated per file and round; a round's figure is its
    sum / files, the result the median over rounds (after one warm-up
    round, not counted, which fills the daemon's header cache, the
    compilers' probes and the page cache). Clients:

      * "3.4": Debian's 3.4 client, plain mode (runs cpp here);
      * "pump": ours in pump mode, a fresh pump directory per round (as
        `pump make` makes one per build, so each round's first jobs lex
        the headers and the others share the include cache);
      * "cpp": the `cc1 -E` our plain client runs for the file, alone;
      * "ours .i": our client on the already-preprocessed file (start-up,
        host choice, connection, request, reply, object): the floor of a
        job that runs no preprocessor, which is what pump mode is.

    The floor of plain mode (bench/RESULTS.md, "Plain mode at its floor")
    is cpp + ours .i; pump mode's is ours .i.
    """
    src, files, flags = project(tmp)
    flags = [opt] + flags
    cc = "g++" if files[0].endswith(".cc") else "gcc"
    os.makedirs(os.path.join(src, "build"), exist_ok=True)
    jobs = []
    for f in files:
        obj = projects.obj_name(f)
        cpp = cpp_alone(cc, f, src, flags)
        subprocess.run(cpp, cwd=src, check=True, stdout=subprocess.DEVNULL)
        jobs.append((f, obj, cpp, f + ".cpp.i" + ("i" if cc == "g++" else "")))
        os.rename(os.path.join(src, f + ".cpp.i"), os.path.join(src, jobs[-1][3]))
    commands = {
        "3.4": lambda j: [DEBIAN_DISTCC, cc] + flags + ["-c", j[0], "-o", j[1]],
        "pump": lambda j: [OURS, cc] + flags + ["-c", j[0], "-o", j[1]],
        "cpp": lambda j: j[2],
        "ours .i": lambda j: [OURS, cc] + flags + ["-c", j[3], "-o", j[1]],
    }
    port = {"3.4": "3.4", "pump": "pump", "cpp": "ours", "ours .i": "ours"}
    names = list(commands)
    sums = {n: [] for n in names}
    for r in range(rounds + 1):
        envs = {n: client_env(tmp, "cpu-" + n.replace(" .i", "-doti"), ports[port[n]])
                for n in names}
        total = {n: 0.0 for n in names}
        for i, j in enumerate(jobs):
            k = (r + i) % len(names)
            for n in names[k:] + names[:k]:
                total[n] += run(commands[n](j), envs[n], src)[1]
        if r > 0:
            for n in names:
                sums[n].append(total[n] / len(jobs))
    return len(jobs), cc, {n: med(v) for n, v in sums.items()}, sums


def print_cpu(rounds, opt):
    print("Client CPU per job (rusage of each job's process and its children), medians of %d "
          "rounds after a warm-up; %s; load average before: %.1f" % (
              rounds, opt, os.getloadavg()[0]))
    print()
    print("| project | files | cc1 -E alone | ours on the .i (pump's floor) | plain floor | "
          "3.4 plain | **ours pump** | **pump/3.4** | **pump/floor** | pump per round |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=15, help="per-job rounds (0: none)")
    ap.add_argument("--project-rounds", type=int, default=3)
    ap.add_argument("--ours", default=None, metavar="PATH",
                    help="our distcc binary (default: target/release/distcc), e.g. an older build "
                         "for a before/after comparison")
    ap.add_argument("--floor", type=int, default=0, metavar="ROUNDS",
                    help="also measure plain mode against its floor on every liblzma file "
                         "(ROUNDS rounds); with --rounds 0 --project-rounds 0, only that")
    ap.add_argument("--cpu", type=int, default=0, metavar="ROUNDS",
                    help="client CPU per job from rusage, our pump client against 3.4's plain "
                         "client and the floor, on liblzma and harfbuzz (ROUNDS rounds)")
    ap.add_argument("--cpu-opt", default="-O0",
                    help="optimisation level of --cpu's compiles (the client's CPU does not "
                         "depend on it; the daemon's compile time does)")
    ap.add_argument("--daemon-tmpdir", default=None,
                    help="where the daemon's TMPDIR goes (default: in the benchmark's temp dir)")
    ap.add_argument("--daemon", choices=["debian", "ours", "each"], default="debian",
                    help="the one daemon both clients use, or 'each': 3.4's client with "
                         "Debian's distccd and ours with ours (the whole stack replaced)")
    a = ap.parse_args()
    global OURS
    if a.ours:
        OURS = os.path.abspath(a.ours)
    for p in (OURS, DEBIAN_DISTCC, DEBIAN_DISTCCD):
        if not os.path.exists(p):
            sys.exit("missing %s (run bench/client.sh, which builds first)" % p)
    tmp = tempfile.mkdtemp(prefix="distcc-bench-client-")
    os.chmod(tmp, 0o755)  # the daemon drops root and needs its TMPDIR inside
    daemons = []
    try:
        if a.daemon == "each":
            d34, p34 = start_daemon("debian", tmp, dtmp_base=a.daemon_tmpdir)
            daemons.append(d34)
            dours, pours = start_daemon("ours", tmp, suffix="-ours", dtmp_base=a.daemon_tmpdir)
            daemons.append(dours)
            ports = {"local": p34, "3.4": p34, "ours": pours, "cpp": p34, "pump": pours,
                     "pump-nocache": pours, "pump-noext": pours}
            print("daemons: 3.4's client -> Debian's distccd on 127.0.0.1:%d, ours -> ours on "
                  "127.0.0.1:%d" % (p34, pours))
        else:
            d, port = start_daemon(a.daemon, tmp, dtmp_base=a.daemon_tmpdir)
            daemons.append(d)
            ports = {"local": port, "3.4": port, "ours": port, "cpp": port, "pump": port,
                     "pump-nocache": port, "pump-noext": port}
            print("daemon: %s distccd on 127.0.0.1:%d" % (a.daemon, port))
        print("%d rounds per job, %d per project build" % (a.rounds, a.project_rounds))
        print()
        if a.floor > 0:
            n, wall, cpu = floor(tmp, ports, a.floor)
            fl = cpu["cpp"] + cpu["ours .i"]
            print("Plain mode against its floor, per liblzma job (%d files, %d rounds): client "
                  "CPU (user+sys of the client and its children), wall in brackets" % (n, a.floor))
            print()
            print("| cc1 -E alone | distcc on the .i | **floor** | ours plain | 3.4 on the .i "
                  "| 3.4 plain | **ours/floor** | 3.4/floor | ours/3.4 |")
            print("|---|---|---|---|---|---|---|---|---|")
            ms = lambda k: "%.2f ms (%.1f)" % (1e3 * cpu[k], 1e3 * wall[k])
            print("| %s | %s | %.2f ms | %s | %s | %s | **%.2f** | %.2f | %.2f |" % (
                ms("cpp"), ms("ours .i"), 1e3 * fl, ms("ours"), ms("3.4 .i"), ms("3.4"),
                cpu["ours"] / fl, cpu["3.4"] / fl, cpu["ours"] / cpu["3.4"]))
            print()
        if a.cpu > 0:
            print_cpu(a.cpu, a.cpu_opt)
            for name, project in (("liblzma", projects.liblzma), ("harfbuzz (C++)", projects.harfbuzz_sample)):
                n, cc, cpu, per_round = cpu_per_job(tmp, ports, a.cpu, project, a.cpu_opt)
                ms = lambda k: "%.2f ms" % (1e3 * cpu[k])
                fl = cpu["cpp"] + cpu["ours .i"]
                print("| %s | %d | %s | %s | %.2f ms | %s | **%s** | **%.2f** | **%.2f** | %s |" % (
                    name, n, ms("cpp"), ms("ours .i"), 1e3 * fl, ms("3.4"), ms("pump"),
                    cpu["pump"] / cpu["3.4"], cpu["pump"] / cpu["ours .i"],
                    " ".join("%.1f" % (1e3 * x) for x in per_round["pump"])), flush=True)
            print()
            print("load average after: %.1f" % os.getloadavg()[0])
            print()
        if a.rounds > 0:
            print("| job | local gcc wall | 3.4 overhead | ours overhead | ours pump overhead "
                  "| overhead ours/3.4 | pump/3.4 | client CPU 3.4 | ours | pump | CPU ours/3.4 "
                  "| pump/3.4 |")
            print("|---|---|---|---|---|---|---|---|---|---|---|---|")
            floors = []
            for name, wall, cpu in per_job(tmp, ports, a.rounds):
                over = {k: wall[k] - wall["local"] for k in ("3.4", "ours", "pump")}
                ratio = lambda k: over[k] / over["3.4"] if over["3.4"] > 0 else float("nan")
                print("| %s | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.2f | %.2f | %.1f ms | %.1f ms "
                      "| %.1f ms | %.2f | %.2f |" % (
                          name, 1e3 * wall["local"], 1e3 * over["3.4"], 1e3 * over["ours"],
                          1e3 * over["pump"], ratio("ours"), ratio("pump"), 1e3 * cpu["3.4"],
                          1e3 * cpu["ours"], 1e3 * cpu["pump"], cpu["ours"] / cpu["3.4"],
                          cpu["pump"] / cpu["3.4"]))
                floors.append((name, wall["cpp"], over["3.4"]))
            print()
            print("Preprocessing alone (the `cc1 -E` our client runs in plain mode, which must run "
                  "it on the client for every job):")
            print()
            print("| job | cc1 -E alone | as a share of 3.4's overhead |")
            print("|---|---|---|")
            for name, cpp, o34 in floors:
                print("| %s | %.1f ms | %.2f |" % (name, 1e3 * cpp,
                                                cpp / o34 if o34 > 0 else float("nan")))
        if a.project_rounds > 0:
            n, wall, cpu = project(tmp, ports, a.project_rounds)
            print()
            print("| liblzma (%d C files), make -j4 | wall | client CPU |" % n)
            print("|---|---|---|")
            for k in ("local", "3.4", "ours", "pump", "pump-nocache", "pump-noext"):
                print("| %s | %.2f s | %.2f s |" % (k, wall[k], cpu[k]))
            for k in ("ours", "pump", "pump-nocache", "pump-noext"):
                print("| %s/3.4 | %.2f | %.2f |" % (k, wall[k] / wall["3.4"], cpu[k] / cpu["3.4"]))
    finally:
        for d in daemons:
            os.killpg(d.pid, signal.SIGTERM)
            d.wait()
        shutil.rmtree(tmp, ignore_errors=True)
        for d in DAEMON_TMPDIRS:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
