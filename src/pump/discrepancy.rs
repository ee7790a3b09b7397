//! The discrepancy counter of a pump-mode build (spec §5).
//!
//! A pump job that fails on a server but compiles here is a discrepancy:
//! most likely the server missed a header (one reached only through a
//! system header, or a different system header set). Each one appends an
//! `@` to `discrepancy_counter` in the build's pump directory; once the
//! file holds `DISTCC_MAX_DISCREPANCY` bytes, the rest of the build is
//! preprocessed here, so a build that pump mode does not suit stops paying
//! for two compiles per job. The file and its format are 3.4's, so 3.4's
//! clients and ours in one build count together.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The counter's file name in the pump directory.
pub const FILE: &str = "discrepancy_counter";

/// One build's counter.
#[derive(Clone, Debug)]
pub struct Counter {
    path: PathBuf,
    limit: u64,
}

impl Counter {
    /// The counter in pump directory `dir`, demoting at `limit`.
    pub fn new(dir: &Path, limit: u64) -> Self {
        Self {
            path: dir.join(FILE),
            limit,
        }
    }

    /// Discrepancies so far (none when the file does not exist).
    pub fn count(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// The limit this counter demotes at.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether the build's later jobs should be preprocessed here.
    pub fn demoted(&self) -> bool {
        self.count() >= self.limit
    }

    /// Count one discrepancy. `O_APPEND` of one byte: parallel jobs cannot
    /// lose each other's.
    pub fn note(&self) -> io::Result<()> {
        OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(b"@"))
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))
    }
}

/// What `pump` says at the end of a build that had discrepancies.
pub fn report(count: u64, limit: u64) -> Option<String> {
    if count == 0 {
        return None;
    }
    let jobs = if count == 1 { "job" } else { "jobs" };
    let mut text =
        format!("pump: warning: {count} pump-mode {jobs} failed on a server but compiled here.\n");
    if count >= limit {
        text.push_str("pump: the rest of the build was preprocessed here (plain mode).\n");
    }
    text.push_str(
        "pump: a server probably lacks a header the build uses; compare its system \
         headers and compiler with this machine's, or run the build without pump.\n",
    );
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_demotes_at_its_limit() {
        let dir = std::env::temp_dir().join(format!("dcc-discrepancy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let c = Counter::new(&dir, 2);
        assert_eq!((c.count(), c.demoted()), (0, false));
        c.note().unwrap();
        assert_eq!((c.count(), c.demoted()), (1, false));
        c.note().unwrap();
        assert_eq!((c.count(), c.demoted()), (2, true));
        assert_eq!(std::fs::read(dir.join(FILE)).unwrap(), b"@@");
        std::fs::remove_dir_all(&dir).unwrap();
        let gone = Counter::new(&dir, 1).note().unwrap_err();
        assert!(gone.to_string().contains(FILE), "{gone}");
    }

    #[test]
    fn the_report_says_whether_the_build_was_demoted() {
        assert_eq!(report(0, 1), None);
        let one = report(1, 1).unwrap();
        assert!(one.contains("1 pump-mode job failed"), "{one}");
        assert!(one.contains("plain mode"), "{one}");
        let below = report(2, 5).unwrap();
        assert!(below.contains("2 pump-mode jobs"), "{below}");
        assert!(!below.contains("plain mode"), "{below}");
    }
}
