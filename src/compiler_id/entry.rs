//! A cached identity (docs/extension.md §7): the files it was computed
//! from, as `stat` saw them, and the identity; valid while every file is
//! unchanged. And the name under which a warning is remembered. Pure:
//! `stat` is passed in.

use super::Identity;
use crate::fnv::fnv1a;

/// A file an identity was computed from, as `stat` saw it: while every
/// one is unchanged, the identity is too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dep {
    /// Its path.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds.
    pub mtime: i64,
    /// Inode.
    pub ino: u64,
}

/// A cached identity: the files it depends on (the driver first), then
/// the identity. Text: `dep <ino> <size> <mtime> <path>` lines, a blank
/// line, the identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// What it was computed from.
    pub deps: Vec<Dep>,
    /// The identity.
    pub identity: Identity,
}

impl Entry {
    /// The entry as text.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        for d in &self.deps {
            out.push_str(&format!(
                "dep {} {} {} {}\n",
                d.ino, d.size, d.mtime, d.path
            ));
        }
        out.push('\n');
        let mut bytes = out.into_bytes();
        bytes.extend(self.identity.encode());
        bytes
    }

    /// Parse an entry; `None` for anything else (a cache to recompute).
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (head, id) = text.split_once("\n\n")?;
        let deps = head
            .lines()
            .map(|l| {
                let mut w = l.splitn(5, ' ');
                let (Some("dep"), Some(ino), Some(size), Some(mtime), Some(path)) =
                    (w.next(), w.next(), w.next(), w.next(), w.next())
                else {
                    return None;
                };
                Some(Dep {
                    path: path.to_owned(),
                    size: size.parse().ok()?,
                    mtime: mtime.parse().ok()?,
                    ino: ino.parse().ok()?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let identity = Identity::parse(id.as_bytes()).ok()?;
        (!deps.is_empty()).then_some(Self { deps, identity })
    }

    /// Whether every file is as it was (`stat` answers for a path).
    pub fn valid(&self, stat: impl Fn(&str) -> Option<Dep>) -> bool {
        self.deps.iter().all(|d| stat(&d.path).as_ref() == Some(d))
    }
}

/// The file name under which a warning about `host` and this pair of
/// identities is remembered: one warning per host and compiler pair.
pub fn warned_name(lock_id: &str, ours: &Identity, theirs: &Identity) -> String {
    let bytes = [ours.encode(), b"\0".to_vec(), theirs.encode()].concat();
    format!("{lock_id}-{:016x}", fnv1a(&bytes))
}

/// The file name under which "`host`'s compiler differs from `ours`" is
/// remembered: another compiler here (a new identity) is a new name, so
/// its jobs go to the host again.
pub fn differs_name(lock_id: &str, ours: &Identity) -> String {
    format!("{lock_id}-{:016x}", fnv1a(&ours.encode()))
}
