//! SSH hosts (spec §2.3): a real sshd on 127.0.0.1 with keys this test
//! creates; distcc runs `ssh ... distccd --inetd --enable-tcp-insecure` and
//! the objects must equal local builds, with Debian's distccd 3.4 and ours
//! at the far end.
//!
//! sshd needs its privilege-separation directory `/run/sshd`. When the
//! machine lacks it and we are root, sshd runs in a private mount
//! namespace with a tmpfs on /run, so nothing on the system changes.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::harness::{Farm, assert_ok, assert_same, listening, read, text};
use crate::{require_tool, support};

struct Sshd {
    child: Child,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", ""])
        .arg("-f")
        .arg(path)
        .output()
        .expect("ssh-keygen");
    assert_ok(&out, "ssh-keygen");
}

fn start_sshd(f: &Farm) -> Sshd {
    let dir = f.path("ssh");
    std::fs::create_dir_all(&dir).unwrap();
    keygen(&dir.join("hostkey"));
    keygen(&dir.join("userkey"));
    std::fs::copy(dir.join("userkey.pub"), dir.join("authorized_keys")).unwrap();
    let root = nix::unistd::geteuid().is_root();
    for _ in 0..5 {
        let port = support::free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/hostkey\n\
             AuthorizedKeysFile {d}/authorized_keys\nPidFile {d}/sshd.pid\n\
             StrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n",
            d = dir.display()
        );
        std::fs::write(dir.join("sshd_config"), config).unwrap();
        let sshd = format!("exec /usr/sbin/sshd -D -e -f {}/sshd_config", dir.display());
        let mut cmd = if root && !Path::new("/run/sshd").is_dir() {
            let mut c = Command::new("unshare");
            c.args(["--mount", "--propagation", "private", "sh", "-c"])
                .arg(format!(
                    "mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && {sshd}"
                ));
            c
        } else {
            let mut c = Command::new("sh");
            c.arg("-c").arg(&sshd);
            c
        };
        let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0);
        let mut child = cmd.spawn().expect("start sshd");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && !listening(port) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if listening(port) {
            return Sshd { child, port };
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("sshd did not start: {}", read(&dir.join("sshd.log")));
}

#[test]
fn ssh_hosts_with_debians_and_our_distccd() {
    require_tool!("/usr/sbin/sshd");
    require_tool!("ssh");
    require_tool!("ssh-keygen");
    require_tool!("/usr/bin/distccd");
    let f = Farm::with_hello("ssh");
    f.write(
        "app.cc",
        "#include <vector>\nint size() { std::vector<int> v(3); return v.size(); }\n",
    );
    let sshd = start_sshd(&f);
    let key = f.path("ssh/userkey");
    // DISTCC_SSH is split on spaces (spec §2.3), so options go in it.
    let ssh = format!(
        "ssh -p {} -i {} -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
        sshd.port,
        key.display()
    );
    let user = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .unwrap()
        .unwrap()
        .name;
    let ours = support::bin("distccd");
    let hosts = [
        format!("{user}@127.0.0.1"),
        "@127.0.0.1,lzo".to_owned(),
        format!("@127.0.0.1:{}", ours.display()),
        format!("{user}@127.0.0.1/2:{},lzo", ours.display()),
    ];
    let cases: [(&[&str], &[&str]); 2] = [
        (
            &["gcc", "-O2", "-c", "hello.c", "-o", "hello.o"],
            &["hello.o"],
        ),
        (
            &["g++", "-MD", "-c", "app.cc", "-o", "sub/app.o"],
            &["sub/app.o", "sub/app.d"],
        ),
    ];
    std::fs::create_dir_all(f.work().join("sub")).unwrap();
    let accepted = || {
        read(&f.path("ssh/sshd.log"))
            .matches("Accepted publickey")
            .count()
    };
    for host in &hosts {
        for (args, outputs) in cases {
            let before = accepted();
            f.local(args);
            for o in outputs {
                std::fs::rename(f.work().join(o), f.work().join(format!("{o}.local"))).unwrap();
            }
            let out = f.distcc(host, args, &[("DISTCC_SSH", &ssh)]);
            assert_ok(&out, &format!("{host}: {args:?}"));
            let err = text(&out.stderr);
            assert!(
                !err.contains("running locally"),
                "{host}: fell back:\n{err}"
            );
            assert_eq!(
                accepted(),
                before + 1,
                "{host}: one ssh session per job\n{err}"
            );
            for o in outputs {
                assert_same(&f.work().join(o), &f.work().join(format!("{o}.local")));
            }
        }
    }
    assert!(
        f.lock_files()
            .iter()
            .any(|n| n.starts_with("cpu_ssh_127.0.0.1_")),
        "{:?}",
        f.lock_files()
    );
}
