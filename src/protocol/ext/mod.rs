//! The extension between our client and our daemon (docs/extension.md):
//! the hello, the client's choice, what the server may send before
//! `DONE` (heartbeats, its status, a compiler mismatch) and the side
//! output files after it (`XOUT`). Pure encoders and "need more" decoders like
//! [`super::message`]'s; the 3.4 request and reply in between are
//! unchanged but for the codec of their bodies ([`super::codec`]).
//!
//! Every item is a 3.4-style header (4 ASCII bytes, 8 hex digits),
//! followed by a body when its parameter is a length. Tokens are raw
//! bytes here: they never occur in protocols 1-3, and keeping them out of
//! [`super::Token`] keeps the 3.4 decoders' token set exactly 3.4's.
//!
//! Here: the version, the capability bits, the caps and the hello. By
//! responsibility below: `status` (`XSTA`), `negotiate` (the server's offer
//! and the client's choice), `reply` (what comes before `DONE` and `XOUT`
//! after the reply) and `wire` (the header framing and the decoders' cursor).

mod negotiate;
mod reply;
mod status;
pub mod syslist;
mod wire;

pub use negotiate::{Choice, NOT_OFFERED, ServerHello, decode_identity, encode_identity};
pub use reply::{Before, MAX_OUTPUT_NAME, MAX_OUTPUTS, encode_outputs};
pub use status::Status;
pub(super) use wire::bad;
pub use wire::put;

use super::token::HEADER_LEN;

/// The extension version this code speaks.
pub const VERSION: u32 = 1;

/// The hello's `DIST` parameter is `HELLO_MAGIC | version`: far above 3,
/// so a 3.4 server closes the connection after these 12 bytes (spec
/// §1.8), and recognisable by its top 16 bits (ASCII "xt").
pub const HELLO_MAGIC: u32 = 0x7874_0000;

/// Capability bits (`XCAP`). A server offers what it supports, the client
/// picks a subset; a bit a side does not know is never offered or picked.
pub mod cap {
    /// Bulk bodies are zstd frames instead of LZO.
    pub const ZSTD: u32 = 1 << 0;
    /// `XBEA` heartbeats while the compiler runs (client sends `XHBT`).
    pub const HEARTBEAT: u32 = 1 << 1;
    /// `XSTA`, the server's status, before `DONE`.
    pub const STATUS: u32 = 1 << 2;
    /// The client sends `XCID`; the server compiles only with the same
    /// compiler, else answers `XCMM`.
    pub const COMPILER_ID: u32 = 1 << 3;
    /// `XOUT`: every output file comes back after `DOTO`.
    pub const OUTPUTS: u32 = 1 << 4;
    /// Reserved for authentication (issue 14).
    pub const RESERVED_AUTH: u32 = 1 << 5;
    /// Protocol 3 requests list their files by digest (`XMAN`); the
    /// server asks for the contents it lacks (`XWNT`).
    pub const HEADER_CACHE: u32 = 1 << 6;
    /// With `OUTPUTS`: protocol 3 (pump mode) replies carry the side
    /// outputs in `XOUT` too (without it, their `XOUT` is empty).
    pub const PUMP_OUTPUTS: u32 = 1 << 7;
    /// With `ZSTD` and `HEADER_CACHE`: a protocol 3 request's head and
    /// manifest as one frame compressed against earlier requests the
    /// server remembers (`XREF`, `XREQ`; `XMIS` when it lacks one).
    pub const REQUEST_REF: u32 = 1 << 8;
    /// With `COMPILER_ID`: the choice names the client's identity by its
    /// SHA-256 (`XCIR`); a server that does not hold it asks (`XCIQ`) and
    /// the client sends it whole (`XCID`).
    pub const COMPILER_ID_REF: u32 = 1 << 9;
    /// With `ZSTD`: a protocol 2 `DOTI` may be a delta against a base
    /// named by its SHA-256 (`XBAS`); a server that does not hold it asks
    /// (`XBAQ`) and the client sends it (`XBAD`).
    pub const BODY_BASE: u32 = 1 << 10;
    /// Protocol 3 (pump mode): the choice names the lists of system
    /// headers the client verified (`XSYK`); a success's reply lists the
    /// files outside the mirror its compile read (`XSYS`, `XSYL`).
    pub const SYSTEM_HEADERS: u32 = 1 << 11;
    /// Every bit this code implements.
    pub const KNOWN: u32 = ZSTD
        | HEARTBEAT
        | STATUS
        | COMPILER_ID
        | OUTPUTS
        | HEADER_CACHE
        | PUMP_OUTPUTS
        | REQUEST_REF
        | COMPILER_ID_REF
        | BODY_BASE
        | SYSTEM_HEADERS;
}

/// Longest compiler identity (`XCID`, `XCMM`) accepted.
pub const MAX_ID: u32 = 4096;
/// Longest status body (`XSTA`) accepted.
pub const MAX_STATUS: u32 = 64 * HEADER_LEN as u32;
/// Shortest heartbeat interval a server honours, in milliseconds.
pub const MIN_HEARTBEAT_MS: u32 = 100;

/// The 12 bytes of the client's hello for extension `version`.
pub fn hello(version: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN);
    put(&mut out, b"DIST", HELLO_MAGIC | (version & 0xffff));
    out
}

/// The extension version a `DIST` parameter asks for, if it is a hello.
pub const fn hello_version(dist_param: u32) -> Option<u32> {
    if dist_param & 0xffff_0000 == HELLO_MAGIC && dist_param & 0xffff != 0 {
        Some(dist_param & 0xffff)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
