//! Long spellings of options, turned into gcc's canonical ones before the
//! table is consulted (issue 10: `--prefix=DIR` is `-B DIR`, `--plugin=F`
//! is `-fplugin=F`).
//!
//! gcc 12 accepts (checked with `gcc -###`; it accepts no abbreviations:
//! `--pref=`, `--for-as=`, `--out=` are errors):
//! * the aliases below, each with its value joined (`--output=x.o`) or as
//!   the next argument (`--output x.o`) where it takes one;
//! * `--warn-X` for `-WX`, `--machine-X` and `--machine=X` for `-mX`;
//! * `--no-X` for `-fno-X` and, for any other `--X`, `-fX` (`--pic`,
//!   `--plugin=F`, `--dump-tree-original=F`).
//!
//! clang knows no generic `--X`: a clang long option that is neither a row
//! of its own (`--target=`, `--config`, ...) nor an alias below is unknown.

use std::ffi::{OsStr, OsString};

use super::Dialect;
use crate::args::os::{bytes, os, os_string};

/// Whether a long alias takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Takes {
    /// `--ansi`.
    Nothing,
    /// `--output=x.o` or `--output x.o`.
    Value,
    /// `--debug` or `--debug=3` (gcc's optional joined value).
    MaybeJoined,
    /// A value glued to the canonical word: `--dump=r` or `--dump r` is
    /// `-dr`, `--machine=avx2` or `--machine avx2` is `-mavx2`.
    Glued,
}

use Takes::{Glued, MaybeJoined, Nothing, Value};

/// gcc's long aliases (`gcc --help=common,c` says "Same as ...") and
/// clang's that have the same meaning: (long, canonical, takes).
const ALIASES: &[(&str, &str, Takes)] = &[
    ("--all-warnings", "-Wall", Nothing),
    ("--ansi", "-ansi", Nothing),
    ("--assemble", "-S", Nothing),
    ("--assert", "-A", Value),
    ("--comments", "-C", Nothing),
    ("--comments-in-macros", "-CC", Nothing),
    ("--compile", "-c", Nothing),
    ("--debug", "-g", MaybeJoined),
    ("--define-macro", "-D", Value),
    ("--dependencies", "-M", Nothing),
    ("--dump", "-d", Glued),
    ("--dumpbase", "-dumpbase", Value),
    ("--dumpbase-ext", "-dumpbase-ext", Value),
    ("--dumpdir", "-dumpdir", Value),
    ("--entry", "-e", Value),
    ("--extra-warnings", "-Wextra", Nothing),
    ("--for-assembler", "-Xassembler", Value),
    ("--for-linker", "-Xlinker", Value),
    ("--force-link", "-u", Value),
    ("--imacros", "-imacros", Value),
    ("--include", "-include", Value),
    ("--include-barrier", "-I-", Nothing),
    ("--include-directory", "-I", Value),
    ("--include-directory-after", "-idirafter", Value),
    ("--include-prefix", "-iprefix", Value),
    ("--include-with-prefix", "-iwithprefix", Value),
    ("--include-with-prefix-after", "-iwithprefix", Value),
    ("--include-with-prefix-before", "-iwithprefixbefore", Value),
    ("--language", "-x", Value),
    ("--library-directory", "-L", Value),
    ("--machine", "-m", Glued),
    ("--no-canonical-prefixes", "-no-canonical-prefixes", Nothing),
    ("--no-integrated-cpp", "-no-integrated-cpp", Nothing),
    ("--no-line-commands", "-P", Nothing),
    ("--no-standard-includes", "-nostdinc", Nothing),
    ("--no-standard-libraries", "-nostdlib", Nothing),
    ("--no-warnings", "-w", Nothing),
    ("--optimize", "-O", MaybeJoined),
    ("--output", "-o", Value),
    ("--pass-exit-codes", "-pass-exit-codes", Nothing),
    ("--pie", "-pie", Nothing),
    ("--pipe", "-pipe", Nothing),
    ("--prefix", "-B", Value),
    ("--preprocess", "-E", Nothing),
    ("--print-missing-file-dependencies", "-MG", Nothing),
    ("--profile", "-p", Nothing),
    ("--specs", "-specs", Value),
    ("--symbolic", "-symbolic", Nothing),
    ("--time", "-time", Nothing),
    ("--trace-includes", "-H", Nothing),
    ("--traditional", "-traditional", Nothing),
    ("--undefine-macro", "-U", Value),
    ("--user-dependencies", "-MM", Nothing),
    ("--verbose", "-v", Nothing),
    ("--write-dependencies", "-MD", Nothing),
    ("--write-user-dependencies", "-MMD", Nothing),
];

