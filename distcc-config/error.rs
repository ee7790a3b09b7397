//! The one error type of distcc-config: the line to print and the exit
//! status. Only `main` prints it. Messages follow Gentoo's `!!! Error: ...`
//! style; they go to stderr (Gentoo printed them on stdout).

use std::fmt;

/// Exit status for a bad host list, as distcc's (`BAD_HOSTSPEC`).
pub const BAD_HOSTSPEC: u8 = distcc::error::ExitCode::BadHostspec as u8;

/// A failure: what to print and how to exit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The whole line(s) to print on stderr.
    pub text: String,
    /// The exit status (1, or 106 for a bad host list).
    pub status: u8,
}

impl Failure {
    /// `!!! Error: <message>`, exit 1.
    pub fn error(message: impl fmt::Display) -> Self {
        Self {
            text: format!("!!! Error: {message}"),
            status: 1,
        }
    }

    /// A line printed as is (Gentoo's fixed texts), exit 1.
    pub fn raw(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            status: 1,
        }
    }

    /// Change the exit status.
    pub fn with_status(mut self, status: u8) -> Self {
        self.status = status;
        self
    }
}

/// Results of the drivers.
pub type Result<T> = std::result::Result<T, Failure>;
