//! A terminal for `distccmon-tui`: a tmux server of its own, typed into
//! with `send-keys` and read with `capture-pane`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;

/// A tmux server of its own (its own socket), killed on drop.
pub(super) struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Run `argv` with exactly `env` in an 80x24 window.
    pub(super) fn start(dir: &Path, env: &[(&str, String)], argv: &[String]) -> Self {
        let socket = dir.join("tmux.sock");
        let mut cmd = vec!["env".to_string(), "-i".to_string()];
        cmd.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.extend(argv.iter().cloned());
        let line = cmd
            .iter()
            .map(|w| format!("'{}'", w.replace('\'', r"'\''")))
            .collect::<Vec<_>>()
            .join(" ");
        let t = Self { socket };
        let out = t
            .tmux(&[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "mon",
                "-x",
                "80",
                "-y",
                "24",
            ])
            .arg(&line)
            .output()
            .unwrap();
        assert!(out.status.success(), "tmux: {}", support::text(&out.stderr));
        t
    }

    fn tmux(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket).args(args);
        c
    }

    /// Type keys (tmux key names: `s`, `p`, `q`).
    pub(super) fn send(&self, key: &str) {
        let ok = self
            .tmux(&["send-keys", "-t", "mon", key])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Whether the screen uses any colour (`capture-pane -e` keeps the
    /// escape sequences: SGR 30-38, 40-48, 90-97, 100-107; 39 and 49 are
    /// the terminal's own colours).
    pub(super) fn coloured(&self) -> bool {
        let out = self
            .tmux(&["capture-pane", "-e", "-p", "-t", "mon"])
            .output()
            .unwrap();
        let text = support::text(&out.stdout);
        text.split("\x1b[").skip(1).any(|seq| {
            let params = seq.split('m').next().unwrap_or("");
            params.split(';').any(|p| {
                matches!(
                    p.parse::<u32>(),
                    Ok(30..=38 | 40..=48 | 90..=97 | 100..=107)
                )
            })
        })
    }

    /// The screen as text, or None once the program has quit.
    pub(super) fn screen(&self) -> Option<String> {
        let out = self
            .tmux(&["capture-pane", "-p", "-t", "mon"])
            .output()
            .ok()?;
        out.status.success().then(|| support::text(&out.stdout))
    }

    /// Wait until the screen satisfies `ok`; panic with it otherwise.
    pub(super) fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Some(s) = self.screen() {
                if ok(&s) {
                    return s;
                }
                last = s;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the screen never showed {what}:\n{last}");
    }

    pub(super) fn running(&self) -> bool {
        self.tmux(&["has-session", "-t", "mon"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]).stderr(Stdio::null()).status();
    }
}
