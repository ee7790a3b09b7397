//! The extension on the client (docs/extension.md): whether to say hello
//! to a host, the hello itself, and what the server sends before `DONE`.
//!
//! A host of unknown kind gets its jobs in 3.4's protocol, which our
//! daemon serves too; after the first success there, the client probes it
//! on a connection of its own ([`probe`]): a 3.4 server answers the hello
//! by closing the connection, which costs it one short read. The answer is
//! remembered in `$DISTCC_DIR/extension/` (a 3.4 answer for
//! [`REPROBE_SECS`]), so every client process of a build, and of the next
//! builds, knows; one process probes a host at a time (a `flock`). A
//! host that answered says hello on every job's connection. Without a
//! `$DISTCC_DIR` nothing can be remembered, so nothing is probed.
//! `DISTCC_EXTENSION=0` turns it off; ssh hosts never use it.

use std::cell::RefCell;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use tracing::debug;

use crate::client::ctx::Ctx;
use crate::client::sidefiles::{Side, read_outputs};
use crate::client::slots::hoststate;
use crate::client::stats::Counted;
use crate::client::transport::conn::Conn;
use crate::client::transport::remote::{self, RemoteError, Reply};
use crate::compiler_id::{Identity, Mode};
use crate::hosts::{HostKind, HostSpec};
use crate::protocol::codec::Codec;
use crate::protocol::ext::{self, Before, Choice, ServerHello, cap};
use crate::protocol::token::{HEADER_LEN, Header};
use crate::protocol::{Decoded, Limits, ProtocolError};

/// The directory under `$DISTCC_DIR`.
pub const DIR: &str = "extension";
/// How long "this host speaks only 3.4" is believed: an hour, so a host
/// upgraded to our daemon is found within the hour, and a 3.4 daemon gets
/// at most one probe an hour from this user.
pub const REPROBE_SECS: u64 = 3600;
/// What this client asks for, of what it implements (`COMPILER_ID` only
/// with an identity to send).
pub const WANTED: u32 =
    cap::ZSTD | cap::HEARTBEAT | cap::STATUS | cap::COMPILER_ID | cap::OUTPUTS | cap::HEADER_CACHE;

/// What is known of a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    /// It answered a hello.
    Ours,
    /// It closed the connection at the hello, less than
    /// [`REPROBE_SECS`] ago.
    Theirs,
    /// Nothing, or too old.
    Unknown,
}

fn path(topdir: &Path, lock_id: &str) -> PathBuf {
    topdir.join(DIR).join(lock_id)
}

/// Parse a memory file: `v1 ours <unix secs>` or `v1 3.4 <unix secs>`.
fn parse(text: &str, now: u64) -> Known {
    let mut w = text.split_whitespace();
    let (Some("v1"), Some(what), Some(Ok(at))) =
        (w.next(), w.next(), w.next().map(str::parse::<u64>))
    else {
        return Known::Unknown;
    };
    match what {
        "ours" => Known::Ours,
        "3.4" if now.saturating_sub(at) < REPROBE_SECS => Known::Theirs,
        _ => Known::Unknown,
    }
}

fn remembered(topdir: &Path, lock_id: &str) -> Known {
    fs::read_to_string(path(topdir, lock_id))
        .map_or(Known::Unknown, |t| parse(&t, hoststate::now_secs()))
}

/// Write the answer (temp file and rename: readers see a whole line).
fn remember(topdir: &Path, lock_id: &str, ours: bool) {
    let dir = topdir.join(DIR);
    let _ = fs::create_dir_all(&dir);
    let tmp = dir.join(format!(".{lock_id}.{}", std::process::id()));
    let what = if ours { "ours" } else { "3.4" };
    let line = format!("v1 {what} {}\n", hoststate::now_secs());
    if fs::write(&tmp, line).is_err() || fs::rename(&tmp, path(topdir, lock_id)).is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

/// How to open a connection to a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opening {
    /// 3.4's protocol: the host is a 3.4 one, or the extension is off.
    Plain,
    /// 3.4's protocol, and once the job succeeded, [`probe`] the host.
    PlainThenProbe,
    /// Say hello: the host answered one before.
    Hello,
}

