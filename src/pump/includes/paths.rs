//! Paths for the include analysis: lexical normalisation, trusted only
//! where the kernel would agree, and cached `stat`s.
//!
//! The server rebuilds each file we send at its lexically normalised path
//! (spec §5), while gcc on this machine opens `dir/name` and lets the kernel
//! resolve it. The two agree unless a `..` steps back out of a symbolic
//! link (the kernel goes to the link target's parent), so that case is
//! reported and the caller gives up. Nothing here reads file contents.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::hash::{BuildHasherDefault, Hasher};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// A `..` would step back out of this symbolic link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symlink(pub PathBuf);

/// What a `..` steps back out of.
#[derive(Debug, Clone, Copy)]
enum Step {
    Dir,
    Symlink,
    /// Missing or not a directory: the kernel fails with ENOENT/ENOTDIR.
    Other,
}

/// Caches `stat` answers: the same directories and headers come up again
/// and again in one analysis.
///
/// Most lookups fail: `<stdint.h>` is tried in every `-I` directory before
/// the compiler's own. A directory asked about [`LIST_AFTER`] times is
/// read once instead, and names it lacks are answered without a `stat`
/// (which was a fifth of a pump-mode client's CPU on liblzma). Names it has
/// are still `stat`ed. A directory that finds names in another case
/// (`casefold` ext4, vfat, SMB) is never answered from its listing.
#[derive(Debug, Default)]
pub struct Fs {
    steps: FastMap<OsString, Step>,
    files: FastMap<OsString, bool>,
    entries: FastMap<OsString, Entries>,
}

/// How many lookups in one directory are `stat`ed before it is read.
pub const LIST_AFTER: u8 = 3;

/// What is known of a directory's names.
#[derive(Debug)]
enum Entries {
    /// Looked up in this many times.
    Seen(u8),
    /// Its names: nothing else is in it.
    Listed(FastSet<Vec<u8>>),
    /// Cannot be read, or matches names in another case: `stat` each time.
    Unlistable,
}

fn list(dir: &Path) -> Entries {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        // Nothing can be found under a missing directory or a file.
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
            return Entries::Listed(FastSet::default());
        }
        Err(_) => return Entries::Unlistable,
    };
    let mut names = FastSet::default();
    for e in rd {
        match e {
            Ok(e) => names.insert(e.file_name().into_vec()),
            Err(_) => return Entries::Unlistable,
        };
    }
    // A case-insensitive directory finds a name it does not list.
    let lettered = names.iter().find(|n| n.iter().any(u8::is_ascii_alphabetic));
    if let Some(n) = lettered {
        let flipped: Vec<u8> = n
            .iter()
            .map(|c| match c {
                b'a'..=b'z' => c.to_ascii_uppercase(),
                _ => c.to_ascii_lowercase(),
            })
            .collect();
        if !names.contains(&flipped)
            && std::fs::symlink_metadata(dir.join(OsStr::from_bytes(&flipped))).is_ok()
        {
            return Entries::Unlistable;
        }
    }
    Entries::Listed(names)
}

impl Fs {
    /// Absolute `p` without `.`, `..` and repeated slashes, as the kernel
    /// would resolve it: `Ok(None)` when a `..` leaves something that is not
    /// a directory (the kernel fails there, so nothing exists at `p`).
    pub fn normalise(&mut self, p: PathBuf) -> Result<Option<PathBuf>, Symlink> {
        let bytes = p.as_os_str().as_bytes();
        debug_assert!(bytes.starts_with(b"/"), "{} is relative", p.display());
        let clean = bytes
            .split(|&c| c == b'/')
            .skip(1)
            .all(|c| !matches!(c, b"" | b"." | b".."));
        if clean {
            return Ok(Some(p));
        }
        let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
        for comp in bytes.split(|&c| c == b'/') {
            match comp {
                b"" | b"." => {}
                b".." => {
                    if out.is_empty() {
                        continue; // "/.." is "/"
                    }
                    match self.step(Path::new(OsStr::from_bytes(&out))) {
                        Step::Dir => {
                            let cut = out.iter().rposition(|&c| c == b'/').unwrap_or(0);
                            out.truncate(cut);
                        }
                        Step::Symlink => {
                            return Err(Symlink(PathBuf::from(OsStr::from_bytes(&out))));
                        }
                        Step::Other => return Ok(None),
                    }
                }
                c => {
                    out.push(b'/');
                    out.extend_from_slice(c);
                }
            }
        }
        if out.is_empty() {
            out.push(b'/');
        }
        Ok(Some(PathBuf::from(OsStr::from_bytes(&out))))
    }

