//! Connections to a server: TCP (spec §3.9: 4 s connect timeout per
//! address), TCP through a SOCKS5 proxy (`DISTCC_SOCKS_PROXY`, packaging
//! notes §3.4), and SSH (`<ssh> [-l user] host distccd --inetd
//! --enable-tcp-insecure`, spec §2.3). Every read and write obeys
//! `DISTCC_IO_TIMEOUT`.
//!
//! The client never half-closes (spec §1.5): the server would take that as
//! a disconnect and kill the job.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::client::transport::socks;

/// Connect timeout per address (3.4: 4 s).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);

/// An open connection carrying one job.
#[derive(Debug)]
pub enum Conn {
    /// Plain TCP (also after a SOCKS5 handshake over TCP).
    Tcp(TcpStream),
    /// A SOCKS5 proxy reached through a UNIX socket (Portage).
    Unix(UnixStream),
    /// `ssh host distccd --inetd`: we write its stdin and read its stdout.
    Ssh(Ssh),
    /// TLS over one of the above (`tls+HOST`, [`super::tls`]).
    Tls(Box<super::tls::TlsConn>),
}

/// The ssh child and its pipes.
#[derive(Debug)]
pub struct Ssh {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    timeout: Duration,
}

impl Drop for Ssh {
    fn drop(&mut self) {
        // Closing stdin ends `distccd --inetd` and then ssh; do not wait
        // long for a wedged ssh.
        drop(self.stdin.take());
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                crate::client::local::cleanup::remove_child(self.child.id());
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        crate::client::local::cleanup::remove_child(self.child.id());
    }
}

fn timed_out(what: &str, t: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!(
            "{what} timed out after {} s (DISTCC_IO_TIMEOUT)",
            t.as_secs()
        ),
    )
}

fn wait_fd(fd: impl AsFd, flags: PollFlags, t: Duration, what: &str) -> io::Result<()> {
    let ms = t.as_millis().min(i32::MAX as u128) as i32;
    let mut fds = [PollFd::new(fd.as_fd(), flags)];
    loop {
        match poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) => return Err(timed_out(what, t)),
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

impl Conn {
    /// Wait up to `t` for something to read (`what` names it in the
    /// timeout's message).
    pub fn await_readable(&self, t: Duration, what: &str) -> io::Result<()> {
        wait_fd(self.read_fd(), PollFlags::POLLIN, t, what)
    }

    /// The descriptor replies are read from, to wait on it beside other
    /// things (a local compile racing the job, src/client/race).
    pub fn read_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self {
            Self::Tcp(s) => s.as_fd(),
            Self::Unix(s) => s.as_fd(),
            Self::Ssh(s) => s.stdout.as_fd(),
            // What TLS read ahead is seen by [`Conn::buffered`].
            Self::Tls(s) => s.stream.sock.read_fd(),
        }
    }

    /// Hold back partial segments (`on`) until corked off, at most
    /// 200 ms (Linux's `TCP_CORK`): a job's hello, choice and request,
    /// written one after the other, then leave as one segment rather
    /// than one each (`TCP_NODELAY` sends every write at once). Only TCP
    /// corks; a failure leaves the segments as they were, so it is ignored.
    pub fn cork(&self, on: bool) {
        if let Self::Tcp(s) = self {
            let _ = socket2::SockRef::from(s).set_tcp_cork(on);
        }
    }

    /// Whether bytes already taken from the descriptor wait to be read
    /// (TLS reads whole records: a heartbeat and `DONE` can come in one
    /// read), so that a wait on [`Conn::read_fd`] would not see them.
    pub fn buffered(&mut self) -> bool {
        match self {
            // An error is for the next read to report: say there is
            // something to read.
            Self::Tls(s) => s.buffered(),
            Self::Tcp(_) | Self::Unix(_) | Self::Ssh(_) => false,
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf),
            Self::Unix(s) => s.read(buf),
            Self::Ssh(s) => {
                wait_fd(&s.stdout, PollFlags::POLLIN, s.timeout, "reading from ssh")?;
                s.stdout.read(buf)
            }
            Self::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write(buf),
            Self::Unix(s) => s.write(buf),
            Self::Ssh(s) => {
                let timeout = s.timeout;
                let stdin = s
                    .stdin
                    .as_mut()
                    .ok_or_else(|| io::Error::from(io::ErrorKind::BrokenPipe))?;
                wait_fd(&*stdin, PollFlags::POLLOUT, timeout, "writing to ssh")?;
                stdin.write(buf)
            }
            Self::Tls(s) => s.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write_vectored(bufs),
            Self::Unix(s) => s.write_vectored(bufs),
            Self::Tls(s) => s.write_vectored(bufs),
            Self::Ssh(_) => {
                let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
                self.write(first)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Tls(s) => s.flush(),
            _ => Ok(()),
        }
    }
}

