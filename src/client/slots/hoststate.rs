//! What this user's clients learnt about each host's speed (issue 13),
//! shared by every client process of every build through
//! `$DISTCC_DIR/host-figures/<lock id>`: one line, `v1 <ms per KiB> <samples>
//! <unix seconds>`, the averaged compile time per KiB of input
//! ([`crate::client::placement`]), then, when the host's daemon speaks
//! the extension, the status it last reported ([`record_status`]).
//!
//! Cheap and safe under concurrency: a client reads a few small files
//! when it picks a host, and after a remote compile overwrites its host's
//! line in place, with one `pwrite` of [`LINE_LEN`] bytes at offset 0 (a
//! file created once; creating a file and renaming it over the old one
//! cost 0.3 ms of CPU per job on ext4, the `pwrite` a microsecond). Two
//! writers at once leave one whole line (a write is serialised against
//! others), and lose one sample of an average, which costs nothing. A
//! reader in the middle of a write may see the start of one line and the
//! end of another: the line ends with a checksum (`#<hex>`), and a line
//! whose checksum is wrong is read again, then taken as no line. A figure older than
//! [`MAX_AGE_SECS`] is forgotten: the machine may have changed, and a host
//! the placement leaves out gets no job to renew its figure, so it is
//! tried again that often.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::client::placement;
use crate::fnv::fnv1a;

/// The directory under `$DISTCC_DIR`: a name distcc 3.4 never uses
/// (its `hosts` is the host-list file; [`super::oldfigures`]).
pub const DIR: &str = "host-figures";
/// A figure older than this (ten minutes) is not used.
pub const MAX_AGE_SECS: u64 = 600;
/// The size of every line written, padded with spaces before its `\n`,
/// so that each write covers the whole of the last one.
pub const LINE_LEN: usize = 128;

/// Seconds since the epoch, as the state files under `$DISTCC_DIR` note them.
pub fn now_secs() -> u64 {
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
    let text = read_line(topdir, lock_id)?;
    let (ms, n, at) = parse(&text)?;
    (now_secs().saturating_sub(at) < MAX_AGE_SECS && n >= placement::MIN_SAMPLES).then_some(ms)
}

/// Fold one remote compile into `lock_id`'s figure, with the status its
/// daemon sent before the reply if any (else the last one noted stays):
/// one write per job. Failures to write are ignored: the figure is a hint.
pub fn record(
    topdir: &Path,
    lock_id: &str,
    compile_ms: f64,
    input_bytes: u64,
    status: Option<&crate::protocol::ext::Status>,
) {
    if compile_ms <= 0.0 || lock_id.is_empty() || lock_id.contains('/') {
        return;
    }
    let text = read_line(topdir, lock_id).unwrap_or_default();
    let old = parse(&text)
        .filter(|&(_, _, at)| now_secs().saturating_sub(at) < MAX_AGE_SECS)
        .map(|(ms, n, _)| (ms, n));
    let (ms, n) = placement::update(old, placement::sample(compile_ms, input_bytes));
    // The daemon's last status (the extension's), if any, stays.
    let status = status.map_or_else(|| status_part(&text).to_owned(), status_tail);
    let sep = if status.is_empty() { "" } else { " " };
    write_line(
        topdir,
        lock_id,
        &format!("v1 {ms} {n} {}{sep}{status}", now_secs()),
    );
}

/// Note a host's status as its daemon reported it through the extension
/// (docs/extension.md, `XSTA`), on the same line as its speed, after it:
/// `... s <free> <slots> <queued> <load×100> <unix seconds>` (`-` for a
/// figure not sent). Readers of the speed ignore it; [`record`] keeps it.
/// Best effort, like [`record`].
pub fn record_status(topdir: &Path, lock_id: &str, status: &crate::protocol::ext::Status) {
    if lock_id.is_empty() || lock_id.contains('/') {
        return;
    }
    let tail = status_tail(status);
    let old = read_line(topdir, lock_id).unwrap_or_default();
    let speed = speed_part(&old);
    let speed = if speed.is_empty() { "v1 - 0 0" } else { speed };
    write_line(topdir, lock_id, &format!("{speed} {tail}"));
}

/// A status as the line's tail: `s <free> <slots> <queued> <load×100>
/// <unix seconds>`.
fn status_tail(status: &crate::protocol::ext::Status) -> String {
    let show = |v: Option<u32>| v.map_or("-".to_owned(), |v| v.to_string());
    format!(
        "s {} {} {} {} {}",
        show(status.free),
        show(status.slots),
        show(status.queued),
        show(status.load_centi),
        now_secs()
    )
}

