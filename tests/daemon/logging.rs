//! What distccd tells its operator (issue 11): plain words, not Rust's
//! debug notation; each step of a job at `--log-level debug` (and with
//! `--verbose`, `--wizard`) while the info level stays as it was; a stats
//! page whose `dcc_io_rate` does not depend on how recently someone asked;
//! and a client that gives up before sending its source (its preprocessor
//! failed) counted as 3.4 counts it, not as a bad request.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::harness::{DEBIAN_DISTCCD, Daemon, Farm, Kind, Opts, distcc, http_get, text};
use crate::{require_tool, support};

const HELLO: &str = "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n";

fn stats_opts(port: u16, more: &[&str]) -> Opts {
    let mut args: Vec<String> = vec!["--stats".into(), "--stats-port".into(), port.to_string()];
    args.extend(more.iter().map(|s| s.to_string()));
    Opts {
        args,
        ..Opts::default()
    }
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !support::listening(port) {
        assert!(Instant::now() < deadline, "port {port} not listening");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The value of `key` on a stats page.
fn stat(page: &str, key: &str) -> i64 {
    page.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in\n{page}"))
}

#[test]
fn log_lines_show_addresses_and_files_not_rust_values() {
    let farm = Farm::new("log-plain");
    let stats_port = support::free_port();
    let d = farm.daemon(Kind::Ours, &stats_opts(stats_port, &[]));
    let want = format!("stats server listening on 127.0.0.1:{stats_port}");
    assert!(d.wait_log(&want), "{}", d.log_text());
    assert!(!d.log_text().contains("Ok("), "{}", d.log_text());
    // A --log-file that cannot be opened: said on stderr in 3.4's words,
    // then syslog takes over.
    let out = Command::new(support::bin("distccd"))
        .args(["--daemon", "--no-detach", "--lifetime", "1"])
        .args(["--listen", "127.0.0.1", "--allow", "127.0.0.1"])
        .args(["--port", &support::free_port().to_string()])
        .arg("--log-file")
        .arg(farm.path("no-such-dir/distccd.log"))
        .env("TMPDIR", farm.path("dtmp"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    let want = format!(
        "failed to open logfile {}: No such file or directory",
        farm.path("no-such-dir/distccd.log").display()
    );
    assert!(err.contains(&want), "{err}");
    assert!(!err.contains("File(") && !err.contains("os error"), "{err}");
}

/// One job from Debian's client, with the daemon at `level`; the log.
fn one_job_log(tag: &str, args: &[&str]) -> (String, Farm) {
    let farm = Farm::new(tag);
    farm.write_src("hello.c", HELLO);
    let opts = Opts {
        args: args.iter().map(|s| s.to_string()).collect(),
        ..Opts::default()
    };
    let d = farm.daemon(Kind::Ours, &opts);
    let out = distcc(
        &farm,
        &d.host(",lzo"),
        &["gcc", "-c", "hello.c", "-o", "hello.o"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(d.wait_compiles(1), 1, "{}", d.log_text());
    (d.log_text(), farm)
}

/// Lines that only a debug log has, one per step of the job.
const STEPS: &[&str] = &[
    "request: protocol 2, 5 arguments",
    "received the preprocessed source",
    "compile command (in ",
    " exited with status 0 after ",
    "sent DONE00000002 STAT00000000",
];

#[test]
fn debug_logs_each_step_of_a_job_and_info_stays_short() {
    require_tool!(super::harness::DEBIAN_DISTCC);
    let (info, _f) = one_job_log("log-info", &[]);
    for step in STEPS {
        assert!(!info.contains(step), "{step:?} at info level:\n{info}");
    }
    for (tag, args) in [
        ("log-debug", &["--log-level", "debug"][..]),
        ("log-verbose", &["--verbose"]),
    ] {
        let (debug, _f) = one_job_log(tag, args);
        for step in STEPS {
            assert!(debug.contains(step), "{args:?}: no {step:?} in\n{debug}");
        }
        assert!(
            debug.lines().count() >= info.lines().count() + STEPS.len(),
            "{debug}"
        );
    }
}

#[test]
fn wizard_mode_logs_debug_lines_on_stderr() {
    require_tool!(super::harness::DEBIAN_DISTCC);
    let farm = Farm::new("log-wizard");
    farm.write_src("hello.c", HELLO);
    let port = support::free_port();
    let mut child = support::GroupChild::spawn(
        Command::new(support::bin("distccd"))
            .args(["--wizard", "--lifetime", "60", "--listen", "127.0.0.1"])
            .args(["--allow", "127.0.0.1", "--port", &port.to_string()])
            .arg("--masquerade-dir")
            .arg(farm.path("masq"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("TMPDIR", farm.path("dtmp"))
            .stdin(Stdio::null())
            .stderr(Stdio::piped()),
    )
    .unwrap();
    wait_listening(port);
    let out = distcc(
        &farm,
        &format!("127.0.0.1:{port},lzo"),
        &["gcc", "-c", "hello.c", "-o", "hello.o"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut err = child.0.stderr.take().unwrap();
    let mut log = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 4096];
    while !text(&log).contains("COMPILE_OK") && Instant::now() < deadline {
        match err.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => log.extend_from_slice(&buf[..n]),
        }
    }
    child.signal_group(nix::sys::signal::Signal::SIGTERM);
    let log = text(&log);
    for step in STEPS {
        assert!(log.contains(step), "no {step:?} in\n{log}");
    }
}

/// Disk sectors read and written so far on the first whole disk, as
/// 3.4's stats code counts them.
fn disk_sectors() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/diskstats").ok()?;
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let name = *f.get(2)?;
        let whole = ["sd", "hd", "vd", "xvd"]
            .iter()
            .any(|p| name.starts_with(p))
            && !name.ends_with(|c: char| c.is_ascii_digit())
            || (name.starts_with("nvme") && !name.contains('p'));
        if !whole {
            return None;
        }
        Some(f.get(5)?.parse::<u64>().ok()? + f.get(9)?.parse::<u64>().ok()?)
    })
}

#[test]
fn io_rate_is_the_same_for_two_requests_in_a_row() {
    let farm = Farm::new("stats-io");
    let stats_port = support::free_port();
    let _d = farm.daemon(Kind::Ours, &stats_opts(stats_port, &[]));
    wait_listening(stats_port);
    // Some disk writes the window must see: 8 MiB, synced, in cargo's
    // target directory (a real disk, where /tmp may be a tmpfs).
    let before = disk_sectors();
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("io-rate-{}.bin", std::process::id()));
    {
        let mut f = std::fs::File::create(&file).unwrap();
        f.write_all(&vec![0x5a; 8 << 20]).unwrap();
        f.sync_all().unwrap();
    }
    std::fs::remove_file(&file).unwrap();
    let after = disk_sectors();
    if before.is_none() || before == after {
        assert!(
            !support::ci(),
            "no disk activity visible in /proc/diskstats ({before:?} -> {after:?})"
        );
        eprintln!("skipping: this machine shows no disk activity");
        return;
    }
    // The window needs a second of history.
    std::thread::sleep(Duration::from_millis(1100));
    let first = stat(&http_get(stats_port, "/"), "dcc_io_rate");
    let second = stat(&http_get(stats_port, "/"), "dcc_io_rate");
    // 3.4 measures over about a minute, so asking twice in a row gives
    // about the same answer, and the writes above are in it.
    assert!(first > 0, "first request: {first}");
    assert!(second > 0, "second request right after: {second}");
}

/// A source whose header is missing: the client's preprocessor fails
/// after the request's head went out, and the client hangs up.
const MISSING_HEADER: &str = "#include \"no-such-header.h\"\nint x;\n";

#[test]
fn a_client_whose_preprocessor_failed_is_not_a_bad_request() {
    require_tool!(super::harness::DEBIAN_DISTCC);
    require_tool!(DEBIAN_DISTCCD);
    let mut pages = Vec::new();
    for kind in [Kind::Ours, Kind::Debian] {
        let farm = Farm::new("stats-cppfail");
        farm.write_src("bad.c", MISSING_HEADER);
        let stats_port = support::free_port();
        let d: Daemon = farm.daemon(kind, &stats_opts(stats_port, &[]));
        wait_listening(stats_port);
        // Debian's client and ours: both send the head, then give up.
        let args = ["gcc", "-c", "bad.c", "-o", "bad.o"];
        let out = distcc(&farm, &d.host(""), &args, &[]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let ours = Command::new(support::bin("distcc"))
            .args(args)
            .current_dir(farm.src())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("DISTCC_DIR", farm.path("home"))
            .env("TMPDIR", farm.path("ctmp"))
            .env("DISTCC_HOSTS", d.host(""))
            // A job in 3.4's protocol, as Debian's client sends it: without
            // the extension's probe, which our client sends a new host
            // before its first job (docs/extension.md §7) and which each
            // daemon counts once more.
            .env("DISTCC_EXTENSION", "0")
            .output()
            .unwrap();
        assert_eq!(ours.status.code(), Some(1), "{}", text(&ours.stderr));
        assert_eq!(d.wait_count("OTHER", 2), 2, "{kind:?}: {}", d.log_text());
        // 3.4's children report to the stats server through a pipe: the
        // page may lag the log for a moment.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut page = http_get(stats_port, "/");
        while stat(&page, "dcc_other") < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            page = http_get(stats_port, "/");
        }
        if kind == Kind::Ours {
            assert!(!d.log_text().contains("Warning"), "{}", d.log_text());
        }
        pages.push((stat(&page, "dcc_rej_bad_req"), stat(&page, "dcc_other")));
    }
    assert_eq!(pages[0], pages[1], "ours, then 3.4's (bad_req, other)");
    assert_eq!(pages[0], (0, 2));
}
