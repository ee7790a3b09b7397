//! Bodies sent against a base (docs/extension.md §12, issue 12): real
//! `distcc` processes in plain mode against our daemon. The first body
//! leaves its headers as the client's base; later bodies go as copies
//! from it and the rest; a daemon that lacks the base (never sent it, a
//! restarted one) asks for it once; a base damaged on the client is
//! never used for bytes it does not hold, and a damaged one the daemon
//! asks for is removed and the job sent whole. Every object equals a
//! local compile's.

use std::path::{Path, PathBuf};

use crate::require_tool;

use super::harness::{Daemon, Farm, Kind, assert_ok, assert_same, text};

/// Sources that share their system headers and differ in their own code.
fn write_sources(farm: &Farm) {
    let head = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n";
    for (name, body) in [
        ("a", "int a(const char *s) { return (int)strlen(s); }\n"),
        ("b", "int b(void) { return rand() + (int)BUFSIZ; }\n"),
        ("c", "int c(char *s) { return puts(strcpy(s, \"c\")); }\n"),
        ("d", "int d(void) { return abs(-4); }\n"),
    ] {
        farm.write(&format!("s/{name}.c"), format!("{head}{body}"));
    }
}

/// Compile `s/<name>.c` through `hosts` with `DISTCC_DIR` `ddir`; the
/// object must equal a local compile's. Returns the client's log.
fn job(farm: &Farm, hosts: &str, ddir: &Path, name: &str) -> String {
    let (src, obj) = (format!("s/{name}.c"), format!("s/{name}.o"));
    let args = ["gcc", "-O2", "-c", &src, "-o", &obj];
    let env = [
        ("DISTCC_VERBOSE", "1"),
        ("DISTCC_DIR", ddir.to_str().unwrap()),
    ];
    let out = farm.distcc(hosts, &args, &env);
    assert_ok(&out, &args.join(" "));
    let log = text(&out.stderr);
    let remote = farm.work().join(format!("{obj}.remote"));
    std::fs::rename(farm.work().join(&obj), &remote).unwrap();
    assert_ok(&farm.local(&args), "local compile");
    assert_same(&remote, &farm.work().join(&obj));
    log
}

/// Whether the client sent its body against its base.
fn against_base(log: &str) -> bool {
    log.contains("body sent against its base")
}

/// A client that has learnt `hosts` speaks the extension.
fn learn(farm: &Farm, hosts: &str, ddir: &Path) {
    std::fs::create_dir_all(ddir).unwrap();
    farm.write("warm/w.c", "int w;\n");
    let out = farm.distcc(
        hosts,
        &["gcc", "-c", "warm/w.c", "-o", "warm/w.o"],
        &[("DISTCC_DIR", ddir.to_str().unwrap())],
    );
    assert_ok(&out, "warm-up");
    assert!(ddir.join("extension").is_dir(), "nothing learnt");
}

fn base_file(ddir: &Path) -> PathBuf {
    ddir.join("body-base").join("i")
}

#[test]
fn bodies_go_against_a_base_the_daemon_asks_for_once() {
    require_tool!("gcc");
    let farm = Farm::new("bodybase");
    write_sources(&farm);
    let config = farm
        .daemon_config(Kind::Ours)
        .args(["--log-level", "debug"]);
    let d = Daemon::start(&config);
    let hosts = d.host(",lzo");
    let ddir = farm.path("ddir");
    learn(&farm, &hosts, &ddir);
    // No base yet: sent whole, and its headers become the base.
    assert!(!against_base(&job(&farm, &hosts, &ddir, "a")));
    let base = std::fs::read(base_file(&ddir)).unwrap();
    assert!(base.starts_with(b"distcc-body-base 1 "), "{base:?}");
    // A miss: the daemon asks for the base, once.
    assert!(against_base(&job(&farm, &hosts, &ddir, "b")));
    let asked = |d: &Daemon| d.log_text().matches("not held; asked for it").count();
    assert_eq!(asked(&d), 1, "{}", d.log_text());
    // Hits: nothing asked.
    assert!(against_base(&job(&farm, &hosts, &ddir, "c")));
    assert!(against_base(&job(&farm, &hosts, &ddir, "a")));
    assert_eq!(asked(&d), 1, "{}", d.log_text());
    assert!(d.log_text().contains("body against a base"));
    // The base was not rewritten by jobs it serves.
    assert_eq!(std::fs::read(base_file(&ddir)).unwrap(), base);
    // A daemon restarted (a fresh store): asked once more, no job lost.
    let d2 = Daemon::start(&config);
    let hosts2 = d2.host(",lzo");
    learn(&farm, &hosts2, &ddir);
    assert!(against_base(&job(&farm, &hosts2, &ddir, "d")));
    assert_eq!(asked(&d2), 1, "{}", d2.log_text());
    assert!(!d2.log_text().contains("refused"), "{}", d2.log_text());
    // DISTCC_EXTENSION=0: protocol 2 as 3.4 sends it, no base.
    let out = farm.distcc(
        &hosts,
        &["gcc", "-c", "s/a.c", "-o", "s/plain.o"],
        &[
            ("DISTCC_VERBOSE", "1"),
            ("DISTCC_EXTENSION", "0"),
            ("DISTCC_DIR", ddir.to_str().unwrap()),
        ],
    );
    assert_ok(&out, "DISTCC_EXTENSION=0");
    assert!(!against_base(&text(&out.stderr)));
}

#[test]
fn a_damaged_base_on_the_client_never_changes_an_object() {
    require_tool!("gcc");
    let farm = Farm::new("bodybase-damaged");
    write_sources(&farm);
    let config = farm
        .daemon_config(Kind::Ours)
        .args(["--log-level", "debug"]);
    let d = Daemon::start(&config);
    let hosts = d.host(",lzo");
    let ddir = farm.path("ddir");
    learn(&farm, &hosts, &ddir);
    job(&farm, &hosts, &ddir, "a");
    assert!(against_base(&job(&farm, &hosts, &ddir, "b")));
    // The file damaged behind its digest: the daemon holds the true base,
    // and the client copies only what it compared equal to its body.
    let path = base_file(&ddir);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() / 2;
    for b in &mut bytes[at..at + 64] {
        *b = b'#';
    }
    std::fs::write(&path, &bytes).unwrap();
    assert!(against_base(&job(&farm, &hosts, &ddir, "c")));
    // A daemon that asks for it: the client finds the damage, removes
    // the file and sends the job again, whole. Its base is written anew.
    let d2 = Daemon::start(&config);
    let hosts2 = d2.host(",lzo");
    learn(&farm, &hosts2, &ddir);
    let log = job(&farm, &hosts2, &ddir, "d");
    assert!(log.contains("base here was damaged"), "{log}");
    let again = std::fs::read(&path).unwrap();
    assert_ne!(again, bytes);
    assert!(against_base(&job(&farm, &hosts2, &ddir, "a")));
    // An unknown digest (a base no daemon was sent): asked for, sent.
    let mut other = std::fs::read(&path).unwrap();
    let n = other.len();
    other.truncate(n - 100);
    let digest = ring_hex(&other[84..]);
    other[19..83].copy_from_slice(digest.as_bytes());
    std::fs::write(&path, &other).unwrap();
    assert!(against_base(&job(&farm, &hosts2, &ddir, "b")));
    let asked = d2.log_text().matches("not held; asked for it").count();
    assert!(asked >= 2, "{}", d2.log_text());
}

/// The SHA-256 of `data` in lowercase hex, as the base file's first line
/// holds it.
fn ring_hex(data: &[u8]) -> String {
    distcc::protocol::hdrcache::Digest::of(data)
        .0
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
