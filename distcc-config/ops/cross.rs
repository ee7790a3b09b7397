//! Cross toolchains (packaging notes §7).
//!
//! Volunteer side (`--cross-links DIR`, ALARM's "strip the prefix" set-up,
//! §7.4): inside a toolchain's bin directory, link the unprefixed compiler
//! names to the `TRIPLE-` ones (`gcc -> aarch64-unknown-linux-gnu-gcc`),
//! plus `cc`/`c++` and `TRIPLE-cc`/`TRIPLE-c++`, so a distccd with that
//! directory first in its PATH compiles for the target whatever name the
//! client sends. Only compiler names are linked, never binutils, so the
//! directory does not shadow the host's `as` or `ld` for anything else.
//!
//! Client side (`--cross-wrapper CHOST`, Gentoo's "Distcc/Cross-Compiling"
//! guide, §7.3): `cc gcc c++ g++` in the masquerade directory point to a
//! `CHOST-wrapper` script that runs `CHOST-gcc`/`CHOST-g++` through distcc,
//! so a volunteer with several compilers always gets the fully named one.

use std::collections::{BTreeMap, BTreeSet};

use super::masq::Entry;
use super::patterns::Patterns;

/// The triple of a toolchain directory: the prefix of its `*-gcc` (or
/// `*-clang`) executables, which must be unique.
pub fn detect_triple(names: &BTreeSet<String>) -> Result<String, String> {
    let triples: BTreeSet<&str> = names
        .iter()
        .filter_map(|n| n.strip_suffix("-gcc").or_else(|| n.strip_suffix("-clang")))
        .filter(|t| t.contains('-'))
        .collect();
    match triples.len() {
        1 => Ok(triples.into_iter().next().unwrap_or_default().to_owned()),
        0 => Err("no TRIPLE-gcc or TRIPLE-clang in this directory; give --triple".to_owned()),
        _ => Err(format!(
            "several triples here ({}); choose one with --triple",
            triples.into_iter().collect::<Vec<_>>().join(", ")
        )),
    }
}

/// One link to make in the toolchain directory: `name -> target`, both
/// plain file names in that directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    pub target: String,
}

/// The links for a toolchain directory, and notes on entries left alone.
pub fn toolchain_links(
    patterns: &Patterns,
    triple: &str,
    entries: &BTreeMap<String, Entry>,
) -> (Vec<Link>, Vec<String>) {
    let prefix = format!("{triple}-");
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    for name in entries.keys() {
        if let Some(base) = name.strip_prefix(&prefix) {
            if !base.is_empty() && patterns.group_of(base).is_some() {
                want.insert(base.to_owned(), name.clone());
            }
        }
    }
    // `cc` and `c++` are what many builds call; crosstool-ng does not
    // always install TRIPLE-cc (ALARM's create_links adds a cc link).
    let extra = [("gcc", "cc"), ("g++", "c++")];
    for (from, alias) in extra {
        let full = format!("{prefix}{from}");
        if entries.contains_key(&full) {
            let full_alias = format!("{prefix}{alias}");
            let alias_target = if entries.contains_key(&full_alias) {
                full_alias.clone()
            } else {
                want.insert(full_alias, full.clone());
                full.clone()
            };
            want.entry(alias.to_owned()).or_insert(alias_target);
        }
    }
    let mut links = Vec::new();
    let mut notes = Vec::new();
    for (name, target) in want {
        match entries.get(&name) {
            None => links.push(Link { name, target }),
            // Already the toolchain's (`cc -> TRIPLE-gcc` from a first run,
            // before TRIPLE-cc existed): fine as it is.
            Some(Entry::Link(t)) if *t == target || t.starts_with(&prefix) => {}
            Some(_) => notes.push(format!("{name} already exists: left alone")),
        }
    }
    (links, notes)
}

/// The compiler base names the Gentoo wrapper takes over.
pub const WRAPPED: [&str; 4] = ["cc", "gcc", "c++", "g++"];

