#!/usr/bin/env -S python3 -u
"""Side outputs on a real project (docs/extension.md §8, issue 12 item 3):
every liblzma source (bench/projects.py) compiled three ways, one job at a
time, into out-<way>/ with a relative -o, as make and CMake do:

  * "local": gcc itself, the reference;
  * "ours":  our distcc to our distccd on 127.0.0.1 (the extension);
  * "3.4":   Debian's distcc 3.4 to the same daemon (protocol 2).

Two flag sets: `-O2 -fstack-usage -fcallgraph-info -save-temps -MD`
(.o .su .ci .i .s .d), and `-O2 -g -gsplit-dwarf` (.o .dwo). Reported per
kind of file: how many of the local build's files each way made, and how
many are byte-identical to it; for -gsplit-dwarf also how many objects
name the .dwo as the local one does (DW_AT_dwo_name, DW_AT_comp_dir), which
is what gdb needs, and how many objects carry the DWO ID of the .dwo
beside them. "local again" is gcc run a second time: gcc 12 does not
always give the same DWO ID twice (8 bytes in the .o and the .dwo), so
no way can be identical more often than that. Plain mode's -g objects
also differ from local ones in DWARF column numbers on real code
(docs/reference.md, "Known limit"), for .o and .dwo alike.

Usage: bench/side_outputs.py [--bin DIR]   (DIR: target/release)
"""

import argparse
import collections
import os
import shutil
import subprocess
import sys
import time

import loopback
import projects

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAG_SETS = [
    ["-O2", "-fstack-usage", "-fcallgraph-info", "-save-temps", "-MD"],
    ["-O2", "-g", "-gsplit-dwarf"],
]


def dwo_ref(obj):
    """The object's DW_AT_dwo_name and DW_AT_comp_dir, as readelf shows them."""
    out = subprocess.run(["readelf", "--debug-dump=info", obj], capture_output=True, text=True).stdout
    return tuple(sorted(line.split(":", 2)[-1].strip() for line in out.splitlines()
                        if "DW_AT_dwo_name" in line or "DW_AT_comp_dir" in line))


def dwo_id(path):
    """The DWO ID readelf shows in an object or a .dwo (None if absent)."""
    if not os.path.exists(path):
        return None
    out = subprocess.run(["readelf", "--debug-dump=info", path], capture_output=True, text=True).stdout
    ids = [line.split(":", 1)[1].strip() for line in out.splitlines() if "DWO ID" in line]
    return ids[0] if ids else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release"))
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    d, port, tmp = loopback.start_distccd(args.bin, "bench-side-", ("gcc", "x86_64-linux-gnu-gcc"))
    try:
        src, files, flags = projects.liblzma(tmp)
        if os.environ.get("SIDE_DEBUG"):
            files = files[:2]
        ways = {
            "local": [],
            "local again": [],
            "ours": [os.path.join(args.bin, "distcc")],
            "3.4": ["/usr/bin/distcc"],
        }
        others = [w for w in ways if w != "local"]
        for extra in FLAG_SETS:
            made = collections.defaultdict(collections.Counter)
            same = collections.defaultdict(collections.Counter)
            dwo_same = collections.Counter()
            pairs = collections.Counter()
            seconds = collections.Counter()
            for way, prefix in ways.items():
                ddir = os.path.join(tmp, "ddir-" + way.replace(" ", "-"))
                os.makedirs(ddir, exist_ok=True)  # 3.4 makes no parents
                env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp,
                       "DISTCC_DIR": ddir, "DISTCC_HOSTS": "127.0.0.1:%d,lzo" % port}
                out = os.path.join(src, "out-" + way.replace(" ", "-"))
                shutil.rmtree(out, ignore_errors=True)
                os.makedirs(out)
                for f in files:
                    stem = os.path.basename(f)[:-2]
                    cmd = prefix + ["gcc"] + extra + flags + ["-c", f, "-o", "out/%s.o" % stem]
                    # All three write into out/: the object names its .dwo
                    # by the -o value, so the paths must be the same.
                    shutil.rmtree(os.path.join(src, "out"), ignore_errors=True)
                    os.makedirs(os.path.join(src, "out"))
                    began = time.time()
                    r = subprocess.run(cmd, cwd=src, env=env, capture_output=True)
                    seconds[way] += time.time() - began
                    if r.returncode != 0:
                        sys.exit("%s failed on %s: %s" % (way, f, r.stderr.decode()))
                    if os.environ.get("SIDE_DEBUG") and way != "local":
                        print(way, f, r.stderr.decode()[-600:])
                    for name in os.listdir(os.path.join(src, "out")):
                        shutil.move(os.path.join(src, "out", name), os.path.join(out, name))
            ref = os.path.join(src, "out-local")
            for name in sorted(os.listdir(ref)):
                kind = os.path.splitext(name)[1]
                with open(os.path.join(ref, name), "rb") as fh:
                    want = fh.read()
                for way in others:
                    path = os.path.join(src, "out-" + way.replace(" ", "-"), name)
                    if not os.path.exists(path):
                        continue
                    made[way][kind] += 1
                    with open(path, "rb") as fh:
                        if fh.read() == want:
                            same[way][kind] += 1
                    if kind == ".o" and "-gsplit-dwarf" in extra:
                        if dwo_ref(path) == dwo_ref(os.path.join(ref, name)):
                            dwo_same[way] += 1
                        if dwo_id(path) == dwo_id(path[:-2] + ".dwo"):
                            pairs[way] += 1
            local = collections.Counter(os.path.splitext(n)[1] for n in os.listdir(ref))
            print("\nliblzma, %d files: gcc %s" % (len(files), " ".join(extra)))
            print("| file | local | " + " | ".join("%s: made / identical" % w for w in others) + " |")
            print("|---" * (2 + len(others)) + "|")
            for kind in sorted(local):
                print("| %s | %d | " % (kind, local[kind])
                      + " | ".join("%d / %d" % (made[w][kind], same[w][kind]) for w in others) + " |")
            if "-gsplit-dwarf" in extra:
                print("| .o naming the .dwo as locally (name, directory) | %d | " % local[".o"]
                      + " | ".join("%d" % dwo_same[w] for w in others) + " |")
                print("| .o with the DWO ID of the .dwo beside it | %d | " % local[".o"]
                      + " | ".join("%d" % pairs[w] for w in others) + " |")
            print("| wall seconds, all files | %.1f | " % seconds["local"]
                  + " | ".join("%.1f" % seconds[w] for w in others) + " |")
    finally:
        d.terminate()
        d.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
