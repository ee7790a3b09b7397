//! The option table of the argument scanner (spec §3.4): one sorted static
//! slice, looked up by longest match (style.md, example 5).
//!
//! distcc 3.4 checks its rules as an ordered `if`/`else if` chain. Every
//! rule that comes earlier in that chain and overlaps a later one is more
//! specific (`-MD` before `-M...`, `-MF` before `-MF...`), so "the longest
//! matching entry wins" gives the same answers; the table tests check the
//! cases where it matters.

/// How an entry matches an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// The argument equals the name.
    Exact,
    /// The argument starts with the name.
    Prefix,
    /// The argument equals the name and takes the next element as its
    /// value, or starts with the name and carries the value joined.
    Value,
}

/// What the scanner does when an entry matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Allowed; nothing to note (dependency options, `-MF X`, ...).
    Allow,
    /// `-E`: preprocess only, always local.
    PreprocessOnly,
    /// `-M`, `-MM`, ...: dependency generation only, always local.
    DependencyOnly,
    /// `-march=native` / `-mtune=native`: means the remote host's CPU.
    Native,
    /// `-flto` (exact): 3.4 keeps link-time optimisation local.
    Lto,
    /// `-Wa,...`: local when it asks for a listing file (`,-a`) or `--MD`.
    Assembler,
    /// `-specs=...`: the spec file lives on the client.
    Specs,
    /// Profiling/coverage: the data files live on the client.
    Profile,
    /// `-frepo`: the repository files live on the client.
    Repo,
    /// `-x LANG`: local unless the *next* element names a C-family language.
    Language,
    /// `-dr...`: RTL dumps are written next to the output.
    RtlDump,
    /// `-c`.
    Compile,
    /// `-S`.
    Assemble,
    /// `-o FILE` / `-oFILE`.
    Output,
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The option text (or prefix).
    pub name: &'static str,
    /// How it matches.
    pub kind: Match,
    /// What it means.
    pub action: Action,
}

const fn e(name: &'static str, kind: Match, action: Action) -> Entry {
    Entry { name, kind, action }
}

use Action::*;
use Match::*;

/// The rules of `dcc_scan_args`, sorted by `name` (byte order), then by
/// kind. Options not listed are allowed and ignored.
pub static OPTIONS: &[Entry] = &[
    e("--coverage", Exact, Profile),
    e("-E", Exact, PreprocessOnly),
    e("-M", Prefix, DependencyOnly),
    e("-MD", Exact, Allow),
    e("-MF", Value, Allow),
    e("-MG", Exact, Allow),
    e("-MMD", Exact, Allow),
    e("-MP", Exact, Allow),
    e("-MQ", Value, Allow),
    e("-MT", Value, Allow),
    e("-S", Exact, Assemble),
    e("-Wa,", Prefix, Assembler),
    e("-c", Exact, Compile),
    e("-dr", Prefix, RtlDump),
    e("-fauto-profile", Prefix, Profile),
    e("-flto", Exact, Lto),
    e("-fprofile-arcs", Exact, Profile),
    e("-fprofile-correction", Exact, Profile),
    e("-fprofile-generate", Prefix, Profile),
    e("-fprofile-use", Prefix, Profile),
    e("-frepo", Exact, Repo),
    e("-ftest-coverage", Exact, Profile),
    e("-march=native", Exact, Native),
    e("-mtune=native", Exact, Native),
    e("-o", Value, Output),
    e("-specs=", Prefix, Specs),
    e("-x", Prefix, Language),
];

/// How an argument matched an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    /// A flag or prefix entry, or a `Value` entry in joined form
    /// (`-oFILE`): the value is `&arg[name.len()..]`.
    Joined(Entry),
    /// A `Value` entry written as its own element: the value is the next one.
    Separate(Entry),
}

impl Entry {
    fn hit(&self, arg: &str) -> Option<Hit> {
        match self.kind {
            Exact => (arg == self.name).then_some(Hit::Joined(*self)),
            Prefix => arg.starts_with(self.name).then_some(Hit::Joined(*self)),
            Value if arg == self.name => Some(Hit::Separate(*self)),
            Value => arg.starts_with(self.name).then_some(Hit::Joined(*self)),
        }
    }
}

/// The longest entry matching `arg`, if any.
///
/// Every entry that is a prefix of `arg` sorts at or before `arg`, and a
/// longer prefix sorts after a shorter one, so walking back from the last
/// entry `<= arg` finds the longest match first. Every name is at least two
/// bytes long; once the first two bytes differ no earlier entry can match.
pub fn lookup(arg: &str) -> Option<Hit> {
    let end = OPTIONS.partition_point(|e| e.name <= arg);
    let head = arg.as_bytes().get(..2)?;
    for entry in OPTIONS[..end].iter().rev() {
        if &entry.name.as_bytes()[..2] < head {
            break;
        }
        if let Some(hit) = entry.hit(arg) {
            return Some(hit);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_names_are_long_enough() {
        for pair in OPTIONS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} must sort before {}",
                pair[0].name,
                pair[1].name
            );
        }
        for entry in OPTIONS {
            assert!(entry.name.len() >= 2 && entry.name.starts_with('-'));
        }
    }

    #[test]
    fn lookup_finds_the_longest_match() {
        use Hit::*;
        let find = |name: &str| *OPTIONS.iter().find(|e| e.name == name).unwrap();
        const CASES: &[(&str, Option<(&str, bool)>)] = &[
            // (arg, Some((entry name, separate value)))
            ("-E", Some(("-E", false))),
            ("-Ex", None),
            ("-MD", Some(("-MD", false))),
            ("-MDx", Some(("-M", false))),
            ("-MM", Some(("-M", false))),
            ("-M", Some(("-M", false))),
            ("-MF", Some(("-MF", true))),
            ("-MFdeps.d", Some(("-MF", false))),
            ("-MMD", Some(("-MMD", false))),
            ("-o", Some(("-o", true))),
            ("-ofoo.o", Some(("-o", false))),
            ("-O2", None),
            ("-march=native", Some(("-march=native", false))),
            ("-march=x86-64", None),
            (
                "-fprofile-generate=dir",
                Some(("-fprofile-generate", false)),
            ),
            ("-fprofile-update=atomic", None),
            ("-flto", Some(("-flto", false))),
            ("-flto=auto", None),
            ("-xc", Some(("-x", false))),
            ("-Wall", None),
            ("-Wa,-alh", Some(("-Wa,", false))),
            ("-c", Some(("-c", false))),
            ("-dr", Some(("-dr", false))),
            ("-dD", None),
            ("--coverage", Some(("--coverage", false))),
            ("-", None),
            ("", None),
        ];
        for &(arg, want) in CASES {
            let got = lookup(arg);
            let want = want.map(|(name, sep)| {
                if sep {
                    Separate(find(name))
                } else {
                    Joined(find(name))
                }
            });
            assert_eq!(got, want, "lookup({arg:?})");
        }
    }
}
