//! Command-line rewrites around the scan: `-Wp,` expansion (spec §3.3 step
//! 1), the server's argv (§3.6 step 2) and the local preprocessor's argv
//! (§3.6 step 1, with the `-MD` fix of distcc issue #62).

use std::ffi::OsString;

use super::ext::replace_suffix;
use super::options::{self, Class, Dialect};
use super::os::{bytes, os, starts_with, strip_prefix};
use super::{Job, OutputForm, Scan};

/// Whether `-MD` or `-MMD` is given to the driver itself (not through
/// `-Wp,`), which changes where gcc puts the dependency file (see
/// [`cpp_argv`]).
pub fn has_driver_deps(argv: &[OsString]) -> bool {
    argv.iter().skip(1).any(|a| a == "-MD" || a == "-MMD")
}

/// Expand every `-Wp,a,b,c` into `a b c`; `-MD,FILE` / `-MMD,FILE` inside
/// it become `-MD -MF FILE` / `-MMD -MF FILE` (spec §3.3 step 1). gcc's
/// driver understands the preprocessor options directly, and the scanner
/// then sees the dependency options for what they are.
pub fn expand_wp(argv: &[OsString]) -> Vec<OsString> {
    let mut out = Vec::with_capacity(argv.len());
    for arg in argv {
        let Some(list) = strip_prefix(arg, "-Wp,") else {
            out.push(arg.clone());
            continue;
        };
        let mut parts = bytes(list).split(|&c| c == b',');
        while let Some(part) = parts.next() {
            if part == b"-MD" || part == b"-MMD" {
                out.push(os(part).to_os_string());
                if let Some(file) = parts.next() {
                    out.push("-MF".into());
                    out.push(os(file).to_os_string());
                }
            } else if !part.is_empty() {
                out.push(os(part).to_os_string());
            }
        }
    }
    out
}

/// The options 3.4 removes from the server's argv (`dcc_strip_local_args`):
/// preprocessor and linker options, by their canonical name.
const STRIPPED: &[&str] = &[
    "-D",
    "-I",
    "-L",
    "-MD",
    "-MF",
    "-MG",
    "-MMD",
    "-MP",
    "-MQ",
    "-MT",
    "-U",
    "-Wl,",
    "-Wp,",
    "-idirafter",
    "-imacros",
    "-include",
    "-iprefix",
    "-isystem",
    "-iwithprefix",
    "-iwithprefixbefore",
    "-l",
    "-nostdinc",
    "-nostdinc++",
    "-stdlib=",
    "-undef",
    // Not in 3.4's list: its value is a preprocessor option, and 3.4
    // stripping that value (`-DX`) left `-Xpreprocessor` to swallow the
    // next argument (`-c`) on the server.
    "-Xpreprocessor",
];

/// The argv sent to the server in plain mode (`dcc_strip_local_args`, spec
/// §3.6 step 2): preprocessor and linker options removed, everything else
/// (including the original source name and `-o out`) kept. Options are
/// read through the table, so an option and its value go together: 3.4
/// matched words, and stripped `-DX` out of `-Xassembler -DX` or `-LX` out
/// of `-Xlinker -LX`, leaving a pass-through option without its value.
pub fn strip_local_args(argv: &[OsString]) -> Vec<OsString> {
    let mut out = Vec::with_capacity(argv.len());
    for_each_word(argv, |opt, words| match opt {
        Some(opt) if STRIPPED.contains(&opt.name) => {}
        _ => out.extend_from_slice(words),
    });
    out
}

/// Walk `argv` after the compiler (which `f` gets first, as a word): an
/// option the table reads comes with its words, anything else (a file, an
/// unreadable option) as one word; [`strip_local_args`] and
/// [`without_preprocessor_options`] decide what to keep of each.
fn for_each_word(argv: &[OsString], mut f: impl FnMut(Option<&options::Opt>, &[OsString])) {
    let Some(cc) = argv.first() else {
        return;
    };
    f(None, &argv[..1]);
    let dialect = Dialect::of(cc);
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        let is_option = bytes(a).len() > 1 && starts_with(a, "-");
        match options::read(argv, i, dialect) {
            Ok(opt) if is_option => {
                f(Some(&opt), &argv[i..i + opt.used]);
                i += opt.used;
            }
            _ => {
                f(None, &argv[i..=i]);
                i += 1;
            }
        }
    }
}

