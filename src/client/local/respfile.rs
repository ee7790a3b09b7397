//! `@file` response files (distcc issue #218; CMake and Ninja use them),
//! expanded before anything else as Debian's libiberty build of 3.4 does
//! (spec §3.1), with gcc's quoting rules (libiberty `buildargv`):
//!
//! * whitespace separates arguments;
//! * `'...'` and `"..."` group, and the quotes are removed;
//! * a backslash takes the next character literally, inside quotes too;
//! * an `@file` inside a response file is expanded as well;
//! * an `@file` that cannot be read stays as it is (gcc then reports it).
//!
//! The reading is passed in, so the splitting and the expansion are tested
//! without files.

use std::ffi::{OsStr, OsString};

use crate::args::os::{bytes, os, os_string};

/// Split the text of a response file into arguments. The text is bytes: a
/// file name in it need not be UTF-8, and gcc's whitespace is ASCII.
pub fn split(text: &[u8]) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut bytes = text.iter().copied().peekable();
    loop {
        while bytes.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            bytes.next();
        }
        if bytes.peek().is_none() {
            return out;
        }
        let mut arg = Vec::new();
        let (mut squote, mut dquote) = (false, false);
        while let Some(&c) = bytes.peek() {
            if c.is_ascii_whitespace() && !squote && !dquote {
                break;
            }
            bytes.next();
            match c {
                b'\\' => {
                    if let Some(next) = bytes.next() {
                        arg.push(next);
                    }
                }
                b'\'' if !dquote => squote = !squote,
                b'"' if !squote => dquote = !dquote,
                _ => arg.push(c),
            }
        }
        out.push(os_string(arg));
    }
}

/// libiberty stops after this many expansions (a file including itself).
const MAX_EXPANSIONS: usize = 2000;

/// Expand every `@file` argument (not `argv[0]`) using `read`, which returns
/// the file's bytes or `None` when it cannot be read.
pub fn expand(argv: &[OsString], read: impl Fn(&OsStr) -> Option<Vec<u8>>) -> Vec<OsString> {
    let mut out: Vec<OsString> = argv.to_vec();
    let mut expansions = 0;
    let mut i = 1;
    while i < out.len() {
        let Some(name) = bytes(&out[i]).strip_prefix(b"@") else {
            i += 1;
            continue;
        };
        if expansions >= MAX_EXPANSIONS {
            break;
        }
        match read(os(name)) {
            Some(text) => {
                expansions += 1;
                let args = split(&text);
                // Re-scan the inserted arguments: they may name @files too.
                out.splice(i..=i, args);
            }
            None => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_follows_gcc_quoting() {
        const CASES: &[(&str, &[&str])] = &[
            ("-c x.c -o x.o", &["-c", "x.c", "-o", "x.o"]),
            ("  -DA=1\n\t-I'my dir'  ", &["-DA=1", "-Imy dir"]),
            (r#"-DMSG="hello world""#, &["-DMSG=hello world"]),
            (r#"-DQ=\"q\""#, &["-DQ=\"q\""]),
            (r"a\ b", &["a b"]),
            (r#""it's""#, &["it's"]),
            (r#"'say "hi"'"#, &["say \"hi\""]),
            (r#""a\"b""#, &["a\"b"]),
            (r"'a\'b'", &["a'b"]),
            ("''", &[""]),
            ("", &[]),
            ("x\r\ny", &["x", "y"]),
        ];
        for &(text, want) in CASES {
            assert_eq!(split(text.as_bytes()), want, "{text:?}");
        }
    }

    #[test]
    fn expand_is_recursive_and_keeps_unreadable_files() {
        let files = |name: &OsStr| match name.to_str()? {
            "args" => Some(b"-c @more x.c".to_vec()),
            "more" => Some(b"-O2 -g".to_vec()),
            "self" => Some(b"@self".to_vec()),
            "empty" => Some(Vec::new()),
            "latin1" => Some(b"-c h\xe9llo.c".to_vec()),
            _ => None,
        };
        let v = |s: &str| s.split(' ').map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            expand(&v("gcc @args -o x.o"), files),
            v("gcc -c -O2 -g x.c -o x.o")
        );
        assert_eq!(expand(&v("gcc @missing"), files), v("gcc @missing"));
        assert_eq!(expand(&v("gcc @empty -c"), files), v("gcc -c"));
        assert_eq!(expand(&v("@args x"), files), v("@args x"), "argv[0] stays");
        assert_eq!(expand(&v("gcc @self"), files), v("gcc @self"));
        let latin1 = expand(&v("gcc @latin1"), files);
        assert_eq!(bytes(&latin1[2]), b"h\xe9llo.c", "bytes survive");
    }
}
