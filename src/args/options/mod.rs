//! THE option table (issue 10): for every option gcc and clang accept, in
//! every spelling, what distcc does with it. The client's scan and the
//! daemon's check both read it, so a job our client sends is never refused
//! by our daemon for its arguments. Pure: no I/O.
//!
//! It is an allowlist. An argument that starts with `-` and matches no row
//! and no family is *unknown*, and unknown options are refused (the client
//! compiles such a job here), never guessed: a denylist of gcc spellings
//! cannot be made complete (`--prefix=DIR` is `-B DIR`, `--plugin=F` is
//! `-fplugin=F`).
//!
//! Reading an argument takes three steps:
//!
//! 1. [`spelling`]: long spellings become gcc's canonical ones
//!    (`--include-directory=D` → `-I D`, `--for-assembler=X` →
//!    `-Xassembler X`, gcc's generic `--X` → `-fX`, `--warn-X` → `-WX`,
//!    `--machine-X` → `-mX`). The daemon runs the canonical form, so what
//!    the compiler sees is exactly what was checked.
//! 2. [`rows`]: the explicit rows, one per option or option prefix, with
//!    how the value is written ([`Arity`]) and what it means ([`Class`]).
//!    The longest matching row wins.
//! 3. `families`: shapes whose every member is harmless, stated as rules
//!    with the reason (warnings `-W...`, switches `-f[no-]name` without a
//!    value, target options `-m...`, debug `-g...`, `-O...`).
//!
//! [`assembler`] is the same kind of table for what `-Wa,`/`-Xassembler`
//! pass to the assembler.

pub mod assembler;
mod families;
mod index;
pub mod rows;
pub mod spelling;

use std::ffi::{OsStr, OsString};
use std::fmt;

use super::os::{bytes, os};

/// Which driver reads the command line: gcc and clang share most options,
/// but only gcc turns any `--X` into `-fX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// gcc, g++, cc, c++ and cross gcc.
    Gcc,
    /// clang and clang++ (any version suffix).
    Clang,
}

impl Dialect {
    /// The dialect of the compiler named `argv[0]`.
    pub fn of(compiler: &OsStr) -> Self {
        let base = super::ext::basename(compiler);
        if bytes(base).windows(5).any(|w| w == b"clang") {
            Self::Clang
        } else {
            Self::Gcc
        }
    }
}

/// How a row's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// No value: the argument is exactly the name.
    Flag,
    /// The value follows in the same argument (`-fvisibility=hidden`,
    /// `-Wa,x`); the name alone is not this option.
    Joined,
    /// The value is the next argument (`-Xassembler X`, `-aux-info F`).
    Separate,
    /// Either (`-I dir` and `-Idir`, `-o x.o` and `-ox.o`).
    JoinedOrSeparate,
    /// A rule for every argument starting with the name, value-less
    /// (3.4's `-M...` and `-dr...` rules).
    Prefix,
}

/// The kinds of preprocessor option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cpp {
    /// The value is a path the preprocessor reads (`-I`, `-include`,
    /// `-isystem`, `--sysroot`, ...): rooted in the job's copy of the
    /// client's tree in pump mode.
    Path,
    /// The value names a multilib or multiarch directory (a word, not a
    /// path).
    Name,
    /// `-D`, `-U`, `-A`: macros and assertions.
    Macro,
    /// A switch of the preprocessor (`-nostdinc`, `-undef`, `-trigraphs`,
    /// `-H`, `-P`, `-C`, `-dD`...).
    Switch,
    /// `-MD`, `-MMD`, `-MG`, `-MP`: dependency output beside the compile.
    Deps,
    /// `-MF FILE`: where the dependency file goes (the client's file).
    DepsFile,
    /// `-MT T`, `-MQ T`: the dependency target.
    DepsTarget,
}

