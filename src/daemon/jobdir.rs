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
//! a file: see [`super::job`].) A pump job's mirror ([`TREE`]) may stay
//! too, for the next pump job in that directory to bring up to date
//! rather than write anew ([`super::tree`]); a job of protocols 1 or 2
//! gets a directory without one, or the tree is removed first. With
//! `DISTCC_SAVE_TEMPS=1` every job gets a fresh directory that is kept,
//! renamed `distccd_saved_XXXXXX`.
//!
//! Ownership, so that a daemon that died (`kill -9`, a crash, the OOM
//! killer) leaves nothing behind for good, while daemons sharing a TMPDIR
//! never remove each other's directories: a job directory
//! `distccd_job_XXXXXX` is owned by whoever holds an exclusive `flock` on
//! it. A daemon locks each directory it makes and holds the lock for as
//! long as the directory exists; the kernel drops it when the daemon dies.
//! At start-up ([`remove_stale`]) a daemon removes every `distccd_job_*`
//! directory of its user that it can lock: nobody alive owns it. To have
//! no moment when a new directory exists unlocked under that name, it is
//! made as `distccd_new_XXXXXX`, locked, then renamed; a `distccd_new_*`
//! left by a daemon that died in between is removed once it is a minute
//! old. 3.4's files (`distccd_XXXXXX.i`, ...) and directories
//! (`distccd_XXXXXX`) and our saved directories are never touched.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::fcntl::{Flock, FlockArg};

/// A live job directory's name: `JOB_PREFIX` + six characters.
pub const JOB_PREFIX: &str = "distccd_job_";
/// A directory being made (locked, not yet renamed).
const NEW_PREFIX: &str = "distccd_new_";
/// A directory kept for `DISTCC_SAVE_TEMPS`.
const SAVED_PREFIX: &str = "distccd_saved_";
/// How old a `distccd_new_*` must be before it counts as abandoned.
const NEW_GRACE: Duration = Duration::from_secs(60);
/// The entry of a job directory that may outlive its job: a pump job's
/// mirror, when the job asked ([`JobDir::keep_tree`]).
pub const TREE: &str = "root";

/// One directory: its path, the lock that says it is ours, and whether
/// an earlier job's [`TREE`] is in it.
#[derive(Debug)]
struct Slot {
    path: PathBuf,
    _lock: Flock<File>,
    tree: bool,
}

/// The job directories of one daemon.
#[derive(Debug)]
pub struct JobDirs {
    tmpdir: PathBuf,
    keep: bool,
    free: Mutex<Vec<Slot>>,
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

    /// An empty private directory for one job; for a pump job (`tree`)
    /// one with an earlier job's [`TREE`] in it if there is one
    /// ([`JobDir::has_tree`]), for any other never.
    pub fn take(self: &Arc<Self>, tree: bool) -> io::Result<JobDir> {
        let reused = if self.keep {
            None
        } else {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            let best = free.iter().rposition(|s| s.tree == tree);
            best.or(free.len().checked_sub(1)).map(|i| free.remove(i))
        };
        let mut slot = match reused {
            Some(s) => s,
            None => self.create()?,
        };
        if slot.tree && !tree {
            if let Err(e) = fs::remove_dir_all(slot.path.join(TREE)) {
                tracing::warn!("cannot empty {}: {e}; removing it", slot.path.display());
                remove(&slot.path);
                slot = self.create()?;
            }
            slot.tree = false;
        }
        Ok(JobDir {
            slot: Some(slot),
            dirs: self.clone(),
            keep_tree: AtomicBool::new(false),
        })
    }

    fn create(&self) -> io::Result<Slot> {
        let (path, lock) = create_private_dir(&self.tmpdir)?;
        Ok(Slot {
            path,
            _lock: lock,
            tree: false,
        })
    }

    fn give_back(&self, mut slot: Slot, keep_tree: bool) {
        if self.keep {
            let saved = slot.path.with_file_name(
                slot.path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .map_or_else(String::new, |n| n.replacen(JOB_PREFIX, SAVED_PREFIX, 1)),
            );
            match fs::rename(&slot.path, &saved) {
                Ok(()) => tracing::info!("DISTCC_SAVE_TEMPS: keeping {}", saved.display()),
                Err(e) => tracing::warn!(
                    "DISTCC_SAVE_TEMPS: cannot rename {}: {e}; a restarted daemon will remove it",
                    slot.path.display()
                ),
            }
            return;
        }
        slot.tree = keep_tree;
        match empty_dir(&slot.path, keep_tree.then_some(TREE)) {
            Ok(()) => self
                .free
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(slot),
            Err(e) => {
                tracing::warn!("cannot empty {}: {e}; removing it", slot.path.display());
                remove(&slot.path);
            }
        }
    }
}

