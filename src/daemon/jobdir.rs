//! Where a job's files live (spec §4.5 steps 1 and 10).
//!
//! 3.4 scatters `distccd_XXXXXXXX.i`, `.o`, `.stderr` and `.stdout` files
//! in `$TMPDIR`, and whatever gcc writes besides (`-MD`, `-save-temps`,
//! `-fstack-usage`, dumps) stays there. We run each job in a private
//! directory (mode 0700) that is its working directory and the compiler's
//! `TMPDIR`, so everything the job creates is removed when it ends — on
//! every path, including errors and panics.
//!
//! Creating and removing a directory per job costs about as much kernel
//! time as the rest of the daemon's work on ext4, so directories are
//! reused: when a job ends, everything in it is removed and the empty
//! directory goes to the next job. There are at most as many as jobs ever
//! ran at once; they are removed when the daemon exits. (For the same
//! reason small sources reach the compiler from memory rather than through
//! a file: see [`super::job`].) With `DISTCC_SAVE_TEMPS=1` every job gets
//! a fresh directory that is kept.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// The job directories of one daemon.
#[derive(Debug)]
pub struct JobDirs {
    tmpdir: PathBuf,
    keep: bool,
    free: Mutex<Vec<PathBuf>>,
}

impl JobDirs {
    /// Directories under `tmpdir`; `keep` = `DISTCC_SAVE_TEMPS`.
    pub fn new(tmpdir: &Path, keep: bool) -> Arc<Self> {
        Arc::new(Self {
            tmpdir: tmpdir.to_path_buf(),
            keep,
            free: Mutex::new(Vec::new()),
        })
    }

    /// An empty private directory for one job.
    pub fn take(self: &Arc<Self>) -> io::Result<JobDir> {
        let reused = if self.keep {
            None
        } else {
            self.free.lock().unwrap_or_else(|e| e.into_inner()).pop()
        };
        let path = match reused {
            Some(p) => p,
            None => create_private_dir(&self.tmpdir)?,
        };
        Ok(JobDir {
            path,
            dirs: self.clone(),
        })
    }

    fn give_back(&self, path: PathBuf) {
        if self.keep {
            tracing::info!("DISTCC_SAVE_TEMPS: keeping {}", path.display());
            return;
        }
        match empty_dir(&path) {
            Ok(()) => self
                .free
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(path),
            Err(e) => {
                tracing::warn!("cannot empty {}: {e}; removing it", path.display());
                remove(&path);
            }
        }
    }
}

impl Drop for JobDirs {
    fn drop(&mut self) {
        for path in self
            .free
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            remove(&path);
        }
    }
}

fn remove(path: &Path) {
    if let Err(e) = fs::remove_dir_all(path) {
        if e.kind() != io::ErrorKind::NotFound {
            tracing::warn!("failed to remove {}: {e}", path.display());
        }
    }
}

/// Remove everything inside `dir`, keeping `dir`.
fn empty_dir(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// One job's directory; emptied and returned (or kept) on drop.
#[derive(Debug)]
pub struct JobDir {
    path: PathBuf,
    dirs: Arc<JobDirs>,
}

impl JobDir {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Create a new file inside the directory (mode 0600).
    pub fn create_file(&self, name: &str) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(self.file(name))
    }
}

impl Drop for JobDir {
    fn drop(&mut self) {
        self.dirs.give_back(std::mem::take(&mut self.path));
    }
}

/// `mkdtemp`: a new directory `distccd_XXXXXX`, mode 0700, that did not
/// exist before (so nobody else can have prepared it).
fn create_private_dir(tmpdir: &Path) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut last = None;
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = tmpdir.join(format!("distccd_{}", suffix(n)));
        match DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temp name")))
}

/// Six characters from a mix of pid, time and a counter: unpredictable
/// enough for names that are created exclusively.
fn suffix(n: u64) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x =
        nanos ^ (u64::from(std::process::id()) << 32) ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut out = String::with_capacity(6);
    for _ in 0..6 {
        // xorshift mixing so consecutive jobs do not get similar names.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(ALPHABET[(x % ALPHABET.len() as u64) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn base(tag: &str) -> PathBuf {
        let b = std::env::temp_dir().join(format!("jobdir-{tag}-{}", std::process::id()));
        fs::create_dir_all(&b).unwrap();
        b
    }

    #[test]
    fn directories_are_private_emptied_reused_and_removed() {
        let base = base("reuse");
        let dirs = JobDirs::new(&base, false);
        let a = dirs.take().unwrap();
        let b = dirs.take().unwrap();
        assert_ne!(a.path(), b.path());
        let mode = fs::metadata(a.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        a.create_file("x").unwrap();
        assert!(
            a.create_file("x").is_err(),
            "create_file must not reuse a file"
        );
        fs::create_dir(a.file("sub")).unwrap();
        fs::write(a.file("sub/y"), "y").unwrap();
        let pa = a.path().to_path_buf();
        drop(a);
        assert_eq!(fs::read_dir(&pa).unwrap().count(), 0, "not emptied");
        let again = dirs.take().unwrap();
        assert_eq!(again.path(), pa, "not reused");
        drop((again, b));
        drop(dirs);
        assert_eq!(fs::read_dir(&base).unwrap().count(), 0, "left behind");
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn save_temps_keeps_every_directory() {
        let base = base("keep");
        let dirs = JobDirs::new(&base, true);
        let a = dirs.take().unwrap();
        a.create_file("x").unwrap();
        let pa = a.path().to_path_buf();
        drop(a);
        let b = dirs.take().unwrap();
        assert_ne!(b.path(), pa);
        drop((b, dirs));
        assert!(pa.join("x").exists());
        fs::remove_dir_all(&base).unwrap();
    }
}
