//! Where scripts and users depend on distcc 3.4's words and exit codes
//! (issue 11): each test runs Debian's 3.4 and ours the same way and
//! compares what a script would read.

use std::path::Path;
use std::process::{Command, Output};

use super::harness::{Farm, Kind, text};
use crate::{require_tool, support};

const DEBIAN_DISTCC: &str = "/usr/bin/distcc";
const DEBIAN_DISTCCD: &str = "/usr/bin/distccd";

fn run(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
}

/// The first `n` lines of stdout, and the exit code.
fn head(out: &Output, n: usize) -> (Vec<String>, Option<i32>) {
    let lines = text(&out.stdout).lines().take(n).map(str::to_owned).collect();
    (lines, out.status.code())
}

#[test]
fn version_banners_start_with_3_4s_lines() {
    require_tool!(DEBIAN_DISTCC);
    require_tool!(DEBIAN_DISTCCD);
    for (ours, theirs) in [
        (support::bin("distcc"), DEBIAN_DISTCC),
        (support::bin("distccd"), DEBIAN_DISTCCD),
    ] {
        let o = run(&ours, &["--version"]);
        let t = run(Path::new(theirs), &["--version"]);
        // Tools read the first two lines: program, version, host triple;
        // then the protocols and the port.
        assert_eq!(head(&o, 2), head(&t, 2), "{}", text(&o.stdout));
        let third = text(&o.stdout).lines().nth(2).unwrap_or("").to_owned();
        assert!(third.contains("distcc-rs"), "our name: {third}");
        // --help opens with the same banner, as 3.4's does.
        let o = run(&ours, &["--help"]);
        let t = run(Path::new(theirs), &["--help"]);
        assert_eq!(head(&o, 2), head(&t, 2), "{}", text(&o.stdout));
    }
}

#[test]
fn the_daemon_announces_protocol_3() {
    let f = Farm::new("fid-banner");
    let daemon = f.daemon(Kind::Ours);
    assert!(
        daemon.wait_log("protocols 1, 2 and 3"),
        "start-up line: {}",
        daemon.log_text()
    );
}
