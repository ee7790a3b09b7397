//! The option table's tests: one row per spelling decision (issue 10's
//! list first), the table's own invariants, and completeness against the
//! installed gcc and clang: every option they accept for a C-family
//! compile is classified on purpose, never left to the unknown fallback.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};

use super::Arity::*;
use super::Class::*;
use super::Cpp;
use super::Why::*;
use super::*;
use crate::args::os::words;

#[path = "completeness_tests.rs"]
mod completeness;

/// Under `CI=true` nothing is skipped for a missing tool.
fn ci() -> bool {
    crate::env::Vars::from_process().get("CI") == Some("true")
}

/// Read the first argument of `cmd` (after a compiler word).
#[track_caller]
fn read_one(dialect: Dialect, cmd: &str) -> Result<Opt, OptError> {
    let mut argv = vec![OsString::from("cc")];
    argv.extend(words(cmd));
    read(&argv, 1, dialect)
}

#[track_caller]
fn class_of(cmd: &str) -> Option<Class> {
    read_one(Dialect::Gcc, cmd).ok().map(|o| o.class)
}

#[test]
fn rows_are_unique_and_well_formed() {
    let mut names = BTreeSet::new();
    for row in rows::all() {
        assert!(row.name.starts_with('-') && row.name.len() >= 2, "{row:?}");
        assert!(names.insert(row.name), "{} is listed twice", row.name);
        if row.arity == Joined {
            assert!(
                row.name.ends_with(['=', ',', '-', '_']) || row.name.len() == 2,
                "a joined row names its separator: {row:?}"
            );
        }
    }
}

/// Issue 10's list of what ran code, wrote or read outside the job, in
/// every spelling it named: none may be distributable.
#[test]
fn the_issues_attacks_are_not_distributable() {
    const CASES: &[&str] = &[
        "--prefix=/tmp/evil",
        "--prefix /tmp/evil",
        "-B/tmp/evil",
        "-B /tmp/evil",
        "--plugin=/tmp/x.so",
        "-fplugin=/tmp/x.so",
        "-fplugin-arg-x-y=z",
        "--plugin-arg-x-y=z",
        "--dump-tree-original=/tmp/f",
        "-fdump-tree-original=/tmp/f",
        "--opt-info-all=/tmp/f",
        "-fopt-info-all=/tmp/f",
        "-fopt-info=/tmp/f",
        "--dump-go-spec=/tmp/f",
        "-fdump-go-spec=/tmp/f",
        "--profile-note=/tmp/f",
        "-fprofile-note=/tmp/f",
        "-wrapper /bin/sh",
        "-aux-info /tmp/f",
        "-dumpdir /tmp/",
        "-dumpbase /tmp/x",
        "--dumpdir /tmp/",
        "-iplugindir=/tmp",
        "-fmodule-mapper=|/bin/sh",
        "-fcompare-debug=-fplugin=/tmp/x.so",
        "-foffload-options=-fplugin=/tmp/x.so",
        "-Xclang -load",
        "-mllvm -stats",
        "--gcc-toolchain=/tmp",
        "--config /tmp/cfg",
        "-ccc-install-dir /tmp",
        "-resource-dir /tmp",
        "-working-directory /tmp",
        "--serialize-diagnostics /tmp/f",
        "-MJ /tmp/f",
        "-fsanitize-ignorelist=/etc/passwd",
        "-fprofile-list=/etc/passwd",
        "-ivfsoverlay /etc/x.yaml",
        "-time=/tmp/f",
        "-specs=/tmp/evil",
        "--specs=/tmp/evil",
        "--specs /tmp/evil",
    ];
    for cmd in CASES {
        for dialect in [Dialect::Gcc, Dialect::Clang] {
            match read_one(dialect, cmd) {
                Err(OptError::Unknown) => {}
                Ok(opt) => assert!(
                    matches!(opt.class, Local(_) | Refused(_))
                        || (opt.class == Dump
                            && opt.value.is_some_and(|v| v.to_string_lossy().contains('='))),
                    "{cmd} ({dialect:?}) is {:?}",
                    opt.class
                ),
                Err(e) => panic!("{cmd}: {e:?}"),
            }
        }
    }
}

