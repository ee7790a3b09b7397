#!/usr/bin/env python3
"""Per-job cost of TLS (issue 14): the same tiny job sent by our client to
our daemon on 127.0.0.1, once through `HOST` (clear protocol) and once
through `tls+HOST` (TLS 1.3, pinned Ed25519 keys, the daemon's accept
byte), interleaved, one job at a time. Reports the median wall time of a
whole `distcc gcc -c x.i` (the compile itself included, so the difference
is what TLS adds) and the client's CPU time (user+sys) per job.

Not a timed test. Run after `cargo build --release --bin distcc --bin
distccd --bin distcc-config`:

    bench/tls.py --jobs 200
"""

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def binary(name, profile):
    return os.path.join(ROOT, "target", profile, name)


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--profile", default="release")
    ap.add_argument("--lzo", action="store_true", help="add ,lzo to both hosts")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="distcc-tls-bench-")
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp):
    distcc = binary("distcc", args.profile)
    distccd = binary("distccd", args.profile)
    config = binary("distcc-config", args.profile)
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
        src = os.path.join(tmp, "x.i")
        with open(src, "w") as f:
            f.write("int f(int a) { return a * 3 + 1; }\n")
        opts = ",lzo" if args.lzo else ""
        hosts = {
            "clear": f"127.0.0.1:{port}{opts}",
            "tls": f"tls+127.0.0.1:{port}{opts}",
        }
        wall = {k: [] for k in hosts}
        cpu = {k: [] for k in hosts}
        for i in range(args.jobs):
            order = ["clear", "tls"] if i % 2 == 0 else ["tls", "clear"]
            for kind in order:
                e = dict(env, DISTCC_HOSTS=hosts[kind], DISTCC_FALLBACK="0")
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                subprocess.run([distcc, "gcc", "-c", src, "-o",
                                os.path.join(tmp, "x.o")],
                               env=e, check=True, cwd=tmp)
                t1 = time.perf_counter()
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                wall[kind].append((t1 - t0) * 1000)
                cpu[kind].append(((after.ru_utime - before.ru_utime)
                                  + (after.ru_stime - before.ru_stime)) * 1000)
        with open(log) as f:
            problems = [l for l in f if "refused" in l or "ERROR" in l]
        if problems:
            sys.exit("daemon refused jobs:\n" + "".join(problems))
    finally:
        os.killpg(daemon.pid, 15)
        daemon.wait()

    print(f"jobs per kind: {args.jobs}, hosts: {hosts}")
    print("| metric | clear | tls | tls - clear |")
    print("|---|---:|---:|---:|")
    for name, data in [("wall per job, median (ms)", wall),
                       ("client CPU per job, median (ms)", cpu)]:
        c, t = statistics.median(data["clear"]), statistics.median(data["tls"])
        print(f"| {name} | {c:.2f} | {t:.2f} | {t - c:+.2f} |")
    diffs = sorted(t - c for c, t in zip(wall["clear"], wall["tls"]))
    print(f"| median of paired differences, wall (ms) | | | "
          f"{statistics.median(diffs):+.2f} |")


if __name__ == "__main__":
    main()
