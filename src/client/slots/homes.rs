//! A pump job's home (issue 16): the host its source was last compiled
//! on. That daemon holds the source and its headers (its header cache,
//! docs/extension.md §10) and the file's last request (§11), so a
//! rebuild sent there sends what changed: 0.3-0.7 KB for a liblzma file,
//! against 1-20 KB on a host that never saw it. The placement waits a
//! little for a home's slot ([`crate::client::placement::home_wait`]).
//!
//! One file for every source, `$DISTCC_DIR/pump/homes`: [`entries::ENTRIES`]
//! entries of [`ENTRY`] bytes, a source's at the offset its path's hash
//! picks (the file is sparse: a megabyte at most). A job's client reads
//! its entry with one `pread` when it picks a host, and after a remote
//! compile writes it with one `pwrite`, only when it changed (another
//! host, or a compile time off by more than 2x): a rebuild that keeps
//! every file on its home writes nothing. No file per job, no lock (a
//! job's client CPU is what pump mode is measured by).
//!
//! An entry: the path's hash (8 bytes), the host's (its lock id's, 4),
//! the compile's milliseconds (2, at most 65535), a check of those 14
//! bytes (2), little-endian. A hint, never trusted for more: two sources
//! whose hashes meet share an entry (the last written wins), an entry
//! caught half-written or damaged fails its check and is none, a host
//! gone from the list matches no host. The worst a wrong entry does is a
//! bounded wait for a host that does not hold the source.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::entries::{self, ENTRY};
use crate::fnv;

/// Where a source was last compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Home {
    /// The host's [`host_id`].
    pub host: u32,
    /// How long its compile took there, in milliseconds (at most 65535).
    pub compile_ms: u16,
}

/// The id an entry names a host by: a hash of its lock id.
pub fn host_id(lock_id: &str) -> u32 {
    fnv::mix(fnv::fnv1a(lock_id.as_bytes())) as u32
}

fn path(topdir: &Path) -> PathBuf {
    topdir.join("pump").join("homes")
}

fn key_of(source: &[u8]) -> u64 {
    fnv::mix(fnv::fnv1a(source))
}

fn check(b: &[u8]) -> u16 {
    fnv::fnv1a(b) as u16
}

fn encode(key: u64, home: Home) -> [u8; ENTRY] {
    let mut out = [0u8; ENTRY];
    out[..8].copy_from_slice(&key.to_le_bytes());
    out[8..12].copy_from_slice(&home.host.to_le_bytes());
    out[12..14].copy_from_slice(&home.compile_ms.to_le_bytes());
    let sum = check(&out[..14]);
    out[14..].copy_from_slice(&sum.to_le_bytes());
    out
}

fn decode(b: &[u8; ENTRY], key: u64) -> Option<Home> {
    let (k, rest) = b.split_at(8);
    let (host, rest) = rest.split_at(4);
    let (ms, sum) = rest.split_at(2);
    let u16_of = |x: &[u8]| u16::from_le_bytes([x[0], x[1]]);
    (k == key.to_le_bytes() && u16_of(sum) == check(&b[..14])).then(|| Home {
        host: u32::from_le_bytes([host[0], host[1], host[2], host[3]]),
        compile_ms: u16_of(ms),
    })
}

/// The home of `source` (a pump job's absolute source path), if known.
pub fn lookup(topdir: &Path, source: &[u8]) -> Option<Home> {
    let key = key_of(source);
    decode(&entries::read(&path(topdir), key)?, key)
}

/// Whether an entry saying `old` is worth rewriting with `new`: another
/// host, or a compile time that changed by more than 2x.
fn changed(old: Option<Home>, new: Home) -> bool {
    old.is_none_or(|o| {
        let (a, b) = (u32::from(o.compile_ms), u32::from(new.compile_ms));
        o.host != new.host || a > 2 * b.max(1) || b > 2 * a.max(1)
    })
}

