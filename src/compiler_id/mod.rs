//! A compiler's identity (docs/extension.md §7, issue 12): what our client
//! sends in `XCID` and our daemon compares with the compiler it would
//! run, so that no object comes back from another version or another
//! target behind the same name.
//!
//! The pure part lives here: which questions a compiler is asked, the
//! identity text built from its answers and the hashes of the programs
//! it names, the comparison, `DISTCC_COMPILER_CHECK`, and the cache entry
//! that keeps an identity valid while the files it hashed are unchanged.
//! Running the compiler and reading files is [`files`]' and the callers'
//! (`client::compiler_id`, `daemon::compiler_id`).
//!
//! What is hashed is what turns a preprocessed file into the object:
//! the compiler proper (`cc1`, `cc1plus`; clang's own binary, which runs
//! `-cc1`), gcc's assembler and gcc's specs (what the driver passes to
//! them), each found by asking the compiler itself. The file the name
//! resolves to is not hashed: a wrapper on the PATH (ccache, a script
//! that runs the real gcc) would differ from the real driver while
//! producing the same objects, and a driver from another build of gcc
//! comes with another `cc1` and other specs.

pub mod elf;
pub mod entry;
pub mod files;

pub use entry::{Dep, Entry, differs_name, warned_name};

use std::fmt;

use ring::digest;

/// The identity text's first line; a later format changes the number.
pub const FORMAT: &str = "distcc-compiler-id 1";

/// `DISTCC_COMPILER_CHECK`: what the client does about a host whose
/// compiler differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Compile elsewhere or here, warn once per host and compiler (the
    /// default: an object from another compiler is never used).
    Refuse,
    /// Warn once, and use the host's object anyway.
    Warn,
    /// No check: no `XCID` is sent.
    Off,
}

impl Mode {
    /// The mode a value of `DISTCC_COMPILER_CHECK` asks for: unset or
    /// empty is [`Mode::Refuse`], which protects the user. An unknown
    /// value is an error saying so; the caller warns and refuses.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("" | "refuse") => Ok(Self::Refuse),
            Some("warn") => Ok(Self::Warn),
            Some("off" | "0") => Ok(Self::Off),
            Some(other) => Err(format!(
                "DISTCC_COMPILER_CHECK={other:?} (in the environment) is not refuse, warn or off"
            )),
        }
    }
}

/// Which kind of compiler answers: they are asked different questions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// gcc and anything else that answers like it.
    Gcc,
    /// clang: one binary is driver and compiler proper.
    Clang,
}

/// The first question, to every compiler: its banner tells the kind.
pub const BANNER_ARGS: &[&str] = &["--version"];

/// One question: the name of its answer and the arguments that ask it.
pub type Question = (&'static str, &'static [&'static str]);

/// The questions after the banner. gcc answers one `-dump`/`-print`
/// option per run, so each is a run of its own.
pub fn questions(kind: Kind) -> &'static [Question] {
    match kind {
        Kind::Gcc => &[
            ("fullversion", &["-dumpfullversion"]),
            ("version", &["-dumpversion"]),
            ("target", &["-dumpmachine"]),
            ("cc1", &["-print-prog-name=cc1"]),
            ("cc1plus", &["-print-prog-name=cc1plus"]),
            ("as", &["-print-prog-name=as"]),
            ("specs", &["-dumpspecs"]),
        ],
        // `-###` names the binary that runs `-cc1` (through any wrapper),
        // on stderr; it reads no input.
        Kind::Clang => &[
            ("version", &["-dumpversion"]),
            ("target", &["-dumpmachine"]),
            (
                "clang",
                &["-###", "-x", "c", "-c", "/dev/null", "-o", "/dev/null"],
            ),
        ],
    }
}

/// What a compiler run printed; `None` for a run that failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// Its stdout.
    pub stdout: Vec<u8>,
    /// Its stderr.
    pub stderr: Vec<u8>,
}

/// The kind of compiler whose `--version` printed `banner`.
pub fn kind(banner: &Answer) -> Kind {
    if first_line(&banner.stdout).contains("clang") {
        Kind::Clang
    } else {
        Kind::Gcc
    }
}

fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines().next().unwrap_or("").trim().to_owned()
}

/// What the answers say, before the programs they name are hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Fields known already: banner, version, target, hashed texts.
    pub fields: Vec<(String, String)>,
    /// Programs to hash: the field's name and the program as the compiler
    /// named it (a path, or a name it would find on its PATH).
    pub programs: Vec<(String, String)>,
}

/// Why a compiler has no identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoIdentity(pub String);

