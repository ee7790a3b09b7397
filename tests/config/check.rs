//! --check: one report, exit status 1 when something is wrong.

use std::net::TcpListener;

use super::{Root, script};
use crate::support::free_port;

fn healthy(port: u16) -> Root {
    let r = Root::new("debian");
    r.write(
        "etc/distcc/hosts",
        &format!("# farm\n127.0.0.1:{port}/4,lzo localhost/2\n"),
    );
    std::fs::create_dir_all(r.path("usr/lib/distcc")).unwrap();
    r.write("etc/portage/make.conf", "MAKEOPTS=\"-j6\"\n");
    r
}

#[test]
fn a_healthy_setup_passes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let r = healthy(port);
    let out = r.run(&["--check"]);
    assert_eq!(out.status, 0, "{out:?}");
    for needle in [
        "hosts: 2 host(s), 6 slot(s)",
        &format!("ok: 127.0.0.1:{port}/4,lzo: port {port} answers"),
        "links up to date",
        "MAKEOPTS: -j6 for 6 host slots",
        "note: the masquerade directory is not in PATH",
        "distcc-config: everything checked is fine",
    ] {
        assert!(
            out.stdout.contains(needle),
            "{needle:?} missing:\n{}",
            out.stdout
        );
    }
}

#[test]
fn problems_are_reported_and_fail() {
    let dead = free_port();
    let r = healthy(dead);
    r.write("etc/portage/make.conf", "MAKEOPTS=\"-j2\"\n");
    r.write(
        "etc/conf.d/distccd",
        "DISTCCD_OPTS=\"--allow 10.1.2.3/8\"\n",
    );
    script(&r.path("usr/bin/gcc"), "exit 0");
    let out: super::Run = r
        .cmd()
        .arg("--check")
        .arg("--timeout")
        .arg("0.5")
        .env("PATH", "/usr/bin:/usr/lib/distcc:/bin")
        .output()
        .unwrap()
        .into();
    assert_eq!(out.status, 1, "{out:?}");
    for needle in [
        &format!("problem: 127.0.0.1:{dead}/4,lzo: nothing answers on 127.0.0.1 port {dead}"),
        "problem: /usr/bin comes before /usr/lib/distcc in PATH",
        "warning: ",
        "-j2 is less than the 6 slots",
        "did you mean 10.0.0.0/8?",
    ] {
        assert!(
            out.stdout.contains(needle),
            "{needle:?} missing:\n{}",
            out.stdout
        );
    }
    assert!(out.stderr.contains("problem(s)"), "{out:?}");
}

#[test]
fn a_bad_host_list_is_a_problem_with_its_position() {
    let r = Root::new("gentoo");
    r.write("etc/distcc/hosts", "good\nh,nope\n");
    let out = r.run(&["--check"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stdout.contains(
            "bad host specification \"h,nope\" at line 2, column 2: unknown option \",nope\""
        ),
        "{}",
        out.stdout
    );
    let r = Root::new("gentoo");
    let out = r.run(&["--check"]);
    assert!(out.stdout.contains("problem: no host list"), "{out:?}");
}
