//! `lsdistcc` and `pump` against the oracle: Debian's `lsdistcc` run with
//! the same arguments against the same daemon must print the same lines.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::require_tool;
use crate::support::{GroupChild, TempDir, bin, free_port, wait_for_port};

/// Debian's distccd on 127.0.0.1 only, so 127.0.0.2 refuses connections.
struct RefDaemon {
    _child: GroupChild,
    port: u16,
    _dir: TempDir,
}

impl RefDaemon {
    fn start() -> Self {
        let dir = TempDir::new("lsdistcc");
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o1777),
        )
        .unwrap();
        let port = free_port();
        let child = GroupChild::spawn(
            Command::new("/usr/bin/distccd")
                .args([
                    "--daemon",
                    "--no-detach",
                    "--listen",
                    "127.0.0.1",
                    "--allow",
                    "127.0.0.1",
                ])
                .args([
                    "--port",
                    &port.to_string(),
                    "--log-stderr",
                    "--log-level",
                    "error",
                ])
                .env("TMPDIR", dir.path())
                .stderr(Stdio::null()),
        )
        .expect("start Debian distccd");
        wait_for_port(port, Duration::from_secs(10));
        Self {
            _child: child,
            port,
            _dir: dir,
        }
    }
}

fn lsdistcc(program: &std::path::Path, args: &[String]) -> (i32, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .expect("run lsdistcc");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn lsdistcc_prints_what_debian_lsdistcc_prints() {
    require_tool!("/usr/bin/lsdistcc");
    require_tool!("/usr/bin/distccd");
    let d = RefDaemon::start();
    let port = format!("-r{}", d.port);
    let cases: &[&[&str]] = &[
        &["127.0.0.1", "127.0.0.2"],
        &["-x", "127.0.0.1", "127.0.0.2"],
        &["-x", "-n", "localhost", "127.0.0.2"],
        &["-pgcc", "127.0.0.1"],
        &["-P2", "-pgcc", "127.0.0.1", "127.0.0.2"],
        &["-P3", "-pgcc", "-x", "127.0.0.1"],
        &["-pno-such-compiler", "-x", "127.0.0.1"],
        &["-c0", "127.0.0.2"],
    ];
    for case in cases {
        let mut args = vec![port.clone()];
        args.extend(case.iter().map(|s| s.to_string()));
        let ours = lsdistcc(&bin("lsdistcc"), &args);
        let theirs = lsdistcc(std::path::Path::new("/usr/bin/lsdistcc"), &args);
        // 3.4 prints each host when its answer arrives, so its order
        // varies from run to run; ours is the order given. Same lines.
        assert_eq!(
            (ours.0, sorted_lines(&ours.1)),
            (theirs.0, sorted_lines(&theirs.1)),
            "lsdistcc {args:?}"
        );
    }
}

fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines
}

/// Ours lists hosts in the order given, whichever answers first.
#[test]
fn lsdistcc_keeps_the_order_given() {
    require_tool!("/usr/bin/distccd");
    let d = RefDaemon::start();
    // 127.0.0.2 refuses at once; 127.0.0.1 must finish a probe compile.
    let args: Vec<String> = [format!("-r{}", d.port), "-x".into(), "-pgcc".into()]
        .into_iter()
        .chain(["127.0.0.1", "127.0.0.2", "localhost"].map(String::from))
        .collect();
    let (code, out) = lsdistcc(&bin("lsdistcc"), &args);
    assert_eq!(code, 0);
    let p = d.port;
    assert_eq!(
        out,
        format!("127.0.0.1:{p}\n127.0.0.2:{p},down\nlocalhost:{p}\n")
    );
}

#[test]
fn lsdistcc_latency_follows_each_host() {
    require_tool!("/usr/bin/distccd");
    let d = RefDaemon::start();
    let args = vec![
        format!("-r{}", d.port),
        "-l".into(),
        "-pgcc".into(),
        "127.0.0.1".into(),
    ];
    let (code, out) = lsdistcc(&bin("lsdistcc"), &args);
    assert_eq!(code, 0);
    let line = out.trim();
    let (host, ms) = line
        .split_once(' ')
        .unwrap_or_else(|| panic!("no latency in {line:?}"));
    assert_eq!(host, format!("127.0.0.1:{}", d.port));
    let ms: u64 = ms
        .parse()
        .unwrap_or_else(|_| panic!("latency {ms:?} is not a number"));
    assert!(ms < 10_000, "{ms} ms");
}

#[test]
fn lsdistcc_rejects_bad_options_with_1_as_3_4_does() {
    let (code, out) = lsdistcc(&bin("lsdistcc"), &["-P9".to_string()]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
}

#[test]
fn pump_runs_the_command_in_pump_mode_and_passes_its_status_through() {
    let out = Command::new(bin("pump"))
        .args([
            "sh",
            "-c",
            "echo \"ran $DISTCC_PUMP ${INCLUDE_SERVER_PORT-none}\"; exit 3",
        ])
        .env("DISTCC_HOSTS", "127.0.0.1,cpp,lzo")
        // A 3.4 include server's variable would point the build's
        // discrepancy counter elsewhere: pump's own directory wins.
        .env("INCLUDE_SERVER_PORT", "/tmp/distcc-pump.old/socket")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ran 1 none\n");
    let out = Command::new(bin("pump"))
        .arg("--startup")
        .env("DISTCC_HOSTS", "127.0.0.1,cpp,lzo")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let dir = text
        .strip_prefix("export DISTCC_PUMP='1' DISTCC_PUMP_DIR='")
        .and_then(|t| t.strip_suffix("'\n"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(std::path::Path::new(dir).is_dir(), "{dir}");
    std::fs::write(std::path::Path::new(dir).join("discrepancy_counter"), "@@").unwrap();
    // The clients' include cache goes with the directory.
    std::fs::create_dir(std::path::Path::new(dir).join("includes")).unwrap();
    std::fs::write(
        std::path::Path::new(dir).join("includes/0123456789abcdef"),
        "x",
    )
    .unwrap();
    let out = Command::new(bin("pump"))
        .arg("--shutdown")
        .env("DISTCC_PUMP_DIR", dir)
        .env("DISTCC_MAX_DISCREPANCY", "3")
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 pump-mode jobs failed"), "{err}");
    assert!(!err.contains("plain mode"), "below the limit: {err}");
    assert!(!std::path::Path::new(dir).exists(), "{dir} left behind");
}

#[test]
fn pump_refuses_a_host_list_without_cpp_hosts_like_3_4() {
    for hosts in ["127.0.0.1,lzo localhost", ""] {
        let out = Command::new(bin("pump"))
            .args(["sh", "-c", "echo ran"])
            .env("DISTCC_HOSTS", hosts)
            .env("HOME", "/nonexistent")
            .env_remove("DISTCC_DIR")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{hosts:?}");
        assert!(out.stdout.is_empty(), "the command must not run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("',cpp'"), "{hosts:?}: {err}");
    }
}
