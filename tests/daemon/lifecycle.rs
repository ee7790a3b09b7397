//! The daemon's life: exit codes, privileges, signals, the compile
//! watchdogs (client disconnect, `--job-lifetime`), the log file on
//! SIGHUP, and `--lifetime`. Cases that describe 3.4 behaviour run against
//! both daemons.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::harness::{
    DEBIAN_DISTCCD, Farm, GOOD_V1, HANG_CC, Kind, Opts, SLOW_CC, exchange, read, text,
};
use super::malformed::{SRC, request};
use crate::support;

mod privileges;

fn program(kind: Kind) -> std::path::PathBuf {
    match kind {
        Kind::Ours => support::bin("distccd"),
        Kind::Debian => DEBIAN_DISTCCD.into(),
    }
}

fn unknown_option_exits_101(kind: Kind) {
    crate::require_debian_distcc!(kind);
    let out = Command::new(program(kind))
        .arg("--no-prefork")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(101));
    assert!(
        text(&out.stderr).contains("distccd: ERROR: --no-prefork: unknown option"),
        "{}",
        text(&out.stderr)
    );
}

fn port_in_use_exits_102(kind: Kind) {
    crate::require_debian_distcc!(kind);
    let farm = Farm::new("port");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut cmd = Command::new(program(kind));
    cmd.args([
        "--daemon",
        "--no-detach",
        "--log-stderr",
        "--listen",
        "127.0.0.1",
    ])
    .args(["--port", &port, "--allow", "127.0.0.1"])
    .env("TMPDIR", farm.path("dtmp"));
    if kind == Kind::Ours {
        cmd.arg("--masquerade-dir").arg(farm.path("masq"));
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(102), "{}", text(&out.stderr));
}

/// A whitelist directory without one compiler link (only the packages'
/// `bin -> .`): every job would be refused, so distccd refuses to start
/// with 3.4's exit status for an unusable whitelist, 110, and says what to
/// run. (3.4 means to do the same for an empty directory, but its test
/// reads the `.` entry and never fires; for a missing /usr/lib/distcc it
/// exits 110, which the second half checks on Debian's distccd.)
#[test]
fn empty_whitelist_refuses_to_start_with_110() {
    let farm = Farm::new("empty-whitelist");
    let empty = farm.path("empty-masq");
    std::fs::create_dir_all(&empty).unwrap();
    std::os::unix::fs::symlink(".", empty.join("bin")).unwrap();
    let out = Command::new(support::bin("distccd"))
        .args([
            "--daemon",
            "--no-detach",
            "--log-stderr",
            "--lifetime",
            "20",
        ])
        .args(["--listen", "127.0.0.1", "--allow", "127.0.0.1"])
        .args(["--port", &support::free_port().to_string()])
        .arg("--masquerade-dir")
        .arg(&empty)
        .env("TMPDIR", farm.path("dtmp"))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(110), "{err}");
    for needle in [
        "has no compiler links",
        empty.to_str().unwrap(),
        "distcc-config --update-masquerade",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }

    // Debian's 3.4 with /usr/lib/distcc hidden (a private mount namespace
    // whose /usr/lib is an empty tmpfs; its libraries are reached through
    // a second view of the real /usr/lib).
    crate::require_tool!(DEBIAN_DISTCCD);
    crate::require_tool!("unshare");
    if !nix::unistd::geteuid().is_root() || !cfg!(target_arch = "x86_64") {
        assert!(!support::ci(), "CI runs the tests as root on x86_64");
        return;
    }
    let view = farm.path("usr-lib");
    let script = format!(
        "mkdir -p {v} && mount --bind /usr/lib {v} && mount -t tmpfs tmpfs /usr/lib && \
         exec {v}/x86_64-linux-gnu/ld-linux-x86-64.so.2 --library-path {v}/x86_64-linux-gnu \
         {DEBIAN_DISTCCD} --daemon --no-detach --log-stderr --allow 127.0.0.1 --port {p}",
        v = view.display(),
        p = support::free_port()
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(110), "{err}");
    assert!(err.contains("/usr/lib/distcc not found"), "{err}");
}

fn slow_request(cc: &str) -> Vec<u8> {
    request(
        1,
        &[cc.as_bytes(), b"-c", b"hello.c", b"-o", b"hello.o"],
        SRC,
    )
}

