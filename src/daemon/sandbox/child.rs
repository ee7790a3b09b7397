//! The sandbox steps in the forked child, between `fork` and `exec`: the
//! only place where distccd runs code in a child it has not yet replaced
//! with the compiler.
//!
//! Why `fork` + `pre_exec` (measured, bench/RESULTS.md "Sandbox"): the
//! alternative, distccd re-executing itself as a trampoline that applies
//! the sandbox and then executes the compiler, keeps `posix_spawn` in the
//! daemon but costs every job a second `exec` of a large binary (about
//! 0.4-1 ms of CPU); `fork` of the small daemon costs it well under that,
//! and the steps here are a handful of system calls.
//!
//! After `fork` in a multi-threaded process only async-signal-safe calls
//! are allowed: no allocation, no locks, no `Drop` of anything shared.
//! Everything used here was made by the daemon before the fork (the
//! limits, the Landlock ruleset fd, the seccomp program), and every step
//! is one raw system call through `libc`; errors are reported as the raw
//! errno (`io::Error::from_raw_os_error` does not allocate), which std
//! sends back to the daemon and `spawn` returns.
//!
//! Order matters: the parent-death signal first (so a daemon that dies
//! now takes the child along), the limits, then `no_new_privs` (required
//! by both Landlock and seccomp without privileges), Landlock, and seccomp
//! last, since its filter refuses calls made before it (`setpgid`, which
//! std has already made for `process_group(0)`).

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use seccompiler::sock_filter;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// A resource limit the child sets (soft = hard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// RLIMIT_CORE: no core files in the job directory.
    Core,
    /// RLIMIT_CPU, seconds.
    Cpu,
    /// RLIMIT_DATA, bytes (heap and private mappings).
    Data,
    /// RLIMIT_FSIZE, bytes.
    FileSize,
    /// RLIMIT_NPROC, processes of the user.
    Processes,
}

impl Resource {
    fn raw(self) -> libc::__rlimit_resource_t {
        match self {
            Resource::Core => libc::RLIMIT_CORE,
            Resource::Cpu => libc::RLIMIT_CPU,
            Resource::Data => libc::RLIMIT_DATA,
            Resource::FileSize => libc::RLIMIT_FSIZE,
            Resource::Processes => libc::RLIMIT_NPROC,
        }
    }
}

/// What to apply, all prepared by the daemon.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    /// Limits to set.
    pub limits: &'a [(Resource, u64)],
    /// Set `no_new_privs`.
    pub no_new_privs: bool,
    /// A Landlock ruleset to enforce.
    pub landlock: Option<&'a OwnedFd>,
    /// A seccomp program to install.
    pub seccomp: Option<&'a [sock_filter]>,
}

/// Arrange for `plan` to be applied in the child of `cmd`, which must be
/// spawned from a thread that lives as long as the daemon (the runtime's
/// one thread): the parent-death signal fires when the *thread* that
/// forked exits. `keep` holds what the plan borrows until the child has
/// run it; the closure is called in the child only.
pub fn install<K>(cmd: &mut tokio::process::Command, keep: K, plan: fn(&K) -> Plan<'_>)
where
    K: Send + Sync + 'static,
{
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before exec. It calls
    // `apply`, which only makes raw system calls on data prepared before
    // the fork (`keep` is moved in and only borrowed), and builds no
    // value that allocates; see the module comment.
    unsafe {
        cmd.pre_exec(move || apply(&plan(&keep), parent));
    }
}

fn check(ret: libc::c_long) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The steps; async-signal-safe.
fn apply(plan: &Plan<'_>, parent: libc::pid_t) -> io::Result<()> {
    // SAFETY (every block below): plain system calls with integer
    // arguments or pointers to memory that lives in this (copied) address
    // space for the duration of the call.
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) }.into())?;
    // The daemon may have died before the line above: then nobody would
    // signal us.
    if unsafe { libc::getppid() } != parent {
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    for &(resource, value) in plan.limits {
        let lim = libc::rlimit {
            rlim_cur: value,
            rlim_max: value,
        };
        check(unsafe { libc::setrlimit(resource.raw(), &lim) }.into())?;
    }
    if plan.no_new_privs {
        check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }.into())?;
    }
    if let Some(fd) = plan.landlock {
        check(unsafe {
            libc::syscall(
                libc::SYS_landlock_restrict_self,
                fd.as_raw_fd(),
                0 as libc::c_uint,
            )
        })?;
    }
    if let Some(prog) = plan.seccomp {
        let fprog = libc::sock_fprog {
            len: prog.len() as libc::c_ushort,
            filter: prog.as_ptr() as *mut libc::sock_filter,
        };
        check(unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0 as libc::c_uint,
                &fprog as *const libc::sock_fprog,
            )
        })?;
    }
    Ok(())
}

/// A pidfd for `pid` (Linux 5.3) on the runtime's reactor: readable once
/// the process has exited, so the daemon can act while it is still a
/// zombie (its pid and process group cannot be reused yet). None on older
/// kernels.
pub fn exit_watch(pid: u32) -> Option<AsyncFd<OwnedFd>> {
    use std::os::fd::FromRawFd;
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
