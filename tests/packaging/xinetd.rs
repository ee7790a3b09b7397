//! init/xinetd/distcc with the real xinetd (Debian's package) starting our
//! distccd in --inetd mode for each connection, in private namespaces (see
//! xinetd-test.sh): distcc 3.4's client compiles through it and the object
//! equals a local compile.

use super::repo;
use crate::support::{TempDir, bin};
use crate::{require_root, require_tool};
use std::process::Command;

#[test]
fn xinetd_serves_compiles_through_distccd_inetd() {
    for tool in ["xinetd", "unshare", "ip", "ss", "distcc", "gcc"] {
        require_tool!(tool);
    }
    require_root!();
    let scratch = TempDir::new("xinetd");
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--pid",
            "--fork",
            "--mount-proc",
            "--net",
        ])
        .args(["--", "bash"])
        .arg(repo().join("tests/packaging/xinetd-test.sh"))
        .arg(scratch.path())
        .arg(repo())
        .arg(bin("distccd"))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "xinetd-test.sh failed:\n{text}");
    for line in ["LISTENING: 1", "COMPILE: ok", "SAME_OBJECT: yes"] {
        assert!(text.lines().any(|l| l == line), "want {line:?}:\n{text}");
    }
}