/// What distcc does with an option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Changes what code is made or which diagnostics are shown, and
    /// nothing else: distributable.
    Dist,
    /// `-march=`, `-mtune=`, `-mcpu=`: distributable, but `native` means
    /// the CPU of whichever machine compiles.
    Cpu,
    /// A preprocessor option (see [`Cpp`]): the client's preprocessor reads
    /// it in plain mode, the server's in pump mode; inert for preprocessed
    /// input.
    Cpp(Cpp),
    /// A linker option: inert when the driver stops at `-c` or `-S`.
    Link,
    /// `-c`.
    Compile,
    /// `-S`.
    Assemble,
    /// `-o FILE`.
    Output,
    /// `-x LANG`.
    Language,
    /// `-Wa,X` / `-Xassembler X`: the values go to the assembler and are
    /// checked against [`assembler`].
    Assembler,
    /// `-Wp,X` / `-Xpreprocessor X`: the values go to the preprocessor.
    Preprocessor,
    /// `-fdump-...`, `-fopt-info...`: dumps into the job's directory are
    /// fine; `=FILE` names a file elsewhere.
    Dump,
    /// distcc 3.4 compiles it here; so do we.
    Local(Why),
    /// distcc 3.4 would distribute it; our daemon refuses it, so our
    /// client compiles it here (listed in the README with the reason).
    Refused(Why),
}

/// Why an option must not run on a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// `-E`: only preprocesses.
    PreprocessOnly,
    /// `-M`, `-MM`, ...: only lists dependencies.
    DependencyOnly,
    /// `-flto`: 3.4 keeps link-time optimisation local.
    Lto,
    /// Assembler listings and dependency files (`-Wa,-a...`, `--MD`).
    AssemblerListing,
    /// `-specs=`: a spec file can run any command.
    Specs,
    /// Profile data or coverage notes live on the client.
    Profile,
    /// `-frepo`: repository files live on the client.
    Repo,
    /// `-dr...`: RTL dumps.
    RtlDump,
    /// Makes the compiler load or run another program or plugin.
    RunsProgram,
    /// Makes the compiler read a file it names.
    ReadsFile,
    /// Makes the compiler write a file outside the job's directory.
    WritesFile,
    /// Asks the compiler a question instead of compiling.
    Query,
    /// Passes options on to a compiler stage we cannot check
    /// (`-Xclang`, `-mllvm`, offload compilers).
    PassesThrough,
    /// Changes the directories the driver works in or finds itself in.
    MovesDriver,
    /// A modules or precompiled-header build that needs files of the client.
    Modules,
    /// A rarely used option distcc does not check (gcc's `lto-dump`
    /// options, driver options of exotic targets).
    Rare,
    /// Not an option of gcc or clang that we know.
    Unknown,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PreprocessOnly => "only preprocesses",
            Self::DependencyOnly => "only lists dependencies",
            Self::Lto => "needs the local linker plugin",
            Self::AssemblerListing => "writes a local assembler file",
            Self::Specs => "reads a local spec file",
            Self::Profile => "reads or writes local profile data",
            Self::Repo => "writes a local repository file",
            Self::RtlDump => "writes local RTL dumps",
            Self::RunsProgram => "makes the compiler load or run another program",
            Self::ReadsFile => "makes the compiler read a file it names",
            Self::WritesFile => "makes the compiler write a file outside the job",
            Self::Query => "asks the compiler a question instead of compiling",
            Self::PassesThrough => "passes options on to a compiler stage distcc cannot check",
            Self::MovesDriver => "changes where the compiler driver looks for itself or works",
            Self::Modules => "needs module or precompiled-header files of this machine",
            Self::Rare => "is a rarely used option distcc does not distribute",
            Self::Unknown => "is not an option distcc knows",
        })
    }
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The canonical spelling (or prefix) of the option.
    pub name: &'static str,
    /// How its value is written.
    pub arity: Arity,
    /// What it means.
    pub class: Class,
}

/// One option of a command line, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opt {
    /// The row or family rule it matched (for messages): `-I`, `-W...`.
    pub name: &'static str,
    /// What it means.
    pub class: Class,
    /// Its value, if it has one.
    pub value: Option<OsString>,
    /// How the daemon writes it: the canonical spelling, one or two words.
    pub canonical: Vec<OsString>,
    /// How many elements of the command line it took (1 or 2).
    pub used: usize,
}

