//! `scan`: is a compiler command distributable, and if so, what are its
//! input and output (spec §3.4, 3.4's `dcc_scan_args`), read through the
//! option table ([`super::options`]).
//!
//! The client and the daemon both call this, so a job the client sends is
//! never refused by the daemon for its arguments. Where 3.4 keeps a job
//! local we do too, with the same reason; on top of that every argument
//! must be an option the table knows and allows, the source, or the
//! output. "Run locally" is an outcome with a reason, never an error.
//!
//! The [`Job`]'s argv is the command in canonical spelling
//! (`--output=x.o` becomes `-o x.o`): what is sent and what runs on a
//! server is exactly what was checked.

use std::ffi::{OsStr, OsString};

use super::ext::{basename, is_conftest, is_source, replace_suffix};
use super::options::{self, Class, Dialect, Opt, OptError, Why, assembler};
use super::os::{bytes, lossy, os};
use super::{Job, LocalReason, OutputForm, Scan, StopAt};
use crate::protocol::Limits;

/// What the left-to-right walk found.
#[derive(Default)]
struct Seen {
    compile: bool,
    assemble: bool,
    /// Index (in the canonical argv) of the source file.
    input: Option<usize>,
    /// Index of the element holding the output, and how it was written.
    output: Option<(usize, OutputForm)>,
    /// The first word that is neither an option, the source nor the
    /// output (`-` for standard input, `x.s`, `libx.a`).
    extra: Option<OsString>,
    /// Every word passed to the assembler, with the option that passed it,
    /// checked together at the end: `-Xassembler --MD -Xassembler F` is
    /// one assembler option and its value.
    assembler: Vec<(OsString, Vec<u8>)>,
}

/// Scan a compiler command line, `argv[0]` being the compiler.
///
/// 3.4 also looks at `argv[0]`; a compiler name never looks like a source or
/// an object, so starting at 1 gives the same answers and is what it means.
pub fn scan(argv: &[OsString]) -> Scan {
    scan_with(argv, None)
}

/// [`scan`] for a daemon started with `--sysroot DIR`: a spec file under
/// `specs_root` (absolute, no `..`) is distributable there, as upstream
/// distcc after 3.4 allows. Clients keep `-specs=` local (3.4's rule).
pub fn scan_with(argv: &[OsString], specs_root: Option<&OsStr>) -> Scan {
    let mut canonical = Vec::with_capacity(argv.len() + 2);
    match walk(argv, &mut canonical, specs_root) {
        Ok(seen) => finish(canonical, seen),
        Err(reason) => Scan::Local(reason),
    }
}

fn walk(
    argv: &[OsString],
    out: &mut Vec<OsString>,
    specs_root: Option<&OsStr>,
) -> Result<Seen, LocalReason> {
    let mut seen = Seen::default();
    let Some(compiler) = argv.first() else {
        return Err(LocalReason::NoInput);
    };
    out.push(compiler.clone());
    let dialect = Dialect::of(compiler);
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_os_str();
        let b = bytes(a);
        if b.len() > 1 && b[0] == b'-' {
            let opt = match options::read(argv, i, dialect) {
                Ok(opt) => opt,
                Err(OptError::Unknown) => return Err(refused(a, Why::Unknown)),
                Err(OptError::MissingValue("-o")) => return Err(LocalReason::MissingOutput),
                Err(OptError::MissingValue(name)) => {
                    return Err(LocalReason::MissingValue(name.into()));
                }
            };
            if !(opt.class == Class::Local(Why::Specs) && under(opt.value.as_deref(), specs_root)) {
                option(argv, i, &opt, &mut seen, out)?;
            }
            out.extend(opt.canonical.iter().cloned());
            i += opt.used;
            continue;
        }
        if b.first() == Some(&b'@') {
            // A response file the client could not expand: gcc would read
            // it on the server.
            return Err(refused(a, Why::ReadsFile));
        } else if is_source(a) {
            if let Some(first) = seen.input {
                return Err(LocalReason::TwoInputs(
                    lossy(&out[first]).into_owned(),
                    lossy(a).into_owned(),
                ));
            }
            seen.input = Some(out.len());
            out.push(a.to_os_string());
        } else if b.ends_with(b".o") {
            set_output(out, &mut seen, out.len(), OutputForm::Bare, a)?;
            out.push(a.to_os_string());
        } else {
            // 3.4 ignores such words (`-` for stdin, `x.s`, `libx.a`); the
            // server cannot see the file they name, and a word gcc reads as
            // an option's value would escape the table. Without a source,
            // 3.4's "no input" is the reason.
            seen.extra.get_or_insert_with(|| a.to_os_string());
            out.push(a.to_os_string());
        }
        i += 1;
    }
    check_assembler(&seen)?;
    Ok(seen)
}

