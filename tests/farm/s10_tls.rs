//! Scenario 10: an authenticated farm (issue 14). Each volunteer makes its
//! key with `distcc-config --tls-keygen daemon`, trusts the client's key
//! and runs distccd with `--tls-required` from `/etc/conf.d/distccd`; the
//! client makes its key, pins both daemons' keys and builds through
//! `tls+` hosts written by `distcc-config --set-hosts`. Every object is
//! compiled remotely and byte-identical to a local build; a clear request
//! to a volunteer is refused with the reason in its log.

use super::harness::{Container, Net, serial};
use super::s1_make::BUILD_AND_COMPARE;
use super::setup::{self, Service};
use super::{CONFIG, farm, project, two_volunteers};
use crate::support::TempDir;

fn fingerprint(out: &str) -> String {
    out.split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .unwrap_or_else(|| panic!("no fingerprint in {out}"))
        .to_owned()
}

/// What an admin does on a volunteer: a key, the client trusted, TLS
/// required in conf.d, the service restarted.
fn require_tls(v: &Container, svc: &Service, client_key: &str) -> String {
    let key = fingerprint(&v.sh_ok("distcc-config --tls-keygen daemon"));
    v.sh_ok(&format!(
        "distcc-config --tls-trust-client {client_key} farm-client"
    ));
    setup::stop_daemon(v, svc);
    v.sh_ok(r#"echo 'DISTCCD_OPTS="${DISTCCD_OPTS} --tls-required"' >> /etc/conf.d/distccd"#);
    v.sh_ok(&format!(
        r#"
/sbin/openrc-run /etc/init.d/distccd start
for i in $(seq 1 50); do
    ss -Hltn "sport = :{port}" | grep -q LISTEN && exit 0
    sleep 0.2
done
cat {log}; exit 1
"#,
        port = svc.port,
        log = svc.log_file()
    ));
    key
}

pub fn run() {
    let _serial = serial();
    let mut farm = farm!("s10");
    let (c, v1, v2) = two_volunteers(&mut farm);
    let svc = Service::main(&[farm.subnet(Net::A), farm.subnet(Net::B)]);
    let client_key = fingerprint(&c.sh_ok("distcc-config --tls-keygen client"));
    let keys: Vec<String> = [&v1, &v2]
        .iter()
        .map(|v| require_tls(v, &svc, &client_key))
        .collect();
    for ((v, net), key) in [(&v1, Net::A), (&v2, Net::B)].iter().zip(&keys) {
        c.sh_ok(&format!(
            "distcc-config --tls-trust-daemon {} {key}",
            v.ip(*net)
        ));
    }
    setup::set_hosts(
        &c,
        CONFIG,
        &format!("tls+{}/4 tls+{}/4,lzo", v1.ip(Net::A), v2.ip(Net::B)),
    );

    let tmp = TempDir::new("farm-s10");
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
        "both volunteers compile: {done:?}"
    );
    // 10 sources and main.c.
    assert_eq!(
        done.iter().sum::<u64>(),
        11,
        "every object remotely: {done:?}"
    );

    // The clear protocol is refused, and the volunteer says why.
    c.sh_ok(&format!(
        "cd /work/proj && DISTCC_HOSTS={} distcc gcc -c m0.c -o /tmp/clear.o",
        v1.ip(Net::A)
    ));
    let log = setup::daemon_log(&v1, &svc);
    assert!(
        log.contains("serves only authenticated TLS clients (--tls-required)"),
        "{log}"
    );
}
