//! --check-allow on each distribution's distccd settings.

use super::Root;

const GENTOO_CONFD: &str = "DISTCCD_OPTS=\"\"\nDISTCCD_EXEC=\"/usr/bin/distccd\"\n\
    DISTCCD_OPTS=\"${DISTCCD_OPTS} --port 3632\"\nDISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 192.168.0.0/24\"\n\
    #DISTCCD_OPTS=\"${DISTCCD_OPTS} --listen 192.168.0.2\"\nDISTCCD_OPTS=\"${DISTCCD_OPTS} -N 15\"\n";

#[test]
fn gentoo_stock_confd_is_fine() {
    let r = Root::new("gentoo");
    r.write("etc/conf.d/distccd", GENTOO_CONFD);
    let out = r.run(&["--check-allow"]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(
        out.stdout.contains("ok: ") && out.stdout.contains("DISTCCD_OPTS: --allow 192.168.0.0/24"),
        "{}",
        out.stdout
    );
}

#[test]
fn bad_values_are_problems_with_their_source() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "etc/conf.d/distccd",
            "DISTCCD_OPTS=\"--allow 192.168.1.5/24\"\n",
            "did you mean 192.168.1.0/24?",
        ),
        (
            "etc/conf.d/distccd",
            "DISTCCD_OPTS=\"--allow 192.168.300.0/24\"\n",
            "not an IP address or host name",
        ),
        (
            "etc/conf.d/distccd",
            "DISTCC_ARGS=\"--allow 0.0.0.0/0\"\n",
            "whole Internet",
        ),
        (
            "etc/conf.d/distccd",
            "DISTCC_ARGS=\"--log-level error\"\n",
            "no --allow",
        ),
        (
            "etc/conf.d/distccd",
            "DISTCC_ARGS=\"--allow-private --listen 203.0.113.9\"\n",
            "not an address of this host",
        ),
        (
            "etc/systemd/system/distccd.service.d/00gentoo.conf",
            "[Service]\nEnvironment=\"ALLOWED_SERVERS=10.0.0.0/8 172.16.0.0/12\"\n",
            "\"172.16.0.0/12\" is not an option",
        ),
        (
            "etc/default/distcc",
            "ALLOWEDNETS=\"127.0.0.1 10.0.0.0/33\"\n",
            "above 32",
        ),
    ];
    for (file, text, needle) in cases {
        let r = Root::new("gentoo");
        r.write(file, text);
        let out = r.run(&["--check-allow"]);
        assert_eq!(out.status, 1, "{file}: {out:?}");
        assert!(
            out.stdout.contains(needle),
            "{file} {text:?}: {}",
            out.stdout
        );
        assert!(
            out.stdout.contains(&r.path(file).display().to_string()),
            "names the file"
        );
        assert_eq!(&r.read(file), text, "check only");
    }
}

#[test]
fn warnings_do_not_fail_and_missing_settings_are_a_note() {
    let r = Root::new("arch");
    r.write(
        "etc/conf.d/distccd",
        "DISTCC_ARGS=\"--allow 198.51.100.0/24\"\n",
    );
    let out = r.run(&["--check-allow"]);
    assert_eq!(out.status, 0);
    assert!(
        out.stdout.contains("warning:") && out.stdout.contains("public addresses"),
        "{out:?}"
    );
    let r = Root::new("debian");
    let out = r.run(&["--check-allow"]);
    assert_eq!(out.status, 0);
    assert!(
        out.stdout.starts_with("note: no distccd settings found"),
        "{out:?}"
    );
}

