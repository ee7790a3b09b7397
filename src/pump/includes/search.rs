//! The include search path of one compile, as gcc builds it (GCC cpp
//! manual, "Search Path"; gcc's `incpath.c`): from the argv to the
//! ordered chain of directories that `#include` walks.
//!
//! Options that move the search in ways we do not model (`-I-`,
//! `-iprefix`, sysroots, frameworks, response files, ...) give up: the
//! caller then preprocesses locally, which is always correct.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::GiveUp;
use super::paths::Fs;

/// Where the compile looks for headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPath {
    /// `-iquote` directories: searched for `#include "..."` only.
    pub quote: Vec<PathBuf>,
    /// `-I` directories.
    pub bracket: Vec<PathBuf>,
    /// `-isystem` directories: after `-I`, before the compiler's own.
    pub isystem: Vec<PathBuf>,
    /// The compiler's default directories (from `cc -E -v`): the server
    /// has its own copy, so nothing found there is sent or scanned.
    pub system: Vec<PathBuf>,
    /// `-idirafter` directories: after everything else.
    pub after: Vec<PathBuf>,
    /// `-include` and `-imacros` files, as written.
    pub forced: Vec<PathBuf>,
}

/// Options that take their value in the next argument and whose value
/// must not be read as an option (`-o -Ifoo` names a file).
const SEPARATE_VALUE: &[&str] = &[
    "--param",
    "-A",
    "-D",
    "-MF",
    "-MQ",
    "-MT",
    "-T",
    "-U",
    "-Xassembler",
    "-Xlinker",
    "-aux-info",
    "-e",
    "-o",
    "-u",
    "-x",
    "-z",
];

/// Long spellings and relatives of the search options: rare, so not modelled.
const GIVE_UP_PREFIXES: &[&str] = &[
    "--embed-dir",
    "--imacros",
    "--include",
    "--no-standard-includes",
    "--sysroot",
    "-F",
    "-cxx-isystem",
    "-fmodule",
    "-fprebuilt-module-path",
    "-iframework",
    "-imultiarch",
    "-imultilib",
    "-include-pch",
    "-iprefix",
    "-isysroot",
    "-isystem-after",
    "-iwithprefix",
    "-iwithsysroot",
];

impl SearchPath {
    /// From the compile's argv (`argv[0]` is the compiler), its working
    /// directory and the compiler's default system directories. Relative
    /// directories are made absolute against `cwd`.
    ///
    /// `system` should come from a probe that saw the same `-nostdinc++`,
    /// `-m*` and target flags as the compile.
    pub fn from_args(
        argv: &[String],
        cwd: &Path,
        system: Vec<PathBuf>,
    ) -> Result<SearchPath, GiveUp> {
        let mut sp = SearchPath {
            system,
            ..SearchPath::default()
        };
        let mut fs = Fs::default();
        let mut nostdinc = false;
        let mut it = argv.iter().skip(1);
        while let Some(arg) = it.next() {
            let a = arg.as_str();
            if SEPARATE_VALUE.contains(&a) {
                it.next();
                continue;
            }
            if a == "-Xpreprocessor" || a == "-Xclang" {
                match it.next() {
                    Some(v) if moves_search(v) => return Err(give_up(a, v)),
                    _ => continue,
                }
            }
            if let Some(list) = a.strip_prefix("-Wp,") {
                if let Some(v) = list.split(',').find(|v| moves_search(v)) {
                    return Err(give_up(a, v));
                }
                continue;
            }
            if a == "-I-" || a.starts_with('@') || GIVE_UP_PREFIXES.iter().any(|p| a.starts_with(p))
            {
                return Err(GiveUp(format!(
                    "{a} is not supported by the include analysis"
                )));
            }
            match a {
                "-nostdinc" => nostdinc = true,
                // gcc drops only the C++ directories, and the caller's probe
                // of the default directories was given the flag too.
                "-nostdinc++" => {}
                "-nostdlibinc" | "-nobuiltininc" | "-remap" | "-traditional"
                | "-traditional-cpp" => {
                    return Err(GiveUp(format!(
                        "{a} is not supported by the include analysis"
                    )));
                }
                _ => {}
            }
            let Some((opt, joined)) = split_option(a) else {
                // Any other -i option (clang's -ivfsoverlay remaps files,
                // -index-header-map changes lookups, ...) is not modelled.
                if a.starts_with("-i") && !a.starts_with("-iplugindir=") {
                    return Err(GiveUp(format!(
                        "{a} is not supported by the include analysis"
                    )));
                }
                continue;
            };
            let value = if joined.is_empty() {
                it.next()
                    .ok_or_else(|| GiveUp(format!("{opt} without a value")))?
                    .as_str()
            } else {
                joined
            };
            if opt == "-include" || opt == "-imacros" {
                sp.forced.push(PathBuf::from(value));
                continue;
            }
            // `=dir` and `$SYSROOT/dir` are relative to the sysroot.
            if value.starts_with('=') || value.starts_with("$SYSROOT") {
                return Err(GiveUp(format!("{opt}{value}: sysroot-relative directory")));
            }
            let Some(dir) = fs.normalise(cwd.join(value)).map_err(|s| {
                GiveUp(format!(
                    "{opt} {value}: `..` after the symbolic link {}",
                    s.0.display()
                ))
            })?
            else {
                continue; // the kernel cannot reach it, so gcc ignores it
            };
            match opt {
                "-I" => sp.bracket.push(dir),
                "-iquote" => sp.quote.push(dir),
                "-isystem" => sp.isystem.push(dir),
                _ => sp.after.push(dir),
            }
        }
        if nostdinc {
            sp.system.clear();
        }
        Ok(sp)
    }