/// Whether `file` is an absolute path strictly inside `root`, with no `..`.
fn under(file: Option<&OsStr>, root: Option<&OsStr>) -> bool {
    let (Some(file), Some(root)) = (file, root) else {
        return false;
    };
    let (f, r) = (bytes(file), bytes(root));
    let r = r.strip_suffix(b"/").unwrap_or(r);
    f.starts_with(b"/")
        && f.len() > r.len() + 1
        && f.starts_with(r)
        && f[r.len()] == b'/'
        && !f.split(|&c| c == b'/').any(|c| c == b"..")
}

fn refused(arg: &OsStr, why: Why) -> LocalReason {
    LocalReason::Refused {
        arg: lossy(arg).into_owned(),
        why,
    }
}

/// Apply one option.
fn option(
    argv: &[OsString],
    i: usize,
    opt: &Opt,
    seen: &mut Seen,
    out: &[OsString],
) -> Result<(), LocalReason> {
    let text = || lossy(&argv[i]).into_owned();
    let value = opt.value.as_deref().unwrap_or_default();
    match opt.class {
        Class::Dist | Class::Link | Class::Cpp(_) | Class::Preprocessor => {}
        Class::Cpu if bytes(value) == b"native" => return Err(LocalReason::Native(text())),
        Class::Cpu => {}
        Class::Compile => seen.compile = true,
        Class::Assemble => seen.assemble = true,
        Class::Output => {
            let (index, form) = if opt.canonical.len() == 2 {
                (out.len() + 1, OutputForm::Separate)
            } else {
                (out.len(), OutputForm::Joined)
            };
            // The option's own words follow `out` once this returns.
            return set_output(out, seen, index, form, value);
        }
        Class::Language => language(argv, i, opt, value)?,
        Class::Assembler => assembler_words(&argv[i], value, seen),
        Class::Dump => {
            if bytes(value).contains(&b'=') {
                return Err(refused(&argv[i], Why::WritesFile));
            }
        }
        Class::Local(why) | Class::Refused(why @ Why::Query) => return Err(local(why, text())),
        Class::Refused(why) => return Err(refused(&argv[i], why)),
    }
    Ok(())
}

/// 3.4's `-x` rule: local unless the *next* element starts with a C-family
/// language name, even for the joined `-xc` (3.4's quirk, kept so that a
/// 3.4 daemon never refuses what we send); a joined value must be one too.
fn language(argv: &[OsString], i: usize, opt: &Opt, value: &OsStr) -> Result<(), LocalReason> {
    let next = argv.get(i + 1).map(|n| n.as_os_str());
    let joined = opt.used == 1 && opt.canonical.len() == 1;
    // A joined `-xLANG` as the last word is 3.4's quirk at its edge: the
    // derived `-o` we append would follow it and fail the same check on
    // the server, so such a command (where gcc ignores the `-x` anyway)
    // runs here.
    if joined && next.is_none() {
        return Err(LocalReason::Language(lossy(value).into_owned()));
    }
    let checked = if joined { next } else { Some(value) };
    for lang in [checked, joined.then_some(value)].into_iter().flatten() {
        if !is_c_family(bytes(lang)) {
            return Err(LocalReason::Language(lossy(lang).into_owned()));
        }
    }
    Ok(())
}

/// `-x` languages 3.4 distributes: names starting with these.
fn is_c_family(lang: &[u8]) -> bool {
    [&b"c"[..], b"c++", b"objective-c", b"objective-c++", b"go"]
        .iter()
        .any(|p| lang.starts_with(p))
}

/// `-Wa,X,Y` (split at commas, as gcc does) or `-Xassembler X`: the words
/// join the command line's assembler words.
fn assembler_words(arg: &OsStr, value: &OsStr, seen: &mut Seen) {
    let v = bytes(value);
    if bytes(arg).starts_with(b"-Wa,") {
        for w in v.split(|&c| c == b',').filter(|w| !w.is_empty()) {
            seen.assembler.push((arg.to_os_string(), w.to_vec()));
        }
    } else {
        seen.assembler.push((arg.to_os_string(), v.to_vec()));
    }
}

