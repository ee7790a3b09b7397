//! Started as root, the daemon runs as another user: the one `--user`
//! names, else the packaged account, with its log file opened before root
//! is dropped.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::daemon::harness::{Farm, GOOD_V1, Kind, Opts, exchange, read, text};
use crate::support;

/// `Uid:` and `Gid:` lines of /proc/PID/status: real, effective, saved, fs.
fn ids(pid: i32) -> (Vec<u32>, Vec<u32>) {
    let status = read(std::path::Path::new(&format!("/proc/{pid}/status")));
    let field = |name: &str| -> Vec<u32> {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| {
                l[name.len()..]
                    .split_whitespace()
                    .map(|n| n.parse().unwrap())
                    .collect()
            })
            .unwrap_or_default()
    };
    (field("Uid:"), field("Gid:"))
}

/// Started as root, the daemon really runs as another user (all four ids).
fn started_as_root_runs_as_another_uid(kind: Kind) {
    crate::require_debian_distcc!(kind);
    if !nix::unistd::geteuid().is_root() {
        assert!(!support::ci(), "CI runs the tests as root");
        eprintln!("skipping: not root");
        return;
    }
    let farm = Farm::new("uid");
    let d = farm.daemon(kind, &Opts::default());
    let (uids, gids) = ids(d.pid());
    assert_eq!(uids.len(), 4);
    assert!(uids.iter().all(|u| *u != 0), "uids {uids:?}");
    assert!(gids.iter().all(|g| *g != 0), "gids {gids:?}");
    // And it still compiles as that user.
    let reply = exchange(d.port, GOOD_V1, false);
    assert!(
        reply.starts_with(b"DONE00000001STAT00000000"),
        "{}",
        d.log_text()
    );
}

#[test]
fn user_option_picks_the_account() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let farm = Farm::new("user");
    let opts = Opts {
        args: vec!["--user".into(), "daemon".into()],
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    let daemon_uid = nix::unistd::User::from_name("daemon").unwrap().unwrap().uid;
    assert_eq!(ids(d.pid()).0, vec![daemon_uid.as_raw(); 4]);
    let bad = Command::new(support::bin("distccd"))
        .args([
            "--daemon",
            "--no-detach",
            "--log-stderr",
            "--user",
            "no-such-user-x",
        ])
        .args([
            "--port",
            &support::free_port().to_string(),
            "--masquerade-dir",
        ])
        .arg(farm.path("masq"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(112), "{}", text(&bad.stderr));
}

/// Started as root without --user, the daemon takes the distribution's
/// packaged account: `distcc` (3.4, Gentoo, Arch) or Debian's `distccd`,
/// before `nobody` (issue 11: on Debian it ran as nobody).
#[test]
fn default_user_is_the_packaged_account() {
    if !nix::unistd::geteuid().is_root() {
        assert!(!support::ci(), "CI runs the tests as root");
        return;
    }
    let account = ["distcc", "distccd"]
        .into_iter()
        .find_map(|n| nix::unistd::User::from_name(n).unwrap());
    let Some(account) = account else {
        // Debian's distcc package (installed by scripts/install-test-deps)
        // creates distccd.
        assert!(!support::ci(), "no distcc or distccd account under CI");
        return;
    };
    let farm = Farm::new("default-user");
    let d = farm.daemon(Kind::Ours, &Opts::default());
    assert_eq!(
        ids(d.pid()).0,
        vec![account.uid.as_raw(); 4],
        "want {}\n{}",
        account.name,
        d.log_text()
    );
}

/// The log file is opened before root is dropped (3.4 opens it after, and
/// then cannot write into a root-only directory such as /var/log).
#[test]
fn log_file_in_a_root_only_directory_is_written() {
    use std::os::unix::fs::PermissionsExt;
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let farm = Farm::new("rootlog");
    let dir = farm.path("varlog");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, PermissionsExt::from_mode(0o755)).unwrap();
    let log = dir.join("distccd.log");
    let opts = Opts {
        args: vec!["--log-file".into(), log.display().to_string()],
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    assert!(ids(d.pid()).0.iter().all(|u| *u != 0), "still root");
    assert!(exchange(d.port, GOOD_V1, false).starts_with(b"DONE00000001STAT00000000"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !read(&log).contains(" COMPILE_OK ") {
        assert!(
            Instant::now() < deadline,
            "nothing logged to {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

crate::both_daemons!(started_as_root_runs_as_another_uid);
