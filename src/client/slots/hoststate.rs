//! What this user's clients learnt about each host's speed (issue 13),
//! shared by every client process of every build through
//! `$DISTCC_DIR/hosts/<lock id>`: one line, `v1 <ms per KiB> <samples>
//! <unix seconds>`, the averaged compile time per KiB sent
//! ([`crate::client::placement`]).
//!
//! Cheap and safe under concurrency: a client reads a few small files
//! when it picks a host, and after a remote compile writes its host's file
//! to a temp name and renames it over the old one (readers see the old or
//! the new line, never half of one; two clients that update at once lose
//! one sample of an average, which costs nothing). A figure older than
//! [`MAX_AGE_SECS`] is forgotten: the machine may have changed, and a host
//! the placement leaves out gets no job to renew its figure, so it is
//! tried again that often.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::client::placement;

/// The directory under `$DISTCC_DIR`.
pub const DIR: &str = "hosts";
/// A figure older than this (ten minutes) is not used.
pub const MAX_AGE_SECS: u64 = 600;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn path(topdir: &Path, lock_id: &str) -> PathBuf {
    topdir.join(DIR).join(lock_id)
}

/// Parse a file's line: (ms per KiB, samples, when).
fn parse(text: &str) -> Option<(f64, u32, u64)> {
    let mut w = text.split_whitespace();
    if w.next()? != "v1" {
        return None;
    }
    let ms: f64 = w.next()?.parse().ok()?;
    let n: u32 = w.next()?.parse().ok()?;
    let at: u64 = w.next()?.parse().ok()?;
    (ms.is_finite() && ms > 0.0).then_some((ms, n, at))
}

/// The measured speed of `lock_id`, if recent and measured often enough
/// to be trusted ([`placement::MIN_SAMPLES`]).
pub fn speed(topdir: &Path, lock_id: &str) -> Option<f64> {
    let text = fs::read_to_string(path(topdir, lock_id)).ok()?;
    let (ms, n, at) = parse(&text)?;
    (now_secs().saturating_sub(at) < MAX_AGE_SECS && n >= placement::MIN_SAMPLES).then_some(ms)
}

/// Fold one remote compile into `lock_id`'s figure. Failures to write are
/// ignored: the figure is a hint.
pub fn record(topdir: &Path, lock_id: &str, compile_ms: f64, sent_bytes: u64) {
    if compile_ms <= 0.0 || lock_id.is_empty() || lock_id.contains('/') {
        return;
    }
    let file = path(topdir, lock_id);
    let old = fs::read_to_string(&file)
        .ok()
        .and_then(|t| parse(&t))
        .filter(|&(_, _, at)| now_secs().saturating_sub(at) < MAX_AGE_SECS)
        .map(|(ms, n, _)| (ms, n));
    let (ms, n) = placement::update(old, placement::sample(compile_ms, sent_bytes));
    let dir = topdir.join(DIR);
    let _ = fs::create_dir_all(&dir);
    let tmp = dir.join(format!(".{lock_id}.{}", std::process::id()));
    let written = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(format!("v1 {ms} {n} {}\n", now_secs()).as_bytes()));
    if written.is_err() || fs::rename(&tmp, &file).is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_shared_through_the_directory() {
        let top = std::env::temp_dir().join(format!("dcc-hoststate-{}", std::process::id()));
        let _ = fs::remove_dir_all(&top);
        assert_eq!(speed(&top, "tcp_h_3632"), None);
        record(&top, "tcp_h_3632", 1000.0, 9 * 1024);
        assert_eq!(speed(&top, "tcp_h_3632"), None, "one sample is not trusted");
        record(&top, "tcp_h_3632", 3000.0, 9 * 1024);
        assert_eq!(speed(&top, "tcp_h_3632"), Some(200.0));
        // Stale and foreign lines are not used.
        fs::write(path(&top, "old"), "v1 5 3 1\n").unwrap();
        assert_eq!(speed(&top, "old"), None);
        fs::write(path(&top, "junk"), "hello\n").unwrap();
        assert_eq!(speed(&top, "junk"), None);
        assert_eq!(
            fs::read_dir(top.join(DIR)).unwrap().count(),
            3,
            "no temp file left"
        );
        fs::remove_dir_all(&top).unwrap();
    }
}
