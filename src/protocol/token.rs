//! The packet header: 4 ASCII token bytes and 8 hex digits (spec §1.1, §1.2).
//!
//! The encoder writes lowercase `%08x` like 3.4's `dcc_x_token_int`; the
//! decoder accepts upper and lower case hex. 3.4 also lets C `strtoul`
//! accept a sign, spaces or `0x` inside the 8 bytes; we refuse those on
//! purpose, since no distcc ever sends them.

use std::fmt;

use super::ProtocolError;

/// Length of a packet header.
pub const HEADER_LEN: usize = 12;

/// Every token of protocols 1-3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Token {
    /// Client → server: protocol version.
    Dist,
    /// Client → server: number of argv elements.
    Argc,
    /// Client → server: one argv element.
    Argv,
    /// Client → server: the preprocessed source (v1, v2).
    Doti,
    /// Client → server: client's working directory (v3).
    Cdir,
    /// Client → server: number of NAME entries (v3).
    Nfil,
    /// Client → server: absolute path of the next file (v3).
    Name,
    /// Client → server: file content, compressed (v3).
    File,
    /// Client → server: symlink target (v3).
    Link,
    /// Server → client: protocol version echo.
    Done,
    /// Server → client: compiler wait status.
    Stat,
    /// Server → client: compiler stderr.
    Serr,
    /// Server → client: compiler stdout.
    Sout,
    /// Server → client: the object file.
    Doto,
    /// Server → client: the dependency file (v3).
    Dotd,
}

impl Token {
    /// All tokens.
    pub const ALL: [Token; 15] = [
        Self::Dist,
        Self::Argc,
        Self::Argv,
        Self::Doti,
        Self::Cdir,
        Self::Nfil,
        Self::Name,
        Self::File,
        Self::Link,
        Self::Done,
        Self::Stat,
        Self::Serr,
        Self::Sout,
        Self::Doto,
        Self::Dotd,
    ];

    /// The four bytes on the wire.
    pub const fn bytes(self) -> &'static [u8; 4] {
        match self {
            Self::Dist => b"DIST",
            Self::Argc => b"ARGC",
            Self::Argv => b"ARGV",
            Self::Doti => b"DOTI",
            Self::Cdir => b"CDIR",
            Self::Nfil => b"NFIL",
            Self::Name => b"NAME",
            Self::File => b"FILE",
            Self::Link => b"LINK",
            Self::Done => b"DONE",
            Self::Stat => b"STAT",
            Self::Serr => b"SERR",
            Self::Sout => b"SOUT",
            Self::Doto => b"DOTO",
            Self::Dotd => b"DOTD",
        }
    }

    /// The token with these bytes, if any.
    pub fn from_bytes(bytes: &[u8; 4]) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.bytes() == bytes)
    }

    /// Whether a body of `param` bytes follows the header.
    pub const fn has_body(self) -> bool {
        !matches!(
            self,
            Self::Dist | Self::Argc | Self::Nfil | Self::Done | Self::Stat
        )
    }

    /// Whether the body is a bulk file (compressed in v2/v3) rather than a
    /// plain string.
    pub const fn is_bulk(self) -> bool {
        matches!(
            self,
            Self::Doti | Self::File | Self::Serr | Self::Sout | Self::Doto | Self::Dotd
        )
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(self.bytes()).unwrap_or("????"))
    }
}

/// A decoded packet header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The raw token bytes.
    pub token: [u8; 4],
    /// The parameter: a number, or the length of the body that follows.
    pub param: u32,
}

impl Header {
    /// Decode a header from the front of `buf`; `Ok(None)` when fewer than
    /// 12 bytes are available.
    pub fn decode(buf: &[u8]) -> Result<Option<Self>, ProtocolError> {
        let Some(head) = buf.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let token: [u8; 4] = head[..4].try_into().expect("4 bytes");
        let param_bytes: [u8; 8] = head[4..].try_into().expect("8 bytes");
        let param = parse_hex(&param_bytes).ok_or(ProtocolError::BadHex {
            token,
            param: param_bytes,
        })?;
        Ok(Some(Self { token, param }))
    }

    /// Decode a header that must carry `expected`.
    pub fn expect(buf: &[u8], expected: Token) -> Result<Option<u32>, ProtocolError> {
        match Self::decode_unchecked_token(buf)? {
            None => Ok(None),
            Some(h) if &h.token == expected.bytes() => Ok(Some(h.param)),
            Some(h) => Err(ProtocolError::UnexpectedToken {
                expected: token_name(expected),
                got: h.token,
            }),
        }
    }

    /// Like [`Header::decode`], but a wrong token is reported before bad hex,
    /// which gives the clearer message for garbage input.
    fn decode_unchecked_token(buf: &[u8]) -> Result<Option<Self>, ProtocolError> {
        if buf.len() < HEADER_LEN {
            return Ok(None);
        }
        Self::decode(buf)
    }
}

fn token_name(t: Token) -> &'static str {
    std::str::from_utf8(t.bytes()).unwrap_or("?")
}

fn parse_hex(bytes: &[u8; 8]) -> Option<u32> {
    let mut n: u32 = 0;
    for &b in bytes {
        let d = (b as char).to_digit(16)?;
        n = (n << 4) | d;
    }
    Some(n)
}

/// Append a header with `param` as 8 lowercase hex digits.
pub fn encode_header(out: &mut Vec<u8>, token: Token, param: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(token.bytes());
    // By hand rather than format!: no allocation, and the daemon writes
    // six of these per job (it showed in profiles).
    let mut digits = [0u8; 8];
    for (i, d) in digits.iter_mut().enumerate() {
        *d = HEX[((param >> (28 - 4 * i)) & 0xf) as usize];
    }
    out.extend_from_slice(&digits);
}

/// The 12 header bytes for `token` and `param`.
pub fn header_bytes(token: Token, param: u32) -> [u8; HEADER_LEN] {
    let mut out = Vec::with_capacity(HEADER_LEN);
    encode_header(&mut out, token, param);
    out.try_into().expect("header is 12 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_lowercase_zero_padded() {
        assert_eq!(&header_bytes(Token::Doto, 0x450), b"DOTO00000450");
        assert_eq!(&header_bytes(Token::Stat, 0xdeadbeef), b"STATdeadbeef");
    }

    #[test]
    fn decodes_either_case() {
        let h = Header::decode(b"STATDEADbeef").unwrap().unwrap();
        assert_eq!(
            h,
            Header {
                token: *b"STAT",
                param: 0xdeadbeef
            }
        );
    }

    #[test]
    fn short_input_needs_more() {
        assert_eq!(Header::decode(b"DIST0000000"), Ok(None));
        assert_eq!(Header::expect(b"DI", Token::Dist), Ok(None));
    }

    #[test]
    fn refuses_non_hex_and_strtoul_oddities() {
        for bad in [
            &b"DIST 0000001"[..],
            b"DIST0x000001",
            b"DIST+0000001",
            b"DISTzzzzzzzz",
        ] {
            assert!(
                matches!(Header::decode(bad), Err(ProtocolError::BadHex { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn wrong_token_is_a_derailment() {
        let err = Header::expect(b"ARGC00000001", Token::Dist).unwrap_err();
        assert_eq!(
            err,
            ProtocolError::UnexpectedToken {
                expected: "DIST",
                got: *b"ARGC"
            }
        );
        assert!(err.to_string().contains("expected DIST"));
    }

    #[test]
    fn token_table_round_trips() {
        for t in Token::ALL {
            assert_eq!(Token::from_bytes(t.bytes()), Some(t));
        }
        assert_eq!(Token::from_bytes(b"TLEN"), None);
    }
}
