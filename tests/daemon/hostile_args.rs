//! The hostile-request corpus, arguments (issue 10): every spelling and
//! alias of an option that makes the compiler run a program, write a file
//! outside its job or read a server file, side-output options, and pump
//! mode's paths, sent as raw requests in protocols 1, 2 and 3 to our
//! daemon with its sandbox on.
//!
//! The stage is set to catch a success: a directory of "compilers"
//! (`as`, `cc1`, a wrapper, a specs file, a plugin whose constructor runs)
//! that would create `outside/pwned-*`; a world-writable `outside/`
//! directory that a write would reach; a server file holding a secret
//! token that a read would bring back. After every row: nothing in
//! `outside/`, no secret in the reply, the daemon answers a valid compile,
//! and its TMPDIR is empty.

use std::os::unix::fs::PermissionsExt;

use distcc::protocol::{FileEntry, FileKind, Request, RequestHead};

use super::harness::{Daemon, Farm, GOOD_V1, Kind, Opts, exchange, text};

/// What must happen to a row's request.
#[derive(Clone, Copy, Debug)]
pub enum Outcome {
    /// No reply, and the daemon logs this text.
    Refused(&'static str),
    /// A reply (the option is harmless, or dropped, or confined).
    Served,
}

/// One row: protocol version, argv (with `{evil}`, `{outside}`,
/// `{secret}`, `{so}` replaced), and for protocol 3 the source's text.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    pub version: u32,
    pub argv: &'static [&'static str],
    pub source: &'static str,
    pub outcome: Outcome,
}

use Outcome::{Refused, Served};

const C: &str = "int f(void) { return 42; }\n";

