//! File-system operations of distcc-config, all reporting the path and the
//! reason. Files are replaced atomically (a temp file in the same
//! directory, synced, then renamed over the original, keeping its mode
//! and owner), so a crash or a full disk never leaves a half-written file:
//! the original stays as it was and the temp file is removed.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Failure, Result};
use crate::ops::masq::Entry;

fn fail(what: &str, path: &Path, e: io::Error) -> Failure {
    Failure::error(format!("cannot {what} {}: {e}", path.display()))
}

/// The whole file as text.
pub fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| fail("read", path, e))
}

/// The file as text, or `None` if it does not exist.
pub fn read_opt(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(fail("read", path, e)),
    }
}

/// Create a directory (and parents) with `mode` if it is missing.
pub fn ensure_dir(path: &Path, mode: u32) -> Result<()> {
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
    let path = match fs::canonicalize(path) {
        Ok(real) => real,
        Err(_) => path.to_path_buf(),
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
    let rd = match fs::read_dir(dir) {
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
            fail("create link", path, e)
        })
}

/// Remove a file or link.
pub fn remove(path: &Path) -> Result<()> {
    fs::remove_file(path).map_err(|e| fail("remove", path, e))
}

/// Names of the executables in `dir` (following links), except links that
/// lead to distcc or ccache (masquerade entries, not compilers).
pub fn executables(dir: &Path) -> Vec<String> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let path = entry.path();
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() || meta.mode() & 0o111 == 0 {
            continue;
        }
        if let Ok(real) = fs::canonicalize(&path) {
            let base = real.file_name().map(|n| n.to_string_lossy().into_owned());
            if matches!(base.as_deref(), Some("distcc" | "ccache")) {
                continue;
            }
        }
        out.push(entry.file_name().to_string_lossy().into_owned());
    }
    out.sort();
    out
}

/// Whether `path` is an executable file.
pub fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
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
