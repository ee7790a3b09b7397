//! The figures of `--stats` (spec §4.7): counters kept by the jobs, a
//! 300 × 3 s ring for the 1/5/15-minute averages, and the rendering of
//! 3.4's text page and of the same figures as JSON; [`prometheus`] renders
//! them for `/metrics`, with the counts by compiler and client address of
//! [`breakdown`] and the refusals by reason ([`Refusal`]).
//!
//! System figures (load, RSS, disk) come from [`super::sysinfo`]; this
//! file does no I/O.

pub mod breakdown;
pub mod prometheus;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::summary::{Category, Refusal, Summary};
use super::sysinfo::System;
use breakdown::Breakdown;

/// 3.4 keeps 300 slots of 3 seconds (15 minutes).
pub const RING_SLOTS: usize = 300;
/// Seconds per ring slot.
pub const SLOT_SECS: u64 = 3;

/// Shared counters; updated by jobs, read by the stats server.
#[derive(Debug)]
pub struct Stats {
    counts: [AtomicU64; 8],
    busy: AtomicU32,
    completed: AtomicU64,
    max_kids: u32,
    argv0: String,
    longest: Mutex<Option<Longest>>,
    ring: Mutex<Ring>,
    refusals: [AtomicU64; Refusal::ALL.len()],
    breakdown: Mutex<Breakdown>,
}

#[derive(Clone, Debug, Default)]
struct Longest {
    msecs: u64,
    file: String,
    compiler: String,
}

#[derive(Debug, Default)]
struct Ring {
    /// (busy jobs at the tick, completions during the slot), newest last.
    slots: VecDeque<(u32, u64)>,
    completed_at_last_tick: u64,
}

/// Decrements the busy count when a job ends.
#[derive(Debug)]
pub struct BusyGuard<'a>(&'a Stats);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Stats {
    /// Counters for a daemon with `max_kids` job slots.
    pub fn new(max_kids: u32, argv0: &str) -> Self {
        Self {
            counts: Default::default(),
            busy: AtomicU32::new(0),
            completed: AtomicU64::new(0),
            max_kids,
            argv0: argv0.to_string(),
            longest: Mutex::new(None),
            ring: Mutex::new(Ring::default()),
            refusals: Default::default(),
            breakdown: Mutex::new(Breakdown::default()),
        }
    }

    /// The number of job slots (`--jobs`).
    pub fn max_kids(&self) -> u32 {
        self.max_kids
    }

