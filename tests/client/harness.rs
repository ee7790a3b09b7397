//! Harness for the client tests: a temp "farm" (sources, HOME, DISTCC_DIR,
//! temp dirs, our daemon's whitelist directory), distccd (ours or Debian's
//! 3.4, through `support::distccd`) on a free loopback port, killed with its
//! process group on drop, and our `distcc` run against it with a clean
//! environment.
//!
//! Tests run as root, and both daemons then drop to an unprivileged user:
//! the daemon's TMPDIR is world-writable and its log is pre-created 0666.
//! Debian's daemon uses the whitelist its package installs in
//! /usr/lib/distcc (gcc, g++, cc, c++, x86_64-linux-gnu-*); ours gets a
//! temp `--masquerade-dir`. Nothing touches system paths.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use crate::support::distccd::{Daemon, Kind};
use crate::support::{self, TempDir, distccd};
pub use crate::support::{assert_same, listening, read, text};

/// Compiler names the client sends (after cross rewriting).
pub const COMPILERS: &[&str] = &[
    "gcc",
    "g++",
    "cc",
    "c++",
    "x86_64-linux-gnu-gcc",
    "x86_64-linux-gnu-g++",
];

/// The directories of one test.
#[derive(Debug)]
pub struct Farm {
    pub root: TempDir,
}

impl Farm {
    pub fn new(tag: &str) -> Self {
        let farm = Self {
            root: TempDir::new(&format!("client-{tag}")),
        };
        for d in ["work", "home", "ddir", "ctmp", "dtmp", "masq"] {
            std::fs::create_dir_all(farm.path(d)).unwrap();
        }
        std::fs::set_permissions(farm.path("dtmp"), PermissionsExt::from_mode(0o1777)).unwrap();
        for cc in COMPILERS {
            symlink("/usr/bin/gcc", farm.path("masq").join(cc)).unwrap();
        }
        farm
    }

    /// A farm with [`HELLO`] and its header in `work/`.
    pub fn with_hello(tag: &str) -> Self {
        let farm = Self::new(tag);
        farm.write("hello.c", HELLO);
        farm.write("util.h", UTIL_H);
        farm
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    pub fn work(&self) -> PathBuf {
        self.path("work")
    }

    /// Write a file under `work/`, creating directories.
    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) {
        let p = self.work().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Files left in a temp directory of the farm (`ctmp`, `dtmp`).
    pub fn leftovers(&self, dir: &str) -> Vec<PathBuf> {
        std::fs::read_dir(self.path(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    /// Start a `kind` daemon listening on 127.0.0.1 for 127.0.0.1: ours
    /// with the farm's masquerade directory, 3.4 with the whitelist its
    /// package installs.
    pub fn daemon(&self, kind: Kind) -> Daemon {
        Daemon::start(&self.daemon_config(kind))
    }

    /// The configuration [`Farm::daemon`] starts, to adjust first.
    pub fn daemon_config(&self, kind: Kind) -> distccd::Config {
        self.config_logging_to(kind, self.path("daemon.log"))
    }

    fn config_logging_to(&self, kind: Kind, log: PathBuf) -> distccd::Config {
        distccd::Config::new(kind, log)
            .home(self.path("home"))
            .tmpdir(self.path("dtmp"))
            .listen(Some("127.0.0.1"))
            .allow(["127.0.0.1"])
            .masquerade_dir(self.path("masq"))
    }

    /// Our daemon whose compilers (every name the client sends) are
    /// `compiler`: a program, or a script's text (`#!...`), in a
    /// masquerade directory of its own that also starts its
    /// `DISTCCD_PATH`. `tag` names both and its log (`<tag>.log`: the
    /// farm's other daemons share one); `args` are added.
    pub fn daemon_with_compiler(&self, tag: &str, compiler: &str, args: &[&str]) -> Daemon {
        let masq = self.path(&format!("masq-{tag}"));
        std::fs::create_dir_all(&masq).unwrap();
        std::fs::set_permissions(&masq, PermissionsExt::from_mode(0o755)).unwrap();
        let program = if compiler.starts_with("#!") {
            let script = masq.join("wrapper");
            std::fs::write(&script, compiler).unwrap();
            std::fs::set_permissions(&script, PermissionsExt::from_mode(0o755)).unwrap();
            script
        } else {
            PathBuf::from(compiler)
        };
        for cc in COMPILERS {
            symlink(&program, masq.join(cc)).unwrap();
        }
        let cfg = self
            .config_logging_to(Kind::Ours, self.path(&format!("{tag}.log")))
            .masquerade_dir(&masq)
            .env("DISTCCD_PATH", format!("{}:/usr/bin:/bin", masq.display()))
            .args(args.iter().copied());
        Daemon::start(&cfg)
    }

    /// Our `distcc` with `args` in `work/`, a clean environment, and
    /// `DISTCC_HOSTS=hosts`.
    pub fn distcc(&self, hosts: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(&support::bin("distcc"), hosts, args, env)
            .output()
            .expect("run distcc")
    }

    /// A command with the farm's environment (used for our client, for
    /// Debian's, and for make).
    pub fn command(
        &self,
        program: &Path,
        hosts: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(self.work())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", self.path("home"))
            .env("DISTCC_DIR", self.path("ddir"))
            .env("TMPDIR", self.path("ctmp"))
            .env("DISTCC_HOSTS", hosts)
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// The same command compiled locally (the reference).
    pub fn local(&self, args: &[&str]) -> Output {
        support::compile_locally(&self.work(), "/usr/bin:/bin", &self.path("ctmp"), args)
    }

    /// How long compiling `args` here takes now (its `-o` redirected out
    /// of `work/`): the unit of a wall-clock bound that must hold on a
    /// loaded machine, where this compile is as slow as the one timed.
    pub fn local_time(&self, args: &[&str]) -> std::time::Duration {
        let out = self.path("timing.o");
        let out = out.to_str().unwrap();
        let mut args = args.to_vec();
        if let Some(i) = args.iter().position(|a| *a == "-o") {
            args[i + 1] = out;
        }
        let started = std::time::Instant::now();
        assert_ok(&self.local(&args), "the timing compile");
        started.elapsed()
    }

    /// The lock directory's file names.
    pub fn lock_files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.path("ddir/lock"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Assert that no host was backed off (no `backoff_*` lock file).
    #[track_caller]
    pub fn assert_no_backoff(&self) {
        let locks = self.lock_files();
        assert!(
            !locks.iter().any(|n| n.starts_with("backoff_")),
            "{locks:?}"
        );
    }
}

/// How many times Debian's 3.4 daemon logged refusing the extension's
/// hello: it names the version it refuses in decimal, and the hello's
/// `DIST` parameter is 0x78740001.
pub fn probes_in_3_4_log(log: &str) -> usize {
    log.matches("2020868097").count()
}

/// Run `cmd` on a thread of its own, for jobs started together.
pub fn output_in_thread(mut cmd: Command) -> std::thread::JoinHandle<Output> {
    std::thread::spawn(move || cmd.output().unwrap())
}

/// Assert an exit status and show stderr otherwise.
#[track_caller]
pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A C source that takes gcc a moment, for jobs that must be seen running.
pub const HELLO: &str = "#include <stdio.h>\n#include \"util.h\"\nint main(void) { printf(\"%d\\n\", twice(21)); return 0; }\n";
pub const UTIL_H: &str =
    "#ifndef UTIL_H\n#define UTIL_H\nstatic inline int twice(int x) { return 2 * x; }\n#endif\n";
