//! `/metrics`: the figures of the `--stats` page in Prometheus' text
//! exposition format (version 0.0.4), plus the counts 3.4's page does not
//! have: jobs by compiler and by client address, refusals by reason, and
//! the jobs running now.
//!
//! Every 3.4 figure has a metric here (`dcc_compile_ok` is
//! `distccd_jobs_total{category="compile_ok"}`, `dcc_load1` is
//! `distccd_system_load_average{window="1m"}`, ...; see `man distccd`),
//! in base units (seconds, bytes). Checked with `promtool check metrics`
//! in `tests/monitor/metrics.rs`. Pure: renders a [`Snapshot`].

use std::fmt::{Display, Write as _};

use super::Snapshot;
use crate::daemon::summary::{Category, Refusal};

/// The HTTP content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The windows of 3.4's three averages.
const WINDOWS: [&str; 3] = ["1m", "5m", "15m"];

/// A label value with `\`, `"` and newlines escaped, as the format wants.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The page being written.
struct Page(String);

impl Page {
    /// `# HELP` and `# TYPE` of a metric family.
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    /// One sample.
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }
}

/// The category label: 3.4's stats key without `dcc_`.
fn category_label(c: Category) -> &'static str {
    c.stats_key().trim_start_matches("dcc_")
}

/// The categories a job can end in (all but TCP_ACCEPT).
fn endings() -> impl Iterator<Item = Category> {
    Category::ALL
        .into_iter()
        .filter(|c| *c != Category::TcpAccept)
}

impl Snapshot {
    /// The body of `/metrics`.
    pub fn metrics_body(&self) -> String {
        let mut p = Page(String::new());
        let count = |c: Category| {
            self.counts
                .iter()
                .find(|(k, _)| *k == c.stats_key())
                .map_or(0, |(_, v)| *v)
        };
        p.family(
            "distccd_connections_accepted_total",
            "counter",
            "Connections that passed --allow (dcc_tcp_accept).",
        );
        p.sample(
            "distccd_connections_accepted_total",
            &[],
            count(Category::TcpAccept),
        );
        p.family(
            "distccd_jobs_total",
            "counter",
            "Jobs by how they ended (dcc_compile_ok, dcc_rej_bad_req, ...).",
        );
        for c in endings() {
            p.sample(
                "distccd_jobs_total",
                &[("category", category_label(c))],
                count(c),
            );
        }
        p.family(
            "distccd_refusals_total",
            "counter",
            "Connections and requests turned away, by reason.",
        );
        for (r, n) in Refusal::ALL.iter().zip(self.refusals) {
            p.sample("distccd_refusals_total", &[("reason", r.label())], n);
        }
        p.family(
            "distccd_busy_jobs",
            "gauge",
            "Connections being served now.",
        );
        p.sample("distccd_busy_jobs", &[], self.busy);
        p.family(
            "distccd_job_slots",
            "gauge",
            "Compiles run at once, --jobs (dcc_max_kids).",
        );
        p.sample("distccd_job_slots", &[], self.max_kids);
        p.family(
            "distccd_busy_jobs_average",
            "gauge",
            "Average of the jobs being served over a window (dcc_avg_kids1-3).",
        );
        for (w, v) in WINDOWS.iter().zip(self.avg_kids) {
            p.sample("distccd_busy_jobs_average", &[("window", w)], v);
        }
        p.family(
            "distccd_recent_compiles",
            "gauge",
            "Compiles that ended within a window (dcc_num_compiles1-3).",
        );
        for (w, v) in WINDOWS.iter().zip(self.num_compiles) {
            p.sample("distccd_recent_compiles", &[("window", w)], v);
        }
        p.family(
            "distccd_longest_job_seconds",
            "gauge",
            "The longest successful compile, with its file and compiler \
             (dcc_longest_job, dcc_longest_job_compiler, dcc_longest_job_time_msecs).",
        );
        if let Some(l) = &self.longest {
            p.sample(
                "distccd_longest_job_seconds",
                &[("file", &l.file), ("compiler", &l.compiler)],
                l.msecs as f64 / 1000.0,
            );
        }
        self.system(&mut p);
        self.breakdown(&mut p);
        p.0
    }

    /// The machine's figures.
    fn system(&self, p: &mut Page) {
        let s = &self.sys;
        p.family(
            "distccd_system_running_processes",
            "gauge",
            "Processes running on the machine (dcc_current_load).",
        );
        p.sample("distccd_system_running_processes", &[], s.running);
        p.family(
            "distccd_system_load_average",
            "gauge",
            "The machine's load average (dcc_load1-3).",
        );
        for (w, v) in WINDOWS.iter().zip(s.load) {
            p.sample("distccd_system_load_average", &[("window", w)], v);
        }
        p.family(
            "distccd_system_blocked_processes",
            "gauge",
            "Processes in uninterruptible sleep (dcc_num_procstate_D).",
        );
        p.sample("distccd_system_blocked_processes", &[], s.procs_d);
        p.family(
            "distccd_system_max_rss_bytes",
            "gauge",
            "The largest resident set of a process that is not a compiler, \
             and its name (dcc_max_RSS, dcc_max_RSS_name).",
        );
        p.sample(
            "distccd_system_max_rss_bytes",
            &[("process", &s.max_rss_name)],
            s.max_rss_kb * 1024,
        );
        p.family(
            "distccd_system_disk_sectors_per_second",
            "gauge",
            "Disk sectors read and written per second over the last minute \
             (dcc_io_rate; absent until known).",
        );
        if s.io_rate >= 0 {
            p.sample("distccd_system_disk_sectors_per_second", &[], s.io_rate);
        }
        p.family(
            "distccd_tmpdir_free_bytes",
            "gauge",
            "Free space where jobs run (dcc_free_space).",
        );
        p.sample("distccd_tmpdir_free_bytes", &[], s.free_mb * 1024 * 1024);
    }

