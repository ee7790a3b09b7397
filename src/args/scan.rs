//! `scan`: is a compiler command distributable, and if so, what are its
//! input and output (spec §3.4, 3.4's `dcc_scan_args`).
//!
//! The client and the daemon both call this. "Run locally" is an outcome
//! with a reason, never an error.

use super::ext::{basename, is_conftest, is_source, replace_suffix};
use super::table::{Action, Hit, lookup};
use super::{Job, LocalReason, OutputForm, Scan, StopAt};

/// What the left-to-right walk found.
#[derive(Default)]
struct Seen {
    compile: bool,
    assemble: bool,
    input: Option<usize>,
    /// Index of the element holding the output, and how it was written.
    output: Option<(usize, OutputForm)>,
}

/// Scan a compiler command line, `argv[0]` being the compiler.
///
/// 3.4 also looks at `argv[0]`; a compiler name never looks like a source or
/// an object, so starting at 1 gives the same answers and is what it means.
pub fn scan(argv: &[String]) -> Scan {
    match walk(argv) {
        Ok(seen) => finish(argv, seen),
        Err(reason) => Scan::Local(reason),
    }
}

fn walk(argv: &[String]) -> Result<Seen, LocalReason> {
    let mut seen = Seen::default();
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_str();
        if a.starts_with('-') {
            if let Some(hit) = lookup(a) {
                i = option(argv, i, hit, &mut seen)?;
            }
        } else if is_source(a) {
            if let Some(first) = seen.input {
                return Err(LocalReason::TwoInputs(argv[first].clone(), a.to_owned()));
            }
            seen.input = Some(i);
        } else if a.ends_with(".o") {
            set_output(argv, &mut seen, i, OutputForm::Bare)?;
        }
        i += 1;
    }
    Ok(seen)
}

/// Apply one matched option; returns the index of the last element used.
fn option(argv: &[String], i: usize, hit: Hit, seen: &mut Seen) -> Result<usize, LocalReason> {
    let a = argv[i].as_str();
    let (entry, separate) = match hit {
        Hit::Joined(e) => (e, false),
        Hit::Separate(e) => (e, true),
    };
    let local = |r: LocalReason| Err(r);
    match entry.action {
        Action::Allow => {}
        Action::PreprocessOnly => return local(LocalReason::PreprocessOnly),
        Action::DependencyOnly => return local(LocalReason::DependencyOnly(a.to_owned())),
        Action::Native => return local(LocalReason::Native(a.to_owned())),
        Action::Lto => return local(LocalReason::Lto),
        Action::Assembler => {
            if a.contains(",-a") || a.contains("--MD") {
                return local(LocalReason::AssemblerListing(a.to_owned()));
            }
        }
        Action::Specs => return local(LocalReason::Specs(a.to_owned())),
        Action::Profile => return local(LocalReason::Profile(a.to_owned())),
        Action::Repo => return local(LocalReason::Repo),
        Action::Language => {
            // 3.4 looks at the *next* element even for `-xc`, and does not
            // consume it (it is skipped later as a non-source word).
            if let Some(next) = argv.get(i + 1) {
                if !is_c_family(next) {
                    return local(LocalReason::Language(next.clone()));
                }
            }
        }
        Action::RtlDump => return local(LocalReason::RtlDump(a.to_owned())),
        Action::Compile => seen.compile = true,
        Action::Assemble => seen.assemble = true,
        Action::Output => {
            if separate {
                if i + 1 >= argv.len() {
                    return local(LocalReason::MissingOutput);
                }
                set_output(argv, seen, i + 1, OutputForm::Separate)?;
            } else {
                set_output(argv, seen, i, OutputForm::Joined)?;
            }
        }
    }
    Ok(if separate { i + 1 } else { i })
}

/// `-x` languages 3.4 distributes: names starting with these.
fn is_c_family(lang: &str) -> bool {
    ["c", "c++", "objective-c", "objective-c++", "go"]
        .iter()
        .any(|p| lang.starts_with(p))
}

fn set_output(
    argv: &[String],
    seen: &mut Seen,
    index: usize,
    form: OutputForm,
) -> Result<(), LocalReason> {
    if let Some((first, first_form)) = seen.output {
        let first = output_text(argv, first, first_form).to_owned();
        let second = output_text(argv, index, form).to_owned();
        return Err(LocalReason::TwoOutputs(first, second));
    }
    seen.output = Some((index, form));
    Ok(())
}

fn output_text(argv: &[String], index: usize, form: OutputForm) -> &str {
    if form == OutputForm::Joined {
        &argv[index][2..]
    } else {
        &argv[index]
    }
}

fn finish(argv: &[String], seen: Seen) -> Scan {
    if !seen.compile && !seen.assemble {
        return Scan::Local(LocalReason::NotCompiling);
    }
    let Some(input_index) = seen.input else {
        return Scan::Local(LocalReason::NoInput);
    };
    let input = argv[input_index].clone();
    if is_conftest(&input) {
        return Scan::Local(LocalReason::Conftest(input));
    }
    // -S beats -c: `gcc -c -S x.c` writes x.s.
    let stop_at = if seen.assemble {
        StopAt::Assemble
    } else {
        StopAt::Compile
    };
    let mut argv = argv.to_vec();
    let (output_index, output_form) = match seen.output {
        Some(found) => found,
        None => {
            let derived = replace_suffix(basename(&input), stop_at.suffix());
            argv.push("-o".into());
            argv.push(derived);
            (argv.len() - 1, OutputForm::Derived)
        }
    };
    let output = output_text(&argv, output_index, output_form).to_owned();
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
