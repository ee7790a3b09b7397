//! One sparse file of fixed-size entries, one per key, read and written
//! in place: what the clients remember per source ([`super::homes`]) and
//! per job ([`super::jobcost`]). A key's entry is at `(key % ENTRIES) *
//! ENTRY`, so the file never grows past a megabyte; one `pread` to look,
//! one `pwrite` to note, no file created per job and no lock (a write of
//! an entry is serialised against others). Each user of the file encodes
//! its entry with the key and a check of its own: two keys sharing a
//! place take it in turn, and a torn or damaged entry is no entry.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// Entries in a file (a power of two).
pub const ENTRIES: u64 = 1 << 16;
/// Bytes per entry.
pub const ENTRY: usize = 16;

/// Where `key`'s entry is.
pub fn offset(key: u64) -> u64 {
    (key % ENTRIES) * ENTRY as u64
}

/// The bytes at `key`'s place in `path`, if the file has them.
pub fn read(path: &Path, key: u64) -> Option<[u8; ENTRY]> {
    let mut b = [0u8; ENTRY];
    File::open(path)
        .ok()?
        .read_exact_at(&mut b, offset(key))
        .ok()?;
    Some(b)
}

/// Write `entry` at `key`'s place in `path` (the file created 0666 less
/// the umask, as 3.4's state files, its directory if missing). Best
/// effort: an entry is a hint.
pub fn write(path: &Path, key: u64, entry: &[u8; ENTRY]) {
    let open = || {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o666)
            .open(path)
    };
    let file = open().or_else(|e| match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| open()),
        None => Err(e),
    });
    if let Ok(f) = file {
        let _ = f.write_all_at(entry, offset(key));
    }
}
