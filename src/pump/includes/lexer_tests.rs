//! Table tests for the directive scanner: one row per lexing rule; every
//! bug fix adds a row (style.md example 7).

use super::{Computed, Kind, defines, scan};

/// How a result reads in the tables: `inc "a.h"`, `next <b.h>`, ...
fn show(src: &str) -> Result<Vec<String>, Computed> {
    Ok(scan(src.as_bytes())?
        .into_iter()
        .map(|d| {
            let kind = match d.kind {
                Kind::Include => "inc",
                Kind::IncludeNext => "next",
                Kind::Probe => "probe",
                Kind::ProbeNext => "probenext",
                Kind::Maybe => "maybe",
                Kind::Macro => "macro",
                Kind::MacroNext => "macronext",
                Kind::Define => "define",
                Kind::Clock => "clock",
            };
            if matches!(d.kind, Kind::Macro | Kind::MacroNext | Kind::Clock) {
                return format!("{kind} {}", String::from_utf8_lossy(&d.name));
            }
            let name = String::from_utf8_lossy(&d.name);
            let (l, r) = if d.angled { ('<', '>') } else { ('"', '"') };
            format!("{kind} {l}{name}{r}")
        })
        .collect())
}

#[rustfmt::skip]
const FOUND: &[(&str, &str, &[&str])] = &[
    ("plain", "#include \"a.h\"\n#include <b.h>\n", &["inc \"a.h\"", "inc <b.h>"]),
    ("no space", "#include\"a.h\"\n#include<b.h>", &["inc \"a.h\"", "inc <b.h>"]),
    ("spaced hash", "  #  include   <a.h>  // c\n", &["inc <a.h>"]),
    ("tabs", "\t#\tinclude\t\"a.h\"\n", &["inc \"a.h\""]),
    ("import", "#import \"a.h\"\n", &["inc \"a.h\""]),
    ("include_next", "#include_next <a.h>\n", &["next <a.h>"]),
    ("embed", "#embed \"data.bin\" limit(4)\n", &["probe \"data.bin\""]),
    ("digraph", "%:include \"a.h\"\n", &["inc \"a.h\""]),
    ("comment before hash", "/* x */ #include \"a.h\"\n", &["inc \"a.h\""]),
    ("comment after hash", "#/* x */include \"a.h\"\n", &["inc \"a.h\""]),
    ("comment before name", "#include /* x */ <a.h>\n", &["inc <a.h>"]),
    ("multi-line comment in directive", "# /* x\n y */ include <a.h>\n", &["inc <a.h>"]),
    ("multi-line comment at line start", "/* x\n */ #include <a.h>\n", &["inc <a.h>"]),
    ("not at line start", "int x; #include <a.h>\n", &[]),
    ("after code then comment", "x /* \n */ #include <a.h>\n", &[]),
    ("in block comment", "/*\n#include <a.h>\n*/\n", &[]),
    ("in line comment", "// #include <a.h>\n#include <b.h>\n", &["inc <b.h>"]),
    ("line comment continued", "// x \\\n#include <a.h>\n#include <b.h>\n", &["inc <b.h>"]),
    ("line comment continued after space", "// x \\  \n#include <a.h>\n", &[]),
    ("splice in name", "#inc\\\nlude <a.h>\n", &["inc <a.h>"]),
    ("splice after hash", "#\\\ninclude <a.h>\n", &["inc <a.h>"]),
    ("splice in operand", "#include \"a\\\n.h\"\n", &["inc \"a.h\""]),
    ("splice with CRLF", "#inc\\\r\nlude <a.h>\r\n", &["inc <a.h>"]),
    ("CRLF lines", "#include <a.h>\r\n#include <b.h>\r\n", &["inc <a.h>", "inc <b.h>"]),
    ("lone CR ends a line", "x\r#include <a.h>\r", &["inc <a.h>"]),
    ("code splice joins lines", "x \\\n#include <a.h>\n", &[]),
    ("hash in string", "s = \"\n#include <a.h>\n", &["inc <a.h>"]),
    ("string keeps hash", "s = \"#include <a.h>\";\n", &[]),
    ("date and time", "const char *v = __DATE__ \" \" __TIME__;\n", &["clock __DATE__", "clock __TIME__"]),
    ("timestamp in a define", "#define BUILT __TIMESTAMP__\n", &["clock __TIMESTAMP__"]),
    ("clock names in strings, comments, longer names", "s = \"__DATE__\"; /* __TIME__ */ x__DATE__; __DATE__X;\n", &[]),
    ("escaped quote", "s = \"\\\" /*\";\n#include <a.h>\n", &["inc <a.h>"]),
    ("slashes in string", "s = \"/*\";\n#include <a.h>\n", &["inc <a.h>"]),
    ("char literal", "c = '\"'; /* x */\n#include <a.h>\n", &["inc <a.h>"]),
    ("apostrophe in skipped text", "#if 0\ndon't\n#endif\n#include <a.h>\n", &["inc <a.h>"]),
    ("digit separator", "n = 1'000'000; /* x */\n#include <a.h>\n", &["inc <a.h>"]),
    ("separator or quote", "x = 2's /*\n#include <a.h>\n*/\n", &["inc <a.h>"]),
    ("exponent", "d = 1e+5; /* */\n#include <a.h>\n", &["inc <a.h>"]),
    ("slashes in header name", "#include <a//b.h>\n#include \"c/*d.h\"\n", &["inc <a//b.h>", "inc \"c/*d.h\""]),
    ("paste is no directive", "##include <a.h>\n", &[]),
    ("linemarker", "# 1 \"x.c\"\n#include <a.h>\n", &["inc <a.h>"]),
    ("both branches", "#if A\n#include <a.h>\n#else\n#include <b.h>\n#endif\n", &["inc <a.h>", "inc <b.h>"]),
    ("each once", "#include <a.h>\n#include <a.h>\n", &["inc <a.h>", "inc <a.h>"]),
    ("has_include", "#if __has_include(<a.h>) && __has_include(\"b.h\")\n#endif\n", &["probe <a.h>", "probe \"b.h\""]),
    ("has_include spaced", "#elif defined X || __has_include (/* */ <a.h> )\n", &["probe <a.h>"]),
    ("has_include_next", "#if __has_include_next(<a.h>)\n", &["probenext <a.h>"]),
    ("has_include defined test", "#ifdef __has_include\n#if defined(__has_include)\n#endif\n", &[]),
    ("has_include in define", "#define H __has_include(<a.h>)\n", &["probe <a.h>"]),
    ("has_include wrapper", "#define W(x) __has_include(x)\n#if W(<a.h>) || W(\"b.h\")\n", &["maybe <a.h>", "maybe \"b.h\""]),
    ("comparison is no wrapper", "#if (A < B) && (C > D)\n", &[]),
    ("pragma dependency", "#pragma GCC dependency \"parse.y\"\n#pragma once\n", &["probe \"parse.y\""]),
    ("raw string", "s = R\"x(\n#include <a.h>\n)x\";\n#include <b.h>\n", &["inc <b.h>", "inc <a.h>"]),
    ("raw string hides comment", "s = R\"(/*)\";\n#include <a.h>\n", &["inc <a.h>"]),
    ("raw string or not", "s = R\"x(\";\n#include <a.h>\n// )x\"\n", &["inc <a.h>"]),
    ("trigraph hash", "??=include <a.h>\n", &["inc <a.h>"]),
    ("trigraph splice", "// x ??/\n#include <a.h>\n#include <b.h>\n", &["inc <a.h>", "inc <b.h>"]),
    ("no final newline", "#include <a.h>", &["inc <a.h>"]),
    ("macro operand", "\n#include FOO\n", &["macro FOO"]),
    ("macro operand and comment", "#include FOO /* x */ // y\n", &["macro FOO"]),
    ("import macro", "#import FOO\n", &["macro FOO"]),
    ("include_next macro", "/*\n\n*/\n#include_next NEXT\n", &["macronext NEXT"]),
    ("macro under if 0", "#if 0\n#include FOO\n#endif\n", &["macro FOO"]),
    ("defines are not recorded by scan", "#define H <a.h>\n", &[]),
];

