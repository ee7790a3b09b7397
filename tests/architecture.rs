//! The pure core must not do I/O (style.md, "The house"): protocol, args,
//! hosts, state, access and pump mode's pure modules import no tokio and
//! no std::{net, fs, process, env}. Checked textually so the boundary stays true without anyone
//! remembering it.

use std::path::Path;

const PURE: &[&str] = &[
    "src/protocol",
    "src/args",
    "src/hosts",
    "src/state",
    "src/access.rs",
    "src/fnv.rs",
    "src/compiler_id/mod.rs",
    "src/compiler_id/entry.rs",
    // Pump mode's pure parts: the #include lexer, the server's checks of
    // client paths and arguments, the .d re-flow.
    "src/pump/includes/lexer.rs",
    "src/pump/includes/chars.rs",
    "src/pump/includes/directives.rs",
    "src/daemon/mirror.rs",
    "src/daemon/pumpargs.rs",
    "src/client/local/dotd.rs",
    // The monitors' decisions: the client's records added up, the
    // full-screen monitor's model, layout and drawing, /metrics.
    "src/monitor/summary.rs",
    "src/monitor/tui/model.rs",
    "src/monitor/tui/model/input.rs",
    "src/monitor/tui/layout.rs",
    "src/monitor/tui/view.rs",
    "src/daemon/stats/prometheus.rs",
    // Zeroconf names, TXT records and host lines.
    "src/zeroconf/records.rs",
];
const FORBIDDEN: &[&str] = &[
    "tokio",
    "std::net",
    "std::fs",
    "std::process",
    "std::env",
    "File::",
    "Command::",
];

fn rust_files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") && !is_test_module(path) {
        out.push(path.to_path_buf());
    }
}

/// Test modules in files of their own (`tests.rs`, `*_tests.rs`) may run
/// the real compilers and read fixtures, like `#[cfg(test)]` blocks.
fn is_test_module(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "tests.rs" || n.ends_with("_tests.rs"))
}

/// Lines of the Rust files under `dirs` (test modules excepted: they may
/// read fixtures) that mention a forbidden name.
fn offences(dirs: &[&str], forbidden: &[&str], min_files: usize) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for p in dirs {
        rust_files(&root.join(p), &mut files);
    }
    assert!(
        files.len() >= min_files,
        "pure files not found in {dirs:?}: {files:?}"
    );
    let mut out = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for bad in forbidden {
                if line.contains(bad) {
                    out.push(format!("{}:{}: {bad}", f.display(), n + 1));
                }
            }
        }
    }
    out
}

#[test]
fn pure_core_imports_no_io() {
    let found = offences(PURE, FORBIDDEN, 5);
    assert!(
        found.is_empty(),
        "I/O in the pure core:\n{}",
        found.join("\n")
    );
}

/// distcc-config's `ops` are its pure core too: besides the library's
/// rules, no file helpers of its own (`fsio`) and no prompts.
#[test]
fn distcc_config_ops_do_no_io() {
    let forbidden: Vec<&str> = FORBIDDEN
        .iter()
        .copied()
        .chain(["fsio::", "dialoguer"])
        .collect();
    let found = offences(&["distcc-config/ops"], &forbidden, 10);
    assert!(
        found.is_empty(),
        "I/O in distcc-config/ops:\n{}",
        found.join("\n")
    );
}