/// Long spellings read as gcc reads them (checked with `gcc -###`).
#[test]
fn long_spellings_become_canonical() {
    const CASES: &[(&str, &str, Class)] = &[
        ("--include-directory=/etc", "-I /etc", Cpp(Cpp::Path)),
        ("--include-directory /etc", "-I /etc", Cpp(Cpp::Path)),
        ("--output=y.o", "-o y.o", Output),
        ("--output y.o", "-o y.o", Output),
        ("--for-assembler=-a=f", "-Xassembler -a=f", Assembler),
        ("--for-linker=-x", "-Xlinker -x", Link),
        ("--language=c", "-x c", Language),
        ("--compile", "-c", Compile),
        ("--assemble", "-S", Assemble),
        ("--preprocess", "-E", Local(PreprocessOnly)),
        ("--debug", "-g", Dist),
        ("--debug=3", "-g3", Dist),
        ("--optimize=2", "-O2", Dist),
        ("--warn-all", "-Wall", Dist),
        ("--all-warnings", "-Wall", Dist),
        ("--machine-arch=haswell", "-march=haswell", Cpu),
        ("--machine=no-sse", "-mno-sse", Dist),
        ("--machine avx2", "-mavx2", Dist),
        ("--pic", "-fpic", Dist),
        ("--no-pic", "-fno-pic", Dist),
        ("--stack-protector-strong", "-fstack-protector-strong", Dist),
        ("--dump=r", "-dr", Local(RtlDump)),
        ("--define-macro=X=1", "-D X=1", Cpp(Cpp::Macro)),
        ("--write-dependencies", "-MD", Cpp(Cpp::Deps)),
        ("--user-dependencies", "-MM", Local(DependencyOnly)),
        ("--sysroot=/s", "--sysroot=/s", Cpp(Cpp::Path)),
        (
            "--param=max-inline-insns-auto=5",
            "--param=max-inline-insns-auto=5",
            Dist,
        ),
        ("--coverage", "--coverage", Local(Profile)),
    ];
    for &(cmd, canonical, class) in CASES {
        let opt = read_one(Dialect::Gcc, cmd).unwrap_or_else(|e| panic!("{cmd}: {e:?}"));
        assert_eq!(opt.canonical, words(canonical), "{cmd}");
        assert_eq!(opt.class, class, "{cmd}");
        assert_eq!(opt.used, words(cmd).len(), "{cmd} uses all its words");
    }
}

#[test]
fn clang_has_no_generic_long_options() {
    assert_eq!(
        read_one(Dialect::Clang, "--pic").unwrap_err(),
        OptError::Unknown
    );
    assert_eq!(
        read_one(Dialect::Clang, "--plugin=/x.so").unwrap_err(),
        OptError::Unknown
    );
    let t = read_one(Dialect::Clang, "--target=aarch64-linux-gnu").unwrap();
    assert_eq!(t.class, Dist);
    assert_eq!(
        Dialect::of(OsStr::new("/usr/bin/clang++-14")),
        Dialect::Clang
    );
    assert_eq!(
        Dialect::of(OsStr::new("x86_64-linux-gnu-gcc")),
        Dialect::Gcc
    );
}

#[test]
fn values_are_taken_by_arity() {
    const CASES: &[(&str, &str, usize, Option<&str>)] = &[
        // (command, row or family, words used, value)
        ("-o x.o", "-o", 2, Some("x.o")),
        ("-ox.o", "-o", 1, Some("x.o")),
        ("-I inc", "-I", 2, Some("inc")),
        ("-Iinc", "-I", 1, Some("inc")),
        ("-include x.h", "-include", 2, Some("x.h")),
        ("-Xassembler --64", "-Xassembler", 2, Some("--64")),
        ("-Wa,--64,-g", "-Wa,", 1, Some("--64,-g")),
        ("-fvisibility=hidden", "-fvisibility=", 1, Some("hidden")),
        ("-march=native", "-march=", 1, Some("native")),
        ("-Wall", "-W...", 1, None),
        ("-Werror=format-security", "-W...", 1, None),
        ("-fno-strict-aliasing", "-f...", 1, None),
        ("-mno-red-zone", "-m...", 1, None),
        ("-gsplit-dwarf", "-g...", 1, None),
        ("-O2", "-O...", 1, None),
        ("-dA", "-d...", 1, None),
        (
            "--param max-inline-insns-auto=5",
            "--param",
            2,
            Some("max-inline-insns-auto=5"),
        ),
        ("-MDx", "-M", 1, Some("Dx")),
    ];
    for &(cmd, name, used, value) in CASES {
        let opt = read_one(Dialect::Gcc, cmd).unwrap_or_else(|e| panic!("{cmd}: {e:?}"));
        assert_eq!((opt.name, opt.used), (name, used), "{cmd}");
        assert_eq!(
            opt.value.as_deref().map(|v| v.to_str().unwrap()),
            value,
            "{cmd}"
        );
    }
    assert_eq!(
        read_one(Dialect::Gcc, "-o").unwrap_err(),
        OptError::MissingValue("-o")
    );
    assert_eq!(
        read_one(Dialect::Gcc, "-Xassembler").unwrap_err(),
        OptError::MissingValue("-Xassembler")
    );
}

#[test]
fn unknown_shapes_are_refused_not_guessed() {
    for cmd in [
        "-fnew-option=/etc/passwd",
        "-frobnicate=1",
        "-Wfoo=/etc/passwd",
        "-m/etc/passwd",
        "-zz",
        "--frobnicate-the=x",
        "-Y",
        "-gen-nonsense=/x",
    ] {
        assert_eq!(
            read_one(Dialect::Gcc, cmd).map(|o| o.class),
            Err(OptError::Unknown),
            "{cmd}"
        );
    }
    assert_eq!(
        class_of("-fnew-switch"),
        Some(Dist),
        "a switch is a family member"
    );
}

