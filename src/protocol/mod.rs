//! distcc's wire protocol, versions 1, 2 and 3 (spec §1): pure code, no I/O.
//!
//! * [`token`]: the 12-byte packet header (`DIST00000001`) and its tokens.
//! * [`lzo`]: LZO1X compression of bulk bodies in protocols 2 and 3.
//! * [`codec`]: which compression a body uses: none, LZO, or zstd when
//!   our client and daemon agreed on it; [`zstd_body`]: zstd's settings
//!   by body size, and the contexts each thread keeps.
//! * [`bodybase`]: a preprocessed body as copies from a base both sides
//!   hold and the rest.
//! * [`ext`]: the extension our client and daemon negotiate
//!   (docs/extension.md): hello, choice, heartbeats, status.
//! * [`hdrcache`]: the extension's header cache: a pump job's files by
//!   digest, and which of them the server lacks.
//! * [`reqref`]: the extension's pump requests as a delta against
//!   earlier ones the server remembers.
//! * [`message`]: whole requests and responses: encoders, and decoders that
//!   take the bytes received so far and answer "need more" or a value.
//! * [`head`]: the request head, decoded incrementally (linear in its size
//!   whatever the read boundaries) under the caps of [`Limits`].
//!
//! The async daemon and the blocking client drive the same decoders
//! (style.md, example 3): each keeps a buffer, appends what it reads, and
//! calls `decode` again until it gets a value or an error.

pub mod bodybase;
pub mod codec;
pub mod ext;
pub mod hdrcache;
pub mod head;
pub mod lzo;
pub mod message;
pub mod reqref;
mod step;
pub mod token;
pub mod zstd_body;

#[cfg(test)]
mod ext_fuzz_tests;
#[cfg(test)]
mod fuzz_tests;

use std::fmt;

pub use head::HeadDecoder;
pub use message::{
    FileEntry, FileKind, Request, RequestHead, Response, decode_raw_file_entry, decode_request,
    decode_request_head, decode_response,
};
pub use token::{HEADER_LEN, Header, Token};

/// Highest protocol version distcc 3.4 speaks.
pub const MAX_VERSION: u32 = 3;

/// What a decoder makes of the bytes it was given.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<T> {
    /// A complete value and the number of bytes it used.
    Done(T, usize),
    /// Not enough bytes yet: at least this many (counted from the start of
    /// the buffer) are needed before trying again.
    NeedMore(usize),
}

/// Caps that stop a peer from making us allocate absurd amounts of memory.
/// Lengths on the wire are 32-bit, so without caps one header could ask for
/// 4 GiB, and one request for 2^32 of them. distcc 3.4 has none; these are
/// chosen so that no command line a real build can pass reaches them
/// (issue 10; distccd(1), LIMITS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk body (DOTI, DOTO, FILE, ...), compressed or not, and the
    /// largest decompressed size; also the largest total of one protocol 3
    /// request's files.
    pub max_body: u64,
    /// Largest string (ARGV, CDIR, NAME, LINK).
    pub max_string: u32,
    /// Largest ARGC.
    pub max_argc: u32,
    /// Largest request head: DIST, CDIR, ARGC and every ARGV with their
    /// headers, in bytes.
    pub max_head: u64,
    /// Largest NFIL.
    pub max_files: u32,
}

impl Default for Limits {
    /// Linux's `execve` takes at most a quarter of the stack limit of
    /// arguments and environment (2 MiB with the usual 8 MiB stack, never
    /// more than 6 MiB), at most 128 KiB per argument, and counts a pointer
    /// and a NUL per argument (9 bytes). On the wire an argument costs a
    /// 12-byte header instead, so a 6 MiB command line fits in 8 MiB of
    /// head, and one within the usual 2 MiB has fewer than 233,000
    /// arguments. The caps: 16 MiB per head, 1 MiB per argument (room for
    /// response files a client expands), 262,144 arguments. A body may be
    /// up to 2 GiB, generous enough for a 1 GiB preprocessed file (issue #2).
    fn default() -> Self {
        Self {
            max_body: 2 << 30,
            max_string: 1 << 20,
            max_argc: 1 << 18,
            max_head: 16 << 20,
            max_files: 1 << 20,
        }
    }
}

