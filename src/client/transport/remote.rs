//! One remote job on an open connection (spec §1.5, §3.6): send DIST,
//! ARGC/ARGV as soon as connected, DOTI once cpp is done, then read DONE,
//! STAT, SERR, SOUT and DOTO, driving the shared codec with blocking I/O.
//!
//! SOUT goes to our stdout as soon as it arrives (spec §1.7); SERR is kept
//! for the caller to show or drop; DOTO is written atomically to the
//! output (spec §3.11), and only when the compile succeeded.

use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::path::Path;

use crate::client::local::output::Output;
use crate::error::ExitCode;
use crate::protocol::codec::Codec;
use crate::protocol::token::{HEADER_LEN, Header, Token, header_bytes};
use crate::protocol::{Limits, ProtocolError, RequestHead, server_cpp};

/// Why a remote job did not produce a reply. All of these blame the host
/// except [`RemoteError::Output`].
#[derive(Debug)]
pub enum RemoteError {
    /// Reading or writing the connection failed (includes timeouts).
    Io(io::Error),
    /// The server closed the connection early.
    Eof(&'static str),
    /// The server's bytes do not follow the protocol.
    Protocol(ProtocolError),
    /// The reply follows the protocol but cannot be used.
    BadReply(&'static str),
    /// Our own output file could not be written.
    Output(io::Error),
    /// The server's compiler differs from ours (`XCMM`, its identity): it
    /// compiled nothing (docs/extension.md §7).
    CompilerDiffers(Vec<u8>),
    /// The request went right behind the hello (docs/extension.md §2.1)
    /// and the host was not what the client remembered (it closed at the
    /// hello, or offers less now): what it is was noted, and the job is
    /// sent again on a new connection. Not the host's failure.
    Resend(&'static str),
}

impl RemoteError {
    /// The 3.4 exit code for this failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Io(e) if e.kind() == io::ErrorKind::TimedOut => ExitCode::Timeout,
            Self::Io(_) | Self::Output(_) => ExitCode::IoError,
            Self::Eof(_) => ExitCode::Truncated,
            Self::Protocol(_) | Self::BadReply(_) => ExitCode::ProtocolError,
            Self::CompilerDiffers(_) => ExitCode::CompilerMissing,
            Self::Resend(_) => ExitCode::IoError,
        }
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Eof(what) => write!(f, "server closed the connection before sending {what}"),
            Self::Protocol(e) => write!(f, "{e}"),
            Self::BadReply(what) => write!(f, "unusable reply: {what}"),
            Self::Output(e) => write!(f, "{e}"),
            Self::CompilerDiffers(_) => write!(f, "its compiler differs from this machine's"),
            Self::Resend(why) => write!(f, "{why}: the job is sent again"),
        }
    }
}

impl From<io::Error> for RemoteError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// What the server answered.
#[derive(Debug)]
pub struct Reply {
    /// The compiler's wait status.
    pub status: u32,
    /// The compiler's stderr (plus server warnings).
    pub stderr: Vec<u8>,
}

/// Send DIST, ARGC and ARGV (v1/v2), in one write.
pub fn send_head(
    conn: &mut impl Write,
    version: u32,
    argv: &[std::ffi::OsString],
) -> io::Result<()> {
    let head = RequestHead {
        version,
        cwd: None,
        argv: argv
            .iter()
            .map(|a| crate::args::os::bytes(a).to_vec())
            .collect(),
    };
    conn.write_all(&head.encode())
}

/// Send DOTI with the preprocessed source (compressed for v2): header and
/// body in one `writev`, without copying the body: small writes would
/// each cost a round through the server's socket buffer.
pub fn send_source(conn: &mut impl Write, version: u32, data: &[u8]) -> io::Result<()> {
    send_source_with(conn, Codec::for_version(version), data)
}

/// [`send_source`] with the body encoded in `codec` (the extension's zstd).
pub fn send_source_with(conn: &mut impl Write, codec: Codec, data: &[u8]) -> io::Result<()> {
    let compressed_body;
    let body = if codec == Codec::Raw {
        data
    } else {
        compressed_body = codec.compress(data);
        &compressed_body[..]
    };
    let head = header_bytes(Token::Doti, len32(body.len())?);
    write_both(conn, &head, body)
}

/// `a` then `b`, through vectored writes.
fn write_both(conn: &mut impl Write, a: &[u8], b: &[u8]) -> io::Result<()> {
    let mut done = 0;
    let total = a.len() + b.len();
    while done < total {
        let bufs = if done < a.len() {
            [IoSlice::new(&a[done..]), IoSlice::new(b)]
        } else {
            [IoSlice::new(&b[done - a.len()..]), IoSlice::new(&[])]
        };
        match conn.write_vectored(&bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn too_big(len: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{len} bytes do not fit in one distcc message (4 GiB limit)"),
    )
}

fn len32(n: usize) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| too_big(n as u64))
}

fn read_header(conn: &mut impl Read, token: Token, what: &'static str) -> Result<u32, RemoteError> {
    let mut buf = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        match conn.read(&mut buf[got..]) {
            Ok(0) => return Err(RemoteError::Eof(what)),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(RemoteError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no {what} from the server within DISTCC_IO_TIMEOUT"),
                )));
            }
            Err(e) => return Err(RemoteError::Io(e)),
        }
    }
    match Header::expect(&buf, token) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(RemoteError::Eof(what)),
        Err(e) => Err(RemoteError::Protocol(e)),
    }
}

