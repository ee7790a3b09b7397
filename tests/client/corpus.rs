//! A corpus of real compile commands through our client, against Debian's
//! distccd 3.4 and ours, in protocols 1 and 2: every output (objects,
//! assembler, .d files) must be byte-identical to a local build of the same
//! command, and every job must really have run remotely.
//!
//! One allowed exception (issue #3): with `-march=native` and `-g`, the
//! debug info's producer string records the expanded flags; the code and
//! data sections must still be identical.

use std::path::Path;
use std::process::Command;

use crate::require_tool;

use super::harness::{Farm, HELLO, Kind, UTIL_H, assert_ok, assert_same, text};

const LIB_C: &str = r#"#include <string.h>
#include <stdlib.h>
#include "util.h"
#define SQUARE(x) ((x) * (x))
double norm(const double *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += SQUARE(v[i]);
    return s;
}
int count(const char *s, char c) {
    int n = 0;
    for (; *s; s++) n += (*s == c) ? twice(1) / 2 : 0;
    return n;
}
"#;

const APP_CPP: &str = r#"#include <algorithm>
#include <map>
#include <string>
#include <vector>
#include <iostream>
std::map<std::string, int> histogram(const std::vector<std::string> &words) {
    std::map<std::string, int> h;
    for (const auto &w : words) h[w]++;
    return h;
}
int main() {
    std::vector<std::string> w{"a", "b", "a"};
    auto h = histogram(w);
    std::cout << h["a"] << std::endl;
    std::sort(w.begin(), w.end());
    return 0;
}
"#;

/// How an output must match the local one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compare {
    /// Byte for byte.
    Exact,
    /// `-march=native -g`: the producer string records the expanded
    /// flags; every allocated (code and data) section must be identical.
    Code,
    /// `-g` on code with macros expanded inside a line (C++ headers,
    /// `typedef __SIZE_TYPE__ size_t`, `SQUARE(x)`): plain-mode distcc
    /// (3.4 too) compiles the macro-expanded text, so DWARF column numbers
    /// (`DW_AT_decl_column`, the line table's columns) differ. Everything
    /// else is identical: every other section byte for byte, the debug
    /// info but for the column attributes, and the decoded line table
    /// (file, line, address).
    Columns,
}

/// One command and the files it writes.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    outputs: &'static [&'static str],
    compare: Compare,
}

