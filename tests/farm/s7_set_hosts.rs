//! Scenario 7: `distcc-config --set-hosts` on the client (as root) writes
//! `/etc/distcc/hosts`, the host list the other scenarios build with; the
//! client reads it (`distcc --show-hosts`) and a build with no
//! `DISTCC_HOSTS` uses every host in it. A bad host list is refused and the
//! file is left as it was.

use super::harness::{Impl, Net, serial};
use super::s1_make::BUILD_AND_COMPARE;
use super::setup;
use super::{CONFIG, farm, project, two_volunteers};
use crate::support::TempDir;

pub fn run() {
    let _serial = serial();
    let mut farm = farm!("s7");
    let (c, v1, v2) = two_volunteers(&mut farm);
    let hosts = format!("{}/4 {}/4,lzo", v1.ip(Net::A), v2.ip(Net::B));
    setup::set_hosts(&c, CONFIG, &hosts);
    let file = c.sh_ok("cat /etc/distcc/hosts");
    assert_eq!(file.trim(), hosts, "/etc/distcc/hosts");
    if CONFIG == Impl::Ours {
        let got = c.sh_ok("distcc-config --get-hosts");
        assert_eq!(got.trim(), hosts, "--get-hosts prints the file's hosts");
        let bad = c.sh("distcc-config --set-hosts '10.0.0.1/4 10.0.0.2:notaport'");
        assert!(!bad.ok(), "a bad host list must be refused: {}", bad.text());
        assert!(
            bad.stderr.contains("notaport"),
            "the error names the token: {}",
            bad.text()
        );
        let after = c.sh_ok("cat /etc/distcc/hosts");
        assert_eq!(
            after, file,
            "a refused host list must leave the file untouched"
        );
    }
    let shown = c.sh_ok("env -u DISTCC_HOSTS distcc --show-hosts");
    for ip in [v1.ip(Net::A), v2.ip(Net::B)] {
        assert!(shown.contains(ip), "--show-hosts must list {ip}: {shown}");
    }

    let tmp = TempDir::new("farm-s7");
    let expect = project::write(tmp.path(), 8, 2, 10);
    c.copy_dir(tmp.path(), "/work/proj");
    let out = c.sh_ok(&format!("unset DISTCC_HOSTS\n{BUILD_AND_COMPARE}"));
    assert!(out.contains(&expect), "{out}");
    assert!(out.contains("identical"), "{out}");
    let done: Vec<u64> = [(&v1, Net::A), (&v2, Net::B)]
        .iter()
        .map(|(v, net)| setup::compiles_ok(&c, v.ip(*net), setup::PORT + 1))
        .collect();
    assert!(
        done.iter().all(|&n| n > 0),
        "both hosts of the list must be used: {done:?}"
    );
    assert_eq!(done.iter().sum::<u64>(), 11, "{done:?}");
}