/// Decide how to open a connection to `host`.
pub fn opening(ctx: &Ctx, host: &HostSpec) -> Opening {
    let Some(top) = ctx.topdir.as_deref() else {
        return Opening::Plain;
    };
    // Over ssh every connection is a new session and a new distccd: the
    // extension is for TCP hosts.
    let tcp = matches!(host.kind, HostKind::Tcp { .. });
    let lock_id = host.lock_id();
    if !tcp || !ctx.vars.bool_or("DISTCC_EXTENSION", true) || lock_id.contains('/') {
        return Opening::Plain;
    }
    match remembered(top, &lock_id) {
        Known::Ours => Opening::Hello,
        Known::Theirs => Opening::Plain,
        Known::Unknown => Opening::PlainThenProbe,
    }
}

/// After a job in 3.4's protocol succeeded on a host of unknown kind: say
/// hello on a connection of its own, note the answer, close. One client
/// at a time probes a host (a non-blocking `flock`); the others skip it.
/// Failures are not the host's: nothing is noted, the next job tries.
pub fn probe<C: Read + Write>(ctx: &Ctx, lock_id: &str, connect: impl FnOnce() -> io::Result<C>) {
    let _ = probe_with(
        ctx,
        lock_id,
        connect,
        |_| Ok(()),
        FlockArg::LockExclusiveNonblock,
    );
}

/// Before the first job on a host of unknown kind, when the compiler
/// check is on (docs/extension.md §7: the first job is checked too): the
/// same probe, but a client that finds another probing waits for its
/// answer, and an answer is awaited for `wait` (the hello's wait) only:
/// a host silent at the hello gets the job in 3.4's protocol, unchecked,
/// as before the probe. `Err` only when the host cannot be connected to,
/// which the job's own connection would find too.
pub fn probe_first(
    ctx: &Ctx,
    lock_id: &str,
    connect: impl FnOnce() -> io::Result<Conn>,
    wait: Duration,
) -> io::Result<()> {
    probe_with(
        ctx,
        lock_id,
        connect,
        |c| c.await_readable(wait, "the extension's offer"),
        FlockArg::LockExclusive,
    )
}

fn probe_with<C: Read + Write>(
    ctx: &Ctx,
    lock_id: &str,
    connect: impl FnOnce() -> io::Result<C>,
    ready: impl FnOnce(&C) -> io::Result<()>,
    how: FlockArg,
) -> io::Result<()> {
    let Some(top) = ctx.topdir.as_deref() else {
        return Ok(());
    };
    let _ = fs::create_dir_all(top.join(DIR));
    let lock = File::create(top.join(DIR).join(format!("{lock_id}.probe")))
        .ok()
        .and_then(|f| Flock::lock(f, how).ok());
    // Another client is probing, or has just probed.
    if lock.is_none() || remembered(top, lock_id) != Known::Unknown {
        return Ok(());
    }
    let mut conn = connect()?;
    let answer = conn
        .write_all(&ext::hello(ext::VERSION))
        .and_then(|()| ready(&conn))
        .map_err(RemoteError::Io)
        .and_then(|()| read_offer(&mut conn));
    match answer {
        Ok(Some(offer)) => {
            debug!(
                "{lock_id} speaks the extension {} (offers {:#x}; {})",
                offer.version, offer.caps, offer.status
            );
            remember(top, lock_id, true);
            hoststate::record_status(top, lock_id, &offer.status);
        }
        Ok(None) => {
            debug!("{lock_id} closed the connection at the extension's hello: a 3.4 server");
            remember(top, lock_id, false);
        }
        Err(e) => debug!("probing {lock_id} for the extension failed: {e}"),
    }
    Ok(())
}

