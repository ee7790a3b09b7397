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

use std::fmt;

use super::codec::Codec;
use super::token::{HEADER_LEN, Header};
use super::{Decoded, ProtocolError};

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
    /// Every bit this code implements.
    pub const KNOWN: u32 = ZSTD | HEARTBEAT | STATUS | COMPILER_ID | OUTPUTS | HEADER_CACHE;
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

/// The server's load, as it reports it (`XSTA`). Unknown items are
/// skipped, missing ones are `None`: later versions may add some.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Compile slots free now (`FREE`).
    pub free: Option<u32>,
    /// Compile slots in all (`JOBS`).
    pub slots: Option<u32>,
    /// Jobs received and waiting for a slot (`QUEU`).
    pub queued: Option<u32>,
    /// One-minute load average × 100 (`LOAD`).
    pub load_centi: Option<u32>,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: Option<u32>| v.map_or("?".to_owned(), |v| v.to_string());
        write!(
            f,
            "{} of {} slots free, {} queued, load {}",
            show(self.free),
            show(self.slots),
            show(self.queued),
            self.load_centi
                .map_or("?".to_owned(), |l| format!("{}.{:02}", l / 100, l % 100))
        )
    }
}

impl Status {
    /// `XSTA` with its items.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut body = Vec::new();
        let items = [
            (b"FREE", self.free),
            (b"JOBS", self.slots),
            (b"QUEU", self.queued),
            (b"LOAD", self.load_centi),
        ];
        for (token, v) in items {
            if let Some(v) = v {
                put(&mut body, token, v);
            }
        }
        put(out, b"XSTA", body.len() as u32);
        out.extend_from_slice(&body);
    }

    fn parse(body: &[u8]) -> Result<Self, ProtocolError> {
        if body.len() % HEADER_LEN != 0 {
            return Err(bad(b"XSTA", "a body that is not whole items"));
        }
        let mut s = Self::default();
        for item in body.chunks(HEADER_LEN) {
            let h = Header::decode(item)?.expect("a whole item");
            match &h.token {
                b"FREE" => s.free = Some(h.param),
                b"JOBS" => s.slots = Some(h.param),
                b"QUEU" => s.queued = Some(h.param),
                b"LOAD" => s.load_centi = Some(h.param),
                _ => {}
            }
        }
        Ok(s)
    }
}

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

// ---------------------------------------------------------------- helpers

/// Append a header.
pub fn put(out: &mut Vec<u8>, token: &[u8; 4], param: u32) {
    out.extend_from_slice(token);
    out.extend_from_slice(format!("{param:08x}").as_bytes());
}

fn bad(token: &[u8; 4], what: &'static str) -> ProtocolError {
    ProtocolError::Ext {
        token: *token,
        what,
    }
}

enum Stop {
    More(usize),
    Bad(ProtocolError),
}

