//! The include cache's files (`cache.rs` owns what a record says): one
//! append-only log per header directory, named by a hash of the
//! directory's path, holding the records of its headers one after the
//! other, each framed by its length.
//!
//! Why logs and not a file per header: a job of liblzma looks up some 30
//! headers in 8 directories, and a build's first jobs store a record of
//! each. Opening a file costs 6 µs, creating one and renaming it over its
//! final name 0.3 ms of CPU on ext4; appending to an existing file costs
//! a `write`. So a process reads each log it needs once, whole, and
//! appends all its new records for a directory with one `write` when its
//! analysis ends.
//!
//! Safe under concurrency and damage:
//!
//! * Appends are `O_APPEND` writes of whole frames, which the kernel keeps
//!   apart from other appenders' (a write to a file is serialised against
//!   others). A reader can catch the last frame half-written; a crashed
//!   writer or a full disk can leave a frame cut short or garbage inside
//!   the file. A frame is taken only if its length fits and it starts
//!   with the record magic; after a bad one the reader looks for the next
//!   magic. A record's own checksum ([`super::cache::decode`]) is checked
//!   before it is used: damage is a miss, never a wrong answer.
//! * Of the records of one path the last is the one used; a record is
//!   used only if the header's `stat` still matches it (`cache.rs`).
//! * A log that holds more than twice what its last records need (old
//!   versions of headers, the duplicates of jobs that missed at once) is
//!   rewritten with only those, to a temporary file renamed over it; an
//!   append racing that rewrite may be lost, which costs a later job a
//!   scan.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The magic every record starts with (`cache.rs`'s format).
pub const RECORD_MAGIC: &[u8; 8] = b"DCCINC4\n";

/// A log is rewritten only past this size.
pub const COMPACT_FROM: usize = 64 << 10;

/// One log as a process read it.
#[derive(Debug, Default)]
pub struct Log {
    bytes: Vec<u8>,
    /// Each path's last record: its range in `bytes`.
    last: HashMap<Vec<u8>, (usize, usize)>,
    /// Frames skipped as damaged.
    pub damaged: u32,
}

/// `record` framed for a log: its length, then its bytes.
pub fn frame(out: &mut Vec<u8>, record: &[u8]) {
    out.extend_from_slice(&(record.len() as u32).to_le_bytes());
    out.extend_from_slice(record);
}

/// A record larger than this is not one (the length is damaged).
const MAX_RECORD: usize = 16 << 20;

/// What is at an offset of a log.
enum Frame {
    /// A frame, which ends there (its record is checked when used).
    Whole(usize),
    /// The start of a frame being appended: the end of the log for now.
    Tail,
    /// Not a frame.
    Bad,
}

/// Whether a frame may start at `at`: the end, or what is there so far
/// agrees with a length and the magic.
fn may_start(bytes: &[u8], at: usize) -> bool {
    let magic = bytes.get(at + 4..).unwrap_or(&[]);
    let n = magic.len().min(RECORD_MAGIC.len());
    magic[..n] == RECORD_MAGIC[..n]
}

fn frame_at(bytes: &[u8], at: usize) -> Frame {
    let Some(n) = bytes.get(at..at + 4) else {
        return Frame::Tail;
    };
    let n = u32::from_le_bytes(n.try_into().expect("4 bytes")) as usize;
    if n > MAX_RECORD || n < RECORD_MAGIC.len() || !may_start(bytes, at) {
        return Frame::Bad;
    }
    let end = at + 4 + n;
    if end > bytes.len() {
        return Frame::Tail;
    }
    // A frame cut short by a crash, with others appended after it, would
    // run into the next one: its end must be where a frame may start.
    if may_start(bytes, end) {
        Frame::Whole(end)
    } else {
        Frame::Bad
    }
}

/// The path a record is of (its first field), without checking the rest.
fn path_of(record: &[u8]) -> Option<&[u8]> {
    let n = u32::from_le_bytes(record.get(8..12)?.try_into().ok()?) as usize;
    record.get(12..12 + n)
}

impl Log {
    /// The log in `bytes`.
    pub fn parse(bytes: Vec<u8>) -> Log {
        let mut last = HashMap::new();
        let mut damaged = 0;
        let mut at = 0;
        while at < bytes.len() {
            match frame_at(&bytes, at) {
                Frame::Whole(end) => {
                    let record = &bytes[at + 4..end];
                    if let Some(path) = path_of(record) {
                        last.insert(path.to_vec(), (at + 4, end));
                    }
                    at = end;
                }
                Frame::Tail => break,
                Frame::Bad => {
                    damaged += 1;
                    // The next frame: 4 bytes before the next magic.
                    let from = (at + 5).min(bytes.len());
                    match bytes[from..]
                        .windows(RECORD_MAGIC.len())
                        .position(|w| w == RECORD_MAGIC)
                    {
                        Some(p) => at = from + p - 4,
                        None => break,
                    }
                }
            }
        }
        Log {
            bytes,
            last,
            damaged,
        }
    }

