//! The server's header cache (docs/extension.md §10, issue 16 item 3):
//! real `distcc` processes in pump mode against our daemon. A content the
//! daemon has is not sent again (the client's `sent N of M files` line
//! and the daemon's `header cache:` line count them); a header changed
//! mid-build is sent once more; two clients whose different files share a
//! path each get objects equal to their own local builds; a tiny store
//! evicts and still builds right; requests by reference (§11) against
//! bases the daemon lacks are sent again whole; a mirror kept from an
//! earlier job shows nothing of it.

use std::path::Path;

use crate::require_tool;

use super::harness::{Daemon, Farm, Kind, assert_ok, assert_same, text};

const MAIN_C: &str = "#include \"config.h\"\n#include \"util.h\"\n\
int main(void) { return twice(LEVEL); }\n";
const UTIL_H: &str = "static inline int twice(int x) { return 2 * x; }\n";

/// `gcc -g -c <dir>/<src> -o <dir>/<obj>` in pump mode with `DISTCC_DIR`
/// `ddir`; the object must equal a local compile's. Returns (bodies sent,
/// files in the manifest) from the client's verbose log.
fn job(farm: &Farm, hosts: &str, ddir: &Path, dir: &str, src: &str) -> (u32, u32) {
    let obj = format!("{dir}/{}.o", src.trim_end_matches(".c"));
    let src = format!("{dir}/{src}");
    let args = ["gcc", "-O2", "-g", "-c", &src, "-o", &obj];
    let out = farm.distcc(
        hosts,
        &args,
        &[
            ("DISTCC_PUMP", "1"),
            ("DISTCC_VERBOSE", "1"),
            ("DISTCC_DIR", ddir.to_str().unwrap()),
        ],
    );
    assert_ok(&out, &args.join(" "));
    let log = text(&out.stderr);
    assert!(log.contains("(protocol 3)"), "not in pump mode:\n{log}");
    let remote = farm.work().join(format!("{obj}.remote"));
    std::fs::rename(farm.work().join(&obj), &remote).unwrap();
    assert_ok(&farm.local(&args), "local compile");
    assert_same(&remote, &farm.work().join(&obj));
    let Some(line) = log
        .lines()
        .find(|l| l.contains("pump: header cache: sent "))
    else {
        return (u32::MAX, u32::MAX);
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "sent").unwrap();
    (
        words[at + 1].parse().unwrap(),
        words[at + 3].parse().unwrap(),
    )
}

/// A client (its own `DISTCC_DIR`) that has learnt the daemon speaks the
/// extension: its first job (in 3.4's protocol, or after a probe) finds
/// out.
fn client(farm: &Farm, hosts: &str, name: &str) -> std::path::PathBuf {
    let ddir = farm.path(name);
    std::fs::create_dir_all(&ddir).unwrap();
    farm.write("warm/w.c", "int w;\n");
    job(farm, hosts, &ddir, "warm", "w.c");
    assert!(ddir.join("extension").is_dir(), "nothing learnt");
    ddir
}

