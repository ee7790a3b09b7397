//! Whether compiling the preprocessed text gives the object that compiling
//! the source gives (plain mode, the way distcc 3.4 sends every job).
//!
//! gcc expands macros and joins lines in the text it writes, so whatever
//! follows source locations follows the text's locations instead:
//!
//! * debug information (`-g`): the line table and the columns;
//! * code at `-O0`: gcc keeps a `nop` for a jump whose source location is
//!   its own (a breakpoint on that line is then hit), and locations that
//!   were distinct in the source can coincide in the text, or the other
//!   way round (sqlite's `sqlite3VdbeExec`, zlib's `inflate`: a few `nop`s
//!   and a function a few bytes longer).
//!
//! Optimised code without debug information does not depend on
//! locations: the pump corpus's 339 objects at `-O2` and sqlite at `-O1`
//! are byte-identical in plain mode. Pump mode compiles a job it cannot
//! send as it is here, rather than in plain mode, when this says the
//! object would differ (docs/pump.md). `#pragma GCC optimize` and
//! `__attribute__((optimize))` in the source are not looked at.

use std::ffi::OsString;

use super::os::bytes;

/// Why plain mode would not give a local compile's object for `argv` (a
/// canonical compile command), or `None` when it does.
pub fn differs(argv: &[OsString]) -> Option<&'static str> {
    let optimised = argv
        .iter()
        .skip(1)
        .rev()
        .find_map(|a| bytes(a).strip_prefix(b"-O"))
        .is_some_and(|level| level != b"0");
    if debug_info(argv) {
        Some(
            "with -g plain mode would change the debug information (it would follow the \
             preprocessed text's lines and columns)",
        )
    } else if !optimised {
        Some(
            "at -O0 plain mode would change the code (gcc keeps a nop for each distinct \
             source location of a jump, and the preprocessed text moves locations)",
        )
    } else {
        None
    }
}

/// Whether `argv` (a canonical compile command) asks for debug
/// information: its last `-g` option that turns it on or off says so.
pub fn debug_info(argv: &[OsString]) -> bool {
    argv.iter()
        .skip(1)
        .rev()
        .find_map(|a| debug_option(bytes(a)))
        .unwrap_or(false)
}

/// Whether `a` turns debug information on (`-g`, `-g2`, `-ggdb`,
/// `-gdwarf-5`, ...) or off (`-g0`); `None` for the `-g` options that do
/// neither (`-gz`, `-gsplit-dwarf`, `-gno-...`, `-gcolumn-info`, ...).
fn debug_option(a: &[u8]) -> Option<bool> {
    let rest = a.strip_prefix(b"-g")?;
    let formats: [&[u8]; 9] = [
        b"gdb", b"dwarf", b"stabs+", b"stabs", b"xcoff+", b"xcoff", b"vms", b"btf", b"ctf",
    ];
    let (format, level) = formats
        .iter()
        .find_map(|f| rest.strip_prefix(*f).map(|l| (*f, l)))
        .unwrap_or((b"", rest));
    let digits = |l: &[u8]| !l.is_empty() && l.iter().all(u8::is_ascii_digit);
    match level {
        b"" => Some(true),
        // -gdwarf-5: the version, not a level.
        [b'-', v @ ..] if format == b"dwarf" && digits(v) => Some(true),
        l if digits(l) => Some(l.iter().any(|d| *d != b'0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cmd: &str) -> Option<&'static str> {
        let argv: Vec<OsString> = cmd.split(' ').map(OsString::from).collect();
        differs(&argv)
    }

    #[test]
    fn optimised_code_without_debug_information_is_the_same() {
        for cmd in [
            "gcc -O2 -c x.c",
            "gcc -O -c x.c",
            "gcc -Os -c x.c",
            "gcc -Og -c x.c",
            "gcc -O0 -O3 -c x.c",
            "gcc -O2 -g -g0 -c x.c",
            "gcc -O2 -gz -c x.c",
            "gcc -O2 -gno-record-gcc-switches -gcolumn-info -c x.c",
            "gcc -O2 -ggdb0 -c x.c",
        ] {
            assert_eq!(check(cmd), None, "{cmd}");
        }
    }

    #[test]
    fn unoptimised_code_differs() {
        for cmd in ["gcc -c x.c", "gcc -O0 -c x.c", "gcc -O2 -O0 -c x.c"] {
            assert!(check(cmd).is_some_and(|w| w.contains("-O0")), "{cmd}");
        }
    }

    #[test]
    fn debug_information_is_the_last_g_options_word() {
        let on = |cmd: &str| debug_info(&cmd.split(' ').map(OsString::from).collect::<Vec<_>>());
        for cmd in [
            "gcc -g -c x.c",
            "gcc -g0 -ggdb3 -c x.c",
            "gcc -gdwarf-4 -gsplit-dwarf -c x.c",
        ] {
            assert!(on(cmd), "{cmd}");
        }
        for cmd in [
            "gcc -O2 -c x.c",
            "gcc -g -g0 -c x.c",
            "gcc -gsplit-dwarf -c x.c",
            "gcc -gz -c x.c",
        ] {
            assert!(!on(cmd), "{cmd}");
        }
    }

    #[test]
    fn debug_information_differs() {
        for cmd in [
            "gcc -O2 -g -c x.c",
            "gcc -O2 -g1 -c x.c",
            "gcc -O2 -g0 -g3 -c x.c",
            "gcc -O2 -ggdb -c x.c",
            "gcc -O2 -ggdb2 -c x.c",
            "gcc -O2 -gdwarf-4 -c x.c",
            "gcc -O2 -gdwarf -c x.c",
            "gcc -O2 -gbtf -c x.c",
            "gcc -g -c x.c",
        ] {
            assert!(check(cmd).is_some_and(|w| w.contains("-g")), "{cmd}");
        }
    }
}
