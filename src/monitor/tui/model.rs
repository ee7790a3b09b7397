//! What `distccmon-tui` shows, built from what it read (a [`Sample`]) and
//! kept across samples: the host rows, the running jobs, the recent
//! completions for the throughput line, the fallbacks. Pure: the reading
//! is [`super::sources`], the drawing [`super::view`].
//!
//! Two kinds of clients feed it. Ours leaves a record per job
//! ([`crate::state::record`]): host, time of each phase, fallback reason.
//! distcc 3.4's leaves only its state file and its slot locks; a job of
//! such a client is counted as done on the host whose slot its pid held
//! when its state file goes and no record with its pid follows.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::monitor::summary::{Totals, display_host};
use crate::state::record::{JobRecord, Ran};
use crate::state::{Phase, TaskState};

mod input;

pub use input::{Daemon, DaemonFigures, HostInput, Sample};

/// The order of the host rows (the `s` key steps through them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// As in the host list.
    #[default]
    List,
    /// Most slots in use first.
    Busy,
    /// Most jobs done first.
    Done,
    /// Most failures first.
    Failures,
    /// By name.
    Name,
}

impl Sort {
    /// The next order.
    pub fn next(self) -> Self {
        match self {
            Self::List => Self::Busy,
            Self::Busy => Self::Done,
            Self::Done => Self::Failures,
            Self::Failures => Self::Name,
            Self::Name => Self::List,
        }
    }

    /// Its name in the footer.
    pub fn label(self) -> &'static str {
        match self {
            Self::List => "host list",
            Self::Busy => "busy",
            Self::Done => "done",
            Self::Failures => "failures",
            Self::Name => "name",
        }
    }
}

/// A host's state column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostState {
    /// Usable.
    Up,
    /// In backoff for this many more seconds.
    Backoff(u64),
    /// `,down` in the host list.
    Down,
}

/// One row of the hosts table.
#[derive(Clone, Debug, PartialEq)]
pub struct HostRow {
    /// The lock id.
    pub lock_id: String,
    /// How it is shown.
    pub name: String,
    /// Slots held now.
    pub busy: u32,
    /// Slots in the host list (0: not in the list, seen in records).
    pub limit: u32,
    /// Jobs done in the window.
    pub done: u64,
    /// Failures in the window.
    pub failures: u64,
    /// Average compile milliseconds of our client's jobs there.
    pub avg_ms: Option<u64>,
    /// Jobs done there in the last minute.
    pub per_min: u64,
    /// Up, in backoff, or down.
    pub state: HostState,
    /// Its daemon's figures.
    pub daemon: Daemon,
}

/// A job that fell back to a local compile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fallback {
    /// When it ended (ms since the epoch).
    pub end_ms: u64,
    /// Its file.
    pub file: String,
    /// The fallback reason.
    pub why: String,
    /// The host that failed it, as shown.
    pub host: String,
}

/// A job seen running, remembered until its record (or its absence)
/// says how it ended.
#[derive(Clone, Debug)]
struct Running {
    lock_id: String,
    gone_at: Option<u64>,
}

/// The state of the screen.
#[derive(Debug)]
pub struct Model {
    /// How far back the counts go, in milliseconds.
    pub window_ms: u64,
    /// The host rows' order.
    pub sort: Sort,
    /// Sampling is paused (the screen keeps what it shows).
    pub paused: bool,
    /// The latest sample (its records moved to `history`).
    pub sample: Sample,
    /// Our client's records in the window, oldest first.
    history: VecDeque<JobRecord>,
    /// Completions of clients without records: (end ms, lock id).
    observed: VecDeque<(u64, String)>,
    /// Running jobs by pid, with the host whose slot they held last.
    running: BTreeMap<u64, Running>,
    /// Pids of recent records (to tell our jobs from 3.4's).
    recorded: BTreeSet<u32>,
}

/// How long a job that went is waited for before it counts as 3.4's:
/// our client writes its record right after removing its state file.
const RECORD_GRACE_MS: u64 = 1500;

