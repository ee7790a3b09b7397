//! What one client process learned about a header, kept for the next
//! ones of the same build: the names its directives mention (the lexer's
//! output), the `stat` it had when it was read, and the SHA-256 of its
//! bytes (which also names it in the server's header cache, so a job whose
//! headers all hit reads none of them unless the server asks).
//!
//! A build of N files through `pump make` starts N client processes that
//! each scan mostly the same headers. The scan is the analysis's main
//! cost (reading and lexing every user header), so each process leaves a
//! record per header in the build's pump directory (`DISTCC_PUMP_DIR`,
//! made by `pump`), or `$DISTCC_DIR/pump/includes/` without one, and the
//! next one only `stat`s the header and reads the record. The records of
//! a directory's headers share one append-only log ([`super::cachelog`]).
//!
//! Safety, in order of the ways it could go wrong:
//!
//! * **Half-written records.** A record is appended to its log in one
//!   `write`, and ends with a checksum of its bytes: one that a reader
//!   caught half-written, that was cut short or damaged any other way is
//!   ignored with a warning and replaced, never trusted, never an error.
//! * **A header changed during the build.** A record is used only when
//!   the header's `stat` now (device, inode, size, modification and
//!   change times in nanoseconds) equals the one it was read with. A
//!   header whose `stat` changed is read again; if its bytes hash as
//!   before (a `touch`, a regenerated but identical `config.h`) the
//!   record's names are kept, else it is lexed again. The digest a hit
//!   gives is checked again against the bytes whenever they are read to
//!   be sent.
//! * **A change the `stat` cannot see.** File times have a granularity
//!   (a clock tick on Linux, up to 2 s elsewhere): a header rewritten with
//!   the same size within one tick of being read keeps its `stat`. As git
//!   does for its index, a record is not written for a header changed
//!   (`ctime`, which nobody can set back) less than [`RACY`] before it
//!   was read: such a header is lexed again by every job until it is old.
//! * **Two files at one path** (two checkouts seen through the same path
//!   in different mount namespaces or containers sharing `DISTCC_DIR`):
//!   the device and inode tell them apart. A record holds only what the
//!   file itself says; how a name resolves (working directory, `-I`
//!   order) is worked out by each job, never cached.
//!
//! Logs are named by a hash of the header's directory; records hold the
//! header's path itself, which is compared.

use std::collections::HashMap;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::warn;

mod format;

use super::bound;
use super::cachelog::{self, Log};
use super::lexer::Directive;
use crate::protocol::hdrcache::Digest;

use crate::fnv::fnv1a;
pub use format::{decode, encode};

/// How recently a header may have changed and still get a record (see
/// the module's documentation). 2 s covers the coarsest file times Linux
/// mounts (FAT) and clock ticks many times over.
pub const RACY: Duration = Duration::from_secs(2);

/// Counts of one process's use of the cache, for `DISTCC_VERBOSE` and the
/// tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Records used as they were: the header was not read.
    pub hits: u32,
    /// Headers whose `stat` changed but whose bytes had not: read and
    /// hashed, not lexed.
    pub same_bytes: u32,
    /// Headers lexed: no record, a stale one, or a damaged one.
    pub lexed: u32,
    /// Damaged records ignored.
    pub corrupt: u32,
    /// Records written.
    pub stored: u32,
    /// Headers too recently changed to get a record.
    pub racy: u32,
}

/// A header's identity at the time it was read: if any of this changed,
/// so may have its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

impl Key {
    pub fn of(m: &fs::Metadata) -> Key {
        Key {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
            ctime_ns: m.ctime() * 1_000_000_000 + m.ctime_nsec(),
        }
    }
}

/// One header's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub path: Vec<u8>,
    pub key: Key,
    /// The SHA-256 of its bytes.
    pub digest: Digest,
    pub directives: Vec<Directive>,
}

/// The shared cache of one build.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    stats: CacheStats,
    made_dir: bool,
    warned: bool,
    /// [`RACY`], but shorter in tests.
    racy: Duration,
    /// The size bound ([`bound::MAX_RECORDS`], [`bound::TRIM_EVERY`];
    /// smaller in tests), checked once by a process that writes records.
    max_records: usize,
    trim_every: Duration,
    trim_checked: bool,
    /// Whether main files get records (see [`Cache::for_one_build`]).
    sources: bool,
    /// The logs read, by header directory.
    logs: HashMap<PathBuf, Log>,
    /// Framed records to append to each directory's log, and how many.
    pending: HashMap<PathBuf, (Vec<u8>, u32)>,
}

/// What [`Cache::lookup`] found for a header.
#[derive(Debug)]
pub enum Lookup {
    /// Its names and digest, from a record that still holds, and its size.
    Hit(Vec<Directive>, Digest, u64),
    /// It must be read: its current key, and the record's names and digest
    /// if there was one (for [`Cache::same_bytes`]).
    Read(Key, Option<(Digest, Vec<Directive>)>),
    /// It cannot be `stat`ed: the caller's read reports why.
    Gone,
}

