//! Temp files are removed on SIGINT/SIGTERM/SIGHUP (spec §3.13), the
//! signal is passed on as the exit status, and no output file is left
//! half-written.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::fake::{Fake, Mode};
use super::harness::{Farm, HELLO};
use crate::support;

#[test]
fn signals_remove_temp_files_and_pass_the_signal_on() {
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        let f = Farm::with_hello(&format!("signal-{sig}"));
        let fake = Fake::start(Mode::Hang);
        let mut child = f
            .command(
                &support::bin("distcc"),
                &fake.host(),
                &["gcc", "-c", "hello.c", "-o", "out/hello.o"],
                &[],
            )
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let state = f.path(&format!("ddir/state/binstate_{}", child.id()));
        // Wait until the job waits for its reply (phase Compile). The
        // preprocessed text is in memory by then (a race's temp files are
        // tested in tests/client/race.rs); the state file is registered.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let b = std::fs::read(&state).unwrap_or_default();
            if b.len() == 296 && u32::from_ne_bytes(b[284..288].try_into().unwrap()) == 5 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{sig}: job never reached Compile"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(state.exists(), "{sig}: the state file should exist now");
        kill(Pid::from_raw(child.id() as i32), sig).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(sig as i32), "{sig}: {status}");
        assert!(
            f.leftovers("ctmp").is_empty(),
            "{sig}: left {:?}",
            f.leftovers("ctmp")
        );
        assert!(!state.exists(), "{sig}: state file left");
        assert!(
            !f.work().join("out").exists(),
            "{sig}: no output directory or file"
        );
    }
}

/// A compiler the client starts runs with no signal blocked (a mask is
/// inherited through exec), so Ctrl-C reaches it and the client's
/// SIGINT stops it instead of leaving it running on its own.
#[test]
fn compilers_start_with_no_blocked_signal_and_die_with_the_client() {
    let f = Farm::new("signal-mask");
    f.write("hello.c", HELLO);
    let script = f.work().join("slowcc");
    f.write(
        "slowcc",
        "#!/bin/sh\ngrep SigBlk /proc/self/status >\"$0.mask\"\necho $$ >\"$0.pid\"\nexec sleep 60\n",
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // A compile: the client starts our script as its preprocessor (a
    // child it waits for, not an exec of itself).
    let mut child = f
        .command(
            &support::bin("distcc"),
            "127.0.0.1:1",
            &["./slowcc", "-c", "hello.c", "-o", "hello.o"],
            &[],
        )
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = f.work().join("slowcc.pid");
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the compiler never started");
        std::thread::sleep(Duration::from_millis(10));
    };
    let mask = std::fs::read_to_string(f.work().join("slowcc.mask")).unwrap();
    assert_eq!(
        mask.split_whitespace().nth(1),
        Some("0000000000000000"),
        "{mask}"
    );
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(Signal::SIGINT as i32), "{status}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while kill(Pid::from_raw(pid), None).is_ok() {
        // Still running (or a zombie that init has not reaped yet).
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.split_whitespace().nth(2) == Some("Z") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the compiler outlived the client"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
