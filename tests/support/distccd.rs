//! One way to run distccd under test, ours or Debian's 3.4 ([`Kind`]): a
//! [`Config`] says what differs between harnesses (listen/allow options,
//! whitelist, log file, HOME, TMPDIR, extra arguments and environment), and
//! [`Daemon`] starts it in the foreground on a free loopback port in its own
//! process group, retries when another process takes the port first, waits
//! for the listener, reads its log, and stops the whole group on drop.
//!
//! The log file is pre-created 0666: tests run as root and both daemons drop
//! to an unprivileged user, and 3.4 opens its log only after that.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::{GroupChild, listening, read};

/// Which distccd runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Ours (`target/.../distccd`).
    Ours,
    /// Debian's distcc 3.4 (`/usr/bin/distccd`).
    Debian,
}

pub const DEBIAN_DISTCCD: &str = "/usr/bin/distccd";

impl Kind {
    pub fn program(self) -> PathBuf {
        match self {
            Kind::Ours => super::bin("distccd"),
            Kind::Debian => PathBuf::from(DEBIAN_DISTCCD),
        }
    }
}

/// The `--lifetime` every daemon gets unless told otherwise.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(900);

/// How to start one daemon. Every start adds `--daemon --no-detach
/// --lifetime 900 --port P --log-level info --log-file LOG` (the lifetime
/// is a safety net for a test killed before it could stop its daemon;
/// [`Config::lifetime`] changes it), runs with a
/// cleared environment and `PATH=/usr/bin:/bin`, then applies the options
/// below in order (so `args` and `env` may override the defaults).
#[derive(Clone, Debug)]
pub struct Config {
    kind: Kind,
    log: PathBuf,
    home: Option<PathBuf>,
    tmpdir: Option<PathBuf>,
    listen: Option<String>,
    allow: Vec<String>,
    masquerade_dir: Option<PathBuf>,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    nofile: Option<u64>,
    lifetime: Duration,
}

impl Config {
    pub fn new(kind: Kind, log: impl Into<PathBuf>) -> Self {
        Self {
            kind,
            log: log.into(),
            home: None,
            tmpdir: None,
            listen: None,
            allow: Vec::new(),
            masquerade_dir: None,
            args: Vec::new(),
            env: Vec::new(),
            nofile: None,
            lifetime: DEFAULT_LIFETIME,
        }
    }

    /// `--lifetime`: the daemon stops accepting after this long, whatever
    /// the test is doing. A test that runs longer than
    /// [`DEFAULT_LIFETIME`] (the whole pump corpus) must say so, or its
    /// later jobs find the port closed and compile on the client.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Start the daemon with this open file limit, soft and hard (through
    /// util-linux's `prlimit`, which execs it in the same process).
    pub fn nofile(mut self, limit: Option<u64>) -> Self {
        self.nofile = limit;
        self
    }

    /// The daemon's HOME (required: never the real one).
    pub fn home(mut self, dir: impl Into<PathBuf>) -> Self {
        self.home = Some(dir.into());
        self
    }

    /// The daemon's TMPDIR (required; world-writable, as the daemon drops
    /// root before writing to it).
    pub fn tmpdir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.tmpdir = Some(dir.into());
        self
    }

    /// `--listen ADDR` (None: every address).
    pub fn listen(mut self, addr: Option<&str>) -> Self {
        self.listen = addr.map(str::to_owned);
        self
    }

    /// One `--allow` per entry.
    pub fn allow<S: AsRef<str>>(mut self, nets: impl IntoIterator<Item = S>) -> Self {
        self.allow
            .extend(nets.into_iter().map(|n| n.as_ref().to_owned()));
        self
    }

    /// Our daemon's whitelist directory (`--masquerade-dir`). 3.4 has no
    /// such option (it reads /usr/lib/distcc or `DISTCC_CMDLIST`), so this
    /// is left out for [`Kind::Debian`].
    pub fn masquerade_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.masquerade_dir = Some(dir.into());
        self
    }

    /// Extra arguments, after all the others.
    pub fn args<S: Into<OsString>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// One more environment variable, set after PATH, HOME and TMPDIR.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    fn command(&self, port: u16) -> Command {
        let home = self.home.as_ref().expect("distccd Config: HOME not set");
        let tmpdir = self
            .tmpdir
            .as_ref()
            .expect("distccd Config: TMPDIR not set");
        let mut cmd = match self.nofile {
            Some(n) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}"))
                    .arg("--")
                    .arg(self.kind.program());
                c
            }
            None => Command::new(self.kind.program()),
        };
        cmd.args(["--daemon", "--no-detach", "--lifetime"])
            .arg(self.lifetime.as_secs().max(1).to_string())
            .args(["--port", &port.to_string(), "--log-level", "info"])
            .arg("--log-file")
            .arg(&self.log);
        if let Some(l) = &self.listen {
            cmd.args(["--listen", l]);
        }
        for a in &self.allow {
            cmd.args(["--allow", a]);
        }
        if let (Kind::Ours, Some(dir)) = (self.kind, &self.masquerade_dir) {
            cmd.arg("--masquerade-dir").arg(dir);
        }
        cmd.args(&self.args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", home)
            .env("TMPDIR", tmpdir)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }
}

