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

/// Why the daemon turned a client away: the `reason` label of
/// `distccd_refusals_total` on `/metrics`. Few values on purpose: a label
/// with unbounded values makes one time series per value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// The request did not follow the protocol (malformed, truncated,
    /// too slow, or refused by a request-head limit).
    BadRequest,
    /// The arguments are not a compile the daemon runs (the option table's
    /// refusal, spec §4.5 step 3).
    Argument,
    /// The compiler is not on the whitelist or in `DISTCC_CMDLIST` (spec
    /// §4.5 step 6).
    Whitelist,
    /// The compiler sandbox refused to start the compile.
    Sandbox,
    /// `--allow` turned the connection away before a byte was read.
    Access,
    /// The daemon had no room for the request (3.4's REJ_OVERLOAD).
    Overload,
}

impl Refusal {
    /// Every reason, in the order `/metrics` lists them.
    pub const ALL: [Refusal; 6] = [
        Self::BadRequest,
        Self::Argument,
        Self::Whitelist,
        Self::Sandbox,
        Self::Access,
        Self::Overload,
    ];

    /// The label value.
    pub const fn label(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Argument => "argument",
            Self::Whitelist => "whitelist",
            Self::Sandbox => "sandbox",
            Self::Access => "access",
            Self::Overload => "overload",
        }
    }

    /// Position in [`Refusal::ALL`].
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }

    /// The reason of a job that ended refused, read from its summary (the
    /// job driver fills `compiler` once the head is read and `input` once
    /// the option scan accepts the arguments, `src/daemon/job.rs`):
    ///
    /// * REJ_OVERLOAD: [`Refusal::Overload`];
    /// * REJ_BAD_REQ with exit 110 (COMPILER_MISSING): [`Refusal::Whitelist`];
    /// * REJ_BAD_REQ with a compiler but no input: the option scan refused
    ///   the arguments, [`Refusal::Argument`];
    /// * any other REJ_BAD_REQ: [`Refusal::BadRequest`].
    ///
    /// Refusals that end no job (`--allow`, before a byte is read) or that
    /// end one in another category are counted by their callers through
    /// `Stats::refused`.
    pub fn of(summary: &Summary) -> Option<Self> {
        const COMPILER_MISSING: i32 = crate::error::ExitCode::CompilerMissing.code();
        match summary.category {
            Category::RejOverload => Some(Self::Overload),
            Category::RejBadReq if summary.ret == COMPILER_MISSING => Some(Self::Whitelist),
            Category::RejBadReq if summary.compiler.is_some() && summary.input.is_none() => {
                Some(Self::Argument)
            }
            Category::RejBadReq => Some(Self::BadRequest),
            _ => None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
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
    fn refusal_reason_from_the_summary() {
        let job = |category, ret, compiler: Option<&str>, input: Option<&str>| Summary {
            peer: "127.0.0.1:1".into(),
            category,
            status: 0,
            ret,
            elapsed: Duration::ZERO,
            compiler: compiler.map(Into::into),
            input: input.map(Into::into),
        };
        use Category::*;
        /// category, ret, compiler, input: the reason.
        type Case = (
            Category,
            i32,
            Option<&'static str>,
            Option<&'static str>,
            Option<Refusal>,
        );
        const CASES: &[Case] = &[
            // garbage before a compiler was named
            (RejBadReq, 108, None, None, Some(Refusal::BadRequest)),
            // `gcc -E x.c`, `gcc x.o -o x`: refused by the option table
            (RejBadReq, 108, Some("gcc"), None, Some(Refusal::Argument)),
            // not on the whitelist
            (
                RejBadReq,
                110,
                Some("evil"),
                Some("x.c"),
                Some(Refusal::Whitelist),
            ),
            // the source never came
            (
                RejBadReq,
                103,
                Some("gcc"),
                Some("x.c"),
                Some(Refusal::BadRequest),
            ),
            (RejOverload, 115, None, None, Some(Refusal::Overload)),
            (CompileOk, 0, Some("gcc"), Some("x.c"), None),
            (CompileError, 0, Some("gcc"), Some("x.c"), None),
            (Other, 103, None, None, None),
        ];
        for (category, ret, compiler, input, want) in CASES {
            let s = job(*category, *ret, *compiler, *input);
            assert_eq!(Refusal::of(&s), *want, "{s}");
        }
        let labels: Vec<_> = Refusal::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(
            labels,
            [
                "bad_request",
                "argument",
                "whitelist",
                "sandbox",
                "access",
                "overload"
            ]
        );
        assert_eq!(Refusal::Access.index(), 4);
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