impl Drop for JobDirs {
    fn drop(&mut self) {
        for slot in self
            .free
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            remove(&slot.path);
        }
    }
}

/// What [`remove_stale`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleanup {
    /// Directories removed.
    pub removed: Vec<PathBuf>,
    /// Directories left because another live daemon holds them.
    pub in_use: usize,
}

/// Remove the job directories in `tmpdir` that no live daemon owns (see
/// the module comment). Only directories of the calling user are looked
/// at; errors on one entry are logged and the rest go on.
pub fn remove_stale(tmpdir: &Path) -> Cleanup {
    let mut out = Cleanup::default();
    let Ok(entries) = fs::read_dir(tmpdir) else {
        return out;
    };
    let uid = nix::unistd::geteuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let new = name.starts_with(NEW_PREFIX);
        if !new && !name.starts_with(JOB_PREFIX) {
            continue;
        }
        let path = entry.path();
        // Not followed: a link named like ours is not ours.
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() || meta.uid() != uid {
            continue;
        }
        if new {
            let age = meta.modified().ok().and_then(|m| m.elapsed().ok());
            if age.is_none_or(|a| a < NEW_GRACE) {
                continue;
            }
        }
        let Ok(dir) = File::open(&path) else { continue };
        match Flock::lock(dir, FlockArg::LockExclusiveNonblock) {
            Ok(_held) => {
                // Locked by us now: no live daemon has it; removed while
                // we hold the lock, so nobody can take it meanwhile.
                match fs::remove_dir_all(&path) {
                    Ok(()) => out.removed.push(path),
                    Err(e) => tracing::warn!("cannot remove stale {}: {e}", path.display()),
                }
            }
            Err(_) => out.in_use += 1,
        }
    }
    out
}

fn remove(path: &Path) {
    if let Err(e) = fs::remove_dir_all(path) {
        if e.kind() != io::ErrorKind::NotFound {
            tracing::warn!("failed to remove {}: {e}", path.display());
        }
    }
}

/// Remove everything inside `dir`, keeping `dir` (and `except`, if it is
/// a directory).
fn empty_dir(dir: &Path, except: Option<&str>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let is_dir = entry.file_type()?.is_dir();
        if is_dir && except.is_some_and(|e| entry.file_name() == e) {
            continue;
        }
        if is_dir {
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
    slot: Option<Slot>,
    dirs: Arc<JobDirs>,
    keep_tree: AtomicBool,
}

impl JobDir {
    /// An earlier pump job's [`TREE`] is in the directory.
    pub fn has_tree(&self) -> bool {
        self.slot.as_ref().is_some_and(|s| s.tree)
    }

    /// Leave [`TREE`] for the next pump job in this directory when this
    /// job ends (not with `DISTCC_SAVE_TEMPS`, which keeps everything).
    pub fn keep_tree(&self) {
        self.keep_tree.store(true, Ordering::Relaxed);
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.slot.as_ref().expect("taken only on drop").path
    }

    /// A path inside the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
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
        if let Some(slot) = self.slot.take() {
            let keep = self.keep_tree.load(Ordering::Relaxed);
            self.dirs.give_back(slot, keep);
        }
    }
}

/// `mkdtemp`: a new directory `distccd_job_XXXXXX`, mode 0700, that did not
/// exist before (so nobody else can have prepared it), locked as ours.
fn create_private_dir(tmpdir: &Path) -> io::Result<(PathBuf, Flock<File>)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut last = None;
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = suffix(n);
        let new = tmpdir.join(format!("{NEW_PREFIX}{name}"));
        match DirBuilder::new().mode(0o700).create(&new) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                last = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        }
        let locked = File::open(&new).and_then(|dir| {
            Flock::lock(dir, FlockArg::LockExclusiveNonblock).map_err(|(_, e)| e.into())
        });
        let lock = match locked {
            Ok(l) => l,
            Err(e) => {
                let _ = fs::remove_dir(&new);
                return Err(e);
            }
        };
        let path = tmpdir.join(format!("{JOB_PREFIX}{name}"));
        // Plain rename(2) onto an existing empty directory would replace
        // it: never take a name that is in use.
        match nix::fcntl::renameat2(
            None,
            &new,
            None,
            &path,
            nix::fcntl::RenameFlags::RENAME_NOREPLACE,
        ) {
            Ok(()) => {}
            Err(nix::errno::Errno::EEXIST) => {
                let _ = fs::remove_dir(&new);
                last = Some(io::Error::from(io::ErrorKind::AlreadyExists));
                continue;
            }
            Err(e) => {
                let _ = fs::remove_dir(&new);
                return Err(e.into());
            }
        }
        return Ok((path, lock));
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
#[path = "jobdir_tests.rs"]
mod tests;
