//! Slot locks and backoff files, compatible with distcc 3.4's (spec §3.8,
//! §3.10) so that our client and 3.4's on one machine share slots.
//!
//! * Directory `<topdir>/lock`; files `cpu_<lock_id>_<slot>` opened
//!   `O_WRONLY|O_CREAT, 0666`, never deleted, locked with
//!   `fcntl(F_SETLK, F_WRLCK)` on the whole file, non-blocking (not
//!   `flock`: the two kinds do not see each other).
//! * `backoff_<lock_id>_0`: written (one byte `x`) when a host fails; a
//!   host whose backoff file is younger than the backoff period is skipped.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, fcntl};
use nix::libc;

/// The lock directory.
#[derive(Clone, Debug)]
pub struct LockDir {
    dir: PathBuf,
}

/// A held slot; released (F_UNLCK, close) on drop.
#[derive(Debug)]
pub struct SlotLock {
    file: File,
    /// The slot number.
    pub slot: u32,
}

impl Drop for SlotLock {
    fn drop(&mut self) {
        let _ = set_lock(&self.file, libc::F_UNLCK as libc::c_short);
    }
}

fn set_lock(file: &File, kind: libc::c_short) -> nix::Result<libc::c_int> {
    let lock = libc::flock {
        l_type: kind,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0, // the whole file
        l_pid: 0,
    };
    fcntl(file.as_raw_fd(), FcntlArg::F_SETLK(&lock))
}

/// Take the lock of a slot's `file`: `false` if another process holds it.
fn take(file: &File, lock_id: &str, slot: u32) -> io::Result<bool> {
    match set_lock(file, libc::F_WRLCK as libc::c_short) {
        Ok(_) => Ok(true),
        Err(Errno::EAGAIN | Errno::EACCES) => Ok(false),
        Err(e) => Err(io::Error::new(
            io::Error::from(e).kind(),
            format!("cannot lock cpu_{lock_id}_{slot}: {e}"),
        )),
    }
}

impl LockDir {
    /// `<topdir>/lock`, created (0777 minus umask) if missing.
    pub fn open(topdir: &Path) -> io::Result<Self> {
        let dir = topdir.join("lock");
        match std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o777)
            .create(&dir)
        {
            Ok(()) => Ok(Self { dir }),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("cannot create lock directory {}: {e}", dir.display()),
            )),
        }
    }

    fn open_slot(&self, lock_id: &str, slot: u32) -> io::Result<File> {
        let path = self.dir.join(format!("cpu_{lock_id}_{slot}"));
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o666)
            .open(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }

    /// Try to take `cpu_<lock_id>_<slot>` without waiting.
    pub fn try_lock(&self, lock_id: &str, slot: u32) -> io::Result<Option<SlotLock>> {
        let file = self.open_slot(lock_id, slot)?;
        Ok(take(&file, lock_id, slot)?.then_some(SlotLock { file, slot }))
    }

    /// Take one of `lock_id`'s slots `0..slots`, waiting up to `within`
    /// while `usable()` says so, looking every `poll`: the files are
    /// opened once, so a look costs one `fcntl` per slot (a pump job
    /// waiting for its home, [`crate::client::placement::home_wait`]).
    pub fn wait_for(
        &self,
        lock_id: &str,
        slots: u32,
        within: Duration,
        poll: Duration,
        usable: impl Fn() -> bool,
    ) -> io::Result<Option<SlotLock>> {
        let mut files = (0..slots)
            .map(|s| self.open_slot(lock_id, s))
            .collect::<io::Result<Vec<File>>>()?;
        let deadline = Instant::now() + within;
        loop {
            for slot in 0..slots {
                if take(&files[slot as usize], lock_id, slot)? {
                    let file = files.swap_remove(slot as usize);
                    return Ok(Some(SlotLock { file, slot }));
                }
            }
            let now = Instant::now();
            if now >= deadline || !usable() {
                return Ok(None);
            }
            std::thread::sleep(poll.min(deadline - now));
        }
    }

    /// Wait for one of the local slots `0..slots` (`cpu_localhost_N`),
    /// polling every `pause` like 3.4.
    pub fn lock_local(&self, slots: u32, pause: Duration) -> io::Result<SlotLock> {
        loop {
            for slot in 0..slots.max(1) {
                if let Some(lock) = self.try_lock("localhost", slot)? {
                    return Ok(lock);
                }
            }
            std::thread::sleep(pause);
        }
    }

    fn backoff_path(&self, lock_id: &str) -> PathBuf {
        self.dir.join(format!("backoff_{lock_id}_0"))
    }

    /// Whether the host's backoff file is younger than `period`.
    pub fn in_backoff(&self, lock_id: &str, period: Duration) -> bool {
        if period.is_zero() {
            return false;
        }
        let Ok(meta) = std::fs::metadata(self.backoff_path(lock_id)) else {
            return false;
        };
        let Ok(mtime) = meta.modified() else {
            return false;
        };
        SystemTime::now()
            .duration_since(mtime)
            .map_or(true, |age| age < period)
    }

    /// Mark a host as failed (3.4's `dcc_mark_timefile`: one byte `x`,
    /// which also refreshes the mtime).
    pub fn mark_backoff(&self, lock_id: &str) -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o666)
            .open(self.backoff_path(lock_id))?;
        f.write_all(b"x")
    }

    /// Forget a host's failure.
    pub fn clear_backoff(&self, lock_id: &str) {
        let _ = std::fs::remove_file(self.backoff_path(lock_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_exclusive_per_open_file_and_released_on_drop() {
        let top = std::env::temp_dir().join(format!("distcc-locks-{}", std::process::id()));
        let dir = LockDir::open(&top).unwrap();
        let a = dir.try_lock("tcp_h_1", 0).unwrap().expect("free");
        // fcntl locks are per process, so a second lock from this process
        // succeeds; another process must be refused (checked with 3.4's
        // client in tests/client). Here: the file exists and is named as 3.4.
        assert!(top.join("lock/cpu_tcp_h_1_0").exists());
        drop(a);
        assert!(!dir.in_backoff("tcp_h_1", Duration::from_secs(60)));
        dir.mark_backoff("tcp_h_1").unwrap();
        assert_eq!(
            std::fs::read(top.join("lock/backoff_tcp_h_1_0")).unwrap(),
            b"x"
        );
        assert!(dir.in_backoff("tcp_h_1", Duration::from_secs(60)));
        assert!(!dir.in_backoff("tcp_h_1", Duration::ZERO));
        dir.clear_backoff("tcp_h_1");
        assert!(!dir.in_backoff("tcp_h_1", Duration::from_secs(60)));
        std::fs::remove_dir_all(&top).unwrap();
    }
}
