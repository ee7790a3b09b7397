//! The screen drawn into ratatui's test backend: what an 80x24 terminal
//! shows, and that `NO_COLOR` means no colour.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

use super::*;
use crate::monitor::tui::model::{DaemonFigures, HostInput, Sample};
use crate::state::record::{JobRecord, Ran};
use crate::state::{Phase, TaskState};

const NOW: u64 = 1_800_000_000_000;

fn model() -> Model {
    let host = |id: &str, name: &str, holders: Vec<Option<u32>>, backoff| HostInput {
        lock_id: id.into(),
        name: name.into(),
        limit: holders.len() as u32,
        holders,
        backoff_left: backoff,
        down: false,
    };
    let rec = |pid, ago, ran, why: &str, host: &str, failed: &[&str]| JobRecord {
        end_ms: NOW - ago,
        pid,
        ran: Some(ran),
        why: why.into(),
        host: host.into(),
        failed: failed.iter().map(|s| s.to_string()).collect(),
        phase_ms: [1, 20, 1, 180, 2],
        file: format!("file{pid}.c"),
        ..JobRecord::default()
    };
    let mut daemons = std::collections::BTreeMap::new();
    daemons.insert(
        "tcp_10.0.0.2_3632".to_string(),
        Daemon::Figures(DaemonFigures {
            compiles_1m: 42,
            max_kids: 8,
            load1: 1.25,
        }),
    );
    daemons.insert("tcp_10.0.0.3_3632".to_string(), Daemon::Unreachable);
    let sample = Sample {
        now_ms: NOW,
        jobs: vec![TaskState {
            cpid: 4242,
            file: "parser.c".into(),
            host: "10.0.0.2".into(),
            slot: 1,
            phase: Phase::Compile,
        }],
        hosts: vec![
            host(
                "tcp_10.0.0.2_3632",
                "10.0.0.2:3632",
                vec![None, Some(4242), None, None],
                None,
            ),
            host(
                "tcp_10.0.0.3_3632",
                "10.0.0.3:3632",
                vec![None, None],
                Some(37),
            ),
            host("localhost", "localhost", vec![None, None], None),
        ],
        records: vec![
            rec(1, 30_000, Ran::Remote, "", "tcp_10.0.0.2_3632", &[]),
            rec(
                2,
                20_000,
                Ran::Remote,
                "",
                "tcp_10.0.0.2_3632",
                &["tcp_10.0.0.3_3632"],
            ),
            rec(
                3,
                12_000,
                Ran::Local,
                "hosts-failed",
                "tcp_10.0.0.3_3632",
                &["tcp_10.0.0.3_3632"],
            ),
        ],
        daemons,
        ..Sample::default()
    };
    let mut m = Model::new(600_000);
    m.update(sample);
    m
}

fn render(m: &Model, color: bool, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let opts = ViewOpts {
        color,
        dir: "/var/tmp/portage/.distcc".into(),
    };
    t.draw(|f| draw(f, m, &opts)).unwrap();
    t.backend().buffer().clone()
}

fn lines(b: &Buffer) -> Vec<String> {
    let a = b.area;
    (0..a.height)
        .map(|y| (0..a.width).map(|x| b[(x, y)].symbol()).collect::<String>())
        .collect()
}

#[test]
fn an_80x24_screen_shows_hosts_jobs_backoff_and_fallbacks() {
    let screen = lines(&render(&model(), true, 80, 24));
    let text = screen.join("\n");
    for want in [
        "distcc farm",
        "1 running | 3 done in 10m | 66% remote | 1 fallbacks",
        "HOST",
        "10.0.0.2:3632",
        "1/4",
        "42/min 1.2",
        "10.0.0.3:3632",
        "backoff 37s",
        "no stats",
        "throughput",
        "4242",
        "parser.c",
        "10.0.0.2:3632[1]",
        "fallbacks to local in 10m: hosts-failed 1",
        "hosts-failed  file3.c  10.0.0.3:3632",
        "q quit  p pause  s sort: host list",
    ] {
        assert!(text.contains(want), "no {want:?} on\n{text}");
    }
    let row = screen
        .iter()
        .find(|l| l.starts_with("10.0.0.2:3632"))
        .unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    // host, slots, done, fail, avg ms, /min, state, daemon
    assert_eq!(
        &cols[..7],
        ["10.0.0.2:3632", "1/4", "2", "0", "180", "2", "up"],
        "{row}"
    );
    let b = screen
        .iter()
        .find(|l| l.starts_with("10.0.0.3:3632"))
        .unwrap();
    assert_eq!(b.split_whitespace().nth(3), Some("2"), "two failures: {b}");
}

#[test]
fn no_color_means_no_colour() {
    let m = model();
    let coloured = render(&m, true, 80, 24);
    assert!(
        coloured.content().iter().any(|c| c.fg == Color::Yellow),
        "the backoff is yellow when colours are allowed"
    );
    let plain = render(&m, false, 80, 24);
    for c in plain.content() {
        assert_eq!((c.fg, c.bg), (Color::Reset, Color::Reset), "{c:?}");
    }
    assert_eq!(lines(&coloured), lines(&plain), "the same text either way");
}

#[test]
fn small_and_paused_screens_stay_whole() {
    let mut m = model();
    m.paused = true;
    let text = lines(&render(&m, false, 80, 24)).join("\n");
    assert!(
        text.contains("PAUSED") && text.contains("p resume"),
        "{text}"
    );
    for (w, h) in [(40, 10), (60, 12), (120, 40), (10, 3)] {
        let screen = lines(&render(&m, false, w, h));
        assert_eq!(screen.len(), h as usize);
    }
    let narrow = lines(&render(&m, false, 60, 24)).join("\n");
    assert!(
        !narrow.contains("DAEMON") && narrow.contains("backoff 37s"),
        "{narrow}"
    );
}

#[test]
fn a_host_list_problem_is_said_above_the_rows() {
    let mut m = model();
    let mut sample = m.sample.clone();
    sample.hostlist_problem =
        Some("$DISTCC_HOSTS contained no hosts; can't distribute work".into());
    sample.hosts.truncate(0);
    m.update(sample);
    let screen = lines(&render(&m, false, 80, 24));
    assert!(screen[1].starts_with("HOST "), "{screen:#?}");
    assert_eq!(
        screen[2].trim_end(),
        "$DISTCC_HOSTS contained no hosts; can't distribute work"
    );
    // The hosts of the records follow, none cut.
    assert!(screen[3].starts_with("10.0.0.2:3632 "), "{screen:#?}");
    assert!(!screen.join("\n").contains("more hosts"), "{screen:#?}");
}
