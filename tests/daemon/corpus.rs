//! Issue 10's hostile-request corpus, counted: at least 150 cases, and
//! every category the issue names has its table (each table's own tests
//! check that no attacker code runs, nothing is written outside the job,
//! no server file comes back, the daemon answers a valid compile after
//! every case and leaves no file behind).

use super::{hostile, hostile_args, sandbox};

#[test]
fn the_corpus_has_150_cases_in_every_category() {
    let categories: &[(&str, usize)] = &[
        (
            "spellings and aliases of options that run programs",
            hostile_args::RUN_PROGRAMS.len(),
        ),
        (
            "side-output options and writes outside the job",
            hostile_args::WRITES_FILES.len(),
        ),
        (
            "server-file reads and pump-mode paths",
            hostile_args::READS_FILES.len(),
        ),
        ("framing", hostile::FRAMING.len()),
        ("stalls and floods", hostile::STALLS.len()),
        ("what the sandbox confines", sandbox::CASES.len()),
    ];
    for (name, n) in categories {
        assert!(*n >= 10, "{name}: only {n} cases");
    }
    let total: usize = categories.iter().map(|(_, n)| n).sum();
    assert!(total >= 150, "the corpus has {total} cases");
}