    /// The chain `#include` walks, with gcc's duplicate removal
    /// (`incpath.c: merge_include_chains`): directories are compared by
    /// device and inode; missing ones go; a later copy of a directory
    /// already in the system chain (`-isystem`, defaults, `-idirafter`)
    /// goes; a `-I` or `-iquote` directory that is in the system chain goes
    /// (gcc keeps it at its system position).
    pub(super) fn chain(&self) -> Chain {
        let defaults: HashSet<Id> = self.system.iter().filter_map(|d| id(d)).collect();
        let mut sys: Vec<(PathBuf, Id)> = Vec::new();
        for d in self.isystem.iter().chain(&self.system).chain(&self.after) {
            if let Some(i) = id(d) {
                if !sys.iter().any(|(_, j)| *j == i) {
                    sys.push((d.clone(), i));
                }
            }
        }
        let mut bracket: Vec<(PathBuf, Id)> = Vec::new();
        for d in &self.bracket {
            if let Some(i) = id(d) {
                if !sys.iter().chain(&bracket).any(|(_, j)| *j == i) {
                    bracket.push((d.clone(), i));
                }
            }
        }
        let mut quote: Vec<(PathBuf, Id)> = Vec::new();
        let mut last_kept = false;
        for d in &self.quote {
            last_kept = false;
            if let Some(i) = id(d) {
                if !sys.iter().chain(&quote).any(|(_, j)| *j == i) {
                    quote.push((d.clone(), i));
                    last_kept = true;
                }
            }
        }
        // gcc also drops the last -iquote directory when it is the first
        // directory of the <...> chain: it would be searched twice in a row.
        let join = bracket.first().or(sys.first()).map(|(_, i)| *i);
        if last_kept && quote.last().map(|(_, i)| *i) == join {
            quote.pop();
        }
        let bracket_start = quote.len();
        let dirs = quote
            .into_iter()
            .chain(bracket)
            .chain(sys)
            .map(|(path, i)| Dir {
                system: defaults.contains(&i),
                path,
            })
            .collect();
        Chain {
            dirs,
            bracket: bracket_start,
            system: self.system.clone(),
        }
    }
}

/// The search chain of one compile.
#[derive(Debug)]
pub(super) struct Chain {
    /// `-iquote`, then `-I`, then `-isystem`, defaults and `-idirafter`.
    pub dirs: Vec<Dir>,
    /// Where `#include <...>` starts.
    pub bracket: usize,
    /// The default directories as given, for absolute `#include` names.
    pub system: Vec<PathBuf>,
}

#[derive(Debug)]
pub(super) struct Dir {
    pub path: PathBuf,
    /// One of the compiler's default directories: not sent, not scanned.
    pub system: bool,
}

type Id = (u64, u64);

fn id(dir: &Path) -> Option<Id> {
    let m = std::fs::metadata(dir).ok()?;
    m.is_dir().then(|| (m.dev(), m.ino()))
}

/// `-Idir`/`-I dir` and friends: (option, joined value or "").
fn split_option(a: &str) -> Option<(&'static str, &str)> {
    // Longest first: "-include" must not be read as "-i" + "nclude".
    const OPTS: &[&str] = &[
        "-idirafter",
        "-imacros",
        "-include",
        "-isystem",
        "-iquote",
        "-I",
    ];
    OPTS.iter().find_map(|o| a.strip_prefix(o).map(|v| (*o, v)))
}

/// Whether a preprocessor option passed through `-Wp,` or `-Xpreprocessor`
/// could change where headers are found.
fn moves_search(v: &str) -> bool {
    [
        "-I",
        "-i",
        "-nostdinc",
        "-remap",
        "-traditional",
        "--",
        "-F",
        "@",
    ]
    .iter()
    .any(|p| v.starts_with(p))
}

fn give_up(opt: &str, v: &str) -> GiveUp {
    GiveUp(format!("{opt} passes {v} to the preprocessor"))
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