/// Read the server's answer to the hello: its offer, or `None` when it
/// closed the connection without a byte (a 3.4 server).
fn read_offer(conn: &mut impl Read) -> Result<Option<ServerHello>, RemoteError> {
    let mut buf = Vec::new();
    loop {
        if let Decoded::Done(h, _) = ServerHello::decode(&buf).map_err(RemoteError::Protocol)? {
            return Ok(Some(h));
        }
        let mut chunk = [0u8; 256];
        match conn.read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Ok(None),
            Ok(0) => return Err(RemoteError::Eof("the extension's offer")),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // A 3.4 server that closes with our hello unread resets.
            Err(e) if buf.is_empty() && e.kind() == io::ErrorKind::ConnectionReset => {
                return Ok(None);
            }
            Err(e) => return Err(io_error(e, "answer to the extension's hello")),
        }
    }
}

/// One connection's agreement.
#[derive(Clone, Debug)]
pub struct Session {
    /// The choice sent.
    pub choice: Choice,
    /// Where to record the server's status (`$DISTCC_DIR`, lock id).
    pub record: Option<(PathBuf, String)>,
    /// The server's identity, when it said its compiler differs and
    /// compiled anyway (`XCIW 1`).
    pub mismatch: RefCell<Option<Vec<u8>>>,
}

impl Session {
    /// The codec of bodies in a request of protocol `version`.
    pub fn codec(&self, version: u32) -> Codec {
        Codec::negotiated(version, self.choice.has(cap::ZSTD))
    }
}

/// What the hello found.
#[derive(Debug)]
pub enum Hello {
    /// Our daemon: the job goes on in the extension.
    Ours(Session),
    /// A 3.4 daemon closed the connection: open another, in 3.4's protocol.
    Theirs,
}

/// The heartbeat period to ask for: a quarter of the IO timeout, so that
/// a lost heartbeat or two is not yet a timeout.
fn heartbeat_ms(io_timeout: Duration) -> u32 {
    (io_timeout.as_millis() / 4).clamp(250, 60_000) as u32
}

fn timed_out(what: &str) -> RemoteError {
    RemoteError::Io(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no {what} from the server within DISTCC_IO_TIMEOUT"),
    ))
}

pub(crate) fn io_error(e: io::Error, what: &'static str) -> RemoteError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => timed_out(what),
        io::ErrorKind::UnexpectedEof => RemoteError::Eof(what),
        _ => RemoteError::Io(e),
    }
}

/// Say hello on `conn` and, if the server answers, send the choice:
/// with the compiler check when `compiler` (our identity and
/// `DISTCC_COMPILER_CHECK`) asks for it and the server offers it.
pub fn hello(
    conn: &mut Counted<'_, Conn>,
    ctx: &Ctx,
    lock_id: &str,
    wait: Duration,
    compiler: Option<(&Identity, Mode)>,
) -> Result<Hello, RemoteError> {
    conn.write_all(&ext::hello(ext::VERSION))?;
    // A stopped server accepts (the kernel does) and then says nothing.
    conn.0.await_readable(wait, "the extension's offer")?;
    let Some(offer) = read_offer(conn)? else {
        return Ok(closed(ctx, lock_id));
    };
    let compiler = compiler.filter(|(_, mode)| *mode != Mode::Off);
    let mut caps = offer.caps & WANTED;
    if compiler.is_none() {
        caps &= !cap::COMPILER_ID;
    }
    let choice = Choice {
        caps,
        heartbeat_ms: heartbeat_ms(ctx.io_timeout),
        compiler_id: compiler
            .filter(|_| caps & cap::COMPILER_ID != 0)
            .map(|(id, _)| id.encode())
            .unwrap_or_default(),
        compile_anyway: compiler.is_some_and(|(_, mode)| mode == Mode::Warn),
    };
    conn.write_all(&choice.encode())?;
    // A queue is written at once, for the clients placing jobs now
    // (placement); the rest comes with the job's figure at its end.
    if let Some(top) = ctx.topdir.as_deref()
        && offer.status.queued.is_some_and(|q| q > 0)
    {
        hoststate::record_status(top, lock_id, &offer.status);
    }
    debug!(
        "{lock_id}: extension {} (offers {:#x}, {}); using {caps:#x}",
        offer.version, offer.caps, offer.status
    );
    Ok(Hello::Ours(Session {
        choice,
        record: ctx.topdir.clone().map(|t| (t, lock_id.to_owned())),
        mismatch: RefCell::new(None),
    }))
}