impl Model {
    /// An empty model counting over `window_ms`.
    pub fn new(window_ms: u64) -> Self {
        Self {
            window_ms,
            sort: Sort::default(),
            paused: false,
            sample: Sample::default(),
            history: VecDeque::new(),
            observed: VecDeque::new(),
            running: BTreeMap::new(),
            recorded: BTreeSet::new(),
        }
    }

    /// Take in a new sample.
    pub fn update(&mut self, mut sample: Sample) {
        let now = sample.now_ms;
        let since = now.saturating_sub(self.window_ms);
        for r in sample.records.drain(..) {
            self.recorded.insert(r.pid);
            if r.end_ms >= since {
                self.history.push_back(r);
            }
        }
        while self.history.front().is_some_and(|r| r.end_ms < since) {
            self.history.pop_front();
        }
        while self.observed.front().is_some_and(|(t, _)| *t < since) {
            self.observed.pop_front();
        }
        self.follow_jobs(&sample, now);
        self.sample = sample;
    }

    /// Track running jobs: the host whose slot each pid holds, and the
    /// end of those that left no record.
    fn follow_jobs(&mut self, sample: &Sample, now: u64) {
        let mut holder: BTreeMap<u64, &str> = BTreeMap::new();
        for h in &sample.hosts {
            for pid in h.holders.iter().flatten() {
                // A remote slot says more than the local cpp slot held
                // at the same time.
                let e = holder.entry(u64::from(*pid)).or_insert(&h.lock_id);
                if *e == "localhost" {
                    *e = &h.lock_id;
                }
            }
        }
        let present: BTreeSet<u64> = sample
            .jobs
            .iter()
            .filter(|j| j.phase != Phase::Done)
            .map(|j| j.cpid)
            .collect();
        for pid in &present {
            let r = self.running.entry(*pid).or_insert(Running {
                lock_id: String::new(),
                gone_at: None,
            });
            r.gone_at = None;
            if let Some(id) = holder.get(pid) {
                if r.lock_id.is_empty() || r.lock_id == "localhost" {
                    r.lock_id = (*id).to_owned();
                }
            }
        }
        let mut ended = Vec::new();
        for (pid, r) in self.running.iter_mut() {
            if present.contains(pid) {
                continue;
            }
            let gone = *r.gone_at.get_or_insert(now);
            let ours = u32::try_from(*pid).is_ok_and(|p| self.recorded.contains(&p));
            if ours || now.saturating_sub(gone) >= RECORD_GRACE_MS {
                ended.push((*pid, ours, gone, r.lock_id.clone()));
            }
        }
        for (pid, ours, gone, lock_id) in ended {
            self.running.remove(&pid);
            if !ours && !lock_id.is_empty() {
                self.observed.push_back((gone, lock_id));
            }
        }
        if self.recorded.len() > 100_000 {
            self.recorded.clear();
        }
    }

    /// The running jobs (not Done), by host then slot.
    pub fn jobs(&self) -> Vec<&TaskState> {
        let mut v: Vec<&TaskState> = self
            .sample
            .jobs
            .iter()
            .filter(|j| j.phase != Phase::Done)
            .collect();
        v.sort_by(|a, b| a.host.cmp(&b.host).then(a.slot.cmp(&b.slot)));
        v
    }

    /// The counts of our client's records in the window.
    pub fn totals(&self) -> Totals {
        Totals::of(&self.history, 0)
    }

    /// Jobs done in the window by all clients (records and observed).
    pub fn done(&self) -> u64 {
        self.history.len() as u64 + self.observed.len() as u64
    }

