//! The include cache shared by a build's pump-mode clients (issue 16):
//! real `distcc` processes, one per job as under make, against our daemon.
//! A second job reads the first one's records instead of lexing (the
//! `include cache:` line of `DISTCC_VERBOSE` counts them); a header
//! changed between two jobs, and a damaged record, still give objects
//! byte-identical to local ones.

use std::path::Path;
use std::time::Duration;

use crate::require_tool;

use super::harness::{Farm, Kind, assert_ok, assert_same, text};

const COMMON_H: &str =
    "#ifndef COMMON_H\n#define COMMON_H\n#include \"a.h\"\n#include <b.h>\n#endif\n";
const A_H: &str = "#define A_VALUE 1\n";
const B_H: &str = "#include \"deep/c.h\"\n";
const C_H: &str = "static inline int c(int x) { return x + A_VALUE; }\n";

/// The counts on the `include cache:` line of a job's verbose log.
fn counts(log: &str) -> (u32, u32, u32) {
    let line = log
        .lines()
        .find(|l| l.contains("include cache:"))
        .unwrap_or_else(|| panic!("no include cache line:\n{log}"));
    let n = |what: &str| -> u32 {
        let before = line.split(what).next().unwrap();
        before
            .rsplit([' ', ','])
            .find(|w| !w.is_empty())
            .unwrap()
            .parse()
            .unwrap()
    };
    (n(" hits"), n(" lexed"), n(" damaged"))
}

/// `gcc -c name.c` through our client in pump mode with the build's pump
/// directory `dir`; the object must equal a local compile's. Returns the
/// client's log.
fn job(farm: &Farm, hosts: &str, dir: &Path, name: &str) -> String {
    let src = format!("src/{name}.c");
    let obj = format!("{name}.o");
    let args = ["gcc", "-O2", "-g", "-Iinclude", "-c", &src, "-o", &obj];
    let out = farm.distcc(
        hosts,
        &args,
        &[
            ("DISTCC_PUMP", "1"),
            ("DISTCC_PUMP_DIR", dir.to_str().unwrap()),
            ("DISTCC_VERBOSE", "1"),
        ],
    );
    assert_ok(&out, &args.join(" "));
    let log = text(&out.stderr);
    assert!(
        log.contains("(protocol 3)"),
        "{name} not sent in pump mode:\n{log}"
    );
    let remote = farm.work().join(format!("{obj}.remote"));
    std::fs::rename(farm.work().join(&obj), &remote).unwrap();
    assert_ok(&farm.local(&args), "local compile");
    assert_same(&remote, &farm.work().join(&obj));
    log
}

#[test]
fn a_build_s_jobs_share_what_they_learn_about_headers() {
    require_tool!("gcc");
    let farm = Farm::new("pump-cache");
    for (i, name) in ["one", "two", "three", "four"].iter().enumerate() {
        farm.write(
            &format!("src/{name}.c"),
            format!("#include \"common.h\"\nint {name}(void) {{ return c({i}); }}\n"),
        );
    }
    farm.write("include/common.h", COMMON_H);
    farm.write("include/a.h", A_H);
    farm.write("include/b.h", B_H);
    farm.write("include/deep/c.h", C_H);
    // Files changed less than 2 s ago get no record (the racy window).
    std::thread::sleep(Duration::from_millis(2100));
    let daemon = farm.daemon(Kind::Ours);
    let hosts = daemon.host(",cpp,lzo");
    let dir = farm.path("pump-dir");
    std::fs::create_dir(&dir).unwrap();

    // The first job lexes its source and the four headers; the second
    // lexes only its source.
    assert_eq!(counts(&job(&farm, &hosts, &dir, "one")), (0, 5, 0));
    assert_eq!(counts(&job(&farm, &hosts, &dir, "two")), (4, 1, 0));

    // A header changed mid-build: the next job reads it again and its
    // object follows the new text.
    farm.write("include/a.h", "#define A_VALUE 7\n");
    assert_eq!(counts(&job(&farm, &hosts, &dir, "three")), (3, 2, 0));

    // Damaged records: a warning, the headers lexed again, no failure.
    let mut records: Vec<_> = std::fs::read_dir(dir.join("includes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    records.sort();
    // The logs of the headers' two directories (a build's pump directory
    // keeps no record of a source, which the build compiles once).
    assert_eq!(records.len(), 2, "{records:?}");
    for r in &records {
        std::fs::write(r, b"not a record").unwrap();
    }
    let log = job(&farm, &hosts, &dir, "four");
    assert!(
        log.contains("Warning: pump: ignoring damaged records in the include cache log"),
        "{log}"
    );
    let (hits, lexed, damaged) = counts(&log);
    assert_eq!(hits, 0, "{log}");
    assert_eq!(lexed, 5, "{log}");
    assert!(damaged >= 2, "{log}");
    // Without the cache, the client lexes everything.
    let out = farm.distcc(
        &hosts,
        &["gcc", "-Iinclude", "-c", "src/one.c", "-o", "x.o"],
        &[
            ("DISTCC_PUMP", "1"),
            ("DISTCC_PUMP_CACHE", "0"),
            ("DISTCC_PUMP_DIR", dir.to_str().unwrap()),
            ("DISTCC_VERBOSE", "1"),
        ],
    );
    assert_ok(&out, "DISTCC_PUMP_CACHE=0");
    assert!(!text(&out.stderr).contains("include cache:"));
}
