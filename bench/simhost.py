"""Hosts that use little CPU (bench/rebuild.py --simulate): a farm of
many hosts on a 2-core machine, where the client's own CPU and the link
are the limits, as with a laptop feeding a farm over a VPN.

Each host's compiler is a wrapper that does not compile. It finds which
source the job is (pump mode: the input argument ends with the source's
path; plain mode: the preprocessed text's first line marker names it),
reads its input whole, holds the job for the seconds a local compile of
that source took (a table measured once before the builds, the same for
both clients) and writes the object that local compile made (and, for
pump mode's server, a dependency file naming the source alone). Anything
that is not a compile (the compiler check's questions) runs the real
compiler.

What is simulated is the hosts' CPU only: the daemons are real, receive
every byte over the shaped link, write pump mode's files, and the
clients are real and unchanged. The held time is the whole local compile
(preprocessor included) for both clients: 3.4's hosts only compile
preprocessed text, so it is a little longer than theirs would be, and
pump mode's hosts preprocess too, so it is theirs.
"""

import concurrent.futures
import json
import os
import subprocess
import time

WRAPPER = r"""#!/usr/bin/python3 -S
# bench/simhost.py's compiler: hold the job for the table's seconds, write
# the local compile's object; run the real compiler for anything else.
import json, os, re, shutil, sys, time
t0 = time.monotonic()
args = sys.argv[1:]
real = "/usr/bin/" + os.path.basename(sys.argv[0])
if "-c" not in args or "-o" not in args or "-E" in args:
    os.execv(real, [real] + args)
with open(%(table)r) as f:
    table = json.load(f)
def marker(first):
    m = re.match(rb'# \d+ "(.*)"', first)
    return m.group(1).decode() if m else None
source = None
for a in args:
    if a == "-":
        data = sys.stdin.buffer.read()
        source = marker(data.split(b"\n", 1)[0])
    elif a.endswith((".i", ".ii")) and os.path.isfile(a):
        with open(a, "rb") as f:
            source = marker(f.readline())
    elif not a.startswith("-"):
        for key in table:
            if a == key or a.endswith("/" + key):
                source = key
if source not in table:
    sys.stderr.write("simhost: no table entry for %%r (%%s)\n" %% (source, " ".join(args)))
    sys.exit(1)
secs, obj = table[source]
out = args[args.index("-o") + 1]
shutil.copyfile(obj, out)
if "-MF" in args:
    # Pump mode's server asks for the dependency file it turns into DOTD.
    with open(args[args.index("-MF") + 1], "w") as f:
        f.write("%%s: %%s\n" %% (out, source))
left = secs - (time.monotonic() - t0)
if left > 0:
    time.sleep(left)
"""


def install(bindir, table):
    """The wrapper as gcc, g++ and their triplet names in BINDIR, reading
    the table at TABLE (written by write_table)."""
    machine = subprocess.run(["gcc", "-dumpmachine"], capture_output=True, text=True,
                             check=True).stdout.strip()
    for name in ("gcc", "cc", "g++", "c++", machine + "-gcc", machine + "-g++"):
        path = os.path.join(bindir, name)
        with open(path, "w") as f:
            f.write(WRAPPER % {"table": table})
        os.chmod(path, 0o755)


def object_name(f):
    """The reference object of source F (a path relative to the project)."""
    return f.replace("/", "_") + ".o"


def measure(src, files, cc, cflags, ref, serial=True):
    """Compile FILES here, objects into REF: {file: seconds}. Serially
    for the table; with serial=False two at a time, for the objects only."""
    def one(f):
        obj = os.path.join(ref, object_name(f))
        t0 = time.monotonic()
        subprocess.run([cc] + cflags.split() + ["-c", f, "-o", obj], cwd=src, check=True)
        return f, time.monotonic() - t0
    with concurrent.futures.ThreadPoolExecutor(1 if serial else 2) as pool:
        return dict(pool.map(one, files))


def write_table(path, secs, ref, scale=1.0):
    """The table the wrappers read: each file's seconds (times SCALE: 0.25
    for hosts 4x as fast as this machine was) and its object in REF."""
    table = {f: [s * scale, os.path.join(ref, object_name(f))] for f, s in secs.items()}
    with open(path + ".tmp", "w") as f:
        json.dump(table, f)
    os.chmod(path + ".tmp", 0o644)
    os.rename(path + ".tmp", path)
