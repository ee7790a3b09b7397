//! The only place a tracing subscriber is set up.
//!
//! Lines look like distcc 3.4's (spec §3.16):
//! `<prog>[<pid>] (<module>) <Severity>message`, where the severity prefix
//! is `ERROR: ` or `Warning: ` and nothing for lower levels.
//!
//! distcc uses syslog's eight levels; tracing has five. The mapping is
//! fixed here so every module logs the same way:
//!
//! | distcc (`--log-level`)        | tracing macro |
//! |-------------------------------|---------------|
//! | emerg, alert, crit, err       | `error!`      |
//! | warning                       | `warn!`       |
//! | notice (distccd's default)    | `info!`       |
//! | info                          | `debug!`      |
//! | debug                         | `trace!`      |

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

mod sink;

use sink::Sink;
pub use sink::{LineWriter, LogHandle};

/// The tracing target of lines 3.4 writes without the function name
/// (`distcc[PID] compile x.c on host completed ok`): the formatter leaves
/// out the `(module) ` part for them.
pub const NONAME: &str = "distcc::noname";

/// A syslog-style threshold, as accepted by `distccd --log-level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// emerg, alert, crit, err.
    Error,
    /// warning.
    Warning,
    /// notice (the daemon's default).
    Notice,
    /// info.
    Info,
    /// debug.
    Debug,
}

impl LogLevel {
    /// Parse a level name the way 3.4 does (`emerg(ency)`, `alert`,
    /// `crit(ical)`, `err(or)`, `warn(ing)`, `note`/`notice`, `info`, `debug`).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "emerg" | "emergency" | "alert" | "crit" | "critical" | "err" | "error" => Self::Error,
            "warn" | "warning" => Self::Warning,
            "note" | "notice" => Self::Notice,
            "info" => Self::Info,
            "debug" => Self::Debug,
            _ => return None,
        })
    }

    /// The tracing level that passes this threshold.
    pub fn tracing_level(self) -> Level {
        match self {
            Self::Error => Level::ERROR,
            Self::Warning => Level::WARN,
            Self::Notice => Level::INFO,
            Self::Info => Level::DEBUG,
            Self::Debug => Level::TRACE,
        }
    }
}

/// Where log lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogTarget {
    /// Standard error.
    Stderr,
    /// Append to a file (created 0666 minus umask, as 3.4 does).
    File(PathBuf),
    /// The local syslog socket (`/dev/log`), facility daemon.
    Syslog,
    /// An already-open file descriptor (the client's `UNCACHED_ERR_FD`).
    Fd(i32),
}

impl fmt::Display for LogTarget {
    /// As in 3.4's messages: `logfile PATH` (its "failed to open logfile
    /// PATH"), `stderr`, `syslog`, `file descriptor N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stderr => f.write_str("stderr"),
            Self::File(path) => write!(f, "logfile {}", path.display()),
            Self::Syslog => f.write_str("syslog"),
            Self::Fd(fd) => write!(f, "file descriptor {fd}"),
        }
    }
}

/// An I/O error's text as C programs print it (`strerror`): without
/// Rust's ` (os error N)` suffix.
pub fn os_error_text(e: &io::Error) -> String {
    let text = e.to_string();
    match (e.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_owned(),
        _ => text,
    }
}

/// What to set up.
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// Program name shown in every line (`distcc`, `distccd`, ...).
    pub program: &'static str,
    /// Threshold.
    pub level: LogLevel,
    /// Destination.
    pub target: LogTarget,
}

/// distcc's line format.
struct DistccFormat {
    program: &'static str,
}