/// The verdict on all the assembler words of the command line.
fn check_assembler(seen: &Seen) -> Result<(), LocalReason> {
    let words: Vec<&[u8]> = seen.assembler.iter().map(|(_, w)| w.as_slice()).collect();
    let Err((bad, class)) = assembler::check(&words) else {
        return Ok(());
    };
    let (arg, word) = &seen.assembler[bad];
    Err(match class {
        Class::Local(_) => LocalReason::AssemblerListing(lossy(arg).into_owned()),
        Class::Refused(why) => LocalReason::Refused {
            arg: format!("{} (assembler option {})", lossy(arg), lossy(os(word))),
            why,
        },
        _ => refused(os(word), Why::Unknown),
    })
}

/// The 3.4 reason for one of 3.4's local rules; ours for the rest.
fn local(why: Why, arg: String) -> LocalReason {
    match why {
        Why::PreprocessOnly => LocalReason::PreprocessOnly,
        Why::DependencyOnly => LocalReason::DependencyOnly(arg),
        Why::Lto => LocalReason::Lto,
        Why::Specs => LocalReason::Specs(arg),
        Why::Profile => LocalReason::Profile(arg),
        Why::Repo => LocalReason::Repo,
        Why::RtlDump => LocalReason::RtlDump(arg),
        Why::AssemblerListing => LocalReason::AssemblerListing(arg),
        Why::Query => LocalReason::Query(arg),
        why => LocalReason::Refused { arg, why },
    }
}

/// Record the output at `index` of the canonical argv (`word` is its
/// text); a second one means a link.
fn set_output(
    out: &[OsString],
    seen: &mut Seen,
    index: usize,
    form: OutputForm,
    word: &OsStr,
) -> Result<(), LocalReason> {
    if let Some((first, first_form)) = seen.output {
        let first = lossy(output_text(out, first, first_form)).into_owned();
        return Err(LocalReason::TwoOutputs(first, lossy(word).into_owned()));
    }
    seen.output = Some((index, form));
    Ok(())
}

fn output_text(argv: &[OsString], index: usize, form: OutputForm) -> &OsStr {
    let word = argv[index].as_os_str();
    if form == OutputForm::Joined {
        os(&bytes(word)[2..])
    } else {
        word
    }
}

/// Whether the command is beyond what distccd accepts in a request head
/// (issue 10's caps: [`Limits`]), e.g. after `@file` expansion; 3.4 has no
/// caps, but a job our client sends must never be refused.
fn too_large(argv: &[OsString]) -> Option<String> {
    let limits = Limits::default();
    let header = crate::protocol::token::HEADER_LEN as u64;
    if argv.len() as u64 > u64::from(limits.max_argc) {
        return Some(format!("{} arguments", argv.len()));
    }
    if let Some(a) = argv
        .iter()
        .find(|a| a.len() as u64 > u64::from(limits.max_string))
    {
        return Some(format!("an argument of {} bytes", a.len()));
    }
    let head: u64 = 3 * header + argv.iter().map(|a| header + a.len() as u64).sum::<u64>();
    (head > limits.max_head).then(|| format!("a command line of {head} bytes"))
}

fn finish(mut argv: Vec<OsString>, seen: Seen) -> Scan {
    if let Some(what) = too_large(&argv) {
        return Scan::Local(LocalReason::TooLarge(what));
    }
    if !seen.compile && !seen.assemble {
        return Scan::Local(LocalReason::NotCompiling);
    }
    let Some(input_index) = seen.input else {
        return Scan::Local(LocalReason::NoInput);
    };
    let input = argv[input_index].clone();
    if is_conftest(&input) {
        return Scan::Local(LocalReason::Conftest(lossy(&input).into_owned()));
    }
    if let Some(word) = &seen.extra {
        return Scan::Local(LocalReason::ExtraWord(lossy(word).into_owned()));
    }
    // -S beats -c: `gcc -c -S x.c` writes x.s.
    let stop_at = if seen.assemble {
        StopAt::Assemble
    } else {
        StopAt::Compile
    };
    let (output_index, output_form) = match seen.output {
        Some(found) => found,
        None => {
            let derived = replace_suffix(basename(&input), stop_at.suffix());
            argv.push("-o".into());
            argv.push(derived);
            (argv.len() - 1, OutputForm::Derived)
        }
    };
    let output = output_text(&argv, output_index, output_form).to_os_string();
    if output == "-" {
        return Scan::Local(LocalReason::OutputToStdout);
    }
    Scan::Distribute(Job {
        argv,
        input_index,
        output_index,
        output_joined: output_form == OutputForm::Joined,
        output_form,
        input,
        output,
        stop_at,
    })
}
