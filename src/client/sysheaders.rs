//! The client's side of the system headers' check (docs/extension.md
//! §13, capability `SYSTEM_HEADERS`). A pump-form job is compiled
//! against the server's system headers (only the user's travel), where
//! a local compile would read this machine's: the server lists the files
//! outside the mirror its compile read, and the object is used only if
//! each is here with the same size and SHA-256, under a directory of this
//! job's include path, and no directory earlier in it that the server
//! read nothing from holds a file of the same name, which a local compile
//! would have read instead.
//!
//! Verifying a list costs a `stat`, a read and a hash per header (some
//! 85 for a C file of liblzma). So lists verified lately are kept in
//! `$DISTCC_DIR/system-headers/<hash of the include path>`, newest
//! first, each with its digest and when it was verified: the choice names
//! them (`XSYK`), a server whose list is one of them answers with its
//! index (`XSYS`), and a list verified less than [`VERIFIED_SECS`] ago is
//! believed without looking at a file. Most jobs of a build read the same
//! system headers, so most cost one small read here and 12 bytes on the
//! wire.
//!
//! A list that differs makes the job go plain (preprocessed here) and is
//! remembered per host and compiler name in
//! `$DISTCC_DIR/system-headers/differs/` for [`DIFFERS_SECS`], so the
//! next jobs there go plain without the round trip; the warning naming
//! the first differing header is given once per host and compiler
//! (`system-headers/warned/`).

use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use tracing::{debug, warn};

use crate::client::probe::cache::store;
use crate::client::slots::hoststate::now_secs;
use crate::fnv::fnv1a;
use crate::protocol::codec::Codec;
use crate::protocol::ext::syslist::{self, Entry, MAX_KNOWN, MAX_LIST};
use crate::protocol::hdrcache::Digest;

/// The directory under `$DISTCC_DIR`.
pub const DIR: &str = "system-headers";
/// How long a verified list is believed without looking at the files
/// again: a header changed here (a package upgrade) is noticed within
/// this time.
pub const VERIFIED_SECS: u64 = 60;
/// How long a host whose system headers differed gets a compiler's jobs
/// preprocessed here without asking (as for a compiler that differed).
pub const DIFFERS_SECS: u64 = crate::client::compiler_id::DIFFERS_SECS;
/// The record's first line.
const FORMAT: &[u8] = b"distcc-system-headers 1\n";

/// What the server said of the system headers before `DONE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received {
    /// `XSYS <i>`: the `i`-th list the choice named.
    Known(u32),
    /// `XSYL`: the list's text, as a body in the agreed codec.
    List(Vec<u8>),
}

/// The first system header found to differ, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Differs {
    /// Its path.
    pub header: String,
    /// How it differs here.
    pub why: String,
}

/// One list verified here.
#[derive(Clone, Debug)]
struct Verified {
    digest: Digest,
    at: u64,
    text: Vec<u8>,
}

/// The lists verified lately for one include path.
#[derive(Debug)]
pub struct Lists {
    path: Option<PathBuf>,
    search: Vec<PathBuf>,
    lists: Vec<Verified>,
}

impl Lists {
    /// The lists kept in `top` (`$DISTCC_DIR`, if any) for a job whose
    /// include path is `search` (every directory, in search order).
    pub fn load(top: Option<&Path>, search: Vec<PathBuf>) -> Self {
        let mut key = Vec::new();
        for d in &search {
            key.extend_from_slice(d.as_os_str().as_bytes());
            key.push(0);
        }
        let path = top.map(|t| t.join(DIR).join(format!("{:016x}", fnv1a(&key))));
        let lists = path
            .as_deref()
            .and_then(|p| fs::read(p).ok())
            .map(|b| parse(&b))
            .unwrap_or_default();
        Self {
            path,
            search,
            lists,
        }
    }

    /// The digests to name in the choice (`XSYK`), newest first.
    pub fn known(&self) -> Vec<Digest> {
        self.lists
            .iter()
            .map(|l| l.digest)
            .take(MAX_KNOWN)
            .collect()
    }

    /// Whether the server's list (`got`, in `codec`) is this machine's.
    pub fn check(&mut self, got: &Received, codec: Codec) -> Result<(), Differs> {
        let now = now_secs();
        let text = match got {
            Received::Known(i) => match self.lists.get(*i as usize) {
                Some(l) if now.saturating_sub(l.at) < VERIFIED_SECS => return Ok(()),
                Some(l) => l.text.clone(),
                None => return Err(broken("XSYS names a list the choice did not")),
            },
            Received::List(body) => codec
                .decompress(body, u64::from(MAX_LIST))
                .map_err(|_| broken("XSYL's body does not decode"))?,
        };
        let digest = Digest::of(&text);
        if let Some(l) = self.lists.iter().find(|l| l.digest == digest) {
            if now.saturating_sub(l.at) < VERIFIED_SECS {
                return Ok(());
            }
        }
        let entries = syslist::decode(&text).map_err(|_| broken("XSYL's list is malformed"))?;
        verify(&entries, &self.search)?;
        self.lists.retain(|l| l.digest != digest);
        self.lists.insert(
            0,
            Verified {
                digest,
                at: now,
                text,
            },
        );
        self.lists.truncate(MAX_KNOWN);
        if let Some(path) = &self.path {
            store(path, encode(&self.lists));
        }
        Ok(())
    }
}

fn broken(why: &str) -> Differs {
    Differs {
        header: "(none)".into(),
        why: why.into(),
    }
}

