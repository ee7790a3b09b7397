//! Tests of the placement's pure decisions (`placement.rs`).

use super::*;

fn h(slots: u32, ms: Option<f64>) -> HostView {
    HostView {
        slots,
        ms_per_kib: ms,
        backlog: None,
        affinity: None,
    }
}

/// The hosts `hosts` with a job's weights for source `key` (host `i`
/// named `h<i>`; `local` ones without).
fn placed(hosts: &[HostView], key: &str, local: &[usize]) -> Vec<HostView> {
    let mut out = hosts.to_vec();
    for (i, h) in out.iter_mut().enumerate() {
        if !local.contains(&i) {
            h.affinity = Some(affinity(key.as_bytes(), &format!("h{i}")));
        }
    }
    out
}

/// The host a job takes: the first pair of the order not `busy`.
fn taken(hosts: &[HostView], busy: &[(usize, u32)]) -> Option<usize> {
    order(hosts)
        .into_iter()
        .find(|p| !busy.contains(p))
        .map(|p| p.0)
}

#[test]
fn two_builds_place_a_file_on_the_same_host_whatever_else_runs() {
    let hosts = [h(4, None), h(4, Some(10.0)), h(4, Some(12.0))];
    // The second build finds other jobs on slot 0 of hosts 0 and 1,
    // and on every slot but slot 0 of host 2.
    let busy = [(0, 0), (1, 0), (2, 1), (2, 2), (2, 3)];
    let mut first_hosts = Vec::new();
    for k in 0..60 {
        let key = format!("/src/lib/file{k}.c");
        let first = taken(&placed(&hosts, &key, &[]), &[]).unwrap();
        assert_eq!(taken(&placed(&hosts, &key, &[]), &busy), Some(first));
        first_hosts.push(first);
    }
    // Spread over the hosts, not all on the first.
    for i in 0..3 {
        let n = first_hosts.iter().filter(|&&x| x == i).count();
        assert!((10..=30).contains(&n), "host {i}: {n} of 60");
    }
    // In 3.4's order the second build moves every file from host 0
    // to host 2.
    assert_eq!(taken(&hosts, &[]), Some(0));
    assert_eq!(taken(&hosts, &busy), Some(2));
}

#[test]
fn affinity_keeps_the_tier_the_queues_and_the_local_hosts_places() {
    let key = "/src/a.c";
    // A slow host stays out, whatever its weight.
    let hosts = placed(&[h(2, Some(10.0)), h(2, Some(40.0))], key, &[]);
    assert!(order(&hosts).iter().all(|&(i, _)| i == 0));
    // A host with a queue comes after the others.
    let hosts = placed(&[queued(2, None, 1.0), h(2, None), h(2, None)], key, &[]);
    let got = order(&hosts);
    assert!(got[4..].iter().all(|&(i, _)| i == 0), "{got:?}");
    // A local host (no weight) keeps 3.4's places: slot 0 first, its
    // slot 1 after every host's slot 0.
    let hosts = placed(&[h(2, None), h(2, None), h(2, None)], key, &[0]);
    let got = order(&hosts);
    assert_eq!((got[0], got[3]), ((0, 0), (0, 1)), "{got:?}");
    let remote: Vec<usize> = [1, 2, 4, 5].iter().map(|&p| got[p].0).collect();
    assert_eq!(remote[0], remote[1], "{got:?}");
    assert_eq!(remote[2], remote[3], "{got:?}");
    // Rendezvous: the list's order does not change the choice.
    let a = affinity(key.as_bytes(), "tcp_10.0.0.1_3632");
    let b = affinity(key.as_bytes(), "tcp_10.0.0.2_3632");
    let two = |x, y| {
        let mut v = [h(1, None), h(1, None)];
        v[0].affinity = Some(x);
        v[1].affinity = Some(y);
        order(&v)[0].0
    };
    assert_eq!(two(a, b), 1 - two(b, a));
}

fn queued(slots: u32, ms: Option<f64>, backlog: f64) -> HostView {
    HostView {
        backlog: Some(backlog),
        ..h(slots, ms)
    }
}

#[test]
fn a_host_whose_daemon_reports_a_queue_comes_last_in_the_tier() {
    // Unmeasured hosts: the one with a queue behind the one without;
    // a queue of 0 reported is no queue.
    let hosts = [queued(2, None, 1.5), h(2, None), queued(1, None, 0.0)];
    assert_eq!(order(&hosts), vec![(1, 0), (2, 0), (1, 1), (0, 0), (0, 1)]);
    assert_eq!(backlog(6, Some(4)), 1.5);
    assert_eq!(backlog(3, None), 3.0);
    assert_eq!(backlog(3, Some(0)), 3.0);
}

