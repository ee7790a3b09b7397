//! bench/farm.py (issue 13) keeps working: its `--smoke` run builds six
//! zlib files on a two-host farm in network namespaces with our client and
//! Debian's 3.4 client, and every object must equal a local compile's.
//! A check of the script, not a measurement (bench/RESULTS.md has those).

use std::process::Command;

use crate::support;

#[test]
fn farm_bench_smoke_run_builds_with_both_clients() {
    if !nix::unistd::geteuid().is_root() {
        assert!(!support::ci(), "bench/farm.py needs root under CI=true");
        eprintln!("skipping: bench/farm.py needs root (network namespaces)");
        return;
    }
    crate::require_tool!("/usr/bin/distcc");
    crate::require_tool!("python3");
    crate::require_tool!("tc");
    let bins = support::bin("distcc").parent().unwrap().to_path_buf();
    let started = std::time::Instant::now();
    let out = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/farm.py"))
        .arg("--smoke")
        .arg("--bin-dir")
        .arg(&bins)
        .output()
        .expect("run bench/farm.py");
    let stdout = support::text(&out.stdout);
    assert!(
        out.status.success(),
        "bench/farm.py --smoke: {:?}\n{stdout}\n{}",
        out.status,
        support::text(&out.stderr)
    );
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("| smoke |"))
        .collect();
    // One row per client in the closing table.
    assert_eq!(rows.len(), 2, "{stdout}");
    for client in ["| ours |", "| 3.4 |"] {
        let row = rows.iter().find(|r| r.contains(client)).unwrap();
        assert!(row.ends_with("| yes |"), "objects differ from local: {row}");
        // Every file went to a host (fallback would show as local).
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(cells[12], "0", "local compiles: {row}");
    }
    eprintln!("bench/farm.py --smoke took {:?}", started.elapsed());
}
