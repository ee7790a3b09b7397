//! Pump mode (protocol 3) on the server, the pure rules (spec §4.5 steps
//! 2, 5 and 8): which client paths are acceptable and where they go under
//! the job's mirror root, which symlink targets may be created, and the
//! .d text sent back. No I/O here: [`super::tree`] writes the files,
//! [`super::pumpargs`] rewrites the command line, [`super::pumpjob`]
//! drives a job.
//!
//! 3.4 joins `<tmpdir>` and whatever NAME the client sends (spec §6.7: a
//! path traversal). The daemon runs commands for whoever reaches it, so
//! we accept only absolute names made of plain components, and only the
//! symlinks the include server makes (§5): targets that stay in the
//! mirror, and the `../../…/usr/include` links that stand for one of the
//! server's own system directories.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// A checked absolute client path (NAME, CDIR or an absolute LINK
/// target): `/` then plain components, no `.`, `..` or NUL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientPath {
    parts: Vec<Vec<u8>>,
}

impl ClientPath {
    /// Check `bytes`; `what` names the token in the refusal.
    pub fn parse(what: &str, bytes: &[u8]) -> Result<Self, String> {
        let shown = String::from_utf8_lossy(bytes);
        if bytes.contains(&0) {
            return Err(format!("{what} {shown:?} contains a NUL byte"));
        }
        if bytes.first() != Some(&b'/') {
            return Err(format!("{what} {shown:?} is not an absolute path"));
        }
        let parts = plain_parts(bytes)
            .ok_or_else(|| format!("{what} {shown:?} has a \".\" or \"..\" component"))?;
        Ok(Self { parts })
    }

    /// Number of components (0 for `/`).
    pub fn depth(&self) -> usize {
        self.parts.len()
    }

    /// The components, first to last.
    pub fn components(&self) -> impl Iterator<Item = &OsStr> {
        self.parts.iter().map(|p| OsStr::from_bytes(p))
    }

    /// The parent directory and the last component (None for `/`).
    pub fn split_last(&self) -> Option<(ClientPath, &OsStr)> {
        let (last, parent) = self.parts.split_last()?;
        let parent = Self {
            parts: parent.to_vec(),
        };
        Some((parent, OsStr::from_bytes(last)))
    }

    /// The same path inside `root`.
    pub fn under(&self, root: &Path) -> PathBuf {
        let mut p = root.to_path_buf();
        p.extend(self.components());
        p
    }
}

impl std::fmt::Display for ClientPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.parts.is_empty() {
            return f.write_str("/");
        }
        for p in &self.parts {
            write!(f, "/{}", String::from_utf8_lossy(p))?;
        }
        Ok(())
    }
}

/// The `/`-separated components of `bytes` (empty ones skipped), or None
/// if one is `.` or `..`.
fn plain_parts(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    bytes
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty())
        .map(|p| (p != b"." && p != b"..").then(|| p.to_vec()))
        .collect()
}

/// The text of the symlink to create at `name` (inside `root`) for a
/// LINK `target`, or why it is refused.
///
/// * Absolute targets get the root prefixed, as 3.4 does: the include
///   server sends the client's real path of a mirrored symlink.
/// * Relative targets are kept. Leading `..` components may climb no
///   higher than the mirror root (every directory we create is a real
///   one, so the kernel resolves them as written), with one exception:
///   the include server's link for a system directory, `../` × (20 +
///   depth) + the link's own path, which must reach `/` from the server's
///   root so the server's own headers are used. `..` after a plain
///   component is refused: what it resolves to would depend on links
///   created later.
pub fn link_target(root: &Path, name: &ClientPath, target: &[u8]) -> Result<PathBuf, String> {
    let shown = String::from_utf8_lossy(target);
    if target.is_empty() || target.contains(&0) {
        return Err(format!(
            "LINK target {shown:?} of {name} is empty or has a NUL byte"
        ));
    }
    if target[0] == b'/' {
        return Ok(ClientPath::parse("LINK target", target)?.under(root));
    }
    let parts: Vec<&[u8]> = target
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty())
        .collect();
    let ups = parts.iter().take_while(|p| **p == b"..").count();
    let rest = &parts[ups..];
    if rest.iter().any(|p| *p == b".." || *p == b".") {
        return Err(format!(
            "LINK target {shown:?} of {name} has \"..\" after a plain component, or \".\""
        ));
    }
    let parent_depth = name.depth().saturating_sub(1);
    if ups <= parent_depth {
        return Ok(PathBuf::from(OsStr::from_bytes(target)));
    }
    let same_path = rest
        .iter()
        .copied()
        .eq(name.parts.iter().map(Vec::as_slice));
    if !same_path {
        return Err(format!(
            "LINK target {shown:?} of {name} leads out of the mirror (only a link to \
             this server's own {name} may)"
        ));
    }
    let root_depth = root
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    if ups < root_depth + parent_depth {
        return Err(format!(
            "LINK target {shown:?} of {name} does not reach / from this server's job \
             directory {}",
            root.display()
        ));
    }
    Ok(PathBuf::from(OsStr::from_bytes(target)))
}

