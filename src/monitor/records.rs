//! Reading the client's per-job records (`$DISTCC_DIR/stats/jobs` and
//! the rotated `jobs.1`, written by [`crate::client::stats`]): all of them
//! for `distccmon-text --summary`, or only what was added since the last
//! look for `distccmon-tui`, which polls every second. Read-only: files
//! are opened for reading and never changed, even when stale.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::client::stats::{DIR, FILE, OLD_FILE};
use crate::state::record::JobRecord;

/// The records' directory under the top directory.
pub fn dir(topdir: &Path) -> PathBuf {
    topdir.join(DIR)
}

/// Complete lines of `bytes` as records (foreign lines skipped), and how
/// many bytes they took: a line still being written is left for later.
fn parse(bytes: &[u8], out: &mut Vec<JobRecord>) -> usize {
    let Some(end) = bytes.iter().rposition(|b| *b == b'\n') else {
        return 0;
    };
    for line in bytes[..end].split(|b| *b == b'\n') {
        if let Some(r) = JobRecord::decode(&String::from_utf8_lossy(line)) {
            out.push(r);
        }
    }
    end + 1
}

/// The bytes of `path` from `offset` on (none when it does not exist).
fn read_from(path: &Path, offset: u64) -> io::Result<Vec<u8>> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    Ok(buf)
}

fn inode(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.ino())
}

/// Every record in `dir`, oldest first.
pub fn read_all(dir: &Path) -> io::Result<Vec<JobRecord>> {
    let mut out = Vec::new();
    for name in [OLD_FILE, FILE] {
        parse(&read_from(&dir.join(name), 0)?, &mut out);
    }
    Ok(out)
}

/// Follows the records as clients append them.
#[derive(Debug, Default)]
pub struct Follower {
    /// The inode of `jobs` when last read, and how far it was read.
    at: Option<(u64, u64)>,
}

impl Follower {
    /// The records added since the last call (all of them the first
    /// time), oldest first. A rotation in between is followed: the rest
    /// of the old file (now `jobs.1`), then the new one.
    pub fn poll(&mut self, dir: &Path) -> io::Result<Vec<JobRecord>> {
        let (cur, old) = (dir.join(FILE), dir.join(OLD_FILE));
        let mut out = Vec::new();
        let cur_inode = inode(&cur);
        let from = match self.at {
            None => {
                parse(&read_from(&old, 0)?, &mut out);
                0
            }
            Some((ino, offset)) if Some(ino) == cur_inode => offset,
            Some((ino, offset)) => {
                if inode(&old) == Some(ino) {
                    parse(&read_from(&old, offset)?, &mut out);
                }
                0
            }
        };
        let Some(cur_inode) = cur_inode else {
            self.at = None;
            return Ok(out);
        };
        let used = parse(&read_from(&cur, from)?, &mut out);
        self.at = Some((cur_inode, from + used as u64));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::stats::append;
    use crate::state::record::Ran;

    fn rec(end_ms: u64) -> JobRecord {
        JobRecord {
            end_ms,
            ran: Some(Ran::Remote),
            host: "tcp_h_1".into(),
            file: "x.c".into(),
            ..JobRecord::default()
        }
    }

    fn ends(v: &[JobRecord]) -> Vec<u64> {
        v.iter().map(|r| r.end_ms).collect()
    }

    #[test]
    fn follows_appends_half_lines_and_rotations() {
        let dir = std::env::temp_dir().join(format!("distcc-follow-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut f = Follower::default();
        assert!(f.poll(&dir).unwrap().is_empty(), "no directory yet");
        append(&dir, &rec(1).encode()).unwrap();
        append(&dir, &rec(2).encode()).unwrap();
        assert_eq!(ends(&f.poll(&dir).unwrap()), [1, 2]);
        assert!(f.poll(&dir).unwrap().is_empty());
        // A line being written is read once it is whole.
        let line = rec(3).encode();
        let (a, b) = line.split_at(10);
        append(&dir, a).unwrap();
        assert!(f.poll(&dir).unwrap().is_empty());
        append(&dir, b).unwrap();
        assert_eq!(ends(&f.poll(&dir).unwrap()), [3]);
        // Rotation between two looks: the old file's rest, then the new.
        append(&dir, &rec(4).encode()).unwrap();
        std::fs::rename(dir.join(FILE), dir.join(OLD_FILE)).unwrap();
        append(&dir, &rec(5).encode()).unwrap();
        assert_eq!(ends(&f.poll(&dir).unwrap()), [4, 5]);
        assert_eq!(ends(&read_all(&dir).unwrap()), [1, 2, 3, 4, 5]);
        // A new follower reads both files.
        assert_eq!(
            ends(&Follower::default().poll(&dir).unwrap()),
            [1, 2, 3, 4, 5]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