/// A shipped file of the checkout.
fn shipped(rel: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

#[track_caller]
fn check_allow(r: &Root, status: i32, needles: &[&str]) {
    let out = r.run(&["--check-allow"]);
    assert_eq!(out.status, status, "{out:?}");
    for n in needles {
        assert!(out.stdout.contains(n), "{n:?} not in:\n{}", out.stdout);
    }
}

/// The shipped units and their settings pass, as systemd would run them.
#[test]
fn shipped_units_are_read_as_systemd_runs_them() {
    let r = Root::new("gentoo");
    let unit = "usr/lib/systemd/system/distccd.service";
    r.write(unit, &shipped("init/systemd/gentoo/distccd.service"));
    let dropin = "etc/systemd/system/distccd.service.d/00gentoo.conf";
    r.write(dropin, &shipped("init/systemd/gentoo/00gentoo.conf"));
    let label = format!(
        "{} ExecStart with ALLOWED_SERVERS from {}: --allow 127.0.0.1",
        r.path(unit).display(),
        r.path(dropin).display()
    );
    check_allow(&r, 0, &[&label]);

    let r = Root::new("arch");
    r.write(unit, &shipped("init/systemd/arch/distccd.service"));
    r.write(
        "etc/conf.d/distccd",
        &shipped("init/systemd/arch/distccd.conf.d"),
    );
    check_allow(&r, 0, &["DISTCC_ARGS from", "--allow-private"]);
}

/// What distccd really runs: an ExecStart= override in a drop-in, a full
/// copy of the unit in /etc/systemd/system, the xinetd service.
#[test]
fn overrides_copies_and_xinetd_are_checked() {
    let unit = "usr/lib/systemd/system/distccd.service";
    let cases: &[(&str, &str, &str)] = &[
        (
            "etc/systemd/system/distccd.service.d/override.conf",
            "[Service]\nExecStart=\nExecStart=/usr/bin/distccd --no-detach --daemon --allow 0.0.0.0/0\n",
            "override.conf ExecStart: --allow 0.0.0.0/0 lets the whole Internet",
        ),
        (
            "etc/systemd/system/distccd.service",
            "[Service]\nExecStart=/usr/bin/distccd --no-detach --daemon --allow 10.0.0.0/8 \\\n    --enable-tcp-insecure\n",
            "etc/systemd/system/distccd.service ExecStart: --enable-tcp-insecure turns the compiler whitelist off",
        ),
        (
            "etc/xinetd.d/distcc",
            "service distcc\n{\n\tdisable = no\n\tserver_args = --inetd --log-level info\n}\n",
            "xinetd.d/distcc server_args: no --allow",
        ),
    ];
    for (file, text, needle) in cases {
        let r = Root::new("gentoo");
        r.write(unit, &shipped("init/systemd/gentoo/distccd.service"));
        r.write(
            "etc/systemd/system/distccd.service.d/00gentoo.conf",
            &shipped("init/systemd/gentoo/00gentoo.conf"),
        );
        r.write(file, text);
        check_allow(&r, 1, &[needle]);
    }
    // The shipped xinetd service is fine (disabled, but checked).
    let r = Root::new("gentoo");
    r.write("etc/xinetd.d/distcc", &shipped("init/xinetd/distcc"));
    check_allow(
        &r,
        0,
        &["server_args (service disabled): --allow 192.168.0.0/24"],
    );
}

#[test]
fn insecure_options_are_problems() {
    for opt in ["--enable-tcp-insecure", "--make-me-a-botnet"] {
        let r = Root::new("gentoo");
        r.write(
            "etc/conf.d/distccd",
            &format!("DISTCCD_OPTS=\"--allow 192.168.0.0/24 {opt}\"\n"),
        );
        check_allow(&r, 1, &["CVE-2004-2687"]);
    }
}

/// Arch's conf.d with its DISTCC_ARGS line commented out: distccd gets no
/// --allow; say so and fail (it said "no settings found", exit 0).
#[test]
fn commented_out_distcc_args_is_a_problem() {
    let confd =
        shipped("init/systemd/arch/distccd.conf.d").replace("DISTCC_ARGS=", "#DISTCC_ARGS=");
    let r = Root::new("arch");
    r.write("etc/conf.d/distccd", &confd);
    check_allow(&r, 1, &["DISTCC_ARGS is not set (commented out?)"]);
    // With the unit installed, the same through its EnvironmentFile.
    r.write(
        "usr/lib/systemd/system/distccd.service",
        &shipped("init/systemd/arch/distccd.service"),
    );
    check_allow(
        &r,
        1,
        &[
            "ExecStart (DISTCC_ARGS is not set in",
            "commented out?): no --allow",
        ],
    );
    let out = r.run(&["--check-allow"]);
    assert_eq!(
        out.stdout.matches("DISTCC_ARGS is not set").count(),
        1,
        "{}",
        out.stdout
    );
}
