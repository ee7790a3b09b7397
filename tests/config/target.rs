//! `--target-daemon DIR` (issue 11): a distccd per cross target, made the
//! way an Arch Linux ARM volunteer needs it. Here: the files it writes
//! (the settings both service managers read, the OpenRC instance link),
//! the port it picks, what it refuses, and the packaged systemd template
//! verified for the instance by systemd-analyze. The OpenRC instance runs
//! with real openrc-run and compiles for aarch64 in
//! tests/packaging/openrc.rs.

use std::process::Command;

use super::cross::toolchain;
use super::{Root, install_host_programs};
use crate::support::TempDir;

const INSTANCE: &str = "etc/conf.d/distccd.aarch64-linux-gnu";

#[test]
fn writes_the_instance_settings_and_openrc_link() {
    crate::require_tool!("aarch64-linux-gnu-gcc");
    let r = Root::new("gentoo");
    toolchain(&r);
    // The main daemon's settings already use 3634: the next port is taken.
    r.write(
        "etc/conf.d/distccd",
        "DISTCCD_OPTS=\"--port 3634 --allow 10.0.0.0/8\"\n",
    );
    r.write("etc/init.d/distccd", "#!/sbin/openrc-run\n");
    let out = r.run(&[
        "--target-daemon",
        "/opt/x-tools/bin",
        "--allow",
        "192.168.1.0/24",
    ]);
    assert_eq!(out.status, 0, "{out:?}");
    let conf = r.read(INSTANCE);
    assert!(
        conf.contains(
            "\nDISTCCD_OPTS=\"--port 3635 --allow 192.168.1.0/24 --log-file \
             /var/log/distccd/aarch64-linux-gnu.log --log-level notice\"\n"
        ) && conf.contains("\nDISTCCD_PATH=\"/opt/x-tools/bin:/usr/bin:/bin\"\n"),
        "{conf}"
    );
    // systemd's EnvironmentFile: plain NAME="value" lines, nothing to expand.
    for line in conf.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.split_once('=').unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
            "{line}"
        );
        assert!(
            value.starts_with('"') && value.ends_with('"') && !value.contains(['$', '\\', '`']),
            "{line}"
        );
    }
    assert_eq!(
        std::fs::read_link(r.path("etc/init.d/distccd.aarch64-linux-gnu")).unwrap(),
        std::path::Path::new("distccd")
    );
    // The toolchain's links and whitelist, as --cross-links.
    assert!(
        r.listing("opt/x-tools/bin")
            .contains(&"gcc -> aarch64-linux-gnu-gcc".to_owned())
    );
    assert!(
        r.listing("usr/lib/distcc")
            .iter()
            .any(|l| l.starts_with("aarch64-linux-gnu-gcc -> ")),
        "{:?}",
        r.listing("usr/lib/distcc")
    );
    for needle in [
        "rc-update add distccd.aarch64-linux-gnu default",
        "systemctl enable --now distccd@aarch64-linux-gnu",
        "HOST:3635",
    ] {
        assert!(out.stdout.contains(needle), "{needle:?} in {}", out.stdout);
    }
    // Again: the settings are kept, nothing is duplicated.
    let again = r.run(&["--target-daemon", "/opt/x-tools/bin"]);
    assert_eq!(again.status, 0, "{again:?}");
    assert!(again.stdout.contains("Keeping"), "{again:?}");
    assert_eq!(r.read(INSTANCE), conf);
    // --port rewrites it.
    assert_eq!(
        r.run(&["--target-daemon", "/opt/x-tools/bin", "--port", "3700"])
            .status,
        0
    );
    assert!(r.read(INSTANCE).contains("--port 3700 --allow-private"));
}

#[test]
fn refuses_a_shared_program_directory_and_bad_networks() {
    crate::require_tool!("aarch64-linux-gnu-gcc");
    let r = Root::new("arch");
    // /usr/bin with the native gcc next to the cross one: a daemon with it
    // first on PATH would compile plain gcc jobs for x86-64.
    install_host_programs(r.dir.path(), |n| n.contains("gcc"));
    let out = r.run(&[
        "--target-daemon",
        "/usr/bin",
        "--triple",
        "aarch64-linux-gnu",
    ]);
    assert_eq!(out.status, 1, "{out:?}");
    assert!(
        out.stderr.contains("would compile for the wrong target"),
        "{out:?}"
    );
    assert!(!r.path(INSTANCE).exists());
    let r = Root::new("arch");
    toolchain(&r);
    let out = r.run(&[
        "--target-daemon",
        "/opt/x-tools/bin",
        "--allow",
        "10.0.0.0/33",
    ]);
    assert_eq!(out.status, 1, "{out:?}");
    assert!(out.stderr.contains("above 32"), "{out:?}");
    assert!(!r.path(INSTANCE).exists());
}

/// The packaged template, as systemd loads it for the instance.
#[test]
fn systemd_template_verifies_for_the_instance() {
    crate::require_tool!("systemd-analyze");
    let dir = TempDir::new("config-template");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("init/systemd/distccd@.service"),
        dir.path().join("distccd@.service"),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "distccd@aarch64-linux-gnu.service"])
        .env("SYSTEMD_UNIT_PATH", format!("{}:", dir.path().display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
    let unit = std::fs::read_to_string(dir.path().join("distccd@.service")).unwrap();
    for line in [
        "EnvironmentFile=/etc/conf.d/distccd.%i",
        "ExecStart=/usr/bin/distccd --no-detach --daemon $DISTCCD_OPTS",
    ] {
        assert!(unit.contains(line), "{line}");
    }
}