    /// A connection passed `--allow` and is being served.
    pub fn accepted(&self) -> BusyGuard<'_> {
        self.counts[Category::TcpAccept.index()].fetch_add(1, Ordering::Relaxed);
        self.busy.fetch_add(1, Ordering::Relaxed);
        BusyGuard(self)
    }

    /// A job ended. A refused one also counts under its reason
    /// ([`Refusal::of`]).
    pub fn record(&self, s: &Summary) {
        self.counts[s.category.index()].fetch_add(1, Ordering::Relaxed);
        if let Some(r) = Refusal::of(s) {
            self.refused(r);
        }
        self.breakdown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(s);
        if matches!(
            s.category,
            Category::CompileOk | Category::CompileError | Category::CompileTimeout
        ) {
            self.completed.fetch_add(1, Ordering::Relaxed);
        }
        if s.category == Category::CompileOk {
            let msecs = s.elapsed.as_millis() as u64;
            let mut longest = self.longest.lock().unwrap_or_else(|e| e.into_inner());
            if longest.as_ref().is_none_or(|l| msecs > l.msecs) {
                *longest = Some(Longest {
                    msecs,
                    file: s.input.clone().unwrap_or_default(),
                    compiler: s.compiler.clone().unwrap_or_default(),
                });
            }
        }
    }

    /// Count a refusal that ends no job, or ends one whose summary does
    /// not say why (see [`Refusal::of`]): `--allow` turning a connection
    /// away, the sandbox refusing a compile. Shown on `/metrics` as
    /// `distccd_refusals_total{reason}`.
    pub fn refused(&self, reason: Refusal) {
        self.refusals[reason.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// The count of one refusal reason.
    pub fn refusals(&self, reason: Refusal) -> u64 {
        self.refusals[reason.index()].load(Ordering::Relaxed)
    }

    /// Called every [`SLOT_SECS`] seconds.
    pub fn tick(&self) {
        let completed = self.completed.load(Ordering::Relaxed);
        let busy = self.busy.load(Ordering::Relaxed);
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let done = completed - ring.completed_at_last_tick;
        ring.completed_at_last_tick = completed;
        if ring.slots.len() == RING_SLOTS {
            ring.slots.pop_front();
        }
        ring.slots.push_back((busy, done));
    }

    /// The count of one category.
    pub fn count(&self, c: Category) -> u64 {
        self.counts[c.index()].load(Ordering::Relaxed)
    }

    /// Jobs running now.
    pub fn busy(&self) -> u32 {
        self.busy.load(Ordering::Relaxed)
    }

    /// All figures, with the system ones filled in from `sys`.
    pub fn snapshot(&self, sys: System) -> Snapshot {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let window = |minutes: usize| {
            let n = (minutes * 60 / SLOT_SECS as usize).min(ring.slots.len());
            let recent = ring.slots.iter().rev().take(n);
            let (busy, done) = recent.fold((0u64, 0u64), |(b, d), (sb, sd)| {
                (b + u64::from(*sb), d + sd)
            });
            let avg = if n == 0 { 0 } else { busy / n as u64 };
            (avg, done)
        };
        let (a1, c1) = window(1);
        let (a2, c2) = window(5);
        let (a3, c3) = window(15);
        // Completions since the last tick count in every window.
        let pending = self.completed.load(Ordering::Relaxed) - ring.completed_at_last_tick;
        let longest = self
            .longest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Snapshot {
            argv0: self.argv0.clone(),
            counts: Category::ALL.map(|c| (c.stats_key(), self.count(c))),
            longest,
            max_kids: self.max_kids,
            avg_kids: [a1, a2, a3],
            num_compiles: [c1 + pending, c2 + pending, c3 + pending],
            sys,
            busy: self.busy(),
            refusals: Refusal::ALL.map(|r| self.refusals(r)),
            breakdown: self
                .breakdown
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

/// Every figure of the stats page.
#[derive(Clone, Debug)]
pub struct Snapshot {
    argv0: String,
    counts: [(&'static str, u64); 8],
    longest: Option<Longest>,
    max_kids: u32,
    avg_kids: [u64; 3],
    num_compiles: [u64; 3],
    sys: System,
    busy: u32,
    refusals: [u64; Refusal::ALL.len()],
    breakdown: Breakdown,
}

/// One value on the page.
enum Value {
    Int(i64),
    Text(String),
    Float(f64),
}

impl Snapshot {
    /// The page's lines as (key, value), in 3.4's order.
    fn fields(&self) -> Vec<(&'static str, Value)> {
        use Value::{Float, Int, Text};
        let mut f: Vec<(&'static str, Value)> = self
            .counts
            .iter()
            .map(|(k, v)| (*k, Int(*v as i64)))
            .collect();
        let l = self.longest.clone();
        let none = || "none".to_string();
        f.push((
            "dcc_longest_job",
            Text(l.as_ref().map_or_else(none, |l| l.file.clone())),
        ));
        f.push((
            "dcc_longest_job_compiler",
            Text(l.as_ref().map_or_else(none, |l| l.compiler.clone())),
        ));
        f.push((
            "dcc_longest_job_time_msecs",
            Int(l.map_or(-1, |l| l.msecs as i64)), // 3.4: -1 until a job is done
        ));
        f.push(("dcc_max_kids", Int(self.max_kids.into())));
        for (k, v) in ["dcc_avg_kids1", "dcc_avg_kids2", "dcc_avg_kids3"]
            .into_iter()
            .zip(self.avg_kids)
        {
            f.push((k, Int(v as i64)));
        }
        let s = &self.sys;
        f.push(("dcc_current_load", Int(s.running.into())));
        for (k, v) in ["dcc_load1", "dcc_load2", "dcc_load3"]
            .into_iter()
            .zip(s.load)
        {
            f.push((k, Float(v)));
        }
        for (k, v) in [
            "dcc_num_compiles1",
            "dcc_num_compiles2",
            "dcc_num_compiles3",
        ]
        .into_iter()
        .zip(self.num_compiles)
        {
            f.push((k, Int(v as i64)));
        }
        f.push(("dcc_num_procstate_D", Int(s.procs_d.into())));
        f.push(("dcc_max_RSS", Int(s.max_rss_kb as i64)));
        f.push(("dcc_max_RSS_name", Text(s.max_rss_name.clone())));
        f.push(("dcc_io_rate", Int(s.io_rate)));
        f.push(("dcc_free_space", Int(s.free_mb as i64)));
        f
    }

    /// 3.4's text page, HTTP header included, bare `\n` line ends.
    pub fn text_page(&self) -> String {
        let mut out =
            String::from("HTTP/1.0 200 OK\nContent-Type: text/plain\nConnection: close\n\n");
        let _ = writeln!(out, "argv {}", self.argv0);
        out.push_str("<distccstats>\n");
        for (k, v) in self.fields() {
            let _ = match (k, v) {
                ("dcc_max_RSS_name", Value::Text(t)) => writeln!(out, "{k} ({t})"),
                ("dcc_free_space", Value::Int(n)) => writeln!(out, "{k} {n} MB"),
                (_, Value::Int(n)) => writeln!(out, "{k} {n}"),
                (_, Value::Float(x)) => writeln!(out, "{k} {x:.2}"),
                (_, Value::Text(t)) => writeln!(out, "{k} {t}"),
            };
        }
        out.push_str("</distccstats>\n");
        out
    }

    /// The same figures as a JSON object (served at `/json`).
    pub fn json_page(&self) -> String {
        let mut body = String::from("{");
        let _ = write!(body, "\"argv\":{}", json_string(&self.argv0));
        for (k, v) in self.fields() {
            let _ = match v {
                Value::Int(n) => write!(body, ",\"{k}\":{n}"),
                Value::Float(x) => write!(body, ",\"{k}\":{x:.2}"),
                Value::Text(t) => write!(body, ",\"{k}\":{}", json_string(&t)),
            };
        }
        body.push_str("}\n");
        format!("HTTP/1.0 200 OK\nContent-Type: application/json\nConnection: close\n\n{body}")
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
