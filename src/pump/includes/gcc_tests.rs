//! The closure checked against real gcc (`gcc -M`) on a tree that uses
//! every search rule, plus a timing run on a realistic tree.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::closure;
use super::tests::Tree;
use crate::pump::includes::SearchPath;
use crate::pump::includes::paths::Fs;

/// gcc's default `<...>` directories, or `None` without a gcc.
fn gcc_system_dirs() -> Option<Vec<PathBuf>> {
    let out = Command::new("gcc")
        .args(["-E", "-v", "-x", "c", "/dev/null"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("#include <...> search starts here:"));
    lines.next()?;
    Some(
        lines
            .take_while(|l| !l.starts_with("End of search list."))
            .map(|l| PathBuf::from(l.trim()))
            .collect(),
    )
}

/// The files `gcc -M` lists, absolute and normalised; `None` if gcc fails.
fn gcc_deps(cwd: &Path, flags: &[&str], src: &str) -> Option<Vec<PathBuf>> {
    let out = Command::new("gcc")
        .current_dir(cwd)
        .args(["-M", "-MF", "-"])
        .args(flags)
        .arg(src)
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).unwrap().replace("\\\n", " ");
    let mut fs = Fs::default();
    let words = text.split_whitespace().skip(1); // the target
    Some(
        words
            .map(|w| fs.normalise(cwd.join(w)).unwrap().unwrap())
            .collect(),
    )
}

#[test]
fn superset_of_what_gcc_reads() {
    let Some(system) = gcc_system_dirs() else {
        eprintln!("no gcc: skipping the cross-check");
        return;
    };
    let t = Tree::new("gcc");
    t.file(
        "src/main.c",
        "#include \"config.h\"\n#include <lib/api.h>\n#include \"util.h\"\n#include <stdio.h>\n\
         #include <s.h>\n#if 0\n#include \"dead.h\"\n#endif\n#include \"../common/c.h\"\n",
    );
    t.file("src/config.h", "#define CONFIG 1\n");
    t.file("src/dead.h", "");
    t.file("common/c.h", "# /* spaced */ include <lib/detail.h>\n");
    t.file(
        "i1/lib/api.h",
        "#pragma once\n#include \"detail.h\"\n#include <wrap.h>\n",
    );
    t.file("i1/lib/detail.h", "");
    t.file("i1/wrap.h", "#include_next <wrap.h>\n");
    t.file("i2/wrap.h", "#include <limits.h>\n#include \"deep/x.h\"\n");
    t.file("i2/deep/x.h", "#include \"../y.h\"\n");
    t.file("i2/y.h", "#include <stddef.h>\n");
    t.file("q/util.h", "#include <lib/api.h>\n");
    t.file("isys/s.h", "#include <t.h>\n");
    t.file("after/t.h", "");
    t.file("build/pre.h", "#include \"pre2.h\"\n");
    t.file("build/pre2.h", "");
    let flags = [
        "-iquote",
        "../q",
        "-I../i1",
        "-I",
        "../i2",
        "-isystem",
        "../isys",
        "-idirafter",
        "../after",
        "-include",
        "pre.h",
    ];
    let cwd = t.dir("build");
    let mut gcc: Vec<PathBuf> = Vec::new();
    for f in gcc_deps(&cwd, &flags, "../src/main.c").unwrap() {
        if !system.iter().any(|s| f.starts_with(s)) && !gcc.contains(&f) {
            gcc.push(f);
        }
    }
    let mut argv = vec![std::ffi::OsString::from("gcc")];
    argv.extend(flags.iter().map(std::ffi::OsString::from));
    let search = SearchPath::from_args(&argv, &cwd, system).unwrap();
    let ours = closure(Path::new("../src/main.c"), &cwd, &search)
        .unwrap()
        .files;
    let missing: Vec<_> = gcc.iter().filter(|f| !ours.contains(f)).collect();
    assert!(
        missing.is_empty(),
        "gcc reads {missing:?}, not in {:?}",
        t.rel(&ours)
    );
    let extra: Vec<_> = ours.iter().filter(|f| !gcc.contains(f)).cloned().collect();
    assert_eq!(t.rel(&extra), ["src/dead.h"]);
    assert_eq!(gcc.len(), 14, "{:?}", t.rel(&gcc));
}

