//! The client's own counters (issue 15): a real build against our daemon
//! leaves one record per compile in `$DISTCC_DIR/stats/jobs` (remote jobs
//! with their host, bytes and phase times; a fallback with its reason; a
//! job that belongs here), `distccmon-text --summary` adds them up, many
//! clients at once never tear a line, `DISTCC_STATS=0` writes nothing, and
//! 3.4's lock and state files stay as they were.

use std::process::{Child, Command};

use crate::client::harness::{Farm, Kind, assert_ok, text};
use crate::support;

/// The records of the farm's client, as lines.
fn records(farm: &Farm) -> Vec<String> {
    support::read(&farm.path("ddir/stats/jobs"))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The value of `key=` in a record line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let pat = format!(" {key}=");
    let start = line.find(&pat).map(|i| i + pat.len()).expect(key);
    if key == "file" {
        return &line[start..];
    }
    line[start..].split(' ').next().unwrap()
}

fn summary(farm: &Farm, args: &[&str]) -> String {
    let out = Command::new(support::bin("distccmon-text"))
        .arg("--summary")
        .args(args)
        .env_clear()
        .env("DISTCC_DIR", farm.path("ddir"))
        .output()
        .unwrap();
    assert_ok(&out, "distccmon-text --summary");
    text(&out.stdout)
}

#[test]
fn a_build_leaves_one_record_per_compile_and_a_summary() {
    let farm = Farm::new("counters");
    let d = farm.daemon(Kind::Ours);
    let dead = format!("127.0.0.1:{}", support::free_port());
    for (name, body) in [
        ("a.c", "int a(void) { return 1; }\n"),
        ("b.c", "int b(void) { return 2; }\n"),
        ("c.c", "int c(void) { return 3; }\n"),
    ] {
        farm.write(name, body);
    }
    let hosts = format!("{} {}", d.host("/2,lzo"), dead);
    for f in ["a", "b"] {
        let out = farm.distcc(
            &hosts,
            &["gcc", "-c", &format!("{f}.c"), "-o", &format!("{f}.o")],
            &[],
        );
        assert_ok(&out, f);
    }
    // Only the dead host: a fallback, with its reason.
    let out = farm.distcc(&dead, &["gcc", "-c", "c.c", "-o", "c.o"], &[]);
    assert_ok(&out, "fallback");
    assert!(text(&out.stderr).contains("running locally instead"));
    // A job that belongs here.
    let out = farm.distcc(&hosts, &["gcc", "-E", "a.c", "-o", "a.i"], &[]);
    assert_ok(&out, "-E");
    // Off: nothing written.
    let out = farm.distcc(
        &hosts,
        &["gcc", "-c", "a.c", "-o", "a2.o"],
        &[("DISTCC_STATS", "0")],
    );
    assert_ok(&out, "DISTCC_STATS=0");

    let lines = records(&farm);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let lock_id = format!("tcp_127.0.0.1_{}", d.port);
    let dead_id = format!("tcp_{}", dead.replace(':', "_"));
    for (line, file) in lines[..2].iter().zip(["a.c", "b.c"]) {
        assert_eq!(field(line, "ran"), "remote", "{line}");
        assert_eq!(field(line, "host"), lock_id, "{line}");
        assert_eq!(field(line, "file"), file, "{line}");
        assert_eq!(field(line, "exit"), "0", "{line}");
        for key in ["sent", "recv"] {
            let n: u64 = field(line, key).parse().unwrap();
            assert!(n > 100, "{key} in {line}");
        }
        let total: u64 = field(line, "total").parse().unwrap();
        let phases: u64 = ["connect", "cpp", "send", "compile", "receive"]
            .iter()
            .map(|k| field(line, k).parse::<u64>().unwrap())
            .sum();
        assert!(phases <= total + 1 && total > 0, "{line}");
    }
    let fallback = &lines[2];
    assert_eq!(field(fallback, "ran"), "local", "{fallback}");
    assert_eq!(field(fallback, "why"), "hosts-failed", "{fallback}");
    assert_eq!(field(fallback, "failed"), dead_id, "{fallback}");
    assert_eq!(field(fallback, "sent"), "0", "{fallback}");
    assert_eq!(field(&lines[3], "why"), "preprocess-only", "{}", lines[3]);
    assert_eq!(d.wait_compiles(3), 3, "the daemon compiled a, b and a2");

    let sum = summary(&farm, &[]);
    for want in [
        "4 jobs in ",
        ": 2 remote (50%), 2 local, 0 not compiled",
        "fallbacks: 1\n  hosts-failed 1\n",
        "local by choice: preprocess-only 1\n",
    ] {
        assert!(sum.contains(want), "no {want:?} in\n{sum}");
    }
    let host_row = sum
        .lines()
        .find(|l| l.starts_with(&format!("{} ", d.host(""))))
        .unwrap_or_else(|| panic!("no row for the daemon in\n{sum}"));
    let cols: Vec<&str> = host_row.split_whitespace().collect();
    assert_eq!(&cols[1..3], ["2", "0"], "2 jobs, no failure: {host_row}");
    let dead_row = sum
        .lines()
        .find(|l| l.starts_with(&format!("{dead} ")))
        .unwrap();
    assert_eq!(dead_row.split_whitespace().nth(2), Some("1"), "{dead_row}");
    // Records older than the window are left out.
    assert!(summary(&farm, &["--since", "@4000000000"]).starts_with("no jobs recorded"));
    // 3.4's files are those 3.4 writes: lock and backoff files, no more.
    for f in farm.lock_files() {
        assert!(f.starts_with("cpu_") || f.starts_with("backoff_"), "{f}");
    }
}

#[test]
fn concurrent_clients_append_whole_lines() {
    const N: usize = 24;
    let farm = Farm::new("counters-many");
    farm.write("x.c", "int x;\n");
    // A local compile that costs nothing: every client ends at about the
    // same time, so their appends race.
    let hosts = format!("localhost/{N}");
    let kids: Vec<Child> = (0..N)
        .map(|i| {
            farm.command(
                &support::bin("distcc"),
                &hosts,
                &["/bin/true", "-c", "x.c", "-o", &format!("x{i}.o")],
                &[],
            )
            .spawn()
            .unwrap()
        })
        .collect();
    for k in kids {
        assert!(k.wait_with_output().unwrap().status.success());
    }
    let lines = records(&farm);
    assert_eq!(lines.len(), N);
    for l in &lines {
        assert!(l.starts_with("v=1 end="), "{l}");
        assert_eq!(field(l, "why"), "localhost", "{l}");
        assert_eq!(field(l, "file"), "x.c", "{l}");
    }
    let pids: std::collections::BTreeSet<&str> = lines.iter().map(|l| field(l, "pid")).collect();
    assert_eq!(pids.len(), N, "one record per client");
}
