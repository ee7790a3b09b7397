//! What is known of a host's kind, one line a host in
//! `$DISTCC_DIR/extension/` (docs/extension.md §3).

use std::fs;
use std::path::{Path, PathBuf};

use super::{DIR, REPROBE_SECS};
use crate::client::slots::hoststate;

/// What is known of a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Known {
    /// It answered a hello.
    Ours,
    /// It closed the connection at the hello, less than
    /// [`REPROBE_SECS`] ago.
    Theirs,
    /// Nothing, or too old.
    Unknown,
}

fn path(topdir: &Path, lock_id: &str) -> PathBuf {
    topdir.join(DIR).join(lock_id)
}

/// Parse a memory file: `v1 ours <unix secs>` or `v1 3.4 <unix secs>`.
fn parse(text: &str, now: u64) -> Known {
    let mut w = text.split_whitespace();
    let (Some("v1"), Some(what), Some(Ok(at))) =
        (w.next(), w.next(), w.next().map(str::parse::<u64>))
    else {
        return Known::Unknown;
    };
    match what {
        "ours" => Known::Ours,
        "3.4" if now.saturating_sub(at) < REPROBE_SECS => Known::Theirs,
        _ => Known::Unknown,
    }
}

pub(super) fn remembered(topdir: &Path, lock_id: &str) -> Known {
    fs::read_to_string(path(topdir, lock_id))
        .map_or(Known::Unknown, |t| parse(&t, hoststate::now_secs()))
}

/// Write the answer (temp file and rename: readers see a whole line).
pub(super) fn remember(topdir: &Path, lock_id: &str, ours: bool) {
    let dir = topdir.join(DIR);
    let _ = fs::create_dir_all(&dir);
    let tmp = dir.join(format!(".{lock_id}.{}", std::process::id()));
    let what = if ours { "ours" } else { "3.4" };
    let line = format!("v1 {what} {}\n", hoststate::now_secs());
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
        assert_eq!(parse("v1 ours 5\n", now), Known::Ours);
        assert_eq!(parse(&format!("v1 3.4 {}\n", now - 10), now), Known::Theirs);
        assert_eq!(
            parse(&format!("v1 3.4 {}\n", now - REPROBE_SECS), now),
            Known::Unknown
        );
        assert_eq!(parse("v2 ours 5", now), Known::Unknown);
        assert_eq!(parse("", now), Known::Unknown);
        assert_eq!(parse("v1 ours x", now), Known::Unknown);
    }
}
