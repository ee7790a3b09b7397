//! The system headers a pump job's compile read (docs/extension.md §13,
//! capability `SYSTEM_HEADERS`): the files outside the client's mirror
//! that the compiler's dependency file (`-MD`) names, each with its size
//! and SHA-256, sent before `DONE` so that the client can compare them
//! with its own before it uses the object (it expects its own headers).
//!
//! The digests are kept by path, device, inode, size and times, so a job
//! whose headers an earlier job hashed costs one `stat` per header.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;

use crate::args::makerule::prerequisites;
use crate::protocol::codec::Codec;
use crate::protocol::ext::Before;
use crate::protocol::ext::syslist::{self, Entry};
use crate::protocol::hdrcache::Digest;

/// Most digests kept; past it the memory starts over (a few MB).
const MAX_KEPT: usize = 65_536;

/// A file's identity when it was hashed: if any of this changed, so may
/// have its bytes.
type Key = (u64, u64, u64, i64, i64);

fn key(m: &std::fs::Metadata) -> Key {
    let ns = |s: i64, n: i64| s * 1_000_000_000 + n;
    (
        m.dev(),
        m.ino(),
        m.size(),
        ns(m.mtime(), m.mtime_nsec()),
        ns(m.ctime(), m.ctime_nsec()),
    )
}

/// The daemon's digests of the system headers its jobs read.
#[derive(Debug, Default)]
pub struct Digests {
    kept: Mutex<HashMap<Vec<u8>, (Key, Digest)>>,
}

impl Digests {
    /// The entry of the file at `path`: its size and digest, hashed only
    /// when its `stat` changed since it was last hashed.
    fn entry(&self, path: &[u8]) -> std::io::Result<Entry> {
        use std::os::unix::ffi::OsStrExt;
        let file = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
        let m = std::fs::metadata(file)?;
        let now = key(&m);
        let kept = self.kept.lock().expect("not poisoned").get(path).copied();
        let digest = match kept {
            Some((k, d)) if k == now => d,
            _ => {
                let d = Digest::of(&std::fs::read(file)?);
                let mut kept = self.kept.lock().expect("not poisoned");
                if kept.len() >= MAX_KEPT {
                    kept.clear();
                }
                kept.insert(path.to_vec(), (now, d));
                d
            }
        };
        Ok(Entry {
            path: path.to_vec(),
            size: m.size(),
            digest,
        })
    }

    /// The item to send before `DONE` for a compile whose dependency file
    /// is `deps` (as the compiler wrote it, naming the mirror `root` and
    /// relative to the compile's directory `cwd`, inside it): `XSYS` when
    /// the list is one the client named in `known`, else `XSYL` with its
    /// text in `codec`. `Err` when the list cannot be made (the client
    /// then gets none and does not use the object).
    pub fn item(
        &self,
        deps: &[u8],
        root: &[u8],
        cwd: &[u8],
        known: &[Digest],
        codec: Codec,
    ) -> Result<Before, String> {
        let names = prerequisites(deps).ok_or("its dependency file holds no make rule")?;
        let mut entries = Vec::new();
        for path in outside(names, root, cwd) {
            let e = self
                .entry(&path)
                .map_err(|e| format!("{}: {e}", String::from_utf8_lossy(&path).escape_debug()))?;
            entries.push(e);
        }
        let text = syslist::encode(&mut entries);
        let digest = Digest::of(&text);
        let item = match known.iter().position(|k| *k == digest) {
            Some(i) => Before::SystemKnown(i as u32),
            None => Before::SystemList(codec.compress(&text)),
        };
        tracing::debug!(
            "system headers: {} files, a list of {} bytes, {}",
            entries.len(),
            text.len(),
            match &item {
                Before::SystemList(body) => format!("sent in {} bytes", body.len()),
                _ => "known to the client".to_owned(),
            }
        );
        Ok(item)
    }
}

/// The names of `names` outside the mirror `root`, absolute: a relative
/// name is the compile's directory `cwd` joined with it, `.` and `..`
/// resolved by their text.
pub fn outside(names: Vec<Vec<u8>>, root: &[u8], cwd: &[u8]) -> Vec<Vec<u8>> {
    names
        .into_iter()
        .filter_map(|name| {
            let path = if name.starts_with(b"/") {
                name
            } else {
                normalise(&[cwd, b"/", &name].concat())
            };
            let inside = path.strip_prefix(root).is_some_and(|r| r.starts_with(b"/"));
            (!inside).then_some(path)
        })
        .collect()
}

/// `path` (absolute) with `.`, `..` and repeated `/` resolved by text.
fn normalise(path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = Vec::with_capacity(path.len());
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_outside_the_mirror_are_listed() {
        let root = b"/var/tmp/d/root";
        let cwd = b"/var/tmp/d/root/home/u/src";
        let names: Vec<Vec<u8>> = [
            "x.c",
            "/var/tmp/d/root/home/u/inc/a.h",
            "/usr/include/stdio.h",
            "../../../../../../etc/hosts",
            "/var/tmp/d/rootless.h",
            "/usr/lib/gcc/x86_64-linux-gnu/12/../../../../include/c++/12/vector",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let got: Vec<String> = outside(names, root, cwd)
            .into_iter()
            .map(|p| String::from_utf8(p).unwrap())
            .collect();
        assert_eq!(
            got,
            [
                "/usr/include/stdio.h",
                "/var/etc/hosts",
                "/var/tmp/d/rootless.h",
                "/usr/lib/gcc/x86_64-linux-gnu/12/../../../../include/c++/12/vector",
            ]
        );
    }

    #[test]
    fn a_known_list_is_named_by_its_index_else_sent_whole() {
        let dir = std::env::temp_dir().join(format!("distccd-syslist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let h = dir.join("sys.h");
        std::fs::write(&h, b"int x;\n").unwrap();
        let deps = format!("x.o: x.c /r/a.h {}\n", h.display());
        let d = Digests::default();
        let Before::SystemList(body) = d
            .item(deps.as_bytes(), b"/r", b"/r/w", &[], Codec::Raw)
            .unwrap()
        else {
            panic!("not a list")
        };
        let want = vec![Entry {
            path: h.as_os_str().as_encoded_bytes().to_vec(),
            size: 7,
            digest: Digest::of(b"int x;\n"),
        }];
        assert_eq!(syslist::decode(&body).unwrap(), want);
        let known = [Digest([0; 32]), Digest::of(&body)];
        assert_eq!(
            d.item(deps.as_bytes(), b"/r", b"/r/w", &known, Codec::Raw),
            Ok(Before::SystemKnown(1))
        );
        // Changed: hashed again.
        std::fs::write(&h, b"int y;\n").unwrap();
        assert!(matches!(
            d.item(deps.as_bytes(), b"/r", b"/r/w", &known, Codec::Raw),
            Ok(Before::SystemList(_))
        ));
        std::fs::remove_file(&h).unwrap();
        assert!(
            d.item(deps.as_bytes(), b"/r", b"/r/w", &known, Codec::Raw)
                .is_err()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
