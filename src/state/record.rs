//! The client's own record of one compile (issue 15): where it ran and
//! why, the bytes it moved, the time of each phase. Our client appends one
//! line per job to `$DISTCC_DIR/stats/jobs` (`src/client/stats.rs`);
//! `distccmon-text --summary` and `distccmon-tui` read them. distcc 3.4
//! has no such file and never sees it; its lock and state files are
//! untouched.
//!
//! One line of `key=value` words, `file=` last (it may hold spaces):
//!
//! ```text
//! v=1 end=1767780000123 pid=4242 ran=remote why=- host=tcp_10.0.0.2_3632 failed=- sent=1843 recv=912 connect=1 cpp=12 send=0 compile=140 receive=0 total=155 exit=0 file=hello.c
//! ```
//!
//! Times are milliseconds, `end` is milliseconds since the epoch, hosts
//! are lock ids (`tcp_HOST_PORT`, `ssh_HOST`, `localhost`: the middle of
//! 3.4's lock file names, so the monitor matches them to host-list
//! entries and backoff files). A reader skips lines it cannot read and
//! keys it does not know, so fields can be added. Pure: no I/O.

use std::fmt::{self, Write as _};

/// The format version written in `v=`.
pub const VERSION: u32 = 1;

/// The longest line a writer produces: the client appends one line with
/// one `write(2)` to an `O_APPEND` file, which Linux keeps whole between
/// concurrent writers of this size.
pub const MAX_LINE: usize = 1024;

/// Where the compiler ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ran {
    /// On a server.
    Remote,
    /// On this machine.
    Local,
    /// Nowhere (the preprocessor failed first).
    Nowhere,
}

impl Ran {
    /// The word in the record.
    pub fn name(self) -> &'static str {
        match self {
            Self::Remote => "remote",
            Self::Local => "local",
            Self::Nowhere => "none",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        match word {
            "remote" => Some(Self::Remote),
            "local" => Some(Self::Local),
            "none" => Some(Self::Nowhere),
            _ => None,
        }
    }
}

/// Why a job ran here after the client tried to distribute it: these are
/// the fallbacks. Every other local reason (`-E`, a link, `conftest.c`,
/// `localhost` in the host list) is a job that belongs here.
pub const FALLBACKS: &[(&str, &str)] = &[
    ("no-hosts", "no host list, or one without hosts"),
    ("bad-hostlist", "the host list does not parse"),
    ("hosts-unavailable", "every host is down or in backoff"),
    (
        "hosts-failed",
        "every host tried failed (connect, protocol)",
    ),
    (
        "remote-failed",
        "the compile failed on the server, retried here",
    ),
    (
        "client-error",
        "this side failed (temp files, cpp not started)",
    ),
    (
        "raced",
        "the server was late; compiled here too, and here finished first",
    ),
    (
        "compiler-differs",
        "every host tried has another compiler than this machine's",
    ),
];

/// Whether `why` (a record's reason) is a fallback.
pub fn is_fallback(why: &str) -> bool {
    FALLBACKS.iter().any(|(w, _)| *w == why)
}

/// The phases timed, in the order of a remote job (3.4's monitor phases).
pub const PHASES: [&str; 5] = ["connect", "cpp", "send", "compile", "receive"];

/// One compile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobRecord {
    /// When it ended, in milliseconds since the epoch.
    pub end_ms: u64,
    /// The client's pid.
    pub pid: u32,
    /// Where the compiler ran.
    pub ran: Option<Ran>,
    /// Why it ran here (`-` for remote jobs): a fallback of [`FALLBACKS`]
    /// or why the job belongs here (`preprocess-only`, `localhost`, ...).
    pub why: String,
    /// The lock id of the host that compiled it or was last tried (empty:
    /// none).
    pub host: String,
    /// Lock ids of hosts that failed during this job.
    pub failed: Vec<String>,
    /// Bytes written to servers.
    pub sent: u64,
    /// Bytes read from servers.
    pub received: u64,
    /// Milliseconds in each of [`PHASES`].
    pub phase_ms: [u64; 5],
    /// Milliseconds from start to end.
    pub total_ms: u64,
    /// distcc's exit code.
    pub exit: i32,
    /// The source file's name (no directory).
    pub file: String,
}

/// `-` for an empty value (a record has no empty words).
fn word(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

/// A host or reason as one word: anything but printable ASCII other than
/// `=` and `,` becomes `_`.
fn token(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '=' && c != ',' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `\\`, newlines and other control characters escaped (`\n`, `\xNN`).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32 & 0xff);
            }
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                if let Ok(b) = u8::from_str_radix(&hex, 16) {
                    out.push(char::from(b));
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Cut `s` to at most `max` bytes on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl JobRecord {
    /// The record as one line, newline included, at most [`MAX_LINE`]
    /// bytes (long host and file names are cut).
    pub fn encode(&self) -> String {
        let failed: Vec<String> = self.failed.iter().map(|h| token(cut(h, 100))).collect();
        let mut line = format!(
            "v={VERSION} end={} pid={} ran={} why={} host={} failed={} sent={} recv={}",
            self.end_ms,
            self.pid,
            self.ran.map_or("none", Ran::name),
            word(&token(cut(&self.why, 40))),
            word(&token(cut(&self.host, 100))),
            word(&failed.join(",")),
            self.sent,
            self.received,
        );
        for (name, ms) in PHASES.iter().zip(self.phase_ms) {
            let _ = write!(line, " {name}={ms}");
        }
        let _ = write!(line, " total={} exit={} file=", self.total_ms, self.exit);
        // What is left of the line for the file name (escaping may
        // lengthen it: cut the result, never inside an escape).
        let room = MAX_LINE.saturating_sub(line.len() + 1);
        let mut file = String::new();
        for c in self.file.chars() {
            let piece = escape(c.encode_utf8(&mut [0u8; 4]));
            if file.len() + piece.len() > room {
                break;
            }
            file.push_str(&piece);
        }
        line.push_str(&file);
        line.push('\n');
        line
    }

    /// Read one line (with or without its newline); `None` for a line
    /// that is not a version-1 record.
    pub fn decode(line: &str) -> Option<Self> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let (head, file) = match line.split_once(" file=") {
            Some((h, f)) => (h, unescape(f)),
            None => (line, String::new()),
        };
        let mut r = Self {
            file,
            ..Self::default()
        };
        let mut version = None;
        for pair in head.split(' ') {
            let (key, value) = pair.split_once('=')?;
            let num = || value.parse::<u64>().ok();
            let text = || {
                if value == "-" {
                    String::new()
                } else {
                    value.to_owned()
                }
            };
            match key {
                "v" => version = value.parse::<u32>().ok(),
                "end" => r.end_ms = num()?,
                "pid" => r.pid = value.parse().ok()?,
                "ran" => r.ran = Some(Ran::parse(value)?),
                "why" => r.why = text(),
                "host" => r.host = text(),
                "failed" => {
                    r.failed = text()
                        .split(',')
                        .filter(|h| !h.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                "sent" => r.sent = num()?,
                "recv" => r.received = num()?,
                "total" => r.total_ms = num()?,
                "exit" => r.exit = value.parse().ok()?,
                other => {
                    if let Some(i) = PHASES.iter().position(|p| *p == other) {
                        r.phase_ms[i] = num()?;
                    }
                }
            }
        }
        (version == Some(VERSION) && r.ran.is_some()).then_some(r)
    }

    /// Whether this job fell back to a local compile.
    pub fn is_fallback(&self) -> bool {
        self.ran == Some(Ran::Local) && is_fallback(&self.why)
    }
}

impl fmt::Display for JobRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encode().trim_end())
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
