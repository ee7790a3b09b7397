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
