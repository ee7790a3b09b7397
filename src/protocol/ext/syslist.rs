//! The system headers a pump job's compile read on the server
//! (docs/extension.md §13, capability `SYSTEM_HEADERS`): the files
//! outside the client's mirror that the server's compiler named in its
//! dependency file, each with its size and SHA-256. A pump job is
//! compiled against the server's system headers (only the user's travel),
//! so the client compares them with its own before it uses the object.
//! Pure: the list's text, its digest, and its entries.

use super::wire::bad;
use crate::protocol::ProtocolError;
use crate::protocol::hdrcache::{DIGEST_LEN, Digest};

/// Most lists a choice may name as known (`XSYK`).
pub const MAX_KNOWN: usize = 4;
/// Longest list (`XSYL`'s body, on the wire and decoded): some 50,000
/// headers, far above any compile's.
pub const MAX_LIST: u32 = 4 << 20;

/// One file the server's compiler read outside the mirror.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its absolute path on the server, as the compiler named it.
    pub path: Vec<u8>,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its contents.
    pub digest: Digest,
}

/// The list's text: the entries sorted by path (bytes), each its path, a
/// NUL, its size as 8 bytes big-endian and its 32-byte SHA-256. The same
/// files give the same text, so its SHA-256 names the list (`XSYK`).
pub fn encode(entries: &mut Vec<Entry>) -> Vec<u8> {
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries.dedup_by(|a, b| a.path == b.path);
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.path.len() + 41).sum());
    for e in entries.iter() {
        out.extend_from_slice(&e.path);
        out.push(0);
        out.extend_from_slice(&e.size.to_be_bytes());
        out.extend_from_slice(&e.digest.0);
    }
    out
}

/// The entries of a list's text: every path absolute and without NUL,
/// in strictly increasing order.
pub fn decode(text: &[u8]) -> Result<Vec<Entry>, ProtocolError> {
    let broken = |what| bad(b"XSYL", what);
    let mut out: Vec<Entry> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let nul = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(broken("an entry without its NUL"))?;
        let (path, tail) = (&rest[..nul], &rest[nul + 1..]);
        if tail.len() < 8 + DIGEST_LEN {
            return Err(broken("an entry cut short"));
        }
        if !path.starts_with(b"/") {
            return Err(broken("a path that is not absolute"));
        }
        if out.last().is_some_and(|last| last.path.as_slice() >= path) {
            return Err(broken("paths out of order"));
        }
        let size = u64::from_be_bytes(tail[..8].try_into().expect("8 bytes"));
        let digest = Digest(tail[8..8 + DIGEST_LEN].try_into().expect("32 bytes"));
        out.push(Entry {
            path: path.to_vec(),
            size,
            digest,
        });
        rest = &tail[8 + DIGEST_LEN..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, size: u64, byte: u8) -> Entry {
        Entry {
            path: path.as_bytes().to_vec(),
            size,
            digest: Digest([byte; DIGEST_LEN]),
        }
    }

    #[test]
    fn the_text_is_sorted_entries_byte_for_byte() {
        let mut list = vec![
            entry("/usr/include/string.h", 0x1234, 0xbb),
            entry("/usr/include/stdio.h", 7, 0xaa),
            entry("/usr/include/stdio.h", 7, 0xaa),
        ];
        let text = encode(&mut list);
        let mut want = b"/usr/include/stdio.h\0\0\0\0\0\0\0\0\x07".to_vec();
        want.extend([0xaa; 32]);
        want.extend(b"/usr/include/string.h\0\0\0\0\0\0\0\x12\x34");
        want.extend([0xbb; 32]);
        assert_eq!(text, want);
        assert_eq!(decode(&text).unwrap(), list);
        assert_eq!(list.len(), 2);
        assert_eq!(decode(b"").unwrap(), vec![]);
        for cut in 1..text.len() {
            if cut != text.len() / 2 {
                assert!(decode(&text[..cut]).is_err(), "{cut}");
            }
        }
        // Out of order, repeated, relative: refused.
        let (a, b) = text.split_at(text.len() / 2);
        assert!(decode(&[b, a].concat()).is_err());
        assert!(decode(&[a, a].concat()).is_err());
        assert!(decode(&text[1..]).is_err());
    }
}
