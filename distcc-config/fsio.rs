//! File-system operations of distcc-config, all reporting the path and the
//! reason. Files are replaced atomically (a temp file in the same
//! directory, synced, then renamed over the original, keeping its mode
//! and owner), so a crash or a full disk never leaves a half-written file:
//! the original stays as it was and the temp file is removed.
//!
//! With `--root DIR` every path under DIR is first resolved as `chroot
//! DIR` would ([`inside`], [`crate::ops::rooted`]): symbolic links with
//! absolute targets stay in DIR instead of reaching the host's files. All
//! file access of distcc-config goes through this module for that reason.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{Failure, Result};
use crate::ops::masq::Entry;
use crate::ops::rooted;

/// `--root`, set once by `main` (unset or `/`: the running system).
static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// Make every later path under `root` resolve inside it.
pub fn set_root(root: &Path) {
    let _ = ROOT.set(root.to_path_buf());
}

/// Where `path` really is: under `--root`, resolved inside the root as
/// chroot would (links followed, the last one included; a loop is
/// `ELOOP`); other paths (the host's programs, `$DISTCC_DIR`) as they are.
pub fn inside(path: &Path) -> io::Result<PathBuf> {
    let Some(root) = ROOT.get().filter(|r| r.as_path() != Path::new("/")) else {
        return Ok(path.to_path_buf());
    };
    match path.strip_prefix(root) {
        Ok(rest) => rooted::resolve(root, rest, |p| fs::read_link(p).ok())
            .map_err(|rooted::Loop| io::Error::from_raw_os_error(libc::ELOOP)),
        Err(_) => Ok(path.to_path_buf()),
    }
}

/// [`inside`] for the directory, the last name kept: for operations on a
/// link itself (create, replace, remove).
fn inside_parent(path: &Path) -> io::Result<PathBuf> {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => Ok(inside(dir)?.join(name)),
        _ => inside(path),
    }
}

fn fail(what: &str, path: &Path, e: io::Error) -> Failure {
    Failure::error(format!("cannot {what} {}: {e}", path.display()))
}

/// The whole file as text.
pub fn read(path: &Path) -> Result<String> {
    inside(path)
        .and_then(fs::read_to_string)
        .map_err(|e| fail("read", path, e))
}

/// The file as text, or `None` if it does not exist.
pub fn read_opt(path: &Path) -> Result<Option<String>> {
    match inside(path).and_then(fs::read_to_string) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(fail("read", path, e)),
    }
}

/// Whether `path` is a directory (links followed inside the root).
pub fn is_dir(path: &Path) -> bool {
    inside(path).is_ok_and(|p| p.is_dir())
}

/// Whether `path` is a regular file (links followed inside the root).
pub fn is_file(path: &Path) -> bool {
    inside(path).is_ok_and(|p| p.is_file())
}

/// Whether `path` exists (links followed inside the root).
pub fn exists(path: &Path) -> bool {
    inside(path).is_ok_and(|p| p.exists())
}

/// The regular files in `dir` (links followed inside the root), sorted,
/// named as `dir/name`. Missing or unreadable → empty.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = inside(dir)
        .and_then(fs::read_dir)
        .map(|rd| rd.flatten().map(|e| dir.join(e.file_name())).collect())
        .unwrap_or_default();
    v.retain(|p| is_file(p));
    v.sort();
    v
}

/// The file name `path` finally leads to (links followed inside the root).
pub fn real_name(path: &Path) -> Option<String> {
    let real = fs::canonicalize(inside(path).ok()?).ok()?;
    real.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// Create a directory (and parents) with `mode` if it is missing.
pub fn ensure_dir(path: &Path, mode: u32) -> Result<()> {
    let path = &inside(path).map_err(|e| fail("create directory", path, e))?;
    if path.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
        .map_err(|e| fail("create directory", path, e))
}

/// Replace `path` with `contents` atomically. A new file gets
/// `default_mode`; an existing one keeps its mode and owner. A symbolic
/// link is followed, so the link stays and its target is replaced.
pub fn write_atomic(path: &Path, contents: &[u8], default_mode: u32) -> Result<()> {
    let path = inside(path).map_err(|e| fail("write", path, e))?;
    let path = match fs::canonicalize(&path) {
        Ok(real) => real,
        Err(_) => path,
    };
    let old = fs::metadata(&path).ok();
    let mode = old.as_ref().map_or(default_mode, |m| m.mode() & 0o7777);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or("file".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.distcc-config-{}", std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(contents)?;
        if let Some(m) = &old {
            // Keep the owner (we may run as root on a user's file).
            let _ = std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid()));
        }
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &path)?;
        // Make the rename itself durable.
        File::open(dir).and_then(|d| d.sync_all())
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        let kept = if old.is_some() {
            format!("; {} is unchanged", path.display())
        } else {
            String::new()
        };
        Failure::error(format!("cannot write {}: {e}{kept}", path.display()))
    })
}

/// The entries of a directory (links not followed). Missing → empty.
pub fn list_dir(dir: &Path) -> Result<BTreeMap<String, Entry>> {
    let mut out = BTreeMap::new();
    let rd = match inside(dir).and_then(fs::read_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(fail("list", dir, e)),
    };
    for entry in rd {
        let entry = entry.map_err(|e| fail("list", dir, e))?;
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).map_err(|e| fail("inspect", &path, e))?;
        let kind = if meta.file_type().is_symlink() {
            let t = fs::read_link(&path).map_err(|e| fail("read link", &path, e))?;
            Entry::Link(t.to_string_lossy().into_owned())
        } else if meta.is_dir() {
            Entry::Dir
        } else {
            Entry::File
        };
        out.insert(entry.file_name().to_string_lossy().into_owned(), kind);
    }
    Ok(out)
}

/// Make `path` a symbolic link to `target`, replacing what is there
/// atomically (a temp link renamed over it).
pub fn symlink(target: &str, path: &Path) -> Result<()> {
    let shown = path;
    let path = &inside_parent(path).map_err(|e| fail("create link", path, e))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or("link".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.distcc-config-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = fs::remove_file(&tmp);
            fail("create link", shown, e)
        })
}

/// Remove a file or link.
pub fn remove(path: &Path) -> Result<()> {
    inside_parent(path)
        .and_then(fs::remove_file)
        .map_err(|e| fail("remove", path, e))
}

/// Names of the executables in `dir` (following links), except links that
/// lead to distcc or ccache (masquerade entries, not compilers).
pub fn executables(dir: &Path) -> Vec<String> {
    let Ok(rd) = inside(dir).and_then(fs::read_dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let path = dir.join(entry.file_name());
        if !is_executable(&path) {
            continue;
        }
        if matches!(real_name(&path).as_deref(), Some("distcc" | "ccache")) {
            continue;
        }
        out.push(entry.file_name().to_string_lossy().into_owned());
    }
    out.sort();
    out
}

/// Whether `path` is an executable file.
pub fn is_executable(path: &Path) -> bool {
    inside(path)
        .and_then(fs::metadata)
        .is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

/// `path` with `..`/`.` removed lexically (for comparing PATH entries).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}
