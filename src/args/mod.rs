//! The compiler command-line scanner (spec §3.3-3.6): pure, no I/O.
//!
//! Used by the client (should this job go to another machine?) and by the
//! daemon (is this request a single compile, and may it run here?). Where
//! distcc 3.4's `dcc_scan_args` keeps a job local it stays local; beyond
//! that, every argument must be allowed by the one option table, so the
//! client never sends what the daemon would refuse (issue 10).
//!
//! * [`options`]: THE option table, an allowlist of every spelling.
//! * [`scan()`]: the one scan, returning [`Scan::Distribute`] or
//!   [`Scan::Local`] with a [`LocalReason`] ("run locally" is an outcome,
//!   never an error).
//! * [`os`]: arguments as bytes (`OsString` end to end).
//! * [`rewrite`]: `-Wp,` expansion, the server argv, the cpp argv.
//! * [`ext`]: source and preprocessed extensions.
//! * [`driver`]: reading `gcc -###` output.
//! * [`outputs`]: the side files a compile writes beside its object.
//!
//! Reading `@file`s, resolving `-march=native` and cross rewriting need the
//! file system or the compiler, so they live in the client.

pub mod driver;
pub mod ext;
pub mod makerule;
pub mod options;
pub mod os;
pub mod outputs;
pub mod plain;
pub mod rewrite;
mod scan;

use std::ffi::{OsStr, OsString};
use std::fmt;

pub use options::Why;

pub use ext::{is_preprocessed, is_source, preprocessed_ext};
pub use outputs::{SideOutputs, side_outputs};
pub use rewrite::{
    cpp_argv, expand_wp, has_driver_deps, preprocessed_languages, strip_local_args,
    without_preprocessor_options,
};
pub use scan::{scan, scan_with};

/// The scanner's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scan {
    /// A single compile that may run on another machine.
    Distribute(Job),
    /// Must run on this machine, and why.
    Local(LocalReason),
}

/// Where the compile stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopAt {
    /// `-c`: an object file.
    Compile,
    /// `-S` (beats `-c`): assembler source.
    Assemble,
}

impl StopAt {
    /// Suffix of the output name derived from the input when there is no
    /// `-o`: `.o` or `.s`.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Compile => ".o",
            Self::Assemble => ".s",
        }
    }
}

/// How the output was named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputForm {
    /// `-o FILE`: `output_index` is the value, the `-o` sits just before.
    Separate,
    /// `-oFILE`: `output_index` is that element.
    Joined,
    /// A bare word ending in `.o` (3.4 takes it as the output).
    Bare,
    /// No output was given: `-o <input basename>.o|.s` was appended.
    Derived,
}

/// A distributable compile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// The command in canonical spelling, with `-o <derived>` appended when
    /// there was no output.
    pub argv: Vec<OsString>,
    /// Index in `argv` of the source file.
    pub input_index: usize,
    /// Index of the element holding the output: the value after `-o`, or
    /// the joined `-oFILE` element.
    pub output_index: usize,
    /// True for `-oFILE`.
    pub output_joined: bool,
    /// How the output was given.
    pub output_form: OutputForm,
    /// The source file as written.
    pub input: OsString,
    /// The output file as written (or derived).
    pub output: OsString,
    /// `-c` or `-S`.
    pub stop_at: StopAt,
}

impl Job {
    /// The argv with the input and output replaced (the daemon points them
    /// at its temp files; the joined form stays joined).
    pub fn with_input_output(&self, input: &OsStr, output: &OsStr) -> Vec<OsString> {
        let mut argv = self.argv.clone();
        argv[self.input_index] = input.to_os_string();
        argv[self.output_index] = if self.output_joined {
            os::joined("-o", output)
        } else {
            output.to_os_string()
        };
        argv
    }
}

