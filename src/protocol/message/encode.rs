//! The encoders: requests and responses as 3.4 sends them, bulk bodies
//! in the protocol's codec.

use crate::protocol::codec::Codec;
use crate::protocol::server_cpp;
use crate::protocol::token::{Token, encode_header};

use super::{FileKind, Request, RequestHead, Response};

fn put_int(out: &mut Vec<u8>, token: Token, value: u32) {
    encode_header(out, token, value);
}

fn put_string(out: &mut Vec<u8>, token: Token, body: &[u8]) {
    encode_header(out, token, body.len() as u32);
    out.extend_from_slice(body);
}

/// Append a bulk body: LZO-compressed when `version` says so, and never
/// compressed when empty.
pub fn put_bulk(out: &mut Vec<u8>, token: Token, version: u32, body: &[u8]) {
    put_bulk_with(out, token, Codec::for_version(version), body);
}

/// Append a bulk body in `codec`.
pub fn put_bulk_with(out: &mut Vec<u8>, token: Token, codec: Codec, body: &[u8]) {
    match codec {
        Codec::Raw => put_string(out, token, body),
        c => put_string(out, token, &c.compress(body)),
    }
}

impl RequestHead {
    /// Encode DIST, CDIR (v3) and ARGC/ARGV: what the client sends as soon
    /// as it is connected, while cpp may still run.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_int(&mut out, Token::Dist, self.version);
        if server_cpp(self.version) {
            put_string(&mut out, Token::Cdir, self.cwd.as_deref().unwrap_or(b"/"));
        }
        put_int(&mut out, Token::Argc, self.argv.len() as u32);
        for arg in &self.argv {
            put_string(&mut out, Token::Argv, arg);
        }
        out
    }
}

impl Request {
    /// Encode the whole request.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_with(Codec::for_version(self.head.version))
    }

    /// Encode the whole request with bodies in `codec` (the extension's
    /// zstd).
    pub fn encode_with(&self, codec: Codec) -> Vec<u8> {
        let mut out = self.head.encode();
        if server_cpp(self.head.version) {
            put_int(&mut out, Token::Nfil, self.files.len() as u32);
            for f in &self.files {
                put_string(&mut out, Token::Name, &f.name);
                match &f.kind {
                    FileKind::File(data) => put_bulk_with(&mut out, Token::File, codec, data),
                    FileKind::Link(target) => put_string(&mut out, Token::Link, target),
                }
            }
        } else {
            put_bulk_with(&mut out, Token::Doti, codec, &self.source);
        }
        out
    }
}

impl Response {
    /// Encode the whole response. On failure (`status != 0`) the object is
    /// sent empty and no DOTD follows, as 3.4 does.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.encode_head();
        self.encode_object(&mut out);
        out
    }

    /// DONE, STAT, SERR and SOUT.
    pub fn encode_head(&self) -> Vec<u8> {
        self.encode_head_with(Codec::for_version(self.version))
    }

    /// DONE, STAT, SERR and SOUT with bodies in `codec`.
    pub fn encode_head_with(&self, codec: Codec) -> Vec<u8> {
        let mut out = Vec::new();
        put_int(&mut out, Token::Done, self.version);
        put_int(&mut out, Token::Stat, self.status);
        put_bulk_with(&mut out, Token::Serr, codec, &self.stderr);
        put_bulk_with(&mut out, Token::Sout, codec, &self.stdout);
        out
    }

    /// DOTO and, for v3 success, DOTD.
    pub fn encode_object(&self, out: &mut Vec<u8>) {
        self.encode_object_with(out, Codec::for_version(self.version));
    }

    /// DOTO and, for v3 success, DOTD, with bodies in `codec`.
    pub fn encode_object_with(&self, out: &mut Vec<u8>, codec: Codec) {
        if self.status == 0 {
            put_bulk_with(out, Token::Doto, codec, &self.object);
            if server_cpp(self.version) {
                put_bulk_with(out, Token::Dotd, codec, self.dotd.as_deref().unwrap_or(b""));
            }
        } else {
            put_int(out, Token::Doto, 0);
        }
    }
}