impl fmt::Display for NoIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Read the answers (`answer(name)` for each of [`questions`]) into a
/// plan. Version and target are required; a program the compiler does
/// not have (gcc without C++ prints the bare name `cc1plus`) is left out.
pub fn plan(
    kind: Kind,
    banner: &Answer,
    answer: impl Fn(&str) -> Option<Answer>,
) -> Result<Plan, NoIdentity> {
    let word = |name: &str| {
        answer(name)
            .map(|a| first_line(&a.stdout))
            .filter(|w| !w.is_empty() && !w.contains(char::is_whitespace))
    };
    let version = word("fullversion")
        .or_else(|| word("version"))
        .ok_or_else(|| NoIdentity("it does not say its version (-dumpversion)".into()))?;
    let target = word("target")
        .ok_or_else(|| NoIdentity("it does not say its target (-dumpmachine)".into()))?;
    let mut fields = vec![
        ("banner".to_owned(), first_line(&banner.stdout)),
        ("version".to_owned(), version),
        ("target".to_owned(), target),
    ];
    let mut programs = Vec::new();
    match kind {
        Kind::Gcc => {
            for name in ["cc1", "cc1plus"] {
                // A path: the compiler has it. A bare name: it does not.
                if let Some(p) = word(name).filter(|p| p.contains('/')) {
                    programs.push((name.to_owned(), p));
                }
            }
            if let Some(p) = word("as") {
                programs.push(("as".to_owned(), p));
            }
            let specs = answer("specs")
                .ok_or_else(|| NoIdentity("it does not print its specs (-dumpspecs)".into()))?;
            fields.push(("specs".to_owned(), hash_bytes(&specs.stdout)));
        }
        Kind::Clang => {
            let listing = answer("clang").map(|a| a.stderr).unwrap_or_default();
            let binary = cc1_binary(&String::from_utf8_lossy(&listing)).ok_or_else(|| {
                NoIdentity("its -### listing names no program running -cc1".into())
            })?;
            programs.push(("clang".to_owned(), binary));
        }
    }
    Ok(Plan { fields, programs })
}

/// The program of the `-###` line that runs `-cc1`: its first quoted word.
fn cc1_binary(listing: &str) -> Option<String> {
    listing
        .lines()
        .find(|l| l.contains("\"-cc1\""))
        .and_then(|l| l.trim().strip_prefix('"'))
        .and_then(|l| l.split('"').next())
        .map(str::to_owned)
}

/// The hash of some bytes as it appears in an identity.
pub fn hash_bytes(bytes: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, bytes).as_ref())
}

/// `sha256:` and the digest in lowercase hex.
pub fn hex(digest: &[u8]) -> String {
    let mut out = String::with_capacity(7 + 2 * digest.len());
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A compiler's identity: `key value` lines after [`FORMAT`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The format line (a newer peer's may differ).
    pub format: String,
    /// The fields, in order.
    pub fields: Vec<(String, String)>,
}

/// Fields shown to people and never compared.
const INFORMATIVE: &[&str] = &["banner"];
/// Fields every identity must have, compared whatever the format.
const REQUIRED: &[&str] = &["version", "target"];

impl Identity {
    /// The identity of a plan whose programs hashed to `hashes`.
    pub fn new(plan: Plan, hashes: Vec<(String, String)>) -> Self {
        let mut fields = plan.fields;
        // Programs before texts, in the plan's order: stable text.
        let at = fields.len().min(3);
        fields.splice(at..at, hashes);
        Self {
            format: FORMAT.to_owned(),
            fields,
        }
    }

    /// The value of field `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The bytes sent in `XCID` and `XCMM`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = format!("{}\n", self.format);
        for (k, v) in &self.fields {
            out.push_str(&format!("{k} {v}\n"));
        }
        out.into_bytes()
    }

    /// Parse what a peer sent (or a cache holds).
    pub fn parse(bytes: &[u8]) -> Result<Self, NoIdentity> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| NoIdentity("a compiler identity that is not UTF-8".into()))?;
        let mut lines = text.lines();
        let format = lines.next().unwrap_or("");
        if !format.starts_with("distcc-compiler-id ") {
            return Err(NoIdentity(format!(
                "a compiler identity that starts with {format:?}"
            )));
        }
        let mut fields = Vec::new();
        for line in lines.filter(|l| !l.is_empty()) {
            let (k, v) = line.split_once(' ').unwrap_or((line, ""));
            fields.push((k.to_owned(), v.to_owned()));
        }
        Ok(Self {
            format: format.to_owned(),
            fields,
        })
    }

    /// The fields in which `theirs` differs from this one (empty: the
    /// same compiler). Version and target must be stated by both and be
    /// equal. Between identities of the same format, every other field
    /// both state is compared too (the banner, for people, excepted); a
    /// program one side lacks (`cc1plus` without g++) is not compared:
    /// such a job fails there and is retried here, as without the check.
    pub fn differences(&self, theirs: &Self) -> Vec<String> {
        let mut out = Vec::new();
        for key in REQUIRED {
            if self.get(key).is_none() || self.get(key) != theirs.get(key) {
                out.push((*key).to_owned());
            }
        }
        if self.format != theirs.format {
            return out;
        }
        for (k, v) in &self.fields {
            if INFORMATIVE.contains(&k.as_str()) || REQUIRED.contains(&k.as_str()) {
                continue;
            }
            if theirs.get(k).is_some_and(|t| t != v) {
                out.push(k.clone());
            }
        }
        out
    }
}

impl fmt::Display for Identity {
    /// For people: the banner (or version) and the target.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self
            .get("banner")
            .filter(|b| !b.is_empty())
            .or_else(|| self.get("version"))
            .unwrap_or("?");
        write!(f, "{name}, target {}", self.get("target").unwrap_or("?"))
    }
}

#[cfg(test)]
mod tests;
