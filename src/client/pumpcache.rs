//! A pump job's files through the server's header cache
//! (docs/extension.md §10): send the request head and a manifest naming
//! each file by the SHA-256 of its contents, read which contents the
//! server lacks, send only those. A header the server got from an
//! earlier job (of this build, of another build, of another client with
//! the same bytes) costs its name and 32 bytes instead of its contents.
//! Nor is it read: the include cache gives its digest (checked against
//! its `stat`), so a job reads only the files the server asks for.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use tracing::debug;

use crate::client::attempt::AttemptError;
use crate::client::pumpfiles::Outgoing;
use crate::client::sentreqs::Memory;
use crate::client::transport::remote::RemoteError;
use crate::protocol::codec::Codec;
use crate::protocol::hdrcache::{self, Content, Digest, Item};
use crate::protocol::message::put_bulk_with;
use crate::protocol::reqref::{self, Answer};
use crate::protocol::token::{HEADER_LEN, Header, Token};
use crate::protocol::{Decoded, ProtocolError, RequestHead};

/// What the server's answer cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Regular files in the manifest.
    pub files: usize,
    /// Those whose contents were sent.
    pub bodies: usize,
    /// Their bytes, before compression.
    pub bytes: u64,
}

/// The manifest of `files`: each by its digest.
pub fn manifest(files: &[Outgoing]) -> Vec<Item> {
    files
        .iter()
        .map(|f| Item {
            name: f.name.clone(),
            content: Content::File(f.digest()),
        })
        .collect()
}

fn read_error(e: io::Error) -> RemoteError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => RemoteError::Io(io::Error::new(
            io::ErrorKind::TimedOut,
            "no XWNT from the server within DISTCC_IO_TIMEOUT",
        )),
        io::ErrorKind::UnexpectedEof => RemoteError::Eof("XWNT"),
        _ => RemoteError::Io(e),
    }
}

/// Read `XWNT`, answering `items`; `None` for `XMIS` when `by_ref` (the
/// server lacks a base of a request by reference).
fn read_want(
    conn: &mut impl Read,
    items: &[Item],
    by_ref: bool,
) -> Result<Option<Vec<u32>>, RemoteError> {
    let mut buf = vec![0u8; HEADER_LEN];
    conn.read_exact(&mut buf).map_err(read_error)?;
    if by_ref {
        let head: &[u8; HEADER_LEN] = buf[..].try_into().expect("12 bytes");
        if reqref::decode_answer(head).map_err(RemoteError::Protocol)? == Answer::Missing {
            return Ok(None);
        }
    }
    let len = Header::decode(&buf)
        .map_err(RemoteError::Protocol)?
        .expect("12 bytes")
        .param as usize;
    // A length other than the manifest's is refused by the decoder before
    // anything that large is read.
    if len == hdrcache::want_len(items.len() as u32) {
        buf.resize(HEADER_LEN + len, 0);
        conn.read_exact(&mut buf[HEADER_LEN..])
            .map_err(read_error)?;
    }
    match hdrcache::decode_want(&buf, items).map_err(RemoteError::Protocol)? {
        Decoded::Done(wanted, _) => Ok(Some(wanted)),
        Decoded::NeedMore(_) => unreachable!("the whole bitmap was read"),
    }
}

/// Send the request as `XREF` and `XREQ` against the bases `memory`
/// holds, and once more without bases if the server lacks one (§11); the
/// entries wanted. The server keeps the text now, and so does `memory`.
fn send_by_ref<C: Read + Write>(
    conn: &mut C,
    head: &RequestHead,
    items: &[Item],
    memory: &Memory,
    before_read: &mut impl FnMut(&mut C, Result<(), RemoteError>) -> Result<(), RemoteError>,
) -> Result<Vec<u32>, RemoteError> {
    let text = reqref::text(head, items);
    let bases = memory.bases();
    let mut refs: Vec<(Digest, &[u8])> = bases.iter().map(|(d, t)| (*d, &t[..])).collect();
    loop {
        let mut out = Vec::new();
        reqref::encode(&mut out, &refs, &text);
        let written = conn.write_all(&out).map_err(RemoteError::Io);
        before_read(conn, written)?;
        match read_want(conn, items, true)? {
            Some(wanted) => {
                debug!(
                    "pump: request by reference to {} bases: {} bytes for {} of text",
                    refs.len(),
                    out.len(),
                    text.len()
                );
                memory.keep(&text);
                return Ok(wanted);
            }
            None if !refs.is_empty() => {
                debug!("pump: the server lacks a base of the request: sending it whole");
                memory.forget();
                refs.clear();
            }
            None => {
                return Err(RemoteError::Protocol(ProtocolError::Ext {
                    token: *b"XMIS",
                    what: "an answer to a request without bases",
                }));
            }
        }
    }
}

