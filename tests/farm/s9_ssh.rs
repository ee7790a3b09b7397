//! Scenario 9: the ssh transport between containers. The client's host list
//! is `farm@<volunteer>/4`; the client starts `distccd --inetd` on the
//! volunteer through ssh with a key the test creates. The volunteer runs no
//! TCP daemon at all and the client may not fall back (`DISTCC_FALLBACK=0`),
//! so a successful, byte-identical build proves the jobs went through ssh.

use super::harness::{Net, serial};
use super::s1_make::BUILD_AND_COMPARE;
use super::setup;
use super::{CONFIG, client, farm, node, prepare, project};
use crate::support::TempDir;

pub fn run() {
    let _serial = serial();
    let mut farm = farm!("s9");
    let c = farm.start(&client());
    let v = farm.start(&node("v1", Net::A, 11));
    prepare(&v);
    let vip = v.ip(Net::A).to_string();
    // Keys made by the test: the client's user key, the volunteer's host
    // keys; the volunteer trusts the client's key for user `farm`.
    c.sh_ok(
        "mkdir -p -m 700 /root/.ssh && ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519 \
         && printf 'Host *\\n  StrictHostKeyChecking accept-new\\n  UserKnownHostsFile /root/.ssh/known_hosts\\n  BatchMode yes\\n' > /root/.ssh/config",
    );
    let pubkey = c.sh_ok("cat /root/.ssh/id_ed25519.pub");
    v.sh_ok("useradd --create-home --shell /bin/bash farm && mkdir -p -m 700 /home/farm/.ssh");
    v.write("/home/farm/.ssh/authorized_keys", &pubkey, "0600");
    v.sh_ok("chown -R farm:farm /home/farm/.ssh && ssh-keygen -A && /usr/sbin/sshd");
    assert!(
        !v.sh("ss -Hltn | grep -q ':3632 '").ok(),
        "no TCP distccd may run on the ssh volunteer"
    );
    let whoami = c.sh_ok(&format!("ssh farm@{vip} 'whoami; command -v distccd'"));
    assert!(
        whoami.contains("farm") && whoami.contains("distccd"),
        "{whoami}"
    );

    setup::set_hosts(&c, CONFIG, &format!("farm@{vip}/4"));
    let tmp = TempDir::new("farm-s9");
    let expect = project::write(tmp.path(), 6, 2, 10);
    c.copy_dir(tmp.path(), "/work/proj");
    let out = c.sh_ok(&format!("export DISTCC_FALLBACK=0\n{BUILD_AND_COMPARE}"));
    assert!(out.contains(&expect), "{out}");
    assert!(out.contains("identical"), "{out}");
}