#[test]
fn threes_local_rules_are_kept() {
    const CASES: &[(&str, Class)] = &[
        ("-E", Local(PreprocessOnly)),
        ("-M", Local(DependencyOnly)),
        ("-MM", Local(DependencyOnly)),
        ("-flto", Local(Lto)),
        ("-fprofile-arcs", Local(Profile)),
        ("-ftest-coverage", Local(Profile)),
        ("-fprofile-generate=d", Local(Profile)),
        ("-fprofile-use", Local(Profile)),
        ("-fauto-profile=p", Local(Profile)),
        ("-fprofile-correction", Local(Profile)),
        ("-frepo", Local(Repo)),
        ("-drtl", Local(RtlDump)),
        ("-specs=x", Local(Specs)),
        ("-flto=auto", Dist),
        ("-save-temps", Dist),
        ("-fprofile-update=atomic", Dist),
    ];
    for &(cmd, class) in CASES {
        assert_eq!(class_of(cmd), Some(class), "{cmd}");
    }
}

/// `docs/options.md` lists every option compiled locally or refused, by
/// reason, rendered from the table (so the list cannot drift). Rewrite it
/// with `UPDATE_DOCS=1 cargo test --lib options_md`.
#[test]
fn docs_options_md_lists_the_table() {
    let want = render_options_md();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/options.md");
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        if crate::env::Vars::from_process().is_set("UPDATE_DOCS") {
            std::fs::write(&path, &want).unwrap();
        } else {
            panic!("docs/options.md is out of date: run UPDATE_DOCS=1 cargo test --lib options_md");
        }
    }
}

fn render_options_md() -> String {
    use std::fmt::Write;
    let mut out = String::from(
        "# Options distcc compiles locally or refuses\n\n\
         <!-- Generated from src/args/options/rows.rs by \
         `UPDATE_DOCS=1 cargo test --lib options_md`; do not edit. -->\n\n\
         distcc-rs reads every compiler argument through one allowlist \
         (`src/args/options/`), shared by `distcc` and `distccd`: the client \
         compiles here whatever the daemon would refuse, with the reason under \
         `DISTCC_VERBOSE=1`, so a job it sends is never refused for its \
         arguments. Long spellings are read as gcc reads them first \
         (`--prefix=DIR` is `-B DIR`, `--plugin=F` is `-fplugin=F`, any `--X` \
         is `-fX` for gcc). Options of these shapes are allowed as families: \
         warnings `-W...`, switches `-f[no-]NAME` without a value, target \
         options `-m...`, `-g...`, `-O...`, gcc's `-d<letters>`. An option that \
         is in no row and no family is refused as unknown.\n\n\
         What `-Wa,`/`-Xassembler` pass to the assembler has its own list \
         (`src/args/options/assembler.rs`): listings and `--MD` stay local as \
         in 3.4; `@file`, `-o` and `-I` are refused.\n\n\
         Debug information (`-g`, `-ggdb`, `-gdwarf-N`, ... not `-g0`) is \
         distributed, preprocessed here in plain mode as distcc 3.4 does, \
         except that such a job goes to a daemon of ours in pump form (unless \
         `DISTCC_PUMP_DEBUG_INFO=0`), so that its debug information and \
         `-gsplit-dwarf`'s `.dwo` are a local build's (the preprocessed text \
         would move its lines and columns), its object used only if the \
         server's system headers are this machine's \
         ([reference.md](reference.md#distcc)).\n",
    );
    let mut groups: Vec<(bool, Why, Vec<&str>)> = Vec::new();
    for row in rows::all() {
        let (refused, why) = match row.class {
            Local(w) => (false, w),
            Refused(w) => (true, w),
            _ => continue,
        };
        match groups.iter_mut().find(|g| g.0 == refused && g.1 == why) {
            Some(g) => g.2.push(row.name),
            None => groups.push((refused, why, vec![row.name])),
        }
    }
    for (refused, title) in [
        (false, "Compiled locally, as distcc 3.4 does"),
        (
            true,
            "Refused by distccd and compiled locally by distcc (3.4 distributes these)",
        ),
    ] {
        let _ = write!(out, "\n## {title}\n");
        for (_, why, names) in groups.iter_mut().filter(|g| g.0 == refused) {
            names.sort_unstable();
            let _ = write!(out, "\n* It {why}: ");
            let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            let _ = writeln!(out, "{}.", list.join(", "));
        }
    }
    out.push_str(
        "\n`-fdump-...=FILE` and `-fopt-info...=FILE` write a file outside the \
         job and are refused; without `=FILE` they are distributed. A word \
         that is neither an option, the source nor the output (a stray \
         `libx.a`, `-` for stdin) keeps the job local, and so does an `@file` \
         the client could not read.\n",
    );
    out
}

#[test]
fn the_compile_time_index_is_every_row_sorted_by_name() {
    let sorted = index::sorted();
    assert!(
        sorted.windows(2).all(|w| w[0].name < w[1].name),
        "sorted, no duplicates"
    );
    let mut all: Vec<Row> = rows::all().copied().collect();
    all.sort_by(|a, b| a.name.cmp(b.name));
    assert_eq!(sorted, &all[..]);
}
