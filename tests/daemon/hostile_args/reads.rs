//! Rows: reads of server files, by options and by the source itself.

use super::{C, CLIMBS, Case, PUMP_ONLY, READS, Refused, SYSROOT_REL, Served, v1, v2, v3};

/// Reads of server files, by options and by the source itself.
pub const READS_FILES: &[Case] = &[
    v1(
        "--for-assembler=@secret",
        &["gcc", "--for-assembler=@{secret}", "-c", "x.c", "-o", "x.o"],
        READS,
    ),
    v1(
        "-Wa,@secret",
        &["gcc", "-Wa,@{secret}", "-c", "x.c", "-o", "x.o"],
        READS,
    ),
    v1(
        "-Xassembler @secret",
        &["gcc", "-Xassembler", "@{secret}", "-c", "x.c", "-o", "x.o"],
        READS,
    ),
    v1(
        "-Wa,-I,dir",
        &["gcc", "-Wa,-I,{outside}", "-c", "x.c", "-o", "x.o"],
        READS,
    ),
    v1(
        "@secret response file",
        &["gcc", "@{secret}", "-c", "x.c", "-o", "x.o"],
        READS,
    ),
    v1(
        "-fsanitize-ignorelist=",
        &[
            "clang",
            "-fsanitize=address",
            "-fsanitize-ignorelist={secret}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        READS,
    ),
    v1(
        "-fsanitize-blacklist=",
        &[
            "clang",
            "-fsanitize=address",
            "-fsanitize-blacklist={secret}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        READS,
    ),
    v1(
        "-fprofile-list=",
        &["clang", "-fprofile-list={secret}", "-c", "x.c", "-o", "x.o"],
        READS,
    ),
    v1(
        "-fprofile-instr-use=",
        &[
            "clang",
            "-fprofile-instr-use={secret}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        READS,
    ),
    v1(
        "-fprofile-use=",
        &["gcc", "-fprofile-use={secret}", "-c", "x.c", "-o", "x.o"],
        Refused("profile data"),
    ),
    v1(
        "-fauto-profile=",
        &["gcc", "-fauto-profile={secret}", "-c", "x.c", "-o", "x.o"],
        Refused("profile data"),
    ),
    v1(
        "-ivfsoverlay",
        &[
            "clang",
            "-ivfsoverlay",
            "{secret}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        READS,
    ),
    v1(
        "-fself-test=",
        &["gcc", "-fself-test={outside}", "-c", "x.c", "-o", "x.o"],
        READS,
    ),
    v1(
        "-fmodule-file=",
        &["clang", "-fmodule-file={secret}", "-c", "x.c", "-o", "x.o"],
        Refused("module"),
    ),
    v1(
        "-include secret, dropped",
        &["gcc", "-include", "{secret}", "-c", "x.c", "-o", "x.o"],
        Served,
    ),
    v1(
        "-imacros secret, dropped",
        &["gcc", "-imacros", "{secret}", "-c", "x.c", "-o", "x.o"],
        Served,
    ),
    v1(
        "--include=secret, dropped",
        &["gcc", "--include={secret}", "-c", "x.c", "-o", "x.o"],
        Served,
    ),
    v2(
        ".incbin of the secret in the source",
        &["gcc", "-c", "x.c", "-o", "x.o"],
        Served,
    ),
    v3(
        "pump: #include the secret by its path",
        &["gcc", "-c", "x.c", "-o", "x.o"],
        "#include \"{secret}\"\n",
        Served,
    ),
    v3(
        "pump: #include through ../..",
        &["gcc", "-c", "x.c", "-o", "x.o"],
        "#include \"../../../../../../../../../..{secret}\"\n",
        Served,
    ),
    v3(
        "pump: -I../.. climbing out",
        &[
            "gcc",
            "-I../../../../../../../../../..",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        C,
        CLIMBS,
    ),
    v3(
        "pump: --include-directory=/ is rooted",
        &["gcc", "--include-directory=/", "-c", "x.c", "-o", "x.o"],
        C,
        Served,
    ),
    v3(
        "pump: -isystem=dir (sysroot)",
        &["gcc", "-isystem=/etc", "-c", "x.c", "-o", "x.o"],
        C,
        SYSROOT_REL,
    ),
    v3(
        "pump: -I$SYSROOT/dir",
        &["gcc", "-I$SYSROOT/etc", "-c", "x.c", "-o", "x.o"],
        C,
        SYSROOT_REL,
    ),
    v3(
        "pump: -iprefix",
        &[
            "gcc",
            "-iprefix",
            "/",
            "-iwithprefix",
            "etc",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        C,
        PUMP_ONLY,
    ),
    v3(
        "pump: --sysroot=/",
        &["gcc", "--sysroot=/", "-c", "x.c", "-o", "x.o"],
        C,
        PUMP_ONLY,
    ),
    v3(
        "pump: -isysroot",
        &["gcc", "-isysroot", "/", "-c", "x.c", "-o", "x.o"],
        C,
        PUMP_ONLY,
    ),
    v3(
        "pump: -include the secret",
        &["gcc", "-include", "{secret}", "-c", "x.c", "-o", "x.o"],
        C,
        Served,
    ),
    v3(
        "pump: -imacros ../..",
        &[
            "gcc",
            "-imacros",
            "../../../../../../../../../..{secret}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        C,
        CLIMBS,
    ),
];
