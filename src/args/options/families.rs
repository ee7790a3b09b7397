//! Families: shapes of option whose every member is harmless to run on a
//! server, stated as rules with their reason. They are checked only after
//! the explicit rows (`rows.rs`), so a family never hides a row: `-Wa,`
//! is a row, not a warning; `-fplugin=` is a row, not a switch.
//!
//! The arity checks in `rows.rs`'s header (`cc -### -c x.c OPTION value`
//! for every option gcc 12 and clang 14 list) found no member of these
//! families that takes its value from the next argument, so a family
//! member never hides the word after it.

use super::Class::{self, Dist};

/// Characters of an option name in these families.
fn name_chars(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+' | b'.'))
}

/// The family of `arg` (already canonical), if it belongs to one.
pub fn classify(arg: &[u8]) -> Option<(&'static str, Class)> {
    let (head, rest) = arg.split_at(arg.len().min(2));
    match head {
        // Warnings and diagnostics only change what is printed: -Wall,
        // -Wno-foo, -Werror=foo, -Wframe-larger-than=4096. (-Wa, -Wl, -Wp,
        // are rows.)
        b"-W" if warning(rest) => Some(("-W...", Dist)),
        // Switches: -fPIC, -fno-strict-aliasing, -fstack-protector-strong.
        // A switch carries no value, so it names no file and no program;
        // anything it writes (dumps, -fstack-usage) goes next to the
        // output, in the job's directory. Options with `=VALUE` are rows.
        b"-f" if name_chars(rest) => Some(("-f...", Dist)),
        // Target options: -m64, -mavx2, -mno-red-zone, -mabi=lp64,
        // -mfpu=neon. They choose instructions, ABI and code model.
        // (-march=/-mtune=/-mcpu= are rows: `native` means this machine.)
        b"-m" if target(rest) => Some(("-m...", Dist)),
        // Debug information: -g, -g3, -ggdb, -gdwarf-5, -gsplit-dwarf,
        // -gno-column-info.
        b"-g" if rest.is_empty() || target(rest) => Some(("-g...", Dist)),
        // Optimisation levels: -O, -O2, -Os, -Ofast, -Og, -Oz.
        b"-O" if rest.is_empty() || rest.iter().all(u8::is_ascii_alphanumeric) => {
            Some(("-O...", Dist))
        }
        // gcc's -d<letters>: annotate the assembler output or dump
        // (-dA, -dp, -dD); the dumps go next to the output. (-dr is 3.4's
        // local rule, a row.)
        b"-d" if !rest.is_empty() && rest.iter().all(u8::is_ascii_alphabetic) => {
            Some(("-d...", Dist))
        }
        _ => None,
    }
}

/// `-W` + a warning name, optionally `=VALUE` of simple characters.
/// clang's names may hold `#` (`-W#warnings`, `-Wno-#pragma-messages`).
fn warning(rest: &[u8]) -> bool {
    if rest.is_empty() {
        return true; // -W, the old name of -Wextra.
    }
    let (name, value) = split_eq(rest);
    let name: Vec<u8> = name
        .iter()
        .map(|&c| if c == b'#' { b'_' } else { c })
        .collect();
    name_chars(&name) && value.is_none_or(simple_value)
}

/// `-m` + a target option, optionally `=VALUE` of simple characters.
fn target(rest: &[u8]) -> bool {
    let (name, value) = split_eq(rest);
    name_chars(name) && value.is_none_or(simple_value)
}

fn split_eq(b: &[u8]) -> (&[u8], Option<&[u8]>) {
    match b.iter().position(|&c| c == b'=') {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    }
}

/// A value that is a number, a keyword or a list of them, never a path.
fn simple_value(v: &[u8]) -> bool {
    v.iter().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+' | b'.' | b',' | b':' | b'=')
    })
}