/// A running daemon, stopped (whole process group) on drop.
#[derive(Debug)]
pub struct Daemon {
    child: Option<GroupChild>,
    pub port: u16,
    pub log: PathBuf,
}

impl Daemon {
    /// Start on a free port; a few tries, as another process may take the
    /// port between [`super::free_port`] and the daemon's bind.
    pub fn start(config: &Config) -> Self {
        for _ in 0..5 {
            if let Some(d) = Self::try_start(config) {
                return d;
            }
        }
        panic!(
            "{:?} distccd did not start; see {}",
            config.kind,
            config.log.display()
        );
    }

    /// One try: None when the port was taken or nothing listened within
    /// 15 s; panics when the daemon exits for any other reason.
    pub fn try_start(config: &Config) -> Option<Self> {
        let port = super::free_port();
        std::fs::write(&config.log, "").unwrap();
        std::fs::set_permissions(&config.log, PermissionsExt::from_mode(0o666)).unwrap();
        let mut child = GroupChild::spawn(&mut config.command(port)).expect("spawn distccd");
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if listening(port) {
                return Some(Self {
                    child: Some(child),
                    port,
                    log: config.log.clone(),
                });
            }
            if let Some(status) = child.0.try_wait().unwrap() {
                // 102: someone took the port between free_port and bind.
                assert_eq!(
                    status.code(),
                    Some(102),
                    "distccd exited: {status}\n{}",
                    read(&config.log)
                );
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None // dropping `child` kills its group
    }

    /// The daemon's pid (0 once it has exited).
    pub fn pid(&self) -> i32 {
        self.child.as_ref().map_or(0, |c| c.id() as i32)
    }

    /// `127.0.0.1:PORT<options>`, for DISTCC_HOSTS.
    pub fn host(&self, options: &str) -> String {
        format!("127.0.0.1:{}{options}", self.port)
    }

    /// Send a signal to the daemon (not its group).
    pub fn signal(&self, sig: Signal) {
        nix::sys::signal::kill(Pid::from_raw(self.pid()), sig).unwrap();
    }

    pub fn log_text(&self) -> String {
        read(&self.log)
    }

    /// Job summary lines of one category (`COMPILE_OK`, `COMPILE_ERROR`,
    /// ...; both daemons log them).
    pub fn count(&self, category: &str) -> usize {
        let needle = format!(" {category} ");
        self.log_text()
            .lines()
            .filter(|l| l.contains(&needle))
            .count()
    }

    /// Wait until `n` summary lines of `category` are logged (they are
    /// written just after the reply); the count reached.
    pub fn wait_count(&self, category: &str, n: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline && self.count(category) < n {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.count(category)
    }

    /// Wait until the log shows `n` completed compiles.
    pub fn wait_compiles(&self, n: usize) -> usize {
        self.wait_count("COMPILE_OK", n)
    }

    /// Wait until the log contains `needle`.
    pub fn wait_log(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.log_text().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Wait for the daemon to exit by itself.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut()?.0.try_wait().unwrap() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Kill the daemon and its children at once (SIGKILL to the group), as
    /// a crash or the OOM killer would.
    pub fn kill(&mut self) {
        drop(self.child.take());
    }

    /// Stop like an init system: SIGTERM to the group, SIGKILL after 10 s.
    /// 3.4's children may outlive the master by a moment, so the group gets
    /// SIGKILL in any case.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        child.signal_group(Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.0.try_wait() {
                return Some(status); // dropping `child` kills the group
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.signal_group(Signal::SIGKILL);
        child.0.wait().ok()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}
