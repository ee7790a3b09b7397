//! What a server speaking the extension sends while the job runs
//! (heartbeats, its status, a compiler mismatch), and the reply after it,
//! with the side files of `XOUT`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::{Session, io_error};
use crate::client::sidefiles::{Side, read_outputs};
use crate::client::sysheaders::Received;
use crate::client::transport::remote::{self, RemoteError, Reply};
use crate::protocol::ext::{self, Before, cap};
use crate::protocol::token::{HEADER_LEN, Header};
use crate::protocol::{Decoded, Limits, ProtocolError};

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
/// anyway; then it is noted in the session and the job goes on. `XCIQ`
/// (it does not hold the identity named by digest) is answered with the
/// identity whole, `XBAQ` (it does not hold the body's base) with the
/// base.
pub fn next_item(conn: &mut (impl Read + Write), session: &Session) -> Result<Item, RemoteError> {
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
        b"XSYL" if session.choice.has(cap::SYSTEM_HEADERS) => ext::syslist::MAX_LIST,
        b"XSYS" if session.choice.has(cap::SYSTEM_HEADERS) => 0,
        b"XCIQ" if by_digest(session) => {
            if h.param != 0 {
                return Err(RemoteError::BadReply("XCIQ with a parameter other than 0"));
            }
            conn.write_all(&ext::encode_identity(&session.choice.compiler_id))
                .map_err(|e| io_error(e, "the compiler identity's answer"))?;
            return Ok(Item::Alive);
        }
        b"XBAQ" if session.choice.has(cap::BODY_BASE) => {
            if h.param != 0 {
                return Err(RemoteError::BadReply("XBAQ with a parameter other than 0"));
            }
            crate::client::bodybase::answer(conn, session)?;
            return Ok(Item::Alive);
        }
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
        .map_err(|e| io_error(e, "XSTA, XCMM or XSYL"))?;
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
        Decoded::Done(Some(Before::SystemKnown(i)), _) => {
            if i as usize >= session.choice.sys_known.len() {
                return Err(RemoteError::BadReply(
                    "XSYS names a list the choice did not",
                ));
            }
            *session.system.borrow_mut() = Some(Received::Known(i));
        }
        Decoded::Done(Some(Before::SystemList(body)), _) => {
            *session.system.borrow_mut() = Some(Received::List(body));
        }
        Decoded::Done(..) | Decoded::NeedMore(_) => {}
    }
    Ok(Item::Alive)
}

fn by_digest(session: &Session) -> bool {
    session.choice.has(cap::COMPILER_ID) && session.choice.has(cap::COMPILER_ID_REF)
}

/// Read what the server sends before `DONE` (heartbeats, its status, a
/// compiler mismatch, the question for our identity, the system headers'
/// list) and return `DONE`'s header, still to be read by the 3.4 reply
/// reader.
fn before_done(
    conn: &mut (impl Read + Write),
    session: &Session,
) -> Result<[u8; HEADER_LEN], RemoteError> {
    loop {
        if let Item::Reply(head) = next_item(conn, session)? {
            return Ok(head);
        }
    }
}

/// Read what comes before `DONE`, `DONE`'s header (unless the wait read
/// it already: `done`) and `STAT`'s: the compile's status, known before
/// anything is written, and the bytes read of the reply, for
/// [`receive`].
pub fn status_ahead(
    conn: &mut (impl Read + Write),
    session: &Session,
    done: Option<[u8; HEADER_LEN]>,
) -> Result<(u32, Vec<u8>), RemoteError> {
    let done = match done {
        Some(head) => head,
        None => before_done(conn, session)?,
    };
    let mut stat = [0u8; HEADER_LEN];
    conn.read_exact(&mut stat)
        .map_err(|e| io_error(e, "STAT"))?;
    let status = Header::expect(&stat, crate::protocol::token::Token::Stat)
        .map_err(RemoteError::Protocol)?
        .expect("12 bytes");
    Ok((status, [done, stat].concat()))
}

/// Read the rest of a reply that will not be used, to its end, so that
/// the server's last write is not answered with a reset; errors end it.
pub fn drain(conn: &mut impl Read) {
    let mut buf = vec![0u8; 64 * 1024];
    while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
}