/// Random trees of wrapper headers over every kind of directory, with
/// every kind of directive, against `gcc -M`: what gcc reads must be sent.
#[test]
fn random_trees_against_gcc() {
    let Some(system) = gcc_system_dirs() else {
        eprintln!("no gcc: skipping the cross-check");
        return;
    };
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    const DIRS: &[&str] = &["src", "q", "i1", "i2", "isys", "build"];
    const NAMES: &[&str] = &["a.h", "b.h", "c.h", "sub/d.h", "../src/a.h"];
    const FLAGS: &[&[&str]] = &[
        &["-iquote", "../q"],
        &["-I../i1"],
        &["-I", "../i2"],
        &["-I../i1", "-I../i2", "-I../i1"],
        &["-isystem", "../isys"],
        &["-I../isys"],
        &["-include", "a.h"],
    ];
    let mut compared = 0;
    for case in 0..25 {
        let t = Tree::new("random");
        let mut n = 0;
        let mut listing = String::new();
        for dir in DIRS {
            for name in &NAMES[..4] {
                if rand(3) == 0 {
                    continue;
                }
                let mut text = format!("#ifndef G{n}\n#define G{n}\n");
                n += 1;
                for _ in 0..rand(4) {
                    let d = ["#include", "#include_next", "# include"][rand(3)];
                    let name = NAMES[rand(NAMES.len())];
                    let (l, r) = if rand(2) == 0 { ('"', '"') } else { ('<', '>') };
                    text.push_str(&format!("{d} {l}{name}{r}\n"));
                }
                text.push_str("#endif\n");
                t.file(&format!("{dir}/{name}"), &text);
                listing.push_str(&format!("== {dir}/{name}\n{text}"));
            }
        }
        t.file(
            "src/main.c",
            "#include \"a.h\"\n#include <b.h>\n#include \"sub/d.h\"\n",
        );
        // Every name resolves somewhere, so gcc never stops early: the
        // last directory has them all, and ../src/a.h exists.
        for name in &NAMES[..4] {
            t.file(&format!("after/{name}"), "");
        }
        if !t.root.join("src/a.h").exists() {
            t.file("src/a.h", "");
        }
        let mut flags: Vec<&str> = vec!["-idirafter", "../after"];
        for f in FLAGS {
            if rand(2) == 0 {
                flags.extend_from_slice(f);
            }
        }
        let cwd = t.dir("build");
        // An #include_next past the last directory is an error for gcc.
        let Some(gcc) = gcc_deps(&cwd, &flags, "../src/main.c") else {
            continue;
        };
        compared += 1;
        let mut argv = vec![std::ffi::OsString::from("gcc")];
        argv.extend(flags.iter().map(std::ffi::OsString::from));
        let search = SearchPath::from_args(&argv, &cwd, system.clone()).unwrap();
        let ours = closure(Path::new("../src/main.c"), &cwd, &search)
            .unwrap()
            .files;
        for f in gcc
            .iter()
            .filter(|f| !system.iter().any(|s| f.starts_with(s)))
        {
            assert!(
                ours.contains(f),
                "case {case} {flags:?}: gcc reads {}, we send {:?}\n{listing}",
                f.display(),
                t.rel(&ours)
            );
        }
    }
    assert!(
        compared >= 15,
        "gcc failed on too many random trees: {compared} compared"
    );
}

