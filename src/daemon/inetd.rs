//! Inetd mode (spec §4.1, §4.4): one job on fds 0 and 1, then exit.
//!
//! fd 0 may be a TCP socket (inetd/xinetd/systemd socket activation with
//! `Accept=yes`), a Unix socket, or a pipe (`ssh host distccd --inetd`).
//! TCP peers go through `--allow` like daemon-mode clients; the others
//! have no address and are allowed, as in 3.4 (spec §4.3).

use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

use super::job::{self, Shared};
use super::summary::{Category, Refusal};
use crate::access::AccessList;
use crate::error::ExitCode;

type Reader = Pin<Box<dyn AsyncRead + Send>>;
type Writer = Pin<Box<dyn AsyncWrite + Send>>;

/// Serve the client on stdin/stdout. The exit status is 0 when a compiler
/// ran (whatever its result: that went to the client), else the distcc
/// code of the failure.
pub async fn serve_stdin(shared: &Shared, access: &AccessList) -> i32 {
    let (reader, writer, peer) = match open() {
        Ok(x) => x,
        Err(e) => {
            tracing::error!("inetd mode: cannot use stdin/stdout: {e}");
            return ExitCode::IoError.code();
        }
    };
    let name = match peer {
        Some(addr) => {
            let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
            if !access.allows(Some(addr.ip())) {
                tracing::warn!(
                    "connection from client '{}' denied by access list",
                    addr.ip()
                );
                shared.stats.refused(Refusal::Access);
                return ExitCode::AccessDenied.code();
            }
            addr.to_string()
        }
        None => "stdin".to_string(),
    };
    tracing::debug!("connection from {name}");
    let _busy = shared.stats.accepted();
    let ticket = match shared.pending.admit(peer.map(|a| a.ip().to_canonical())) {
        Ok(t) => t,
        Err(why) => {
            tracing::warn!("{why}");
            return ExitCode::Busy.code();
        }
    };
    let summary = job::serve(reader, writer, &name, ticket, shared).await;
    match summary.category {
        Category::CompileOk | Category::CompileError => 0,
        _ if summary.ret != 0 => summary.ret,
        _ => ExitCode::Failed.code(),
    }
}

fn dup(fd: impl AsFd) -> io::Result<OwnedFd> {
    fd.as_fd().try_clone_to_owned()
}

fn open() -> io::Result<(Reader, Writer, Option<SocketAddr>)> {
    let input = dup(io::stdin())?;
    let kind = File::from(input.try_clone()?).metadata()?.file_type();
    if kind.is_socket() {
        let tcp = std::net::TcpStream::from(input);
        if let Ok(peer) = tcp.peer_addr() {
            tcp.set_nonblocking(true)?;
            let (r, w) = tokio::net::TcpStream::from_std(tcp)?.into_split();
            return Ok((Box::pin(r), Box::pin(w), Some(peer)));
        }
        let unix = std::os::unix::net::UnixStream::from(OwnedFd::from(tcp));
        unix.set_nonblocking(true)?;
        let (r, w) = tokio::net::UnixStream::from_std(unix)?.into_split();
        return Ok((Box::pin(r), Box::pin(w), None));
    }
    let output = dup(io::stdout())?;
    if kind.is_fifo() {
        let r = tokio::net::unix::pipe::Receiver::from_owned_fd(input)?;
        let w = tokio::net::unix::pipe::Sender::from_owned_fd(output)?;
        return Ok((Box::pin(r), Box::pin(w), None));
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "stdin is neither a socket nor a pipe (use --daemon to listen on a port)",
    ))
}
