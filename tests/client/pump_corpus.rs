//! Pump mode is safe system-wide (issue 16): real C and C++ code bases,
//! the ones `-sys` crates of the Rust registry vendor, built with their
//! own flags through `pump make -j4` and our daemon on loopback. Every
//! object must be byte-identical to a local build's, and every job must
//! either go out in pump mode or say why not (preprocessed here, or
//! compiled here): never a failed build, never a silent difference.
//!
//! [`CORPUS`] is the one table. The test suite builds the entries with
//! `fast` flags (a few minutes); `bench/pump-corpus.sh` builds them all at
//! their own flags and prints the table recorded in bench/RESULTS.md.
//!
//! Both builds run with one `SOURCE_DATE_EPOCH`: mimalloc prints
//! `__DATE__` and `__TIME__`, so without it two local builds a second
//! apart differ too (a full run once compared builds a second apart).
//! `PUMP_CORPUS=name,...` builds only those code bases of the full run.
//!
//! Racing is off (`DISTCC_RACE=0`): a job the client also compiled here
//! and won would hide what the server made of it. A job the client
//! compiled here for any reason but a stated one ("running locally
//! because ...", decided before anything was sent) fails the check: a
//! host that failed, went away or timed out is a finding, not a fallback.
//! Code bases build two at a time, each one's local and pump builds side
//! by side, so one long compile (sqlite) does not hold up the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::harness::{Daemon, Farm, Kind, assert_ok, text};
use super::realbuilds::registry_crate;
use crate::support;

mod recipes;
pub use recipes::{CC_FLAGS, CORPUS, Recipe};

/// What happened to one code base.
pub struct Outcome {
    /// The code base, with its optimisation flag if not [`CC_FLAGS`]'.
    pub name: String,
    pub files: usize,
    pub pump: usize,
    /// Preprocessed here (plain mode on the same host), by reason.
    pub plain: BTreeMap<String, usize>,
    /// Compiled here, decided before sending ("running locally because
    /// ..."), by reason.
    pub local: BTreeMap<String, usize>,
    /// Every other job compiled here (a host failed, racing): findings.
    pub failed: Vec<String>,
    /// Objects that differ from the local build's (or are missing).
    pub differ: Vec<String>,
    pub seconds: f64,
}

fn sources(root: &Path, r: &Recipe) -> Vec<String> {
    let mut out = Vec::new();
    for s in r.sources {
        let Some(dir) = s.strip_suffix('/') else {
            out.push(s.to_string());
            continue;
        };
        let mut found: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{}: {dir}: {e}", r.name))
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "c" || e == "cc" || e == "cpp")
            })
            .filter(|p| {
                let stem = p.file_stem().unwrap().to_string_lossy();
                !r.skip.iter().any(|k| stem == *k)
            })
            .map(|p| format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()))
            .collect();
        found.sort();
        out.extend(found);
    }
    out
}

fn object(src: &str) -> String {
    format!("{}.o", src.replace('/', "_"))
}

/// A Makefile building every source to `$(OUT)/<name>.o` with
/// `$(DCC) <cc> <cc_flags> <flags>`, run from the crate's directory.
fn makefile(r: &Recipe, cc_flags: &str, srcs: &[String]) -> String {
    let objs: Vec<String> = srcs
        .iter()
        .map(|s| format!("$(OUT)/{}", object(s)))
        .collect();
    let mut text = format!("all: {}\n", objs.join(" "));
    for (s, o) in srcs.iter().zip(&objs) {
        text.push_str(&format!(
            "{o}: {s}\n\t$(DCC) {} {cc_flags} {} -c {s} -o $@\n",
            r.cc, r.flags
        ));
    }
    text
}

/// The build time both builds see (`__DATE__`, `__TIME__`).
const EPOCH: (&str, &str) = ("SOURCE_DATE_EPOCH", "1700000000");

