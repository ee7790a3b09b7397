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
//! * **A home** (pump mode, issue 16): where a source compiled last
//!   ([`crate::client::slots::homes`]). With `make -jN` on N slots a new
//!   job finds the one slot the job make reaped freed, on whichever host,
//!   so affinity alone kept 17-31 of liblzma's 73 files where they were.
//!   A job whose home is in the tier and reports no queue takes a free
//!   slot there first and, when every one is busy, waits for one up to
//!   [`home_wait`]: a fraction of its last compile there, then takes the
//!   order above. The wait bounds what the build can lose: a slot free
//!   elsewhere idles at most that long, once per job. A host in backoff,
//!   failed in this run, slow or queueing is never waited for.

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

/// The part of its last compile a job waits for its home's slot
/// ([`home_wait`]).
pub const HOME_WAIT_FRACTION: f64 = 0.5;

/// The longest a job waits for its home's slot.
pub const HOME_WAIT_MAX: Duration = Duration::from_secs(4);

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
    fnv::mix(fnv::extend(
        fnv::extend(fnv::fnv1a(key), &[0]),
        host.as_bytes(),
    ))
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

/// How long a job waits for a slot of its home `hosts[home]` when all
/// are busy, its last compile there having taken `compile_ms`; `None`:
/// not at all, as the home is out of `order` (slow: not in the tier) or
/// reports a queue (a job sent there waits anyway).
///
/// Why a fraction of the job's own compile: the home's slots are held by
/// jobs of the same build, about as long; with N slots held since random
/// moments one frees within `1/(N+1)` of a job on average, and within half
/// a job `1 - 2^-N` of the time (15 of 16 for `/4`). Longer waits find
/// little more and cost the build more.
pub fn home_wait(
    hosts: &[HostView],
    order: &[(usize, u32)],
    home: usize,
    compile_ms: u16,
) -> Option<Duration> {
    let h = hosts.get(home)?;
    if queues(h) || !order.iter().any(|&(i, _)| i == home) {
        return None;
    }
    let wait = Duration::from_millis(u64::from(compile_ms)).mul_f64(HOME_WAIT_FRACTION);
    Some(wait.min(HOME_WAIT_MAX))
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
#[path = "placement_tests.rs"]
mod tests;
