//! What `-Wa,X,Y` and `-Xassembler X` may pass to the assembler (GNU as
//! for every target gcc builds for). The same kind of allowlist as the
//! main table: listings and dependency files stay local as in 3.4
//! (`-a...`, `--MD`); reading or writing other files (`@file`, `-o`,
//! `-I` for `.include`/`.incbin`) is refused; anything unknown is refused.

use super::Class::{self, Dist, Local, Refused};
use super::Why::{AssemblerListing, ReadsFile, Unknown, WritesFile};

/// The assembler's own options and their values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A switch.
    Flag,
    /// `--opt=value`.
    Joined,
    /// `--opt value` (or `--opt=value`).
    Separate,
}

const ROWS: &[(&str, Kind, Class)] = &[
    ("--32", Kind::Flag, Dist),
    ("--64", Kind::Flag, Dist),
    ("--x32", Kind::Flag, Dist),
    ("--noexecstack", Kind::Flag, Dist),
    ("--execstack", Kind::Flag, Dist),
    ("-g", Kind::Flag, Dist),
    ("--gen-debug", Kind::Flag, Dist),
    ("--gdwarf-2", Kind::Flag, Dist),
    ("--gdwarf-3", Kind::Flag, Dist),
    ("--gdwarf-4", Kind::Flag, Dist),
    ("--gdwarf-5", Kind::Flag, Dist),
    ("--gdwarf-sections", Kind::Flag, Dist),
    ("--gdwarf-cie-version=", Kind::Joined, Dist),
    ("--gstabs", Kind::Flag, Dist),
    ("--gstabs+", Kind::Flag, Dist),
    ("--compress-debug-sections", Kind::Flag, Dist),
    ("--compress-debug-sections=", Kind::Joined, Dist),
    ("--nocompress-debug-sections", Kind::Flag, Dist),
    ("--debug-prefix-map", Kind::Separate, Dist),
    ("--defsym", Kind::Separate, Dist),
    ("--elf-stt-common=", Kind::Joined, Dist),
    ("--fatal-warnings", Kind::Flag, Dist),
    ("--generate-missing-build-notes=", Kind::Joined, Dist),
    ("--hash-size=", Kind::Joined, Dist),
    ("--keep-locals", Kind::Flag, Dist),
    ("--no-pad-sections", Kind::Flag, Dist),
    ("--no-warn", Kind::Flag, Dist),
    ("--reduce-memory-overheads", Kind::Flag, Dist),
    ("--sectname-subst", Kind::Flag, Dist),
    ("--size-check=", Kind::Joined, Dist),
    ("--statistics", Kind::Flag, Dist),
    ("--strip-local-absolute", Kind::Flag, Dist),
    ("--traditional-format", Kind::Flag, Dist),
    ("--warn", Kind::Flag, Dist),
    ("-EB", Kind::Flag, Dist),
    ("-EL", Kind::Flag, Dist),
    ("-J", Kind::Flag, Dist),
    ("-K", Kind::Flag, Dist),
    ("-L", Kind::Flag, Dist),
    ("-Qn", Kind::Flag, Dist),
    ("-Qy", Kind::Flag, Dist),
    ("-R", Kind::Flag, Dist),
    ("-V", Kind::Flag, Dist),
    ("-W", Kind::Flag, Dist),
    ("-Z", Kind::Flag, Dist),
    ("-n", Kind::Flag, Dist),
    ("-v", Kind::Flag, Dist),
    ("-w", Kind::Flag, Dist),
    ("-x", Kind::Flag, Dist),
    ("--MD", Kind::Separate, Local(AssemblerListing)),
    ("-o", Kind::Separate, Refused(WritesFile)),
    ("-I", Kind::Separate, Refused(ReadsFile)),
];

