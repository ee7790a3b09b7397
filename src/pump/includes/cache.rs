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
//! next one only `stat`s the header and reads the record.
//!
//! Safety, in order of the ways it could go wrong:
//!
//! * **Half-written records.** A record is written to a unique temporary
//!   name and renamed over its final name, so a reader sees the old whole
//!   record or the new whole one. A record also ends with a checksum of
//!   its bytes: one that was cut short or damaged any other way is
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
//! Records are named by a hash of the header's path and hold the path
//! itself, which is compared; a hash collision costs a miss.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::warn;

use super::bound;
use super::lexer::{Directive, Kind};
use crate::protocol::hdrcache::{DIGEST_LEN, Digest};

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

    fn record_path(&self, file: &Path) -> PathBuf {
        self.dir
            .join(format!("{:016x}", fnv1a(file.as_os_str().as_bytes())))
    }

    /// The record of `file`, checked against its `stat` now.
    pub fn lookup(&mut self, file: &Path) -> Lookup {
        let Ok(meta) = fs::metadata(file) else {
            return Lookup::Gone;
        };
        let key = Key::of(&meta);
        let name = self.record_path(file);
        let bytes = match read_small(&name) {
            Ok(b) => b,
            Err(_) => return Lookup::Read(key, None),
        };
        match decode(&bytes) {
            Some(r) if r.path == file.as_os_str().as_bytes() => {
                if r.key == key {
                    self.stats.hits += 1;
                    Lookup::Hit(r.directives, r.digest, key.size)
                } else {
                    Lookup::Read(key, Some((r.digest, r.directives)))
                }
            }
            // Another path with the same name hash, or a record of another
            // version of this program: not damage.
            Some(_) => Lookup::Read(key, None),
            None if bytes.starts_with(&MAGIC[..6]) && !bytes.starts_with(MAGIC) => {
                Lookup::Read(key, None)
            }
            None => {
                self.stats.corrupt += 1;
                if !self.warned {
                    self.warned = true;
                    warn!(
                        "pump: ignoring the damaged include cache record {} (for {})",
                        name.display(),
                        file.display()
                    );
                }
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
        match self.write(&self.record_path(file), &encode(&record)) {
            Ok(()) => self.stats.stored += 1,
            Err(e) => tracing::debug!("pump: include cache: {}: {e}", self.dir.display()),
        }
    }

    /// The end of an analysis: a process that wrote records keeps the
    /// directory to its bound (`bound.rs`).
    pub fn finish(&mut self) {
        if self.stats.stored > 0 && !self.trim_checked {
            self.trim_checked = true;
            let removed = bound::maybe_trim(&self.dir, self.max_records, self.trim_every);
            if removed > 0 {
                tracing::debug!("pump: include cache: removed {removed} of the oldest records");
            }
        }
    }

    fn write(&mut self, name: &Path, bytes: &[u8]) -> std::io::Result<()> {
        if !self.made_dir {
            fs::create_dir_all(&self.dir)?;
            self.made_dir = true;
        }
        static N: AtomicU32 = AtomicU32::new(0);
        let mut tmp = name.as_os_str().to_owned();
        tmp.push(format!(
            ".tmp.{}.{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let tmp = PathBuf::from(tmp);
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)
            .and_then(|mut f| f.write_all(bytes));
        let done = written.and_then(|()| fs::rename(&tmp, name));
        if done.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        done
    }
}

/// A record file's bytes; records are a few hundred bytes, so one `read`
/// into a buffer beats `fs::read`'s extra `statx`.
fn read_small(p: &Path) -> std::io::Result<Vec<u8>> {
    let mut f = File::open(p)?;
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = f.read(&mut buf[len..])?;
        if n == 0 {
            break;
        }
        len += n;
    }
    buf.truncate(len);
    Ok(buf)
}

const MAGIC: &[u8; 8] = b"DCCINC4\n";

/// A record as bytes: the magic, the path, the key, the digest, the names,
/// then an FNV-1a checksum of everything before it.
pub fn encode(r: &Record) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + r.path.len() + r.directives.len() * 32);
    out.extend_from_slice(MAGIC);
    put_bytes(&mut out, &r.path);
    for v in [r.key.dev, r.key.ino, r.key.size] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in [r.key.mtime_ns, r.key.ctime_ns] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&r.digest.0);
    out.extend_from_slice(&(r.directives.len() as u32).to_le_bytes());
    for d in &r.directives {
        out.push(kind_code(d.kind));
        out.push(d.angled as u8);
        out.extend_from_slice(&d.line.to_le_bytes());
        put_bytes(&mut out, &d.name);
        put_bytes(&mut out, &d.value);
    }
    let sum = fnv1a(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// The record in `bytes`, or `None` if they are not a whole, intact one.
pub fn decode(bytes: &[u8]) -> Option<Record> {
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if fnv1a(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut r = Reader(body.strip_prefix(MAGIC)?);
    let path = r.bytes()?.to_vec();
    let key = Key {
        dev: r.u64()?,
        ino: r.u64()?,
        size: r.u64()?,
        mtime_ns: r.u64()? as i64,
        ctime_ns: r.u64()? as i64,
    };
    let digest = Digest(r.take(DIGEST_LEN)?.try_into().ok()?);
    let n = r.u32()?;
    let mut directives = Vec::with_capacity(n.min(4096) as usize);
    for _ in 0..n {
        let kind = kind_of(r.take(1)?[0])?;
        let angled = match r.take(1)?[0] {
            0 => false,
            1 => true,
            _ => return None,
        };
        let line = r.u32()?;
        let name = r.bytes()?.to_vec();
        let value = r.bytes()?.to_vec();
        directives.push(Directive {
            kind,
            angled,
            name,
            value,
            line,
        });
    }
    r.0.is_empty().then_some(Record {
        path,
        key,
        digest,
        directives,
    })
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = self.0.split_at_checked(n)?;
        self.0 = b;
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// The one table of kind codes in records.
const KINDS: [Kind; 9] = [
    Kind::Include,
    Kind::IncludeNext,
    Kind::Probe,
    Kind::ProbeNext,
    Kind::Maybe,
    Kind::Macro,
    Kind::MacroNext,
    Kind::Define,
    Kind::Clock,
];

fn kind_code(k: Kind) -> u8 {
    KINDS
        .iter()
        .position(|&x| x == k)
        .expect("every kind listed") as u8
}

fn kind_of(c: u8) -> Option<Kind> {
    KINDS.get(c as usize).copied()
}

fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
