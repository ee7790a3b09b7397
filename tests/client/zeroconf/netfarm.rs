//! The discovery tests' network: a bridge in a namespace of its own and a
//! namespace per machine linked to it, daemons started in theirs, all
//! removed on drop.

use std::path::Path;
use std::process::Command;

use super::NET;
use crate::support::{self, GroupChild};

/// A bridge in a namespace of its own, and namespaces `<prefix>-0` (the
/// client, 10.213.0.1) .. `<prefix>-N` (daemons, .2 ..) linked to it.
pub(super) struct NetFarm {
    prefix: String,
    n: usize,
    daemons: Vec<GroupChild>,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        support::text(&out.stderr)
    );
}

impl NetFarm {
    pub(super) fn new(tag: &str, daemons: usize) -> Self {
        let prefix = format!("zc{tag}{}", std::process::id() % 100_000);
        let farm = Self {
            prefix: prefix.clone(),
            n: daemons,
            daemons: Vec::new(),
        };
        let sw = format!("{prefix}-sw");
        ip(&["netns", "add", &sw]);
        ip(&["-n", &sw, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &sw, "link", "set", "br0", "up"]);
        for i in 0..=daemons {
            let ns = farm.ns(i);
            ip(&["netns", "add", &ns]);
            let port = format!("p{i}");
            ip(&[
                "-n", &sw, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
                &ns,
            ]);
            ip(&["-n", &sw, "link", "set", &port, "master", "br0", "up"]);
            let addr = format!("{}/24", farm.addr(i));
            ip(&["-n", &ns, "addr", "add", &addr, "dev", "eth0"]);
            ip(&["-n", &ns, "link", "set", "eth0", "up"]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
        }
        farm
    }

    pub(super) fn ns(&self, i: usize) -> String {
        format!("{}-{i}", self.prefix)
    }

    pub(super) fn addr(&self, i: usize) -> String {
        format!("{NET}.{}", i + 1)
    }

    /// `distccd --zeroconf` in namespace `i`, with a host name of its own
    /// (mDNS names hosts; namespaces share the machine's otherwise).
    pub(super) fn start_daemon(&mut self, i: usize, log: &Path) {
        std::fs::write(log, "").unwrap();
        std::fs::set_permissions(log, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
        let script = format!(
            "hostname zchost{i} && exec {} --daemon --no-detach --zeroconf --jobs 2 \
             --allow {NET}.0/24 --log-level info --log-file {} --lifetime 600",
            support::bin("distccd").display(),
            log.display()
        );
        let child = GroupChild::spawn(Command::new("ip").args([
            "netns",
            "exec",
            &self.ns(i),
            "unshare",
            "--uts",
            "sh",
            "-c",
            &script,
        ]))
        .expect("start distccd");
        self.daemons.push(child);
    }

    /// A command run in the client namespace.
    pub(super) fn client(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns(0), program]);
        c
    }
}

impl Drop for NetFarm {
    fn drop(&mut self) {
        self.daemons.clear();
        for i in 0..=self.n {
            // Whatever we started in there (3.4's zeroconf helper, dbus,
            // avahi): by process id, then the namespace goes.
            let ns = self.ns(i);
            if let Ok(out) = Command::new("ip").args(["netns", "pids", &ns]).output() {
                for pid in support::text(&out.stdout).split_whitespace() {
                    if let Ok(pid) = pid.parse::<i32>() {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                }
            }
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &format!("{}-sw", self.prefix)])
            .status();
    }
}