#[test]
fn scanner_finds_what_gcc_would_open() {
    for (name, src, want) in FOUND {
        let got = show(src).unwrap_or_else(|e| panic!("{name}: gave up: {e:?}"));
        assert_eq!(got, *want, "{name}: {src:?}");
    }
}

#[rustfmt::skip]
const COMPUTED: &[(&str, &str, u32, &str)] = &[
    ("macro call", "#include HDR(x)\n", 1, "computed #include"),
    ("macro and more", "#include HDR x\n", 1, "computed #include"),
    ("pasted name", "#include A/B\n", 1, "computed #include"),
    ("empty", "#include\n", 1, "computed #include"),
    ("unterminated", "#include \"a.h\n", 1, "computed #include"),
    ("include_next call", "/*\n\n*/\n#include_next NEXT()\n", 4, "computed #include_next"),
    ("has_include macro", "#if __has_include(HDR)\n", 1, "computed __has_include"),
    ("under if 0", "#if 0\n#include FOO(1)\n#endif\n", 2, "computed #include"),
    ("spliced line count", "a \\\nb\n#include X Y\n", 3, "computed #include"),
    ("embed macro", "#embed DATA\n", 1, "computed #embed"),
    ("pragma dependency macro", "#pragma GCC dependency DEP\n", 1, "computed #pragma GCC dependency"),
];

