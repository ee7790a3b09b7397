//! A header record's bytes: pure encode and decode, with the checksum
//! that makes a cut-short or damaged record a miss, never an error.

use super::{Key, Record};
use crate::fnv::fnv1a;
use crate::protocol::hdrcache::{DIGEST_LEN, Digest};
use crate::pump::includes::lexer::{Directive, Kind};

/// The logs find records by it ([`crate::pump::includes::cachelog`]).
pub(super) const MAGIC: &[u8; 8] = super::super::cachelog::RECORD_MAGIC;

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
pub(super) const KINDS: [Kind; 9] = [
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

pub(super) fn kind_code(k: Kind) -> u8 {
    KINDS
        .iter()
        .position(|&x| x == k)
        .expect("every kind listed") as u8
}

pub(super) fn kind_of(c: u8) -> Option<Kind> {
    KINDS.get(c as usize).copied()
}

#[cfg(test)]
mod tests {
    use super::super::Key;
    use super::*;

    fn record() -> Record {
        Record {
            path: b"/w/inc/a.h".to_vec(),
            key: Key {
                dev: 2049,
                ino: 77,
                size: 120,
                mtime_ns: 1_700_000_000_123_456_789,
                ctime_ns: -5,
            },
            digest: Digest::of(b"#include \"b.h\"\n"),
            directives: vec![
                Directive {
                    kind: Kind::Include,
                    angled: false,
                    name: b"b.h".to_vec(),
                    value: Vec::new(),
                    line: 3,
                },
                Directive {
                    kind: Kind::Maybe,
                    angled: true,
                    name: b"sys/x.h".to_vec(),
                    value: Vec::new(),
                    line: 9,
                },
                Directive {
                    kind: Kind::Define,
                    angled: false,
                    name: b"CONFIG_H".to_vec(),
                    value: b"<cfg/config.h>".to_vec(),
                    line: 12,
                },
            ],
        }
    }

    #[test]
    fn records_round_trip_and_damage_is_seen() {
        let r = record();
        let bytes = encode(&r);
        assert_eq!(decode(&bytes), Some(r.clone()));
        // Cut anywhere (a reader racing a writer without rename would see this).
        for n in 0..bytes.len() {
            assert_eq!(decode(&bytes[..n]), None, "cut at {n}");
        }
        // Any one byte changed.
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert_eq!(decode(&b), None, "byte {i} flipped");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode(&longer), None);
        for k in KINDS {
            assert_eq!(kind_of(kind_code(k)), Some(k));
        }
    }
}
