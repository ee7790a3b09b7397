//! init/openrc/distccd.initd run by the real openrc-run (Debian's openrc
//! package) against our distccd: `need net` pulls in a net provider,
//! start_pre creates the log directory and file for the distcc user, the
//! daemon runs as distcc with Gentoo's options and TMPDIR, distcc 3.4's
//! client compiles through it, reload reopens the log, stop ends it, a
//! per-target instance made by `distcc-config --target-daemon` compiles
//! for aarch64, and starts that fail (port in use, bad --allow) are
//! reported as failures.
//!
//! Everything happens in private mount, pid and network namespaces set up
//! by `unshare` (see openrc-test.sh): the host's /etc, /run, /tmp and
//! network are never touched, and every process dies with the namespace.

use super::repo;
use crate::support::{TempDir, bin};
use crate::{require_root, require_tool};
use std::collections::HashMap;
use std::process::Command;

#[test]
fn openrc_starts_and_stops_our_daemon() {
    for tool in [
        "/sbin/openrc-run",
        "unshare",
        "ip",
        "ss",
        "distcc",
        "gcc",
        "aarch64-linux-gnu-gcc",
    ] {
        require_tool!(tool);
    }
    require_root!();
    let scratch = TempDir::new("openrc");
    let daemon = bin("distccd");
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--pid",
            "--fork",
            "--mount-proc",
            "--net",
            "--",
            "bash",
        ])
        .arg(repo().join("tests/packaging/openrc-test.sh"))
        .arg(scratch.path())
        .arg(repo())
        .arg(&daemon)
        .arg(bin("distcc-config"))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "openrc-test.sh failed:\n{text}");
    let got: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    let expect = |key: &str, want: &str| {
        assert_eq!(got.get(key).map(|v| v.trim()), Some(want), "{key}\n{text}");
    };
    // depend(): need net started the provider, which brought lo up.
    expect("DEPTREE", "net avahi-daemon ypbind logger");
    expect("LO_BEFORE", "<LOOPBACK>");
    expect("NET_STATUS", "status: started");
    expect("START", "0");
    // Gentoo's command line, run as the distcc user, TMPDIR exported.
    expect("USER", "distcc");
    let args = got["ARGS"].trim();
    // openrc-test.sh runs a copy of our distccd staged out of /tmp.
    // distccd detaches itself (its parent returns its start-up status)
    // and writes the pid file OpenRC stops it with.
    let want_args = "/mnt/distcc-openrc/distccd --user distcc --daemon --pid-file /run/distccd.pid \
         --port 3632 --log-file /var/log/distccd/distccd.log --log-level notice \
         --allow 192.168.0.0/24 -N 15 --allow 127.0.0.1 \
         --log-file /var/log/distccd.log --log-level info";
    assert_eq!(args, want_args, "{text}");
    expect("TMPDIR", "/tmp");
    expect("LOG_OWNER", "distcc");
    // The systemd units' and logrotate's log directory.
    expect("LOGDIR_OWNER", "distcc");
    expect("LISTENING", "1");
    // Served a compile from distcc 3.4's client.
    expect("COMPILE", "ok");
    expect("LOG_COMPILE_OK", "1");
    // reload: SIGHUP, the daemon reopens its (rotated) log file.
    expect("RELOAD", "0");
    expect("REOPENED", "1");
    expect("STATUS", "started");
    expect("STOP", "0");
    expect("STATUS_AFTER", "status: stopped");
    expect("RUNNING_AFTER", "0");
    // A per-target instance made by distcc-config --target-daemon: the
    // OpenRC link, its own settings on its own port, the toolchain first
    // on the compilers' PATH, and a plain `gcc` job compiled for aarch64.
    expect("TD_CONFIG", "0");
    expect("TD_LINK", "distccd");
    expect(
        "TD_OPTS",
        "--port 3634 --allow 127.0.0.1 --log-file /var/log/distccd/aarch64-linux-gnu.log \
         --log-level notice",
    );
    expect("TD_START", "0");
    expect(
        "TD_ARGS",
        "/mnt/distcc-openrc/distccd --user distcc --daemon --pid-file \
         /run/distccd.aarch64-linux-gnu.pid --port 3634 --allow 127.0.0.1 --log-file \
         /var/log/distccd/aarch64-linux-gnu.log --log-level notice",
    );
    expect("TD_PATH", "/mnt/distcc-openrc/x-tools/bin:/usr/bin:/bin");
    expect("TD_LOG_OWNER", "distcc");
    expect("TD_COMPILE", "ok");
    expect("TD_MACHINE", "183");
    expect("TD_STOP", "0");
    // Failed starts (issue 11: they were reported as started): the port
    // in use, a bad --allow. OpenRC says so, the service stays stopped,
    // distccd's own reason is on the terminal, and the script says where
    // else to look.
    for (key, reason) in [
        ("PORT", "cannot listen on * port 3632"),
        ("ALLOW", "10.0.0.0/33"),
    ] {
        let out: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{key}_OUT: ")))
            .collect();
        let out = out.join("\n");
        assert_ne!(
            got.get(&*format!("{key}_START")).map(|v| v.trim()),
            Some("0"),
            "{key}\n{text}"
        );
        expect(&format!("{key}_STATUS"), "status: stopped");
        assert!(out.contains(reason), "{key}: {reason:?} not in\n{out}");
        assert!(
            out.contains(
                "distccd did not start: its reason is printed above, or in /var/log/distccd.log"
            ),
            "{key}: no hint in\n{out}"
        );
    }
    expect("RUNNING_AFTER_FAILS", "0");
}
