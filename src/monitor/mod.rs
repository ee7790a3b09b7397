//! `distccmon-text [DELAY]`: the jobs running on this machine, from the
//! state files of our clients and of distcc 3.4's (spec §3.14), in 3.4's
//! format:
//!
//! ```text
//! printf("%6ld  %-10.10s  %-30.30s %24.24s[%d]\n", pid, phase, file, host, slot)
//! ```
//!
//! then an empty line; with DELAY (seconds, may be fractional) it repeats
//! until interrupted. Reader rules as 3.4's `mon.c`: only `binstate_*`
//! files; files older than 60 s are removed; short or foreign records are
//! skipped; jobs whose process is gone are dropped (unless Done); sorted
//! by host, then slot.
//!
//! `distccmon-text --summary [--since WHEN]` (our addition) adds up the
//! client's per-job records instead ([`summary`], read by [`records`]).
//! The full-screen monitor `distccmon-tui` is [`tui`]; it reads the same
//! state files through [`read_states_with`], without removing anything.

pub mod records;
pub mod summary;
pub mod tui;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

use crate::env::Vars;
use crate::error::ExitCode;
use crate::state::{FILE_PREFIX, Phase, TaskState};

/// The exit code after printing the usage, asked for or not (3.4's).
pub const USAGE_EXIT: i32 = 1;

/// State files older than this are stale (3.4: 60 s).
const STALE: Duration = Duration::from_secs(60);

/// Entry point of the program.
pub fn main() -> std::process::ExitCode {
    let vars = Vars::from_process();
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::ExitCode::from(run(&vars, &args) as u8)
}

/// One line of output, in 3.4's format (fields cut to their widths).
pub fn format_line(s: &TaskState) -> String {
    let cut = |t: &str, n: usize| t.chars().take(n).collect::<String>();
    format!(
        "{:>6}  {:<10}  {:<30} {:>24}[{}]",
        s.cpid,
        cut(s.phase.name(), 10),
        cut(&s.file, 30),
        cut(&s.host, 24),
        s.slot
    )
}

/// Sort as 3.4 does: by host (byte order), then slot.
pub fn sort(states: &mut [TaskState]) {
    states.sort_by(|a, b| a.host.cmp(&b.host).then(a.slot.cmp(&b.slot)));
}

/// Whether the process is alive (`kill(pid, 0)`; EPERM counts as alive).
fn alive(pid: u64) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    !matches!(kill(Pid::from_raw(pid), None), Err(Errno::ESRCH))
}

/// Read the jobs in `dir` (removing stale files as 3.4 does).
pub fn read_states(dir: &Path) -> io::Result<Vec<TaskState>> {
    read_states_with(dir, true)
}

/// Read the jobs in `dir`; stale files are skipped, and removed only when
/// `remove_stale` (3.4's monitor removes them; a read-only viewer may not).
pub fn read_states_with(dir: &Path, remove_stale: bool) -> io::Result<Vec<TaskState>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(FILE_PREFIX) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        if age > STALE {
            if remove_stale {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(state) = TaskState::decode(&bytes) else {
            continue;
        };
        if state.phase != Phase::Done && !alive(state.cpid) {
            continue;
        }
        out.push(state);
    }
    sort(&mut out);
    Ok(out)
}

/// The state directory: `$DISTCC_DIR/state` or `~/.distcc/state`.
pub fn state_dir(vars: &Vars) -> Option<PathBuf> {
    vars.distcc_dir().map(|d| d.join("state"))
}

fn usage() -> String {
    format!(
        "distccmon-text {} (distcc-rs, compatible with distcc {})\n\
         Usage: distccmon-text [DELAY]\n\
         \x20      distccmon-text --summary [--since WHEN]\n\n\
         Shows the compile jobs running on this machine (from $DISTCC_DIR/state,\n\
         default ~/.distcc/state). With DELAY, repeats every DELAY seconds.\n\n\
         --summary adds up what our distcc client recorded of each compile in\n\
         $DISTCC_DIR/stats: jobs remote and local, fallbacks by reason, bytes,\n\
         time per phase, and per host. --since WHEN keeps the jobs that ended in\n\
         the last WHEN (90, 90s, 15m, 2h, 1d) or after @EPOCH-SECONDS.\n",
        crate::version::VERSION,
        crate::version::COMPAT_VERSION
    )
}

/// The whole program; returns the exit code.
pub fn run(vars: &Vars, args: &[String]) -> i32 {
    // 3.4 answers anything but one DELAY with its usage and exit code 1,
    // `--help` included (issue 11).
    if args.first().is_some_and(|a| a == "--summary") {
        return summary_command(vars, &args[1..]);
    }
    let delay = match args {
        [] => None,
        [a] if a == "--help" || a == "-h" => {
            print!("{}", usage());
            return USAGE_EXIT;
        }
        [a] if a == "--version" => {
            println!("distccmon-text {} (distcc-rs)", crate::version::VERSION);
            return 0;
        }
        [a] => match a.parse::<f64>() {
            Ok(d) if d.is_finite() && d >= 0.0 => Some(Duration::from_secs_f64(d)),
            _ => {
                eprintln!(
                    "distccmon-text: DELAY must be a number of seconds, not {a:?}\n{}",
                    usage()
                );
                return USAGE_EXIT;
            }
        },
        _ => {
            eprint!("{}", usage());
            return USAGE_EXIT;
        }
    };
    let Some(dir) = state_dir(vars) else {
        eprintln!("distccmon-text: neither DISTCC_DIR nor HOME is set");
        return ExitCode::BadArguments.code();
    };
    let stdout = io::stdout();
    loop {
        let states = match read_states(&dir) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("distccmon-text: cannot read {}: {e}", dir.display());
                return ExitCode::IoError.code();
            }
        };
        let mut text = String::new();
        for s in states.iter().filter(|s| s.phase != Phase::Done) {
            text.push_str(&format_line(s));
            text.push('\n');
        }
        text.push('\n');
        let mut out = stdout.lock();
        if out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            return 0; // closed pipe (`| head`): a normal end
        }
        drop(out);
        match delay {
            Some(d) => std::thread::sleep(d),
            None => return 0,
        }
    }
}