const CASES: &[Case] = &[
    Case {
        name: "c",
        args: &["gcc", "-c", "hello.c", "-o", "hello.o"],
        outputs: &["hello.o"],
        compare: Compare::Exact,
    },
    Case {
        name: "c-O2",
        args: &["gcc", "-O2", "-c", "lib.c", "-o", "lib.o"],
        outputs: &["lib.o"],
        compare: Compare::Exact,
    },
    Case {
        name: "c-O2-g",
        args: &["gcc", "-O2", "-g", "-c", "hello.c", "-o", "hello-g.o"],
        outputs: &["hello-g.o"],
        compare: Compare::Exact,
    },
    Case {
        name: "c-g-size_t",
        args: &["gcc", "-g", "-c", "lib.c", "-o", "lib-g.o"],
        outputs: &["lib-g.o"],
        compare: Compare::Columns,
    },
    Case {
        name: "c++-O2",
        args: &["g++", "-O2", "-c", "app.cpp", "-o", "app.o"],
        outputs: &["app.o"],
        compare: Compare::Exact,
    },
    Case {
        name: "c++-MD-derived-output",
        args: &["g++", "-MD", "-c", "app.cpp"],
        outputs: &["app.o", "app.d"],
        compare: Compare::Exact,
    },
    Case {
        name: "c++-g",
        args: &["g++", "-g", "-c", "app.cpp", "-o", "app-g.o"],
        outputs: &["app-g.o"],
        compare: Compare::Columns,
    },
    Case {
        name: "MD-in-subdir",
        args: &["gcc", "-MD", "-c", "lib.c", "-o", "sub/lib.o"],
        outputs: &["sub/lib.o", "sub/lib.d"],
        compare: Compare::Exact,
    },
    Case {
        name: "MMD-MF",
        args: &[
            "gcc",
            "-MMD",
            "-MF",
            "deps/lib2.dep",
            "-c",
            "lib.c",
            "-o",
            "lib2.o",
        ],
        outputs: &["lib2.o", "deps/lib2.dep"],
        compare: Compare::Exact,
    },
    Case {
        name: "Wp-MD",
        args: &["gcc", "-Wp,-MD,.lib3.o.d", "-c", "lib.c", "-o", "lib3.o"],
        outputs: &["lib3.o", ".lib3.o.d"],
        compare: Compare::Exact,
    },
    Case {
        name: "x-c",
        args: &["gcc", "-x", "c", "-c", "hello.c", "-o", "hx.o"],
        outputs: &["hx.o"],
        compare: Compare::Exact,
    },
    Case {
        name: "atfile",
        args: &["gcc", "@args.rsp"],
        outputs: &["at.o"],
        compare: Compare::Exact,
    },
    Case {
        name: "S",
        args: &["gcc", "-O2", "-S", "lib.c", "-o", "lib.s"],
        outputs: &["lib.s"],
        compare: Compare::Exact,
    },
    Case {
        name: "march-native",
        args: &[
            "gcc",
            "-O2",
            "-march=native",
            "-c",
            "lib.c",
            "-o",
            "native.o",
        ],
        outputs: &["native.o"],
        compare: Compare::Exact,
    },
    Case {
        name: "march-native-g",
        args: &[
            "gcc",
            "-O2",
            "-g",
            "-march=native",
            "-mtune=native",
            "-c",
            "lib.c",
            "-o",
            "native-g.o",
        ],
        outputs: &["native-g.o"],
        compare: Compare::Code,
    },
];

fn setup(farm: &Farm) {
    farm.write("hello.c", HELLO);
    farm.write("util.h", UTIL_H);
    farm.write("lib.c", LIB_C);
    farm.write("app.cpp", APP_CPP);
    farm.write(
        "args.rsp",
        "-O2 '-DGREETING=\"hi there\"'\n-c \"hello.c\" -o at.o\n",
    );
    for d in ["sub", "deps"] {
        std::fs::create_dir_all(farm.work().join(d)).unwrap();
    }
}

/// One section: name, whether it is allocated (code/data), and its bytes
/// in the file (empty for NOBITS).
type Section = (String, bool, Vec<u8>);

/// The sections of an ELF object, from `readelf -S -W`.
fn sections(path: &Path) -> Vec<Section> {
    let bytes = std::fs::read(path).unwrap();
    let out = Command::new("readelf")
        .args(["-S", "-W"])
        .arg(path)
        .output()
        .expect("readelf");
    text(&out.stdout)
        .lines()
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix('[')?.split_once(']')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let name = f.first().filter(|n| n.starts_with('.'))?;
            // Name Type Address Off Size ES [Flg] Lk Inf Al
            let off = usize::from_str_radix(f[3], 16).ok()?;
            let size = usize::from_str_radix(f[4], 16).ok()?;
            let alloc = f.len() == 10 && f[6].contains('A');
            let data = if f[1] == "NOBITS" {
                Vec::new()
            } else {
                bytes[off..off + size].to_vec()
            };
            Some((name.to_string(), alloc, data))
        })
        .collect()
}

/// `readelf --debug-dump=info`, without the file-name header.
fn debug_info(path: &Path) -> Vec<String> {
    let out = Command::new("readelf")
        .arg("--debug-dump=info")
        .arg(path)
        .output()
        .expect("readelf");
    text(&out.stdout)
        .lines()
        .skip(2)
        .map(str::to_owned)
        .collect()
}

