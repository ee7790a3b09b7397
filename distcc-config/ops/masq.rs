//! The masquerade directory (/usr/lib/distcc): which links should exist
//! and the plan that gets there from what does exist. Pure: the driver
//! (cmd/masquerade.rs) lists directories and carries the plan out.
//!
//! Rules (packaging notes §1.2, §1.3, §6):
//! * a name is wanted when an executable of that name was found (in
//!   /usr/bin, PATH or a registered cross toolchain directory) and the
//!   compiler patterns accept it; `--update-masquerade-with-crossdev`
//!   keeps only `TRIPLE-` prefixed names, as Gentoo's does;
//! * only links whose target is a file called `distcc` are ours: they are
//!   created, retargeted (absolute <-> relative) and removed when stale.
//!   Anything else (a file, a link to a cross wrapper) is left alone;
//! * `bin` is never removed: a `bin -> .` link (Gentoo, our Arch package)
//!   is the directory Portage and makepkg use; a real `bin/` directory
//!   (Arch's older packages) gets the same links.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::patterns::Patterns;

/// Which names `--update-masquerade` links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every compiler found.
    All,
    /// Only `TRIPLE-` prefixed names (`--update-masquerade-with-crossdev`).
    PrefixedOnly,
}

/// What is in a directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A symbolic link and its target, as written.
    Link(String),
    /// A regular file (or anything that is neither a link nor a directory).
    File,
    /// A directory.
    Dir,
}

/// The state of `<masquerade>/bin`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bin {
    /// Missing; `create` says whether the distribution wants `bin -> .`.
    Missing { create: bool },
    /// A link to the masquerade directory itself.
    LinkToSelf,
    /// A link somewhere else, or a regular file.
    Other(String),
    /// A real directory with these entries.
    Dir(BTreeMap<String, Entry>),
}

/// Which of the two directories an operation is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sub {
    Top,
    Bin,
}

/// One change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Create {
        sub: Sub,
        name: String,
        target: String,
    },
    Retarget {
        sub: Sub,
        name: String,
        old: String,
        target: String,
    },
    Remove {
        sub: Sub,
        name: String,
        old: String,
    },
    /// `bin -> .`
    BinLink,
}

/// What to do, and what was left alone and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub ops: Vec<Op>,
    pub notes: Vec<String>,
}

/// The link targets to write in each directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Targets {
    pub top: String,
    pub bin: String,
}

/// Whether a name carries a `TRIPLE-` prefix: after dropping a `-<digit>...`
/// version, the part before the last `-` still contains a `-`
/// (`x86_64-pc-linux-gnu-gcc-13` yes; `gcc-13`, `c89-gcc`, `clang++` no).
pub fn is_prefixed(name: &str) -> bool {
    let unversioned = match version_start(name) {
        Some(i) => &name[..i],
        None => name,
    };
    unversioned
        .rfind('-')
        .is_some_and(|i| unversioned[..i].contains('-'))
}

/// Byte index of the `-` that starts a trailing `-<digit>...` version.
fn version_start(name: &str) -> Option<usize> {
    name.match_indices('-')
        .map(|(i, _)| i)
        .find(|&i| name[i + 1..].starts_with(|c: char| c.is_ascii_digit()))
}

/// The names to link, from the executables found.
pub fn wanted<'a>(
    patterns: &Patterns,
    found: impl IntoIterator<Item = &'a str>,
    mode: Mode,
) -> BTreeSet<String> {
    found
        .into_iter()
        .filter(|n| patterns.group_of(n).is_some())
        .filter(|n| mode == Mode::All || is_prefixed(n))
        .map(str::to_owned)
        .collect()
}

/// Whether a link target is the distcc binary (so the link is ours).
pub fn is_distcc_target(target: &str) -> bool {
    Path::new(target).file_name().is_some_and(|f| f == "distcc")
}

