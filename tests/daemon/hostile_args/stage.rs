//! The stage a row runs on: programs that would leave a mark, an
//! outside directory a write would reach, a secret a read would bring back.

use std::os::unix::fs::PermissionsExt;

use distcc::protocol::{FileEntry, FileKind, Request, RequestHead};

use super::super::harness::{Daemon, Farm, GOOD_V1, exchange, text};
use super::Case;
use super::Outcome::{Refused, Served};

/// The stage: evil programs, an outside directory, a secret.
pub(super) struct Stage {
    pub(super) farm: Farm,
    token: String,
}

impl Stage {
    pub(super) fn new(tag: &str) -> Self {
        let farm = Farm::new(tag);
        let token = format!("DISTCC-SECRET-{}-{tag}", std::process::id());
        let outside = farm.path("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::set_permissions(&outside, PermissionsExt::from_mode(0o777)).unwrap();
        let evil = farm.path("evil");
        std::fs::create_dir_all(&evil).unwrap();
        let touch = |name: &str| {
            format!(
                "#!/bin/sh\ntouch {}/pwned-{name}\nexit 1\n",
                outside.display()
            )
        };
        for prog in ["as", "cc1", "cc1plus", "collect2", "ld", "wrap"] {
            let p = evil.join(prog);
            std::fs::write(&p, touch(prog)).unwrap();
            std::fs::set_permissions(&p, PermissionsExt::from_mode(0o755)).unwrap();
        }
        std::fs::write(
            evil.join("evil.specs"),
            format!("*invoke_as:\n| touch {}/pwned-specs\n\n", outside.display()),
        )
        .unwrap();
        std::fs::write(
            evil.join("evil.cfg"),
            format!("-fplugin={}\n", evil.join("evil.so").display()),
        )
        .unwrap();
        let plugin = evil.join("evil.c");
        std::fs::write(
            &plugin,
            format!(
                "#include <stdlib.h>\n__attribute__((constructor)) static void pwn(void) {{ system(\"touch {}/pwned-plugin\"); }}\n",
                outside.display()
            ),
        )
        .unwrap();
        let built = std::process::Command::new("gcc")
            .args(["-shared", "-fPIC", "-o"])
            .arg(evil.join("evil.so"))
            .arg(&plugin)
            .status()
            .unwrap();
        assert!(built.success(), "the test plugin builds");
        std::fs::set_permissions(&evil, PermissionsExt::from_mode(0o755)).unwrap();
        let secret = farm.path("secret.txt");
        std::fs::write(&secret, format!("{token}\n")).unwrap();
        std::fs::set_permissions(&secret, PermissionsExt::from_mode(0o644)).unwrap();
        Self { farm, token }
    }

    pub(super) fn fill(&self, text: &str) -> String {
        text.replace("{evil}", &self.farm.path("evil").display().to_string())
            .replace(
                "{outside}",
                &self.farm.path("outside").display().to_string(),
            )
            .replace(
                "{secret}",
                &self.farm.path("secret.txt").display().to_string(),
            )
            .replace(
                "{so}",
                &self.farm.path("evil/evil.so").display().to_string(),
            )
    }

    fn request(&self, case: &Case) -> Vec<u8> {
        let argv: Vec<Vec<u8>> = case
            .argv
            .iter()
            .map(|a| self.fill(a).into_bytes())
            .collect();
        let source = if case.name.contains(".incbin") {
            format!(
                "__asm__(\".section .rodata\\n.incbin \\\"{}\\\"\\n.text\");\nint f(void) {{ return 1; }}\n",
                self.farm.path("secret.txt").display()
            )
        } else {
            self.fill(case.source)
        };
        let input = case
            .argv
            .iter()
            .find(|a| a.ends_with(".c") || a.ends_with(".cc"));
        let files = if case.version == 3 {
            vec![FileEntry {
                name: format!("/src/{}", input.unwrap_or(&"x.c")).into_bytes(),
                kind: FileKind::File(source.clone().into_bytes()),
            }]
        } else {
            Vec::new()
        };
        Request {
            head: RequestHead {
                version: case.version,
                cwd: (case.version == 3).then(|| b"/src".to_vec()),
                argv,
            },
            source: source.into_bytes(),
            files,
        }
        .encode()
    }

    /// Run every case against `d`; returns what went wrong.
    pub(super) fn run(&self, d: &Daemon, cases: &[&Case]) -> Vec<String> {
        let mut failures = Vec::new();
        for case in cases {
            let logged = |t: &str| d.log_text().matches(t).count();
            let before = match case.outcome {
                Refused(t) => logged(t),
                Served => 0,
            };
            let reply = exchange(d.port, &self.request(case), false);
            let mut fail = |what: String| failures.push(format!("{}: {what}", case.name));
            match case.outcome {
                Refused(t) => {
                    if !reply.is_empty() {
                        fail(format!("answered: {:?}", text(&reply)));
                    }
                    if !crate::support::eventually(|| logged(t) > before) {
                        fail(format!("{t:?} not logged:\n{}", d.log_text()));
                    }
                }
                Served => {
                    if !reply.starts_with(b"DONE") {
                        fail(format!(
                            "no reply: {}",
                            d.log_text().lines().last().unwrap_or("")
                        ));
                    }
                }
            }
            if String::from_utf8_lossy(&reply).contains(&self.token) {
                fail("the secret came back in the reply".into());
            }
            let outside: Vec<_> = std::fs::read_dir(self.farm.path("outside"))
                .unwrap()
                .collect();
            if !outside.is_empty() {
                fail(format!("wrote outside the job: {outside:?}"));
                for e in outside {
                    let _ = std::fs::remove_file(e.unwrap().path());
                }
            }
            let good = exchange(d.port, GOOD_V1, false);
            if !good.starts_with(b"DONE00000001STAT00000000") {
                fail("the daemon no longer compiles".into());
            }
            if !crate::support::eventually(|| self.farm.daemon_temp_files().is_empty()) {
                fail(format!("left behind: {:?}", self.farm.daemon_temp_files()));
            }
        }
        failures
    }
}