fn gone(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let stat = read(std::path::Path::new(&format!("/proc/{pid}/stat")));
        if stat.is_empty() || stat.contains(") Z ") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The client half-closes while the compiler runs: compiler killed, reply
/// attempted with STAT 107<<8 (spec §1.5, §4.6).
fn client_disconnect_kills_the_compiler_with_107(kind: Kind) {
    crate::require_debian_distcc!(kind);
    let farm = Farm::new("disconnect");
    let d = farm.daemon(kind, &Opts::default());
    let mut s = std::net::TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    s.write_all(&slow_request(HANG_CC)).unwrap();
    let pid = farm.compiler_pid(HANG_CC).expect("compiler started");
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut reply = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = s.read_to_end(&mut reply);
    assert!(
        reply.starts_with(b"DONE00000001STAT00006b00"),
        "{:?}",
        text(&reply)
    );
    assert!(gone(pid), "compiler {pid} still running");
    if kind == Kind::Ours {
        assert_eq!(d.wait_count("CLI_DISCONN", 1), 1, "{}", d.log_text());
    }
}

/// `--job-lifetime 1`: the compile is killed and STAT is 118<<8.
fn job_lifetime_kills_the_compiler_with_118(kind: Kind) {
    crate::require_debian_distcc!(kind);
    let farm = Farm::new("joblife");
    let opts = Opts {
        args: vec!["--job-lifetime".into(), "1".into()],
        ..Opts::default()
    };
    let d = farm.daemon(kind, &opts);
    let start = Instant::now();
    let reply = exchange(d.port, &slow_request(HANG_CC), false);
    assert!(
        reply.starts_with(b"DONE00000001STAT00007600"),
        "{:?}",
        text(&reply)
    );
    assert!(start.elapsed() < Duration::from_secs(30));
    let pid = farm.compiler_pid(HANG_CC).expect("compiler started");
    assert!(gone(pid), "compiler {pid} still running");
    assert_eq!(d.wait_count("COMPILE_TIMEOUT", 1), 1, "{}", d.log_text());
}

crate::both_daemons!(
    unknown_option_exits_101,
    port_in_use_exits_102,
    client_disconnect_kills_the_compiler_with_107,
    job_lifetime_kills_the_compiler_with_118,
);

/// SIGTERM: stop accepting, let the running job finish and reply, exit 0.
#[test]
fn sigterm_lets_running_jobs_finish() {
    let farm = Farm::new("sigterm");
    let mut d = farm.daemon(Kind::Ours, &Opts::default());
    let port = d.port;
    let job = std::thread::spawn(move || exchange(port, &slow_request(SLOW_CC), false));
    farm.compiler_pid(SLOW_CC).expect("compiler started");
    // Two jobs accepted after it finish before the signal.
    for _ in 0..2 {
        let reply = exchange(port, GOOD_V1, false);
        assert!(reply.starts_with(b"DONE00000001STAT00000000"));
    }
    assert_eq!(d.wait_count("COMPILE_OK", 2), 2);
    d.signal(Signal::SIGTERM);
    assert!(d.wait_log("shutting down"), "{}", d.log_text());
    // The finished jobs are not counted as running; the slow one is.
    assert!(
        d.log_text().contains("waiting for 1 running jobs"),
        "{}",
        d.log_text()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the slow compiler finish: its reply must still arrive.
    std::fs::write(farm.path("run").join(format!("{SLOW_CC}.go")), "").unwrap();
    let reply = job.join().unwrap();
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}",
        text(&reply)
    );
    let status = d.wait_exit(Duration::from_secs(10)).expect("daemon exited");
    assert!(status.success(), "{status}");
    assert!(
        d.log_text().contains("finishing running jobs"),
        "{}",
        d.log_text()
    );
    assert_eq!(
        farm.daemon_temp_entries(),
        0,
        "job directories left after exit"
    );
}