fn closed(ctx: &Ctx, lock_id: &str) -> Hello {
    debug!("{lock_id} closed the connection at the extension's hello: a 3.4 server");
    if let Some(top) = ctx.topdir.as_deref() {
        remember(top, lock_id, false);
    }
    Hello::Theirs
}

/// One thing a server speaking the extension sent while its job ran.
#[derive(Debug)]
pub enum Item {
    /// A heartbeat, its status (noted in `$DISTCC_DIR`) or a compiler
    /// mismatch the client accepted (noted in the session): the server is
    /// alive and the job goes on.
    Alive,
    /// The header of `DONE` (or of whatever else came), for the 3.4 reply
    /// reader.
    Reply([u8; HEADER_LEN]),
}

/// Read the next thing the server sends before `DONE`. `XCMM` (its
/// compiler differs) ends the job unless the client asked for the compile
/// anyway; then it is noted in the session and the job goes on.
pub fn next_item(conn: &mut impl Read, session: &Session) -> Result<Item, RemoteError> {
    let mut head = [0u8; HEADER_LEN];
    conn.read_exact(&mut head)
        .map_err(|e| io_error(e, "heartbeat or reply"))?;
    let h = Header::decode(&head)
        .map_err(RemoteError::Protocol)?
        .expect("12 bytes");
    let cap = match &h.token {
        b"XBEA" => 0,
        b"XSTA" => ext::MAX_STATUS,
        b"XCMM" if session.choice.has(cap::COMPILER_ID) => ext::MAX_ID,
        _ => return Ok(Item::Reply(head)),
    };
    if h.param > cap && cap > 0 {
        return Err(RemoteError::Protocol(ProtocolError::ExtTooLarge {
            token: h.token,
            len: h.param,
            cap,
        }));
    }
    let body_len = if cap == 0 { 0 } else { h.param };
    let mut item = head.to_vec();
    item.resize(HEADER_LEN + body_len as usize, 0);
    conn.read_exact(&mut item[HEADER_LEN..])
        .map_err(|e| io_error(e, "XSTA or XCMM"))?;
    match Before::decode(&item).map_err(RemoteError::Protocol)? {
        Decoded::Done(Some(Before::Status(s)), _) => {
            if let Some((_, id)) = &session.record {
                crate::client::stats::set_status(id, s);
            }
        }
        Decoded::Done(Some(Before::Mismatch(theirs)), _) => {
            if !session.choice.compile_anyway {
                return Err(RemoteError::CompilerDiffers(theirs));
            }
            *session.mismatch.borrow_mut() = Some(theirs);
        }
        Decoded::Done(..) | Decoded::NeedMore(_) => {}
    }
    Ok(Item::Alive)
}

/// Read what the server sends before `DONE` (heartbeats, its status, a
/// compiler mismatch) and return `DONE`'s header, still to be read by the
/// 3.4 reply reader.
fn before_done(conn: &mut impl Read, session: &Session) -> Result<[u8; HEADER_LEN], RemoteError> {
    loop {
        if let Item::Reply(head) = next_item(conn, session)? {
            return Ok(head);
        }
    }
}

