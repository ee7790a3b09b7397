//! Compilers die with the daemon (issue #10): `kill -9` of distccd must
//! not leave cc1 and as running.
//!
//! The parent-death signal ([`super::trampoline`]) reaches only the compiler
//! driver the daemon started, not its children (`cc1`, `as`; the signal is
//! cleared on fork). So at start-up, while it has one thread, the daemon
//! forks a small watchdog process that holds the read end of a pipe; the
//! daemon writes the process group of every compile it starts and
//! unwatches it once the compile has ended. When the daemon dies, however
//! it dies, the kernel closes its end, the watchdog reads end-of-file,
//! sends SIGKILL to every group still watched and exits. Compilers cannot
//! leave their group (the seccomp filter refuses `setpgid` and `setsid`).
//!
//! The watchdog reads in batches (at most every 0.3 s): the pipe holds
//! thousands of announcements, and a wake-up per compile would cost more
//! CPU than the rest of the watchdog.
//!
//! The watchdog ignores SIGTERM, SIGINT and SIGHUP, so a signal to the
//! whole process group (an init system stopping the service) lets the
//! daemon finish its jobs and the watchdog outlive it for the moment it
//! takes to clean up. It holds no other file: not the listening socket,
//! not the log, not a job directory's lock.

#![allow(unsafe_code)]

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};

use nix::fcntl::OFlag;
use nix::unistd::{ForkResult, Pid};

/// How long the watchdog lets announcements pile up between reads.
const BATCH: std::time::Duration = std::time::Duration::from_millis(300);

/// The daemon's end: where compiles are announced.
#[derive(Debug)]
pub struct Watchdog {
    tx: File,
    pid: Pid,
}

impl Watchdog {
    /// Fork the watchdog. Call while the daemon has only one thread.
    pub fn start() -> io::Result<Self> {
        let (rx, tx) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        // SAFETY: the daemon is single-threaded here (before the runtime
        // is built; see `super::super::run`), so the child may run any
        // code; it only runs `watch_loop` and exits.
        match unsafe { nix::unistd::fork() }? {
            ForkResult::Child => {
                drop(tx);
                let code = watch_loop(rx);
                // SAFETY: _exit skips the daemon's atexit handlers and
                // destructors, which belong to the daemon, not to us.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => {
                drop(rx);
                nix::fcntl::fcntl(
                    tx.as_raw_fd(),
                    nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK),
                )?;
                Ok(Self {
                    tx: File::from(tx),
                    pid: child,
                })
            }
        }
    }

    /// The watchdog's pid.
    pub fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// Kill process group `pgid` if the daemon dies.
    pub fn watch(&self, pgid: u32) {
        self.send(pgid as i32);
    }

    /// The group has ended (its leader is reaped or about to be).
    pub fn unwatch(&self, pgid: u32) {
        self.send(-(pgid as i32));
    }

    fn send(&self, record: i32) {
        // 4 bytes: one atomic pipe write. Never blocks: a watchdog that is
        // gone or stuck must not stop the daemon.
        if let Err(e) = (&self.tx).write_all(&record.to_le_bytes()) {
            tracing::debug!("watchdog: {e}");
        }
    }
}

impl Drop for Watchdog {
    /// The daemon is exiting normally (its jobs are over): the watchdog has
    /// nothing left to do, and must not linger for a batch interval after
    /// the daemon, where an init script checks that no distccd is left.
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(self.pid, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(self.pid, None);
    }
}

/// The watchdog's life: collect groups until end-of-file, then kill them.
fn watch_loop(rx: OwnedFd) -> i32 {
    let _ = nix::sys::prctl::set_name(c"distccd-watch");
    for sig in [
        nix::sys::signal::Signal::SIGTERM,
        nix::sys::signal::Signal::SIGINT,
        nix::sys::signal::Signal::SIGHUP,
    ] {
        // SAFETY: setting a disposition to SIG_IGN installs no handler.
        let _ = unsafe { nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigIgn) };
    }
    let rx = keep_only(rx);
    let mut file = File::from(rx);
    let mut groups: Vec<i32> = Vec::with_capacity(64);
    let mut buf = [0u8; 4096];
    let mut have = 0;
    loop {
        match file.read(&mut buf[have..]) {
            Ok(0) => break,
            Ok(n) => {
                have += n;
                let whole = have - have % 4;
                for rec in buf[..whole].chunks_exact(4) {
                    let v = i32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]);
                    if v > 0 {
                        groups.push(v);
                    } else if let Some(i) = groups.iter().position(|g| *g == -v) {
                        groups.swap_remove(i);
                    }
                }
                buf.copy_within(whole..have, 0);
                have -= whole;
                // Read in batches: a wake-up per compile would cost more
                // than the rest of the watchdog; the daemon's death is
                // noticed at most this much later.
                std::thread::sleep(BATCH);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    for g in groups {
        let _ = nix::sys::signal::killpg(Pid::from_raw(g), nix::sys::signal::Signal::SIGKILL);
    }
    0
}

/// Close every inherited file but `rx` (moved to fd 3), with stdin,
/// stdout and stderr on /dev/null: the watchdog must not keep the
/// daemon's sockets, log, pipes or job-directory locks open.
fn keep_only(rx: OwnedFd) -> OwnedFd {
    use std::os::fd::FromRawFd;
    if let Ok(null) = nix::fcntl::open("/dev/null", OFlag::O_RDWR, nix::sys::stat::Mode::empty()) {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors, which we own.
            unsafe { libc::dup2(null, fd) };
        }
        // SAFETY: `null` is ours and no longer needed.
        unsafe { libc::close(null) };
    }
    let raw = rx.as_raw_fd();
    let target = 3;
    let fd = if raw == target {
        std::mem::forget(rx);
        target
    } else {
        // SAFETY: dup2 to fd 3 (closing what was there); `rx` is then
        // closed by its drop.
        unsafe { libc::dup2(raw, target) };
        drop(rx);
        target
    };
    // SAFETY: close_range closes descriptors we own in this process only;
    // on kernels before 5.9 fall back to closing one by one.
    let r = unsafe { libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32) };
    if r < 0 {
        for other in 4..4096 {
            // SAFETY: as above.
            unsafe { libc::close(other) };
        }
    }
    // SAFETY: fd 3 is open (the pipe) and owned by nobody else now.
    unsafe { OwnedFd::from_raw_fd(fd) }
}
