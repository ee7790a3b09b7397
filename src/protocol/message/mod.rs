//! Whole requests and responses (spec §1.5): encoders and "need more"
//! decoders.
//!
//! Request, v1/v2: `DIST ARGC ARGV* DOTI`.
//! Request, v3:    `DIST CDIR ARGC ARGV* NFIL (NAME (FILE|LINK))*`.
//! Response:       `DONE STAT SERR SOUT DOTO [DOTD]` (DOTD: v3 and success).
//!
//! These decoders parse from the start of the buffer every time; they are
//! cheap to re-run because they have a handful of items, bodies are only
//! copied once they are complete, and
//! [`Decoded::NeedMore`](super::Decoded::NeedMore) says how many bytes to
//! wait for. The head, which may have hundreds of thousands of items, has
//! its own incremental decoder ([`super::head`]), used here too.
//!
//! Here: the messages' types; `encode` writes them, `decode` reads them.

mod decode;
mod encode;

pub use decode::{decode_raw_file_entry, decode_request, decode_request_head, decode_response};
pub use encode::{put_bulk, put_bulk_with};

/// The part of a request that comes before the source: enough to decide
/// whether to accept the job before its (possibly large) body arrives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// Protocol version from DIST.
    pub version: u32,
    /// Client's working directory (v3 only).
    pub cwd: Option<Vec<u8>>,
    /// The compiler command line, `argv[0]` first.
    pub argv: Vec<Vec<u8>>,
}

/// One file of a v3 request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// Absolute path on the client.
    pub name: Vec<u8>,
    /// Content or link target.
    pub kind: FileKind,
}

/// What a v3 NAME stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file (decompressed content).
    File(Vec<u8>),
    /// A symlink with this target text.
    Link(Vec<u8>),
}

/// A complete compile request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Version, working directory and argv.
    pub head: RequestHead,
    /// v1/v2: the preprocessed source (decompressed).
    pub source: Vec<u8>,
    /// v3: the files the include server listed.
    pub files: Vec<FileEntry>,
}

/// A complete compile response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// Protocol version echoed in DONE.
    pub version: u32,
    /// The compiler's wait status.
    pub status: u32,
    /// Compiler stderr (plus server warnings).
    pub stderr: Vec<u8>,
    /// Compiler stdout.
    pub stdout: Vec<u8>,
    /// The object file (empty on failure).
    pub object: Vec<u8>,
    /// The dependency file (v3 success only).
    pub dotd: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests;
