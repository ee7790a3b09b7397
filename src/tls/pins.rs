//! Pinned keys, the pure part (issue 14): fingerprints of Ed25519 public
//! keys and the two trust files, in the spirit of ssh's `authorized_keys`
//! and `known_hosts`.
//!
//! * A fingerprint is `SHA256:` and the unpadded base64 of the SHA-256 of
//!   the key's SubjectPublicKeyInfo (the raw public key of RFC 7250, as
//!   sent in the handshake) — the form `ssh-keygen -l` prints.
//! * `authorized_clients` (daemon): one fingerprint a line, then an
//!   optional comment; `#` starts a comment line.
//! * `known_daemons` (client): `HOST FINGERPRINT [comment]`, where HOST is
//!   a name as written in the host list, or `HOST:PORT` for one port only.
//!   Several lines for one host pin several keys (a key being replaced).
//!
//! Text in, values out: reading and writing the files is the caller's.

use std::fmt;
use std::str::FromStr;

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE
/// { SEQUENCE { OID 1.3.101.112 }, BIT STRING (32 bytes) }.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The SubjectPublicKeyInfo of an Ed25519 public key.
pub fn ed25519_spki(public: &[u8; 32]) -> Vec<u8> {
    let mut der = ED25519_SPKI_PREFIX.to_vec();
    der.extend_from_slice(public);
    der
}

/// The SHA-256 of a public key's SubjectPublicKeyInfo.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a SubjectPublicKeyInfo (DER).
    pub fn of_spki(spki: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, spki);
        let mut out = [0; 32];
        out.copy_from_slice(digest.as_ref());
        Self(out)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SHA256:{}", base64_nopad(&self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Fingerprint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a key fingerprint (SHA256: and 43 base64 characters)");
        let b64 = s.strip_prefix("SHA256:").ok_or_else(bad)?;
        let bytes = base64_decode_nopad(b64).ok_or_else(bad)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
        // Only the canonical spelling, so that a file never holds two
        // spellings of one key.
        let fp = Self(arr);
        if fp.to_string() != s {
            return Err(bad());
        }
        Ok(fp)
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 without `=` padding (ssh's fingerprint spelling).
pub fn base64_nopad(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Standard base64, padded or not, to bytes; `None` on anything else.
pub fn base64_decode_nopad(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = B64.iter().position(|&b| b == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero padding of the last character.
    (acc == 0 && bits < 6).then_some(out)
}

/// A line of a trust file that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The meaningful lines of a trust file: (line number, words).
fn entries(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let l = l.trim();
        (!l.is_empty() && !l.starts_with('#')).then(|| (i + 1, l.split_whitespace().collect()))
    })
}

/// One pinned key of `authorized_clients` or `known_daemons`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    /// `None` in `authorized_clients`.
    pub host: Option<String>,
    pub key: Fingerprint,
    pub comment: String,
}

/// The daemon's `authorized_clients`: the client keys it serves.
pub fn parse_authorized(text: &str) -> Result<Vec<Pin>, BadLine> {
    entries(text)
        .map(|(line, words)| {
            let key = words[0]
                .parse()
                .map_err(|reason| BadLine { line, reason })?;
            Ok(Pin {
                host: None,
                key,
                comment: words[1..].join(" "),
            })
        })
        .collect()
}

/// The client's `known_daemons`: the daemon keys it talks to, by host.
pub fn parse_known(text: &str) -> Result<Vec<Pin>, BadLine> {
    entries(text)
        .map(|(line, words)| {
            let [host, key, rest @ ..] = &words[..] else {
                return Err(BadLine {
                    line,
                    reason: "expected HOST FINGERPRINT [comment]".into(),
                });
            };
            let key = key.parse().map_err(|reason| BadLine { line, reason })?;
            Ok(Pin {
                host: Some((*host).to_owned()),
                key,
                comment: rest.join(" "),
            })
        })
        .collect()
}

/// The keys pinned for `host` on `port`: lines for `HOST:PORT` if there
/// are any, else lines for `HOST`. Names compare without case, as DNS does.
pub fn pinned_for(pins: &[Pin], host: &str, port: u16) -> Vec<Fingerprint> {
    let with_port = format!("{host}:{port}");
    let matching = |name: &str| {
        pins.iter()
            .filter(|p| {
                p.host
                    .as_deref()
                    .is_some_and(|h| h.eq_ignore_ascii_case(name))
            })
            .map(|p| p.key)
            .collect::<Vec<_>>()
    };
    let exact = matching(&with_port);
    if exact.is_empty() {
        matching(host)
    } else {
        exact
    }
}