fn read_body(
    conn: &mut impl Read,
    len: u32,
    codec: Codec,
    limits: &Limits,
    what: &'static str,
) -> Result<Vec<u8>, RemoteError> {
    if u64::from(len) > limits.max_body {
        return Err(RemoteError::Protocol(ProtocolError::TooLarge {
            token: Token::Doto,
            len: u64::from(len),
            cap: limits.max_body,
        }));
    }
    let mut data = vec![0u8; len as usize];
    conn.read_exact(&mut data).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => RemoteError::Eof(what),
        _ => RemoteError::Io(e),
    })?;
    codec
        .decompress(&data, limits.max_body)
        .map_err(|e| RemoteError::Protocol(ProtocolError::Codec(e)))
}

/// Read the reply. `on_receive` is called once the first bytes (DONE)
/// have arrived (the monitor's Receive phase).
pub fn receive(
    conn: &mut impl Read,
    version: u32,
    output: &Path,
    dotd: Option<&Path>,
    stdout: &mut impl Write,
    limits: &Limits,
    on_receive: impl FnOnce(),
) -> Result<Reply, RemoteError> {
    let codec = Codec::for_version(version);
    receive_with(
        conn, version, codec, output, dotd, None, stdout, limits, on_receive,
    )
}

/// Reads what follows a successful 3.4 reply (the extension's `XOUT`)
/// into side files not yet in place.
pub type After<'a> = &'a mut dyn FnMut(&mut dyn Read) -> Result<Vec<Output>, RemoteError>;

/// [`receive`] with bodies in `codec` (the extension's zstd), and
/// `after` reading the side files that follow a success. The object and
/// the side files are renamed into place only once all have arrived, the
/// object last.
#[allow(clippy::too_many_arguments)]
pub fn receive_with(
    conn: &mut impl Read,
    version: u32,
    codec: Codec,
    output: &Path,
    dotd: Option<&Path>,
    after: Option<After<'_>>,
    stdout: &mut impl Write,
    limits: &Limits,
    on_receive: impl FnOnce(),
) -> Result<Reply, RemoteError> {
    let done = read_header(conn, Token::Done, "DONE")?;
    on_receive();
    if done != version {
        return Err(RemoteError::Protocol(ProtocolError::BadVersion(done)));
    }
    let status = read_header(conn, Token::Stat, "STAT")?;
    let len = read_header(conn, Token::Serr, "SERR")?;
    let stderr = read_body(conn, len, codec, limits, "SERR")?;
    let len = read_header(conn, Token::Sout, "SOUT")?;
    let out = read_body(conn, len, codec, limits, "SOUT")?;
    if !out.is_empty() {
        // The user's stdout going away is not the server's fault.
        let _ = stdout.write_all(&out).and_then(|()| stdout.flush());
    }
    let len = read_header(conn, Token::Doto, "DOTO")?;
    if status != 0 {
        // 3.4 sends an empty DOTO on failure; a non-empty one is ignored.
        if len > 0 {
            read_body(conn, len, codec, limits, "DOTO")?;
        }
        return Ok(Reply { status, stderr });
    }
    let mut file = Output::create(output).map_err(RemoteError::Output)?;
    if codec != Codec::Raw {
        let data = read_body(conn, len, codec, limits, "DOTO")?;
        file.write_all(&data).map_err(RemoteError::Output)?;
    } else {
        let mut body = conn.take(u64::from(len));
        let mut buf = vec![0u8; 64 * 1024];
        let mut left = u64::from(len);
        while left > 0 {
            let n = match body.read(&mut buf) {
                Ok(0) => return Err(RemoteError::Eof("DOTO")),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(RemoteError::Io(e)),
            };
            file.write_all(&buf[..n]).map_err(RemoteError::Output)?;
            left -= n as u64;
        }
    }
    if server_cpp(version) {
        // Pump mode: DOTD follows a success. 3.4 accepts a reply without
        // it; so do we when we did not ask for a dependency file, reading
        // it anyway so the server's last write is not answered with a
        // reset.
        match (read_header(conn, Token::Dotd, "DOTD"), dotd) {
            (Ok(len), None) => {
                read_body(conn, len, codec, limits, "DOTD")?;
            }
            (Ok(len), Some(path)) => {
                let text = read_body(conn, len, codec, limits, "DOTD")?;
                let text = crate::client::local::dotd::rewrap(&text)
                    .ok_or(RemoteError::BadReply("its DOTD holds no make rule"))?;
                let mut file = Output::create(path).map_err(RemoteError::Output)?;
                file.write_all(&text).map_err(RemoteError::Output)?;
                file.commit().map_err(RemoteError::Output)?;
            }
            (Err(_), None) => {}
            (Err(e), Some(_)) => return Err(e),
        }
    }
    let side = match after {
        Some(read) => read(conn)?,
        None => Vec::new(),
    };
    for f in side {
        f.commit().map_err(RemoteError::Output)?;
    }
    file.commit().map_err(RemoteError::Output)?;
    Ok(Reply { status, stderr })
}

#[cfg(test)]
#[path = "remote_tests.rs"]
mod tests;