    /// The log at `path`; empty if there is none or it cannot be read.
    pub fn read(path: &Path) -> Log {
        let mut bytes = Vec::new();
        match File::open(path) {
            Ok(mut f) => {
                if f.read_to_end(&mut bytes).is_err() {
                    bytes.clear();
                }
                Log::parse(bytes)
            }
            Err(_) => Log::default(),
        }
    }

    /// The last record of `path` (unchecked bytes).
    pub fn get(&self, path: &[u8]) -> Option<&[u8]> {
        self.last.get(path).map(|&(a, b)| &self.bytes[a..b])
    }

    /// Whether rewriting would at least halve the log.
    fn wasteful(&self) -> bool {
        let live: usize = self.last.values().map(|(a, b)| b - a + 4).sum();
        self.bytes.len() >= COMPACT_FROM && live * 2 < self.bytes.len()
    }
}

/// Append `frames` (whole frames) to the log at `path`, in one write, or
/// rewrite the log with its last records and `frames` when `read` (what
/// this process read of it) shows it mostly superseded.
pub fn append(path: &Path, read: &Log, frames: &[u8], tmp_suffix: &str) -> io::Result<()> {
    if read.wasteful() {
        let mut ranges: Vec<(usize, usize)> = read.last.values().copied().collect();
        ranges.sort_unstable();
        let mut out = Vec::with_capacity(read.bytes.len() / 2 + frames.len());
        for (a, b) in ranges {
            frame(&mut out, &read.bytes[a..b]);
        }
        out.extend_from_slice(frames);
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(tmp_suffix);
        let tmp = Path::new(&tmp);
        let done = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(tmp)
            .and_then(|mut f| f.write_all(&out))
            .and_then(|()| fs::rename(tmp, path));
        if done.is_err() {
            let _ = fs::remove_file(tmp);
        }
        return done;
    }
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .open(path)
        .and_then(|mut f| f.write_all(frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str, body: &str) -> Vec<u8> {
        let mut r = RECORD_MAGIC.to_vec();
        r.extend_from_slice(&(path.len() as u32).to_le_bytes());
        r.extend_from_slice(path.as_bytes());
        r.extend_from_slice(body.as_bytes());
        r
    }

    #[test]
    fn the_last_record_of_a_path_wins_and_damage_is_skipped() {
        let mut log = Vec::new();
        frame(&mut log, &record("/a.h", "old"));
        frame(&mut log, &record("/b.h", "b"));
        frame(&mut log, &record("/a.h", "new"));
        let l = Log::parse(log.clone());
        assert_eq!(l.get(b"/a.h"), Some(&record("/a.h", "new")[..]));
        assert_eq!(l.get(b"/b.h"), Some(&record("/b.h", "b")[..]));
        assert_eq!((l.get(b"/c.h"), l.damaged), (None, 0));
        // Garbage between frames, a length past the end, a cut last
        // frame: the frames after the garbage are found again.
        let mut bad = b"garbage".to_vec();
        bad.extend_from_slice(&log);
        let mut cut = Vec::new();
        frame(&mut cut, &record("/c.h", "cut"));
        bad.extend_from_slice(&cut[..cut.len() - 2]);
        let l = Log::parse(bad.clone());
        assert_eq!(l.get(b"/a.h"), Some(&record("/a.h", "new")[..]));
        assert_eq!(l.get(b"/c.h"), None);
        assert_eq!(l.damaged, 1, "a frame being appended is no damage");
        // The cut frame with another appended after it: damage, and the
        // one after it is found.
        frame(&mut bad, &record("/d.h", "d"));
        let l = Log::parse(bad);
        assert_eq!(l.get(b"/d.h"), Some(&record("/d.h", "d")[..]));
        assert_eq!((l.get(b"/c.h"), l.damaged), (None, 2));
        let mut huge = u32::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(&log);
        assert!(Log::parse(huge).get(b"/b.h").is_some());
        // Any cut of a log: never a panic, never a record that was not
        // whole in it.
        for n in 0..log.len() {
            let l = Log::parse(log[..n].to_vec());
            for p in ["/a.h", "/b.h"] {
                if let Some(r) = l.get(p.as_bytes()) {
                    assert!(log.windows(r.len()).any(|w| w == r));
                }
            }
        }
    }

    #[test]
    fn a_mostly_superseded_log_is_rewritten() {
        let dir = std::env::temp_dir().join(format!("dcc-cachelog-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let big = "x".repeat(1000);
        for i in 0..100 {
            let mut f = Vec::new();
            frame(&mut f, &record("/a.h", &format!("{i}{big}")));
            append(&path, &Log::read(&path), &f, ".tmp.1").unwrap();
        }
        let len = fs::metadata(&path).unwrap().len() as usize;
        assert!(len < 2 * COMPACT_FROM, "rewritten on the way: {len}");
        let l = Log::read(&path);
        assert_eq!(
            l.get(b"/a.h"),
            Some(&record("/a.h", &format!("99{big}"))[..])
        );
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temp file left");
        fs::remove_dir_all(&dir).unwrap();
    }
}
