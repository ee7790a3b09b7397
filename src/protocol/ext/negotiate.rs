//! The negotiation after the client's hello: the server's offer
//! ([`ServerHello`]) and what the client takes of it ([`Choice`]).

use super::wire::{Stop, bad, put, run};
use super::{MAX_ID, MAX_STATUS, Status, VERSION, cap};
use crate::protocol::{Decoded, ProtocolError};

/// The server's answer to a hello: `XTND`, `XCAP`, `XSTA`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerHello {
    /// The version both speak: at most the client's.
    pub version: u32,
    /// What the server offers.
    pub caps: u32,
    /// Its load now.
    pub status: Status,
}

impl ServerHello {
    /// Encode it.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put(&mut out, b"XTND", self.version);
        put(&mut out, b"XCAP", self.caps);
        self.status.encode(&mut out);
        out
    }

    /// Decode it from the front of `buf`.
    pub fn decode(buf: &[u8]) -> Result<Decoded<Self>, ProtocolError> {
        run(buf, |c| {
            let version = c.int(b"XTND")?;
            if version == 0 || version > VERSION {
                return Err(Stop::Bad(ProtocolError::BadVersion(version)));
            }
            let caps = c.int(b"XCAP")?;
            let status = Status::parse(c.body(b"XSTA", MAX_STATUS)?)?;
            Ok(Self {
                version,
                caps,
                status,
            })
        })
    }
}

/// What the client takes of the offer: `XCAP`, then `XHBT` when it picked
/// heartbeats, then `XCID` and `XCIW` when it picked the compiler check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Choice {
    /// The capabilities in use for this connection.
    pub caps: u32,
    /// Heartbeat interval asked for, in milliseconds.
    pub heartbeat_ms: u32,
    /// The client's compiler identity.
    pub compiler_id: Vec<u8>,
    /// `XCIW 1`: on a mismatch, compile anyway and send `XCMM` before the
    /// reply (`DISTCC_COMPILER_CHECK=warn`); `XCIW 0`: do not compile.
    pub compile_anyway: bool,
}

impl Choice {
    /// Whether `bit` is in use.
    pub const fn has(&self, bit: u32) -> bool {
        self.caps & bit != 0
    }

    /// Encode it.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put(&mut out, b"XCAP", self.caps);
        if self.has(cap::HEARTBEAT) {
            put(&mut out, b"XHBT", self.heartbeat_ms);
        }
        if self.has(cap::COMPILER_ID) {
            put(&mut out, b"XCID", self.compiler_id.len() as u32);
            out.extend_from_slice(&self.compiler_id);
            put(&mut out, b"XCIW", u32::from(self.compile_anyway));
        }
        out
    }

    /// Decode it from the front of `buf`; a bit the server did not
    /// `offer` is an error.
    pub fn decode(buf: &[u8], offered: u32) -> Result<Decoded<Self>, ProtocolError> {
        run(buf, |c| {
            let caps = c.int(b"XCAP")?;
            if caps & !offered != 0 {
                return Err(Stop::Bad(bad(b"XCAP", "a capability not offered")));
            }
            let mut choice = Self {
                caps,
                ..Self::default()
            };
            if choice.has(cap::HEARTBEAT) {
                choice.heartbeat_ms = c.int(b"XHBT")?;
            }
            if choice.has(cap::COMPILER_ID) {
                choice.compiler_id = c.body(b"XCID", MAX_ID)?.to_vec();
                choice.compile_anyway = match c.int(b"XCIW")? {
                    0 => false,
                    1 => true,
                    _ => return Err(Stop::Bad(bad(b"XCIW", "a value other than 0 or 1"))),
                };
            }
            Ok(choice)
        })
    }
}
