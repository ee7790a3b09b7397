//! Knowing when a compiler has exited without reaping it (issue #10): a
//! pidfd (Linux 5.3) on the runtime's reactor. While the exited compiler
//! is a zombie its pid and process-group id cannot be reused, so the
//! daemon can kill whatever it left running in its group without hitting
//! anyone else, and only then reap it.

#![allow(unsafe_code)]

use std::os::fd::{FromRawFd, OwnedFd};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// Whether this kernel has pidfd_open.
pub fn supported() -> bool {
    // SAFETY: as in `exit_watch`; the fd is closed right away.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_pidfd_open,
            std::process::id() as libc::pid_t,
            0 as libc::c_uint,
        )
    };
    if fd < 0 {
        return false;
    }
    // SAFETY: `fd` is ours and open.
    drop(unsafe { OwnedFd::from_raw_fd(fd as i32) });
    true
}

/// Readable once process `pid` (a child of ours, not yet reaped) has
/// exited. None on kernels without pidfd_open (then the daemon reaps as
/// before and leftovers are not killed) or outside a runtime.
pub fn exit_watch(pid: u32) -> Option<AsyncFd<OwnedFd>> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd that
    // nothing else owns.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0 as libc::c_uint) };
    if fd < 0 {
        return None;
    }
    // SAFETY: `fd` was just returned to us by the kernel and is open.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    // SAFETY: an OwnedFd stays open, on the same file description, for as
    // long as the AsyncFd owns it.
    unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }.ok()
}
