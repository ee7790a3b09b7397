//! `dcc_io_rate` of the stats page (spec §4.7): disk sectors read and
//! written per second, over a fixed window.
//!
//! 3.4 recomputes the rate at most every 50 s (its stats loop wakes at
//! least once a minute), so the figure is the average of about the last
//! minute, whoever asks and however often. Measured between two stats
//! requests instead, two requests in a row showed 0 (issue 11). Here the
//! stats server feeds a sample every few seconds and one per request; the
//! rate runs from the newest sample that is at least [`WINDOW`] old (or
//! the first one, after start-up) to the newest. Until samples span
//! [`MIN_SPAN`] the rate is unknown: -1, as 3.4 shows before its first
//! measurement.
//!
//! Pure: the caller reads `/proc/diskstats` and the clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How far back the rate looks (3.4: about a minute).
pub const WINDOW: Duration = Duration::from_secs(60);

/// The shortest span worth a rate.
pub const MIN_SPAN: Duration = Duration::from_secs(1);

/// How often the stats server samples the disks between requests.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// Samples of a growing sector count, oldest first.
#[derive(Debug, Default)]
pub struct IoWindow {
    samples: VecDeque<(Instant, u64)>,
}

impl IoWindow {
    /// Add the sector count read `at` (never earlier than the last one).
    /// Samples are kept at least [`MIN_SPAN`] apart (a newer one replaces
    /// the newest until then), so a flood of requests keeps the list short.
    pub fn record(&mut self, at: Instant, sectors: u64) {
        let len = self.samples.len();
        if len >= 2 && at.saturating_duration_since(self.samples[len - 2].0) < MIN_SPAN {
            self.samples[len - 1] = (at, sectors);
        } else {
            self.samples.push_back((at, sectors));
        }
        // Keep one sample at least WINDOW old as the base, none older.
        while self.samples.len() > 2 && at.saturating_duration_since(self.samples[1].0) >= WINDOW {
            self.samples.pop_front();
        }
    }

    /// Sectors per second over the window; -1 while it spans too little.
    pub fn rate(&self) -> i64 {
        let (Some(&(t0, s0)), Some(&(t1, s1))) = (self.samples.front(), self.samples.back()) else {
            return -1;
        };
        let span = t1.saturating_duration_since(t0);
        if span < MIN_SPAN {
            return -1;
        }
        // A counter that went backwards (a disk replaced): no rate.
        let Some(done) = s1.checked_sub(s0) else {
            return -1;
        };
        (done as f64 / span.as_secs_f64()) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (seconds after start, sectors).
    type Samples = &'static [(u64, u64)];

    /// Samples, and the rate wanted after the last.
    const CASES: &[(&str, Samples, i64)] = &[
        ("nothing yet", &[], -1),
        ("one sample", &[(0, 100)], -1),
        ("too short a span", &[(0, 100), (0, 5000)], -1),
        ("start-up window", &[(0, 0), (2, 1000)], 500),
        ("steady", &[(0, 0), (5, 500), (10, 1000)], 100),
        // Two requests in a row: the same answer (the old code gave 0).
        ("asked twice", &[(0, 0), (10, 1000), (10, 1000)], 100),
        // After the window, the oldest samples go: only the last minute counts.
        (
            "a burst a minute ago is forgotten",
            &[
                (0, 0),
                (1, 60_000),
                (61, 60_000),
                (66, 60_000),
                (70, 60_600),
            ],
            600 / 69,
        ),
        ("counter went backwards", &[(0, 500), (5, 100)], -1),
    ];

    #[test]
    fn rates_over_the_window() {
        let start = Instant::now();
        for (name, samples, want) in CASES {
            let mut w = IoWindow::default();
            for (secs, sectors) in *samples {
                w.record(start + Duration::from_secs(*secs), *sectors);
            }
            assert_eq!(w.rate(), *want, "{name}");
        }
    }

    #[test]
    fn samples_stay_few() {
        let start = Instant::now();
        let mut w = IoWindow::default();
        for ms in 0..100_000u64 {
            w.record(start + Duration::from_millis(ms * 10), ms);
        }
        // 1000 s of samples every 10 ms: one per second survives, for a minute.
        assert!(w.samples.len() <= 63, "{}", w.samples.len());
        assert_eq!(w.rate(), 100);
    }
}