/// Read the reply of a job sent in the extension (or in 3.4's protocol
/// when `session` is `None`); `done` is `DONE`'s header when the wait for
/// the reply read it already ([`next_item`]); `dotd` is where a pump job's
/// dependency file goes. With `OUTPUTS`, `XOUT` follows the reply and
/// `side` says what it may hold.
#[allow(clippy::too_many_arguments)]
pub fn receive(
    conn: &mut impl Read,
    session: Option<&Session>,
    done: Option<[u8; HEADER_LEN]>,
    version: u32,
    output: &Path,
    dotd: Option<&Path>,
    side: Option<&Side<'_>>,
    stdout: &mut impl Write,
    limits: &Limits,
    on_receive: impl FnOnce(),
) -> Result<Reply, RemoteError> {
    let Some(session) = session else {
        return remote::receive(conn, version, output, dotd, stdout, limits, on_receive);
    };
    let done = match done {
        Some(head) => head,
        None => before_done(conn, session)?,
    };
    let mut rest = (&done[..]).chain(conn);
    let codec = session.codec(version);
    let none = Side {
        dir: PathBuf::new(),
        allowed: Vec::new(),
        own: Vec::new(),
    };
    let side = side.unwrap_or(&none);
    let mut read = |c: &mut dyn Read| read_outputs(c, codec, limits, side);
    let after: Option<remote::After<'_>> = session.choice.has(cap::OUTPUTS).then_some(&mut read);
    remote::receive_with(
        &mut rest, version, codec, output, dotd, after, stdout, limits, on_receive,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_lines_and_their_age() {
        let now = 10_000_000;
        assert_eq!(parse("v1 ours 5\n", now), Known::Ours);
        assert_eq!(parse(&format!("v1 3.4 {}\n", now - 10), now), Known::Theirs);
        assert_eq!(
            parse(&format!("v1 3.4 {}\n", now - REPROBE_SECS), now),
            Known::Unknown
        );
        assert_eq!(parse("v2 ours 5", now), Known::Unknown);
        assert_eq!(parse("", now), Known::Unknown);
        assert_eq!(parse("v1 ours x", now), Known::Unknown);
    }

    #[test]
    fn heartbeats_are_asked_for_well_within_the_timeout() {
        assert_eq!(heartbeat_ms(Duration::from_secs(300)), 60_000);
        assert_eq!(heartbeat_ms(Duration::from_secs(2)), 500);
        assert_eq!(heartbeat_ms(Duration::from_millis(100)), 250);
    }

    #[test]
    fn heartbeats_and_status_are_read_before_the_3_4_reply() {
        let session = Session {
            choice: Choice {
                caps: cap::HEARTBEAT | cap::STATUS,
                ..Choice::default()
            },
            record: None,
            mismatch: RefCell::new(None),
        };
        let mut bytes = Vec::new();
        Before::Heartbeat(1).encode(&mut bytes);
        Before::Heartbeat(2).encode(&mut bytes);
        Before::Status(ext::Status::default()).encode(&mut bytes);
        bytes.extend_from_slice(b"DONE00000002STAT00000000");
        let mut r = &bytes[..];
        assert_eq!(&before_done(&mut r, &session).unwrap(), b"DONE00000002");
        assert_eq!(r, b"STAT00000000");
        let mut cut = &bytes[..20];
        assert!(matches!(
            before_done(&mut cut, &session),
            Err(RemoteError::Eof(_))
        ));
    }

    #[test]
    fn a_mismatch_ends_the_job_unless_the_client_asked_for_the_compile_anyway() {
        let session = |anyway| Session {
            choice: Choice {
                caps: cap::COMPILER_ID,
                compile_anyway: anyway,
                ..Choice::default()
            },
            record: None,
            mismatch: RefCell::new(None),
        };
        let theirs = b"distcc-compiler-id 1\nversion 13.2.0\n".to_vec();
        let mut bytes = Vec::new();
        Before::Mismatch(theirs.clone()).encode(&mut bytes);
        bytes.extend_from_slice(b"DONE00000002");
        let refuse = session(false);
        assert!(matches!(
            before_done(&mut &bytes[..], &refuse),
            Err(RemoteError::CompilerDiffers(id)) if id == theirs
        ));
        let warn = session(true);
        assert_eq!(
            &before_done(&mut &bytes[..], &warn).unwrap(),
            b"DONE00000002"
        );
        assert_eq!(warn.mismatch.borrow().as_deref(), Some(&theirs[..]));
    }
}