#[test]
fn the_header_cache_sends_each_content_once_and_keeps_paths_apart() {
    require_tool!("gcc");
    let farm = Farm::new("hdrcache");
    farm.write("a/main.c", MAIN_C);
    farm.write(
        "a/other.c",
        MAIN_C.replace("twice(LEVEL)", "twice(LEVEL + 1)"),
    );
    farm.write("a/config.h", "#define LEVEL 1\n");
    farm.write("a/util.h", UTIL_H);
    let d = Daemon::start(
        &farm
            .daemon_config(Kind::Ours)
            .args(["--log-level", "debug"]),
    );
    let hosts = d.host(",cpp,lzo");
    let one = client(&farm, &hosts, "ddir-one");
    // Misses: everything goes once.
    assert_eq!(job(&farm, &hosts, &one, "a", "main.c"), (3, 3));
    // Hits: another source with the same headers sends only itself.
    assert_eq!(job(&farm, &hosts, &one, "a", "other.c"), (1, 3));
    // Nothing changed: nothing but the manifest.
    assert_eq!(job(&farm, &hosts, &one, "a", "main.c"), (0, 3));
    // A header changed mid-build: it alone goes again, and the object
    // follows its new text.
    farm.write("a/config.h", "#define LEVEL 2\n");
    assert_eq!(job(&farm, &hosts, &one, "a", "main.c"), (1, 3));
    // Another client whose config.h, at the same path, says otherwise:
    // it gets its own file there (its object equals its local build), and
    // the first client, back to its text, gets its own again unsent.
    let two = client(&farm, &hosts, "ddir-two");
    farm.write("a/config.h", "#define LEVEL 3\n");
    assert_eq!(job(&farm, &hosts, &two, "a", "main.c"), (1, 3));
    farm.write("a/config.h", "#define LEVEL 1\n");
    assert_eq!(job(&farm, &hosts, &one, "a", "main.c"), (0, 3));
    // The same bytes at other paths: keyed by content, nothing is sent.
    std::fs::create_dir_all(farm.work().join("b")).unwrap();
    for f in ["main.c", "config.h", "util.h"] {
        std::fs::copy(farm.work().join("a").join(f), farm.work().join("b").join(f)).unwrap();
    }
    assert_eq!(job(&farm, &hosts, &two, "b", "main.c"), (0, 3));
    let log = d.log_text();
    assert!(
        log.contains("header cache: 3 of 3 files cached, 0 received (0 bytes)"),
        "{log}"
    );
    // Requests by reference (§11): the first without bases, later ones
    // against the texts before them.
    assert!(log.contains("request by reference: 0 bases"), "{log}");
    assert!(log.contains("request by reference: 4 bases"), "{log}");
    assert!(!log.contains("a base is not held"), "{log}");
    assert!(!log.contains("refused"), "{log}");
    // DISTCC_EXTENSION=0: 3.4's protocol 3, every file sent.
    let out = farm.distcc(
        &hosts,
        &["gcc", "-c", "a/main.c", "-o", "a/plain.o"],
        &[
            ("DISTCC_PUMP", "1"),
            ("DISTCC_VERBOSE", "1"),
            ("DISTCC_EXTENSION", "0"),
            ("DISTCC_DIR", one.to_str().unwrap()),
        ],
    );
    assert_ok(&out, "DISTCC_EXTENSION=0");
    assert!(!text(&out.stderr).contains("header cache"));
}

/// A store of 1 MiB and headers of 600 KB: each evicts the other, every
/// job still builds objects equal to local ones, and an evicted header is
/// simply sent again.
#[test]
fn a_tiny_header_cache_evicts_and_still_builds_right() {
    require_tool!("gcc");
    let farm = Farm::new("hdrcache-tiny");
    let big = |name: &str| format!("/* {} */\n#define {name} 1\n", "x".repeat(600 << 10));
    farm.write("t/big1.h", big("BIG1"));
    farm.write("t/big2.h", big("BIG2"));
    farm.write("t/one.c", "#include \"big1.h\"\nint one = BIG1;\n");
    farm.write("t/two.c", "#include \"big2.h\"\nint two = BIG2;\n");
    let d = Daemon::start(&farm.daemon_config(Kind::Ours).args([
        "--log-level",
        "debug",
        "--header-cache-size",
        "1",
    ]));
    let hosts = d.host(",cpp,lzo");
    let ddir = client(&farm, &hosts, "ddir");
    assert_eq!(job(&farm, &hosts, &ddir, "t", "one.c"), (2, 2));
    assert_eq!(job(&farm, &hosts, &ddir, "t", "one.c"), (0, 2));
    // big2.h pushes one.c and big1.h out (the least recently used);
    // one.c then sends both again.
    assert_eq!(job(&farm, &hosts, &ddir, "t", "two.c"), (2, 2));
    assert_eq!(job(&farm, &hosts, &ddir, "t", "one.c"), (2, 2));
    let log = d.log_text();
    let last = log.lines().rfind(|l| l.contains("header cache: ")).unwrap();
    assert!(last.contains("the cache holds 2 files"), "{log}");
    assert!(!last.contains(" 0 evicted so far"), "{log}");
    assert!(!log.contains("refused"), "{log}");
}

