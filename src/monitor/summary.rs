//! The client's counters added up (issue 15): jobs remote and local,
//! fallbacks by reason, bytes each way, time in each phase, and the same
//! per host, from the per-job records ([`crate::state::record`]). Used by
//! `distccmon-text --summary` ([`Totals::render`]) and by the full-screen
//! monitor's model. Pure: records in, figures and text out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::state::record::{JobRecord, PHASES, Ran};

/// The figures of one host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostTotals {
    /// Jobs it compiled (whatever the compiler said).
    pub jobs: u64,
    /// Times it failed: connection or protocol errors, and compiles that
    /// failed there but not here.
    pub failures: u64,
    /// Milliseconds in the compile phase of its jobs.
    pub compile_ms: u64,
    /// Bytes sent to it and received from it.
    pub sent: u64,
    /// Bytes received from it.
    pub received: u64,
    /// When its last job ended (ms since the epoch).
    pub last_ms: u64,
}

impl HostTotals {
    /// Average compile milliseconds of its jobs.
    pub fn avg_compile_ms(&self) -> Option<u64> {
        (self.jobs > 0).then(|| self.compile_ms / self.jobs)
    }
}

/// Everything added up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Jobs counted.
    pub jobs: u64,
    /// Jobs compiled on a server.
    pub remote: u64,
    /// Jobs compiled here.
    pub local: u64,
    /// Jobs whose compiler never ran (the preprocessor failed).
    pub nowhere: u64,
    /// Jobs that ended with a non-zero exit.
    pub errors: u64,
    /// Fallbacks (tried to distribute, compiled here), by reason.
    pub fallbacks: BTreeMap<String, u64>,
    /// Jobs that belong here, by reason (`preprocess-only`, `localhost`...).
    pub local_reasons: BTreeMap<String, u64>,
    /// Bytes written to servers.
    pub sent: u64,
    /// Bytes read from servers.
    pub received: u64,
    /// Milliseconds in each of [`PHASES`], all jobs.
    pub phase_ms: [u64; 5],
    /// Milliseconds of all jobs, start to end.
    pub total_ms: u64,
    /// By host lock id.
    pub hosts: BTreeMap<String, HostTotals>,
    /// First and last end time seen (ms since the epoch).
    pub span: Option<(u64, u64)>,
}

impl Totals {
    /// Add one record.
    pub fn add(&mut self, r: &JobRecord) {
        self.jobs += 1;
        match r.ran {
            Some(Ran::Remote) => self.remote += 1,
            Some(Ran::Local) => self.local += 1,
            _ => self.nowhere += 1,
        }
        if r.exit != 0 {
            self.errors += 1;
        }
        if r.is_fallback() {
            *self.fallbacks.entry(r.why.clone()).or_default() += 1;
        } else if r.ran == Some(Ran::Local) {
            *self.local_reasons.entry(r.why.clone()).or_default() += 1;
        }
        self.sent += r.sent;
        self.received += r.received;
        for (t, ms) in self.phase_ms.iter_mut().zip(r.phase_ms) {
            *t += ms;
        }
        self.total_ms += r.total_ms;
        self.span = Some(match self.span {
            None => (r.end_ms, r.end_ms),
            Some((a, b)) => (a.min(r.end_ms), b.max(r.end_ms)),
        });
        for h in &r.failed {
            self.hosts.entry(h.clone()).or_default().failures += 1;
        }
        if r.host.is_empty() {
            return;
        }
        let h = self.hosts.entry(r.host.clone()).or_default();
        h.sent += r.sent;
        h.received += r.received;
        match r.ran {
            Some(Ran::Remote) => {
                h.jobs += 1;
                h.compile_ms += r.phase_ms[3];
                h.last_ms = h.last_ms.max(r.end_ms);
            }
            // The server failed the compile and this machine did not.
            Some(Ran::Local) if r.why == "remote-failed" && r.exit == 0 => h.failures += 1,
            Some(Ran::Local) if r.host == "localhost" => {
                h.jobs += 1;
                h.compile_ms += r.phase_ms[3];
                h.last_ms = h.last_ms.max(r.end_ms);
            }
            _ => {}
        }
    }

