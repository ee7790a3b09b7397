//! The client's counters: phases that add up, the last decision, nothing
//! written when nothing was decided, and the appended, rotated file.

use super::*;

#[test]
fn phases_add_up_and_the_last_decision_wins() {
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    let mut r = Recorder::new();
    r.start(t0);
    r.phase(Phase::Preprocess, at(0));
    r.phase(Phase::Connect, at(5));
    r.phase(Phase::Send, at(7));
    r.phase(Phase::Preprocess, at(8)); // waiting for cpp to finish
    r.phase(Phase::Compile, at(20));
    r.host_failed("tcp_a_1");
    r.ran(Ran::Remote, "", "tcp_b_2");
    r.phase(Phase::Receive, at(120));
    r.phase(Phase::Done, at(125));
    r.ran(Ran::Local, "remote-failed", "");
    r.phase(Phase::Compile, at(130));
    r.file("x.c");
    r.file("");
    let rec = r.record(at(180), 99, 0, (10, 20)).unwrap();
    assert_eq!(rec.phase_ms, [2, 17, 1, 150, 5]);
    assert_eq!(rec.total_ms, 180);
    assert_eq!(rec.ran, Some(Ran::Local));
    assert_eq!(rec.why, "remote-failed");
    assert_eq!(rec.host, "tcp_b_2", "the host that failed the compile");
    assert_eq!(rec.failed, ["tcp_a_1"]);
    assert_eq!((rec.sent, rec.received, rec.end_ms), (10, 20, 99));
    assert!(rec.is_fallback());
    assert_eq!(rec.file, "x.c");
}

#[test]
fn nothing_decided_writes_nothing() {
    let mut r = Recorder::new();
    r.start(Instant::now());
    assert!(r.record(Instant::now(), 1, 0, (0, 0)).is_none());
    r.ran(Ran::Local, "preprocess-only", "");
    let rec = r.record(Instant::now(), 1, 0, (0, 0)).unwrap();
    assert_eq!(rec.host, "localhost");
}

#[test]
fn append_creates_and_rotates() {
    let dir = std::env::temp_dir().join(format!("distcc-stats-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let line = "x".repeat(1000) + "\n";
    append(&dir, &line).unwrap();
    assert_eq!(std::fs::read_to_string(dir.join(FILE)).unwrap(), line);
    let n = ROTATE_AT as usize / line.len();
    for _ in 0..n {
        append(&dir, &line).unwrap();
    }
    let old = std::fs::metadata(dir.join(OLD_FILE)).unwrap().len();
    assert!(old >= ROTATE_AT, "{old}");
    let new = std::fs::metadata(dir.join(FILE)).map_or(0, |m| m.len());
    assert!(new < ROTATE_AT, "{new}");
    std::fs::remove_dir_all(&dir).unwrap();
}
