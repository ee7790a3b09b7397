//! The interactive set-up, driven through a pseudo-terminal made by
//! util-linux `script` (no extra crate and no unsafe code in the tests),
//! and its refusal to prompt when stdin is not a terminal.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Root, script};

/// distcc-config on a pty, with expect-style helpers.
struct Pty {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<Vec<u8>>>,
    seen: usize,
}

impl Pty {
    fn spawn(root: &Root, args: &str) -> Self {
        let mut child = Command::new("script")
            .args([
                "-q",
                "-e",
                "-c",
                &format!("exec \"$DCC\" --root \"$ROOT_DIR\" {args}"),
                "/dev/null",
            ])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", root.path("home"))
            .env("TERM", "xterm")
            .env("SHELL", "/bin/sh")
            .env("DCC", crate::support::bin("distcc-config"))
            .env("ROOT_DIR", root.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run script(1)");
        let out = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = Arc::clone(&out);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let stdin = child.stdin.take();
        Self {
            child,
            stdin,
            out,
            seen: 0,
        }
    }

    fn transcript(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    /// Wait until `needle` appears after the previous match.
    #[track_caller]
    fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.transcript();
            if let Some(i) = text[self.seen.min(text.len())..].find(needle) {
                self.seen += i + needle.len();
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; got:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn send(&mut self, keys: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(keys.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Wait for the exit status (the pty closes when the program ends).
    fn finish(mut self) -> (i32, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                drop(self.stdin.take());
                std::thread::sleep(Duration::from_millis(50));
                return (status.code().unwrap_or(-1), self.transcript());
            }
            assert!(
                Instant::now() < deadline,
                "still running:\n{}",
                self.transcript()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const CONFD: &str = "DISTCCD_OPTS=\"\"\nDISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 192.168.0.0/24\"\nDISTCCD_OPTS=\"${DISTCCD_OPTS} -N 15\"\n";

fn gentoo_box() -> Root {
    let r = Root::new("gentoo");
    r.write("etc/conf.d/distccd", CONFD);
    r.write("etc/distcc/hosts", "old/2\n");
    script(&r.path("usr/bin/gcc"), "exit 0");
    r
}

#[test]
fn walks_through_hosts_networks_and_masquerade() {
    crate::require_tool!("script");
    let r = gentoo_box();
    let mut pty = Pty::spawn(&r, "--wizard");
    pty.expect("Hosts to compile on");
    pty.expect("[old/2]");
    // A bad list is refused with its position and asked again.
    pty.send("h,bogus\r");
    pty.expect("\"h,bogus\" at line 1, column 2: unknown option");
    pty.expect("Hosts to compile on");
    pty.send("build1/8,lzo localhost/2\r");
    pty.expect("Networks allowed");
    pty.send("192.168.1.5/24\r");
    pty.expect("did you mean 192.168.1.0/24?");
    pty.expect("Networks allowed");
    pty.send("10.0.0.0/8 127.0.0.1\r");
    pty.expect("Update the masquerade links");
    pty.send("y");
    pty.expect("+ build1/8,lzo localhost/2");
    pty.expect("+ DISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 10.0.0.0/8 --allow 127.0.0.1\"");
    pty.expect("link change(s)");
    pty.expect("Write these changes?");
    pty.send("y");
    let (status, text) = pty.finish();
    assert_eq!(status, 0, "{text}");
    assert_eq!(r.read("etc/distcc/hosts"), "build1/8,lzo localhost/2\n");
    let confd = r.read("etc/conf.d/distccd");
    assert!(
        confd.contains("\n#DISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 192.168.0.0/24\""),
        "{confd}"
    );
    assert!(
        confd.ends_with("DISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 10.0.0.0/8 --allow 127.0.0.1\"\n")
    );
    // The edited file passes the --allow check.
    assert_eq!(r.run(&["--check-allow"]).status, 0);
    let links = r.listing("usr/lib/distcc");
    assert!(
        links.contains(&"gcc -> /usr/bin/distcc".to_owned()),
        "{links:?}"
    );
}

#[test]
fn nothing_is_written_unless_confirmed() {
    crate::require_tool!("script");
    let r = gentoo_box();
    // With no option at all, a terminal gets the wizard.
    let mut pty = Pty::spawn(&r, "");
    pty.expect("Hosts to compile on");
    pty.send("new/4\r");
    pty.expect("Networks allowed");
    pty.send("10.0.0.0/8\r");
    pty.expect("Update the masquerade links");
    pty.send("y");
    pty.expect("Write these changes?");
    pty.send("n");
    pty.expect("Nothing written.");
    let (status, text) = pty.finish();
    assert_eq!(status, 0, "{text}");
    assert_eq!(r.read("etc/distcc/hosts"), "old/2\n");
    assert_eq!(r.read("etc/conf.d/distccd"), CONFD);
    assert!(!r.path("usr/lib/distcc").exists());
    // Interrupted: also nothing.
    let mut pty = Pty::spawn(&r, "--wizard");
    pty.expect("Hosts to compile on");
    pty.send("\x03");
    let (status, text) = pty.finish();
    assert_ne!(status, 0, "{text}");
    assert_eq!(r.read("etc/distcc/hosts"), "old/2\n");
}

#[test]
fn never_prompts_without_a_terminal() {
    let r = Root::new("gentoo");
    // No action: usage, exit 0 (stdin is /dev/null in Root::cmd).
    let out = r.run(&[]);
    assert_eq!(out.status, 0);
    assert!(out.stdout.starts_with("Usage: "), "{out:?}");
    let out = r.run(&["--wizard"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("the wizard needs a terminal"),
        "{out:?}"
    );
    assert!(!r.path("etc/distcc").exists());
}