    fn step(&mut self, dir: &Path) -> Step {
        if let Some(s) = self.steps.get(dir.as_os_str()) {
            return *s;
        }
        let s = match std::fs::symlink_metadata(dir) {
            Ok(m) if m.file_type().is_symlink() => Step::Symlink,
            Ok(m) if m.is_dir() => Step::Dir,
            _ => Step::Other,
        };
        self.steps.insert(dir.as_os_str().to_owned(), s);
        s
    }

    /// Whether gcc would take `p` as a found header: it exists (following
    /// links) and is not a directory, which gcc skips to search on.
    pub fn is_file(&mut self, p: &Path) -> bool {
        if let Some(&f) = self.files.get(p.as_os_str()) {
            return f;
        }
        let f = self.may_exist(p) && std::fs::metadata(p).is_ok_and(|m| !m.is_dir());
        self.files.insert(p.as_os_str().to_owned(), f);
        f
    }

    /// Whether anything at all is at `p` (for `.gch` files and directories).
    pub fn exists(&mut self, p: &Path) -> bool {
        self.may_exist(p) && std::fs::metadata(p).is_ok()
    }

    /// `false` when `p`'s directory is known not to hold its name.
    fn may_exist(&mut self, p: &Path) -> bool {
        let (Some(dir), Some(name)) = (p.parent(), p.file_name()) else {
            return true;
        };
        let e = self
            .entries
            .entry(dir.as_os_str().to_owned())
            .or_insert(Entries::Seen(0));
        if let Entries::Seen(n) = e {
            if *n < LIST_AFTER {
                *n += 1;
                return true;
            }
            *e = list(dir);
        }
        match e {
            Entries::Listed(names) => names.contains(name.as_bytes()),
            _ => true,
        }
    }
}

/// rustc's FxHash: the keys are short paths we made ourselves, so SipHash's
/// flood resistance buys nothing, and hashing showed up in profiles.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHash(u64);

impl Hasher for FastHash {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHash>>;
pub type FastSet<K> = HashSet<K, BuildHasherDefault<FastHash>>;

/// The directories an absolute path steps back out of with `..`, in
/// order, lexically (`/a/b/../../c` gives `/a/b`, `/a`). For a path
/// [`Fs::normalise`] accepted, each of them is a real directory here; the
/// server needs it too for the kernel to resolve the path the same way.
pub fn stepped_out(p: &Path) -> Vec<PathBuf> {
    let mut out: Vec<&[u8]> = Vec::new();
    let mut dirs = Vec::new();
    for comp in p.as_os_str().as_bytes().split(|&c| c == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                if !out.is_empty() {
                    let mut d = Vec::new();
                    for c in &out {
                        d.push(b'/');
                        d.extend_from_slice(c);
                    }
                    dirs.push(PathBuf::from(OsString::from_vec(d)));
                    out.pop();
                }
            }
            c => out.push(c),
        }
    }
    dirs
}

/// Whether a header name can name a file at all: gcc opens `dir/name` and
/// a name ending in `/`, `.` or `..` can only be a directory, which it skips.
pub fn can_be_file(name: &[u8]) -> bool {
    let last = name.rsplit(|&c| c == b'/').next().unwrap_or(b"");
    !matches!(last, b"" | b"." | b"..")
}