/// The last status `lock_id`'s daemon reported, if younger than
/// [`MAX_AGE_SECS`].
pub fn status(topdir: &Path, lock_id: &str) -> Option<crate::protocol::ext::Status> {
    let text = read_line(topdir, lock_id)?;
    let w: Vec<&str> = status_part(&text).split_whitespace().collect();
    if w.len() != 6 || w[0] != "s" {
        return None;
    }
    let at: u64 = w[5].parse().ok()?;
    if now_secs().saturating_sub(at) >= MAX_AGE_SECS {
        return None;
    }
    let num = |s: &str| s.parse().ok();
    Some(crate::protocol::ext::Status {
        free: num(w[1]),
        slots: num(w[2]),
        queued: num(w[3]),
        load_centi: num(w[4]),
    })
}

/// The queue per compile slot `lock_id`'s daemon last reported, if the
/// report is younger than [`placement::QUEUE_FRESH_SECS`] and names a queue.
pub fn backlog(topdir: &Path, lock_id: &str) -> Option<f64> {
    let text = read_line(topdir, lock_id)?;
    backlog_of(&text, now_secs())
}

fn backlog_of(text: &str, now: u64) -> Option<f64> {
    let w: Vec<&str> = status_part(text).split_whitespace().collect();
    if w.len() != 6 || w[0] != "s" {
        return None;
    }
    let at: u64 = w[5].parse().ok()?;
    if now.saturating_sub(at) >= placement::QUEUE_FRESH_SECS {
        return None;
    }
    let queued: u32 = w[3].parse().ok()?;
    Some(placement::backlog(queued, w[2].parse().ok()))
}

/// The speed part of a line (before ` s `).
fn speed_part(line: &str) -> &str {
    line.trim_end().split(" s ").next().unwrap_or("")
}

/// The status part of a line (from `s `), or "".
fn status_part(line: &str) -> &str {
    line.trim_end()
        .find(" s ")
        .map_or("", |i| &line.trim_end()[i + 1..])
}

/// A line as written: `line`, its checksum, spaces up to [`LINE_LEN`]
/// and `\n`; `None` if it does not fit.
fn framed(line: &str) -> Option<Vec<u8>> {
    let mut out = format!("{line} #{:016x}", fnv1a(line.as_bytes())).into_bytes();
    if out.len() >= LINE_LEN {
        return None;
    }
    out.resize(LINE_LEN - 1, b' ');
    out.push(b'\n');
    Some(out)
}

/// The line in `bytes` (a file's), without its checksum, if whole: what
/// precedes the first `\n` (a longer line written before may follow).
fn unframed(bytes: &[u8]) -> Option<&str> {
    let end = bytes.iter().position(|&b| b == b'\n')?;
    let text = std::str::from_utf8(&bytes[..end]).ok()?.trim_end();
    let (line, sum) = text.rsplit_once(" #")?;
    (u64::from_str_radix(sum, 16).ok()? == fnv1a(line.as_bytes())).then_some(line)
}

/// `lock_id`'s line, read again once if it was caught half-written.
fn read_line(topdir: &Path, lock_id: &str) -> Option<String> {
    let path = path(topdir, lock_id);
    (0..2).find_map(|_| unframed(&fs::read(&path).ok()?).map(str::to_owned))
}

