//! A preprocessed body as a delta against a base both sides hold
//! (docs/extension.md §12, capability `BODY_BASE`): pure code, no I/O.
//!
//! Most of a preprocessed C or C++ file is the text of the headers it
//! includes, the same from job to job of a build (liblzma: 60-97 % of
//! each body; ImGui: 2.3 of 2.6 MB). cpp marks where each header's text
//! starts with a line marker (`# 33 "/usr/include/stdio.h" 2 3 4`), so a
//! body splits into sections that either equal a section of an earlier
//! body byte for byte or do not. The client sends the equal ones as
//! copies from that earlier body (the base) and zstd-compresses only the
//! rest. Finding them costs a scan for markers and a `memcmp` per
//! section: far less than compressing the text, where a zstd dictionary
//! made of the base would first have to index all of it, per job
//! (bench/RESULTS.md, "A base for the body").
//!
//! A copy is only ever made of bytes this side compared with the body, so
//! the base's bytes need no digest check per job: a base that differs
//! from what its name says yields no copies where it differs.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Largest base either side keeps or uses.
pub const MAX_BASE: usize = 16 << 20;

/// A section shorter than this is not worth a copy of its own (12 bytes
/// on the wire before compression); it still joins a copy it continues.
const MIN_COPY: usize = 32;

/// One step of the rebuild: `lit` bytes from the literals, then `len`
/// bytes of the base from `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Copy {
    /// Literal bytes before the copy.
    pub lit: u32,
    /// Where the copy starts in the base.
    pub off: u32,
    /// Its length.
    pub len: u32,
}

/// Bytes per [`Copy`] in a delta.
const COPY_LEN: usize = 12;

/// Where each section of `text` starts: 0 and every line that begins
/// with a line marker (`# <digit>`). `#` is rare in cpp's output but for
/// the markers, so a scan for it is the cheapest way to them.
fn starts(text: &[u8]) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(memchr::memchr_iter(b'#', text).filter(|&i| {
        i > 0
            && text[i - 1] == b'\n'
            && text.get(i + 1) == Some(&b' ')
            && text.get(i + 2).is_some_and(u8::is_ascii_digit)
    }))
}

/// The sections of `text` as ranges, in order, covering all of it.
fn sections(text: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut it = starts(text).peekable();
    std::iter::from_fn(move || {
        let s = it.next()?;
        let e = it.peek().copied().unwrap_or(text.len());
        Some((s, e))
    })
}

/// The multiplier of rustc's FxHash: mixes a word in one multiply.
const MIX: u64 = 0x517c_c1b7_2722_0a95;

/// A section's key: a hash of the start of its first line (the marker,
/// naming the line and the file) and of its length. Equal sections have
/// equal keys.
fn key(section: &[u8]) -> u64 {
    let head = &section[..section.len().min(64)];
    let line = memchr::memchr(b'\n', head).map_or(head, |n| &head[..n]);
    let mut h = (section.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut words = line.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        h = (h.rotate_left(5) ^ w).wrapping_mul(MIX);
    }
    for &b in words.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(MIX);
    }
    h
}

/// How many bytes `a` and `b` share at their start: equal slices are
/// compared a block at a time (`memcmp`), the last block a byte at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 256;
    let n = a.len().min(b.len());
    let mut at = 0;
    while at + BLOCK <= n && a[at..at + BLOCK] == b[at..at + BLOCK] {
        at += BLOCK;
    }
    at + a[at..n]
        .iter()
        .zip(&b[at..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// The keys are hashes already.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The delta of `body` against `base`: the copies and the literals (the
/// sections the base lacks), as [`rebuild`] reads them. `None` when
/// nothing could be copied, or the base is too large for offsets.
///
/// A section found in the base is followed there as far as the two
/// agree, whatever their sections: the next one is most often the base's
/// next one too. From where they part, the body's text up to its next
/// marker is literal and the next section is looked up again.
pub fn delta(base: &[u8], body: &[u8]) -> Option<(Vec<Copy>, Vec<u8>)> {
    if base.len() > MAX_BASE || body.len() > u32::MAX as usize {
        return None;
    }
    let mut index: HashMap<u64, (usize, usize), BuildHasherDefault<Identity>> =
        HashMap::with_capacity_and_hasher(base.len() / 64, Default::default());
    for (s, e) in sections(base) {
        index.entry(key(&base[s..e])).or_insert((s, e));
    }
    let mut copies: Vec<Copy> = Vec::new();
    let mut lits = Vec::new();
    let mut lit = 0usize;
    // Body offsets below this are covered by the last copy.
    let mut done = 0usize;
    for (s, e) in sections(body) {
        if e <= done {
            continue;
        }
        // `done` is always where a section starts or the body ends.
        let section = &body[s..e];
        let found = (section.len() >= MIN_COPY)
            .then(|| index.get(&key(section)))
            .flatten()
            .filter(|&&(bs, be)| &base[bs..be] == section);
        let Some(&(bs, _)) = found else {
            lits.extend_from_slice(section);
            lit += section.len();
            done = e;
            continue;
        };
        let n = common_prefix(&body[s..], &base[bs..]);
        copies.push(Copy {
            lit: lit as u32,
            off: bs as u32,
            len: n as u32,
        });
        lit = 0;
        done = s + n;
        // The rest of a section the copy ends in is literal.
        if let Some(cut) = sections_end(body, done) {
            lits.extend_from_slice(&body[done..cut]);
            lit += cut - done;
            done = cut;
        }
    }
    (!copies.is_empty()).then_some((copies, lits))
}

/// Where the section holding `at` ends, when `at` is inside one (not at
/// its start and not at the end of `text`).
fn sections_end(text: &[u8], at: usize) -> Option<usize> {
    if at >= text.len() || starts_here(text, at) {
        return None;
    }
    Some(starts(&text[at..]).nth(1).map_or(text.len(), |i| at + i))
}

/// Whether a section starts at `at`.
fn starts_here(text: &[u8], at: usize) -> bool {
    at > 0
        && text[at - 1] == b'\n'
        && text[at..].starts_with(b"# ")
        && text.get(at + 2).is_some_and(u8::is_ascii_digit)
}

/// A delta's bytes (the content of the zstd frame `DOTI` carries):
/// the number of copies, the copies, the literals.
pub fn encode(copies: &[Copy], lits: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + copies.len() * COPY_LEN + lits.len());
    out.extend_from_slice(&(copies.len() as u32).to_be_bytes());
    for c in copies {
        for v in [c.lit, c.off, c.len] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    out.extend_from_slice(lits);
    out
}

/// Why a delta could not be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeltaError {
    /// Its copies are cut short, or claim more literals than it has.
    Malformed(&'static str),
    /// A copy reaches past the end of the base.
    OutsideBase,
    /// The body would exceed the cap.
    TooLarge(u64),
}

impl std::fmt::Display for DeltaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "malformed delta: {what}"),
            Self::OutsideBase => f.write_str("a copy reaches past the end of the base"),
            Self::TooLarge(cap) => write!(f, "the body would exceed {cap} bytes"),
        }
    }
}

