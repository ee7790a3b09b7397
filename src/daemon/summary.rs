//! One line per job, like 3.4's `dcc_job_summary` (spec §4.5 step 9):
//! `client: 127.0.0.1:38274 COMPILE_OK exit:0 sig:0 core:0 ret:0 time:29ms gcc hello.c`
//! logged at notice level, and the category counted for `--stats`. The
//! compiler and file names come from the client, so they are cut to a sane
//! length ([`crate::logging::clip`]); the layout is 3.4's otherwise.

use std::fmt;
use std::time::Duration;

use crate::logging::clip;

/// How a connection ended (3.4's stats categories, spec §4.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Accepted (counted for every connection that passed `--allow`).
    TcpAccept,
    /// The request was malformed or not allowed.
    RejBadReq,
    /// The server was short of room: the connection was dropped to make
    /// room for others, or its request found no memory (3.4 never uses it).
    RejOverload,
    /// The compiler succeeded.
    CompileOk,
    /// The compiler failed (or could not be started).
    CompileError,
    /// `--job-lifetime` ran out.
    CompileTimeout,
    /// The client went away during the compile.
    CliDisconn,
    /// Anything else (temp files, writing the reply).
    Other,
}

impl Category {
    /// Every category, in 3.4's stats order.
    pub const ALL: [Category; 8] = [
        Self::TcpAccept,
        Self::RejBadReq,
        Self::RejOverload,
        Self::CompileOk,
        Self::CompileError,
        Self::CompileTimeout,
        Self::CliDisconn,
        Self::Other,
    ];

    /// The name in summary lines.
    pub const fn name(self) -> &'static str {
        match self {
            Self::TcpAccept => "TCP_ACCEPT",
            Self::RejBadReq => "REJ_BAD_REQ",
            Self::RejOverload => "REJ_OVERLOAD",
            Self::CompileOk => "COMPILE_OK",
            Self::CompileError => "COMPILE_ERROR",
            Self::CompileTimeout => "COMPILE_TIMEOUT",
            Self::CliDisconn => "CLI_DISCONN",
            Self::Other => "OTHER",
        }
    }

    /// The key on the stats page (`dcc_compile_ok`, ...).
    pub const fn stats_key(self) -> &'static str {
        match self {
            Self::TcpAccept => "dcc_tcp_accept",
            Self::RejBadReq => "dcc_rej_bad_req",
            Self::RejOverload => "dcc_rej_overload",
            Self::CompileOk => "dcc_compile_ok",
            Self::CompileError => "dcc_compile_error",
            Self::CompileTimeout => "dcc_compile_timeout",
            Self::CliDisconn => "dcc_cli_disconnect",
            Self::Other => "dcc_other",
        }
    }

    /// Position in [`Category::ALL`].
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What happened to one job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// `ADDR:PORT` of the client (or `stdin` in inetd mode).
    pub peer: String,
    /// How it ended.
    pub category: Category,
    /// The compiler's wait status, when one exists.
    pub status: u32,
    /// distcc's own result code (0, or an exit code such as 109).
    pub ret: i32,
    /// Time from accept to the end.
    pub elapsed: Duration,
    /// `argv[0]`, if the request got that far.
    pub compiler: Option<String>,
    /// The client's source file name, if known.
    pub input: Option<String>,
}

impl Summary {
    /// A summary for a job that ended before running anything.
    pub fn rejected(peer: &str, category: Category, ret: i32, elapsed: Duration) -> Self {
        Self {
            peer: peer.to_string(),
            category,
            status: 0,
            ret,
            elapsed,
            compiler: None,
            input: None,
        }
    }
}

impl fmt::Display for Summary {
    /// 3.4's layout: exit, signal and core dump split out of the status.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sig = self.status & 0x7f;
        let (exit, sig) = if sig == 0 || sig == 0x7f {
            ((self.status >> 8) & 0xff, 0)
        } else {
            (0, sig)
        };
        let core = u32::from(self.status & 0x80 != 0);
        write!(
            f,
            "client: {} {} exit:{exit} sig:{sig} core:{core} ret:{} time:{}ms {} {}",
            self.peer,
            self.category,
            self.ret,
            self.elapsed.as_millis(),
            clip(self.compiler.as_deref().unwrap_or("(none)")),
            clip(self.input.as_deref().unwrap_or("(none)")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_matches_3_4_layout() {
        let s = Summary {
            peer: "127.0.0.1:38274".into(),
            category: Category::CompileOk,
            status: 0,
            ret: 0,
            elapsed: Duration::from_millis(29),
            compiler: Some("gcc".into()),
            input: Some("hello.c".into()),
        };
        assert_eq!(
            s.to_string(),
            "client: 127.0.0.1:38274 COMPILE_OK exit:0 sig:0 core:0 ret:0 time:29ms gcc hello.c"
        );
        let crashed = Summary {
            status: 0x8b,
            category: Category::CompileError,
            ..s.clone()
        };
        assert!(crashed.to_string().contains("exit:0 sig:11 core:1"));
        let failed = Summary {
            status: 0x100,
            category: Category::CompileError,
            ..s
        };
        assert!(failed.to_string().contains("COMPILE_ERROR exit:1 sig:0"));
    }

    #[test]
    fn categories_have_stats_keys_in_order() {
        let keys: Vec<_> = Category::ALL.iter().map(|c| c.stats_key()).collect();
        assert_eq!(keys[0], "dcc_tcp_accept");
        assert_eq!(keys[7], "dcc_other");
        assert_eq!(Category::CliDisconn.index(), 6);
    }

    #[test]
    fn client_text_is_cut() {
        let s = Summary {
            peer: "127.0.0.1:1".into(),
            category: Category::RejBadReq,
            status: 0,
            ret: 109,
            elapsed: Duration::from_millis(1),
            compiler: Some("g".repeat(1 << 20)),
            input: Some("x\n.c".into()),
        };
        let line = s.to_string();
        assert!(line.len() < 400, "{}", line.len());
        assert!(line.contains("...[1048320 more bytes] x\\n.c"), "{line}");
    }
}