/// Read the reply of a job sent in the extension (or in 3.4's protocol
/// when `session` is `None`); `read` is what the wait for the reply read
/// of it already (`DONE`'s header, [`next_item`]; with `STAT`'s,
/// [`status_ahead`]), empty if nothing; `dotd` is where a pump job's
/// dependency file goes. With `OUTPUTS`, `XOUT` follows the reply and
/// `side` says what it may hold.
#[allow(clippy::too_many_arguments)]
pub fn receive(
    conn: &mut (impl Read + Write),
    session: Option<&Session>,
    read: &[u8],
    version: u32,
    output: &Path,
    dotd: Option<&Path>,
    side: Option<&Side<'_>>,
    stdout: &mut impl Write,
    limits: &Limits,
    on_receive: impl FnOnce(),
) -> Result<Reply, RemoteError> {
    let Some(session) = session else {
        let mut rest = read.chain(conn);
        return remote::receive(&mut rest, version, output, dotd, stdout, limits, on_receive);
    };
    let done;
    let read = if read.is_empty() {
        done = before_done(conn, session)?;
        &done[..]
    } else {
        read
    };
    let mut rest = read.chain(conn);
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
    use std::cell::RefCell;

    use crate::protocol::ext::Choice;

    /// What the server sent, and what the client writes back.
    struct Duplex<'a> {
        from: &'a [u8],
        to: Vec<u8>,
    }

    impl Read for Duplex<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.from.read(buf)
        }
    }

    impl Write for Duplex<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.to.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn duplex(from: &[u8]) -> Duplex<'_> {
        Duplex {
            from,
            to: Vec::new(),
        }
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
            base: RefCell::new(None),
            system: RefCell::new(None),
            unconfirmed: None,
        };
        let mut bytes = Vec::new();
        Before::Heartbeat(1).encode(&mut bytes);
        Before::Heartbeat(2).encode(&mut bytes);
        Before::Status(ext::Status::default()).encode(&mut bytes);
        bytes.extend_from_slice(b"DONE00000002STAT00000000");
        let mut r = duplex(&bytes);
        assert_eq!(&before_done(&mut r, &session).unwrap(), b"DONE00000002");
        assert_eq!(r.from, b"STAT00000000");
        assert!(r.to.is_empty());
        let mut cut = duplex(&bytes[..20]);
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
            base: RefCell::new(None),
            system: RefCell::new(None),
            unconfirmed: None,
        };
        let theirs = b"distcc-compiler-id 1\nversion 13.2.0\n".to_vec();
        let mut bytes = Vec::new();
        Before::Mismatch(theirs.clone()).encode(&mut bytes);
        bytes.extend_from_slice(b"DONE00000002");
        let refuse = session(false);
        assert!(matches!(
            before_done(&mut duplex(&bytes), &refuse),
            Err(RemoteError::CompilerDiffers(id)) if id == theirs
        ));
        let warn = session(true);
        assert_eq!(
            &before_done(&mut duplex(&bytes), &warn).unwrap(),
            b"DONE00000002"
        );
        assert_eq!(warn.mismatch.borrow().as_deref(), Some(&theirs[..]));
    }

    #[test]
    fn asked_for_the_identity_named_by_digest_the_client_sends_it_whole() {
        let id = b"distcc-compiler-id 1\nversion 12.2.0\n".to_vec();
        let session = |caps| Session {
            choice: Choice {
                caps,
                compiler_id: id.clone(),
                ..Choice::default()
            },
            record: None,
            mismatch: RefCell::new(None),
            base: RefCell::new(None),
            system: RefCell::new(None),
            unconfirmed: None,
        };
        let mut bytes = Vec::new();
        Before::IdentityWanted.encode(&mut bytes);
        Before::Heartbeat(1).encode(&mut bytes);
        bytes.extend_from_slice(b"DONE00000002");
        let by_digest = session(cap::COMPILER_ID | cap::COMPILER_ID_REF);
        let mut conn = duplex(&bytes);
        assert_eq!(
            &before_done(&mut conn, &by_digest).unwrap(),
            b"DONE00000002"
        );
        assert_eq!(conn.to, ext::encode_identity(&id));
        // Not asked for by digest: XCIQ is not ours to answer, and the
        // 3.4 reader gets it (and refuses it).
        let whole = session(cap::COMPILER_ID);
        let mut conn = duplex(&bytes);
        assert_eq!(&before_done(&mut conn, &whole).unwrap(), b"XCIQ00000000");
        assert!(conn.to.is_empty());
    }
}