/// A second SIGTERM does not wait: compilers are killed, the daemon exits.
#[test]
fn second_sigterm_kills_running_jobs() {
    let farm = Farm::new("sigterm2");
    let mut d = farm.daemon(Kind::Ours, &Opts::default());
    let port = d.port;
    let job = std::thread::spawn(move || exchange(port, &slow_request(HANG_CC), false));
    let pid = farm.compiler_pid(HANG_CC).expect("compiler started");
    d.signal(Signal::SIGTERM);
    assert!(d.wait_log("finishing running jobs"));
    d.signal(Signal::SIGTERM);
    assert!(
        d.wait_exit(Duration::from_secs(15)).is_some(),
        "daemon did not exit"
    );
    assert!(gone(pid), "compiler {pid} still running");
    let reply = job.join().unwrap();
    assert!(
        !reply.starts_with(b"DONE00000001STAT00000000"),
        "{:?}",
        text(&reply)
    );
    assert!(farm.daemon_temp_files().is_empty());
}

/// logrotate: move the log away, create a new one, SIGHUP.
#[test]
fn sighup_reopens_the_log_file() {
    use std::os::unix::fs::PermissionsExt;
    let farm = Farm::new("sighup");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    let rotated = farm.path("daemon.log.1");
    std::fs::rename(&d.log, &rotated).unwrap();
    std::fs::write(&d.log, "").unwrap();
    std::fs::set_permissions(&d.log, PermissionsExt::from_mode(0o666)).unwrap();
    d.signal(Signal::SIGHUP);
    assert!(d.wait_log("log file reopened"), "{}", read(&rotated));
    assert!(exchange(d.port, GOOD_V1, false).starts_with(b"DONE"));
    assert_eq!(d.wait_count("COMPILE_OK", 1), 1);
    assert!(!read(&rotated).contains("COMPILE_OK"));
}

/// `--lifetime N` ends the daemon by itself.
#[test]
fn lifetime_option_stops_the_daemon() {
    let farm = Farm::new("lifetime");
    let opts = Opts {
        args: vec!["--lifetime".into(), "1".into()],
        ..Opts::default()
    };
    let mut d = farm.daemon(Kind::Ours, &opts);
    let status = d.wait_exit(Duration::from_secs(15)).expect("exited");
    assert!(status.success());
    assert!(d.log_text().contains("--lifetime expired"));
}

/// Detached: the foreground process exits 0 once the daemon serves; the
/// pid file names the daemon, which SIGTERM stops and which removes it.
#[test]
fn detach_writes_the_pid_file_and_removes_it_on_exit() {
    use std::os::unix::fs::PermissionsExt;
    let farm = Farm::new("detach");
    let run = farm.path("pidrun");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::set_permissions(&run, PermissionsExt::from_mode(0o777)).unwrap();
    let pid_file = run.join("distccd.pid");
    let port = support::free_port();
    let out = Command::new(support::bin("distccd"))
        .args([
            "--daemon",
            "--listen",
            "127.0.0.1",
            "--allow",
            "127.0.0.1",
            "--lifetime",
            "300",
        ])
        .args(["--port", &port.to_string(), "--log-file"])
        .arg(farm.path("daemon.log"))
        .arg("--pid-file")
        .arg(&pid_file)
        .arg("--masquerade-dir")
        .arg(farm.path("masq"))
        .env("TMPDIR", farm.path("dtmp"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pid: i32 = read(&pid_file).trim().parse().expect("pid file");
    let _guard = KillOnDrop(pid);
    assert!(
        super::harness::listening(port),
        "not listening once the parent exited"
    );
    assert!(exchange(port, GOOD_V1, false).starts_with(b"DONE00000001STAT00000000"));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    assert!(gone(pid), "daemon {pid} did not exit");
    assert!(!pid_file.exists(), "pid file left behind");
}

struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.0), Signal::SIGKILL);
    }
}

/// `-N` (default 5) and `--oom-score-adj` apply to the daemon, and so to
/// the compilers it starts.
#[test]
fn nice_and_oom_score_are_applied() {
    let farm = Farm::new("nice");
    let opts = Opts {
        args: vec![
            "-N".into(),
            "7".into(),
            "--oom-score-adj".into(),
            "300".into(),
        ],
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    // Field 19 of stat is the nice value (16 after the command name).
    let nice = |pid: &str| -> i32 {
        let stat = read(std::path::Path::new(&format!("/proc/{pid}/stat")));
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
            .split_whitespace()
            .collect();
        fields[16].parse().unwrap()
    };
    let want = (nice("self") + 7).min(19);
    assert_eq!(nice(&d.pid().to_string()), want);
    let oom = read(std::path::Path::new(&format!(
        "/proc/{}/oom_score_adj",
        d.pid()
    )));
    assert_eq!(oom.trim(), "300");
}