/// The job without its preprocessor options (`-I`, `-D`, `-include`,
/// `-MD`, `-Wp,`, ...), for a server compiling preprocessed input
/// (protocols 1 and 2). gcc and clang ignore them for such input (checked:
/// `-include /etc/passwd` with a `.i` input reads nothing, and the object
/// is the same, `-g` included), so dropping them changes no object and
/// leaves nothing for a hostile request to aim at; clang's "argument
/// unused" warnings for them go too.
pub fn without_preprocessor_options(job: &Job) -> Job {
    let mut out = Vec::with_capacity(job.argv.len());
    for_each_word(&job.argv, |opt, words| match opt {
        Some(opt) if matches!(opt.class, Class::Cpp(_) | Class::Preprocessor) => {}
        Some(opt) => out.extend(opt.canonical.iter().cloned()),
        None => out.extend_from_slice(words),
    });
    match super::scan(&out) {
        Scan::Distribute(stripped) => stripped,
        Scan::Local(_) => job.clone(),
    }
}

/// The language a `-x` value has once preprocessed (gcc's names).
fn preprocessed_language(lang: &[u8]) -> Option<&'static str> {
    Some(match lang {
        b"c" => "cpp-output",
        b"c++" => "c++-cpp-output",
        b"objective-c" => "objective-c-cpp-output",
        b"objective-c++" => "objective-c++-cpp-output",
        _ => return None,
    })
}

/// After local preprocessing, `-x c` (and C++, Objective-C(++)) must say
/// `cpp-output` on the server: otherwise the server's gcc preprocesses the
/// `.i` file again and its temp name ends up in the object's symbol table.
/// 3.4's scanner accepts the new names (they start with `c`/`objective-c`).
pub fn preprocessed_languages(argv: &[OsString]) -> Vec<OsString> {
    let mut out = Vec::with_capacity(argv.len());
    let mut after_x = false;
    for a in argv {
        if after_x {
            after_x = false;
            out.push(preprocessed_language(bytes(a)).map_or_else(|| a.clone(), OsString::from));
            continue;
        }
        if a == "-x" {
            after_x = true;
        } else if let Some(lang) =
            strip_prefix(a, "-x").and_then(|l| preprocessed_language(bytes(l)))
        {
            out.push(format!("-x{lang}").into());
            continue;
        }
        out.push(a.clone());
    }
    out
}

/// The local preprocessor command for a plain-mode job (spec §3.6 step 1):
/// `-o X`/`-oX` removed and every `-c`/`-S` replaced by `-E`; cpp writes to
/// stdout.
///
/// Fix for distcc issue #62: when `-MD`/`-MMD` are given to the driver
/// (`driver_deps`), gcc names the dependency file after the `-o` value and
/// makes that value the target, but only when it compiles; once `-o` is
/// gone and `-E` is given it would write `<input>.d` into the current
/// directory instead. When the user gave `-o` and no `-MF`, we pass
/// `-MF <o with its suffix replaced by .d>`, and without `-MT`/`-MQ` also
/// `-MQ <o>`, which is exactly what gcc's own spec does for a compile.
/// Through `-Wp,-MD,file` (not `driver_deps`) gcc does neither, and the
/// preprocessor alone already gives the same file and target.
pub fn cpp_argv(job: &Job, driver_deps: bool) -> Vec<OsString> {
    let mut out = Vec::with_capacity(job.argv.len() + 4);
    let mut dep = false;
    let mut has_mf = false;
    let mut has_target = false;
    // The elements that make up `-o X` / `-oX` (a bare `x.o` word stays,
    // as in 3.4's `dcc_strip_dasho`).
    let dash_o = match job.output_form {
        OutputForm::Joined => job.output_index..job.output_index + 1,
        OutputForm::Separate | OutputForm::Derived => job.output_index - 1..job.output_index + 1,
        OutputForm::Bare => 0..0,
    };
    for (i, a) in job.argv.iter().enumerate() {
        if dash_o.contains(&i) {
            continue;
        }
        if a == "-c" || a == "-S" {
            out.push("-E".into());
            continue;
        }
        if a == "-MD" || a == "-MMD" {
            dep = true;
        } else if starts_with(a, "-MF") {
            has_mf = true;
        } else if starts_with(a, "-MT") || starts_with(a, "-MQ") {
            has_target = true;
        }
        out.push(a.clone());
    }
    if dep && driver_deps && matches!(job.output_form, OutputForm::Separate | OutputForm::Joined) {
        if !has_mf {
            out.push("-MF".into());
            out.push(replace_suffix(&job.output, ".d"));
        }
        if !has_target {
            out.push("-MQ".into());
            out.push(job.output.clone());
        }
    }
    out
}