    /// Add up `records` that ended at or after `since_ms`.
    pub fn of<'a>(records: impl IntoIterator<Item = &'a JobRecord>, since_ms: u64) -> Self {
        let mut t = Self::default();
        for r in records.into_iter().filter(|r| r.end_ms >= since_ms) {
            t.add(r);
        }
        t
    }

    /// Fallbacks in all.
    pub fn fallback_count(&self) -> u64 {
        self.fallbacks.values().sum()
    }

    /// The text of `distccmon-text --summary`.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let Some((first, last)) = self.span else {
            return "no jobs recorded (our distcc client writes $DISTCC_DIR/stats/jobs; \
                    DISTCC_STATS=0 turns that off)\n"
                .into();
        };
        let pct = |n: u64| n * 100 / self.jobs.max(1);
        let _ = writeln!(
            o,
            "{} jobs in {}: {} remote ({}%), {} local, {} not compiled; {} exited non-zero",
            self.jobs,
            duration((last - first) / 1000),
            self.remote,
            pct(self.remote),
            self.local,
            self.nowhere,
            self.errors
        );
        let list = |m: &BTreeMap<String, u64>| {
            let mut v: Vec<_> = m.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            v.iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(o, "fallbacks: {}", self.fallback_count());
        if !self.fallbacks.is_empty() {
            let _ = writeln!(o, "  {}", list(&self.fallbacks));
        }
        if !self.local_reasons.is_empty() {
            let _ = writeln!(o, "local by choice: {}", list(&self.local_reasons));
        }
        let _ = writeln!(
            o,
            "bytes: {} sent, {} received",
            bytes(self.sent),
            bytes(self.received)
        );
        let n = self.jobs.max(1);
        let phases: Vec<String> = PHASES
            .iter()
            .zip(self.phase_ms)
            .map(|(p, ms)| format!("{p} {}", ms / n))
            .collect();
        let _ = writeln!(
            o,
            "average ms per job: {}; total {}",
            phases.join(", "),
            self.total_ms / n
        );
        if !self.hosts.is_empty() {
            let _ = writeln!(
                o,
                "\n{:<28} {:>6} {:>8} {:>8} {:>10} {:>10}",
                "HOST", "JOBS", "FAILED", "AVG MS", "SENT", "RECEIVED"
            );
            for (id, h) in &self.hosts {
                let _ = writeln!(
                    o,
                    "{:<28} {:>6} {:>8} {:>8} {:>10} {:>10}",
                    display_host(id),
                    h.jobs,
                    h.failures,
                    h.avg_compile_ms().map_or("-".into(), |m| m.to_string()),
                    bytes(h.sent),
                    bytes(h.received)
                );
            }
        }
        o
    }
}

/// A lock id as a person reads it: `tcp_10.0.0.2_3632` is
/// `10.0.0.2:3632`, `tcp_::1_77` is `[::1]:77`, `ssh_box` is `@box`.
pub fn display_host(lock_id: &str) -> String {
    if let Some(rest) = lock_id.strip_prefix("tcp_") {
        if let Some((host, port)) = rest.rsplit_once('_') {
            return if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
        }
    }
    if let Some(host) = lock_id.strip_prefix("ssh_") {
        return format!("@{host}");
    }
    lock_id.to_owned()
}

/// `1.5 KiB`, `12.0 MiB`, `512 B`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `45s`, `12m05s`, `10m`, `3h02m`.
pub fn duration(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 && s % 60 == 0 => format!("{}m", s / 60),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ran: Ran, why: &str, host: &str, failed: &[&str], exit: i32) -> JobRecord {
        JobRecord {
            end_ms: 1_000_000,
            ran: Some(ran),
            why: why.into(),
            host: host.into(),
            failed: failed.iter().map(|s| s.to_string()).collect(),
            sent: 100,
            received: 50,
            phase_ms: [1, 10, 1, 100, 2],
            total_ms: 120,
            exit,
            file: "x.c".into(),
            ..JobRecord::default()
        }
    }

    #[test]
    fn adds_up_hosts_fallbacks_and_phases() {
        let records = [
            rec(Ran::Remote, "", "tcp_a_1", &[], 0),
            rec(Ran::Remote, "", "tcp_a_1", &["tcp_b_2"], 0),
            rec(Ran::Local, "hosts-failed", "tcp_b_2", &["tcp_b_2"], 0),
            rec(Ran::Local, "remote-failed", "tcp_a_1", &[], 0),
            // A genuine error fails both ways: the host is not to blame.
            rec(Ran::Local, "remote-failed", "tcp_a_1", &[], 1),
            rec(Ran::Local, "preprocess-only", "localhost", &[], 0),
            rec(Ran::Nowhere, "cpp-failed", "", &[], 1),
        ];
        let t = Totals::of(&records, 0);
        assert_eq!(
            (t.jobs, t.remote, t.local, t.nowhere, t.errors),
            (7, 2, 4, 1, 2)
        );
        assert_eq!(t.fallback_count(), 3);
        assert_eq!(t.fallbacks["remote-failed"], 2);
        assert_eq!(t.local_reasons["preprocess-only"], 1);
        let a = &t.hosts["tcp_a_1"];
        assert_eq!((a.jobs, a.failures, a.avg_compile_ms()), (2, 1, Some(100)));
        let b = &t.hosts["tcp_b_2"];
        assert_eq!((b.jobs, b.failures), (0, 2));
        assert_eq!(t.hosts["localhost"].jobs, 1);
        assert_eq!(t.phase_ms[3], 700);
        assert_eq!(Totals::of(&records, 1_000_001).jobs, 0);
        let text = t.render();
        for want in [
            "7 jobs in 0s: 2 remote (28%), 4 local, 1 not compiled; 2 exited non-zero",
            "fallbacks: 3\n  remote-failed 2, hosts-failed 1\n",
            "local by choice: preprocess-only 1\n",
            "bytes: 700 B sent, 350 B received",
            "average ms per job: connect 1, cpp 10, send 1, compile 100, receive 2; total 120",
            "a:1                               2        1      100",
        ] {
            assert!(text.contains(want), "no {want:?} in\n{text}");
        }
        assert!(Totals::default().render().starts_with("no jobs recorded"));
    }

    #[test]
    fn hosts_and_sizes_read_well() {
        for (id, want) in [
            ("tcp_10.0.0.2_3632", "10.0.0.2:3632"),
            ("tcp_::1_77", "[::1]:77"),
            ("ssh_b@c", "@b@c"),
            ("localhost", "localhost"),
        ] {
            assert_eq!(display_host(id), want);
        }
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(12 << 20), "12.0 MiB");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(725), "12m05s");
        assert_eq!(duration(600), "10m");
        assert_eq!(duration(10920), "3h02m");
    }
}