fn os(b: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(b))
}

/// Every entry here with its size and contents, under a directory of
/// `search`, and not hidden behind a file of the same name in an earlier
/// directory of it that the server read nothing from (which a local
/// compile would read instead: a header installed only here).
fn verify(entries: &[Entry], search: &[PathBuf]) -> Result<(), Differs> {
    let listed = |p: &Path| {
        entries
            .binary_search_by(|e| e.path.as_slice().cmp(p.as_os_str().as_bytes()))
            .is_ok()
    };
    let read_from = |dir: &Path| entries.iter().any(|e| os(&e.path).starts_with(dir));
    for e in entries {
        let path = os(&e.path);
        let differs = |why: String| Differs {
            header: path.display().to_string(),
            why,
        };
        let data = match fs::metadata(path) {
            Ok(m) if m.len() != e.size => {
                return Err(differs(format!("{} bytes here, {} there", m.len(), e.size)));
            }
            Ok(_) => fs::read(path).map_err(|err| differs(err.to_string()))?,
            Err(_) => return Err(differs("not on this machine".into())),
        };
        if Digest::of(&data) != e.digest {
            return Err(differs("its contents differ".into()));
        }
        // Found through a directory a local compile does not search (a
        // wrapper's or the server's specs' -isystem).
        if !search.iter().any(|d| path.starts_with(d)) {
            return Err(differs("outside this machine's include path".into()));
        }
        for (i, dir) in search.iter().enumerate() {
            let Ok(name) = path.strip_prefix(dir) else {
                continue;
            };
            for earlier in &search[..i] {
                // A directory the server read from is one it has too, and
                // passed by `#include_next` (libstdc++'s <cmath> goes on
                // to the C library's <math.h> past its own math.h).
                if read_from(earlier) {
                    continue;
                }
                let other = earlier.join(name);
                if !listed(&other) && other.is_file() {
                    return Err(differs(format!(
                        "{} comes first in the include path here",
                        other.display()
                    )));
                }
            }
        }
    }
    Ok(())
}

fn encode(lists: &[Verified]) -> Vec<u8> {
    let mut out = FORMAT.to_vec();
    for l in lists {
        let hex: String = l.digest.0.iter().map(|b| format!("{b:02x}")).collect();
        out.extend(format!("{hex} {} {}\n", l.at, l.text.len()).into_bytes());
        out.extend_from_slice(&l.text);
        out.push(b'\n');
    }
    out
}

/// The record's lists; a damaged one ends the reading (what came before
/// it stays).
fn parse(mut b: &[u8]) -> Vec<Verified> {
    let mut out = Vec::new();
    let Some(rest) = b.strip_prefix(FORMAT) else {
        return out;
    };
    b = rest;
    while let Some(nl) = b.iter().position(|&c| c == b'\n') {
        let line = String::from_utf8_lossy(&b[..nl]).into_owned();
        let words: Vec<&str> = line.split(' ').collect();
        let [hex, at, len] = words[..] else { break };
        let (Ok(at), Ok(len)) = (at.parse::<u64>(), len.parse::<usize>()) else {
            break;
        };
        let Some(digest) = unhex(hex) else { break };
        let start = nl + 1;
        if b.len() < start + len + 1 || Digest::of(&b[start..start + len]) != digest {
            break;
        }
        out.push(Verified {
            digest,
            at,
            text: b[start..start + len].to_vec(),
        });
        b = &b[start + len + 1..];
    }
    out
}

fn unhex(hex: &str) -> Option<Digest> {
    if hex.len() != 64 {
        return None;
    }
    let mut d = [0u8; 32];
    for (i, byte) in d.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(Digest(d))
}

fn memory(top: &Path, what: &str, lock_id: &str, compiler: &OsStr) -> PathBuf {
    let name = format!("{lock_id}-{:016x}", fnv1a(compiler.as_bytes()));
    top.join(DIR).join(what).join(name)
}

/// Whether `lock_id`'s system headers differed from ours for jobs of
/// `compiler` (their `argv[0]`) less than [`DIFFERS_SECS`] ago: one
/// `stat` when they did not.
pub fn known_to_differ(top: Option<&Path>, lock_id: &str, compiler: &OsStr) -> bool {
    let Some(top) = top else { return false };
    let path = memory(top, "differs", lock_id, compiler);
    let fresh = fs::metadata(&path)
        .ok()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() < DIFFERS_SECS);
    if fresh {
        debug!(
            "{lock_id}'s system headers differed from this machine's lately ({}): \
             preprocessing here",
            path.display()
        );
    }
    fresh
}

/// Remember that `host`'s system headers differ for `compiler`'s jobs,
/// and say so once per host and compiler.
pub fn differed(top: Option<&Path>, host: &str, lock_id: &str, compiler: &OsStr, d: &Differs) {
    let message = format!(
        "{host}'s system headers differ from this machine's for {}: {} ({}); \
         preprocessing its jobs here",
        Path::new(compiler).display(),
        d.header,
        d.why
    );
    let Some(top) = top else {
        warn!("{message}");
        return;
    };
    store(&memory(top, "differs", lock_id, compiler), &message);
    let warned = memory(top, "warned", lock_id, compiler);
    let _ = fs::create_dir_all(warned.parent().expect("in a directory"));
    let first = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&warned)
        .is_ok();
    if first {
        warn!("{message}");
    } else {
        debug!("{message}");
    }
}

#[cfg(test)]
#[path = "sysheaders_tests.rs"]
mod tests;
