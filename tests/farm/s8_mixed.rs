//! Scenario 8: a mixed fleet. Debian's distcc 3.4 client builds through our
//! volunteer, and our client builds through a volunteer running Debian's
//! distccd 3.4; both builds are byte-identical to local ones and every
//! compile ran on the other side.

use super::harness::{Container, Net, Spec, serial};
use super::s1_make::BUILD_AND_COMPARE;
use super::setup::{self, Service};
use super::{CLIENT_OURS, Impl, client, farm, node, project};
use crate::support::TempDir;

fn build(c: &Container, v: &Container, net: Net, tag: &str) {
    setup::set_hosts(c, Impl::Debian, &format!("{}/4", v.ip(net)));
    let tmp = TempDir::new(tag);
    let expect = project::write(tmp.path(), 6, 2, 10);
    c.copy_dir(tmp.path(), "/work/proj");
    let out = c.sh_ok(&format!("export DISTCC_FALLBACK=0\n{BUILD_AND_COMPARE}"));
    assert!(out.contains(&expect), "{out}");
    assert!(out.contains("identical"), "{out}");
    assert_eq!(setup::compiles_ok(c, v.ip(net), setup::PORT + 1), 9);
}

pub fn run() {
    let _serial = serial();
    let mut farm = farm!("s8");
    let allow = vec![farm.subnet(Net::A), farm.subnet(Net::B)];
    // Debian's client -> our daemon.
    let debian_client = farm.start(&Spec {
        name: "debclient",
        ours: &[],
        nets: vec![(Net::A, 3)],
        ..client()
    });
    let ours_v = farm.start(&Spec {
        ours: &["distccd"],
        ..node("v1", Net::A, 11)
    });
    setup::start_daemon(&ours_v, &Service::main(&allow));
    assert!(debian_client.sh_ok("distcc --version").contains("3.4"));
    build(&debian_client, &ours_v, Net::A, "farm-s8a");

    // Our client -> Debian's daemon.
    let our_client = farm.start(&Spec {
        name: "ourclient",
        ours: CLIENT_OURS,
        nets: vec![(Net::B, 3)],
        ..client()
    });
    let debian_v = farm.start(&Spec {
        ours: &[],
        ..node("v2", Net::B, 12)
    });
    setup::start_daemon(&debian_v, &Service::main(&allow));
    assert!(debian_v.sh_ok("distccd --version").contains("3.4"));
    build(&our_client, &debian_v, Net::B, "farm-s8b");
}