/// The client remembers the texts it sent; a daemon that does not hold
/// them (restarted, or evicted them) answers `XMIS` and the job goes on,
/// sent whole, with an object equal to a local compile's.
#[test]
fn a_request_against_bases_the_daemon_lacks_is_sent_whole() {
    require_tool!("gcc");
    let farm = Farm::new("reqref-lost");
    farm.write("a/main.c", MAIN_C);
    farm.write("a/config.h", "#define LEVEL 1\n");
    farm.write("a/util.h", UTIL_H);
    let config = farm
        .daemon_config(Kind::Ours)
        .args(["--log-level", "debug"]);
    let d = Daemon::start(&config);
    let hosts = d.host(",cpp,lzo");
    let ddir = client(&farm, &hosts, "ddir");
    assert_eq!(job(&farm, &hosts, &ddir, "a", "main.c"), (3, 3));
    let sent = ddir.join("pump").join("sent");
    let first = std::fs::read_dir(&sent)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // Another daemon (a fresh store), and this client's texts sent to the
    // first one offered to it as bases.
    let d = Daemon::start(&config);
    let hosts = d.host(",cpp,lzo");
    client(&farm, &hosts, "ddir");
    let second = std::fs::read_dir(&sent)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| *p != first)
        .expect("the second daemon's texts");
    std::fs::copy(&first, &second).unwrap();
    farm.write("a/config.h", "#define LEVEL 2\n");
    assert_eq!(job(&farm, &hosts, &ddir, "a", "main.c"), (3, 3));
    let log = d.log_text();
    assert!(
        log.contains("a base is not held; asked for it whole"),
        "{log}"
    );
    assert!(!log.contains("refused"), "{log}");
    // The text sent whole is a base now.
    assert_eq!(job(&farm, &hosts, &ddir, "a", "main.c"), (0, 3));
    let log = d.log_text();
    assert_eq!(log.matches("a base is not held").count(), 1, "{log}");
}

/// The daemon keeps a pump job's mirror for the next pump job in its job
/// directory (one here: `--jobs 1`): a header the earlier job had, which
/// this client does not have, must not be found there. Both sources
/// include "h.h" through `-Ione -Itwo`: the first job sends one/h.h, the
/// second, after one/h.h is gone, sends two/h.h only, and its object
/// must equal a local build's (LEVEL 2, not 1).
#[test]
fn an_earlier_jobs_header_in_a_kept_mirror_is_never_seen() {
    require_tool!("gcc");
    let farm = Farm::new("kept-mirror");
    let main = "#include \"h.h\"\nint main(void) { return LEVEL; }\n";
    farm.write("k/main.c", main);
    farm.write("k/one/h.h", "#define LEVEL 1\n");
    farm.write("k/two/h.h", "#define LEVEL 2\n");
    let d = Daemon::start(&farm.daemon_config(Kind::Ours).args([
        "--log-level",
        "debug",
        "--jobs",
        "1",
    ]));
    let hosts = d.host(",cpp,lzo");
    let ddir = client(&farm, &hosts, "ddir");
    let args = [
        "gcc", "-Ik/one", "-Ik/two", "-c", "k/main.c", "-o", "k/main.o",
    ];
    let env = [("DISTCC_PUMP", "1"), ("DISTCC_DIR", ddir.to_str().unwrap())];
    for round in 0..2 {
        if round == 1 {
            std::fs::remove_file(farm.work().join("k/one/h.h")).unwrap();
        }
        let out = farm.distcc(&hosts, &args, &env);
        assert_ok(&out, &format!("round {round}"));
        let remote = farm.work().join("k/main.o.remote");
        std::fs::rename(farm.work().join("k/main.o"), &remote).unwrap();
        assert_ok(&farm.local(&args), "local compile");
        assert_same(&remote, &farm.work().join("k/main.o"));
    }
    let log = d.log_text();
    assert!(log.contains("in an earlier job's mirror"), "{log}");
    assert!(!log.contains("refused"), "{log}");
}
