//! What the two "need more" cursors share (3.4's messages in
//! [`super::message`], the extension's items in [`super::ext`]): how a
//! decode step stops early, and the read of a body whose length its
//! header announced. Pure.

use super::ProtocolError;
use super::token::HEADER_LEN;

/// How a decode step stops early: `More(n)`, the buffer must hold `n`
/// bytes in total; `Bad`, the bytes break the protocol.
pub(in crate::protocol) enum Stop {
    More(usize),
    Bad(ProtocolError),
}

impl From<ProtocolError> for Stop {
    fn from(e: ProtocolError) -> Self {
        Self::Bad(e)
    }
}

/// The `len` bytes after the header at `*pos` in `buf`, with `*pos`
/// moved past them; or how many bytes `buf` must hold first. The length
/// was checked against its cap by the caller.
pub(in crate::protocol) fn body<'a>(
    buf: &'a [u8],
    pos: &mut usize,
    len: u32,
) -> Result<&'a [u8], Stop> {
    let start = *pos + HEADER_LEN;
    let end = start + len as usize;
    if buf.len() < end {
        return Err(Stop::More(end));
    }
    *pos = end;
    Ok(&buf[start..end])
}