/// Random mixes of comments, literals, splices and directives: whatever
/// gcc includes, the scanner must name (or give up on).
#[test]
fn random_lexing_against_gcc() {
    if gcc_system_dirs().is_none() {
        eprintln!("no gcc: skipping the cross-check");
        return;
    }
    const BITS: &[&str] = &[
        "/*",
        "*/",
        "//",
        "\"",
        "'",
        "\\\n",
        "\n",
        "\n",
        "\n",
        " ",
        "x",
        "1'2",
        "R\"(",
        ")\"",
        "#",
        "#include \"h1.h\"",
        "#include <h2.h>",
        "# include \"h3.h\"",
        "\n#include \"h4.h\"\n",
        "\n/* c */ #include \"h5.h\"\n",
        "\n#inc\\\nlude \"h6.h\"\n",
        "%:include \"h7.h\"",
        "\r",
        "\n#if __has_include(\"h8.h\")\n",
        "??/\n",
        "??=include \"h9.h\"\n",
    ];
    let t = Tree::new("lexfuzz");
    for n in 1..10 {
        t.file(&format!("h{n}.h"), "");
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut compared = 0;
    for case in 0..120 {
        let text: String = (0..30).map(|_| BITS[rand(BITS.len())]).collect();
        let src = t.file("x.c", &text);
        let Ok(ours) = crate::pump::includes::lexer::scan(text.as_bytes()) else {
            continue;
        };
        let ours: Vec<String> = ours
            .iter()
            .map(|d| String::from_utf8_lossy(&d.name).into_owned())
            .collect();
        let lang = ["c", "c++", "c"][case % 3];
        let std = ["-std=gnu17", "-std=c++17", "-std=c99"][case % 3];
        // -H lists each header as it is opened, and gcc goes on after
        // most errors (unterminated comments, stray quotes), so every case
        // is compared.
        let out = Command::new("gcc")
            .current_dir(&t.root)
            .args(["-E", "-H", "-w", "-o", "/dev/null", "-x", lang, std])
            .arg(&src)
            .output()
            .unwrap();
        compared += 1;
        let listing = String::from_utf8_lossy(&out.stderr);
        for line in listing.lines().filter(|l| l.starts_with(". ")) {
            let w = &line[2..];
            if w.starts_with('/') && !w.starts_with(t.root.to_str().unwrap()) {
                continue; // a system header
            }
            let name = Path::new(w).file_name().unwrap().to_string_lossy();
            assert!(
                ours.iter().any(|o| *o == name),
                "case {case} ({std}): gcc reads {w}, we found {ours:?} in {text:?}"
            );
        }
    }
    assert!(
        compared >= 30,
        "gcc failed on too many random files: {compared} compared"
    );
}

/// `cargo test --release --lib closure_timing -- --ignored --nocapture`
#[test]
#[ignore = "timing, not a check"]
fn closure_timing() {
    let system = gcc_system_dirs().unwrap_or_default();
    let t = Tree::new("timing");
    // 30 headers over 3 -I directories, ~4 KB each, each including the
    // next two and some system headers, behind include guards.
    let body = "/* A comment block describing the API in some detail. */\n\
                typedef struct widget { int a, b; const char *name; } widget;\n\
                extern int widget_frob(widget *w, int how, const char *why); // frob\n\
                static inline int widget_sum(const widget *w) { return w->a + w->b; }\n"
        .repeat(16);
    for i in 0..30 {
        let mut h =
            format!("#ifndef H{i}\n#define H{i}\n#include <stdio.h>\n#include <string.h>\n");
        for j in [i + 1, i + 2] {
            if j < 30 {
                h.push_str(&format!("#include \"h{j}.h\"\n"));
            }
        }
        h.push_str(&body);
        h.push_str("#endif\n");
        t.file(&format!("i{}/h{i}.h", i % 3), &h);
    }
    t.file("main.c", "#include <h0.h>\nint main(void) { return 0; }\n");
    let argv = crate::args::os::words("gcc -Ii0 -Ii1 -Ii2");
    let search = SearchPath::from_args(&argv, &t.root, system).unwrap();
    let files = closure(Path::new("main.c"), &t.root, &search)
        .unwrap()
        .files;
    assert_eq!(files.len(), 31);
    let mut times: Vec<_> = (0..2000)
        .map(|_| {
            let start = Instant::now();
            closure(Path::new("main.c"), &t.root, &search).unwrap();
            start.elapsed()
        })
        .collect();
    times.sort();
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    let (best, median) = (times[0], times[times.len() / 2]);
    eprintln!("closure of 30 headers ({bytes} bytes): best {best:?}, median {median:?}");
    let texts: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let mut lex: Vec<_> = (0..200)
        .map(|_| {
            let start = Instant::now();
            for t in &texts {
                std::hint::black_box(crate::pump::includes::lexer::scan(t).unwrap());
            }
            start.elapsed()
        })
        .collect();
    lex.sort();
    let mut io: Vec<_> = (0..200)
        .map(|_| {
            let start = Instant::now();
            for f in &files {
                std::hint::black_box(std::fs::read(f).unwrap());
            }
            start.elapsed()
        })
        .collect();
    io.sort();
    eprintln!("of which lexing {:?}, reading {:?}", lex[0], io[0]);
}
