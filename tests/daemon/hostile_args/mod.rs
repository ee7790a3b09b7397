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

mod reads;
mod runs;
mod stage;
mod writes;

use super::harness::{Kind, Opts};
use stage::Stage;

pub use reads::READS_FILES;
pub use runs::RUN_PROGRAMS;
pub use writes::WRITES_FILES;

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