/// Note that `source`, whose entry said `known`, compiled on `lock_id`
/// in `compile_ms`. Best effort: a lost write costs a later build a
/// wait's worth of its placement, nothing else.
pub fn remember(topdir: &Path, source: &[u8], known: Option<Home>, lock_id: &str, compile_ms: u64) {
    let home = Home {
        host: host_id(lock_id),
        compile_ms: compile_ms.min(u64::from(u16::MAX)) as u16,
    };
    if !changed(known, home) {
        return;
    }
    let key = key_of(source);
    entries::write(&path(topdir), key, &encode(key, home));
}

/// This process's job: its source and the entry read for it.
static JOB: Mutex<Option<(Vec<u8>, Option<Home>)>> = Mutex::new(None);

/// Note this process's pump job: `source`, whose entry said `home`.
pub fn note(source: &[u8], home: Option<Home>) {
    *JOB.lock().unwrap_or_else(|e| e.into_inner()) = Some((source.to_vec(), home));
}

/// The job noted compiled on `lock_id` in `compile_ms`: its entry is
/// kept ([`remember`]). Nothing for a job not noted (not pump mode).
pub fn finish(topdir: &Path, lock_id: &str, compile_ms: u64) {
    if let Some((source, known)) = JOB.lock().unwrap_or_else(|e| e.into_inner()).take() {
        remember(topdir, &source, known, lock_id, compile_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::entries::{ENTRIES, offset};
    use super::*;
    use std::fs::OpenOptions;
    use std::os::unix::fs::FileExt;

    #[test]
    fn a_source_s_home_is_kept_and_rewritten_only_when_it_changed() {
        let top = std::env::temp_dir().join(format!("dcc-homes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&top);
        let (a, b) = (b"/src/a.c".as_slice(), b"/src/b.c".as_slice());
        assert_eq!(lookup(&top, a), None, "no file");
        remember(&top, a, None, "tcp_h1_3632", 300);
        let h1 = Home {
            host: host_id("tcp_h1_3632"),
            compile_ms: 300,
        };
        assert_eq!(lookup(&top, a), Some(h1));
        assert_eq!(lookup(&top, b), None, "another source");
        // Unchanged (a time within 2x): no write, so a damaged entry
        // stays damaged; another host is written.
        let file = path(&top);
        let at = offset(key_of(a));
        let f = OpenOptions::new().write(true).open(&file).unwrap();
        f.write_all_at(&[0xff], at + 9).unwrap();
        assert_eq!(lookup(&top, a), None, "damaged");
        remember(&top, a, Some(h1), "tcp_h1_3632", 500);
        assert_eq!(lookup(&top, a), None, "not rewritten");
        remember(&top, a, Some(h1), "tcp_h1_3632", 700);
        assert_eq!(lookup(&top, a).map(|h| h.compile_ms), Some(700));
        remember(&top, a, Some(h1), "tcp_h2_3632", 300);
        assert_eq!(
            lookup(&top, a).map(|h| h.host),
            Some(host_id("tcp_h2_3632"))
        );
        // A long compile is kept as the longest an entry says.
        remember(&top, b, None, "tcp_h1_3632", 100_000);
        assert_eq!(lookup(&top, b).map(|h| h.compile_ms), Some(u16::MAX));
        // One sparse file of fixed size at most.
        let len = std::fs::metadata(&file).unwrap().len();
        assert!(len <= ENTRIES * ENTRY as u64, "{len}");
        assert_eq!(std::fs::read_dir(top.join("pump")).unwrap().count(), 1);
        std::fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn an_entry_names_its_source_and_is_checked() {
        let home = Home {
            host: 7,
            compile_ms: 42,
        };
        let e = encode(5, home);
        assert_eq!(decode(&e, 5), Some(home));
        assert_eq!(decode(&e, 6), None, "another source's entry");
        assert_eq!(decode(&[0u8; ENTRY], 5), None, "a hole");
        for i in 8..ENTRY {
            let mut d = e;
            d[i] ^= 0x10;
            assert_eq!(decode(&d, 5), None, "byte {i}");
        }
    }
}
