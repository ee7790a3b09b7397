//! The include closure: resolves every name the scanner finds exactly as
//! gcc's `search_path_head` and `find_file_in_dir` do (GCC cpp manual,
//! "Include Operation", "Wrapper Headers"), and follows user headers.
//!
//! * `"..."` searches the including file's directory, then the chain from
//!   its start; `<...>` the chain from the first `-I` directory.
//! * `#include_next` searches on after the directory the current file was
//!   found in. A file found through its includer's directory (or through
//!   the working directory, for `-include`) continues at the start of the
//!   chain; in the main file or one named by an absolute path it is a
//!   plain `#include`.
//! * The search stops at the first directory that has the name as a
//!   non-directory, so every directory is `stat`ed in order, system ones
//!   too; a file found in a default directory is the server's business.
//!
//! A header found nowhere is skipped: it may sit under a false `#if`, and
//! if not, the server's gcc fails just as ours would.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::GiveUp;
use super::cache::Cache;
use super::lexer::{Directive, Kind};
use super::paths::{FastMap, FastSet, Fs, stepped_out};
use super::search::{Chain, SearchPath};
use crate::protocol::hdrcache::Digest;
use macros::macro_value;
use resolve::Stop;
use scan::{cached_scan, lex, read};

mod macros;
mod resolve;
mod scan;

/// What pump mode sends for one compile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Closure {
    /// The source first, then every user header reachable from it and
    /// from the forced includes: absolute, lexically normalised, each once.
    pub files: Vec<PathBuf>,
    /// Directories that must exist on the server although no file sent
    /// lies in them: gcc steps out of them with `..` (`"sub/../x.h"` needs
    /// `sub`). 3.4's include server makes them exist with an empty file
    /// `DIR/forcing_technique_271828`; so does our client.
    pub dirs: Vec<PathBuf>,
    /// Uses of `__DATE__`, `__TIME__` and `__TIMESTAMP__` in the files
    /// scanned: (file, line, macro).
    pub clock: Vec<(PathBuf, u32, String)>,
    /// For each of `files`, its digest and size when the include cache
    /// gave them (or this analysis read the file): the request's manifest
    /// then needs no read of it.
    pub known: Vec<Option<Known>>,
}

/// A file's SHA-256 and size, from its include cache record (checked
/// against its `stat`) or from reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub digest: Digest,
    pub size: u64,
}

/// The closure of compiling `source` (relative to `cwd`) with `search`.
/// Headers gcc only probes (`__has_include`, `#embed`) are sent but not
/// scanned.
pub fn closure(source: &Path, cwd: &Path, search: &SearchPath) -> Result<Closure, GiveUp> {
    closure_cached(source, cwd, search, None)
}