/// The line table as (file, line) runs: `readelf --debug-dump=decodedline`
/// rows with consecutive rows of the same line merged (a column change
/// starts a new row at the same line).
fn line_runs(path: &Path) -> Vec<(String, String)> {
    let out = Command::new("readelf")
        .arg("--debug-dump=decodedline")
        .arg(path)
        .output()
        .expect("readelf");
    let mut runs: Vec<(String, String)> = Vec::new();
    for l in text(&out.stdout).lines().skip(2) {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 3 || !f[2].starts_with("0x") && f[2] != "0" {
            continue;
        }
        let row = (f[0].to_owned(), f[1].to_owned());
        if runs.last() != Some(&row) {
            runs.push(row);
        }
    }
    runs
}

#[track_caller]
fn compare(case: &Case, remote: &Path, local: &Path) {
    let name = case.name;
    if case.compare == Compare::Exact {
        return assert_same(remote, local);
    }
    let (r, l) = (sections(remote), sections(local));
    let names = |v: &[Section]| v.iter().map(|s| s.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&r), names(&l), "{name}: section lists");
    const COLUMNS: &[&str] = &[
        ".debug_info",
        ".rela.debug_info",
        ".debug_line",
        ".rela.debug_line",
    ];
    for (a, b) in r.iter().zip(&l) {
        let must_match = match case.compare {
            Compare::Code => a.1,
            _ => !COLUMNS.contains(&a.0.as_str()),
        };
        if must_match {
            assert!(a.2 == b.2, "{name}: section {} differs", a.0);
        }
    }
    if case.compare == Compare::Columns {
        assert_eq!(
            line_runs(remote),
            line_runs(local),
            "{name}: line table beyond columns"
        );
        let (ri, li) = (debug_info(remote), debug_info(local));
        assert_eq!(ri.len(), li.len(), "{name}: debug info shape");
        for (a, b) in ri.iter().zip(&li) {
            assert!(
                a == b || (a.contains("DW_AT_decl_column") && b.contains("DW_AT_decl_column")),
                "{name}: debug info differs beyond columns:\n{a}\n{b}"
            );
        }
    }
}

fn run_corpus(kind: Kind, options: &str) {
    require_tool!("gcc");
    require_tool!("objcopy");
    require_tool!("readelf");
    let farm = Farm::new(&format!("corpus-{kind:?}{}", options.replace(',', "-")));
    setup(&farm);
    let daemon = farm.daemon(kind);
    let hosts = daemon.host(options);
    for (n, case) in CASES.iter().enumerate() {
        // Local reference first, renamed aside; then the same command in
        // the same directory through distcc (debug info records the cwd).
        farm.local(case.args);
        for o in case.outputs {
            std::fs::rename(farm.work().join(o), farm.work().join(format!("{o}.local"))).unwrap();
        }
        // Not raced: the corpus checks objects, not timing, and under
        // load a late job would be compiled here as well.
        let out = farm.distcc(&hosts, case.args, &[("DISTCC_RACE", "0")]);
        assert_ok(&out, &format!("{} via {kind:?}{options}", case.name));
        assert!(
            text(&out.stderr).is_empty(),
            "{}: unexpected stderr: {}",
            case.name,
            text(&out.stderr)
        );
        assert_eq!(
            daemon.wait_compiles(n + 1),
            n + 1,
            "{} did not run remotely",
            case.name
        );
        for o in case.outputs {
            let (remote, local) = (farm.work().join(o), farm.work().join(format!("{o}.local")));
            compare(case, &remote, &local);
        }
    }
    assert!(
        farm.leftovers("ctmp").is_empty(),
        "client temp files left: {:?}",
        farm.leftovers("ctmp")
    );
}

#[test]
fn corpus_debian_daemon_protocol_1() {
    run_corpus(Kind::Debian, "");
}

#[test]
fn corpus_debian_daemon_protocol_2() {
    run_corpus(Kind::Debian, ",lzo");
}

#[test]
fn corpus_our_daemon_protocol_1() {
    run_corpus(Kind::Ours, "");
}

#[test]
fn corpus_our_daemon_protocol_2() {
    run_corpus(Kind::Ours, ",lzo");
}
