"""The real projects the benchmarks build (bench/client.py, extension.py,
farm.py), each in one place: sources from cargo's registry (the crates
tests/client/realbuilds.rs builds too), the file list and the flags of
the crate's build.rs.

Each project function takes a temp directory, copies the sources there
and returns (source dir, files relative to it, flags): the flags have no
optimisation level, which each benchmark chooses.
"""

import glob
import os
import shutil
import subprocess
import sys

LZMA_DIRS = ["common", "lzma", "lz", "check", "delta", "rangecoder", "simple"]


def crate_src(tmp, name, version):
    """A copy of the crate NAME-VERSION's sources under TMP/NAME (cargo
    fetch puts it in the registry first)."""
    proj = os.path.join(tmp, "fetch-" + name)
    os.makedirs(os.path.join(proj, "src"), exist_ok=True)
    with open(os.path.join(proj, "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n'
                '[dependencies]\n%s = "=%s"\n' % (name, version))
    with open(os.path.join(proj, "src/main.rs"), "w") as f:
        f.write("fn main() {}\n")
    subprocess.run(["cargo", "fetch", "--quiet"], cwd=proj, check=True)
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    found = glob.glob(os.path.join(home, "registry/src/*/%s-%s" % (name, version)))
    if not found:
        sys.exit("%s-%s not in cargo's registry after cargo fetch" % (name, version))
    dst = os.path.join(tmp, name)
    shutil.copytree(found[0], dst)
    return dst


def liblzma(tmp):
    """liblzma (lzma-sys 0.1.20): 73 C files."""
    src = crate_src(tmp, "lzma-sys", "0.1.20")
    files = []
    for d in LZMA_DIRS:
        for f in sorted(glob.glob(os.path.join(src, "xz-5.2/src/liblzma", d, "*.c"))):
            stem = os.path.basename(f)[:-2]
            if stem in ("crc32_small", "crc64_small") or stem.endswith("tablegen"):
                continue
            files.append(os.path.relpath(f, src))
    files += ["xz-5.2/src/common/tuklib_cpucores.c", "xz-5.2/src/common/tuklib_physmem.c"]
    flags = (["-std=c99", "-pthread", "-DHAVE_CONFIG_H=1"]
             + ["-Ixz-5.2/src/liblzma/" + d for d in ["api"] + LZMA_DIRS]
             + ["-Ixz-5.2/src/common", "-I."])
    return src, files, flags


def zlib(tmp):
    """zlib (libz-sys 1.1.33): 15 C files."""
    src = os.path.join(crate_src(tmp, "libz-sys", "1.1.33"), "src/zlib")
    files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(src, "*.c")))
    flags = ["-fPIC", "-DSTDC", "-D_LARGEFILE64_SOURCE", "-fvisibility=hidden", "-I."]
    return src, files, flags


def imgui(tmp):
    """Dear ImGui (imgui-sys 0.12.0): 5 large C++ files."""
    src = crate_src(tmp, "imgui-sys", "0.12.0")
    base = "third-party/imgui-master/imgui"
    files = [os.path.join(base, f) for f in
             ("imgui.cpp", "imgui_draw.cpp", "imgui_widgets.cpp", "imgui_tables.cpp",
              "imgui_demo.cpp")]
    flags = ["-std=c++11", "-fno-exceptions", "-fno-rtti", "-I" + base]
    return src, files, flags


def harfbuzz(tmp):
    """HarfBuzz (harfbuzz-sys 0.6.1): the 62 C++ files its unity
    harfbuzz.cc includes, each compiled alone as HarfBuzz's own build does;
    each includes a tree of 100-200 internal headers (hb.hh, hb-open-type.hh
    ...)."""
    src = crate_src(tmp, "harfbuzz-sys", "0.6.1")
    base = "harfbuzz/src"
    with open(os.path.join(src, base, "harfbuzz.cc")) as f:
        files = [os.path.join(base, line.split('"')[1]) for line in f
                 if line.startswith("#include")]
    flags = ["-std=c++11", "-DHAVE_PTHREAD=1", "-I" + base]
    return src, files, flags


def obj_name(f):
    """The object of source F in a Makefile's build/ directory."""
    return "build/%s.o" % f.replace("/", "_").rsplit(".", 1)[0]



# The sample of harfbuzz() that bench/client.py --cpu compiles (the
# lighter ones to compile; 60-170 user headers a job, a heavy C++ tree).
HARFBUZZ_SAMPLE = ["hb-buffer", "hb-face", "hb-font", "hb-set", "hb-common", "hb-blob", "hb-map",
                   "hb-shape", "hb-ot-tag", "hb-ot-map", "hb-unicode", "hb-draw"]


def harfbuzz_sample(tmp):
    """12 of harfbuzz()'s files (HARFBUZZ_SAMPLE)."""
    src, files, flags = harfbuzz(tmp)
    keep = {"harfbuzz/src/%s.cc" % f for f in HARFBUZZ_SAMPLE}
    return src, [f for f in files if f in keep], flags