#[test]
fn scanner_gives_up_on_computed_names() {
    for (name, src, line, what) in COMPUTED {
        let got = show(src);
        assert_eq!(got, Err(Computed { line: *line, what }), "{name}: {src:?}");
    }
}

/// `#define`s as [`defines`] records them: `NAME=VALUE`, with the value
/// empty when the walk cannot follow it.
#[rustfmt::skip]
const DEFINES: &[(&str, &str, &[&str])] = &[
    ("angled", "#define FT_H <freetype/freetype.h>\n", &["FT_H=<freetype/freetype.h>"]),
    ("quoted", "#  define CFG \"config.h\" // the config\n", &["CFG=\"config.h\""]),
    ("alias", "#define A B\n#define B <b.h>\n", &["A=B", "B=<b.h>"]),
    ("function-like", "#define F(x) <x.h>\n", &["F="]),
    ("object-like with a space", "#define F (x)\n", &["F="]),
    ("more than a name", "#define A <a.h> + 1\n#define B 1\n#define C\n", &["A=", "B=", "C="]),
    ("spaces in the name", "#define A < a.h >\n#define B <a b.h>\n", &["A=", "B="]),
    ("comment in the name", "#define A <a//b.h>\n#define B <a/*b.h>\n", &["A=", "B="]),
    ("backslash in the name", "#define A \"a\\\\b.h\"\n", &["A="]),
    ("spliced", "#define A \\\n <a.h>\n", &["A=<a.h>"]),
    ("in both branches", "#if X\n#define A <a.h>\n#else\n#define A <b.h>\n#endif\n", &["A=<a.h>", "A=<b.h>"]),
    ("in a comment", "/* #define A <a.h> */\n", &[]),
];

#[test]
fn defines_are_recorded_when_asked_for() {
    for (name, src, want) in DEFINES {
        let got: Vec<String> = defines(src.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e:?}"))
            .iter()
            .map(|d| {
                format!(
                    "{}={}",
                    String::from_utf8_lossy(&d.name),
                    String::from_utf8_lossy(&d.value)
                )
            })
            .collect();
        assert_eq!(got, *want, "{name}: {src:?}");
    }
}

#[test]
fn lines_are_counted_for_found_names() {
    let d = scan(b"// one\n/* two\nthree */\n#include <a.h>\n").unwrap();
    assert_eq!(d[0].line, 4);
}

#[test]
fn binary_garbage_does_not_panic() {
    let mut junk: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    junk.extend_from_slice(b"\\");
    let _ = scan(&junk);
    for cut in [
        b"R\"".as_slice(),
        b"R\"abc(",
        b"/*",
        b"'",
        b"\"",
        b"#include <",
        b"??",
    ] {
        let _ = scan(cut);
    }
}

/// `cargo test --release --lib lexer_throughput -- --ignored --nocapture`
#[test]
#[ignore = "timing, not a check"]
fn lexer_throughput() {
    let mut files = Vec::new();
    for dir in ["/usr/include", "/usr/include/linux"] {
        for f in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            files.extend(std::fs::read(f.path()).ok());
        }
    }
    let total: usize = files.iter().map(Vec::len).sum();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        for f in &files {
            let mut lx = super::Lexer::new(f, super::Mode::DEFAULT, false);
            let _ = std::hint::black_box(lx.run());
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    eprintln!(
        "{} files, {total} bytes: {:.0} MB/s",
        files.len(),
        total as f64 / best / 1e6
    );
}
