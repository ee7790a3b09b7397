//! The negotiation after the client's hello: the server's offer
//! ([`ServerHello`]) and what the client takes of it ([`Choice`]).

use super::syslist::MAX_KNOWN;
use super::wire::{Stop, bad, put, run};
use super::{MAX_ID, MAX_STATUS, Status, VERSION, cap};
use crate::protocol::hdrcache::{DIGEST_LEN, Digest};
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
/// heartbeats, then `XCID` (or, with `COMPILER_ID_REF`, `XCIR`) and
/// `XCIW` when it picked the compiler check, then `XSYK` with
/// `SYSTEM_HEADERS`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Choice {
    /// The capabilities in use for this connection.
    pub caps: u32,
    /// Heartbeat interval asked for, in milliseconds.
    pub heartbeat_ms: u32,
    /// The client's compiler identity: the client's own (sent whole, or
    /// by digest with `COMPILER_ID_REF`); on the server, what `XCID`
    /// carried, empty when `XCIR` named it.
    pub compiler_id: Vec<u8>,
    /// What `XCIR` named, as decoded (the encoder sends the digest of
    /// `compiler_id` when that is not empty).
    pub compiler_digest: Option<Digest>,
    /// `XCIW 1`: on a mismatch, compile anyway and send `XCMM` before the
    /// reply (`DISTCC_COMPILER_CHECK=warn`); `XCIW 0`: do not compile.
    pub compile_anyway: bool,
    /// With `SYSTEM_HEADERS`: the digests of the lists of system headers
    /// the client verified lately (`XSYK`, at most [`MAX_KNOWN`]).
    pub sys_known: Vec<Digest>,
}

/// What a choice with a bit the server did not offer has: a client that
/// picked from a remembered offer the server no longer makes
/// (docs/extension.md §2.1), which asks again on a new connection.
pub const NOT_OFFERED: &str = "a capability not offered";

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
            if self.has(cap::COMPILER_ID_REF) {
                let digest = match (&self.compiler_digest, self.compiler_id.is_empty()) {
                    (Some(d), true) => *d,
                    _ => Digest::of(&self.compiler_id),
                };
                put(&mut out, b"XCIR", DIGEST_LEN as u32);
                out.extend_from_slice(&digest.0);
            } else {
                out.extend(encode_identity(&self.compiler_id));
            }
            put(&mut out, b"XCIW", u32::from(self.compile_anyway));
        }
        if self.has(cap::SYSTEM_HEADERS) {
            let known = &self.sys_known[..self.sys_known.len().min(MAX_KNOWN)];
            put(&mut out, b"XSYK", (known.len() * DIGEST_LEN) as u32);
            for d in known {
                out.extend_from_slice(&d.0);
            }
        }
        out
    }

    /// Decode it from the front of `buf`; a bit the server did not
    /// `offer` is an error.
    pub fn decode(buf: &[u8], offered: u32) -> Result<Decoded<Self>, ProtocolError> {
        run(buf, |c| {
            let caps = c.int(b"XCAP")?;
            if caps & !offered != 0 {
                return Err(Stop::Bad(bad(b"XCAP", NOT_OFFERED)));
            }
            let mut choice = Self {
                caps,
                ..Self::default()
            };
            if choice.has(cap::HEARTBEAT) {
                choice.heartbeat_ms = c.int(b"XHBT")?;
            }
            if choice.has(cap::COMPILER_ID) && choice.has(cap::COMPILER_ID_REF) {
                let body = c.body(b"XCIR", DIGEST_LEN as u32)?;
                let digest = <[u8; DIGEST_LEN]>::try_from(body)
                    .map_err(|_| Stop::Bad(bad(b"XCIR", "a digest of other than 32 bytes")))?;
                choice.compiler_digest = Some(Digest(digest));
            } else if choice.has(cap::COMPILER_ID) {
                choice.compiler_id = c.body(b"XCID", MAX_ID)?.to_vec();
            }
            if choice.has(cap::COMPILER_ID) {
                choice.compile_anyway = match c.int(b"XCIW")? {
                    0 => false,
                    1 => true,
                    _ => return Err(Stop::Bad(bad(b"XCIW", "a value other than 0 or 1"))),
                };
            }
            if choice.has(cap::SYSTEM_HEADERS) {
                let body = c.body(b"XSYK", (MAX_KNOWN * DIGEST_LEN) as u32)?;
                if body.len() % DIGEST_LEN != 0 {
                    return Err(Stop::Bad(bad(b"XSYK", "a length not a multiple of 32")));
                }
                choice.sys_known = body
                    .chunks(DIGEST_LEN)
                    .map(|d| Digest(d.try_into().expect("32 bytes")))
                    .collect();
            }
            Ok(choice)
        })
    }
}

/// `XCID <len> <identity>`: the identity whole, in the choice or as the
/// answer to the server's `XCIQ`.
pub fn encode_identity(id: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + id.len());
    put(&mut out, b"XCID", id.len() as u32);
    out.extend_from_slice(id);
    out
}

/// Decode `XCID` from the front of `buf` (the answer to `XCIQ`).
pub fn decode_identity(buf: &[u8]) -> Result<Decoded<Vec<u8>>, ProtocolError> {
    run(buf, |c| Ok(c.body(b"XCID", MAX_ID)?.to_vec()))
}
