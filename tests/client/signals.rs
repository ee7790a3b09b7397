//! Temp files are removed on SIGINT/SIGTERM/SIGHUP (spec §3.13), the
//! signal is passed on as the exit status, and no output file is left
//! half-written.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::fake::{Fake, Mode};
use super::harness::{Farm, HELLO, UTIL_H};
use crate::support;

#[test]
fn signals_remove_temp_files_and_pass_the_signal_on() {
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        let f = Farm::new(&format!("signal-{sig}"));
        f.write("hello.c", HELLO);
        f.write("util.h", UTIL_H);
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
        // Wait until the job waits for its reply (phase Compile): the cpp
        // output is in TMPDIR by then.
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
        assert!(
            !f.leftovers("ctmp").is_empty(),
            "{sig}: the cpp output should exist now"
        );
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