/// `make -j4` of `mk` into `out`, in `root`: the local build, or with
/// `pump` (hosts, client log) `pump make` with our `distcc`.
fn make(farm: &Farm, root: &Path, mk: &Path, out: &Path, pump: Option<(&str, &Path)>, name: &str) {
    std::fs::create_dir_all(out).unwrap();
    let dcc = match pump {
        Some(_) => support::bin("distcc").display().to_string(),
        None => String::new(),
    };
    let args = [
        "make".to_string(),
        "-s".into(),
        "-j4".into(),
        "-f".into(),
        mk.display().to_string(),
        format!("OUT={}", out.display()),
        format!("DCC={dcc}"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = match pump {
        None => farm.command(Path::new("/usr/bin/make"), "", &args[1..], &[EPOCH]),
        Some((hosts, log)) => farm.command(
            &support::bin("pump"),
            hosts,
            &args,
            &[
                ("DISTCC_VERBOSE", "1"),
                ("DISTCC_LOG", log.to_str().unwrap()),
                ("DISTCC_RACE", "0"),
                EPOCH,
            ],
        ),
    };
    let done = cmd.current_dir(root).output().expect("run make");
    assert_ok(&done, &format!("{name}: make DCC={dcc}"));
    assert!(
        !text(&done.stderr).contains("pump-mode job"),
        "{name}: discrepancies:\n{}",
        text(&done.stderr)
    );
}

/// Builds `r` (its sources in `root`) with `cc_flags` locally and through
/// `pump make` against `hosts`, both at once.
pub fn build(farm: &Farm, hosts: &str, r: &Recipe, cc_flags: &str, root: &Path) -> Outcome {
    let start = std::time::Instant::now();
    let srcs = sources(root, r);
    assert!(!srcs.is_empty(), "{}: no sources", r.name);
    let (name, tag) = match cc_flags {
        CC_FLAGS => (r.name.to_string(), r.krate.to_string()),
        _ => {
            let opt = cc_flags.split(' ').next().unwrap();
            (format!("{} ({opt})", r.name), format!("{}{opt}", r.krate))
        }
    };
    let mk = farm.path(&format!("{tag}.mk"));
    std::fs::write(&mk, makefile(r, cc_flags, &srcs)).unwrap();
    let (reference, pumped) = (
        farm.path(&format!("{tag}-local")),
        farm.path(&format!("{tag}-pump")),
    );
    let log = farm.path(&format!("{tag}-client.log"));
    std::thread::scope(|s| {
        s.spawn(|| make(farm, root, &mk, &reference, None, &name));
        make(
            farm,
            root,
            &mk,
            &pumped,
            Some((hosts, log.as_path())),
            &name,
        );
    });
    // Reasons name files by absolute path: relative to the crate, as the
    // table shows them.
    let log = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .replace(&format!("{}/", root.display()), "");
    let mut o = tally(name, &srcs, &log);
    for s in &srcs {
        let obj = object(s);
        let local = std::fs::read(reference.join(&obj)).unwrap_or_default();
        if local.is_empty() || std::fs::read(pumped.join(&obj)).ok() != Some(local) {
            o.differ.push(obj);
        }
    }
    o.seconds = start.elapsed().as_secs_f64();
    o
}

/// What the client's verbose log says of each job of `srcs`.
fn tally(name: String, srcs: &[String], log: &str) -> Outcome {
    let mut o = Outcome {
        name,
        files: srcs.len(),
        pump: 0,
        plain: BTreeMap::new(),
        local: BTreeMap::new(),
        failed: Vec::new(),
        differ: Vec::new(),
        seconds: 0.0,
    };
    for s in srcs {
        if log.contains(&format!("pump: {s} needs ")) {
            o.pump += 1;
        } else if let Some((_, why)) = log
            .lines()
            .find_map(|l| l.split_once(&format!("pump: preprocessing {s} here because ")))
        {
            *o.plain.entry(why.to_string()).or_default() += 1;
        }
    }
    for l in log.lines() {
        if let Some((_, why)) = l.split_once("running locally because ") {
            *o.local.entry(why.to_string()).or_default() += 1;
        } else if l.contains("running locally") || l.contains("compiling here") {
            o.failed.push(l.to_string());
        }
    }
    o
}

/// The checks every code base must pass: each job accounted for (sent,
/// or kept here for a stated reason), each object identical.
pub fn check(o: &Outcome) {
    assert!(
        o.differ.is_empty(),
        "{}: objects differ: {:?}",
        o.name,
        o.differ
    );
    assert!(
        o.failed.is_empty(),
        "{}: jobs compiled here without a stated reason: {:#?}",
        o.name,
        o.failed
    );
    let plain: usize = o.plain.values().sum();
    let local: usize = o.local.values().sum();
    assert_eq!(
        o.pump + plain + local,
        o.files,
        "{}: {} pump, plain {:?}, local {:?}",
        o.name,
        o.pump,
        o.plain,
        o.local
    );
}

fn reasons(by: &BTreeMap<String, usize>) -> String {
    if by.is_empty() {
        return "-".to_string();
    }
    by.iter()
        .map(|(why, n)| format!("{n}: {why}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A row of the results table.
pub fn row(o: &Outcome) -> String {
    let local: usize = o.local.values().sum();
    let local = match local + o.failed.len() {
        0 => "0".to_string(),
        _ if o.failed.is_empty() => format!("{local} ({})", reasons(&o.local)),
        n => format!("{n} ({}; {} failed)", reasons(&o.local), o.failed.len()),
    };
    format!(
        "| {} | {} | {} | {} | {} | {} | {:.0} s |",
        o.name,
        o.files,
        o.pump,
        reasons(&o.plain),
        local,
        o.files - o.differ.len(),
        o.seconds
    )
}

/// The daemon for a run: its `--lifetime` covers the whole corpus (the
/// default 15 minutes ran out during sqlite's compile once).
fn daemon(farm: &Farm, all: bool) -> Daemon {
    let hours = if all { 6 } else { 1 };
    Daemon::start(
        &farm
            .daemon_config(Kind::Ours)
            .lifetime(Duration::from_secs(hours * 3600)),
    )
}

fn run(all: bool) {
    crate::require_tool!("gcc");
    crate::require_tool!("g++");
    crate::require_tool!("make");
    crate::require_tool!("cargo");
    let farm = Farm::new("pump-corpus");
    let daemon = daemon(&farm, all);
    let hosts = daemon.host(",cpp,lzo");
    // The benchmark's own knob, not an environment distcc reads.
    #[allow(clippy::disallowed_methods)]
    let only = std::env::var("PUMP_CORPUS").ok();
    let mut chosen: Vec<(&Recipe, &str)> = match all {
        true => CORPUS
            .iter()
            .filter(|r| {
                only.as_ref()
                    .is_none_or(|o| o.split(',').any(|n| n == r.name))
            })
            .map(|r| (r, CC_FLAGS))
            .collect(),
        false => CORPUS
            .iter()
            .flat_map(|r| r.fast.iter().map(move |f| (r, *f)))
            .collect(),
    };
    chosen.sort_by_key(|(r, _)| !r.heavy);
    // Fetched one after another: `registry_crate` reuses one project.
    let roots: Vec<PathBuf> = chosen
        .iter()
        .map(|(r, _)| registry_crate(&farm, r.krate, r.version))
        .collect();
    let next = std::sync::Mutex::new(chosen.iter().zip(&roots));
    let done = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some(((r, flags), root)) = next.lock().unwrap().next() else {
                        break;
                    };
                    let o = build(&farm, &hosts, r, flags, root);
                    eprintln!("{}", row(&o));
                    done.lock().unwrap().push(o);
                }
            });
        }
    });
    let mut outcomes = done.into_inner().unwrap();
    outcomes.sort_by_key(|o| {
        let base = CORPUS.iter().position(|r| o.name.starts_with(r.name));
        (base, o.name.clone())
    });
    let mut rows = vec![
        "| code base | files | pump mode | preprocessed here (reason) | compiled here | identical objects | time |".to_string(),
        "|---|---:|---:|---|---:|---:|---:|".to_string(),
    ];
    rows.extend(outcomes.iter().map(row));
    println!("{}", rows.join("\n"));
    for o in &outcomes {
        check(o);
    }
}