fn set_timeouts_tcp(s: &TcpStream, t: Duration) -> io::Result<()> {
    s.set_read_timeout(Some(t))?;
    s.set_write_timeout(Some(t))?;
    // Messages are written whole; do not let Nagle hold back the tail of
    // DOTI waiting for an ACK the server delays (spec §3.9 on corking).
    s.set_nodelay(true)
}

/// Connect straight to `host:port`, trying every address in turn.
pub fn tcp(host: &str, port: u16, io_timeout: Duration) -> io::Result<Conn> {
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot resolve {host}: {e}")))?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(s) => {
                set_timeouts_tcp(&s, io_timeout)?;
                return Ok(Conn::Tcp(s));
            }
            Err(e) => last = io::Error::new(e.kind(), format!("connect to {addr}: {e}")),
        }
    }
    Err(last)
}

/// Connect to `host:port` through the SOCKS5 proxy `proxy` (a UNIX socket
/// path, or `host[:port]` with port 1080 by default).
pub fn via_socks(proxy: &str, host: &str, port: u16, io_timeout: Duration) -> io::Result<Conn> {
    let mut conn = if proxy.starts_with('/') {
        let s = UnixStream::connect(proxy)
            .map_err(|e| io::Error::new(e.kind(), format!("SOCKS proxy {proxy}: {e}")))?;
        s.set_read_timeout(Some(io_timeout))?;
        s.set_write_timeout(Some(io_timeout))?;
        Conn::Unix(s)
    } else {
        let (phost, pport) = socks::split_proxy(proxy)?;
        tcp(&phost, pport, io_timeout)
            .map_err(|e| io::Error::new(e.kind(), format!("SOCKS proxy {proxy}: {e}")))?
    };
    socks::connect(&mut conn, host, port)
        .map_err(|e| io::Error::new(e.kind(), format!("SOCKS proxy {proxy}: {e}")))?;
    Ok(conn)
}

/// The ssh command line for an SSH host (spec §2.3).
pub fn ssh_argv(
    ssh: &[String],
    user: Option<&str>,
    host: &str,
    command: Option<&str>,
) -> Vec<String> {
    let mut argv = ssh.to_vec();
    if let Some(u) = user {
        argv.push("-l".into());
        argv.push(u.into());
    }
    argv.push(host.into());
    argv.push(command.unwrap_or("distccd").into());
    argv.push("--inetd".into());
    argv.push("--enable-tcp-insecure".into());
    argv
}

/// Start ssh; stderr stays ours so its complaints reach the user.
pub fn ssh(argv: &[String], io_timeout: Duration, safeguard: &str) -> io::Result<Conn> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .env("_DISTCC_SAFEGUARD", safeguard)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run {}: {e}", argv[0])))?;
    crate::client::local::cleanup::add_child(child.id());
    let stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    Ok(Conn::Ssh(Ssh {
        child,
        stdin: Some(stdin),
        stdout,
        timeout: io_timeout,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_command_line_matches_3_4() {
        let ssh = vec!["ssh".to_owned(), "-p".to_owned(), "2222".to_owned()];
        assert_eq!(
            ssh_argv(&ssh, Some("ted"), "angry", None).join(" "),
            "ssh -p 2222 -l ted angry distccd --inetd --enable-tcp-insecure"
        );
        assert_eq!(
            ssh_argv(&ssh[..1], None, "angry", Some("/home/mbp/bin/distccd")).join(" "),
            "ssh angry /home/mbp/bin/distccd --inetd --enable-tcp-insecure"
        );
    }
}
