//! Why a request could not be read, and how it is said in the log.

use std::fmt;
use std::io;
use std::time::Duration;

use super::pace::Part;
use super::pending::NoMemory;
use crate::protocol::ProtocolError;

/// Why a request could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The bytes broke the protocol.
    Protocol(ProtocolError),
    /// The client closed the connection early.
    Truncated {
        /// Bytes received so far.
        have: usize,
        /// Bytes the decoder was waiting for.
        want: usize,
    },
    /// No byte arrived within `DISTCC_IO_TIMEOUT`.
    Timeout(Duration),
    /// A part of the request did not arrive in time ([`pace`](super::pace)).
    TooSlow {
        /// Which part.
        part: Part,
        /// Its bytes received.
        bytes: u64,
        /// Seconds since it began.
        secs: u64,
        /// The rule, in words.
        rule: String,
    },
    /// The request breaks a limit of the daemon.
    Refused(String),
    /// The daemon dropped the connection to make room for others.
    Dropped(String),
    /// The memory the request needs is not to be had.
    NoMemory(NoMemory),
    /// The socket or the temp file failed.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(e) => write!(f, "{e}"),
            Self::Truncated { have, want } => write!(
                f,
                "client closed the connection after {have} bytes of the request, \
                 in a part that needs {want}"
            ),
            Self::Timeout(t) => write!(f, "client sent nothing for {}s", t.as_secs()),
            Self::TooSlow {
                part,
                bytes,
                secs,
                rule,
            } => write!(
                f,
                "client too slow: {bytes} bytes of the {} in {secs}s ({rule})",
                part.name()
            ),
            Self::Refused(why) | Self::Dropped(why) => f.write_str(why),
            Self::NoMemory(m) => write!(
                f,
                "no memory to receive the request: it needs {} bytes, and {} of the {} bytes \
                 for requests being received are in use",
                m.want, m.used, m.cap
            ),
            Self::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<ProtocolError> for ReadError {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}