    /// The host rows, in the chosen order.
    pub fn rows(&self) -> Vec<HostRow> {
        let totals = self.totals();
        let minute_ago = self.sample.now_ms.saturating_sub(60_000);
        let mut per_min: BTreeMap<&str, u64> = BTreeMap::new();
        let mut observed: BTreeMap<&str, u64> = BTreeMap::new();
        for r in &self.history {
            let done_here =
                r.ran == Some(Ran::Remote) || (r.ran == Some(Ran::Local) && r.host == "localhost");
            if done_here && r.end_ms >= minute_ago {
                *per_min.entry(&r.host).or_default() += 1;
            }
        }
        for (t, id) in &self.observed {
            *observed.entry(id).or_default() += 1;
            if *t >= minute_ago {
                *per_min.entry(id).or_default() += 1;
            }
        }
        let row = |id: &str, input: Option<&HostInput>| {
            let t = totals.hosts.get(id).cloned().unwrap_or_default();
            let state = match input {
                Some(h) if h.down => HostState::Down,
                Some(HostInput {
                    backoff_left: Some(s),
                    ..
                }) => HostState::Backoff(*s),
                _ => HostState::Up,
            };
            HostRow {
                lock_id: id.to_owned(),
                name: input.map_or_else(|| display_host(id), |h| h.name.clone()),
                busy: input.map_or(0, |h| h.holders.iter().flatten().count() as u32),
                limit: input.map_or(0, |h| h.limit),
                done: t.jobs + observed.get(id).copied().unwrap_or(0),
                failures: t.failures,
                avg_ms: t.avg_compile_ms(),
                per_min: per_min.get(id).copied().unwrap_or(0),
                state,
                daemon: self.sample.daemons.get(id).cloned().unwrap_or_default(),
            }
        };
        let mut rows: Vec<HostRow> = self
            .sample
            .hosts
            .iter()
            .map(|h| row(&h.lock_id, Some(h)))
            .collect();
        let listed: BTreeSet<&str> = self
            .sample
            .hosts
            .iter()
            .map(|h| h.lock_id.as_str())
            .collect();
        let mut extra: BTreeSet<&str> = totals.hosts.keys().map(String::as_str).collect();
        extra.extend(observed.keys());
        for id in extra.difference(&listed) {
            rows.push(row(id, None));
        }
        match self.sort {
            Sort::List => {}
            Sort::Busy => rows.sort_by_key(|r| std::cmp::Reverse(r.busy)),
            Sort::Done => rows.sort_by_key(|r| std::cmp::Reverse(r.done)),
            Sort::Failures => rows.sort_by_key(|r| std::cmp::Reverse(r.failures)),
            Sort::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        }
        rows
    }

    /// Jobs done per bucket of `bucket_ms`, the last `n` buckets, oldest
    /// first (the newest bucket ends now).
    pub fn throughput(&self, n: usize, bucket_ms: u64) -> Vec<u64> {
        let mut out = vec![0; n];
        let now = self.sample.now_ms;
        let ends = self
            .history
            .iter()
            .map(|r| r.end_ms)
            .chain(self.observed.iter().map(|(t, _)| *t));
        for t in ends {
            let age = now.saturating_sub(t) / bucket_ms.max(1);
            if let Some(i) = (n as u64).checked_sub(age + 1) {
                out[i as usize] += 1;
            }
        }
        out
    }

    /// The latest fallbacks, newest first (at most `n`).
    pub fn fallbacks(&self, n: usize) -> Vec<Fallback> {
        self.history
            .iter()
            .rev()
            .filter(|r| r.is_fallback())
            .take(n)
            .map(|r| Fallback {
                end_ms: r.end_ms,
                file: r.file.clone(),
                why: r.why.clone(),
                host: if r.host.is_empty() {
                    String::new()
                } else {
                    display_host(&r.host)
                },
            })
            .collect()
    }

    /// The display name of the host whose slot `pid` holds, if known.
    pub fn host_of(&self, pid: u64) -> Option<String> {
        self.sample.hosts.iter().find_map(|h| {
            (h.lock_id != "localhost" && h.holders.contains(&u32::try_from(pid).ok()))
                .then(|| h.name.clone())
        })
    }
}

#[cfg(test)]
mod tests;
