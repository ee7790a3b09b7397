//! The include search path of one compile, as gcc builds it (GCC cpp
//! manual, "Search Path"; gcc's `incpath.c`): from the argv to the
//! ordered chain of directories that `#include` walks.
//!
//! Options that move the search in ways we do not model (`-I-`,
//! `-iprefix`, sysroots, frameworks, response files, ...) give up: the
//! caller then preprocesses locally, which is always correct.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::args::options::{self, Class, Cpp, Dialect};
use crate::args::os::{bytes, climbs_above_root, lossy, starts_with, strip_prefix};

use super::GiveUp;
use super::paths::{Fs, stepped_out};

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
    /// `-D` operands as written (`NAME`, `NAME=VALUE`), for computed
    /// `#include NAME`s.
    pub defines: Vec<Vec<u8>>,
    /// Directories the directory options step out of with `..`
    /// (`-Isub/../inc` goes through `sub`): the server's gcc, given the
    /// options as written, needs them to exist (issue 11).
    pub through: Vec<PathBuf>,
}

impl SearchPath {
    /// From the compile's argv (`argv[0]` is the compiler), its working
    /// directory and the compiler's default system directories. Relative
    /// directories are made absolute against `cwd`. The options are read
    /// through the option table ([`crate::args::options`]), so every
    /// spelling gcc accepts means here what it means there.
    ///
    /// `system` should come from a probe that saw the same `-nostdinc++`,
    /// `-m*` and target flags as the compile.
    pub fn from_args(
        argv: &[OsString],
        cwd: &Path,
        system: Vec<PathBuf>,
    ) -> Result<SearchPath, GiveUp> {
        let mut sp = SearchPath {
            system,
            ..SearchPath::default()
        };
        let mut fs = Fs::default();
        let mut nostdinc = false;
        let dialect = Dialect::of(argv.first().map_or(OsStr::new("cc"), |a| a.as_os_str()));
        let mut i = 1;
        while i < argv.len() {
            let a = &argv[i];
            if !(starts_with(a, "-") && bytes(a).len() > 1) {
                if starts_with(a, "@") {
                    return Err(unsupported(a));
                }
                i += 1;
                continue;
            }
            let opt = options::read(argv, i, dialect).map_err(|_| unsupported(a))?;
            i += opt.used;
            let value = opt.value.as_deref().unwrap_or_default();
            match (opt.class, opt.name) {
                (Class::Cpp(Cpp::Path), "-include" | "-imacros") => {
                    sp.forced.push(PathBuf::from(value));
                }
                (Class::Cpp(Cpp::Path), name @ ("-I" | "-iquote" | "-isystem" | "-idirafter")) => {
                    // `=dir` and `$SYSROOT/dir` are relative to the sysroot.
                    let v = bytes(value);
                    if v.starts_with(b"=") || v.starts_with(b"$SYSROOT") {
                        return Err(GiveUp(format!(
                            "{name}{}: sysroot-relative directory",
                            lossy(value)
                        )));
                    }
                    // The server's copy of our tree has a root of its own:
                    // `..` past `/` would leave it (distccd refuses that).
                    let depth = cwd.components().count().saturating_sub(1);
                    if !v.starts_with(b"/") && climbs_above_root(v, depth) {
                        return Err(GiveUp(format!(
                            "{name} {}: climbs above the root directory",
                            lossy(value)
                        )));
                    }
                    let Some(dir) = fs.normalise(cwd.join(value)).map_err(|s| {
                        GiveUp(format!(
                            "{name} {}: `..` after the symbolic link {}",
                            lossy(value),
                            s.0.display()
                        ))
                    })?
                    else {
                        continue; // the kernel cannot reach it, so gcc ignores it
                    };
                    sp.through.extend(stepped_out(&cwd.join(value)));
                    match name {
                        "-I" => sp.bracket.push(dir),
                        "-iquote" => sp.quote.push(dir),
                        "-isystem" => sp.isystem.push(dir),
                        _ => sp.after.push(dir),
                    }
                }
                // Sysroots, prefixes, frameworks, multilibs: not modelled.
                (Class::Cpp(Cpp::Path | Cpp::Name), _) => return Err(unsupported(a)),
                (Class::Cpp(Cpp::Switch), "-nostdinc") => nostdinc = true,
                // gcc drops only the C++ directories, and the caller's probe
                // of the default directories was given the flag too.
                (Class::Cpp(Cpp::Switch), "-nostdinc++") => {}
                (
                    Class::Cpp(Cpp::Switch),
                    "-I-" | "-remap" | "-traditional-cpp" | "--traditional-cpp" | "-nobuiltininc"
                    | "-nostdlibinc" | "-index-header-map" | "-ibuiltininc",
                ) => return Err(unsupported(a)),
                (Class::Dist, "-traditional") => return Err(unsupported(a)),
                // clang's modules find headers through module maps.
                (Class::Dist, _) if starts_with(a, "-fmodules") => return Err(unsupported(a)),
                // The scan keeps these local; the analysis does not model them.
                (Class::Local(_) | Class::Refused(_), _) => return Err(unsupported(a)),
                (Class::Preprocessor, _) => {
                    let parts: Vec<&[u8]> = match strip_prefix(a, "-Wp,") {
                        Some(list) => bytes(list).split(|&c| c == b',').collect(),
                        None => vec![bytes(value)],
                    };
                    // distccd lets only macros through to its preprocessor.
                    if let Some(v) = parts
                        .iter()
                        .find(|v| !v.is_empty() && !v.starts_with(b"-D") && !v.starts_with(b"-U"))
                    {
                        return Err(GiveUp(format!(
                            "{} passes {} to the preprocessor",
                            lossy(a),
                            String::from_utf8_lossy(v)
                        )));
                    }
                    sp.defines.extend(
                        parts
                            .iter()
                            .filter_map(|v| v.strip_prefix(b"-D"))
                            .map(<[u8]>::to_vec),
                    );
                }
                (Class::Cpp(Cpp::Macro), "-D") => sp.defines.push(bytes(value).to_vec()),
                _ => {}
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

fn unsupported(a: &OsStr) -> GiveUp {
    GiveUp(format!(
        "{} is not supported by the include analysis",
        lossy(a)
    ))
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
