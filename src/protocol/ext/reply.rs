//! What the server sends around the 3.4 reply: the items before `DONE`
//! ([`Before`]) and the side output files after it (`XOUT`).

use super::syslist::{MAX_KNOWN, MAX_LIST};
use super::wire::{Stop, bad, put, run};
use super::{MAX_ID, MAX_STATUS, Status};
use crate::protocol::codec::Codec;
use crate::protocol::token::{HEADER_LEN, Header};
use crate::protocol::{Decoded, ProtocolError};

/// What the server may send before `DONE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Before {
    /// `XBEA`: the compiler still runs, for this many seconds now.
    Heartbeat(u32),
    /// `XSTA`: the server's status as the job ends.
    Status(Status),
    /// `XCMM`: the server's compiler differs (its identity). Unless the
    /// client chose `XCIW 1`, the job was not compiled and nothing else
    /// follows.
    Mismatch(Vec<u8>),
    /// `XCIQ`: the server does not hold the identity the choice named by
    /// digest (`XCIR`); the client answers `XCID` with it whole.
    IdentityWanted,
    /// `XBAQ`: the server does not hold the base `XBAS` named; the
    /// client answers `XBAD` with it (docs/extension.md §12).
    BaseWanted,
    /// `XSYS <i>`: the system headers the compile read are the list the
    /// choice's `XSYK` named `i`-th (0 first).
    SystemKnown(u32),
    /// `XSYL <len> <body>`: the system headers the compile read, the
    /// list's text ([`super::syslist`]) as a body in the agreed codec.
    SystemList(Vec<u8>),
}

impl Before {
    /// Encode it.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Heartbeat(secs) => put(out, b"XBEA", *secs),
            Self::Status(s) => s.encode(out),
            Self::Mismatch(id) => {
                put(out, b"XCMM", id.len() as u32);
                out.extend_from_slice(id);
            }
            Self::IdentityWanted => put(out, b"XCIQ", 0),
            Self::BaseWanted => put(out, b"XBAQ", 0),
            Self::SystemKnown(i) => put(out, b"XSYS", *i),
            Self::SystemList(body) => {
                put(out, b"XSYL", body.len() as u32);
                out.extend_from_slice(body);
            }
        }
    }

    /// Decode the next item from the front of `buf`: `Done(None, 0)` when
    /// it is not one of these (the 3.4 reply starts there).
    pub fn decode(buf: &[u8]) -> Result<Decoded<Option<Self>>, ProtocolError> {
        let Some(h) = Header::decode(buf)? else {
            return Ok(Decoded::NeedMore(HEADER_LEN));
        };
        let item = run(buf, |c| match &h.token {
            b"XBEA" => Ok(Some(Self::Heartbeat(c.int(b"XBEA")?))),
            b"XSTA" => Ok(Some(Self::Status(Status::parse(
                c.body(b"XSTA", MAX_STATUS)?,
            )?))),
            b"XCMM" => Ok(Some(Self::Mismatch(c.body(b"XCMM", MAX_ID)?.to_vec()))),
            b"XCIQ" => match c.int(b"XCIQ")? {
                0 => Ok(Some(Self::IdentityWanted)),
                _ => Err(Stop::Bad(bad(b"XCIQ", "a parameter other than 0"))),
            },
            b"XBAQ" => match c.int(b"XBAQ")? {
                0 => Ok(Some(Self::BaseWanted)),
                _ => Err(Stop::Bad(bad(b"XBAQ", "a parameter other than 0"))),
            },
            b"XSYS" => match c.int(b"XSYS")? {
                i if (i as usize) < MAX_KNOWN => Ok(Some(Self::SystemKnown(i))),
                _ => Err(Stop::Bad(bad(b"XSYS", "an index above XSYK's"))),
            },
            b"XSYL" => Ok(Some(Self::SystemList(c.body(b"XSYL", MAX_LIST)?.to_vec()))),
            _ => Ok(None),
        })?;
        Ok(item)
    }
}

/// Most files one `XOUT` may carry.
pub const MAX_OUTPUTS: u32 = 16;
/// Longest file name in `XOUT`.
pub const MAX_OUTPUT_NAME: u32 = 255;

/// `XOUT <n>`, then per file `NAME <len> <name>` and `FILE <len> <body>`
/// with the body in `codec` (docs/extension.md §8).
pub fn encode_outputs(files: &[(Vec<u8>, Vec<u8>)], codec: Codec, out: &mut Vec<u8>) {
    put(out, b"XOUT", files.len() as u32);
    for (name, body) in files {
        put(out, b"NAME", name.len() as u32);
        out.extend_from_slice(name);
        let body = codec.compress(body);
        put(out, b"FILE", body.len() as u32);
        out.extend_from_slice(&body);
    }
}