/// Why an argument could not be read as an option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptError {
    /// No row or family matches it.
    Unknown,
    /// It needs a value and there is none after it.
    MissingValue(&'static str),
}

/// Read the option at `argv[i]` (which starts with `-` and is not `-`).
pub fn read(argv: &[OsString], i: usize, dialect: Dialect) -> Result<Opt, OptError> {
    let arg = argv[i].as_os_str();
    // A long spelling becomes the canonical one first; its value may be
    // joined (`--output=x.o`) or the next element (`--output x.o`).
    let (word, spelled_value, from_next) = match spelling::canonical(arg, argv.get(i + 1), dialect)
    {
        spelling::Spelled::Same => (arg.to_os_string(), None, false),
        spelling::Spelled::As {
            option,
            value,
            next,
        } => (option, value, next),
        spelling::Spelled::Unknown => return Err(OptError::Unknown),
    };
    let used_before = if from_next { 2 } else { 1 };
    let mut opt = match spelled_value {
        // `--include-directory=D` became `-I` with the value D.
        Some(value) => with_value(&word, value)?,
        None => match_word(&word, argv.get(i + 1).filter(|_| !from_next))?,
    };
    opt.used += used_before - 1;
    Ok(opt)
}

/// A canonical option name that takes `value` (from a long spelling).
fn with_value(name: &OsStr, value: OsString) -> Result<Opt, OptError> {
    let row = index::named(bytes(name)).ok_or(OptError::Unknown)?;
    let canonical = match row.arity {
        // Two words where the option allows it: `--output=x.o` → `-o x.o`.
        Arity::Separate | Arity::JoinedOrSeparate => vec![name.to_os_string(), value.clone()],
        Arity::Joined => vec![super::os::joined(row.name, &value)],
        Arity::Flag | Arity::Prefix => return Err(OptError::Unknown),
    };
    Ok(Opt {
        name: row.name,
        class: row.class,
        value: Some(value),
        canonical,
        used: 1,
    })
}

/// Match a word (already canonical) against the rows, then the families.
fn match_word(word: &OsStr, next: Option<&OsString>) -> Result<Opt, OptError> {
    let b = bytes(word);
    for row in index::candidates(b) {
        let exact = row.name.as_bytes() == b;
        let rest = &b[row.name.len()..];
        let one = |value: Option<OsString>| Opt {
            name: row.name,
            class: row.class,
            value,
            canonical: vec![word.to_os_string()],
            used: 1,
        };
        match row.arity {
            Arity::Flag if exact => return Ok(one(None)),
            Arity::Prefix => return Ok(one(Some(os(rest).to_os_string()))),
            Arity::Joined if !exact => return Ok(one(Some(os(rest).to_os_string()))),
            Arity::JoinedOrSeparate if !exact => return Ok(one(Some(os(rest).to_os_string()))),
            Arity::Separate | Arity::JoinedOrSeparate if exact => {
                let value = next.ok_or(OptError::MissingValue(row.name))?;
                return Ok(Opt {
                    name: row.name,
                    class: row.class,
                    value: Some(value.clone()),
                    canonical: vec![word.to_os_string(), value.clone()],
                    used: 2,
                });
            }
            _ => {}
        }
    }
    // gcc accepts `-fno-` before any `-f` option, those with a value too
    // (`-fno-offload=nvptx-none`); such a form means what the positive
    // one does, at worst, so it gets the positive row's class.
    if let Some(rest) = b.strip_prefix(b"-fno-") {
        if rest.contains(&b'=') {
            let positive = [b"-f", rest].concat();
            if let Ok(opt) = match_word(os(&positive), None) {
                return Ok(Opt {
                    canonical: vec![word.to_os_string()],
                    ..opt
                });
            }
        }
    }
    families::classify(b)
        .map(|(name, class)| Opt {
            name,
            class,
            value: None,
            canonical: vec![word.to_os_string()],
            used: 1,
        })
        .ok_or(OptError::Unknown)
}

#[cfg(test)]
mod tests;