/// Write a host's line in place (see the module's documentation).
fn write_line(topdir: &Path, lock_id: &str, line: &str) {
    let Some(bytes) = framed(line) else { return };
    let open = || {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o666)
            .open(path(topdir, lock_id))
    };
    let file = open().or_else(|_| {
        fs::create_dir_all(topdir.join(DIR))?;
        // Once per `$DISTCC_DIR`: the figures' old place goes.
        super::oldfigures::clear(topdir);
        open()
    });
    if let Ok(f) = file {
        let _ = f.write_all_at(&bytes, 0);
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
        record(&top, "tcp_h_3632", 1000.0, 9 * 1024, None);
        assert_eq!(speed(&top, "tcp_h_3632"), None, "one sample is not trusted");
        record(&top, "tcp_h_3632", 3000.0, 9 * 1024, None);
        assert_eq!(speed(&top, "tcp_h_3632"), Some(200.0));
        // Stale and foreign lines are not used.
        fs::write(path(&top, "old"), framed("v1 5 3 1").unwrap()).unwrap();
        assert_eq!(speed(&top, "old"), None);
        fs::write(path(&top, "junk"), "hello\n").unwrap();
        assert_eq!(speed(&top, "junk"), None);
        assert_eq!(
            fs::read_dir(top.join(DIR)).unwrap().count(),
            3,
            "no temp file left"
        );
        let st = crate::protocol::ext::Status {
            free: Some(2),
            slots: Some(4),
            queued: None,
            load_centi: Some(150),
        };
        record_status(&top, "tcp_h_3632", &st);
        assert_eq!(status(&top, "tcp_h_3632"), Some(st));
        assert_eq!(speed(&top, "tcp_h_3632"), Some(200.0), "speed untouched");
        record(&top, "tcp_h_3632", 200.0, 9 * 1024, None);
        assert_eq!(status(&top, "tcp_h_3632"), Some(st), "status kept");
        assert!(speed(&top, "tcp_h_3632").unwrap() < 200.0);
        // A job's own status replaces the last one, in the same write.
        let busy = crate::protocol::ext::Status {
            queued: Some(3),
            ..st
        };
        let before = speed(&top, "tcp_h_3632").unwrap();
        record(&top, "tcp_h_3632", 200.0, 9 * 1024, Some(&busy));
        assert_eq!(status(&top, "tcp_h_3632"), Some(busy));
        assert!(speed(&top, "tcp_h_3632").unwrap() < before);
        // A status before any speed: no speed yet, and the first speed keeps it.
        record_status(&top, "fresh", &st);
        assert_eq!(speed(&top, "fresh"), None);
        record(&top, "fresh", 100.0, 0, None);
        assert_eq!(status(&top, "fresh"), Some(st));
        assert_eq!(backlog(&top, "fresh"), None, "no queue named");
        fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn a_line_is_written_in_place_and_a_damaged_one_is_no_line() {
        let top = std::env::temp_dir().join(format!("dcc-hoststate-dmg-{}", std::process::id()));
        let _ = fs::remove_dir_all(&top);
        record(&top, "h", 1000.0, 9 * 1024, None);
        record(&top, "h", 3000.0, 9 * 1024, None);
        let file = path(&top, "h");
        let ino = std::os::unix::fs::MetadataExt::ino(&fs::metadata(&file).unwrap());
        let bytes = fs::read(&file).unwrap();
        assert_eq!(bytes.len(), LINE_LEN);
        // Half of another line over it (a reader caught between two
        // writes sees this), a line of before the checksums, junk.
        let other = framed("v1 7 9 1").unwrap();
        let torn = [&other[..20], &bytes[20..]].concat();
        for damaged in [&torn[..], b"v1 200 2 1765000000\n", &bytes[..40]] {
            fs::write(&file, damaged).unwrap();
            assert_eq!(
                speed(&top, "h"),
                None,
                "{}",
                String::from_utf8_lossy(damaged)
            );
            assert_eq!(status(&top, "h"), None);
        }
        // The next job starts the figure again; nothing else is lost.
        record(&top, "h", 500.0, 1024, None);
        assert_eq!(samples_of(&file), 1);
        assert_eq!(
            std::os::unix::fs::MetadataExt::ino(&fs::metadata(&file).unwrap()),
            ino,
            "the same file"
        );
        // A longer file (an older writer's) keeps its tail after the line.
        fs::write(&file, [&bytes[..], &[b'x'; 300][..]].concat()).unwrap();
        assert_eq!(speed(&top, "h"), Some(200.0));
        assert_eq!(
            fs::read_dir(top.join(DIR)).unwrap().count(),
            1,
            "no temp file"
        );
        fs::remove_dir_all(&top).unwrap();
    }

    fn samples_of(file: &Path) -> u32 {
        let bytes = fs::read(file).unwrap();
        let line = unframed(&bytes).unwrap();
        line.split_whitespace().nth(2).unwrap().parse().unwrap()
    }

    /// Clients writing and reading one host's line at once: every read is
    /// a whole line one of them wrote, or none.
    #[test]
    fn concurrent_writers_and_readers_see_whole_lines() {
        let top = std::env::temp_dir().join(format!("dcc-hoststate-conc-{}", std::process::id()));
        let _ = fs::remove_dir_all(&top);
        let lines: Vec<String> = (0..4)
            .map(|i| format!("v1 {} {} 17650000{i:02}", 10 + i, 3 + i))
            .collect();
        std::thread::scope(|s| {
            for line in &lines {
                let top = &top;
                s.spawn(move || {
                    for _ in 0..2000 {
                        write_line(top, "h", line);
                    }
                });
            }
            for _ in 0..2 {
                let (top, lines) = (&top, &lines);
                s.spawn(move || {
                    for _ in 0..4000 {
                        if let Ok(b) = fs::read(path(top, "h")) {
                            if let Some(l) = unframed(&b) {
                                assert!(lines.iter().any(|x| x == l), "{l}");
                            }
                        }
                    }
                });
            }
        });
        let last = read_line(&top, "h").unwrap();
        assert!(lines.contains(&last), "{last}");
        fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn a_queue_counts_only_while_fresh() {
        let line = "v1 10 3 100 s 0 4 6 150 1000\n";
        assert_eq!(backlog_of(line, 1000), Some(1.5));
        assert_eq!(backlog_of(line, 1009), Some(1.5));
        assert_eq!(backlog_of(line, 1010), None, "ten seconds old");
        assert_eq!(backlog_of("v1 10 3 100 s 0 - 2 - 1000\n", 1000), Some(2.0));
        assert_eq!(backlog_of("v1 10 3 100\n", 1000), None);
    }
}