/// [`closure`], taking what other processes of the build learned about
/// the headers from `cache` and leaving there what this one learns.
pub fn closure_cached(
    source: &Path,
    cwd: &Path,
    search: &SearchPath,
    cache: Option<&mut Cache>,
) -> Result<Closure, GiveUp> {
    let mut w = Walk {
        cache,
        chain: search.chain(),
        fs: Fs::default(),
        sent: Vec::new(),
        sent_set: FastSet::default(),
        scans: FastMap::default(),
        visited: FastSet::default(),
        resolved: FastSet::default(),
        todo: Vec::new(),
        main: PathBuf::new(),
        dirs: Vec::new(),
        macros: FastMap::default(),
        scanned: Vec::new(),
        indexed: 0,
        pending: Vec::new(),
        expanded: FastSet::default(),
        clock: Vec::new(),
        known: FastMap::default(),
    };
    for d in &search.defines {
        let (name, value) = match d.iter().position(|&c| c == b'=') {
            Some(k) => (&d[..k], macro_value(&d[k + 1..])),
            None => (&d[..], Vec::new()),
        };
        w.macros
            .entry(name.to_vec())
            .or_default()
            .push((value, format!("-D{}", String::from_utf8_lossy(d))));
    }
    let raw = cwd.join(source);
    let src =
        w.fs.normalise(raw.clone())
            .map_err(|s| Stop::from(s).at(&source.display().to_string()))?
            .filter(|p| w.fs.is_file(p))
            .ok_or_else(|| GiveUp(format!("{} is not a file", source.display())))?;
    w.dirs.extend(stepped_out(&raw));
    w.main = src.clone();
    w.send(&src);
    for f in &search.forced {
        w.forced(f, cwd)?;
    }
    // gcc includes <stdc-predef.h> first, searching the -I directories too.
    let predef = Directive {
        kind: Kind::Include,
        angled: true,
        name: b"stdc-predef.h".to_vec(),
        value: Vec::new(),
        line: 0,
    };
    w.follow(&src, Origin::Nowhere, &predef)?;
    w.todo.push((src, Origin::Nowhere));
    // Computed includes may name macros that files found through them
    // define: go round until nothing new is found.
    loop {
        while let Some((file, origin)) = w.todo.pop() {
            w.visit(file, origin)?;
        }
        if !w.expand_pending()? {
            break;
        }
    }
    w.dirs.extend(search.through.iter().cloned());
    // The server makes the working directory and every sent file's
    // directories: only the others need forcing.
    let exists = |d: &Path| {
        cwd.starts_with(d)
            || w.sent
                .iter()
                .any(|f| f.parent().is_some_and(|p| p.starts_with(d)))
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    for d in std::mem::take(&mut w.dirs) {
        if !exists(&d) && !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    // A deeper forced directory makes its parents too.
    let deepest: Vec<PathBuf> = dirs
        .iter()
        .filter(|d| !dirs.iter().any(|o| o != *d && o.starts_with(d)))
        .cloned()
        .collect();
    if let Some(c) = w.cache.as_deref_mut() {
        c.finish();
    }
    let known = w
        .sent
        .iter()
        .map(|f| w.known.get(f.as_os_str()).copied())
        .collect();
    Ok(Closure {
        files: w.sent,
        dirs: deepest,
        clock: w.clock,
        known,
    })
}

/// How a file was found; `#include_next` in it depends on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Origin {
    /// The main file, or an absolute name: `#include_next` is `#include`.
    Nowhere,
    /// The includer's directory (or the working directory for `-include`):
    /// gcc's `make_cpp_dir` links it to the start of the chain.
    Local,
    /// The chain directory with this index.
    Chain(usize),
}

#[derive(Debug)]
struct Found {
    path: PathBuf,
    origin: Origin,
    /// In a default directory: neither sent nor scanned.
    system: bool,
}

struct Walk<'c> {
    cache: Option<&'c mut Cache>,
    chain: Chain,
    fs: Fs,
    sent: Vec<PathBuf>,
    sent_set: FastSet<OsString>,
    /// Each file is read and lexed once, however often it is reached.
    scans: FastMap<OsString, Rc<[Directive]>>,
    /// (file, origin) pairs done: only `#include_next` depends on the origin.
    visited: FastSet<(OsString, Origin)>,
    /// Files whose origin-independent names have been followed.
    resolved: FastSet<OsString>,
    todo: Vec<(PathBuf, Origin)>,
    main: PathBuf,
    /// Directories a found header's path steps out of with `..`.
    dirs: Vec<PathBuf>,
    /// Every definition of every macro in the files scanned and on the
    /// command line: its value (see [`Kind::Define`]) and where it is.
    /// Filled only once an `#include MACRO` is met.
    macros: FastMap<Vec<u8>, Vec<(Vec<u8>, String)>>,
    /// Files scanned, in order, and how many of them are in `macros`.
    scanned: Vec<PathBuf>,
    indexed: usize,
    /// `#include MACRO`s met, with the file and origin they are in.
    pending: Vec<(PathBuf, Origin, Directive)>,
    /// (index in `pending`, header name) already followed.
    expanded: FastSet<(usize, Vec<u8>)>,
    /// See [`Closure::clock`].
    clock: Vec<(PathBuf, u32, String)>,
    /// See [`Closure::known`].
    known: FastMap<OsString, Known>,
}