/// Whether a link target is a cross wrapper script (Gentoo's set-up).
pub fn is_wrapper_target(target: &str) -> bool {
    Path::new(target)
        .file_name()
        .is_some_and(|f| f.to_string_lossy().ends_with("-wrapper"))
}

/// The plan from `top` (and `bin`) to `wanted`.
pub fn plan(
    wanted: &BTreeSet<String>,
    top: &BTreeMap<String, Entry>,
    bin: &Bin,
    targets: &Targets,
) -> Plan {
    let mut plan = Plan::default();
    plan_dir(&mut plan, Sub::Top, wanted, top, &targets.top);
    match bin {
        Bin::Missing { create: true } => plan.ops.push(Op::BinLink),
        Bin::Missing { create: false } | Bin::LinkToSelf => {}
        Bin::Other(what) => plan.notes.push(format!(
            "bin is {what}, not the usual `bin -> .` link: left alone"
        )),
        Bin::Dir(entries) => plan_dir(&mut plan, Sub::Bin, wanted, entries, &targets.bin),
    }
    plan
}

fn plan_dir(
    plan: &mut Plan,
    sub: Sub,
    wanted: &BTreeSet<String>,
    entries: &BTreeMap<String, Entry>,
    target: &str,
) {
    let prefix = if sub == Sub::Bin { "bin/" } else { "" };
    for name in wanted {
        match entries.get(name) {
            None => plan.ops.push(Op::Create {
                sub,
                name: name.clone(),
                target: target.to_owned(),
            }),
            Some(Entry::Link(t)) if t == target => {}
            Some(Entry::Link(t)) if is_wrapper_target(t) => plan
                .notes
                .push(format!("{prefix}{name} -> {t} kept (cross wrapper)")),
            Some(Entry::Link(t)) if is_distcc_target(t) => plan.ops.push(Op::Retarget {
                sub,
                name: name.clone(),
                old: t.clone(),
                target: target.to_owned(),
            }),
            Some(Entry::Link(t)) => plan.notes.push(format!(
                "{prefix}{name} -> {t} left alone: not a link to distcc"
            )),
            Some(_) => plan
                .notes
                .push(format!("{prefix}{name} left alone: not a symbolic link")),
        }
    }
    for (name, entry) in entries {
        if let Entry::Link(t) = entry {
            if name != "bin" && !wanted.contains(name) && is_distcc_target(t) {
                plan.ops.push(Op::Remove {
                    sub,
                    name: name.clone(),
                    old: t.clone(),
                });
            }
        }
    }
}

/// Gentoo's `gcc-config -C -l` output → (CHOST, version) per profile.
/// Lines look like ` [1] x86_64-pc-linux-gnu-13 *`; the `Using gcc-config
/// info in ROOT` header and blank lines are skipped. The version starts at
/// the first `-` followed by a digit, so `11.0.0-pre9999` stays whole
/// (Gentoo's greedy split makes it CHOST `...-gnu-11.0.0`).
pub fn gcc_config_profiles(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter_map(|line| {
            let mut cols = line.split_whitespace();
            let first = cols.next()?;
            if !(first.starts_with('[') && first.ends_with(']')) {
                return None;
            }
            let profile = cols.next()?;
            let i = version_start(profile)?;
            Some((profile[..i].to_owned(), profile[i + 1..].to_owned()))
        })
        .collect()
}

/// The names Gentoo's script links for one profile (when they exist in
/// /usr/bin): `CHOST-{gcc,cc,c++,g++}` and the same with `-VERSION`.
pub fn profile_names(chost: &str, version: &str) -> Vec<String> {
    ["gcc", "cc", "c++", "g++"]
        .iter()
        .flat_map(|b| [format!("{chost}-{b}"), format!("{chost}-{b}-{version}")])
        .collect()
}

/// A relative link target from directory `from` to file `to`, both
/// absolute and lexically normal (`/usr/lib/distcc` → `/usr/bin/distcc`
/// gives `../../bin/distcc`).
pub fn relative_target(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
#[path = "masq_tests.rs"]
mod tests;