const fn v1(name: &'static str, argv: &'static [&'static str], outcome: Outcome) -> Case {
    Case {
        name,
        version: 1,
        argv,
        source: C,
        outcome,
    }
}

const fn v2(name: &'static str, argv: &'static [&'static str], outcome: Outcome) -> Case {
    Case {
        name,
        version: 2,
        argv,
        source: C,
        outcome,
    }
}

const fn v3(
    name: &'static str,
    argv: &'static [&'static str],
    source: &'static str,
    outcome: Outcome,
) -> Case {
    Case {
        name,
        version: 3,
        argv,
        source,
        outcome,
    }
}

/// Refusal texts the daemon logs (from the option table's reasons).
const RUNS: Outcome = Refused("load or run another program");
const WRITES: Outcome = Refused("write a file outside the job");
const READS: Outcome = Refused("read a file it names");
const PASSES: Outcome = Refused("passes options on to a compiler stage");
const MOVES: Outcome = Refused("where the compiler driver looks");
const UNKNOWN: Outcome = Refused("not an option distcc knows");
const SPECS: Outcome = Refused("spec file");
const LISTING: Outcome = Refused("local assembler file");
const CLIMBS: Outcome = Refused("climbs above");
const SYSROOT_REL: Outcome = Refused("sysroot-relative");
const PUMP_ONLY: Outcome = Refused("in pump mode only -I");

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

/// Options that write files: refused when the file is outside the job,
/// harmless (and compiled) when it lands in the job's directory.
pub const WRITES_FILES: &[Case] = &[
    v1(
        "-fdump-tree-original=F",
        &[
            "gcc",
            "-fdump-tree-original={outside}/d",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "--dump-tree-original=F",
        &[
            "gcc",
            "--dump-tree-original={outside}/d",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "-fdump-rtl-all=F",
        &[
            "gcc",
            "-fdump-rtl-all={outside}/d",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "-fopt-info-all=F",
        &[
            "gcc",
            "-O2",
            "-fopt-info-all={outside}/o",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "--opt-info-all=F",
        &[
            "gcc",
            "-O2",
            "--opt-info-all={outside}/o",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "-fopt-info=F",
        &[
            "gcc",
            "-O2",
            "-fopt-info={outside}/o",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "-fdump-go-spec=F",
        &[
            "gcc",
            "-fdump-go-spec={outside}/g",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "--dump-go-spec=F",
        &[
            "gcc",
            "--dump-go-spec={outside}/g",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "-fdump-final-insns=F",
        &[
            "gcc",
            "-fdump-final-insns={outside}/f",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "-fprofile-note=F",
        &[
            "gcc",
            "-ftest-coverage",
            "-fprofile-note={outside}/n",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        Refused("profile data"),
    ),
    v1(
        "--test-coverage --profile-note=F",
        &[
            "gcc",
            "--test-coverage",
            "--profile-note={outside}/n",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        Refused("profile data"),
    ),
    v1(
        "--profile-note=F alone",
        &[
            "gcc",
            "--profile-note={outside}/n",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "-aux-info F",
        &["gcc", "-aux-info", "{outside}/a", "-c", "x.c", "-o", "x.o"],
        WRITES,
    ),
    v1(
        "-aux-info=F",
        &["gcc", "-aux-info={outside}/a", "-c", "x.c", "-o", "x.o"],
        WRITES,
    ),
    v1(
        "-dumpdir D",
        &[
            "gcc",
            "-dumpdir",
            "{outside}/",
            "-fdump-tree-all",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "--dumpdir D",
        &[
            "gcc",
            "--dumpdir",
            "{outside}/",
            "-fdump-tree-all",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "-dumpbase B",
        &[
            "gcc",
            "-dumpbase",
            "{outside}/b",
            "-fdump-tree-all",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "-time=F",
        &["gcc", "-time={outside}/t", "-c", "x.c", "-o", "x.o"],
        WRITES,
    ),
    v1(
        "-MJ F",
        &["clang", "-MJ", "{outside}/cdb", "-c", "x.c", "-o", "x.o"],
        WRITES,
    ),
    v1(
        "--serialize-diagnostics F",
        &[
            "clang",
            "--serialize-diagnostics",
            "{outside}/s",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "-ftime-trace=F",
        &[
            "clang",
            "-ftime-trace={outside}/t.json",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "-fcrash-diagnostics-dir=",
        &[
            "clang",
            "-fcrash-diagnostics-dir={outside}",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        WRITES,
    ),
    v1(
        "-Wa,-a=F listing",
        &["gcc", "-Wa,-adhln={outside}/l", "-c", "x.c", "-o", "x.o"],
        LISTING,
    ),
    v1(
        "-Xassembler -a=F",
        &[
            "gcc",
            "-Xassembler",
            "-a={outside}/l",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        LISTING,
    ),
    v1(
        "--for-assembler=-a=F",
        &[
            "gcc",
            "--for-assembler=-a={outside}/l",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        LISTING,
    ),
    v1(
        "-Xassembler --MD F",
        &[
            "gcc",
            "-Xassembler",
            "--MD",
            "-Xassembler",
            "{outside}/d",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ],
        LISTING,
    ),
    v1(
        "-Wa,--MD,F",
        &["gcc", "-Wa,--MD,{outside}/d", "-c", "x.c", "-o", "x.o"],
        LISTING,
    ),
    v1(
        "-Wa,-o,F",
        &["gcc", "-Wa,-o,{outside}/o", "-c", "x.c", "-o", "x.o"],
        WRITES,
    ),
    // Written where the daemon says: the job's directory, then gone.
    v1(
        "-o outside is ours",
        &["gcc", "-c", "x.c", "-o", "{outside}/x.o"],
        Served,
    ),
    v1(
        "-o ../.. is ours",
        &[
            "gcc",
            "-c",
            "x.c",
            "-o",
            "../../../../../../../..{outside}/y.o",
        ],
        Served,
    ),
    v1(
        "--output=outside is ours",
        &["gcc", "-c", "x.c", "--output={outside}/z.o"],
        Served,
    ),
    v1(
        "-MD -MF outside, dropped",
        &["gcc", "-MD", "-MF", "{outside}/d", "-c", "x.c", "-o", "x.o"],
        Served,
    ),
    v2(
        "-Wp,-MD,outside, dropped",
        &["gcc", "-Wp,-MD,{outside}/d", "-c", "x.c", "-o", "x.o"],
        Served,
    ),
    v1(
        "-fdump-tree-all in the job",
        &["gcc", "-fdump-tree-all", "-c", "x.c", "-o", "x.o"],
        Served,
    ),
    v1(
        "-fstack-usage in the job",
        &["gcc", "-fstack-usage", "-c", "x.c", "-o", "x.o"],
        Served,
    ),
    v1(
        "-fcallgraph-info in the job",
        &["gcc", "-fcallgraph-info", "-c", "x.c", "-o", "x.o"],
        Served,
    ),
    v1(
        "-gsplit-dwarf in the job",
        &["gcc", "-g", "-gsplit-dwarf", "-c", "x.c", "-o", "x.o"],
        Served,
    ),
    v1(
        "-save-temps in the job",
        &["gcc", "-save-temps", "-c", "x.c", "-o", "x.o"],
        Served,
    ),
    v1(
        "-save-temps=obj in the job",
        &["gcc", "-save-temps=obj", "-c", "x.c", "-o", "x.o"],
        Served,
    ),
    v3(
        "-save-temps, pump",
        &["gcc", "-save-temps", "-c", "x.c", "-o", "x.o"],
        C,
        Served,
    ),
    v3(
        "-MD -MF outside, pump: ours",
        &["gcc", "-MD", "-MF", "{outside}/d", "-c", "x.c", "-o", "x.o"],
        C,
        Served,
    ),
    v3(
        "-Wp,-MD,outside, pump",
        &["gcc", "-Wp,-MD,{outside}/d", "-c", "x.c", "-o", "x.o"],
        C,
        Refused("only -D and -U"),
    ),
    v3(
        "-Xpreprocessor -MMD, pump",
        &["gcc", "-Xpreprocessor", "-MMD", "-c", "x.c", "-o", "x.o"],
        C,
        Refused("only -D and -U"),
    ),
];

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

/// The stage: evil programs, an outside directory, a secret.
struct Stage {
    farm: Farm,
    token: String,
}

impl Stage {
    fn new(tag: &str) -> Self {
        let farm = Farm::new(tag);
        let token = format!("DISTCC-SECRET-{}-{tag}", std::process::id());
        let outside = farm.path("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::set_permissions(&outside, PermissionsExt::from_mode(0o777)).unwrap();
        let evil = farm.path("evil");
        std::fs::create_dir_all(&evil).unwrap();
        let touch = |name: &str| {
            format!(
                "#!/bin/sh\ntouch {}/pwned-{name}\nexit 1\n",
                outside.display()
            )
        };
        for prog in ["as", "cc1", "cc1plus", "collect2", "ld", "wrap"] {
            let p = evil.join(prog);
            std::fs::write(&p, touch(prog)).unwrap();
            std::fs::set_permissions(&p, PermissionsExt::from_mode(0o755)).unwrap();
        }
        std::fs::write(
            evil.join("evil.specs"),
            format!("*invoke_as:\n| touch {}/pwned-specs\n\n", outside.display()),
        )
        .unwrap();
        std::fs::write(
            evil.join("evil.cfg"),
            format!("-fplugin={}\n", evil.join("evil.so").display()),
        )
        .unwrap();
        let plugin = evil.join("evil.c");
        std::fs::write(
            &plugin,
            format!(
                "#include <stdlib.h>\n__attribute__((constructor)) static void pwn(void) {{ system(\"touch {}/pwned-plugin\"); }}\n",
                outside.display()
            ),
        )
        .unwrap();
        let built = std::process::Command::new("gcc")
            .args(["-shared", "-fPIC", "-o"])
            .arg(evil.join("evil.so"))
            .arg(&plugin)
            .status()
            .unwrap();
        assert!(built.success(), "the test plugin builds");
        std::fs::set_permissions(&evil, PermissionsExt::from_mode(0o755)).unwrap();
        let secret = farm.path("secret.txt");
        std::fs::write(&secret, format!("{token}\n")).unwrap();
        std::fs::set_permissions(&secret, PermissionsExt::from_mode(0o644)).unwrap();
        Self { farm, token }
    }

    fn fill(&self, text: &str) -> String {
        text.replace("{evil}", &self.farm.path("evil").display().to_string())
            .replace(
                "{outside}",
                &self.farm.path("outside").display().to_string(),
            )
            .replace(
                "{secret}",
                &self.farm.path("secret.txt").display().to_string(),
            )
            .replace(
                "{so}",
                &self.farm.path("evil/evil.so").display().to_string(),
            )
    }

    fn request(&self, case: &Case) -> Vec<u8> {
        let argv: Vec<Vec<u8>> = case
            .argv
            .iter()
            .map(|a| self.fill(a).into_bytes())
            .collect();
        let source = if case.name.contains(".incbin") {
            format!(
                "__asm__(\".section .rodata\\n.incbin \\\"{}\\\"\\n.text\");\nint f(void) {{ return 1; }}\n",
                self.farm.path("secret.txt").display()
            )
        } else {
            self.fill(case.source)
        };
        let input = case
            .argv
            .iter()
            .find(|a| a.ends_with(".c") || a.ends_with(".cc"));
        let files = if case.version == 3 {
            vec![FileEntry {
                name: format!("/src/{}", input.unwrap_or(&"x.c")).into_bytes(),
                kind: FileKind::File(source.clone().into_bytes()),
            }]
        } else {
            Vec::new()
        };
        Request {
            head: RequestHead {
                version: case.version,
                cwd: (case.version == 3).then(|| b"/src".to_vec()),
                argv,
            },
            source: source.into_bytes(),
            files,
        }
        .encode()
    }

    /// Run every case against `d`; returns what went wrong.
    fn run(&self, d: &Daemon, cases: &[&Case]) -> Vec<String> {
        let mut failures = Vec::new();
        for case in cases {
            let logged = |t: &str| d.log_text().matches(t).count();
            let before = match case.outcome {
                Refused(t) => logged(t),
                Served => 0,
            };
            let reply = exchange(d.port, &self.request(case), false);
            let mut fail = |what: String| failures.push(format!("{}: {what}", case.name));
            match case.outcome {
                Refused(t) => {
                    if !reply.is_empty() {
                        fail(format!("answered: {:?}", text(&reply)));
                    }
                    if !crate::support::eventually(|| logged(t) > before) {
                        fail(format!("{t:?} not logged:\n{}", d.log_text()));
                    }
                }
                Served => {
                    if !reply.starts_with(b"DONE") {
                        fail(format!(
                            "no reply: {}",
                            d.log_text().lines().last().unwrap_or("")
                        ));
                    }
                }
            }
            if String::from_utf8_lossy(&reply).contains(&self.token) {
                fail("the secret came back in the reply".into());
            }
            let outside: Vec<_> = std::fs::read_dir(self.farm.path("outside"))
                .unwrap()
                .collect();
            if !outside.is_empty() {
                fail(format!("wrote outside the job: {outside:?}"));
                for e in outside {
                    let _ = std::fs::remove_file(e.unwrap().path());
                }
            }
            let good = exchange(d.port, GOOD_V1, false);
            if !good.starts_with(b"DONE00000001STAT00000000") {
                fail("the daemon no longer compiles".into());
            }
            if !crate::support::eventually(|| self.farm.daemon_temp_files().is_empty()) {
                fail(format!("left behind: {:?}", self.farm.daemon_temp_files()));
            }
        }
        failures
    }
}

fn run_table(tag: &str, cases: &[&Case]) {
    crate::require_tool!("gcc");
    crate::require_tool!("clang");
    let stage = Stage::new(tag);
    let d = stage.farm.daemon(Kind::Ours, &Opts::default());
    let failures = stage.run(&d, cases);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn options_that_run_programs_run_nothing() {
    run_table("args-run", &RUN_PROGRAMS.iter().collect::<Vec<_>>());
}

#[test]
fn options_that_write_files_write_nothing_outside_the_job() {
    run_table("args-write", &WRITES_FILES.iter().collect::<Vec<_>>());
}

#[test]
fn options_and_sources_that_read_server_files_bring_nothing_back() {
    run_table("args-read", &READS_FILES.iter().collect::<Vec<_>>());
}

/// The traps work: run directly, without distccd, the attacks reach
/// `outside/` and the secret, so the checks above could fail.
#[test]
fn the_stage_catches_what_it_is_set_to_catch() {
    crate::require_tool!("gcc");
    let stage = Stage::new("args-stage");
    let work = stage.farm.path("src");
    std::fs::write(work.join("x.c"), C).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new("gcc")
            .current_dir(&work)
            .args(args.iter().map(|a| stage.fill(a)))
            .output()
            .unwrap()
    };
    run(&["-B{evil}/", "-c", "x.c", "-o", "x.o"]);
    run(&["-fplugin={so}", "-c", "x.c", "-o", "x.o"]);
    run(&["-fdump-tree-original={outside}/d", "-c", "x.c", "-o", "x.o"]);
    let outside: Vec<String> = std::fs::read_dir(stage.farm.path("outside"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for want in ["pwned-cc1", "pwned-plugin", "d"] {
        assert!(outside.iter().any(|o| o == want), "{want}: {outside:?}");
    }
}
