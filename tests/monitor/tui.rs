//! `distccmon-tui` in a real terminal (tmux: `send-keys` to type,
//! `capture-pane` to read the screen), 80x24, during real builds against
//! our daemon: one with our client, one with Debian's 3.4 client. Each
//! checks what the screen shows: the running jobs, the hosts with their
//! slots, a host in backoff, the daemon's figures, a fallback with its
//! reason, and the keys (sort, pause, quit); the 3.4 one runs with
//! `NO_COLOR` and checks that no colour reaches the terminal. A third test
//! checks that the monitor writes nothing, stale files and all.
//!
//! The remote compiles are held running by the daemon harness's `slowcc`
//! (it waits for a gate file), so the jobs are on the screen for as long
//! as the test needs.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::daemon::harness::{DEBIAN_DISTCC, Daemon, Farm, Kind, Opts, SLOW_CC};
use crate::require_tool;
use crate::support;

mod tmux;

use tmux::Tmux;

/// The screen row that starts with `name`, split in columns.
fn row(screen: &str, name: &str) -> Vec<String> {
    screen
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no row {name} on\n{screen}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// A farm with our daemon (stats on), a dead host, sources, and the
/// client side's `slowcc` (plain gcc: only the daemon's one is slow).
struct Build {
    farm: Farm,
    daemon: Daemon,
    stats_port: u16,
    dead: String,
}

impl Build {
    fn new(tag: &str) -> Self {
        let farm = Farm::new(tag);
        symlink("/usr/bin/gcc", farm.path("cbin").join(SLOW_CC)).unwrap();
        std::fs::create_dir_all(farm.path("ddir")).unwrap();
        for i in 0..3 {
            farm.write_src(
                &format!("s{i}.c"),
                format!("int s{i}(void) {{ return {i}; }}\n"),
            );
        }
        farm.write_src("f0.c", "int f0(void) { return 0; }\n");
        let stats_port = support::free_port();
        let opts = Opts {
            args: vec![
                "--stats".into(),
                "--stats-port".into(),
                stats_port.to_string(),
            ],
            ..Opts::default()
        };
        let daemon = farm.daemon(Kind::Ours, &opts);
        support::wait_for_port(stats_port, Duration::from_secs(10));
        let dead = format!("127.0.0.1:{}", support::free_port());
        Self {
            farm,
            daemon,
            stats_port,
            dead,
        }
    }

    /// The host list of the build: the dead host first, then the daemon.
    fn hosts(&self) -> String {
        format!("{}/1 {}", self.dead, self.daemon.host("/4"))
    }

    fn env(&self, hosts: &str) -> Vec<(&'static str, String)> {
        vec![
            (
                "PATH",
                format!("{}:/usr/bin:/bin", self.farm.path("cbin").display()),
            ),
            ("HOME", self.farm.path("home").display().to_string()),
            ("DISTCC_DIR", self.farm.path("ddir").display().to_string()),
            ("TMPDIR", self.farm.path("ctmp").display().to_string()),
            ("DISTCC_HOSTS", hosts.to_owned()),
        ]
    }

    /// Start a client: `program` with `args` in the sources.
    fn client(&self, program: &Path, hosts: &str, args: &[&str]) -> Child {
        Command::new(program)
            .args(args)
            .current_dir(self.farm.src())
            .env_clear()
            .envs(self.env(hosts))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn monitor(&self, no_color: bool) -> Tmux {
        let mut env = self.env(&self.hosts());
        env.push(("TERM", "xterm-256color".into()));
        if no_color {
            env.push(("NO_COLOR", "1".into()));
        }
        let argv = [
            support::bin("distccmon-tui").display().to_string(),
            "--stats-port".into(),
            "0".into(),
            "--stats".into(),
            format!("{}={}", self.daemon.host(""), self.stats_port),
        ];
        Tmux::start(self.farm.root.path(), &env, &argv)
    }

    /// Let the held compiles finish.
    fn open_gate(&self) {
        std::fs::write(self.farm.path("run").join(format!("{SLOW_CC}.go")), "").unwrap();
    }
}

fn wait_ok(child: Child, what: &str) {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        support::text(&out.stderr)
    );
}

/// Run one build with `client` and watch it: three jobs held on the
/// daemon, a fallback made first (which puts the dead host in backoff).
fn watch_a_build(client: &Path, tag: &str, records: bool, no_color: bool) -> [String; 2] {
    let b = Build::new(tag);
    // Only the dead host: it fails, goes into backoff, the job compiles here.
    let fallback = b.client(client, &b.dead, &["gcc", "-c", "f0.c", "-o", "f0.o"]);
    wait_ok(fallback, "the fallback");
    let mon = b.monitor(no_color);
    let jobs: Vec<Child> = (0..3)
        .map(|i| {
            let (src, obj) = (format!("s{i}.c"), format!("s{i}.o"));
            b.client(client, &b.hosts(), &[SLOW_CC, "-c", &src, "-o", &obj])
        })
        .collect();
    let d = b.daemon.host("");
    let screen = mon.wait_for("three jobs compiling on the daemon", |s| {
        s.matches(" Compile ").count() == 3
            && s.lines()
                .any(|l| l.starts_with(&format!("{d} ")) && l.contains(" 3/4 "))
    });
    for i in 0..3 {
        assert!(screen.contains(&format!("s{i}.c")), "{screen}");
        assert!(
            screen.contains(&format!("{d}[")),
            "jobs name their host: {screen}"
        );
    }
    assert_eq!(mon.coloured(), !no_color, "NO_COLOR={no_color}: {screen}");
    let dead = row(&screen, &b.dead);
    assert_eq!(dead[1], "0/1", "{screen}");
    assert_eq!(dead[6], "backoff", "{screen}");
    let secs: u64 = dead[7].trim_end_matches('s').parse().unwrap();
    assert!((1..=60).contains(&secs), "{screen}");
    if records {
        // Our client's records say why the first job stayed here.
        assert!(
            screen.contains("fallbacks to local in 10m: hosts-failed 1"),
            "{screen}"
        );
        assert!(screen.contains("hosts-failed  f0.c"), "{screen}");
        assert_eq!(dead[3], "1", "one failure on the dead host: {screen}");
    }
    // Keys: sort, then pause (the screen keeps the running jobs).
    mon.send("s");
    mon.wait_for("the busy order", |s| s.contains("s sort: busy"));
    let sorted = mon.screen().unwrap();
    let first_host = sorted
        .lines()
        .skip_while(|l| !l.starts_with("HOST"))
        .nth(1)
        .unwrap();
    assert!(first_host.starts_with(&d), "busiest first: {sorted}");
    mon.send("p");
    mon.wait_for("PAUSED", |s| s.contains("PAUSED") && s.contains("p resume"));
    b.open_gate();
    for (i, j) in jobs.into_iter().enumerate() {
        wait_ok(j, &format!("job {i}"));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let paused = mon.screen().unwrap();
    assert_eq!(paused.matches(" Compile ").count(), 3, "paused: {paused}");
    mon.send("p");
    let done = mon.wait_for("the jobs done on the daemon", |s| {
        s.contains("no jobs running")
            && s.lines()
                .any(|l| l.starts_with(&format!("{d} ")) && row(s, &d)[2] == "3")
            && s.contains("/min ")
    });
    let drow = row(&done, &d);
    assert_eq!(&drow[1..4], ["0/4", "3", "0"], "{done}");
    if records {
        assert!(drow[4].parse::<u64>().is_ok(), "average compile ms: {done}");
    }
    assert!(done.contains("4 done in 10m") || !records, "{done}");
    mon.send("q");
    let deadline = Instant::now() + Duration::from_secs(10);
    while mon.running() {
        assert!(Instant::now() < deadline, "q did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    [screen, done]
}

#[test]
fn shows_a_build_with_our_client() {
    require_tool!("tmux");
    // Shown with --nocapture: the captures in docs/monitor.md.
    let [running, done] = watch_a_build(&support::bin("distcc"), "tui-ours", true, false);
    eprintln!("{running}\n{done}");
}

#[test]
fn shows_a_build_with_debians_3_4_client() {
    require_tool!("tmux");
    require_tool!(DEBIAN_DISTCC);
    // With NO_COLOR: the same screen, without a colour.
    watch_a_build(Path::new(DEBIAN_DISTCC), "tui-debian", false, true);
}

/// Every file under `dir`: path, size, mtime, mode and content.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, SystemTime, u32, Vec<u8>)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            }
            let content = if m.is_file() {
                std::fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            out.push((
                e.path(),
                m.len(),
                m.modified().unwrap(),
                m.permissions().mode(),
                content,
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn writes_nothing() {
    require_tool!("tmux");
    let b = Build::new("tui-readonly");
    // A directory as clients leave it: a fallback (record, backoff file,
    // lock files), a state file of a job gone for minutes (3.4's monitor
    // would remove it), a foreign file.
    let f = b.client(
        &support::bin("distcc"),
        &b.dead,
        &["gcc", "-c", "f0.c", "-o", "f0.o"],
    );
    wait_ok(f, "the fallback");
    let ddir = b.farm.path("ddir");
    let stale = ddir.join("state/binstate_999999");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, vec![0u8; 296]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(300))
        .unwrap();
    std::fs::write(ddir.join("hosts"), format!("{}\n", b.hosts())).unwrap();
    let before = snapshot(&ddir);
    assert!(before.len() > 5, "{before:?}");
    let mon = b.monitor(false);
    mon.wait_for("the hosts", |s| {
        s.contains(&b.dead) && s.contains("backoff")
    });
    for key in ["s", "s", "p", "p"] {
        mon.send(key);
        std::thread::sleep(Duration::from_millis(600));
    }
    mon.send("q");
    while mon.running() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let once = Command::new(support::bin("distccmon-tui"))
        .arg("--once")
        .env_clear()
        .envs(b.env(&b.hosts()))
        .output()
        .unwrap();
    assert!(once.status.success(), "{}", support::text(&once.stderr));
    assert!(support::text(&once.stdout).contains("backoff"));
    assert_eq!(
        snapshot(&ddir),
        before,
        "distccmon-tui changed {}",
        ddir.display()
    );
    assert!(stale.exists());
}
