//! The include cache's size bound. In a build's pump directory the cache
//! goes with the directory; in `$DISTCC_DIR/pump/includes` it outlives
//! every build, and each directory of headers ever analysed leaves a log
//! of their records ([`super::cachelog`]): without a bound it would only
//! grow. The "records" below are those files.
//!
//! A process that wrote records checks, at most once per [`TRIM_EVERY`]
//! for all processes (the modification time of a marker file says when
//! the last check was), whether the directory holds more than
//! [`MAX_RECORDS`]; if so it removes the oldest (by the time they were
//! written) down to seven eighths of that, so the next checks find room.
//! A record removed under a reader is a miss for it, never an error.
//! Temporary files of writers that died are removed after a minute.

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Logs kept at most (a directory of headers each).
pub const MAX_RECORDS: usize = 16 * 1024;

/// How often the directory is counted at most (by any process).
pub const TRIM_EVERY: Duration = Duration::from_secs(60);

/// The marker whose modification time is the last check.
const MARK: &str = ".trimmed";

/// A writer's temporary file older than this is left over from a crash.
const STALE_TMP: Duration = Duration::from_secs(60);

/// Trims `dir` to `max` records unless a process did so less than `every`
/// ago; how many files were removed.
pub fn maybe_trim(dir: &Path, max: usize, every: Duration) -> usize {
    let mark = dir.join(MARK);
    let now = SystemTime::now();
    let recent = fs::metadata(&mark)
        .and_then(|m| m.modified())
        .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age < every));
    if recent {
        return 0;
    }
    // Claim this round before counting, so concurrent writers do not all
    // count the directory.
    let claimed = fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&mark)
        .and_then(|f| f.set_modified(now));
    if claimed.is_err() {
        return 0;
    }
    trim(dir, max).unwrap_or(0)
}

/// Removes the oldest records of `dir` until at most seven eighths of
/// `max` remain, if there are more than `max`, and temporary files older
/// than [`STALE_TMP`]; how many files were removed.
pub fn trim(dir: &Path, max: usize) -> io::Result<usize> {
    let now = SystemTime::now();
    let mut records = Vec::new();
    let mut removed = 0;
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name == MARK {
            continue;
        }
        let Ok(modified) = e.metadata().and_then(|m| m.modified()) else {
            continue; // removed meanwhile
        };
        if name.contains(".tmp.") {
            let stale = now.duration_since(modified).is_ok_and(|a| a > STALE_TMP);
            if stale && fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
            continue;
        }
        records.push((modified, e.path()));
    }
    if records.len() > max {
        records.sort();
        let keep = max - max / 8;
        for (_, p) in &records[..records.len() - keep] {
            if fs::remove_file(p).is_ok() {
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_records_and_stale_temporary_files_go() {
        let dir = std::env::temp_dir().join(format!("dcc-bound-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let base = SystemTime::now() - Duration::from_secs(3600);
        let file = |name: &str, age_secs: u64| {
            let p = dir.join(name);
            fs::write(&p, name).unwrap();
            let f = fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(base + Duration::from_secs(age_secs))
                .unwrap();
        };
        // Written in a shuffled order: age, not name or creation, counts.
        for i in [
            7u64, 2, 19, 11, 0, 5, 14, 9, 17, 1, 12, 3, 16, 8, 6, 10, 18, 4, 15, 13,
        ] {
            file(&format!("{i:016x}"), i);
        }
        file("0000000000000001.tmp.1.0", 0); // a crashed writer's
        fs::write(dir.join("0000000000000002.tmp.2.0"), "").unwrap(); // a live one's
        assert_eq!(
            trim(&dir, 30).unwrap(),
            1,
            "under the bound: only the stale temp"
        );
        assert_eq!(trim(&dir, 16).unwrap(), 20 - 14);
        let mut left: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut want: Vec<String> = (6u64..20).map(|i| format!("{i:016x}")).collect();
        want.insert(0, "0000000000000002.tmp.2.0".into());
        want.sort();
        assert_eq!(left, want, "the 14 newest records and the live temp");
        // At most once per interval for all processes: the marker says when.
        file("00000000000000ff", 0);
        file("00000000000000fe", 0);
        assert_eq!(maybe_trim(&dir, 4, Duration::from_secs(60)), 12);
        file("00000000000000fd", 0);
        assert_eq!(maybe_trim(&dir, 1, Duration::from_secs(60)), 0);
        assert_eq!(maybe_trim(&dir, 1, Duration::ZERO), 4);
        fs::remove_dir_all(&dir).unwrap();
    }
}
