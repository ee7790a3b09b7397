//! Speed-aware host choice (issue 13): which hosts a job may go to now,
//! and in which order. Pure: the measured speeds come in, decisions go out
//! (ntpd-rs's source selection is the model), tested without sockets.
//!
//! distcc 3.4 takes the first free slot in list order, spreading over
//! every host's slot 0 first; a slow machine gets as many jobs as a fast
//! one, and the build waits for it at the end ("distcc gets slower when I
//! add slow machines", its FAQ). Here:
//!
//! * A host's speed is what this user's clients measured on it: compile
//!   time per KiB of input (the preprocessed text, or pump mode's source
//!   and headers: the same measure whatever the codec or header cache
//!   shrinks on the wire), averaged ([`crate::client::slots::hoststate`]).
//!   It is the same job mix on every host, so the figure ranks them.
//! * The **tier**: hosts no slower than [`SLOW_FACTOR`] times the fastest
//!   usable one. Only they take jobs; a slower host is worth a job only
//!   when every faster one is down, in backoff or unmeasured-and-failing,
//!   because the build would wait for its jobs at the end. (Its slots stay
//!   free: waiting for a faster slot finishes sooner; the waiting client
//!   looks again within [`LEFT_OUT_POLL`], [`retry_after`].)
//! * A host not measured yet counts as fast, so it is tried and measured;
//!   a figure counts only after [`MIN_SAMPLES`] compiles (one slow job on
//!   a busy machine proves nothing), and the figures' store forgets them
//!   after a while, so a host left out is tried again.
//! * A daemon that speaks the extension reports its queue (jobs received
//!   and waiting for a compile slot, from every client, docs/extension.md
//!   §6). A job sent there waits behind them, so a host's figure counts
//!   as if it were `1 + backlog` times slower, where the backlog is the
//!   queue per compile slot ([`effective`]); and within the tier, hosts
//!   that report a queue come after those that report none. Only a
//!   recent report counts ([`QUEUE_FRESH_SECS`]): a queue is gone in
//!   seconds.
//! * Within the tier, 3.4's order: slot 0 of every host in list order,
//!   then slot 1, ...; the user's `/N` stays the ceiling and the list
//!   order the tie-break. With nothing measured and no queue reported the
//!   order is exactly 3.4's.
//! * **Affinity** (pump mode, issue 16): a daemon keeps the sources and
//!   headers it was sent (docs/extension.md §10), so a job sent where its
//!   source went last time sends only what changed. A pump job's source
//!   path ranks the tier's remote hosts by rendezvous hashing
//!   ([`affinity`]): the job takes a free slot of its first host, else of
//!   its second, ..., the same order in every build whatever the other
//!   jobs hold, so a rebuild places a file where the first build did
//!   whenever that host has a free slot. That costs nothing in speed:
//!   every free slot of a host in the tier with no queue is as good as
//!   another (`/N` is the user's statement of what the host takes), and
//!   the hosts that report a queue still come last. Local hosts keep
//!   their places in 3.4's order.

use std::cmp::Reverse;
use std::time::Duration;

use crate::fnv;

/// A host slower than this many times the fastest usable one gets no job
/// while a faster one is usable.
pub const SLOW_FACTOR: f64 = 2.0;

/// Compiles measured before a host's figure is trusted.
pub const MIN_SAMPLES: u32 = 2;

/// How soon a client looks for a slot again when hosts left out of the
/// tier may have free ones.
pub const LEFT_OUT_POLL: Duration = Duration::from_millis(100);

/// A daemon's reported queue older than this many seconds is not used.
pub const QUEUE_FRESH_SECS: u64 = 10;

/// What is known of one usable host.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct HostView {
    /// Its `/N` slots.
    pub slots: u32,
    /// Measured milliseconds of compile per KiB of input, if measured at
    /// least [`MIN_SAMPLES`] times.
    pub ms_per_kib: Option<f64>,
    /// Jobs waiting in its daemon's queue per compile slot, from a report
    /// younger than [`QUEUE_FRESH_SECS`] (3.4 daemons report nothing).
    pub backlog: Option<f64>,
    /// The job's rendezvous weight for this host ([`affinity`]), for a
    /// remote host and a job placed by its source; `None`: 3.4's order.
    pub affinity: Option<u64>,
}