/// `dir/name` for a header name's bytes.
pub fn join(dir: &Path, name: &[u8]) -> PathBuf {
    let d = dir.as_os_str().as_bytes();
    let mut v = Vec::with_capacity(d.len() + 1 + name.len());
    v.extend_from_slice(d);
    if !d.ends_with(b"/") {
        v.push(b'/');
    }
    v.extend_from_slice(name);
    PathBuf::from(OsString::from_vec(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_paths_are_kept() {
        let mut fs = Fs::default();
        let p = Path::new("/usr/include/stdio.h");
        assert_eq!(fs.normalise(p.to_path_buf()), Ok(Some(p.to_path_buf())));
        assert_eq!(
            fs.normalise(PathBuf::from("/")),
            Ok(Some(PathBuf::from("/")))
        );
    }

    #[test]
    fn dots_and_slashes_go() {
        let mut fs = Fs::default();
        let got = fs
            .normalise(PathBuf::from("//usr/./include//../include/x.h"))
            .unwrap();
        assert_eq!(got, Some(PathBuf::from("/usr/include/x.h")));
        let got = fs.normalise(PathBuf::from("/../usr/include/.")).unwrap();
        assert_eq!(got, Some(PathBuf::from("/usr/include")));
    }

    #[test]
    fn dotdot_out_of_nothing_is_nothing() {
        let mut fs = Fs::default();
        let got = fs.normalise(PathBuf::from("/usr/no-such-dir-here/../include/x.h"));
        assert_eq!(got, Ok(None));
    }

    #[test]
    fn a_directory_asked_about_often_is_read_once() {
        let dir = std::env::temp_dir().join(format!("dcc-paths-list-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.h"), "").unwrap();
        std::fs::write(dir.join("B.h"), "").unwrap();
        let mut fs = Fs::default();
        for round in 0..2 {
            for (name, want) in [
                ("a.h", true),
                ("A.h", false),
                ("b.h", false),
                ("B.h", true),
                ("sub", false),
                ("none.h", false),
                ("x1.h", false),
                ("x2.h", false),
            ] {
                assert_eq!(fs.is_file(&dir.join(name)), want, "{name}, round {round}");
            }
        }
        assert!(matches!(
            fs.entries.get(dir.as_os_str()),
            Some(Entries::Listed(_))
        ));
        // From now on a name the listing lacks is not looked up.
        std::fs::write(dir.join("late.h"), "").unwrap();
        assert!(!fs.is_file(&dir.join("late.h")));
        assert!(Fs::default().is_file(&dir.join("late.h")));
        // A missing directory holds nothing.
        for i in 0..5 {
            assert!(!fs.is_file(&dir.join(format!("gone/{i}.h"))));
        }
        assert!(!fs.exists(&dir.join("gone/x.gch")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dirs_stepped_out_of() {
        const CASES: &[(&str, &[&str])] = &[
            ("/w/x.h", &[]),
            ("/w/sub/../x.h", &["/w/sub"]),
            ("/w/a/b/../../x.h", &["/w/a/b", "/w/a"]),
            ("/w/./a/../b/c/../x.h", &["/w/a", "/w/b/c"]),
            ("/../x.h", &[]),
        ];
        for (path, want) in CASES {
            let got = stepped_out(Path::new(path));
            let want: Vec<PathBuf> = want.iter().map(PathBuf::from).collect();
            assert_eq!(got, want, "{path}");
        }
    }

    #[test]
    fn names_that_cannot_be_files() {
        for bad in [&b""[..], b"x/", b".", b"..", b"a/.", b"a/.."] {
            assert!(!can_be_file(bad), "{bad:?}");
        }
        for good in [&b"a.h"[..], b"sys/x.h", b"../x.h", b".h"] {
            assert!(can_be_file(good), "{good:?}");
        }
    }
}
