//! How long a client may take over each part of its request (issue 10):
//! the rules that stop a client from holding a connection for ever by
//! sending nothing, or one byte now and then. Pure: byte counts in,
//! durations out.
//!
//! 3.4 reads with blocking calls and no timeout (spec §4.6), and a timeout
//! per read (what we had) is no better: one byte every few seconds resets
//! it. A request is sent in three parts, each with a deadline for the
//! whole part:
//!
//! 1. **Head** (DIST … last ARGV): a client sends it as soon as it is
//!    connected (3.4 and ours both), so it must be complete within
//!    [`GRACE`] of the connection, plus one second per [`MIN_RATE`] bytes
//!    received (a huge command line on a slow link), and never later than
//!    `DISTCC_IO_TIMEOUT`.
//! 2. **Gap**: the client now runs its preprocessor, which can take long
//!    for a big C++ file; the next header (DOTI, or NFIL in pump mode)
//!    must arrive within `DISTCC_IO_TIMEOUT` of the head, as in 3.4's
//!    client, which waits as long for its own reads.
//! 3. **Body** (DOTI's data, or all of pump mode's files): written in one
//!    go by the client, so it must flow at [`MIN_RATE`] on average after a
//!    grace of [`GRACE`] (or `DISTCC_IO_TIMEOUT` if shorter).
//!
//! Within every part, a read that brings nothing for `DISTCC_IO_TIMEOUT`
//! ends the request too, as before.

use std::time::Duration;

/// Time allowed for a head, and before a body must keep up [`MIN_RATE`].
pub const GRACE: Duration = Duration::from_secs(30);

/// The slowest average transfer accepted, in bytes per second (a 512
/// kbit/s link).
pub const MIN_RATE: u64 = 64 * 1024;

/// The parts of a request, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// DIST … the last ARGV.
    Head,
    /// Waiting for DOTI or NFIL while the client preprocesses.
    Gap,
    /// The source or the files.
    Body,
    /// Everything has arrived: no deadline (the compile has its own).
    Received,
}

impl Part {
    /// How the part is named in log lines.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Head => "request head",
            Self::Gap => "source header",
            Self::Body => "source",
            Self::Received => "request",
        }
    }
}

/// How long after its start `part` must be over, `received` bytes of it
/// having arrived so far; `None` for [`Part::Received`].
pub fn allowed(part: Part, received: u64, io_timeout: Duration) -> Option<Duration> {
    let allowance = Duration::from_secs(received / MIN_RATE);
    Some(match part {
        Part::Head => io_timeout.min(GRACE + allowance),
        Part::Gap => io_timeout,
        Part::Body => io_timeout.min(GRACE) + allowance,
        Part::Received => return None,
    })
}

/// The rule of `part` in words, for the log line of a client that broke it.
pub fn rule(part: Part, io_timeout: Duration) -> String {
    let io = io_timeout.as_secs();
    let grace = GRACE.min(io_timeout).as_secs();
    let rate = MIN_RATE / 1024;
    match part {
        Part::Head => format!(
            "the head must arrive within {}s of connecting, plus 1s per {rate} KiB, \
             at most DISTCC_IO_TIMEOUT ({io}s)",
            GRACE.as_secs()
        ),
        Part::Gap => format!("the source must start within DISTCC_IO_TIMEOUT ({io}s) of the head"),
        Part::Body => format!("the source must arrive at {rate} KiB/s on average after {grace}s"),
        Part::Received => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IO: Duration = Duration::from_secs(300);

    #[test]
    fn deadlines_per_part() {
        // (part, bytes received, io timeout, seconds allowed)
        const CASES: &[(Part, u64, u64, u64)] = &[
            (Part::Head, 0, 300, 30),
            (Part::Head, 13, 300, 30),
            (Part::Head, 640 * 1024, 300, 40),
            (Part::Head, 16 << 20, 300, 286),
            (Part::Head, 64 << 20, 300, 300),
            (Part::Head, 0, 2, 2),
            (Part::Gap, 0, 300, 300),
            (Part::Gap, 5, 7, 7),
            (Part::Body, 0, 300, 30),
            (Part::Body, 100 << 20, 300, 30 + 1600),
            (Part::Body, 0, 2, 2),
            (Part::Body, 128 * 1024, 2, 4),
        ];
        for &(part, bytes, io, want) in CASES {
            let got = allowed(part, bytes, Duration::from_secs(io))
                .unwrap()
                .as_secs();
            assert_eq!(got, want, "{part:?} after {bytes} bytes, io {io}s");
        }
        assert_eq!(allowed(Part::Received, 0, IO), None);
    }

    /// One byte every 5 s (what held a connection for ever with a timeout
    /// per read) gains nothing: the head's deadline stays 30 s away from
    /// the connection.
    #[test]
    fn trickling_does_not_move_a_deadline() {
        let first = allowed(Part::Head, 1, IO);
        for n in [2, 10, 100, 1000] {
            assert_eq!(allowed(Part::Head, n, IO), first);
        }
    }

    #[test]
    fn rules_name_the_numbers() {
        assert!(rule(Part::Head, IO).contains("within 30s"));
        assert!(rule(Part::Gap, Duration::from_secs(5)).contains("(5s)"));
        assert!(rule(Part::Body, Duration::from_secs(5)).contains("64 KiB/s on average after 5s"));
    }
}