/// Why a command must run on this machine. `Display` gives the text after
/// "running locally because ".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalReason {
    /// `-E`.
    PreprocessOnly,
    /// `-M`, `-MM`, ... (dependency output only).
    DependencyOnly(String),
    /// `-march=native` / `-mtune=native`.
    Native(String),
    /// `-flto`.
    Lto,
    /// `-Wa,...` writing a listing or dependency file.
    AssemblerListing(String),
    /// `-specs=...`.
    Specs(String),
    /// Profiling or coverage options.
    Profile(String),
    /// `-frepo`.
    Repo,
    /// `-x LANG` with a language other than C, C++, Objective-C(++) or Go.
    Language(String),
    /// `-dr...`.
    RtlDump(String),
    /// Neither `-c` nor `-S` (linking, or a driver query).
    NotCompiling,
    /// No source file on the command line.
    NoInput,
    /// Two source files.
    TwoInputs(String, String),
    /// Two outputs (usually a link).
    TwoOutputs(String, String),
    /// `-o` with nothing after it.
    MissingOutput,
    /// An autoconf probe (`conftest.*`).
    Conftest(String),
    /// `-o -`.
    OutputToStdout,
    /// An option our daemon refuses (distcc 3.4 would distribute it), or
    /// one the option table does not know.
    Refused {
        /// The argument as written.
        arg: String,
        /// What it would do on a server.
        why: Why,
    },
    /// A question to the compiler (`--version`, `-print-search-dirs`).
    Query(String),
    /// A word that is neither an option, the source nor the output.
    ExtraWord(String),
    /// An option whose value is missing.
    MissingValue(String),
    /// Beyond the request caps distccd enforces (issue 10).
    TooLarge(String),
    /// A side output a server cannot make as it would be made here
    /// ([`outputs`]); the text says which and why.
    SideOutput(String),
}

impl LocalReason {
    /// 3.4 runs `-E` under a local *cpp* slot (`EXIT_LOCAL_CPP`), every
    /// other local job under a compile slot.
    pub fn is_preprocess_only(&self) -> bool {
        matches!(self, Self::PreprocessOnly)
    }
}

impl fmt::Display for LocalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PreprocessOnly => write!(f, "-E only preprocesses"),
            Self::DependencyOnly(a) => write!(f, "{a} only lists dependencies"),
            Self::Native(a) => write!(f, "{a} would mean the remote machine's CPU"),
            Self::Lto => write!(f, "-flto needs the local linker plugin"),
            Self::AssemblerListing(a) => write!(f, "{a} writes a local assembler file"),
            Self::Specs(a) => write!(f, "{a} reads a local spec file"),
            Self::Profile(a) => write!(f, "{a} reads or writes local profile data"),
            Self::Repo => write!(f, "-frepo writes a local repository file"),
            Self::Language(l) => write!(f, "-x {l} is not a C-family language"),
            Self::RtlDump(a) => write!(f, "{a} writes local RTL dumps"),
            Self::NotCompiling => write!(f, "there is no -c or -S (linking?)"),
            Self::NoInput => write!(f, "there is no source file to compile"),
            Self::TwoInputs(a, b) => write!(f, "there are two source files ({a}, {b})"),
            Self::TwoOutputs(a, b) => write!(f, "there are two outputs ({a}, {b}); linking?"),
            Self::MissingOutput => write!(f, "-o has no file name after it"),
            Self::Conftest(i) => write!(f, "{i} is an autoconf test"),
            Self::OutputToStdout => write!(f, "the output goes to stdout (-o -)"),
            Self::Refused {
                arg,
                why: Why::Unknown,
            } => write!(
                f,
                "{arg} is not an option distcc knows (distccd refuses what it does not know)"
            ),
            Self::Refused { arg, why } => write!(f, "{arg} {why} (distccd refuses it)"),
            Self::Query(a) => write!(f, "{a} asks the compiler a question"),
            Self::ExtraWord(w) => write!(
                f,
                "the word '{w}' is neither an option, the source nor the output \
                 (a server could not read it)"
            ),
            Self::MissingValue(o) => write!(f, "{o} has no value after it"),
            Self::TooLarge(what) => write!(f, "{what} is more than distccd accepts in a request"),
            Self::SideOutput(why) => write!(f, "{why}"),
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod agree_tests;
