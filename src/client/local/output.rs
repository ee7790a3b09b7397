//! Writing the files a server sends back (spec §3.11), atomically: the
//! bytes go to a temp file next to the target, which is renamed over it
//! only when complete, so an interrupted job never leaves a truncated
//! `.o`. Missing parent directories are created, as 3.4's client does
//! (`dcc_r_file`): a remote job with `-o nodir/x.o` succeeds where gcc
//! here would fail (tests/client/fidelity.rs). A target that exists and
//! is not a regular file (`-o /dev/null`, a fifo) is written in place, as
//! 3.4 leaves those alone.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::client::local::cleanup::TempPath;

/// An output being written.
#[derive(Debug)]
pub struct Output {
    target: PathBuf,
    file: File,
    /// The temp file, or `None` when writing the target in place.
    temp: Option<TempPath>,
}

fn context(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

impl Output {
    /// Start writing `target`.
    pub fn create(target: &Path) -> io::Result<Self> {
        if let Ok(meta) = std::fs::metadata(target) {
            if !meta.is_file() {
                let file = OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(target)
                    .map_err(|e| context(e, "cannot open", target))?;
                return Ok(Self {
                    target: target.to_owned(),
                    file,
                    temp: None,
                });
            }
        }
        let dir = dir_of(target);
        std::fs::create_dir_all(&dir).map_err(|e| context(e, "cannot create directory", &dir))?;
        let (file, temp) = temp_beside(target, "distcc")?;
        Ok(Self {
            target: target.to_owned(),
            file,
            temp: Some(temp),
        })
    }

    /// Move the finished file into place.
    pub fn commit(mut self) -> io::Result<()> {
        self.file
            .flush()
            .map_err(|e| context(e, "cannot write", &self.target))?;
        if let Some(temp) = self.temp.take() {
            if let Err(e) = std::fs::rename(temp.path(), &self.target) {
                return Err(context(e, "cannot rename into", &self.target));
            }
            temp.persist();
        }
        Ok(())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file
            .write(buf)
            .map_err(|e| context(e, "cannot write", &self.target))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// The directory `target` goes in (`.` for a bare name).
fn dir_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// A new file next to `target`, `.<name>.<infix>-<hex>.tmp`: created
/// (so that it is ours, never a file that was there) and registered for
/// removal.
pub fn temp_beside(target: &Path, infix: &str) -> io::Result<(File, TempPath)> {
    let dir = dir_of(target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut n = std::process::id();
    loop {
        let tmp = dir.join(format!(".{name}.{infix}-{n:08x}.tmp"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&tmp)
        {
            Ok(file) => return Ok((file, TempPath::register_always(tmp))),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => n = n.wrapping_add(7777),
            Err(e) => return Err(context(e, "cannot create", &tmp)),
        }
    }
}

/// Write a whole file atomically.
pub fn write_file(target: &Path, data: &[u8]) -> io::Result<()> {
    let mut out = Output::create(target)?;
    out.write_all(data)?;
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_parents_replaces_atomically_and_cleans_up() {
        let dir = std::env::temp_dir().join(format!("distcc-out-{}", std::process::id()));
        let target = dir.join("a/b/x.o");
        write_file(&target, b"one").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"one");
        let mut out = Output::create(&target).unwrap();
        out.write_all(b"partial").unwrap();
        drop(out); // interrupted: the old file stays, no temp is left
        assert_eq!(std::fs::read(&target).unwrap(), b"one");
        assert_eq!(std::fs::read_dir(dir.join("a/b")).unwrap().count(), 1);
        write_file(&target, b"").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"");
        write_file(Path::new("/dev/null"), b"ignored").unwrap();
        assert!(Path::new("/dev/null").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