/// The wrapper script for `chost`, which runs `<masq_dir>/<chost>-gcc`
/// or `-g++` by the name it was called as. POSIX sh (the guide's version
/// needs bash).
pub fn wrapper_script(chost: &str, masq_dir: &str) -> String {
    format!(
        "#!/bin/sh\n\
         # Written by distcc-config --cross-wrapper {chost}: plain cc/gcc/c++/g++\n\
         # go to {chost}'s compilers through distcc, so that volunteers with\n\
         # several compilers use the right one (Gentoo's Distcc/Cross-Compiling).\n\
         case ${{0##*/}} in\n\
         \x20   c++|g++) exec {masq_dir}/{chost}-g++ \"$@\" ;;\n\
         \x20   *) exec {masq_dir}/{chost}-gcc \"$@\" ;;\n\
         esac\n"
    )
}

/// Whether a CHOST looks like a target triple (letters, digits, `_`, `.`
/// and at least one `-`), so it is safe to put in a file name and script.
pub fn valid_chost(chost: &str) -> bool {
    chost.contains('-')
        && !chost.starts_with('-')
        && chost
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> BTreeMap<String, Entry> {
        list.iter()
            .map(|n| ((*n).to_owned(), Entry::File))
            .collect()
    }

    #[test]
    fn triple_detection() {
        let set = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        assert_eq!(
            detect_triple(&set(&[
                "aarch64-unknown-linux-gnu-gcc",
                "aarch64-unknown-linux-gnu-ld"
            ])),
            Ok("aarch64-unknown-linux-gnu".to_owned())
        );
        assert!(
            detect_triple(&set(&["ld", "as"]))
                .unwrap_err()
                .contains("--triple")
        );
        assert!(
            detect_triple(&set(&["a-b-gcc", "c-d-gcc"]))
                .unwrap_err()
                .contains("a-b, c-d")
        );
    }

    #[test]
    fn strip_prefix_links_cover_compilers_and_cc_but_not_binutils() {
        let t = "aarch64-unknown-linux-gnu";
        let dir = names(&[
            "aarch64-unknown-linux-gnu-gcc",
            "aarch64-unknown-linux-gnu-g++",
            "aarch64-unknown-linux-gnu-cpp",
            "aarch64-unknown-linux-gnu-gcc-13",
            "aarch64-unknown-linux-gnu-ld",
            "aarch64-unknown-linux-gnu-as",
        ]);
        let (links, notes) = toolchain_links(&Patterns::builtin(), t, &dir);
        let got: Vec<_> = links
            .iter()
            .map(|l| format!("{} -> {}", l.name, l.target))
            .collect();
        assert_eq!(
            got,
            [
                "aarch64-unknown-linux-gnu-c++ -> aarch64-unknown-linux-gnu-g++",
                "aarch64-unknown-linux-gnu-cc -> aarch64-unknown-linux-gnu-gcc",
                "c++ -> aarch64-unknown-linux-gnu-g++",
                "cc -> aarch64-unknown-linux-gnu-gcc",
                "cpp -> aarch64-unknown-linux-gnu-cpp",
                "g++ -> aarch64-unknown-linux-gnu-g++",
                "gcc -> aarch64-unknown-linux-gnu-gcc",
                "gcc-13 -> aarch64-unknown-linux-gnu-gcc-13",
            ]
        );
        assert!(notes.is_empty());
    }

    #[test]
    fn existing_entries_are_kept() {
        let t = "arm-x-linux";
        let mut dir = names(&["arm-x-linux-gcc", "arm-x-linux-cc", "gcc"]);
        dir.insert("cc".into(), Entry::Link("arm-x-linux-cc".into()));
        let (links, notes) = toolchain_links(&Patterns::builtin(), t, &dir);
        assert!(links.is_empty(), "{links:?}");
        assert_eq!(notes, ["gcc already exists: left alone"]);
    }

    #[test]
    fn wrapper_script_dispatches_on_the_last_two_letters() {
        let s = wrapper_script("x86_64-pc-linux-gnu", "/usr/lib/distcc");
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains("c++|g++) exec /usr/lib/distcc/x86_64-pc-linux-gnu-g++ \"$@\" ;;"));
        assert!(s.contains("*) exec /usr/lib/distcc/x86_64-pc-linux-gnu-gcc \"$@\" ;;"));
        assert!(valid_chost("x86_64-pc-linux-gnu"));
        assert!(!valid_chost("gcc"));
        assert!(!valid_chost("a-b; rm -rf /"));
    }
}