/// The rendezvous weight of host `host` (its lock id) for a job whose
/// source is `key`: each job ranks the hosts by it, highest first. A
/// host added or removed moves only the jobs that rank it first
/// (rendezvous hashing), and the list's order changes nothing.
pub fn affinity(key: &[u8], host: &str) -> u64 {
    // FNV-1a, then splitmix64's finaliser: FNV alone leaves the high bits
    // of similar inputs (paths that differ in a letter) alike.
    let mut h = fnv::extend(fnv::extend(fnv::fnv1a(key), &[0]), host.as_bytes());
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The backlog a status report means: jobs queued per compile slot (a
/// daemon that does not say its slots counts as one).
pub fn backlog(queued: u32, slots: Option<u32>) -> f64 {
    f64::from(queued) / f64::from(slots.unwrap_or(1).max(1))
}

/// A host's figure with its queue: a job waits behind `backlog` jobs per
/// slot, each about as long as its own compile.
pub fn effective(h: &HostView) -> Option<f64> {
    h.ms_per_kib.map(|ms| ms * (1.0 + h.backlog.unwrap_or(0.0)))
}

fn queues(h: &HostView) -> bool {
    h.backlog.is_some_and(|b| b > 0.0)
}

/// The (host, slot) pairs to try, in order: the tier's hosts only, 3.4's
/// slot-by-slot spreading within it, hosts reporting a queue last. Indices
/// are into `hosts`.
pub fn order(hosts: &[HostView]) -> Vec<(usize, u32)> {
    let fastest = hosts
        .iter()
        .filter(|h| h.slots > 0)
        .filter_map(effective)
        .fold(f64::INFINITY, f64::min);
    let in_tier = |h: &HostView| match effective(h) {
        Some(s) if fastest.is_finite() => s <= fastest * SLOW_FACTOR,
        _ => true,
    };
    let max = hosts.iter().map(|h| h.slots).max().unwrap_or(0);
    let mut out = Vec::new();
    for slot in 0..max {
        for (i, h) in hosts.iter().enumerate() {
            if slot < h.slots && in_tier(h) {
                out.push((i, slot));
            }
        }
    }
    by_affinity(hosts, &mut out);
    // Stable: each group keeps 3.4's spreading.
    out.sort_by_key(|&(i, _)| queues(&hosts[i]));
    out
}

/// Regroup the remote hosts' pairs of `order` host by host, highest
/// [`affinity`] first (slot 0, 1, ... of each), in the places they held:
/// a local host's pairs stay where 3.4's order puts them.
fn by_affinity(hosts: &[HostView], order: &mut [(usize, u32)]) {
    let places: Vec<usize> = (0..order.len())
        .filter(|&p| hosts[order[p].0].affinity.is_some())
        .collect();
    let mut remote: Vec<(usize, u32)> = places.iter().map(|&p| order[p]).collect();
    remote.sort_by_key(|&(i, slot)| (Reverse(hosts[i].affinity), i, slot));
    for (p, pair) in places.into_iter().zip(remote) {
        order[p] = pair;
    }
}

/// How long to sleep before looking for a slot again, when no slot in
/// [`order`] (`ordered` pairs) was free: `pause` (3.4's
/// `DISTCC_PAUSE_TIME_MSEC`) when every slot of every host was in the
/// order, so all were busy; at most [`LEFT_OUT_POLL`] when the tier left
/// slots out: the client then waits by choice for a faster slot, and one
/// freed must not idle a whole pause (a second, by default) while the
/// job waits.
pub fn retry_after(pause: Duration, hosts: &[HostView], ordered: usize) -> Duration {
    let all: usize = hosts.iter().map(|h| h.slots as usize).sum();
    if ordered < all {
        pause.min(LEFT_OUT_POLL)
    } else {
        pause
    }
}

/// A new measurement folded into a host's average: an exponentially
/// weighted mean, so a host that gets busier or faster is followed within
/// a few jobs; the first samples count more while there are few.
pub fn update(old: Option<(f64, u32)>, sample: f64) -> (f64, u32) {
    match old {
        None => (sample, 1),
        Some((mean, n)) => {
            let n = n.saturating_add(1);
            let weight = (1.0 / f64::from(n)).max(0.25);
            (mean + weight * (sample - mean), n)
        }
    }
}

/// A sample from one remote compile: milliseconds of compile per KiB of input
/// (the small jobs' fixed cost included, so tiny files do not look
/// infinitely fast or slow).
pub fn sample(compile_ms: f64, input_bytes: u64) -> f64 {
    compile_ms / (input_bytes as f64 / 1024.0 + 1.0)
}

#[cfg(test)]
mod tests {
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
}