#[test]
fn a_long_queue_takes_a_fast_host_out_of_the_tier() {
    // 10 ms/KiB behind 3 jobs per slot is 40: twice the 15 of a free
    // host is 30, so the fast host waits.
    let hosts = [queued(4, Some(10.0), 3.0), h(4, Some(15.0))];
    assert_eq!(effective(&hosts[0]), Some(40.0));
    let got = order(&hosts);
    assert!(got.iter().all(|&(i, _)| i == 1), "{got:?}");
    // A short queue keeps it in, behind the free host.
    let hosts = [queued(1, Some(10.0), 0.5), h(1, Some(15.0))];
    assert_eq!(order(&hosts), vec![(1, 0), (0, 0)]);
}

#[test]
fn a_job_waits_for_its_home_only_in_the_tier_and_without_a_queue() {
    let hosts = [h(4, Some(10.0)), h(4, Some(12.0)), h(4, Some(40.0))];
    let got = order(&hosts);
    let half = Some(Duration::from_millis(150));
    assert_eq!(home_wait(&hosts, &got, 1, 300), half);
    assert_eq!(home_wait(&hosts, &got, 2, 300), None, "slow");
    assert_eq!(home_wait(&hosts, &got, 3, 300), None, "no such host");
    assert_eq!(
        home_wait(&hosts, &got, 0, u16::MAX),
        Some(HOME_WAIT_MAX),
        "bounded"
    );
    let hosts = [queued(4, Some(10.0), 0.5), h(4, Some(12.0))];
    assert_eq!(home_wait(&hosts, &order(&hosts), 0, 300), None, "queue");
    let hosts = [queued(4, None, 0.0), h(4, None)];
    assert_eq!(home_wait(&hosts, &order(&hosts), 0, 300), half);
}

#[test]
fn with_nothing_measured_the_order_is_3_4s() {
    let hosts = [h(2, None), h(1, None), h(3, None)];
    assert_eq!(
        order(&hosts),
        vec![(0, 0), (1, 0), (2, 0), (0, 1), (2, 1), (2, 2)]
    );
}

#[test]
fn a_slow_host_gets_no_job_while_a_faster_one_is_usable() {
    // Two equal hosts and one four times slower.
    let hosts = [h(4, Some(10.0)), h(4, Some(40.0)), h(4, Some(15.0))];
    let got = order(&hosts);
    assert!(got.iter().all(|&(i, _)| i != 1), "{got:?}");
    assert_eq!(&got[..2], &[(0, 0), (2, 0)]);
    // Alone, the slow host is the tier.
    assert_eq!(order(&[h(2, Some(40.0))]), vec![(0, 0), (0, 1)]);
}

#[test]
fn hosts_within_the_factor_share_the_work_in_list_order() {
    let hosts = [h(2, Some(19.0)), h(2, Some(10.0))];
    assert_eq!(order(&hosts), vec![(0, 0), (1, 0), (0, 1), (1, 1)]);
}

#[test]
fn waiting_for_a_faster_slot_looks_again_soon() {
    let second = Duration::from_secs(1);
    // Every slot in the order, all busy: 3.4's pause.
    let equal = [h(2, Some(10.0)), h(2, Some(12.0))];
    assert_eq!(order(&equal).len(), 4);
    assert_eq!(retry_after(second, &equal, 4), second);
    // The 4x host's free slots are passed over: look again soon.
    let mixed = [h(2, Some(40.0)), h(2, Some(10.0)), h(2, Some(10.0))];
    let ordered = order(&mixed).len();
    assert_eq!(ordered, 4);
    assert_eq!(retry_after(second, &mixed, ordered), LEFT_OUT_POLL);
    // A shorter pause of the user's stays.
    let short = Duration::from_millis(20);
    assert_eq!(retry_after(short, &mixed, ordered), short);
}

#[test]
fn an_unmeasured_host_is_tried() {
    let hosts = [h(1, Some(10.0)), h(1, None), h(1, Some(100.0))];
    assert_eq!(order(&hosts), vec![(0, 0), (1, 0)]);
}

#[test]
fn averages_follow_a_change_within_a_few_jobs() {
    let mut s = update(None, 10.0);
    assert_eq!(s, (10.0, 1));
    s = update(Some(s), 20.0);
    assert_eq!(s.0, 15.0);
    for _ in 0..10 {
        s = update(Some(s), 40.0);
    }
    assert!(s.0 > 38.0, "{s:?}");
    assert!((sample(1000.0, 1024 * 9) - 100.0).abs() < 1e-9);
}
