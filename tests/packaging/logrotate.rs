//! init/logrotate/distccd against our running distccd: real logrotate
//! renames the log and its postrotate signals the daemon (SIGHUP) through
//! the pid file, and the daemon goes on writing to a fresh file. This is
//! why the file uses rename + SIGHUP rather than copytruncate.

use super::{repo, run_ok};
use crate::require_tool;
use crate::support::{TempDir, bin, free_port};
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[track_caller]
fn wait_for(what: &str, ok: impl FnMut() -> bool) {
    assert!(
        crate::support::eventually(ok),
        "timed out waiting for {what}"
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn logrotate_rotates_and_the_daemon_reopens_its_log() {
    require_tool!("logrotate");
    let dir = TempDir::new("logrotate-live");
    let d = dir.path();
    for sub in ["log", "run", "masq", "tmp"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    // distccd refuses a whitelist without compiler links.
    std::os::unix::fs::symlink("/usr/bin/gcc", d.join("masq/gcc")).unwrap();
    let log = d.join("log/distccd.log");
    let pid = d.join("run/distccd.pid");
    let port = free_port();
    // The daemon's user owns the new log file (`create ... distcc distcc` in
    // the shipped file): started as root it switches to --user.
    let (user, group) = if nix::unistd::getuid().is_root() {
        ("nobody".to_string(), "nogroup".to_string())
    } else {
        let u = nix::unistd::User::from_uid(nix::unistd::getuid())
            .unwrap()
            .unwrap();
        let g = nix::unistd::Group::from_gid(nix::unistd::getgid())
            .unwrap()
            .unwrap();
        (u.name, g.name)
    };
    let daemon = KillOnDrop(
        Command::new(bin("distccd"))
            .args(["--user", &user])
            .args([
                "--daemon",
                "--no-detach",
                "--allow",
                "127.0.0.1",
                "--log-level",
                "info",
            ])
            .arg("--port")
            .arg(port.to_string())
            .arg("--log-file")
            .arg(&log)
            .arg("--pid-file")
            .arg(&pid)
            .arg("--masquerade-dir")
            .arg(d.join("masq"))
            .env("TMPDIR", d.join("tmp"))
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the pid file", || read(&pid).trim().parse::<u32>().is_ok());
    assert_eq!(read(&pid).trim(), daemon.0.id().to_string());
    wait_for("a first log line", || !read(&log).is_empty());
    let before = read(&log);

    // The shipped file, with its paths moved into the scratch directory
    // and the log owner changed to the daemon's user.
    let conf = std::fs::read_to_string(repo().join("init/logrotate/distccd"))
        .unwrap()
        .replace("/var/log/", &format!("{}/", d.join("log").display()))
        .replace(
            "/run/distccd",
            &format!("{}/distccd", d.join("run").display()),
        )
        .replace(
            "create 0640 distcc distcc",
            &format!("create 0640 {user} {group}"),
        );
    assert!(conf.contains(&*pid.to_string_lossy()), "{conf}");
    let conf_path = d.join("logrotate.conf");
    std::fs::write(&conf_path, conf).unwrap();
    run_ok(
        Command::new("logrotate")
            .arg("--force")
            .arg("--state")
            .arg(d.join("state"))
            .arg(&conf_path),
    );

    // Renamed (delaycompress keeps .1 plain), and the daemon, told by
    // postrotate, writes its next lines to a new distccd.log.
    let rotated = d.join("log/distccd.log.1");
    assert!(
        read(&rotated).starts_with(&before),
        "rotated file:\n{}",
        read(&rotated)
    );
    wait_for("the daemon to log to the new file", || {
        read(&log).contains("SIGHUP: log file reopened")
    });
    assert!(!read(&rotated).contains("SIGHUP"), "{}", read(&rotated));
}