    /// The counts by compiler and by client address.
    fn breakdown(&self, p: &mut Page) {
        let b = &self.breakdown;
        p.family(
            "distccd_compiler_jobs_total",
            "counter",
            "Jobs that ran a compiler, by compiler and how they ended.",
        );
        for (name, t) in &b.compilers {
            for c in endings() {
                let n = t.jobs[c.index()];
                if n > 0 {
                    p.sample(
                        "distccd_compiler_jobs_total",
                        &[("compiler", name), ("category", category_label(c))],
                        n,
                    );
                }
            }
        }
        p.family(
            "distccd_compiler_seconds_total",
            "counter",
            "Time of the jobs that ran a compiler, from accept to the end, by compiler.",
        );
        for (name, t) in &b.compilers {
            p.sample(
                "distccd_compiler_seconds_total",
                &[("compiler", name)],
                t.seconds,
            );
        }
        p.family(
            "distccd_client_jobs_total",
            "counter",
            "Jobs by client address and how they ended.",
        );
        for (client, jobs) in &b.clients {
            for c in endings() {
                let n = jobs[c.index()];
                if n > 0 {
                    p.sample(
                        "distccd_client_jobs_total",
                        &[("client", client), ("category", category_label(c))],
                        n,
                    );
                }
            }
        }
    }

    /// `/metrics` with its HTTP header.
    pub fn metrics_page(&self) -> String {
        format!(
            "HTTP/1.0 200 OK\nContent-Type: {CONTENT_TYPE}\nConnection: close\n\n{}",
            self.metrics_body()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::stats::Stats;
    use crate::daemon::summary::Summary;
    use crate::daemon::sysinfo::System;
    use std::time::Duration;

    fn job(category: Category, compiler: &str, input: Option<&str>, ms: u64) -> Summary {
        Summary {
            peer: "127.0.0.1:4000".into(),
            category,
            status: 0,
            ret: if category == Category::RejBadReq {
                110
            } else {
                0
            },
            elapsed: Duration::from_millis(ms),
            compiler: Some(compiler.into()),
            input: input.map(Into::into),
        }
    }

    #[test]
    fn same_figures_as_the_text_page() {
        let stats = Stats::new(4, "/usr/bin/distccd");
        drop(stats.accepted());
        stats.record(&job(Category::CompileOk, "gcc", Some("a\"b.c"), 1500));
        stats.record(&job(Category::RejBadReq, "evil", Some("x.c"), 1));
        stats.refused(Refusal::Access);
        let sys = System {
            load: [0.5, 0.25, 1.0],
            max_rss_kb: 2,
            max_rss_name: "firefox".into(),
            io_rate: -1,
            free_mb: 3,
            ..System::default()
        };
        let body = stats.snapshot(sys).metrics_body();
        for line in [
            "distccd_connections_accepted_total 1",
            "distccd_jobs_total{category=\"compile_ok\"} 1",
            "distccd_jobs_total{category=\"rej_bad_req\"} 1",
            "distccd_jobs_total{category=\"cli_disconnect\"} 0",
            "distccd_refusals_total{reason=\"whitelist\"} 1",
            "distccd_refusals_total{reason=\"access\"} 1",
            "distccd_refusals_total{reason=\"sandbox\"} 0",
            "distccd_job_slots 4",
            "distccd_recent_compiles{window=\"1m\"} 1",
            "distccd_longest_job_seconds{file=\"a\\\"b.c\",compiler=\"gcc\"} 1.5",
            "distccd_system_load_average{window=\"5m\"} 0.25",
            "distccd_system_max_rss_bytes{process=\"firefox\"} 2048",
            "distccd_tmpdir_free_bytes 3145728",
            "distccd_compiler_jobs_total{compiler=\"gcc\",category=\"compile_ok\"} 1",
            "distccd_compiler_seconds_total{compiler=\"gcc\"} 1.5",
            "distccd_client_jobs_total{client=\"127.0.0.1\",category=\"rej_bad_req\"} 1",
        ] {
            assert!(
                body.contains(&format!("{line}\n")),
                "no {line:?} in\n{body}"
            );
        }
        // Unknown I/O rate: the family, no sample.
        assert!(!body.contains("\ndistccd_system_disk_sectors_per_second "));
        // Only the whitelisted compiler has a series.
        assert!(!body.contains("evil"), "{body}");
        // Every sample has its family's HELP and TYPE before it.
        let mut declared = Vec::new();
        for line in body.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.push(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert_eq!(declared.last().map(String::as_str), Some(name), "{line}");
            }
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        assert_eq!(escape("plain.c"), "plain.c");
    }
}
