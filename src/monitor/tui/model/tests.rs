//! The model from samples: host rows, 3.4 clients' jobs counted through
//! their slot locks, throughput buckets, fallbacks, sort orders.

use super::*;

const NOW: u64 = 1_800_000_000_000;

fn host(id: &str, name: &str, limit: u32, holders: &[Option<u32>]) -> HostInput {
    HostInput {
        lock_id: id.into(),
        name: name.into(),
        limit,
        holders: holders.to_vec(),
        backoff_left: None,
        down: false,
    }
}

fn job(pid: u64, host: &str, phase: Phase) -> TaskState {
    TaskState {
        cpid: pid,
        file: format!("f{pid}.c"),
        host: host.into(),
        slot: 0,
        phase,
    }
}

fn rec(pid: u32, end_ms: u64, ran: Ran, why: &str, host: &str, failed: &[&str]) -> JobRecord {
    JobRecord {
        end_ms,
        pid,
        ran: Some(ran),
        why: why.into(),
        host: host.into(),
        failed: failed.iter().map(|s| s.to_string()).collect(),
        phase_ms: [0, 0, 0, 200, 0],
        file: format!("r{pid}.c"),
        ..JobRecord::default()
    }
}

fn sample(
    now_ms: u64,
    hosts: Vec<HostInput>,
    jobs: Vec<TaskState>,
    records: Vec<JobRecord>,
) -> Sample {
    Sample {
        now_ms,
        jobs,
        hosts,
        records,
        ..Sample::default()
    }
}

fn row<'a>(rows: &'a [HostRow], id: &str) -> &'a HostRow {
    rows.iter()
        .find(|r| r.lock_id == id)
        .unwrap_or_else(|| panic!("no {id} in {rows:#?}"))
}

#[test]
fn rows_from_locks_backoff_and_records() {
    let mut a = host("tcp_a_1", "a:1", 4, &[Some(10), Some(11), None, None]);
    a.backoff_left = None;
    let mut b = host("tcp_b_2", "b:2", 2, &[None, None]);
    b.backoff_left = Some(42);
    let mut c = host("tcp_c_3", "c:3", 1, &[None]);
    c.down = true;
    let local = host("localhost", "localhost", 2, &[Some(10), None]);
    let records = vec![
        rec(1, NOW - 5_000, Ran::Remote, "", "tcp_a_1", &[]),
        rec(2, NOW - 4_000, Ran::Remote, "", "tcp_a_1", &["tcp_b_2"]),
        rec(
            3,
            NOW - 3_000,
            Ran::Local,
            "hosts-failed",
            "tcp_b_2",
            &["tcp_b_2"],
        ),
        rec(4, NOW - 2_000, Ran::Remote, "", "tcp_z_9", &[]),
        // Outside the window: dropped.
        rec(5, NOW - 700_000, Ran::Remote, "", "tcp_a_1", &[]),
    ];
    let mut m = Model::new(600_000);
    m.update(sample(NOW, vec![a, b, c, local], vec![], records));
    let rows = m.rows();
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["a:1", "b:2", "c:3", "localhost", "z:9"],
        "list order, then the rest"
    );
    let a = row(&rows, "tcp_a_1");
    assert_eq!(
        (a.busy, a.limit, a.done, a.failures, a.avg_ms, a.per_min),
        (2, 4, 2, 0, Some(200), 2)
    );
    assert_eq!(a.state, HostState::Up);
    let b = row(&rows, "tcp_b_2");
    assert_eq!(
        (b.done, b.failures, b.state.clone()),
        (0, 2, HostState::Backoff(42))
    );
    assert_eq!(row(&rows, "tcp_c_3").state, HostState::Down);
    assert_eq!(row(&rows, "localhost").busy, 1);
    assert_eq!(row(&rows, "tcp_z_9").limit, 0);
    assert_eq!(m.done(), 4);
    let fb = m.fallbacks(5);
    assert_eq!(fb.len(), 1);
    assert_eq!(
        (fb[0].why.as_str(), fb[0].host.as_str(), fb[0].file.as_str()),
        ("hosts-failed", "b:2", "r3.c")
    );
    assert_eq!(m.totals().remote, 3);
}