impl Walk<'_> {
    fn send(&mut self, p: &Path) {
        if self.sent_set.insert(p.as_os_str().to_owned()) {
            self.sent.push(p.to_path_buf());
        }
    }

    /// `-include`/`-imacros`: the working directory first, then the
    /// `"..."` chain (GCC manual, `-include`).
    fn forced(&mut self, name: &Path, cwd: &Path) -> Result<(), GiveUp> {
        let bytes = name.as_os_str().as_bytes();
        let what = format!("-include {}", name.display());
        let found = if bytes.starts_with(b"/") {
            self.absolute(bytes, true).map_err(|s| s.at(&what))?
        } else {
            self.search(bytes, Some(cwd), 0, true)
                .map_err(|s| s.at(&what))?
        };
        let f = found.ok_or_else(|| GiveUp(format!("{what}: not found")))?;
        if !f.system {
            self.send(&f.path);
            self.todo.push((f.path, f.origin));
        }
        Ok(())
    }

    fn visit(&mut self, file: PathBuf, origin: Origin) -> Result<(), GiveUp> {
        // Names other than #include_next resolve the same whatever the
        // origin, so a file reached again only redoes those.
        if !self.visited.insert((file.as_os_str().to_owned(), origin)) {
            return Ok(());
        }
        let first = self.resolved.insert(file.as_os_str().to_owned());
        let directives = self.scan(&file)?;
        if first {
            self.scanned.push(file.clone());
        }
        for d in directives.iter() {
            let next = matches!(
                d.kind,
                Kind::IncludeNext | Kind::ProbeNext | Kind::MacroNext
            );
            if !(first || next) {
                continue;
            }
            match d.kind {
                Kind::Macro | Kind::MacroNext => {
                    self.pending.push((file.clone(), origin, d.clone()));
                }
                Kind::Clock => {
                    if first {
                        let name = String::from_utf8_lossy(&d.name).into_owned();
                        self.clock.push((file.clone(), d.line, name));
                    }
                }
                _ => self.follow(&file, origin, d)?,
            }
        }
        Ok(())
    }

    fn scan(&mut self, file: &Path) -> Result<Rc<[Directive]>, GiveUp> {
        if let Some(d) = self.scans.get(file.as_os_str()) {
            return Ok(d.clone());
        }
        let d: Rc<[Directive]> = match self.cache.as_deref_mut() {
            Some(cache) if !cache.keeps_sources() && *file == self.main => {
                let bytes = read(file)?;
                cache.lexed();
                let k = Known {
                    digest: Digest::of(&bytes),
                    size: bytes.len() as u64,
                };
                self.known.insert(file.as_os_str().to_owned(), k);
                lex(&bytes, file)?
            }
            Some(cache) => {
                let (d, known) = cached_scan(cache, file)?;
                if let Some(k) = known {
                    self.known.insert(file.as_os_str().to_owned(), k);
                }
                d
            }
            None => lex(&read(file)?, file)?,
        }
        .into();
        self.scans.insert(file.as_os_str().to_owned(), d.clone());
        Ok(d)
    }

    /// Resolves one directive of `file` and queues or sends what it finds.
    fn follow(&mut self, file: &Path, origin: Origin, d: &Directive) -> Result<(), GiveUp> {
        let at = || format!("{}:{}", file.display(), d.line);
        if d.kind == Kind::Maybe {
            return self.every_match(file, &d.name).map_err(|s| s.at(&at()));
        }
        let next = matches!(d.kind, Kind::IncludeNext | Kind::ProbeNext);
        // gcc may use a precompiled `name.gch` for the main file's first
        // #include; the server would not have it.
        let pch = *file == self.main && d.kind == Kind::Include;
        let found = if d.name.starts_with(b"/") {
            self.absolute(&d.name, pch)
        } else {
            let local = file.parent().unwrap_or(Path::new("/"));
            let (local, start) = match (next, origin) {
                (true, Origin::Chain(k)) => (None, k + 1),
                (true, Origin::Local) => (None, 0),
                _ if d.angled => (None, self.chain.bracket),
                _ => (Some(local), 0),
            };
            self.search(&d.name, local, start, pch)
        }
        .map_err(|s| s.at(&at()))?;
        let Some(f) = found else { return Ok(()) };
        if f.system {
            return Ok(());
        }
        self.send(&f.path);
        if matches!(d.kind, Kind::Include | Kind::IncludeNext) {
            self.todo.push((f.path, f.origin));
        }
        Ok(())
    }
}
#[cfg(test)]
#[path = "walk_tests.rs"]
pub(super) mod tests;

#[cfg(test)]
#[path = "gcc_tests.rs"]
mod gcc_tests;

#[cfg(test)]
#[path = "macro_tests.rs"]
mod macro_tests;
