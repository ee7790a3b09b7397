//! Command-line words as bytes: the scanner, the option table and the
//! daemon's checks read arguments as `OsStr` so that a file name that is
//! not UTF-8 (`h\xe9llo.c` on a Latin-1 file system) travels unchanged
//! from the user's command line to the server's compiler and back (issue
//! 10). Options are ASCII, so matching them on bytes loses nothing; only
//! log lines turn words into (lossy) text.

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// The bytes of a word.
pub fn bytes(word: &OsStr) -> &[u8] {
    word.as_bytes()
}

/// A word from bytes.
pub fn os(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}

/// An owned word from bytes.
pub fn os_string(bytes: Vec<u8>) -> OsString {
    OsString::from_vec(bytes)
}

/// `word` without the ASCII `prefix`, if it starts with it.
pub fn strip_prefix<'a>(word: &'a OsStr, prefix: &str) -> Option<&'a OsStr> {
    word.as_bytes().strip_prefix(prefix.as_bytes()).map(os)
}

/// Whether `word` starts with the ASCII `prefix`.
pub fn starts_with(word: &OsStr, prefix: &str) -> bool {
    word.as_bytes().starts_with(prefix.as_bytes())
}

/// `prefix` followed by `value`, as one word (`-o` + `x.o` = `-ox.o`).
pub fn joined(prefix: &str, value: &OsStr) -> OsString {
    let mut out = OsString::with_capacity(prefix.len() + value.len());
    out.push(prefix);
    out.push(value);
    out
}

/// A word as text for messages and logs (invalid UTF-8 shown as U+FFFD).
pub fn lossy(word: &OsStr) -> Cow<'_, str> {
    word.to_string_lossy()
}

/// A command line as one line of text for messages and logs.
pub fn line(argv: &[OsString]) -> String {
    argv.iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the relative path `rel`, taken from a directory `depth` levels
/// below the root, ever goes above the root (`../../x` from `/a`). The
/// daemon rebuilds a pump job's tree under a root of its own, so such a
/// path would leave it; gcc on the client would stay at `/`.
pub fn climbs_above_root(rel: &[u8], depth: usize) -> bool {
    let mut level = depth as isize;
    for c in rel.split(|&c| c == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                level -= 1;
                if level < 0 {
                    return true;
                }
            }
            _ => level += 1,
        }
    }
    false
}

/// Words from whitespace-separated text (tests and fixed command lines).
pub fn words(text: &str) -> Vec<OsString> {
    text.split_whitespace().map(OsString::from).collect()
}
