//! Rows: spellings and aliases of options that run programs.

use super::{C, Case, MOVES, PASSES, READS, RUNS, SPECS, UNKNOWN, v1, v2, v3};

/// Spellings and aliases of options that run programs.
pub const RUN_PROGRAMS: &[Case] = &[
    v1(
        "-B dir",
        &["gcc", "-B{evil}/", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v1(
        "-B dir separate",
        &["gcc", "-B", "{evil}/", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v2(
        "-B dir, protocol 2",
        &["gcc", "-B{evil}/", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v1(
        "--prefix=dir",
        &["gcc", "--prefix={evil}/", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v1(
        "--prefix dir",
        &["gcc", "--prefix", "{evil}/", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v3(
        "-B dir, pump",
        &["gcc", "-B{evil}/", "-c", "x.c", "-o", "x.o"],
        C,
        RUNS,
    ),
    v1(
        "-fplugin=",
        &["gcc", "-fplugin={so}", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v1(
        "--plugin=",
        &["gcc", "--plugin={so}", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v1(
        "-fplugin-arg-",
        &["gcc", "-fplugin-arg-x-y=z", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v3(
        "-fplugin=, pump",
        &["gcc", "-fplugin={so}", "-c", "x.c", "-o", "x.o"],
        C,
        RUNS,
    ),
    v1(
        "-wrapper",
        &["gcc", "-wrapper", "{evil}/wrap", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v1(
        "-fmodule-mapper=|cmd",
        &[
            "g++",
            "-fmodule-mapper=|{evil}/wrap",
            "-fmodules-ts",
            "-c",
            "x.cc",
            "-o",
            "x.o",
        ],
        RUNS,
    ),
    v1(
        "-iplugindir=",
        &["gcc", "-iplugindir={evil}", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v1(
        "-specs=",
        &["gcc", "-specs={evil}/evil.specs", "-c", "x.c", "-o", "x.o"],
        SPECS,
    ),
    v1(
        "--specs=",
        &["gcc", "--specs={evil}/evil.specs", "-c", "x.c", "-o", "x.o"],
        SPECS,
    ),
    v1(
        "-specs file",
        &[
            "gcc",
            "-specs",
            "{evil}/evil.specs",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        SPECS,
    ),
    v1(
        "--specs file",
        &[
            "gcc",
            "--specs",
            "{evil}/evil.specs",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        SPECS,
    ),
    v1(
        "-fcompare-debug=-fplugin",
        &[
            "gcc",
            "-fcompare-debug=-fplugin={so}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        PASSES,
    ),
    v1(
        "--compare-debug=-fplugin",
        &[
            "gcc",
            "--compare-debug=-fplugin={so}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        PASSES,
    ),
    v1(
        "-foffload-options=",
        &[
            "gcc",
            "-foffload-options=-fplugin={so}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        PASSES,
    ),
    v1(
        "-foffload=",
        &["gcc", "-foffload=nvptx-none", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v1(
        "-Xclang -load",
        &[
            "clang", "-Xclang", "-load", "-Xclang", "{so}", "-c", "x.c", "-o", "x.o",
        ],
        PASSES,
    ),
    v1(
        "-mllvm",
        &[
            "clang",
            "-mllvm",
            "-info-output-file={outside}/llvm",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        PASSES,
    ),
    v1(
        "-fpass-plugin=",
        &["clang", "-fpass-plugin={so}", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v1(
        "--gcc-toolchain=",
        &["clang", "--gcc-toolchain={evil}", "-c", "x.c", "-o", "x.o"],
        RUNS,
    ),
    v1(
        "--config",
        &[
            "clang",
            "--config",
            "{evil}/evil.cfg",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        READS,
    ),
    v1(
        "-ccc-install-dir",
        &[
            "clang",
            "-ccc-install-dir",
            "{evil}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        MOVES,
    ),
    v1(
        "-resource-dir",
        &["clang", "-resource-dir", "{evil}", "-c", "x.c", "-o", "x.o"],
        MOVES,
    ),
    v1(
        "-working-directory",
        &[
            "clang",
            "-working-directory",
            "{outside}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        MOVES,
    ),
    v1(
        "-Xarch_ pass-through",
        &[
            "clang",
            "-Xarch_x86_64",
            "-fplugin={so}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        PASSES,
    ),
    v1(
        "-Xopenmp-target",
        &[
            "clang",
            "-Xopenmp-target",
            "-fplugin={so}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        PASSES,
    ),
    v1(
        "an unknown --long option",
        &["gcc", "--frobnicate={so}", "-c", "x.c", "-o", "x.o"],
        UNKNOWN,
    ),
    v1(
        "an unknown -f=value",
        &["gcc", "-fnew-thing={evil}/x", "-c", "x.c", "-o", "x.o"],
        UNKNOWN,
    ),
];