#[test]
fn jobs_of_clients_without_records_count_through_their_locks() {
    let hosts = |holders: &[Option<u32>], local: &[Option<u32>]| {
        vec![
            host("tcp_a_1", "a:1", 2, holders),
            host("localhost", "localhost", 2, local),
        ]
    };
    let mut m = Model::new(600_000);
    // pid 50 (3.4) preprocesses under a local slot while holding a:1's;
    // pid 60 (ours) compiles on a:1.
    m.update(sample(
        NOW,
        hosts(&[Some(50), Some(60)], &[Some(50), None]),
        vec![
            job(50, "localhost", Phase::Preprocess),
            job(60, "a", Phase::Compile),
        ],
        vec![],
    ));
    assert_eq!(m.jobs().len(), 2);
    assert_eq!(m.host_of(60).as_deref(), Some("a:1"));
    // Both go; ours leaves its record.
    m.update(sample(
        NOW + 1000,
        hosts(&[None, None], &[None, None]),
        vec![],
        vec![rec(60, NOW + 900, Ran::Remote, "", "tcp_a_1", &[])],
    ));
    assert_eq!(
        m.done(),
        1,
        "3.4's job waits for a record that will not come"
    );
    m.update(sample(
        NOW + 3000,
        hosts(&[None, None], &[None, None]),
        vec![],
        vec![],
    ));
    assert_eq!(m.done(), 2);
    let rows = m.rows();
    let a = row(&rows, "tcp_a_1");
    assert_eq!(
        (a.done, a.per_min),
        (2, 2),
        "counted on the remote host, once each"
    );
    assert_eq!(row(&rows, "localhost").done, 0);
    // A state file of a finished job (phase Done) is not a running job.
    m.update(sample(
        NOW + 4000,
        hosts(&[None, None], &[None, None]),
        vec![job(70, "a", Phase::Done)],
        vec![],
    ));
    assert!(m.jobs().is_empty());
}

#[test]
fn throughput_buckets_end_now() {
    let mut m = Model::new(600_000);
    let records = vec![
        rec(1, NOW - 1, Ran::Remote, "", "tcp_a_1", &[]),
        rec(2, NOW - 4_999, Ran::Remote, "", "tcp_a_1", &[]),
        rec(3, NOW - 5_000, Ran::Remote, "", "tcp_a_1", &[]),
        rec(4, NOW - 19_000, Ran::Remote, "", "tcp_a_1", &[]),
        rec(5, NOW - 21_000, Ran::Remote, "", "tcp_a_1", &[]),
    ];
    m.update(sample(NOW, vec![], vec![], records));
    assert_eq!(m.throughput(4, 5_000), [1, 0, 1, 2]);
    assert_eq!(m.throughput(0, 5_000), Vec::<u64>::new());
}

#[test]
fn sort_orders_cycle() {
    let mut m = Model::new(600_000);
    let hosts = vec![
        host("tcp_b_1", "b:1", 2, &[Some(1), None]),
        host("tcp_a_1", "a:1", 2, &[Some(2), Some(3)]),
        host("tcp_c_1", "c:1", 2, &[None, None]),
    ];
    let records = vec![
        rec(1, NOW, Ran::Remote, "", "tcp_c_1", &[]),
        rec(2, NOW, Ran::Remote, "", "tcp_c_1", &["tcp_b_1"]),
    ];
    m.update(sample(NOW, hosts, vec![], records));
    let order = |m: &Model| {
        m.rows()
            .iter()
            .map(|r| r.name.clone())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push((m.sort.label(), order(&m)));
        m.sort = m.sort.next();
    }
    assert_eq!(m.sort, Sort::List, "five orders, then back");
    assert_eq!(
        seen,
        [
            ("host list", "b:1 a:1 c:1".to_string()),
            ("busy", "a:1 b:1 c:1".to_string()),
            ("done", "c:1 b:1 a:1".to_string()),
            ("failures", "b:1 a:1 c:1".to_string()),
            ("name", "a:1 b:1 c:1".to_string()),
        ]
    );
}