/// Where a pump job's compiler writes the client's `-o output` (run in
/// the mirror's copy of `cwd`) when its side outputs come back: gcc names
/// them, and the object its `.dwo`, after the `-o` value as written
/// (docs/extension.md §8).
#[derive(Debug, PartialEq, Eq)]
pub struct OutputPlace {
    /// Every directory the kernel walks through from `cwd` to the file, in
    /// order: each made a real one (not a link the client sent), the
    /// kernel resolves the value's `..` as they are resolved here.
    pub dirs: Vec<ClientPath>,
    /// The object, as the client's path.
    pub file: ClientPath,
}

/// The [`OutputPlace`] of `output` for a compiler running in `cwd`, or
/// why it has none: it climbs above `/` or names no file.
pub fn output_place(cwd: &ClientPath, output: &[u8]) -> Result<OutputPlace, String> {
    let shown = String::from_utf8_lossy(output);
    let mut at = if output.first() == Some(&b'/') {
        Vec::new()
    } else {
        cwd.parts.clone()
    };
    let mut dirs = Vec::new();
    let parts: Vec<&[u8]> = output
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty() && *p != b".")
        .collect();
    let Some((last, walk)) = parts.split_last() else {
        return Err(format!("-o {shown:?} names no file"));
    };
    if *last == b".." || output.ends_with(b"/") || output.contains(&0) {
        return Err(format!("-o {shown:?} names no file"));
    }
    for p in walk {
        if *p == b".." {
            if at.pop().is_none() {
                return Err(format!("-o {shown:?} climbs above /"));
            }
        } else {
            at.push(p.to_vec());
            dirs.push(ClientPath { parts: at.clone() });
        }
    }
    at.push(last.to_vec());
    Ok(OutputPlace {
        dirs,
        file: ClientPath { parts: at },
    })
}

/// Why a server of ours refuses a pump job whose side outputs come back
/// because of the files the client sends (`sent`, NAMEs), for a compile
/// in `cwd` writing `output` and the `side` files beside it: the `-o`
/// value has no [`OutputPlace`], or a file sent stands where it needs a
/// directory, or where (or under where) the object or a side file goes.
/// The server finds the same in its mirror (`pumpjob`), and refuses; the
/// client asks first, since a refused job looks to it like a failed
/// host, and the fault is the job's.
pub fn output_clash<'a>(
    cwd: &[u8],
    output: &[u8],
    side: &[impl AsRef<OsStr>],
    sent: impl IntoIterator<Item = &'a [u8]>,
) -> Option<String> {
    let place = ClientPath::parse("CDIR", cwd).and_then(|cwd| output_place(&cwd, output));
    let place = match place {
        Ok(p) => p,
        Err(why) => return Some(why),
    };
    let beside = &place.file.parts[..place.file.parts.len() - 1];
    let mut written = vec![place.file.parts.clone()];
    for name in side {
        let mut p = beside.to_vec();
        p.push(name.as_ref().as_bytes().to_vec());
        written.push(p);
    }
    for name in sent {
        // A name the server refuses anyway is not this check's business.
        let Ok(n) = ClientPath::parse("NAME", name) else {
            continue;
        };
        if place.dirs.iter().any(|d| d.parts.starts_with(&n.parts)) {
            return Some(format!("it sends {n}, where -o needs a directory"));
        }
        if written.iter().any(|w| n.parts.starts_with(w)) {
            return Some(format!("it sends {n}, where the compiler writes an output"));
        }
    }
    None
}

/// Clean the compiler's .d text for the client (spec §4.5 step 8): on
/// each line the first occurrence of the server's output path becomes
/// `target`, and the mirror root is removed from every path under it, so
/// the file names the client's own paths.
pub fn clean_dotd(deps: &[u8], server_output: &[u8], target: &[u8], root: &[u8]) -> Vec<u8> {
    let mut rooted = root.to_vec();
    rooted.push(b'/');
    let mut out = Vec::with_capacity(deps.len());
    for line in deps.split_inclusive(|&b| b == b'\n') {
        let line = replace_first(line, server_output, target);
        let mut rest = &line[..];
        while let Some(i) = find(rest, &rooted) {
            out.extend_from_slice(&rest[..i]);
            // Keep the '/': `<root>/usr/x.h` becomes `/usr/x.h`.
            rest = &rest[i + rooted.len() - 1..];
        }
        out.extend_from_slice(rest);
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn replace_first(line: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    match find(line, from) {
        Some(i) => [&line[..i], to, &line[i + from.len()..]].concat(),
        None => line.to_vec(),
    }
}

#[cfg(test)]
#[path = "mirror_tests.rs"]
mod tests;