/// `WHEN` of `--since`, as a time in milliseconds since the epoch:
/// `@SECONDS` is absolute, a number with an optional `s`, `m`, `h` or `d`
/// is that long before `now_ms`.
pub fn parse_since(when: &str, now_ms: u64) -> Option<u64> {
    if let Some(epoch) = when.strip_prefix('@') {
        return epoch.parse::<u64>().ok()?.checked_mul(1000);
    }
    let (digits, unit) = match when.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => when.split_at(i),
        None => (when, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    let secs = digits.parse::<u64>().ok()?.checked_mul(scale)?;
    Some(now_ms.saturating_sub(secs.saturating_mul(1000)))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `distccmon-text --summary [--since WHEN]`.
fn summary_command(vars: &Vars, args: &[String]) -> i32 {
    let since = match args {
        [] => 0,
        [flag, when] if flag == "--since" => match parse_since(when, now_ms()) {
            Some(t) => t,
            None => {
                eprintln!(
                    "distccmon-text: --since wants 90, 90s, 15m, 2h, 1d or @EPOCH-SECONDS, not {when:?}"
                );
                return USAGE_EXIT;
            }
        },
        _ => {
            eprint!("{}", usage());
            return USAGE_EXIT;
        }
    };
    let Some(top) = vars.distcc_dir() else {
        eprintln!("distccmon-text: neither DISTCC_DIR nor HOME is set");
        return ExitCode::BadArguments.code();
    };
    let dir = records::dir(&top);
    match records::read_all(&dir) {
        Ok(all) => {
            let text = summary::Totals::of(&all, since).render();
            let _ = io::stdout().lock().write_all(text.as_bytes());
            0
        }
        Err(e) => {
            eprintln!("distccmon-text: cannot read {}: {e}", dir.display());
            ExitCode::IoError.code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(host: &str, slot: i32, phase: Phase) -> TaskState {
        TaskState {
            cpid: 21669,
            file: "hello.c".into(),
            host: host.into(),
            slot,
            phase,
        }
    }

    #[test]
    fn line_format_is_3_4s() {
        // Observed from 3.4 (spec §3.14).
        assert_eq!(
            format_line(&st("127.0.0.1", 0, Phase::Compile)),
            " 21669  Compile     hello.c                                       127.0.0.1[0]"
        );
        let mut long = st(&"h".repeat(40), 3, Phase::Preprocess);
        long.file = "f".repeat(40);
        let line = format_line(&long);
        assert_eq!(
            line,
            format!(
                " 21669  Preprocess  {} {}[3]",
                "f".repeat(30),
                "h".repeat(24)
            )
        );
    }

    #[test]
    fn since_takes_ages_and_epochs() {
        let now = 10_000_000;
        for (when, want) in [
            ("90", Some(now - 90_000)),
            ("90s", Some(now - 90_000)),
            ("15m", Some(now - 900_000)),
            ("2h", Some(now - 7_200_000)),
            ("1d", Some(0)),
            ("@1700000000", Some(1_700_000_000_000)),
            ("", None),
            ("5w", None),
            ("m", None),
            ("@x", None),
        ] {
            assert_eq!(parse_since(when, now), want, "{when:?}");
        }
    }

    #[test]
    fn sorted_by_host_then_slot() {
        let mut v = vec![
            st("b", 0, Phase::Send),
            st("a", 2, Phase::Send),
            st("a", 1, Phase::Send),
        ];
        sort(&mut v);
        let order: Vec<(String, i32)> = v.iter().map(|s| (s.host.clone(), s.slot)).collect();
        assert_eq!(
            order,
            vec![("a".into(), 1), ("a".into(), 2), ("b".into(), 0)]
        );
    }

    #[test]
    fn reader_skips_dead_foreign_and_stale_files() {
        let dir = std::env::temp_dir().join(format!("distcc-mon-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let me = TaskState {
            cpid: u64::from(std::process::id()),
            ..st("127.0.0.1", 1, Phase::Compile)
        };
        std::fs::write(dir.join("binstate_1"), me.encode()).unwrap();
        let dead = TaskState {
            cpid: 0x7fff_fff0,
            ..st("x", 0, Phase::Compile)
        };
        std::fs::write(dir.join("binstate_2"), dead.encode()).unwrap();
        std::fs::write(dir.join("binstate_3"), b"short").unwrap();
        std::fs::write(dir.join("other"), me.encode()).unwrap();
        let stale = dir.join("binstate_4");
        std::fs::write(&stale, me.encode()).unwrap();
        let old = SystemTime::now() - Duration::from_secs(120);
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let got = read_states(&dir).unwrap();
        assert_eq!(got, vec![me]);
        assert!(!stale.exists(), "stale files are removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
