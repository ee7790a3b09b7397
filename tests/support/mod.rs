//! Shared test helpers: paths of our built programs and of the reference
//! tools, temp directories, free ports, process groups, local reference
//! compiles, file comparisons; `distccd` runs a daemon under test.

#![allow(dead_code, clippy::disallowed_methods)]

pub mod distccd;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Path of one of our programs, built by cargo for this test binary, or
/// taken from `$DISTCC_TEST_BIN_DIR` when set (the benchmarks in bench/
/// run tests against `target/release` without building the tests there).
pub fn bin(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("DISTCC_TEST_BIN_DIR") {
        let dir = std::path::absolute(&dir).expect("DISTCC_TEST_BIN_DIR");
        return dir.join(name);
    }
    let path = match name {
        "distcc" => env!("CARGO_BIN_EXE_distcc"),
        "distccd" => env!("CARGO_BIN_EXE_distccd"),
        "distccmon-text" => env!("CARGO_BIN_EXE_distccmon-text"),
        "distccmon-tui" => env!("CARGO_BIN_EXE_distccmon-tui"),
        "pump" => env!("CARGO_BIN_EXE_pump"),
        "lsdistcc" => env!("CARGO_BIN_EXE_lsdistcc"),
        "distcc-config" => env!("CARGO_BIN_EXE_distcc-config"),
        other => panic!("unknown program {other}"),
    };
    PathBuf::from(path)
}

/// Whether we run under CI, where nothing may be skipped.
pub fn ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| v == "true")
}

/// Skip a test whose tool is missing, except under `CI=true`, where a
/// missing tool is a failure (the CI script installs every tool).
#[macro_export]
macro_rules! require_tool {
    ($tool:expr) => {
        if !$crate::support::have_tool($tool) {
            if $crate::support::ci() {
                panic!(
                    "{} is required under CI=true (install it in .ci/run)",
                    $tool
                );
            }
            eprintln!("skipping: {} not installed", $tool);
            return;
        }
    };
}

/// Whether an executable is on PATH (or is an existing absolute path).
pub fn have_tool(tool: &str) -> bool {
    if tool.starts_with('/') {
        return Path::new(tool).exists();
    }
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

/// A fresh temporary directory, removed when dropped (kept when
/// `KEEP_TEST_TMP` is set, for debugging).
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "distcc-rs-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_TEST_TMP").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process started in its own process group; dropping it kills the
/// whole group. Daemons that prefork (Debian's distccd keeps its children
/// alive when only the parent is killed) must be started this way, or their
/// children outlive the test and keep its pipes open.
#[derive(Debug)]
pub struct GroupChild(pub std::process::Child);

impl GroupChild {
    /// Spawn `cmd` as the leader of a new process group.
    pub fn spawn(cmd: &mut Command) -> std::io::Result<Self> {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0).spawn().map(Self)
    }

    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// Send `signal` to the whole group.
    pub fn signal_group(&self, signal: nix::sys::signal::Signal) {
        let pgid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, signal);
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        self.signal_group(nix::sys::signal::Signal::SIGKILL);
        let _ = self.0.wait();
    }
}

/// Wait until something listens on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16, timeout: std::time::Duration) {
    let deadline = std::time::Instant::now() + timeout;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing listens on port {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Whether something listens on 127.0.0.1:`port` (read from /proc, so
/// probing does not open a connection the daemon would log).
pub fn listening(port: u16) -> bool {
    let want = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| {
        read(Path::new(f)).lines().skip(1).any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[1].ends_with(&want) && f[3] == "0A"
        })
    })
}

/// Poll `cond` every 20 ms for up to 30 s; whether it came true. For what
/// a daemon does after the client has its answer: 3.4's distccd removes a
/// job's files only after replying, so a loaded machine sees them for a
/// moment.
pub fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if cond() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Everything one level inside the job directories a daemon made in its
/// TMPDIR `dtmp` (ours keeps them, empty, for reuse): files, directories
/// and links; but for the mirror a pump job of ours leaves for the next
/// (`distccd_job_*/root`), which the next one brings up to date.
pub fn job_dir_contents(dtmp: &Path) -> Vec<PathBuf> {
    let jobs = std::fs::read_dir(dtmp).into_iter().flatten().flatten();
    jobs.flat_map(|job| {
        let ours = job
            .file_name()
            .to_string_lossy()
            .starts_with("distccd_job_");
        std::fs::read_dir(job.path())
            .into_iter()
            .flatten()
            .flatten()
            .filter(move |e| !(ours && e.file_name() == "root" && e.path().is_dir()))
    })
    .map(|e| e.path())
    .collect()
}

/// A file's text, lossily decoded; empty when it cannot be read.
pub fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

/// A log file's text once it contains `needle` (or after 20 s, whatever it
/// holds then). Daemons write a job's summary just after the client has its
/// answer, so reading the log straight after a compile races that line.
pub fn read_when(path: &Path, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let got = read(path);
        if got.contains(needle) || std::time::Instant::now() >= deadline {
            return got;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Assert two files are byte-identical and not empty.
#[track_caller]
pub fn assert_same(a: &Path, b: &Path) {
    let x = std::fs::read(a).unwrap_or_else(|e| panic!("{}: {e}", a.display()));
    let y = std::fs::read(b).unwrap_or_else(|e| panic!("{}: {e}", b.display()));
    assert!(!x.is_empty(), "{} is empty", a.display());
    assert!(
        x == y,
        "{} and {} differ ({} vs {} bytes)",
        a.display(),
        b.display(),
        x.len(),
        y.len()
    );
}

/// Run a compiler command (`args[0]` is the compiler) locally in `dir`,
/// with only `PATH=path` and `TMPDIR=tmpdir`: the reference that
/// distributed output must equal. Panics when it fails.
#[track_caller]
pub fn compile_locally(dir: &Path, path: &str, tmpdir: &Path, args: &[&str]) -> Output {
    let out = Command::new(args[0])
        .args(&args[1..])
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("TMPDIR", tmpdir)
        .output()
        .expect("run the local compiler");
    assert!(
        out.status.success(),
        "local {args:?}: {}",
        text(&out.stderr)
    );
    out
}

/// Copy a directory tree (files and directories; symlinks as links).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&src, &dst);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Cargo's home (`$CARGO_HOME`, else `~/.cargo`), where the registry's
/// sources are.
pub fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"))
}
