#!/usr/bin/env -S python3 -u
"""Would gcc's -fdirectives-only preprocessing make plain mode's objects
byte-identical to local ones (issue 12)? gcc alone, no distcc: every
source of liblzma and zlib (bench/projects.py) compiled three ways, in
the same directory with the same relative -o, as a server would:

  * "local": `gcc FLAGS -c file.c`, the reference;
  * "plain": `gcc FLAGS -E file.c`, then `gcc FLAGS -c file.i` (what
    plain mode does: the client preprocesses, the server compiles);
  * "directives-only": `gcc FLAGS -E -fdirectives-only file.c` (includes
    and conditionals resolved, macros kept, lines as written), then
    `gcc FLAGS -fpreprocessed -fdirectives-only -x c -c file.i` (as
    icecream does).

Prints, per flag set, how many objects (and .dwo) each way made
byte-identical to local, and the preprocessed text's size both ways.

Usage: bench/directives_only.py [FLAG-SET ...]   (names below; all by default)
"""

import collections
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

import projects

SPLIT = ["-O2", "-g", "-gsplit-dwarf", "-gdwarf-4", "-gstrict-dwarf"]
FLAG_SETS = {
    "split": SPLIT,
    "split-norecord": SPLIT + ["-gno-record-gcc-switches"],
    "O2g": ["-O2", "-g"],
    "O2g-norecord": ["-O2", "-g", "-gno-record-gcc-switches"],
    "O0": ["-O0"],
    "O0g": ["-O0", "-g"],
    "O0g-norecord": ["-O0", "-g", "-gno-record-gcc-switches"],
}
WAYS = ("plain", "directives-only")


def gcc(src, cmd):
    r = subprocess.run(["gcc"] + cmd, cwd=src, capture_output=True)
    if r.returncode != 0:
        sys.exit("gcc %s failed:\n%s" % (" ".join(cmd), r.stderr.decode()))
    return r.stdout


def compile_way(src, way, extra, flags, f, tmp, sizes):
    """Compiles F one way into SRC/out/ and returns {name: bytes}."""
    stem = os.path.basename(f)[:-2]
    out = os.path.join(src, "out")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    obj = ["-o", "out/%s.o" % stem]
    if way == "local":
        gcc(src, extra + flags + ["-c", f] + obj)
    else:
        dirs = ["-fdirectives-only"] if way == "directives-only" else []
        text = gcc(src, extra + flags + ["-E"] + dirs + [f])
        sizes[way][0] += len(text)
        sizes[way][1] += len(zlib.compress(text, 1))
        # A temp name, not the source's, as a server has.
        i = os.path.join(tmp, "job.i")
        with open(i, "wb") as fh:
            fh.write(text)
        lang = ["-fpreprocessed"] + dirs + ["-x", "c"] if dirs else []
        gcc(src, extra + flags + lang + ["-c", i] + obj)
    files = {}
    for name in os.listdir(out):
        with open(os.path.join(out, name), "rb") as fh:
            files[name] = fh.read()
    return files


def main():
    names = sys.argv[1:] or list(FLAG_SETS)
    tmp = tempfile.mkdtemp(prefix="bench-dirs-")
    try:
        builds = [("liblzma",) + projects.liblzma(tmp), ("zlib",) + projects.zlib(tmp)]
        for name in names:
            extra = FLAG_SETS[name]
            for project, src, files, flags in builds:
                same = collections.Counter()
                made = collections.Counter()
                sizes = {w: [0, 0] for w in WAYS}
                for f in files:
                    ref = compile_way(src, "local", extra, flags, f, tmp, sizes)
                    for way in WAYS:
                        got = compile_way(src, way, extra, flags, f, tmp, sizes)
                        for n, data in ref.items():
                            kind = os.path.splitext(n)[1]
                            made[way, kind] += 1
                            same[way, kind] += got.get(n) == data
                cells = ["%s %s %d/%d" % (w, k, same[w, k], made[w, k]) for w, k in sorted(made)]
                text = ["%s text %.1f MB (deflate-1 %.2f MB)" % (w, s[0] / 1e6, s[1] / 1e6)
                        for w, s in sizes.items()]
                print("%s %s (%s): %s; %s" % (project, name, " ".join(extra), ", ".join(cells),
                                              ", ".join(text)))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
