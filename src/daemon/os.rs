//! The operating-system steps of start-up (spec §4.2): priority, OOM
//! score, binding, detaching and the pid file. Each is a small function
//! the start-up sequence in [`super`] calls in order; they run before the
//! tokio runtime exists (style.md example 12), so forking is safe.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::sys::socket::{Backlog, listen};
use nix::unistd::{ForkResult, dup2, fork, pipe, setsid};

/// 3.4's listen backlog.
const BACKLOG: i32 = 1024;

/// Lower (or with root, raise) our priority by `inc`; compilers inherit it.
pub fn renice(inc: i32) -> io::Result<()> {
    if inc == 0 {
        return Ok(());
    }
    nix::errno::Errno::clear();
    #[allow(unsafe_code)]
    // SAFETY: nice(2) takes an int and touches no memory of ours.
    let r = unsafe { libc::nice(inc) };
    if r == -1 && nix::errno::Errno::last_raw() != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `--oom-score-adj`: how willing the kernel is to kill us (and our
/// compilers) when memory runs out.
pub fn set_oom_score_adj(n: i32) -> io::Result<()> {
    std::fs::write("/proc/self/oom_score_adj", format!("{n}\n"))
}

/// Bind the listening socket (spec §4.2 step 10): `--listen` address, or
/// every address: IPv6 with IPv4 mapped in, falling back to IPv4 only
/// where IPv6 is off. An address in use is reported as such (exit 102).
pub fn bind(listen_on: Option<IpAddr>, port: u16, defer_accept: bool) -> io::Result<TcpListener> {
    let listener = match listen_on {
        Some(ip) => TcpListener::bind(SocketAddr::new(ip, port))?,
        None => match TcpListener::bind(SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port)) {
            Ok(l) => l,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => return Err(e),
            Err(_) => TcpListener::bind(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port))?,
        },
    };
    // std listens with a smaller backlog; 3.4 queues up to 1024 waiting
    // clients, and so do we (listen(2) again just resizes the queue).
    listen(&listener, Backlog::new(BACKLOG).map_err(io::Error::from)?)?;
    if defer_accept {
        set_defer_accept(&listener)?;
    }
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// The first fd systemd passes (`SD_LISTEN_FDS_START`).
pub const LISTEN_FDS_START: i32 = 3;

/// Take over a listening TCP socket passed by systemd socket activation.
/// Refuses an fd that is not a listening stream socket, so a stray
/// `LISTEN_FDS` cannot make us serve on a random file.
pub fn inherited_listener(fd: i32) -> io::Result<TcpListener> {
    use nix::sys::socket::{getsockopt, sockopt};
    use std::os::fd::{BorrowedFd, FromRawFd};
    {
        #[allow(unsafe_code)]
        // SAFETY: only borrowed for the checks; fstat-like calls on a
        // closed fd fail with EBADF instead of touching memory.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let listening = getsockopt(&borrowed, sockopt::AcceptConn)
            .map_err(|e| io::Error::other(format!("fd {fd} from systemd: {e}")))?;
        let kind = getsockopt(&borrowed, sockopt::SockType)
            .map_err(|e| io::Error::other(format!("fd {fd} from systemd: {e}")))?;
        if !listening || kind != nix::sys::socket::SockType::Stream {
            return Err(io::Error::other(format!(
                "fd {fd} from systemd is not a listening stream socket"
            )));
        }
    }
    #[allow(unsafe_code)]
    // SAFETY: systemd passed this fd to us and nothing else in the process
    // owns it; LISTEN_PID matched our pid (env::Vars::listen_fds).
    let listener = unsafe { TcpListener::from_raw_fd(fd) };
    // systemd hands the fd over without close-on-exec: compilers must not
    // inherit the listening socket.
    nix::fcntl::fcntl(
        listener.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// TCP_DEFER_ACCEPT = 1 s, as 3.4 sets it: wake us only once the client
/// has sent something.
fn set_defer_accept(listener: &TcpListener) -> io::Result<()> {
    let one: libc::c_int = 1;
    #[allow(unsafe_code)]
    // SAFETY: the fd is open for the duration of the call; the option
    // value points to a live c_int of the length given.
    let r = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The child's half of a detach: tells the waiting parent how start-up
/// went, so the parent's exit status is the daemon's start-up status.
#[derive(Debug)]
pub struct Ready(Option<File>);

impl Ready {
    /// Nothing waits (no detach).
    pub fn none() -> Self {
        Self(None)
    }

    /// Report the start-up status (0 = serving) and release the parent.
    pub fn report(&mut self, code: u8) {
        if let Some(mut f) = self.0.take() {
            let _ = f.write_all(&[code]);
        }
    }
}

/// Fork into the background (spec §4.2 step 10). The parent waits until
/// the child reports its start-up status, then exits with it; only the
/// child returns. Must run before any thread is started.
pub fn detach() -> io::Result<Ready> {
    let (read_end, write_end): (OwnedFd, OwnedFd) = pipe()?;
    #[allow(unsafe_code)]
    // SAFETY: called during start-up, before the tokio runtime or any
    // other thread exists, so the child is a faithful single-threaded copy.
    let forked = unsafe { fork() }?;
    match forked {
        ForkResult::Parent { .. } => {
            drop(write_end);
            let mut code = [0u8; 1];
            let status = match File::from(read_end).read(&mut code) {
                Ok(1) => code[0],
                _ => crate::error::ExitCode::Failed.code() as u8,
            };
            std::process::exit(status.into());
        }
        ForkResult::Child => {
            drop(read_end);
            setsid()?;
            Ok(Ready(Some(File::from(write_end))))
        }
    }
}

/// Point stdin/stdout (and stderr unless we log there) at /dev/null, so a
/// detached daemon holds no terminal.
pub fn quiet_stdio(keep_stderr: bool) -> io::Result<()> {
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    let fd = null.as_raw_fd();
    dup2(fd, 0)?;
    dup2(fd, 1)?;
    if !keep_stderr {
        dup2(fd, 2)?;
    }
    Ok(())
}

/// Start a new process group (`--no-detach` still does, spec §4.1).
pub fn own_process_group() {
    // Fails harmlessly when we already lead a session (e.g. under setsid).
    let _ = nix::unistd::setpgid(nix::unistd::Pid::from_raw(0), nix::unistd::Pid::from_raw(0));
}

/// The pid file: written at start-up, removed at exit (if we still may).
#[derive(Debug)]
pub struct PidFile(PathBuf);

impl PidFile {
    /// Write our pid to `path`.
    pub fn write(path: &Path) -> io::Result<Self> {
        std::fs::write(path, format!("{}\n", std::process::id()))?;
        Ok(Self(path.to_path_buf()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // After dropping root this may fail (e.g. /run): as in 3.4, only
        // worth a debug line.
        if let Err(e) = std::fs::remove_file(&self.0) {
            tracing::debug!("cannot remove pid file {}: {e}", self.0.display());
        }
    }
}

/// Whether fd 0 is a socket (inetd autodetection, spec §4.1).
pub fn stdin_is_socket() -> bool {
    is_socket(io::stdin().as_fd())
}

/// Whether stderr is a socket: under inetd it is the client's connection,
/// so nothing may be logged there (spec §4.2 step 1).
pub fn stderr_is_socket() -> bool {
    is_socket(io::stderr().as_fd())
}

fn is_socket(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    use std::os::unix::fs::FileTypeExt;
    fd.try_clone_to_owned()
        .map(File::from)
        .and_then(|f| f.metadata())
        .is_ok_and(|m| m.file_type().is_socket())
}
