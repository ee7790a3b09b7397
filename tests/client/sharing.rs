//! Our client and distcc 3.4's on one machine share slots (spec §3.8: the
//! same `cpu_*` lock files, fcntl locks), and distcc 3.4's monitor shows
//! our running jobs (spec §3.14).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::fake::{Fake, Mode};
use super::harness::{Farm, HELLO, UTIL_H, assert_ok, text};
use crate::{require_tool, support};

const DEBIAN_DISTCC: &str = "/usr/bin/distcc";

fn farm(tag: &str) -> Farm {
    let f = Farm::new(tag);
    f.write("a.c", HELLO);
    f.write("b.c", HELLO);
    f.write("util.h", UTIL_H);
    f
}

fn spawn(f: &Farm, program: &Path, hosts: &str, input: &str) -> Child {
    let out = input.replace(".c", ".o");
    f.command(
        program,
        hosts,
        &["gcc", "-c", input, "-o", &out],
        &[("DISTCC_PAUSE_TIME_MSEC", "50")],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn a client")
}

#[track_caller]
fn wait_until(what: &str, cond: impl FnMut() -> bool) {
    assert!(support::eventually(cond), "timed out waiting for {what}");
}

/// Let `child` finish: keep closing the fake's held connections (the
/// client then falls back to a local compile).
fn finish(fake: &Fake, child: Child) -> std::process::Output {
    let mut child = child;
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "client did not finish");
        fake.release();
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// `first` takes the only slot of a hanging host; `second`, started later
/// on the same DISTCC_DIR, must wait for that slot instead of connecting.
/// (When `first` gives up, it puts the host in backoff, so `second` then
/// compiles locally; 3.4 with a backoff period of 0 would retry forever.)
fn one_slot_is_shared(first: &Path, second: &Path, tag: &str) {
    let f = farm(tag);
    let fake = Fake::start(Mode::Hang);
    let hosts = format!("{}/1", fake.host());
    let a = spawn(&f, first, &hosts, "a.c");
    wait_until("the first client to connect", || fake.count() == 1);
    let mut b = spawn(&f, second, &hosts, "b.c");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        b.try_wait().unwrap().is_none(),
        "the second client must be waiting"
    );
    assert_eq!(
        fake.count(),
        1,
        "the second client connected although the slot was taken"
    );
    let out = finish(&fake, a);
    assert_ok(&out, "first client");
    let out = finish(&fake, b);
    assert_ok(&out, "second client");
    for o in ["a.o", "b.o"] {
        assert!(f.work().join(o).exists(), "{o} missing");
    }
    assert!(
        f.lock_files()
            .contains(&format!("cpu_tcp_127.0.0.1_{}_0", fake.port)),
        "{:?}",
        f.lock_files()
    );
}

#[test]
fn our_client_waits_for_a_slot_held_by_distcc_3_4() {
    require_tool!(DEBIAN_DISTCC);
    one_slot_is_shared(
        Path::new(DEBIAN_DISTCC),
        &support::bin("distcc"),
        "share-34-first",
    );
}

#[test]
fn distcc_3_4_waits_for_a_slot_held_by_our_client() {
    require_tool!(DEBIAN_DISTCC);
    one_slot_is_shared(
        &support::bin("distcc"),
        Path::new(DEBIAN_DISTCC),
        "share-ours-first",
    );
}

fn monitor(program: &Path, f: &Farm) -> String {
    let out = Command::new(program)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", f.path("home"))
        .env("DISTCC_DIR", f.path("ddir"))
        .output()
        .expect("run a monitor");
    assert_ok(&out, "monitor");
    text(&out.stdout)
}

/// Both monitors (3.4's and ours) list a job of our client that is waiting
/// for its server, with 3.4's line format.
#[test]
fn monitors_list_a_running_job_of_our_client() {
    require_tool!("/usr/bin/distccmon-text");
    let f = farm("monitor");
    let fake = Fake::start(Mode::Hang);
    let child = spawn(&f, &support::bin("distcc"), &fake.host(), "a.c");
    let pid = child.id();
    wait_until("the client to connect", || fake.count() == 1);
    let state: PathBuf = f.path(&format!("ddir/state/binstate_{pid}"));
    // 3.4's "%6ld  %-10.10s  %-30.30s %24.24s[%d]".
    let want = format!(
        "{pid:>6}  {:<10}  {:<30} {:>24}[0]",
        "Compile", "a.c", "127.0.0.1"
    );
    let mut seen = String::new();
    wait_until("the job in Debian's distccmon-text", || {
        seen = monitor(Path::new("/usr/bin/distccmon-text"), &f);
        seen.lines().any(|l| l == want)
    });
    let ours = monitor(&support::bin("distccmon-text"), &f);
    assert!(
        ours.lines().any(|l| l == want),
        "our distccmon-text:\n{ours}\nwant:\n{want}"
    );
    assert!(state.exists());
    let out = finish(&fake, child);
    assert_ok(&out, "client");
    assert!(!state.exists(), "state file left behind");
}
