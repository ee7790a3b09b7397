//! Exit codes of distcc 3.4 (`exitcode.h`, spec §3.15).
//!
//! This is the one place the table lives. Modules define their own typed
//! errors and map them to an [`ExitCode`] here or next to the error type;
//! only a program's `main` prints and exits.

use std::fmt;

/// A distcc exit status from distcc 3.4's `exitcode.h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ExitCode {
    /// 100: generic failure.
    Failed = 100,
    /// 101: bad command-line arguments.
    BadArguments = 101,
    /// 102: the daemon could not bind its port.
    BindFailed = 102,
    /// 103: could not connect to a server.
    ConnectFailed = 103,
    /// 104: the compiler crashed.
    CompilerCrashed = 104,
    /// 105: out of memory (or fork failure).
    OutOfMemory = 105,
    /// 106: a host specification could not be parsed.
    BadHostspec = 106,
    /// 107: a read or write failed.
    IoError = 107,
    /// 108: unexpected end of data.
    Truncated = 108,
    /// 109: the peer did not follow the protocol.
    ProtocolError = 109,
    /// 110: the compiler is missing or not allowed.
    CompilerMissing = 110,
    /// 111: distcc invoked itself recursively.
    Recursion = 111,
    /// 112: changing user failed.
    SetuidFailed = 112,
    /// 113: the client was refused by the access list.
    AccessDenied = 113,
    /// 114: the server is busy.
    Busy = 114,
    /// 115: a file does not exist.
    NoSuchFile = 115,
    /// 116: no hosts are usable.
    NoHosts = 116,
    /// 117: the process went away.
    Gone = 117,
    /// 118: a timeout expired.
    Timeout = 118,
    /// 119: GSS-API authentication failed.
    GssapiFailed = 119,
    /// 120: internal: "`-E` must run locally".
    LocalCpp = 120,
}

impl ExitCode {
    /// Every code, in numeric order.
    pub const ALL: [ExitCode; 21] = [
        Self::Failed,
        Self::BadArguments,
        Self::BindFailed,
        Self::ConnectFailed,
        Self::CompilerCrashed,
        Self::OutOfMemory,
        Self::BadHostspec,
        Self::IoError,
        Self::Truncated,
        Self::ProtocolError,
        Self::CompilerMissing,
        Self::Recursion,
        Self::SetuidFailed,
        Self::AccessDenied,
        Self::Busy,
        Self::NoSuchFile,
        Self::NoHosts,
        Self::Gone,
        Self::Timeout,
        Self::GssapiFailed,
        Self::LocalCpp,
    ];

    /// The numeric status, as a process exit code.
    pub const fn code(self) -> i32 {
        self as u8 as i32
    }

    /// The wait-status word a daemon puts in `STAT` for a server-side
    /// failure (`W_EXITCODE(code, 0)`, spec §1.6).
    pub const fn wait_status(self) -> u32 {
        (self as u32) << 8
    }

    /// The code with this number, if it is one of distcc's.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// distcc's short name for the code, as in `exitcode.h`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Failed => "DISTCC_FAILED",
            Self::BadArguments => "BAD_ARGUMENTS",
            Self::BindFailed => "BIND_FAILED",
            Self::ConnectFailed => "CONNECT_FAILED",
            Self::CompilerCrashed => "COMPILER_CRASHED",
            Self::OutOfMemory => "OUT_OF_MEMORY",
            Self::BadHostspec => "BAD_HOSTSPEC",
            Self::IoError => "IO_ERROR",
            Self::Truncated => "TRUNCATED",
            Self::ProtocolError => "PROTOCOL_ERROR",
            Self::CompilerMissing => "COMPILER_MISSING",
            Self::Recursion => "RECURSION",
            Self::SetuidFailed => "SETUID_FAILED",
            Self::AccessDenied => "ACCESS_DENIED",
            Self::Busy => "BUSY",
            Self::NoSuchFile => "NO_SUCH_FILE",
            Self::NoHosts => "NO_HOSTS",
            Self::Gone => "GONE",
            Self::Timeout => "TIMEOUT",
            Self::GssapiFailed => "GSSAPI_FAILED",
            Self::LocalCpp => "LOCAL_CPP",
        }
    }
}

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

/// What `dcc_critique_status` makes of a wait status (spec §1.6): 0 for
/// success, `128 + signal` for a signal, otherwise the exit code.
pub fn critique_status(wait_status: u32) -> i32 {
    let signal = wait_status & 0x7f;
    if signal != 0 && signal != 0x7f {
        128 + signal as i32
    } else {
        ((wait_status >> 8) & 0xff) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_contiguous_from_100() {
        for (i, code) in ExitCode::ALL.iter().enumerate() {
            assert_eq!(code.code(), 100 + i as i32, "{code}");
            assert_eq!(ExitCode::from_code(code.code()), Some(*code));
        }
        assert_eq!(ExitCode::from_code(99), None);
    }

    #[test]
    fn wait_status_encodes_server_failures_like_w_exitcode() {
        assert_eq!(ExitCode::IoError.wait_status(), 0x6b00);
        assert_eq!(ExitCode::Timeout.wait_status(), 0x7600);
        assert_eq!(ExitCode::CompilerMissing.wait_status(), 0x6e00);
    }

    #[test]
    fn critique_status_matches_spec_examples() {
        assert_eq!(critique_status(0), 0);
        assert_eq!(critique_status(0x100), 1);
        assert_eq!(critique_status(0x300), 3);
        assert_eq!(critique_status(0x0b), 128 + 11);
        assert_eq!(critique_status(0x8b), 128 + 11, "core dump flag ignored");
        assert_eq!(critique_status(0x6e00), 110);
    }
}