impl Cache {
    /// The cache in `dir`, created when the first record is written.
    pub fn new(dir: PathBuf) -> Cache {
        Cache {
            dir,
            stats: CacheStats::default(),
            made_dir: false,
            warned: false,
            racy: RACY,
            max_records: bound::MAX_RECORDS,
            trim_every: bound::TRIM_EVERY,
            trim_checked: false,
            sources: true,
            logs: HashMap::new(),
            pending: HashMap::new(),
        }
    }

    /// A cache that lives only as long as one build (in its pump
    /// directory): a build compiles each source once, so a record of a
    /// main file would never be read, and creating a file costs more
    /// than reading and lexing one source (0.1-0.2 ms of system time on
    /// ext4). Headers get records as before.
    pub fn for_one_build(mut self) -> Cache {
        self.sources = false;
        self
    }

    /// Whether main files get records.
    pub fn keeps_sources(&self) -> bool {
        self.sources
    }

    /// Where the cache of a build lives: in its pump directory, else in
    /// `$DISTCC_DIR/pump/includes` (shared by every build of the user).
    pub fn dir_for(pump_dir: Option<&Path>, distcc_dir: Option<&Path>) -> Option<PathBuf> {
        match (pump_dir, distcc_dir) {
            (Some(p), _) => Some(p.join("includes")),
            (None, Some(d)) => Some(d.join("pump").join("includes")),
            (None, None) => None,
        }
    }

    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// The log of the headers in `dir`.
    fn log_path(&self, dir: &Path) -> PathBuf {
        self.dir
            .join(format!("{:016x}.log", fnv1a(dir.as_os_str().as_bytes())))
    }

    fn damaged(&mut self, n: u32, log: &Path) {
        self.stats.corrupt += n;
        if n > 0 && !self.warned {
            self.warned = true;
            warn!(
                "pump: ignoring damaged records in the include cache log {}",
                log.display()
            );
        }
    }

    /// The record of `file`, checked against its `stat` now.
    pub fn lookup(&mut self, file: &Path) -> Lookup {
        let Ok(meta) = fs::metadata(file) else {
            return Lookup::Gone;
        };
        let key = Key::of(&meta);
        let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
        if !self.logs.contains_key(&dir) {
            let path = self.log_path(&dir);
            let log = Log::read(&path);
            self.damaged(log.damaged, &path);
            self.logs.insert(dir.clone(), log);
        }
        let Some(bytes) = self.logs[&dir].get(file.as_os_str().as_bytes()) else {
            return Lookup::Read(key, None);
        };
        match decode(bytes) {
            Some(r) => {
                if r.key == key {
                    self.stats.hits += 1;
                    Lookup::Hit(r.directives, r.digest, key.size)
                } else {
                    Lookup::Read(key, Some((r.digest, r.directives)))
                }
            }
            None => {
                let path = self.log_path(&dir);
                self.damaged(1, &path);
                Lookup::Read(key, None)
            }
        }
    }

    /// Counts a header whose bytes hashed as its old record says.
    pub fn same_bytes(&mut self) {
        self.stats.same_bytes += 1;
    }

    /// Counts a header lexed.
    pub fn lexed(&mut self) {
        self.stats.lexed += 1;
    }

    /// Leaves a record of `file` for the next processes, unless it changed
    /// too recently to be told apart from a later change. Failures only
    /// cost the next process a scan, so they are logged, not returned.
    pub fn store(&mut self, file: &Path, key: Key, digest: Digest, directives: &[Directive]) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        if now - key.ctime_ns.max(key.mtime_ns) < self.racy.as_nanos() as i64 {
            self.stats.racy += 1;
            return;
        }
        let record = Record {
            path: file.as_os_str().as_bytes().to_vec(),
            key,
            digest,
            directives: directives.to_vec(),
        };
        let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
        let (frames, n) = self.pending.entry(dir).or_default();
        cachelog::frame(frames, &encode(&record));
        *n += 1;
    }

    /// Append the records stored since the last call to their logs.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        if !self.made_dir {
            if let Err(e) = fs::create_dir_all(&self.dir) {
                tracing::debug!("pump: include cache: {}: {e}", self.dir.display());
                self.pending.clear();
                return;
            }
            self.made_dir = true;
        }
        let empty = Log::default();
        for (dir, (frames, n)) in std::mem::take(&mut self.pending) {
            let path = self.log_path(&dir);
            let read = self.logs.get(&dir).unwrap_or(&empty);
            let tmp = format!(".tmp.{}", std::process::id());
            match cachelog::append(&path, read, &frames, &tmp) {
                Ok(()) => self.stats.stored += n,
                Err(e) => tracing::debug!("pump: include cache: {}: {e}", path.display()),
            }
        }
    }

    /// The end of an analysis: the records stored are appended, and a
    /// process that wrote records keeps the directory to its bound
    /// (`bound.rs`).
    pub fn finish(&mut self) {
        self.flush();
        if self.stats.stored > 0 && !self.trim_checked {
            self.trim_checked = true;
            let removed = bound::maybe_trim(&self.dir, self.max_records, self.trim_every);
            if removed > 0 {
                tracing::debug!("pump: include cache: removed {removed} of the oldest records");
            }
        }
    }
}

/// An analysis that stopped early (a computed include) still leaves
/// the records of what it read.
impl Drop for Cache {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