/// The file's text with `line` appended, unless the same pin (host and
/// key) is there already: `None` then.
pub fn with_pin(text: &str, host: Option<&str>, key: Fingerprint, comment: &str) -> Option<String> {
    let present = entries(text).any(|(_, w)| match host {
        None => w[0] == key.to_string(),
        Some(h) => w.len() > 1 && w[0].eq_ignore_ascii_case(h) && w[1] == key.to_string(),
    });
    if present {
        return None;
    }
    let mut out = text.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let line = [host.unwrap_or(""), &key.to_string(), comment]
        .into_iter()
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    out.push_str(&line);
    out.push('\n');
    Some(out)
}

/// The file's text without the lines pinning `key` (and, if given, only
/// for `host`), and how many lines went. Comments and order stay.
pub fn without_pin(text: &str, host: Option<&str>, key: Fingerprint) -> (String, usize) {
    let key = key.to_string();
    let mut removed = 0;
    let mut out = String::with_capacity(text.len());
    for l in text.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        let hit = !l.trim_start().starts_with('#')
            && match w.iter().position(|x| *x == key) {
                Some(0) => true,
                Some(1) => host.is_none_or(|h| w[0].eq_ignore_ascii_case(h)),
                _ => false,
            };
        if hit {
            removed += 1;
        } else {
            out.push_str(l);
            out.push('\n');
        }
    }
    (out, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(n: u8) -> Fingerprint {
        Fingerprint([n; 32])
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, b64) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_nopad(plain.as_bytes()), b64);
            assert_eq!(base64_decode_nopad(b64).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64_decode_nopad("Zm8=").unwrap(), b"fo");
        assert_eq!(base64_decode_nopad("Zm9"), None, "non-zero leftover bits");
        assert_eq!(base64_decode_nopad("Z"), None, "a lone character");
        assert_eq!(base64_decode_nopad("Zm-v"), None);
    }

    #[test]
    fn fingerprint_is_ssh_keygen_style() {
        // ssh-keygen -l prints SHA256 of the key blob; ours hashes the
        // SPKI the same way: sha256("") is a known vector.
        let empty = Fingerprint::of_spki(b"");
        assert_eq!(
            empty.to_string(),
            "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
        );
        assert_eq!(empty.to_string().parse::<Fingerprint>(), Ok(empty));
        for bad in [
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
            "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF",
            "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV",
            "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
        ] {
            assert!(bad.parse::<Fingerprint>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ed25519_spki_is_44_bytes_of_rfc_8410() {
        let spki = ed25519_spki(&[7; 32]);
        assert_eq!(spki.len(), 44);
        assert_eq!(&spki[..12], &ED25519_SPKI_PREFIX);
    }

    #[test]
    fn trust_files_parse_with_comments_and_report_bad_lines() {
        let text = format!("# farm\n\n{} alice laptop\n  {}\n", fp(1), fp(2));
        let pins = parse_authorized(&text).unwrap();
        assert_eq!(pins.len(), 2);
        assert_eq!(pins[0].comment, "alice laptop");
        assert_eq!(pins[1].key, fp(2));
        let err = parse_authorized("# x\nnot-a-key\n").unwrap_err();
        assert_eq!(err.line, 2);

        let known = format!(
            "b1 {}\nb1:3700 {}\nB2 {} old key\nb2 {}\n",
            fp(1),
            fp(2),
            fp(3),
            fp(4)
        );
        let pins = parse_known(&known).unwrap();
        assert_eq!(pinned_for(&pins, "b1", 3632), vec![fp(1)]);
        assert_eq!(pinned_for(&pins, "b1", 3700), vec![fp(2)]);
        assert_eq!(pinned_for(&pins, "b2", 3632), vec![fp(3), fp(4)]);
        assert_eq!(pinned_for(&pins, "b3", 3632), vec![]);
        assert_eq!(parse_known(&format!("{}\n", fp(1))).unwrap_err().line, 1);
    }

    #[test]
    fn pins_are_added_once_and_revoked_by_key() {
        let t = with_pin("# keys\n", None, fp(1), "alice").unwrap();
        assert_eq!(t, format!("# keys\n{} alice\n", fp(1)));
        assert_eq!(with_pin(&t, None, fp(1), "again"), None);
        let t = with_pin(&t, None, fp(2), "").unwrap();
        let (t2, n) = without_pin(&t, None, fp(1));
        assert_eq!((t2, n), (format!("# keys\n{}\n", fp(2)), 1));

        let k = with_pin("h1 x\n".trim_end(), Some("h1"), fp(1), "").unwrap();
        assert_eq!(k, format!("h1 x\nh1 {}\n", fp(1)));
        let k = with_pin(&k, Some("h2"), fp(1), "").unwrap();
        assert_eq!(with_pin(&k, Some("H1"), fp(1), ""), None);
        let (only_h2, n) = without_pin(&k, Some("h1"), fp(1));
        assert_eq!((only_h2, n), (format!("h1 x\nh2 {}\n", fp(1)), 1));
        let (none, n) = without_pin(&k, None, fp(1));
        assert_eq!((none, n), ("h1 x\n".to_owned(), 2));
    }
}
