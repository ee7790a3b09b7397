//! The pump requests this user's clients sent to a host lately, the bases
//! of the next requests by reference (docs/extension.md §11): the texts
//! in `$DISTCC_DIR/pump/sent/<lock id>/`, one file each, named by their
//! SHA-256, the newest [`KEEP`] kept.
//!
//! A job's client process reads the newest [`reqref::MAX_BASES`] and
//! names each by the digest of the bytes it read, not by the file's name:
//! a damaged or half-replaced file is then merely a base the server does
//! not hold (`XMIS`, one more round trip), never a wrong decompression.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::protocol::hdrcache::Digest;
use crate::protocol::reqref;

/// Texts kept per host.
pub const KEEP: usize = 8;
/// Larger texts are not kept as bases (a request naming many files gains
/// little from its neighbours and would make every later one read it).
pub const MAX_TEXT: u64 = 256 << 10;

/// One host's directory.
#[derive(Clone, Debug)]
pub struct Memory {
    dir: PathBuf,
}

fn hex(d: &Digest) -> String {
    d.0.iter().map(|b| format!("{b:02x}")).collect()
}

impl Memory {
    /// The texts sent to the host with `lock_id`, under `topdir`
    /// (`$DISTCC_DIR`).
    pub fn new(topdir: &Path, lock_id: &str) -> Self {
        Self {
            dir: topdir.join("pump").join("sent").join(lock_id),
        }
    }

    /// The files, newest first.
    fn newest(&self) -> Vec<PathBuf> {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut files: Vec<(SystemTime, PathBuf)> = rd
            .filter_map(Result::ok)
            .filter(|e| e.file_name().len() == 64)
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort_by_key(|f| std::cmp::Reverse(f.0));
        files.into_iter().map(|(_, p)| p).collect()
    }

    /// The newest texts, at most [`reqref::MAX_BASES`], with their
    /// digests computed from what was read.
    pub fn bases(&self) -> Vec<(Digest, Vec<u8>)> {
        self.newest()
            .iter()
            .filter_map(|p| fs::read(p).ok())
            .filter(|t| !t.is_empty() && t.len() as u64 <= MAX_TEXT)
            .take(reqref::MAX_BASES)
            .map(|t| (Digest::of(&t), t))
            .collect()
    }

    /// Keep `text` (the server has it now) and drop all but the newest
    /// [`KEEP`]. Failures only cost later requests their bases.
    pub fn keep(&self, text: &[u8]) {
        if text.len() as u64 > MAX_TEXT {
            return;
        }
        let _ = self.write(text);
        for old in self.newest().iter().skip(KEEP) {
            let _ = fs::remove_file(old);
        }
    }

    /// The server lacked a base (`XMIS`): it was restarted or evicted
    /// them, so the others are unlikely to be held either. All are
    /// dropped, for the next jobs not to pay the round trip too.
    pub fn forget(&self) {
        for old in self.newest() {
            let _ = fs::remove_file(old);
        }
    }

    fn write(&self, text: &[u8]) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(hex(&Digest::of(text)));
        let tmp = self.dir.join(format!(".{}.tmp", std::process::id()));
        let done = fs::write(&tmp, text).and_then(|()| fs::rename(&tmp, &path));
        if done.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_texts_are_the_bases_and_a_damaged_one_is_named_by_its_bytes() {
        let top = std::env::temp_dir().join(format!("distcc-sentreqs-{}", std::process::id()));
        let _ = fs::remove_dir_all(&top);
        let sent = Memory::new(&top, "tcp_10.0.0.1_3632");
        assert!(sent.bases().is_empty(), "nothing sent yet");
        for i in 0..12u8 {
            sent.keep(&[b'a' + i; 100]);
            // Distinct modification times.
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(sent.newest().len(), KEEP);
        let bases = sent.bases();
        assert_eq!(bases.len(), reqref::MAX_BASES);
        assert_eq!(bases[0].1, vec![b'l'; 100], "newest first");
        for (d, t) in &bases {
            assert_eq!(*d, Digest::of(t));
        }
        // A file whose bytes are not its name's: named by its bytes.
        let newest = &sent.newest()[0];
        fs::write(newest, b"damaged").unwrap();
        assert_eq!(
            sent.bases()[0],
            (Digest::of(b"damaged"), b"damaged".to_vec())
        );
        sent.keep(&vec![0u8; MAX_TEXT as usize + 1]);
        assert_eq!(sent.newest().len(), KEEP, "too large to keep");
        sent.forget();
        assert!(sent.bases().is_empty());
        let leftovers = fs::read_dir(&sent.dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().len() != 64)
            .count();
        assert_eq!(leftovers, 0, "no temp file left");
        fs::remove_dir_all(&top).unwrap();
    }
}
