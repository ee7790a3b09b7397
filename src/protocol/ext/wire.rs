//! The items' framing: appending a header, and the cursor the "need
//! more" decoders read headers and bounded bodies with.

use crate::protocol::token::{HEADER_LEN, Header};
use crate::protocol::{Decoded, ProtocolError, step};

/// Append a header.
pub fn put(out: &mut Vec<u8>, token: &[u8; 4], param: u32) {
    out.extend_from_slice(token);
    out.extend_from_slice(format!("{param:08x}").as_bytes());
}

/// An extension item that breaks docs/extension.md.
pub(in crate::protocol) fn bad(token: &[u8; 4], what: &'static str) -> ProtocolError {
    ProtocolError::Ext {
        token: *token,
        what,
    }
}

pub(super) use crate::protocol::step::Stop;

pub(super) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn header(&mut self, token: &'static [u8; 4]) -> Result<u32, Stop> {
        let Some(h) = Header::decode(&self.buf[self.pos..])? else {
            return Err(Stop::More(self.pos + HEADER_LEN));
        };
        if &h.token != token {
            return Err(Stop::Bad(ProtocolError::UnexpectedToken {
                expected: std::str::from_utf8(token).unwrap_or("?"),
                got: h.token,
            }));
        }
        Ok(h.param)
    }

    pub(super) fn int(&mut self, token: &'static [u8; 4]) -> Result<u32, Stop> {
        let v = self.header(token)?;
        self.pos += HEADER_LEN;
        Ok(v)
    }

    pub(super) fn body(&mut self, token: &'static [u8; 4], cap: u32) -> Result<&'a [u8], Stop> {
        let len = self.header(token)?;
        if len > cap {
            return Err(Stop::Bad(ProtocolError::ExtTooLarge {
                token: *token,
                len,
                cap,
            }));
        }
        step::body(self.buf, &mut self.pos, len)
    }
}

pub(super) fn run<T>(
    buf: &[u8],
    f: impl FnOnce(&mut Cursor<'_>) -> Result<T, Stop>,
) -> Result<Decoded<T>, ProtocolError> {
    let mut c = Cursor { buf, pos: 0 };
    match f(&mut c) {
        Ok(v) => Ok(Decoded::Done(v, c.pos)),
        Err(Stop::More(n)) => Ok(Decoded::NeedMore(n)),
        Err(Stop::Bad(e)) => Err(e),
    }
}
