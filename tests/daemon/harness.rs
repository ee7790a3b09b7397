//! Test harness for distccd: a temp "farm" (sources, whitelist, temp
//! dirs), daemons started through `support::distccd` on free loopback
//! ports and killed on drop, and Debian's distcc 3.4 client run against
//! them.
//!
//! Every case can run against OUR distccd or Debian's 3.4 distccd
//! ([`Kind`]), to show the assertions hold for the reference (and so can
//! fail). Debian's daemon cannot be pointed at another whitelist
//! directory, so it gets the same compilers through `DISTCC_CMDLIST`;
//! nothing touches /usr/lib/distcc. Tests run as root: both daemons drop
//! to `nobody`, so the daemon's TMPDIR is world-writable and log files are
//! pre-created 0666 (3.4 opens its log after dropping root).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub use crate::support::distccd::{DEBIAN_DISTCCD, Daemon, Kind};
use crate::support::{self, TempDir, distccd};
pub use crate::support::{assert_same, listening, read, text};

pub const DEBIAN_DISTCC: &str = "/usr/bin/distcc";

/// Compiler names the client may send: Debian's client rewrites `gcc` to
/// `x86_64-linux-gnu-gcc`, so both spellings are listed.
pub const COMPILERS: &[&str] = &["gcc", "g++", "x86_64-linux-gnu-gcc", "x86_64-linux-gnu-g++"];

/// A compiler the whitelist knows but the daemon's PATH lacks.
pub const MISSING_CC: &str = "mycc";
/// A compiler the client has but the whitelist does not list.
pub const UNLISTED_CC: &str = "notlisted-cc";
/// A daemon-side compiler that waits until the test creates
/// `run/slowcc.go` (at most 60 s), then runs gcc.
pub const SLOW_CC: &str = "slowcc";
/// A daemon-side compiler that never finishes (sleeps 120 s).
pub const HANG_CC: &str = "hangcc";

/// Directories of one test.
#[derive(Debug)]
pub struct Farm {
    pub root: TempDir,
}

