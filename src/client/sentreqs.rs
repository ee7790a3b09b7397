//! The pump requests this user's clients sent to a host lately, the bases
//! of the next requests by reference (docs/extension.md §11): the newest
//! [`KEEP`] texts, in one file per host, `$DISTCC_DIR/pump/sent/<lock
//! id>.ring`, of [`KEEP`] slots written in turn.
//!
//! A slot is [`SLOT`] bytes at `i * SLOT` (the file is sparse): a
//! [`HEAD_LEN`]-byte head (magic, the text's length, a sequence number,
//! the text's SHA-256), then the text. A job's client process reads the
//! heads, then the newest [`reqref::MAX_BASES`] texts, and after the
//! server took its request writes its own text over the oldest slot, head
//! and text in one `pwrite`. One file written in place instead of a file
//! created, renamed and another removed per job: creating a file costs
//! 0.2-0.3 ms of CPU on ext4, a `pwrite` a microsecond.
//!
//! Safe under concurrency and damage: a text is used only if it hashes to
//! its head's digest, so a slot caught half-written by a reader, or
//! damaged any way, is skipped (and written over first); two clients
//! writing the same slot at once leave one whole text (writes to a file
//! are serialised against each other), the other lost, which costs a
//! later job a base. Bases are named by that checked digest, so the
//! worst a slot can do is be a base the server lacks (`XMIS`, one more
//! round trip), never a wrong decompression.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::protocol::hdrcache::{DIGEST_LEN, Digest};
use crate::protocol::reqref;

/// Texts kept per host.
pub const KEEP: usize = 8;
/// Larger texts are not kept as bases (a request naming many files gains
/// little from its neighbours and would make every later one read it).
pub const MAX_TEXT: u64 = 256 << 10;
/// A slot's head: magic, length, sequence number, digest.
pub const HEAD_LEN: usize = 16 + DIGEST_LEN;
/// A slot: its head and the largest text kept.
pub const SLOT: u64 = HEAD_LEN as u64 + MAX_TEXT;
const MAGIC: &[u8; 4] = b"RQT1";

/// One host's file.
#[derive(Clone, Debug)]
pub struct Memory {
    path: PathBuf,
}

/// A slot's head, as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head {
    len: u32,
    seq: u64,
    digest: Digest,
}

fn encode_head(h: &Head) -> [u8; HEAD_LEN] {
    let mut out = [0u8; HEAD_LEN];
    out[..4].copy_from_slice(MAGIC);
    out[4..8].copy_from_slice(&h.len.to_le_bytes());
    out[8..16].copy_from_slice(&h.seq.to_le_bytes());
    out[16..].copy_from_slice(&h.digest.0);
    out
}

/// A head that is one (any other bytes: a free slot).
fn decode_head(b: &[u8; HEAD_LEN]) -> Option<Head> {
    let len = u32::from_le_bytes(b[4..8].try_into().ok()?);
    (b[..4] == *MAGIC && len > 0 && u64::from(len) <= MAX_TEXT).then(|| Head {
        len,
        seq: u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")),
        digest: Digest(b[16..].try_into().expect("32 bytes")),
    })
}

impl Memory {
    /// The texts sent to the host with `lock_id`, under `topdir`
    /// (`$DISTCC_DIR`).
    pub fn new(topdir: &Path, lock_id: &str) -> Self {
        Self {
            path: topdir
                .join("pump")
                .join("sent")
                .join(format!("{lock_id}.ring")),
        }
    }

    /// Every slot's head (`None` for a free or damaged one).
    fn heads(f: &File) -> [Option<Head>; KEEP] {
        std::array::from_fn(|i| {
            let mut b = [0u8; HEAD_LEN];
            f.read_exact_at(&mut b, i as u64 * SLOT)
                .ok()
                .and_then(|()| decode_head(&b))
        })
    }

    /// The slots in use, newest first.
    fn newest(heads: &[Option<Head>; KEEP]) -> Vec<(usize, Head)> {
        let mut used: Vec<(usize, Head)> = heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| Some((i, (*h)?)))
            .collect();
        used.sort_by_key(|(_, h)| std::cmp::Reverse(h.seq));
        used
    }

    /// The newest texts, at most [`reqref::MAX_BASES`], each checked
    /// against its digest.
    pub fn bases(&self) -> Vec<(Digest, Vec<u8>)> {
        let Ok(f) = File::open(&self.path) else {
            return Vec::new();
        };
        let mut out: Vec<(Digest, Vec<u8>)> = Vec::new();
        for (i, h) in Self::newest(&Self::heads(&f)) {
            if out.len() == reqref::MAX_BASES {
                break;
            }
            // Two clients may have kept the same text at once.
            if out.iter().any(|(d, _)| *d == h.digest) {
                continue;
            }
            let mut text = vec![0u8; h.len as usize];
            let read = f.read_exact_at(&mut text, i as u64 * SLOT + HEAD_LEN as u64);
            // Only the texts used are hashed (SHA-256 of 4 of 8 texts).
            if read.is_ok() && Digest::of(&text) == h.digest {
                out.push((h.digest, text));
            }
        }
        out
    }

    /// Keep `text` (the server has it now) over the oldest slot, or a
    /// free one. Failures only cost later requests their bases.
    pub fn keep(&self, text: &[u8]) {
        if text.is_empty() || text.len() as u64 > MAX_TEXT {
            return;
        }
        let _ = self.write(text);
    }

    /// The server lacked a base (`XMIS`): it was restarted or evicted
    /// them, so the others are unlikely to be held either. All are
    /// dropped, for the next jobs not to pay the round trip too.
    pub fn forget(&self) {
        if let Ok(f) = OpenOptions::new().write(true).open(&self.path) {
            for i in 0..KEEP {
                let _ = f.write_all_at(&[0u8; HEAD_LEN], i as u64 * SLOT);
            }
        }
    }

    fn open(&self) -> io::Result<File> {
        let open = || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o666)
                .open(&self.path)
        };
        open().or_else(|_| {
            fs::create_dir_all(self.path.parent().expect("under pump/sent"))?;
            open()
        })
    }

    fn write(&self, text: &[u8]) -> io::Result<()> {
        let f = self.open()?;
        let heads = Self::heads(&f);
        let seq = heads.iter().flatten().map(|h| h.seq).max().unwrap_or(0) + 1;
        let head = Head {
            len: text.len() as u32,
            seq,
            digest: Digest::of(text),
        };
        // A text kept already is made the newest: its head alone again.
        if let Some(i) = (0..KEEP).find(|&i| heads[i].is_some_and(|h| h.digest == head.digest)) {
            return f.write_all_at(&encode_head(&head), i as u64 * SLOT);
        }
        let slot = (0..KEEP)
            .min_by_key(|&i| heads[i].map_or(0, |h| h.seq))
            .expect("KEEP slots");
        let mut out = Vec::with_capacity(HEAD_LEN + text.len());
        out.extend_from_slice(&encode_head(&head));
        out.extend_from_slice(text);
        f.write_all_at(&out, slot as u64 * SLOT)
    }
}

#[cfg(test)]
#[path = "sentreqs_tests.rs"]
mod tests;
