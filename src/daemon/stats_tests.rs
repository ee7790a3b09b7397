//! The `--stats` figures: counters, the longest job, the 1/5/15-minute
//! windows of the ring, and the JSON carrying the same figures.

use super::*;
use std::time::Duration;

fn summary(category: Category, ms: u64, file: &str) -> Summary {
    Summary {
        peer: "127.0.0.1:1".into(),
        category,
        status: 0,
        ret: 0,
        elapsed: Duration::from_millis(ms),
        compiler: Some("gcc".into()),
        input: Some(file.into()),
    }
}

#[test]
fn counters_longest_job_and_windows() {
    let stats = Stats::new(4, "/usr/bin/distccd");
    drop(stats.accepted());
    let _busy = stats.accepted();
    stats.record(&summary(Category::CompileOk, 30, "a.c"));
    stats.record(&summary(Category::CompileOk, 90, "slow.c"));
    stats.record(&summary(Category::CompileError, 500, "bad.c"));
    stats.tick();
    stats.record(&summary(Category::RejBadReq, 1, "x.c"));
    let page = stats.snapshot(System::default()).text_page();
    for line in [
        "argv /usr/bin/distccd",
        "dcc_tcp_accept 2",
        "dcc_compile_ok 2",
        "dcc_compile_error 1",
        "dcc_rej_bad_req 1",
        "dcc_longest_job slow.c",
        "dcc_longest_job_time_msecs 90",
        "dcc_max_kids 4",
        "dcc_avg_kids1 1",
        "dcc_num_compiles1 3",
        "dcc_load1 0.00",
        "dcc_max_RSS_name ()",
        "dcc_free_space 0 MB",
    ] {
        assert!(
            page.contains(&format!("\n{line}\n")),
            "missing {line:?} in\n{page}"
        );
    }
    assert!(page.starts_with("HTTP/1.0 200 OK\nContent-Type: text/plain\n"));
    assert!(page.ends_with("</distccstats>\n"));
}

#[test]
fn json_has_the_same_figures() {
    let stats = Stats::new(2, "d\"q");
    stats.record(&summary(Category::CompileOk, 7, "a\\b.c"));
    let json = stats.snapshot(System::default()).json_page();
    let body = json.split("\n\n").nth(1).unwrap();
    assert!(body.starts_with("{\"argv\":\"d\\\"q\""), "{body}");
    assert!(body.contains("\"dcc_compile_ok\":1"));
    assert!(body.contains("\"dcc_longest_job\":\"a\\\\b.c\""));
    assert!(body.contains("\"dcc_load1\":0.00"));
    assert!(body.trim_end().ends_with('}'));
}

#[test]
fn ring_keeps_fifteen_minutes() {
    let stats = Stats::new(1, "d");
    for _ in 0..RING_SLOTS + 10 {
        stats.record(&summary(Category::CompileOk, 1, "a.c"));
        stats.tick();
    }
    let snap = stats.snapshot(System::default());
    assert_eq!(snap.num_compiles, [20, 100, 300]);
}