/// The verdict on the assembler words `words` (all those of a command
/// line, in the order gcc passes them: `-Xassembler --MD -Xassembler F`
/// is one option and its value): `Ok` when every one is distributable,
/// else the index of the first word that is not, and why.
pub fn check(words: &[&[u8]]) -> Result<(), (usize, Class)> {
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let class = classify(w, words.get(i + 1).is_some());
        match class {
            Some((class, takes_next)) => {
                if class != Dist {
                    return Err((i, class));
                }
                i += if takes_next { 2 } else { 1 };
            }
            None => return Err((i, Refused(Unknown))),
        }
    }
    Ok(())
}

/// One assembler word: its class and whether the next word is its value.
fn classify(w: &[u8], has_next: bool) -> Option<(Class, bool)> {
    if w.starts_with(b"@") {
        return Some((Refused(ReadsFile), false));
    }
    // Listings: -a, -ahls, -adhln=file.lst (3.4 keeps these local).
    if w.starts_with(b"-a") && w[2..].iter().all(|c| c.is_ascii_alphabetic() || *c == b'=')
        || w.starts_with(b"-a") && w.contains(&b'=')
    {
        return Some((Local(AssemblerListing), false));
    }
    // -I DIR / -IDIR: .include and .incbin read from DIR.
    if w.starts_with(b"-I") && w.len() > 2 {
        return Some((Refused(ReadsFile), false));
    }
    for &(name, kind, class) in ROWS {
        let n = name.as_bytes();
        match kind {
            Kind::Flag if w == n => return Some((class, false)),
            Kind::Joined if w.starts_with(n) => return Some((class, false)),
            Kind::Separate if w == n => return has_next.then_some((class, true)),
            Kind::Separate if w.starts_with(n) && w.get(n.len()) == Some(&b'=') => {
                return Some((class, false));
            }
            _ => {}
        }
    }
    // Target options (-march=armv8-a, -mrelax-relocations=no, -mfpu=neon,
    // -mthumb, -mx86-used-note=yes): they choose encodings only.
    if let Some(rest) = w.strip_prefix(b"-m") {
        let ok = !rest.is_empty()
            && rest.iter().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+' | b'.' | b',' | b'=')
            });
        if ok {
            return Some((Dist, false));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn verdict(words: &[&str]) -> Result<(), (String, Class)> {
        let w: Vec<&[u8]> = words.iter().map(|s| s.as_bytes()).collect();
        check(&w).map_err(|(bad, c)| (words[bad].to_string(), c))
    }

    #[test]
    fn common_assembler_options_pass() {
        for ok in [
            &["--noexecstack"][..],
            &["-mrelax-relocations=no"],
            &["--compress-debug-sections=zlib"],
            &["--64", "-march=generic64"],
            &["--defsym", "X=1"],
            &["--gdwarf-5"],
            &["-mfpu=neon", "-mfloat-abi=hard", "-mimplicit-it=always"],
            &["-g"],
            &[],
        ] {
            assert_eq!(verdict(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn listings_are_local_and_files_refused() {
        const CASES: &[(&[&str], &str, Class)] = &[
            (&["-adhln"], "-adhln", Local(AssemblerListing)),
            (&["-a=/tmp/x.lst"], "-a=/tmp/x.lst", Local(AssemblerListing)),
            (&["-alh=x.lst"], "-alh=x.lst", Local(AssemblerListing)),
            (&["--MD", "x.d"], "--MD", Local(AssemblerListing)),
            (&["--64", "-o", "/tmp/x"], "-o", Refused(WritesFile)),
            (&["@/etc/passwd"], "@/etc/passwd", Refused(ReadsFile)),
            (&["-I/etc"], "-I/etc", Refused(ReadsFile)),
            (&["-I", "/etc"], "-I", Refused(ReadsFile)),
            (&["--frobnicate"], "--frobnicate", Refused(Unknown)),
            (&["--defsym"], "--defsym", Refused(Unknown)),
            (&["-m/etc/passwd"], "-m/etc/passwd", Refused(Unknown)),
        ];
        for (words, bad, class) in CASES {
            assert_eq!(verdict(words), Err((bad.to_string(), *class)), "{words:?}");
        }
    }
}
