//! The "need more" decoders: a cursor over the bytes received so far
//! that turns "not enough yet" into [`Decoded::NeedMore`] through
//! `?`-friendly helpers.

use crate::protocol::head::HeadDecoder;
use crate::protocol::step::{self, Stop};
use crate::protocol::token::{HEADER_LEN, Header, Token};
use crate::protocol::{Decoded, Limits, MAX_VERSION, ProtocolError, compressed, lzo, server_cpp};

use super::{FileEntry, FileKind, Request, RequestHead, Response};

/// A cursor over the received bytes that turns "not enough yet" into
/// `Ok(None)` through `?`-friendly helpers.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    limits: &'a Limits,
}

type Step<T> = Result<T, Stop>;

impl<'a> Cursor<'a> {
    fn int(&mut self, token: Token) -> Step<u32> {
        match Header::expect(&self.buf[self.pos..], token)? {
            None => Err(Stop::More(self.pos + HEADER_LEN)),
            Some(v) => {
                self.pos += HEADER_LEN;
                Ok(v)
            }
        }
    }

    /// Which of several tokens comes next (for v3's FILE | LINK).
    fn peek_token(&self, choices: &[Token]) -> Step<Token> {
        let Some(h) = Header::decode(&self.buf[self.pos..])? else {
            return Err(Stop::More(self.pos + HEADER_LEN));
        };
        choices
            .iter()
            .copied()
            .find(|t| t.bytes() == &h.token)
            .ok_or(Stop::Bad(ProtocolError::UnexpectedToken {
                expected: "FILE or LINK",
                got: h.token,
            }))
    }

    fn body(&mut self, token: Token, cap: u64) -> Step<&'a [u8]> {
        let len = match Header::expect(&self.buf[self.pos..], token)? {
            None => return Err(Stop::More(self.pos + HEADER_LEN)),
            Some(v) => v,
        };
        if u64::from(len) > cap {
            return Err(Stop::Bad(ProtocolError::TooLarge {
                token,
                len: len.into(),
                cap,
            }));
        }
        step::body(self.buf, &mut self.pos, len)
    }

    fn string(&mut self, token: Token) -> Step<Vec<u8>> {
        let cap = u64::from(self.limits.max_string);
        Ok(self.body(token, cap)?.to_vec())
    }

    fn bulk(&mut self, token: Token, version: u32) -> Step<Vec<u8>> {
        let max = self.limits.max_body;
        let raw = self.body(token, max)?;
        if compressed(version) {
            Ok(lzo::decompress(raw, max).map_err(ProtocolError::from)?)
        } else {
            Ok(raw.to_vec())
        }
    }

    fn count(&mut self, token: Token, cap: u32) -> Step<u32> {
        let n = self.int(token)?;
        if n > cap {
            return Err(Stop::Bad(ProtocolError::TooLarge {
                token,
                len: n.into(),
                cap: cap.into(),
            }));
        }
        Ok(n)
    }

    /// The head, through the same decoder the daemon drives
    /// incrementally (so the caps are the same).
    fn head(&mut self) -> Step<RequestHead> {
        match HeadDecoder::new(self.limits).decode(&self.buf[self.pos..])? {
            Decoded::Done(head, used) => {
                self.pos += used;
                Ok(head)
            }
            Decoded::NeedMore(n) => Err(Stop::More(self.pos + n)),
        }
    }

    /// One v3 entry, NAME then FILE or LINK, a FILE body as it came
    /// (still compressed in v3).
    fn raw_entry(&mut self) -> Step<FileEntry> {
        let name = self.string(Token::Name)?;
        let kind = match self.peek_token(&[Token::File, Token::Link])? {
            Token::File => FileKind::File(self.body(Token::File, self.limits.max_body)?.to_vec()),
            _ => FileKind::Link(self.string(Token::Link)?),
        };
        Ok(FileEntry { name, kind })
    }

    fn request(&mut self) -> Step<Request> {
        let head = self.head()?;
        let v = head.version;
        let mut source = Vec::new();
        let mut files = Vec::new();
        if server_cpp(v) {
            let n = self.count(Token::Nfil, self.limits.max_files)?;
            for _ in 0..n {
                let mut entry = self.raw_entry()?;
                if let FileKind::File(raw) = &mut entry.kind {
                    if compressed(v) {
                        *raw = lzo::decompress(raw, self.limits.max_body)
                            .map_err(ProtocolError::from)?;
                    }
                }
                files.push(entry);
            }
        } else {
            source = self.bulk(Token::Doti, v)?;
        }
        Ok(Request {
            head,
            source,
            files,
        })
    }

    fn response(&mut self, dotd_optional: bool) -> Step<Response> {
        let version = self.int(Token::Done)?;
        if version > MAX_VERSION {
            return Err(Stop::Bad(ProtocolError::BadVersion(version)));
        }
        let status = self.int(Token::Stat)?;
        let stderr = self.bulk(Token::Serr, version)?;
        let stdout = self.bulk(Token::Sout, version)?;
        let object = self.bulk(Token::Doto, version)?;
        let mut dotd = None;
        if server_cpp(version) && status == 0 {
            match self.bulk(Token::Dotd, version) {
                Ok(d) => dotd = Some(d),
                // 3.4's client accepts a reply whose DOTD never comes
                // (spec §6.12); the driver asks for that at end of stream.
                Err(Stop::More(_)) if dotd_optional && self.pos == self.buf.len() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Response {
            version,
            status,
            stderr,
            stdout,
            object,
            dotd,
        })
    }
}

fn run<T>(
    buf: &[u8],
    limits: &Limits,
    f: impl FnOnce(&mut Cursor<'_>) -> Step<T>,
) -> Result<Decoded<T>, ProtocolError> {
    let mut c = Cursor {
        buf,
        pos: 0,
        limits,
    };
    match f(&mut c) {
        Ok(v) => Ok(Decoded::Done(v, c.pos)),
        Err(Stop::More(n)) => Ok(Decoded::NeedMore(n)),
        Err(Stop::Bad(e)) => Err(e),
    }
}

/// Decode the head of a request (DIST, CDIR, ARGC, ARGV) in one go. A
/// reader that receives the head in pieces keeps a [`HeadDecoder`]
/// instead, which does not start over after every read.
pub fn decode_request_head(
    buf: &[u8],
    limits: &Limits,
) -> Result<Decoded<RequestHead>, ProtocolError> {
    HeadDecoder::new(limits).decode(buf)
}

/// Decode one v3 file entry (NAME, then FILE or LINK) from the front of
/// `buf`, leaving a FILE body compressed: the daemon reads entries one
/// batch at a time and decompresses big bodies off its event loop.
pub fn decode_raw_file_entry(
    buf: &[u8],
    limits: &Limits,
) -> Result<Decoded<FileEntry>, ProtocolError> {
    run(buf, limits, |c| c.raw_entry())
}

/// Decode a whole request.
pub fn decode_request(buf: &[u8], limits: &Limits) -> Result<Decoded<Request>, ProtocolError> {
    run(buf, limits, |c| c.request())
}

/// Decode a whole response. With `at_eof` set (the peer closed the
/// stream), a v3 success reply without DOTD is accepted, as 3.4 does.
pub fn decode_response(
    buf: &[u8],
    limits: &Limits,
    at_eof: bool,
) -> Result<Decoded<Response>, ProtocolError> {
    run(buf, limits, |c| c.response(at_eof))
}
