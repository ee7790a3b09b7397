//! The job record's line: the documented text, round trips, lines kept
//! short and whole, foreign lines skipped.

use super::*;

fn sample() -> JobRecord {
    JobRecord {
        end_ms: 1_767_780_000_123,
        pid: 4242,
        ran: Some(Ran::Remote),
        why: String::new(),
        host: "tcp_10.0.0.2_3632".into(),
        failed: vec![],
        sent: 1843,
        received: 912,
        phase_ms: [1, 12, 0, 140, 0],
        total_ms: 155,
        exit: 0,
        file: "hello.c".into(),
    }
}

#[test]
fn the_documented_line() {
    assert_eq!(
        sample().encode(),
        "v=1 end=1767780000123 pid=4242 ran=remote why=- host=tcp_10.0.0.2_3632 failed=- \
         sent=1843 recv=912 connect=1 cpp=12 send=0 compile=140 receive=0 total=155 exit=0 \
         file=hello.c\n"
    );
    assert_eq!(JobRecord::decode(&sample().encode()), Some(sample()));
}

#[test]
fn round_trips() {
    let cases = [
        JobRecord {
            ran: Some(Ran::Local),
            why: "hosts-failed".into(),
            failed: vec!["tcp_a_1".into(), "ssh_b".into()],
            file: "my file\nwith\\odd\u{7}chars é.c".into(),
            exit: -1,
            ..sample()
        },
        JobRecord {
            ran: Some(Ran::Nowhere),
            why: "cpp-failed".into(),
            host: String::new(),
            file: String::new(),
            ..sample()
        },
    ];
    for r in cases {
        let line = r.encode();
        assert_eq!(line.matches('\n').count(), 1, "{line:?}");
        assert_eq!(JobRecord::decode(&line), Some(r.clone()), "{line:?}");
        assert!(r.to_string().ends_with(".c") || r.file.is_empty());
    }
}

#[test]
fn lines_stay_short_and_whole() {
    let r = JobRecord {
        file: "\u{1}".repeat(5000),
        host: "h".repeat(500),
        why: "a b=c".into(),
        ..sample()
    };
    let line = r.encode();
    assert!(line.len() <= MAX_LINE, "{}", line.len());
    assert!(line.ends_with("\\x01\n"), "an escape is never cut");
    let back = JobRecord::decode(&line).unwrap();
    assert_eq!(back.host, "h".repeat(100));
    assert_eq!(back.why, "a_b_c");
}

#[test]
fn foreign_lines_are_skipped() {
    for line in [
        "",
        "garbage",
        "v=2 end=1 pid=1 ran=remote",
        "v=1 end=x pid=1 ran=remote",
        "v=1 end=1 pid=1 ran=elsewhere",
        "v=1 end=1 pid=1",
    ] {
        assert_eq!(JobRecord::decode(line), None, "{line:?}");
    }
    // Unknown keys are fine (a later writer may add some).
    let r = JobRecord::decode("v=1 end=5 pid=1 ran=local why=localhost new=7 file=x.c");
    assert_eq!(r.map(|r| (r.end_ms, r.file)), Some((5, "x.c".into())));
}

#[test]
fn fallbacks_are_the_tried_and_failed() {
    let mut r = JobRecord {
        ran: Some(Ran::Local),
        why: "hosts-failed".into(),
        ..sample()
    };
    assert!(r.is_fallback());
    r.why = "preprocess-only".into();
    assert!(!r.is_fallback());
    r.why = "remote-failed".into();
    r.ran = Some(Ran::Remote);
    assert!(!r.is_fallback());
}