/// Send the protocol 3 request of `argv` in `cwd` with `files` through
/// the header cache: head and manifest (by reference to earlier requests
/// with `memory`, §11), then the bodies asked for, in `codec`. A file
/// asked for that cannot be read, or no longer has the digest the
/// manifest named, fails the job here (no host is to blame).
/// `before_read` gets the connection and how writing went before each
/// answer of the server is read (a request right behind the hello reads
/// the server's offer first there, docs/extension.md §2.1).
pub fn send<C: Read + Write>(
    conn: &mut C,
    argv: &[OsString],
    cwd: &Path,
    files: &[Outgoing],
    codec: Codec,
    memory: Option<&Memory>,
    mut before_read: impl FnMut(&mut C, Result<(), RemoteError>) -> Result<(), RemoteError>,
) -> Result<Sent, AttemptError> {
    let items = manifest(files);
    let head = RequestHead {
        version: 3,
        cwd: Some(cwd.as_os_str().as_bytes().to_vec()),
        argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
    };
    let wanted = match memory {
        Some(memory) => send_by_ref(conn, &head, &items, memory, &mut before_read)?,
        None => {
            let mut out = head.encode();
            hdrcache::encode_manifest(&mut out, &items, codec);
            let written = conn.write_all(&out).map_err(RemoteError::Io);
            before_read(conn, written)?;
            read_want(conn, &items, false)?.expect("XMIS is only read by reference")
        }
    };
    let mut out = Vec::new();
    let mut bytes = 0;
    for &i in &wanted {
        let data = files[i as usize]
            .bytes(true)
            .map_err(|e| AttemptError::Local(format!("reading the files to send: {e}")))?;
        bytes += data.len() as u64;
        put_bulk_with(&mut out, Token::File, codec, &data);
    }
    conn.write_all(&out).map_err(RemoteError::Io)?;
    Ok(Sent {
        files: items.len(),
        bodies: wanted.len(),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::client::pumpfiles::Body;

    /// A connection whose reads come from `answer` and whose writes are kept.
    struct Fake {
        answer: Cursor<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Read for Fake {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.answer.read(buf)
        }
    }

    impl Write for Fake {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn files() -> Vec<Outgoing> {
        [("/w/x.c", "int x;\n"), ("/w/x.h", "#define X 1\n")]
            .into_iter()
            .map(|(name, text)| Outgoing {
                name: name.as_bytes().to_vec(),
                body: Body::Bytes(text.as_bytes().to_vec()),
            })
            .collect()
    }

    /// `gcc -c` in `/w` with `files` to a server answering `answer`: the
    /// result and the bytes written.
    fn run_with(
        files: &[Outgoing],
        answer: Vec<u8>,
        memory: Option<&Memory>,
    ) -> (Result<Sent, AttemptError>, Vec<u8>) {
        let mut conn = Fake {
            answer: Cursor::new(answer),
            written: Vec::new(),
        };
        let argv = [OsString::from("gcc"), OsString::from("-c")];
        let r = send(
            &mut conn,
            &argv,
            Path::new("/w"),
            files,
            Codec::Raw,
            memory,
            |_, written| written,
        );
        (r, conn.written)
    }

    fn run(answer: Vec<u8>, memory: Option<&Memory>) -> (Result<Sent, AttemptError>, Vec<u8>) {
        run_with(&files(), answer, memory)
    }

    #[test]
    fn only_the_contents_asked_for_are_sent() {
        let mut answer = Vec::new();
        hdrcache::encode_want(&mut answer, 2, &[1]);
        let (sent, w) = run(answer, None);
        assert_eq!(
            sent.unwrap(),
            Sent {
                files: 2,
                bodies: 1,
                bytes: 12
            }
        );
        let text = String::from_utf8_lossy(&w);
        assert!(
            text.starts_with("DIST00000003CDIR00000002/wARGC00000002"),
            "{text}"
        );
        assert!(
            text.contains("XMAN0000007cNAME00000006/w/x.cXDIG00000020"),
            "{text}"
        );
        assert!(w.ends_with(b"FILE0000000c#define X 1\n"), "{text}");
        assert!(!text.contains("int x;"), "{text}");
        // A server closing instead of answering.
        assert!(matches!(
            run(Vec::new(), None).0,
            Err(AttemptError::Host(RemoteError::Eof("XWNT")))
        ));
    }

    #[test]
    fn a_file_known_by_its_digest_is_read_only_if_asked_for_and_checked() {
        use crate::client::pumpfiles::outgoing;
        use crate::pump::includes::Known;
        let dir = std::env::temp_dir().join(format!("dcc-pumpcache-rd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let hdr = dir.join("x.h");
        std::fs::write(&hdr, "#define X 1\n").unwrap();
        // The digest comes from the include cache; the file is not read.
        let known = Known {
            digest: Digest::of(b"#define X 1\n"),
            size: 12,
        };
        let files = outgoing(std::slice::from_ref(&hdr), &[Some(known)], &[]).unwrap();
        assert!(matches!(files[0].body, Body::Unread(..)));
        let want = |w: &[u32]| {
            let mut a = Vec::new();
            hdrcache::encode_want(&mut a, 1, w);
            a
        };
        let (sent, w) = run_with(&files, want(&[]), None);
        assert_eq!(sent.unwrap().bodies, 0);
        assert!(w.windows(32).any(|x| x == known.digest.0), "digest named");
        let (sent, w) = run_with(&files, want(&[0]), None);
        assert_eq!(sent.unwrap().bytes, 12);
        assert!(w.ends_with(b"FILE0000000c#define X 1\n"));
        // Changed since its digest was recorded: the job cannot go out
        // with the manifest it sent, and no host is to blame.
        std::fs::write(&hdr, "#define X 2\n").unwrap();
        let (sent, _) = run_with(&files, want(&[0]), None);
        assert!(
            matches!(&sent, Err(AttemptError::Local(why)) if why.contains("changed while")),
            "{sent:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn by_reference_a_missing_base_means_the_request_again_without_bases() {
        let top = std::env::temp_dir().join(format!("distcc-pumpcache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&top);
        let memory = Memory::new(&top, "tcp_h_3632");
        let mut want = Vec::new();
        hdrcache::encode_want(&mut want, 2, &[]);
        // Nothing remembered: no bases; the text is kept once taken.
        let (sent, w) = run(want.clone(), Some(&memory));
        assert_eq!(sent.unwrap().bodies, 0);
        assert!(w.starts_with(b"XREF00000000XREQ"), "{w:?}");
        let bases = memory.bases();
        assert_eq!(bases.len(), 1);
        // Against it; the server lacks it: sent again without, and the
        // bases it lacked are forgotten.
        let mut answer = reqref::MISSING.to_vec();
        answer.extend_from_slice(&want);
        let (sent, w) = run(answer, Some(&memory));
        assert_eq!(sent.unwrap().bodies, 0);
        let mut first = b"XREF00000020".to_vec();
        first.extend_from_slice(&bases[0].0.0);
        assert!(w.starts_with(&first), "{w:?}");
        let again = w.windows(16).position(|x| x == b"XREF00000000XREQ");
        assert!(again.is_some(), "{w:?}");
        assert_eq!(memory.bases().len(), 1, "only the text just taken");
        // XMIS to a request without bases is a protocol error.
        memory.forget();
        let (sent, _) = run(reqref::MISSING.to_vec(), Some(&memory));
        assert!(matches!(
            sent,
            Err(AttemptError::Host(RemoteError::Protocol(_)))
        ));
        std::fs::remove_dir_all(&top).unwrap();
    }
}