impl From<ProtocolError> for Stop {
    fn from(e: ProtocolError) -> Self {
        Self::Bad(e)
    }
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn header(&mut self, token: &'static [u8; 4]) -> Result<u32, Stop> {
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

    fn int(&mut self, token: &'static [u8; 4]) -> Result<u32, Stop> {
        let v = self.header(token)?;
        self.pos += HEADER_LEN;
        Ok(v)
    }

    fn body(&mut self, token: &'static [u8; 4], cap: u32) -> Result<&'a [u8], Stop> {
        let len = self.header(token)?;
        if len > cap {
            return Err(Stop::Bad(ProtocolError::ExtTooLarge {
                token: *token,
                len,
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
}

fn run<T>(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> Status {
        Status {
            free: Some(3),
            slots: Some(4),
            queued: Some(0),
            load_centi: Some(125),
        }
    }

    #[test]
    fn the_hello_is_a_dist_that_3_4_refuses() {
        let h = hello(VERSION);
        assert_eq!(h, b"DIST78740001");
        let param = Header::decode(&h).unwrap().unwrap().param;
        assert!(param > super::super::MAX_VERSION);
        assert_eq!(hello_version(param), Some(1));
        for v in [0, 1, 2, 3, 0x7874_0000, 0x7875_0001] {
            assert_eq!(hello_version(v), None, "{v:x}");
        }
    }

    #[test]
    fn server_hello_bytes_are_as_documented() {
        let h = ServerHello {
            version: 1,
            caps: cap::ZSTD | cap::HEARTBEAT,
            status: status(),
        };
        let bytes = h.encode();
        assert_eq!(
            bytes,
            b"XTND00000001XCAP00000003XSTA00000030\
              FREE00000003JOBS00000004QUEU00000000LOAD0000007d"
        );
        assert_eq!(
            ServerHello::decode(&bytes).unwrap(),
            Decoded::Done(h, bytes.len())
        );
        for cut in 0..bytes.len() {
            assert!(matches!(
                ServerHello::decode(&bytes[..cut]).unwrap(),
                Decoded::NeedMore(n) if n > cut
            ));
        }
        assert!(ServerHello::decode(b"XTND00000002").is_err());
        assert!(ServerHello::decode(b"DONE00000002").is_err());
    }

    #[test]
    fn unknown_status_items_are_skipped() {
        let mut bytes = Vec::new();
        put(&mut bytes, b"XSTA", 24);
        bytes.extend_from_slice(b"WHAT00000009FREE00000002");
        let Decoded::Done(Some(Before::Status(s)), n) = Before::decode(&bytes).unwrap() else {
            panic!()
        };
        assert_eq!(n, bytes.len());
        assert_eq!(s.free, Some(2));
        assert_eq!(s.slots, None);
        assert!(Before::decode(b"XSTA00000005FREE0").is_err());
    }

    #[test]
    fn the_choice_carries_what_its_bits_say() {
        let c = Choice {
            caps: cap::HEARTBEAT | cap::COMPILER_ID | cap::ZSTD,
            heartbeat_ms: 2500,
            compiler_id: b"gcc 12".to_vec(),
            compile_anyway: true,
        };
        let bytes = c.encode();
        assert_eq!(
            bytes,
            b"XCAP0000000bXHBT000009c4XCID00000006gcc 12XCIW00000001"
        );
        assert_eq!(
            Choice::decode(&bytes, cap::KNOWN).unwrap(),
            Decoded::Done(c, bytes.len())
        );
        assert!(Choice::decode(&bytes, cap::ZSTD).is_err(), "not offered");
        let mut two = bytes.clone();
        two.truncate(two.len() - 1);
        two.push(b'2');
        assert!(Choice::decode(&two, cap::KNOWN).is_err(), "XCIW 2");
        let plain = Choice::default().encode();
        assert_eq!(plain, b"XCAP00000000");
    }

    #[test]
    fn outputs_bytes_are_as_documented() {
        let mut out = Vec::new();
        let files = [(b"x.su".to_vec(), b"x.c:1:5:main\t16\tstatic\n".to_vec())];
        encode_outputs(&files, Codec::Raw, &mut out);
        assert_eq!(
            out,
            b"XOUT00000001NAME00000004x.suFILE00000017x.c:1:5:main\t16\tstatic\n"
        );
        // docs/extension.md §8's example.
        let mut zstd = Vec::new();
        let su = b"src/x.c:1:5:main\t16\tstatic\n".to_vec();
        encode_outputs(&[(b"x.su".to_vec(), su.clone())], Codec::Zstd, &mut zstd);
        assert_eq!(&zstd[..40], b"XOUT00000001NAME00000004x.suFILE00000024");
        assert_eq!(Codec::Zstd.decompress(&zstd[40..], 100).unwrap(), su);
        let mut none = Vec::new();
        encode_outputs(&[], Codec::Zstd, &mut none);
        assert_eq!(none, b"XOUT00000000");
    }

    #[test]
    fn before_done_items_round_trip_and_done_is_left_alone() {
        for b in [
            Before::Heartbeat(7),
            Before::Status(status()),
            Before::Mismatch(b"gcc 13".to_vec()),
        ] {
            let mut bytes = Vec::new();
            b.encode(&mut bytes);
            assert_eq!(
                Before::decode(&bytes).unwrap(),
                Decoded::Done(Some(b), bytes.len())
            );
        }
        assert_eq!(
            Before::decode(b"DONE00000002").unwrap(),
            Decoded::Done(None, 0)
        );
        assert_eq!(Before::decode(b"DON").unwrap(), Decoded::NeedMore(12));
        assert!(Before::decode(b"XCMMffffffff").is_err());
    }
}