/// A request or response that does not follow the protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// A different token arrived than the one the protocol requires here.
    UnexpectedToken {
        /// What the protocol requires at this point.
        expected: &'static str,
        /// The four bytes that arrived.
        got: [u8; 4],
    },
    /// The 8 parameter bytes are not hexadecimal.
    BadHex {
        /// The token they followed.
        token: [u8; 4],
        /// The parameter bytes.
        param: [u8; 8],
    },
    /// A length or count is above the configured cap.
    TooLarge {
        /// Token carrying the length.
        token: Token,
        /// The length announced.
        len: u64,
        /// The cap it exceeded.
        cap: u64,
    },
    /// The request head would exceed [`Limits::max_head`].
    HeadTooLarge {
        /// The token whose length or count crossed the cap.
        token: Token,
        /// The smallest head size the request now needs.
        need: u64,
        /// The cap.
        cap: u64,
    },
    /// `DIST` asked for a version we do not speak.
    BadVersion(u32),
    /// `ARGC 0`: there is no compiler to run (3.4's server crashes on it).
    EmptyArgv,
    /// A compressed body could not be decompressed.
    Lzo(lzo::LzoError),
    /// A body in the extension's codec could not be decoded.
    Codec(codec::CodecError),
    /// An extension item breaks docs/extension.md.
    Ext {
        /// The item's token.
        token: [u8; 4],
        /// What is wrong with it.
        what: &'static str,
    },
    /// An extension item's length is above its cap.
    ExtTooLarge {
        /// The item's token.
        token: [u8; 4],
        /// The length announced.
        len: u32,
        /// The cap.
        cap: u32,
    },
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedToken { expected, got } => {
                write!(
                    f,
                    "protocol derailment: expected {expected}, got {:?}",
                    show(got)
                )
            }
            Self::BadHex { token, param } => write!(
                f,
                "bad parameter after {}: {:?} is not 8 hex digits",
                show(token),
                show(param)
            ),
            Self::TooLarge { token, len, cap } => {
                let unit = match token {
                    Token::Argc => "arguments",
                    Token::Nfil => "files",
                    t if t.is_bulk() => "bytes per body",
                    _ => "bytes per string",
                };
                let short = unit.split(' ').next().unwrap_or(unit);
                write!(
                    f,
                    "{token} announces {len} {short}, above the limit of {cap} {unit}"
                )
            }
            Self::HeadTooLarge { token, need, cap } => write!(
                f,
                "{token} makes the request head at least {need} bytes, \
                 above the limit of {cap} bytes per head"
            ),
            Self::BadVersion(v) => write!(f, "unsupported protocol version {v}"),
            Self::EmptyArgv => write!(f, "request has no arguments (ARGC 0)"),
            Self::Lzo(e) => write!(f, "decompression failed: {e}"),
            Self::Codec(e) => write!(f, "decompression failed: {e}"),
            Self::Ext { token, what } => write!(f, "extension item {} has {what}", show(token)),
            Self::ExtTooLarge { token, len, cap } => write!(
                f,
                "extension item {} announces {len} bytes, above the limit of {cap}",
                show(token)
            ),
        }
    }
}

impl std::error::Error for ProtocolError {}

impl From<codec::CodecError> for ProtocolError {
    fn from(e: codec::CodecError) -> Self {
        Self::Codec(e)
    }
}

impl From<lzo::LzoError> for ProtocolError {
    fn from(e: lzo::LzoError) -> Self {
        Self::Lzo(e)
    }
}

/// Printable form of raw protocol bytes for error messages.
pub(crate) fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).escape_debug().to_string()
}

/// Whether bulk bodies are LZO-compressed in this protocol version
/// (`dcc_get_features_from_protover`: compression on when v > 1).
pub const fn compressed(version: u32) -> bool {
    version > 1
}

/// Whether the server runs the preprocessor (pump mode, v > 2).
pub const fn server_cpp(version: u32) -> bool {
    version > 2
}