/// What a spelling turned into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spelled {
    /// Already canonical (or not a long option): read it as it is.
    Same,
    /// `option` is the canonical word; `value` is the alias's value when
    /// it was separate from the canonical word (`--output=x.o` → `-o`,
    /// `x.o`), `next` says it was the next argument.
    As {
        /// The canonical option word.
        option: OsString,
        /// The value, when the canonical option needs it attached.
        value: Option<OsString>,
        /// The value was the next element of the command line.
        next: bool,
    },
    /// A long option neither compiler has.
    Unknown,
}

/// The canonical spelling of `arg` (`next` is the element after it).
pub fn canonical(arg: &OsStr, next: Option<&OsString>, dialect: Dialect) -> Spelled {
    let b = bytes(arg);
    if !b.starts_with(b"--") || b.len() == 2 {
        return Spelled::Same;
    }
    // A long option that is a canonical row itself (`--sysroot=`,
    // `--target=`, `--param`, `--coverage`) is read as it is.
    if super::index::candidates(b).next().is_some_and(|r| {
        let exact = r.name.len() == b.len();
        exact || matches!(r.arity, super::Arity::Joined | super::Arity::Prefix)
    }) {
        return Spelled::Same;
    }
    let (name, joined) = match b.iter().position(|&c| c == b'=') {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    if let Some(&(_, to, takes)) = ALIASES.iter().find(|(long, _, _)| long.as_bytes() == name) {
        return alias(to, takes, joined, next);
    }
    if dialect == Dialect::Clang {
        return Spelled::Unknown;
    }
    gcc_generic(b)
}

fn alias(to: &str, takes: Takes, joined: Option<&[u8]>, next: Option<&OsString>) -> Spelled {
    let word = |s: &str| OsString::from(s);
    match (takes, joined) {
        (Nothing, None) => Spelled::As {
            option: word(to),
            value: None,
            next: false,
        },
        (Nothing, Some(_)) => Spelled::Unknown,
        // `--debug=3` → `-g3`, `--optimize=2` → `-O2`.
        (MaybeJoined, v) => {
            let mut option = word(to);
            option.push(os(v.unwrap_or_default()));
            Spelled::As {
                option,
                value: None,
                next: false,
            }
        }
        (Glued, Some(v)) => Spelled::As {
            option: os_string([to.as_bytes(), v].concat()),
            value: None,
            next: false,
        },
        (Glued, None) => match next {
            Some(v) => Spelled::As {
                option: os_string([to.as_bytes(), bytes(v)].concat()),
                value: None,
                next: true,
            },
            None => Spelled::Unknown,
        },
        (Value, Some(v)) => Spelled::As {
            option: word(to),
            value: Some(os(v).to_os_string()),
            next: false,
        },
        (Value, None) => match next {
            Some(v) => Spelled::As {
                option: word(to),
                value: Some(v.clone()),
                next: true,
            },
            None => Spelled::Unknown,
        },
    }
}

/// gcc's generic long spellings (see the module docs).
fn gcc_generic(b: &[u8]) -> Spelled {
    let rest = &b[2..];
    let canonical = if let Some(w) = rest.strip_prefix(b"warn-") {
        [b"-W", w].concat()
    } else if let Some(m) = rest
        .strip_prefix(b"machine-")
        .or_else(|| rest.strip_prefix(b"machine="))
    {
        [b"-m", m].concat()
    } else if let Some(f) = rest.strip_prefix(b"no-") {
        [b"-fno-", f].concat()
    } else {
        [b"-f", rest].concat()
    };
    Spelled::As {
        option: os_string(canonical),
        value: None,
        next: false,
    }
}