impl Farm {
    pub fn new(tag: &str) -> Self {
        let root = TempDir::new(&format!("daemon-{tag}"));
        let farm = Self { root };
        for d in [
            "src", "cbin", "dbin", "masq", "home", "ctmp", "clients", "dtmp", "run",
        ] {
            std::fs::create_dir_all(farm.path(d)).unwrap();
        }
        // The daemons drop root to `nobody`: whatever the umask, they must
        // reach the farm and write their TMPDIR.
        for d in ["", "masq", "dbin", "src"] {
            std::fs::set_permissions(farm.path(d), PermissionsExt::from_mode(0o755)).unwrap();
        }
        for d in ["dtmp", "run"] {
            std::fs::set_permissions(farm.path(d), PermissionsExt::from_mode(0o1777)).unwrap();
        }
        // Slow compilers for the daemon: they record their pid, wait, and
        // (slowcc, once the test opens its gate) then compile.
        let gate = farm.path("run").join(format!("{SLOW_CC}.go"));
        let slow = format!(
            "i=0\nwhile [ ! -e {} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\nexec gcc \"$@\"",
            gate.display()
        );
        for (name, body) in [(SLOW_CC, slow.as_str()), (HANG_CC, "exec sleep 120")] {
            let script = farm.path("dbin").join(name);
            let pid_file = farm.path("run").join(format!("{name}.pid"));
            let text = format!("#!/bin/sh\necho $$ > {}\n{body}\n", pid_file.display());
            std::fs::write(&script, text).unwrap();
            std::fs::set_permissions(&script, PermissionsExt::from_mode(0o755)).unwrap();
        }
        for cc in COMPILERS.iter().chain([&MISSING_CC, &SLOW_CC, &HANG_CC]) {
            symlink(DEBIAN_DISTCC, farm.path("masq").join(cc)).unwrap();
        }
        // The client's own compilers: MISSING_CC and UNLISTED_CC are gcc.
        for cc in [MISSING_CC, UNLISTED_CC] {
            symlink("/usr/bin/gcc", farm.path("cbin").join(cc)).unwrap();
        }
        let mut list: Vec<String> = COMPILERS.iter().map(|c| format!("/usr/bin/{c}")).collect();
        list.push(format!("/nonexistent/{MISSING_CC}"));
        for cc in [SLOW_CC, HANG_CC] {
            list.push(farm.path("dbin").join(cc).display().to_string());
        }
        std::fs::write(farm.path("cmdlist"), list.join("\n") + "\n").unwrap();
        farm
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    pub fn src(&self) -> PathBuf {
        self.path("src")
    }

    pub fn write_src(&self, name: &str, text: impl AsRef<[u8]>) {
        std::fs::write(self.src().join(name), text).unwrap();
    }

    /// The pid a slow compiler recorded (once it has started).
    pub fn compiler_pid(&self, name: &str) -> Option<i32> {
        let path = self.path("run").join(format!("{name}.pid"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(t) = std::fs::read_to_string(&path) {
                if let Ok(pid) = t.trim().parse() {
                    return Some(pid);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Start a `kind` daemon with the farm's compilers: ours through its
    /// masquerade directory, 3.4 through `DISTCC_CMDLIST`; the slow
    /// compilers are found on `DISTCCD_PATH`.
    pub fn daemon(&self, kind: Kind, opts: &Opts) -> Daemon {
        let mut config = distccd::Config::new(kind, self.path("daemon.log"))
            .home(self.path("home"))
            .tmpdir(self.path("dtmp"))
            .listen(opts.listen.as_deref())
            .allow(&opts.allow)
            .masquerade_dir(self.path("masq"))
            .env(
                "DISTCCD_PATH",
                format!("{}:/usr/bin:/bin", self.path("dbin").display()),
            );
        if kind == Kind::Debian {
            config = config.env("DISTCC_CMDLIST", self.path("cmdlist"));
        } else {
            // The slow compilers record their pid and wait for a gate in
            // `run`, outside the job directory: let them (issue #10).
            config = config.args([
                OsString::from("--sandbox-allow-path"),
                self.path("run").into(),
            ]);
        }
        config = config.args(&opts.args).nofile(opts.nofile);
        for (k, v) in &opts.env {
            config = config.env(k, v);
        }
        Daemon::start(&config)
    }

    /// Files left in the daemon's TMPDIR, at any depth. (The daemon keeps
    /// its empty job directories for reuse while it runs.)
    pub fn daemon_temp_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    walk(&e.path(), out);
                } else {
                    out.push(e.path());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.path("dtmp"), &mut out);
        out
    }

    /// Everything in the daemon's TMPDIR, directories included.
    pub fn daemon_temp_entries(&self) -> usize {
        std::fs::read_dir(self.path("dtmp")).map_or(0, |d| d.count())
    }
}

/// Options of one daemon start.
#[derive(Debug, Clone)]
pub struct Opts {
    pub allow: Vec<String>,
    /// `--listen` (None: every address).
    pub listen: Option<String>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// The daemon's open file limit (None: inherited).
    pub nofile: Option<u64>,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            allow: vec!["127.0.0.1".into()],
            listen: Some("127.0.0.1".into()),
            args: Vec::new(),
            env: Vec::new(),
            nofile: None,
        }
    }
}

/// A real 3.4 request (`gcc -c hello.c -o hello.o`, protocol 1).
pub const GOOD_V1: &[u8] = include_bytes!("../fixtures/proto/v1-hello.req");

/// `GET path` from a stats server. 3.4's server writes its page and
/// closes without reading the request, so the kernel may answer our unread
/// request with a reset that arrives before the page is read: a reset is
/// tried again, anything else is a failure.
pub fn http_get(port: u16, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut page = String::new();
        let got = s
            .write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
            .and_then(|()| s.read_to_string(&mut page));
        match got {
            Ok(_) => return page,
            Err(e)
                if e.kind() == std::io::ErrorKind::ConnectionReset && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("stats page on port {port}: {e}"),
        }
    }
}

/// Connect, send `bytes`, optionally half-close, and read whatever comes
/// back until the daemon closes (a reset counts as the end).
pub fn exchange(port: u16, bytes: &[u8], close: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = s.write_all(bytes);
    if close {
        let _ = s.shutdown(Shutdown::Write);
    }
    let mut reply = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return reply,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
        }
    }
}

/// Run Debian's distcc client in the farm's source directory, with its
/// own HOME, DISTCC_DIR (fresh, so no backoff state leaks between runs)
/// and TMPDIR.
pub fn distcc(farm: &Farm, hosts: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = farm.path(&format!("clients/{}", N.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).unwrap();
    let path = format!("{}:/usr/bin:/bin", farm.path("cbin").display());
    let mut cmd = Command::new(DEBIAN_DISTCC);
    cmd.args(args)
        .current_dir(farm.src())
        .env_clear()
        .env("PATH", path)
        .env("HOME", farm.path("home"))
        .env("DISTCC_DIR", &dir)
        .env("TMPDIR", farm.path("ctmp"))
        .env("DISTCC_HOSTS", hosts);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run distcc")
}

/// Compile locally with the same command (the reference object).
pub fn local(farm: &Farm, args: &[&str]) -> Output {
    let path = format!("{}:/usr/bin:/bin", farm.path("cbin").display());
    support::compile_locally(&farm.src(), &path, &farm.path("ctmp"), args)
}

/// Skip (or fail under CI) when Debian's distcc is missing.
#[macro_export]
macro_rules! require_debian_distcc {
    ($kind:expr) => {
        $crate::require_tool!($crate::daemon::harness::DEBIAN_DISTCC);
        if $kind == $crate::daemon::harness::Kind::Debian {
            $crate::require_tool!($crate::daemon::harness::DEBIAN_DISTCCD);
        }
    };
}

/// Define each case twice: against our distccd and Debian's.
#[macro_export]
macro_rules! both_daemons {
    ($($name:ident),* $(,)?) => {
        mod ours {
            $( #[test] fn $name() { super::$name($crate::daemon::harness::Kind::Ours) } )*
        }
        mod debian {
            $( #[test] fn $name() { super::$name($crate::daemon::harness::Kind::Debian) } )*
        }
    };
}