impl std::error::Error for DeltaError {}

/// The copies at the front of `delta` and where its literals start.
fn parse(delta: &[u8]) -> Result<(Vec<Copy>, usize), DeltaError> {
    let word = |at: usize| -> Result<u32, DeltaError> {
        delta
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
            .ok_or(DeltaError::Malformed("copies cut short"))
    };
    let k = word(0)? as usize;
    let lits_at = k
        .checked_mul(COPY_LEN)
        .and_then(|n| n.checked_add(4))
        .filter(|&n| n <= delta.len())
        .ok_or(DeltaError::Malformed("copies cut short"))?;
    let copies = (0..k)
        .map(|i| {
            let at = 4 + i * COPY_LEN;
            Ok(Copy {
                lit: word(at)?,
                off: word(at + 4)?,
                len: word(at + 8)?,
            })
        })
        .collect::<Result<_, DeltaError>>()?;
    Ok((copies, lits_at))
}

/// The body `delta` (as [`encode`] makes it) stands for, given `base`:
/// at most `max` bytes, every copy inside the base, every literal there.
/// The size is checked before anything is allocated.
pub fn rebuild(base: &[u8], delta: &[u8], max: u64) -> Result<Vec<u8>, DeltaError> {
    let (copies, lits_at) = parse(delta)?;
    let lits = &delta[lits_at..];
    let mut size = lits.len() as u64;
    let mut lit_total = 0u64;
    for c in &copies {
        let end = u64::from(c.off) + u64::from(c.len);
        if end > base.len() as u64 {
            return Err(DeltaError::OutsideBase);
        }
        size += u64::from(c.len);
        lit_total += u64::from(c.lit);
    }
    if lit_total > lits.len() as u64 {
        return Err(DeltaError::Malformed("more literals claimed than sent"));
    }
    if size > max {
        return Err(DeltaError::TooLarge(max));
    }
    let mut out = Vec::with_capacity(size as usize);
    let mut at = 0usize;
    for c in &copies {
        let lit = c.lit as usize;
        out.extend_from_slice(&lits[at..at + lit]);
        at += lit;
        let off = c.off as usize;
        out.extend_from_slice(&base[off..off + c.len as usize]);
    }
    out.extend_from_slice(&lits[at..]);
    Ok(out)
}

/// What a client keeps as a base from `body`: the body without the
/// sections of its main file (those whose marker names the file the
/// first marker names), which no other job has; the headers' text stays.
pub fn base_of(body: &[u8]) -> Vec<u8> {
    let name = |section: &[u8]| -> Option<Vec<u8>> {
        let line = memchr::memchr(b'\n', section).map_or(section, |n| &section[..n]);
        let q = memchr::memchr(b'"', line)?;
        let rest = &line[q + 1..];
        Some(rest[..memchr::memchr(b'"', rest).unwrap_or(rest.len())].to_vec())
    };
    let mut main = None;
    let mut out = Vec::with_capacity(body.len());
    for (s, e) in sections(body) {
        let section = &body[s..e];
        let this = name(section);
        if main.is_none() {
            main.clone_from(&this);
        }
        if this.is_none() || this != main {
            out.extend_from_slice(section);
        }
    }
    out
}

#[cfg(test)]
#[path = "bodybase_tests.rs"]
mod tests;