impl<S, N> FormatEvent<S, N> for DistccFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let module = meta.target().rsplit("::").next().unwrap_or("");
        let severity = match *meta.level() {
            Level::ERROR => "ERROR: ",
            Level::WARN => "Warning: ",
            _ => "",
        };
        if meta.target() == NONAME {
            write!(
                writer,
                "{}[{}] {}",
                self.program,
                std::process::id(),
                severity
            )?;
        } else {
            write!(
                writer,
                "{}[{}] ({}) {}",
                self.program,
                std::process::id(),
                module,
                severity
            )?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Install the global subscriber. Returns a handle for reopening or
/// retargeting; if a subscriber is already installed (tests), the handle
/// still works but lines go to the existing subscriber.
pub fn init(config: &LogConfig) -> io::Result<LogHandle> {
    let mut level = config.level;
    let sink = match Sink::open(&config.target) {
        Ok(s) => s,
        Err(e) => {
            // As 3.4: stderr gets what it gets without a log file
            // (warnings), unless debugging was asked for.
            if level != LogLevel::Debug {
                level = level.min(LogLevel::Warning);
            }
            // 3.4: "failed to open logfile" and carry on with stderr.
            eprintln!(
                "{}[{}] ERROR: failed to open {}: {}; logging to stderr",
                config.program,
                std::process::id(),
                config.target,
                os_error_text(&e)
            );
            Sink::Stderr
        }
    };
    let handle = LogHandle {
        inner: Arc::new(Mutex::new(sink)),
        program: config.program,
    };
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level.tracing_level())
        .with_writer(handle.clone())
        .event_format(DistccFormat {
            program: config.program,
        })
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(handle)
}

/// Longest piece of client-controlled text (`argv[0]`, a file name, an
/// argument) put in a log line, in bytes: a client could otherwise fill the
/// log with a 1 MiB argument per request (issue 10).
pub const CLIP_MAX: usize = 256;

/// Longest refusal reason in a log line: our words plus what it quotes.
pub const REASON_MAX: usize = 1024;

/// `text` fit for a log line: control characters escaped (a newline in a
/// file name cannot forge a line) and cut after [`CLIP_MAX`] bytes with a
/// marker saying how much is missing. Unchanged when already fit.
pub fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    clip_to(text, CLIP_MAX)
}

/// [`clip`] with another length.
pub fn clip_to(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    use std::fmt::Write as _;
    if text.len() <= max && !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(max.min(text.len()) + 32);
    let mut used = 0;
    for c in text.chars() {
        if out.len() >= max {
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        used += c.len_utf8();
    }
    if used < text.len() {
        let _ = write!(out, "...[{} more bytes]", text.len() - used);
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_follow_distccd() {
        assert_eq!(LogLevel::parse("crit"), Some(LogLevel::Error));
        assert_eq!(LogLevel::parse("WARNING"), Some(LogLevel::Warning));
        assert_eq!(LogLevel::parse("note"), Some(LogLevel::Notice));
        assert_eq!(LogLevel::parse("debug"), Some(LogLevel::Debug));
        assert_eq!(LogLevel::parse("loud"), None);
    }

    #[test]
    fn targets_and_errors_read_like_3_4s_messages() {
        let t = LogTarget::File(PathBuf::from("/x/distcc.log"));
        assert_eq!(t.to_string(), "logfile /x/distcc.log");
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(os_error_text(&e), "No such file or directory");
        let other = io::Error::other("disk on fire");
        assert_eq!(os_error_text(&other), "disk on fire");
    }

    #[test]
    fn levels_are_ordered_by_verbosity() {
        assert!(LogLevel::Error < LogLevel::Notice);
        assert_eq!(LogLevel::Notice.tracing_level(), Level::INFO);
    }

    #[test]
    fn clip_cuts_and_escapes_client_text() {
        let long = "x".repeat(1 << 20);
        // (text, max, expected)
        let cases: &[(&str, usize, String)] = &[
            ("gcc", 256, "gcc".into()),
            ("", 4, String::new()),
            ("abcdef", 4, "abcd...[2 more bytes]".into()),
            ("a\nb", 256, "a\\nb".into()),
            (
                "\u{e9}\u{e9}\u{e9}",
                3,
                "\u{e9}\u{e9}...[2 more bytes]".into(),
            ),
            (
                &long,
                256,
                format!("{}...[{} more bytes]", &long[..256], (1 << 20) - 256),
            ),
        ];
        for (text, max, want) in cases {
            assert_eq!(
                clip_to(text, *max),
                *want,
                "{:?}",
                &text[..text.len().min(20)]
            );
        }
        assert!(matches!(clip("hello.c"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(clip(&long).len(), 256 + "...[1048320 more bytes]".len());
    }
}
