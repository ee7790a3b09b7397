//! The early ends of a job: what category 3.4's statistics count each
//! in, the exit code logged, and whether it is worth a warning.

use std::io;

use crate::daemon::incoming::ReadError;
use crate::daemon::summary::Category;
use crate::error::ExitCode;
use crate::protocol::token::HEADER_LEN;

/// An early end of a job: the category and what to log.
pub(in crate::daemon) struct Stop {
    pub category: Category,
    pub ret: ExitCode,
    pub reason: String,
    /// Logged at info instead of as a warning (nothing was refused).
    pub quiet: bool,
}

/// Reading the part of a request that follows its head (the source, or
/// the file count) failed. A client that hangs up right there, before a
/// byte of it, has given up on the job (its preprocessor failed, spec
/// §1.5): 3.4 counts that as OTHER, not as a bad request (issue 11).
pub(in crate::daemon) fn read_stop_after_head(e: ReadError, what: &str) -> Stop {
    match e {
        ReadError::Truncated { have, want } if want - have == HEADER_LEN => Stop {
            category: Category::Other,
            ret: ExitCode::Truncated,
            reason: format!(
                "client closed the connection instead of sending {what} \
                 (its preprocessor failed, or it gave up)"
            ),
            quiet: true,
        },
        e => read_stop(e),
    }
}

/// A bad request: no reply, REJ_BAD_REQ.
pub(in crate::daemon) fn refuse(reason: impl Into<String>) -> Stop {
    Stop {
        category: Category::RejBadReq,
        ret: ExitCode::ProtocolError,
        reason: reason.into(),
        quiet: false,
    }
}

pub(in crate::daemon) fn read_stop(e: ReadError) -> Stop {
    match e {
        ReadError::Io(e) => Stop {
            category: Category::Other,
            ret: ExitCode::IoError,
            reason: format!("reading the request failed: {e}"),
            quiet: false,
        },
        // Connected and hung up without a byte: a port probe (lsdistcc,
        // a monitoring check) or a client whose preprocessor failed before
        // it wrote anything. 3.4 counts these as OTHER; not worth a warning.
        ReadError::Truncated { have: 0, .. } => Stop {
            category: Category::Other,
            ret: ExitCode::Truncated,
            reason: "client closed the connection without sending a request".into(),
            quiet: true,
        },
        ReadError::Truncated { .. } => Stop {
            category: Category::RejBadReq,
            ret: ExitCode::Truncated,
            reason: e.to_string(),
            quiet: false,
        },
        ReadError::Timeout(_) | ReadError::TooSlow { .. } => Stop {
            category: Category::RejBadReq,
            ret: ExitCode::Timeout,
            reason: e.to_string(),
            quiet: false,
        },
        // The daemon, not the request, is short of room (3.4's category
        // for "too busy", which 3.4 itself never uses).
        ReadError::Dropped(_) | ReadError::NoMemory(_) => Stop {
            category: Category::RejOverload,
            ret: ExitCode::Busy,
            reason: e.to_string(),
            quiet: false,
        },
        ReadError::Refused(why) => refuse(why),
        ReadError::Protocol(p) => refuse(p.to_string()),
    }
}

pub(in crate::daemon) fn io_stop(e: io::Error) -> Stop {
    Stop {
        category: Category::Other,
        ret: ExitCode::IoError,
        reason: format!("job failed on this server: {e}"),
        quiet: false,
    }
}
