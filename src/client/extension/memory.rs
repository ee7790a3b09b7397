//! What is known of a host's kind, one line a host in
//! `$DISTCC_DIR/extension/` (docs/extension.md §3): for a host of ours
//! also its last offer, so that the next job's request can go right
//! behind the hello (§2.1).

use std::fs;
use std::path::{Path, PathBuf};

use super::{DIR, REPROBE_SECS};
use crate::client::slots::hoststate;

/// What a host of ours offered the last time it answered a hello.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offer {
    /// The extension version it answered (at most ours).
    pub version: u32,
    /// The capabilities it offered.
    pub caps: u32,
}

/// What is known of a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Known {
    /// It answered a hello, with this offer when the line says it (an
    /// earlier client wrote none).
    Ours(Option<Offer>),
    /// It closed the connection at the hello, less than
    /// [`REPROBE_SECS`] ago.
    Theirs,
    /// Nothing, or too old.
    Unknown,
}

fn path(topdir: &Path, lock_id: &str) -> PathBuf {
    topdir.join(DIR).join(lock_id)
}

/// Parse a memory file: `v1 ours <unix secs> [<version> <offer, hex>]`
/// or `v1 3.4 <unix secs>`. Clients before §2.1 read the first three
/// words only, so they still read ours.
fn parse(text: &str, now: u64) -> Known {
    let mut w = text.split_whitespace();
    let (Some("v1"), Some(what), Some(Ok(at))) =
        (w.next(), w.next(), w.next().map(str::parse::<u64>))
    else {
        return Known::Unknown;
    };
    match what {
        "ours" => Known::Ours(
            match (
                w.next().map(str::parse::<u32>),
                w.next().map(|c| u32::from_str_radix(c, 16)),
            ) {
                (Some(Ok(version)), Some(Ok(caps))) if version > 0 => Some(Offer { version, caps }),
                _ => None,
            },
        ),
        "3.4" if now.saturating_sub(at) < REPROBE_SECS => Known::Theirs,
        _ => Known::Unknown,
    }
}

pub(super) fn remembered(topdir: &Path, lock_id: &str) -> Known {
    fs::read_to_string(path(topdir, lock_id))
        .map_or(Known::Unknown, |t| parse(&t, hoststate::now_secs()))
}

/// Write the answer: `Some(offer)` for a host of ours, `None` for one
/// that closed at the hello (temp file and rename: readers see a whole
/// line).
pub(super) fn remember(topdir: &Path, lock_id: &str, ours: Option<Offer>) {
    let dir = topdir.join(DIR);
    let _ = fs::create_dir_all(&dir);
    let tmp = dir.join(format!(".{lock_id}.{}", std::process::id()));
    let now = hoststate::now_secs();
    let line = match ours {
        Some(o) => format!("v1 ours {now} {} {:x}\n", o.version, o.caps),
        None => format!("v1 3.4 {now}\n"),
    };
    if fs::write(&tmp, line).is_err() || fs::rename(&tmp, path(topdir, lock_id)).is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_lines_and_their_age() {
        let now = 10_000_000;
        assert_eq!(parse("v1 ours 5\n", now), Known::Ours(None));
        assert_eq!(
            parse("v1 ours 5 1 5f\n", now),
            Known::Ours(Some(Offer {
                version: 1,
                caps: 0x5f
            }))
        );
        assert_eq!(parse("v1 ours 5 0 5f\n", now), Known::Ours(None));
        assert_eq!(parse("v1 ours 5 1 zz\n", now), Known::Ours(None));
        assert_eq!(parse(&format!("v1 3.4 {}\n", now - 10), now), Known::Theirs);
        assert_eq!(
            parse(&format!("v1 3.4 {}\n", now - REPROBE_SECS), now),
            Known::Unknown
        );
        assert_eq!(parse("v2 ours 5", now), Known::Unknown);
        assert_eq!(parse("", now), Known::Unknown);
        assert_eq!(parse("v1 ours x", now), Known::Unknown);
    }

    #[test]
    fn an_offer_is_written_and_read_back() {
        let top = std::env::temp_dir().join(format!("ext-memory-{}", std::process::id()));
        let offer = Offer {
            version: 1,
            caps: 0x5f,
        };
        remember(&top, "tcp_h_1", Some(offer));
        assert_eq!(remembered(&top, "tcp_h_1"), Known::Ours(Some(offer)));
        let line = fs::read_to_string(path(&top, "tcp_h_1")).unwrap();
        assert!(
            line.starts_with("v1 ours ") && line.ends_with(" 1 5f\n"),
            "{line}"
        );
        remember(&top, "tcp_h_1", None);
        assert_eq!(remembered(&top, "tcp_h_1"), Known::Theirs);
        fs::remove_dir_all(&top).unwrap();
    }
}