#[test]
fn pump_builds_of_real_code_bases_match_local_builds() {
    run(false);
}

/// The whole corpus (`bench/pump-corpus.sh`): too slow for the suite.
#[test]
#[ignore]
fn pump_corpus_full() {
    run(true);
}

/// A job a host failed and the client then compiled here fails the
/// check: an earlier full run lost its daemon half way (connection
/// refused) and counted those jobs as compiled here with a reason.
#[test]
fn a_host_failure_is_a_finding_not_a_fallback() {
    let srcs = ["a.c", "b.c", "c.c"].map(String::from);
    let clean = "distcc[1] pump: a.c needs 3 files and 1 directories\n\
                 distcc[2] pump: preprocessing b.c here because computed #include at b.c:3\n\
                 distcc[3] running locally because -E\n";
    let o = tally("clean".into(), &srcs, clean);
    assert_eq!((o.pump, o.plain.len(), o.local.len()), (1, 1, 1));
    check(&o);
    let lost = format!(
        "{clean}distcc[2] 127.0.0.1:3632: connection refused; \
         failed to distribute b.c, running locally instead\n"
    );
    let o = tally("lost".into(), &srcs, &lost);
    assert_eq!(o.failed.len(), 1, "{:?}", o.failed);
    assert!(std::panic::catch_unwind(|| check(&o)).is_err());
}
