//! distccd's command line as 3.4 reads it: both value forms, short
//! options, repeated flags, later upstream options, exit 101.

use super::*;

fn ok(args: &[&str]) -> Cli {
    let mut argv = vec!["distccd"];
    argv.extend_from_slice(args);
    parse(argv).expect("parses")
}

fn fails(args: &[&str]) -> Early {
    let mut argv = vec!["distccd"];
    argv.extend_from_slice(args);
    parse(argv).expect_err("should fail")
}

#[test]
fn clap_definition_is_consistent() {
    command().debug_assert();
}

#[test]
fn both_value_forms_and_short_options_work() {
    let c = ok(&[
        "--port=4000",
        "-j",
        "3",
        "-a",
        "10.0.0.0/8",
        "--allow=::1",
        "-N",
        "-2",
    ]);
    assert_eq!(c.port, Some(4000));
    assert_eq!(c.jobs, Some(3));
    assert_eq!(c.allow, ["10.0.0.0/8", "::1"]);
    assert_eq!(c.nice, Some(-2));
    let c = ok(&["-p4001", "-j4", "--log-level", "debug", "-P", "/run/d.pid"]);
    assert_eq!((c.port, c.jobs), (Some(4001), Some(4)));
    assert_eq!(c.pid_file, Some(PathBuf::from("/run/d.pid")));
}

#[test]
fn flags_may_repeat_like_popt() {
    let c = ok(&[
        "--daemon",
        "--daemon",
        "--no-detach",
        "--no-detach",
        "--stats",
    ]);
    assert!(c.daemon && c.no_detach && c.stats);
}

#[test]
fn later_options_added_upstream_are_accepted() {
    let c = ok(&[
        "--sysroot",
        "/opt/sys",
        "--oom-score-adj",
        "-500",
        "--no-fifo",
    ]);
    assert_eq!(c.sysroot, Some(PathBuf::from("/opt/sys")));
    assert_eq!(c.oom_score_adj, Some(-500));
    let c = ok(&[
        "--make-me-a-botnet",
        "--masquerade-dir",
        "/a",
        "--masquerade-dir=/b",
    ]);
    assert!(c.enable_tcp_insecure);
    assert_eq!(c.masquerade_dir.len(), 2);
}

#[test]
fn sandbox_options() {
    let c = ok(&[
        "--sandbox-allow-path",
        "/var/cache/ccache",
        "--sandbox-allow-path=/opt/cc",
        "--job-memory-limit",
        "2048",
        "--job-file-size-limit=100",
        "--job-process-limit",
        "50",
    ]);
    assert_eq!(c.sandbox_allow_path.len(), 2);
    assert_eq!(c.job_memory_limit, Some(2048));
    assert_eq!(c.job_file_size_limit, Some(100));
    assert_eq!(c.job_process_limit, Some(50));
    assert!(!c.no_sandbox);
    assert!(ok(&["--no-sandbox"]).no_sandbox);
    assert_eq!(
        fails(&["--job-memory-limit", "-1"]),
        Early::Failed(ExitCode::BadArguments)
    );
}

#[test]
fn bad_command_lines_exit_101() {
    for args in [
        &["--no-prefork"][..],
        &["--port", "70000"],
        &["--port", "x"],
        &["--port", "0"],
        &["--stats-port", "0"],
        &["-j", "-1"],
        &["stray"],
        &["--oom-score-adj", "5000"],
    ] {
        assert_eq!(
            fails(args),
            Early::Failed(ExitCode::BadArguments),
            "{args:?}"
        );
    }
}

#[test]
fn version_starts_like_3_4() {
    let v = version_text();
    let first = v.lines().next().unwrap();
    assert!(first.starts_with("distccd 3.4 "), "{first}");
    assert!(first.ends_with("-linux-gnu"), "{first}");
    assert!(v.contains("(protocols 1, 2 and 3) (default port 3632)"));
}
