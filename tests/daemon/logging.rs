//! What distccd tells its operator (issue 11): plain words, not Rust's
//! debug notation.

use std::process::{Command, Stdio};

use super::harness::{Farm, Kind, Opts, text};
use crate::support;

fn stats_opts(port: u16, more: &[&str]) -> Opts {
    let mut args: Vec<String> = vec!["--stats".into(), "--stats-port".into(), port.to_string()];
    args.extend(more.iter().map(|s| s.to_string()));
    Opts {
        args,
        ..Opts::default()
    }
}

#[test]
fn log_lines_show_addresses_and_files_not_rust_values() {
    let farm = Farm::new("log-plain");
    let stats_port = support::free_port();
    let d = farm.daemon(Kind::Ours, &stats_opts(stats_port, &[]));
    let want = format!("stats server listening on 127.0.0.1:{stats_port}");
    assert!(d.wait_log(&want), "{}", d.log_text());
    assert!(!d.log_text().contains("Ok("), "{}", d.log_text());
    // A --log-file that cannot be opened: said on stderr in 3.4's words,
    // then syslog takes over.
    let out = Command::new(support::bin("distccd"))
        .args(["--daemon", "--no-detach", "--lifetime", "1"])
        .args(["--listen", "127.0.0.1", "--allow", "127.0.0.1"])
        .args(["--port", &support::free_port().to_string()])
        .arg("--log-file")
        .arg(farm.path("no-such-dir/distccd.log"))
        .env("TMPDIR", farm.path("dtmp"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    let want = format!(
        "failed to open logfile {}: No such file or directory",
        farm.path("no-such-dir/distccd.log").display()
    );
    assert!(err.contains(&want), "{err}");
    assert!(!err.contains("File(") && !err.contains("os error"), "{err}");
}
