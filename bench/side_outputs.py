#!/usr/bin/env -S python3 -u
"""Side outputs on a real project (docs/extension.md §8, issue 12 item 3):
every liblzma source (bench/projects.py) compiled several ways, one job
at a time, into out-<way>/ with a relative -o, as make and CMake do:

  * "local": gcc itself, the reference;
  * "local again": gcc a second time;
  * "ours": our distcc to our distccd on 127.0.0.1 (the extension), plain
    mode (`127.0.0.1:PORT,lzo`, no DISTCC_PUMP) with
    DISTCC_PUMP_DEBUG_INFO=1: jobs with -g go in pump form, the others
    preprocessed here;
  * "ours off": the same with DISTCC_PUMP_DEBUG_INFO=0: every job
    preprocessed here, as before plain mode sent -g jobs in pump form;
  * "ours pump": the same in pump mode (DISTCC_PUMP=1, `,cpp,lzo`): the
    server preprocesses the sources and headers sent;
  * "3.4": Debian's distcc 3.4 to the same daemon (protocol 2).

Flag sets: `-O2 -fstack-usage -fcallgraph-info -save-temps -MD`
(.o .su .ci .i .s .d), `-O2 -g -gsplit-dwarf` (.o .dwo), and the latter
with `-gdwarf-4 -gstrict-dwarf`, with which gcc 12 is reproducible.
Reported per kind of file: how many of the local build's files each way
made, and how many are byte-identical to it; for -gsplit-dwarf also how
many are identical but for the DWO ID, how many objects name the .dwo as
the local one does (DW_AT_dwo_name, DW_AT_comp_dir), which is what gdb
needs, and how many objects carry the DWO ID of the .dwo beside them.
Per way, the wall seconds and the CPU seconds spent on this side (the
client and what it runs here: cpp, a local compile; getrusage of the
reaped children, which leaves the daemon out until its end).

gcc 12's DWO ID (8 bytes in the .o and the .dwo) of a unit whose debug
info has a DW_OP_entry_value location changes from run to run (it follows
cc1's memory addresses: gcc run with ASLR off, `setarch -R`, repeats it;
-frandom-seed, temp file names and the input's name do not change it), so
no way is identical more often than "local again". Without entry values
(`-O0`, `-fno-var-tracking`, `-gdwarf-4 -gstrict-dwarf`) gcc is
reproducible. Plain mode's -g objects also differ from local ones in DWARF
column numbers on real code (docs/reference.md, "Known limit"), for .o and
.dwo alike, when they are preprocessed here ("ours off", "3.4"); pump mode
compiles the sources themselves, and so does plain mode for -g jobs to our
daemon ("ours").

Usage: bench/side_outputs.py [--bin DIR]   (DIR: target/release)
"""

import argparse
import collections
import os
import resource
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
    ["-O2", "-g", "-gsplit-dwarf", "-gdwarf-4", "-gstrict-dwarf"],
]


def own_info(path):
    """readelf's .debug_info lines of PATH itself (it goes on to show the
    .dwo an object names, if found)."""
    out = subprocess.run(["readelf", "--debug-dump=info", path], capture_output=True, text=True).stdout
    return out.split("Contents of the .debug_info.dwo section (loaded from")[0].splitlines()


def dwo_ref(obj):
    """The object's DW_AT_dwo_name (DW_AT_GNU_dwo_name in DWARF 4) and
    DW_AT_comp_dir, as readelf shows them."""
    return tuple(sorted(line.split(":", 2)[-1].strip() for line in own_info(obj)
                        if "dwo_name" in line or "DW_AT_comp_dir" in line))


def dwo_id(path):
    """The DWO ID readelf shows in an object or a .dwo (DW_AT_GNU_dwo_id
    in DWARF 4; None if absent)."""
    if not os.path.exists(path):
        return None
    ids = [line.rsplit(":", 1)[1].strip() for line in own_info(path)
           if "DWO ID" in line or "DW_AT_GNU_dwo_id" in line]
    return ids[0] if ids else None


def without_dwo_id(path):
    """The file's bytes with its DWO ID (little-endian, as x86-64 stores
    it) zeroed, wherever it occurs."""
    with open(path, "rb") as fh:
        data = fh.read()
    found = dwo_id(path)
    if found:
        data = data.replace(int(found, 16).to_bytes(8, "little"), bytes(8))
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release"))
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    with loopback.distccd(args.bin, "bench-side-", ("gcc", "x86_64-linux-gnu-gcc")) as (d, port, tmp):
        src, files, flags = projects.liblzma(tmp)
        if os.environ.get("SIDE_DEBUG"):
            files = files[:2]
        ways = {
            "local": [],
            "local again": [],
            "ours": [os.path.join(args.bin, "distcc")],
            "ours off": [os.path.join(args.bin, "distcc")],
            "ours pump": [os.path.join(args.bin, "distcc")],
            "3.4": ["/usr/bin/distcc"],
        }
        others = [w for w in ways if w != "local"]
        for extra in FLAG_SETS:
            made = collections.defaultdict(collections.Counter)
            same = collections.defaultdict(collections.Counter)
            but_id = collections.defaultdict(collections.Counter)
            dwo_same = collections.Counter()
            pairs = collections.Counter()
            seconds = collections.Counter()
            cpu = collections.Counter()
            for way, prefix in ways.items():
                ddir = os.path.join(tmp, "ddir-" + way.replace(" ", "-"))
                os.makedirs(ddir, exist_ok=True)  # 3.4 makes no parents
                env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp,
                       "DISTCC_DIR": ddir, "DISTCC_HOSTS": "127.0.0.1:%d,lzo" % port}
                if way == "ours":
                    env.update(DISTCC_PUMP_DEBUG_INFO="1")
                if way == "ours off":
                    env.update(DISTCC_PUMP_DEBUG_INFO="0")
                if way == "ours pump":
                    env.update(DISTCC_PUMP="1", DISTCC_HOSTS="127.0.0.1:%d,cpp,lzo" % port)
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
                    used = resource.getrusage(resource.RUSAGE_CHILDREN)
                    r = subprocess.run(cmd, cwd=src, env=env, capture_output=True)
                    seconds[way] += time.time() - began
                    # The client and what it ran here (cpp, a local
                    # compile); the daemon is reaped only at the end.
                    now = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpu[way] += now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime
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
                    if kind in (".o", ".dwo") and without_dwo_id(path) == without_dwo_id(
                            os.path.join(ref, name)):
                        but_id[way][kind] += 1
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
                for kind in (".o", ".dwo"):
                    print("| %s identical but for the DWO ID | %d | " % (kind, local[kind])
                          + " | ".join("%d" % but_id[w][kind] for w in others) + " |")
                print("| .o naming the .dwo as locally (name, directory) | %d | " % local[".o"]
                      + " | ".join("%d" % dwo_same[w] for w in others) + " |")
                print("| .o with the DWO ID of the .dwo beside it | %d | " % local[".o"]
                      + " | ".join("%d" % pairs[w] for w in others) + " |")
            print("| wall seconds, all files | %.1f | " % seconds["local"]
                  + " | ".join("%.1f" % seconds[w] for w in others) + " |")
            print("| CPU seconds here (client and its children), all files | %.2f | " % cpu["local"]
                  + " | ".join("%.2f" % cpu[w] for w in others) + " |")


if __name__ == "__main__":
    main()
