//! Scenario 3: `--allow` CIDRs. A volunteer on network B that allows only
//! network A's subnet refuses the client's B address before reading a byte
//! of its request (the connection is closed without waiting for one); the
//! client falls back to compiling locally and the build still succeeds with
//! correct output; the refusal, naming the client's address, is in the
//! daemon's log. Finally OpenRC stops the service cleanly.

use super::harness::{Net, serial};
use super::s1_make::BUILD_AND_COMPARE;
use super::setup::{self, Service};
use super::{CONFIG, client, farm, node, prepare, project};
use crate::support::TempDir;

pub fn run() {
    let _serial = serial();
    let mut farm = farm!("s3");
    let c = farm.start(&client());
    let v = farm.start(&node("v2", Net::B, 12));
    prepare(&v);
    // Only subnet A may use it; the client reaches it from its B address.
    let svc = Service::main(&[farm.subnet(Net::A)]);
    setup::start_daemon(&v, &svc);
    let vip = v.ip(Net::B).to_string();
    let cip = c.ip(Net::B).to_string();

    // Refused before the request: the daemon closes the connection at once
    // although we send nothing (a daemon waiting for a request would keep
    // it open until `timeout` ends it with 124).
    let probe = c.sh_ok(&format!(
        "exec 3<>/dev/tcp/{vip}/{port}; s=0; timeout 10 cat <&3 >/dev/null || s=$?; echo \"eof-status=$s\"",
        port = svc.port
    ));
    // 0: end of file; 1: reset by the peer. Never 124 (still open).
    let status = probe
        .trim()
        .strip_prefix("eof-status=")
        .unwrap_or(probe.trim());
    assert!(
        status == "0" || status == "1",
        "the refused connection must be closed by the daemon, got {probe:?}"
    );

    setup::set_hosts(&c, CONFIG, &format!("{vip}/4"));
    let tmp = TempDir::new("farm-s3");
    let expect = project::write(tmp.path(), 4, 1, 10);
    c.copy_dir(tmp.path(), "/work/proj");
    let out = c.sh_ok(BUILD_AND_COMPARE);
    assert!(
        out.contains(&expect),
        "program printed {out:?}, want {expect:?}"
    );
    assert!(out.contains("identical"), "{out}");

    let log = setup::daemon_log(&v, &svc);
    let refusals = log
        .lines()
        .filter(|l| l.contains(&cip))
        .filter(|l| {
            let l = l.to_lowercase();
            l.contains("denied") || l.contains("refus") || l.contains("not allowed")
        })
        .count();
    assert!(
        refusals >= 2,
        "the daemon log must show the probe and the build's connections from {cip} refused:\n{log}"
    );
    assert!(
        !log.contains("COMPILE_OK"),
        "nothing may have been compiled for a refused client:\n{log}"
    );

    // The admin stops the service the way it was started.
    setup::stop_daemon(&v, &svc);
}
