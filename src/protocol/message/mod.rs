//! Whole requests and responses (spec §1.5): encoders and "need more"
//! decoders.
//!
//! Request, v1/v2: `DIST ARGC ARGV* DOTI`.
//! Request, v3:    `DIST CDIR ARGC ARGV* NFIL (NAME (FILE|LINK))*`.
//! Response:       `DONE STAT SERR SOUT DOTO [DOTD]` (DOTD: v3 and success).
//!
//! These decoders parse from the start of the buffer every time; they are
//! cheap to re-run because they have a handful of items, bodies are only
//! copied once they are complete, and [`Decoded::NeedMore`] says how many
//! bytes to wait for. The head, which may have hundreds of thousands of
//! items, has its own incremental decoder ([`super::head`]), used here too.

use super::codec::Codec;
use super::head::HeadDecoder;
use super::token::{HEADER_LEN, Header, Token, encode_header};
use super::{Decoded, Limits, MAX_VERSION, ProtocolError, compressed, lzo, server_cpp};

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

// ---------------------------------------------------------------- encoding

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

// ---------------------------------------------------------------- decoding

/// A cursor over the received bytes that turns "not enough yet" into
/// `Ok(None)` through `?`-friendly helpers.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    limits: &'a Limits,
}

/// `Err(Stop::More(n))` = need `n` bytes in total; `Err(Stop::Bad)` = error.
enum Stop {
    More(usize),
    Bad(ProtocolError),
}

impl From<ProtocolError> for Stop {
    fn from(e: ProtocolError) -> Self {
        Self::Bad(e)
    }
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
        let start = self.pos + HEADER_LEN;
        let end = start + len as usize;
        if self.buf.len() < end {
            return Err(Stop::More(end));
        }
        self.pos = end;
        Ok(&self.buf[start..end])
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

#[cfg(test)]
mod tests {
    use super::*;

    fn req(version: u32, argv: &[&str], source: &[u8]) -> Request {
        Request {
            head: RequestHead {
                version,
                cwd: (version > 2).then(|| b"/src".to_vec()),
                argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
            },
            source: source.to_vec(),
            files: Vec::new(),
        }
    }

    #[test]
    fn every_prefix_of_a_request_needs_more() {
        let r = req(2, &["gcc", "-c", "x.c", "-o", "x.o"], b"int x;\n");
        let bytes = r.encode();
        let limits = Limits::default();
        for cut in 0..bytes.len() {
            match decode_request(&bytes[..cut], &limits).unwrap() {
                Decoded::NeedMore(n) => assert!(n > cut && n <= bytes.len(), "cut {cut} n {n}"),
                Decoded::Done(..) => panic!("complete at {cut}"),
            }
        }
        assert_eq!(
            decode_request(&bytes, &limits).unwrap(),
            Decoded::Done(r, bytes.len())
        );
    }

    #[test]
    fn head_decodes_before_the_body_arrives() {
        let r = req(1, &["gcc", "-c", "x.c"], &[b'x'; 1000]);
        let bytes = r.encode();
        let head_len = r.head.encode().len();
        let got = decode_request_head(&bytes[..head_len], &Limits::default()).unwrap();
        assert_eq!(got, Decoded::Done(r.head.clone(), head_len));
    }

    #[test]
    fn huge_lengths_are_refused_without_waiting_for_them() {
        let limits = Limits {
            max_body: 1000,
            ..Limits::default()
        };
        let mut bytes = req(1, &["gcc"], b"").head.encode();
        bytes.extend_from_slice(b"DOTIffffffff");
        assert!(matches!(
            decode_request(&bytes, &limits),
            Err(ProtocolError::TooLarge {
                token: Token::Doti,
                ..
            })
        ));
        let bytes = b"DIST00000001ARGC7fffffff";
        assert!(matches!(
            decode_request(bytes, &limits),
            Err(ProtocolError::TooLarge {
                token: Token::Argc,
                ..
            })
        ));
    }

    #[test]
    fn argc_zero_and_bad_versions_are_errors() {
        let l = Limits::default();
        assert_eq!(
            decode_request(b"DIST00000001ARGC00000000", &l),
            Err(ProtocolError::EmptyArgv)
        );
        assert_eq!(
            decode_request(b"DIST00000004", &l),
            Err(ProtocolError::BadVersion(4))
        );
        // 3.4 quirk kept: DIST 0 is served like v1.
        assert!(decode_request_head(b"DIST00000000ARGC00000001ARGV00000001x", &l).is_ok());
    }

    #[test]
    fn v3_round_trip_with_files_and_links() {
        let mut r = req(3, &["gcc", "-c", "p.c"], b"");
        r.files = vec![
            FileEntry {
                name: b"/src/p.c".to_vec(),
                kind: FileKind::File(b"int p;\n".to_vec()),
            },
            FileEntry {
                name: b"/usr/include".to_vec(),
                kind: FileKind::Link(b"../../..".to_vec()),
            },
        ];
        let bytes = r.encode();
        assert_eq!(
            decode_request(&bytes, &Limits::default()).unwrap(),
            Decoded::Done(r, bytes.len())
        );
    }

    #[test]
    fn v3_entry_must_be_file_or_link() {
        let mut bytes = req(3, &["gcc"], b"").head.encode();
        bytes.extend_from_slice(b"NFIL00000001NAME00000002/xDOTI00000000");
        assert!(matches!(
            decode_request(&bytes, &Limits::default()),
            Err(ProtocolError::UnexpectedToken {
                expected: "FILE or LINK",
                ..
            })
        ));
    }

    #[test]
    fn failed_response_sends_empty_doto_and_no_dotd() {
        let r = Response {
            version: 3,
            status: 0x100,
            stderr: b"error".to_vec(),
            object: b"ignored".to_vec(),
            ..Response::default()
        };
        let bytes = r.encode();
        assert!(bytes.ends_with(b"DOTO00000000"));
        let Decoded::Done(got, n) = decode_response(&bytes, &Limits::default(), false).unwrap()
        else {
            panic!("incomplete")
        };
        assert_eq!(n, bytes.len());
        assert_eq!(got.object, b"");
        assert_eq!(got.dotd, None);
        assert_eq!(got.stderr, b"error");
    }

    #[test]
    fn v3_success_without_dotd_is_accepted_only_at_eof() {
        let r = Response {
            version: 3,
            object: b"obj".to_vec(),
            ..Response::default()
        };
        let mut bytes = r.encode_head();
        put_bulk(&mut bytes, Token::Doto, 3, &r.object);
        let l = Limits::default();
        assert!(matches!(
            decode_response(&bytes, &l, false).unwrap(),
            Decoded::NeedMore(_)
        ));
        let Decoded::Done(got, _) = decode_response(&bytes, &l, true).unwrap() else {
            panic!("not accepted at eof")
        };
        assert_eq!(got.dotd, None);
        assert_eq!(got.object, b"obj");
    }
}
