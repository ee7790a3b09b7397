//! Where a name resolves, as gcc's `search_path_head` and
//! `find_file_in_dir` find it: an absolute name as it is, a relative one
//! in the includer's directory and then the chain, with `.gch` files and
//! `..` after a symbolic link as reasons to give up.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::{Found, Origin, Walk};
use crate::pump::includes::GiveUp;
use crate::pump::includes::paths::{Symlink, can_be_file, join, stepped_out};

impl Walk<'_> {
    /// An absolute name is opened as it is.
    /// CMake's precompiled headers come this way: `-include /abs/cmake_pch.h`.
    pub(super) fn absolute(&mut self, name: &[u8], pch: bool) -> Result<Option<Found>, Stop> {
        if !can_be_file(name) {
            return Ok(None);
        }
        let Some(p) = self.fs.normalise(PathBuf::from(OsStr::from_bytes(name)))? else {
            return Ok(None);
        };
        if pch {
            self.check_pch(&p)?;
        }
        if !self.fs.is_file(&p) {
            return Ok(None);
        }
        let system = self.chain.system.iter().any(|s| p.starts_with(s));
        if !system {
            // The server opens it under its mirror root, `..`s and all.
            self.dirs
                .extend(stepped_out(Path::new(OsStr::from_bytes(name))));
        }
        Ok(Some(Found {
            path: p,
            origin: Origin::Nowhere,
            system,
        }))
    }

    /// The first of `local/name`, then `chain[start..]/name`, that exists.
    pub(super) fn search(
        &mut self,
        name: &[u8],
        local: Option<&Path>,
        start: usize,
        pch: bool,
    ) -> Result<Option<Found>, Stop> {
        if !can_be_file(name) {
            return Ok(None);
        }
        if let Some(dir) = local {
            if let Some(path) = self.user_candidate(dir, name, pch)? {
                return Ok(Some(Found {
                    path,
                    origin: Origin::Local,
                    system: false,
                }));
            }
        }
        for i in start..self.chain.dirs.len() {
            let dir = &self.chain.dirs[i];
            if dir.system {
                // The kernel resolves the path, as for gcc; not sent, so
                // its lexical form does not matter.
                let p = join(&dir.path, name);
                if self.fs.is_file(&p) {
                    return Ok(Some(Found {
                        path: p,
                        origin: Origin::Chain(i),
                        system: true,
                    }));
                }
                continue;
            }
            let dir = dir.path.clone();
            if let Some(path) = self.user_candidate(&dir, name, pch)? {
                return Ok(Some(Found {
                    path,
                    origin: Origin::Chain(i),
                    system: false,
                }));
            }
        }
        Ok(None)
    }

    /// `dir/name`, normalised, if gcc would take it. The directories its
    /// `..`s step out of are remembered: gcc on the server needs them.
    pub(super) fn user_candidate(
        &mut self,
        dir: &Path,
        name: &[u8],
        pch: bool,
    ) -> Result<Option<PathBuf>, Stop> {
        let raw = join(dir, name);
        let Some(p) = self.fs.normalise(raw.clone())? else {
            return Ok(None);
        };
        if pch {
            self.check_pch(&p)?;
        }
        if !self.fs.is_file(&p) {
            return Ok(None);
        }
        if p != raw {
            self.dirs.extend(stepped_out(&raw));
        }
        Ok(Some(p))
    }

    /// gcc looks for `name.gch` (a file or a directory of them) before
    /// `name` itself, in every directory it tries.
    pub(super) fn check_pch(&mut self, p: &Path) -> Result<(), Stop> {
        let mut gch = p.as_os_str().to_owned();
        gch.push(".gch");
        let gch = PathBuf::from(gch);
        if self.fs.exists(&gch) {
            Err(Stop::Pch(gch))
        } else {
            Ok(())
        }
    }

    /// A `Maybe` name: every user directory that has it, since the
    /// wrapper macro might use `__has_include` or `__has_include_next`.
    pub(super) fn every_match(&mut self, file: &Path, name: &[u8]) -> Result<(), Stop> {
        if name.starts_with(b"/") {
            if let Some(f) = self.absolute(name, false)?.filter(|f| !f.system) {
                self.send(&f.path);
            }
            return Ok(());
        }
        if !can_be_file(name) {
            return Ok(());
        }
        let mut dirs: Vec<PathBuf> = file.parent().into_iter().map(Path::to_path_buf).collect();
        dirs.extend(
            self.chain
                .dirs
                .iter()
                .filter(|d| !d.system)
                .map(|d| d.path.clone()),
        );
        for dir in dirs {
            if let Some(p) = self.user_candidate(&dir, name, false)? {
                self.send(&p);
            }
        }
        Ok(())
    }
}

/// Why a search cannot be trusted.
#[derive(Debug)]
pub(super) enum Stop {
    /// A `..` steps back out of this symbolic link.
    Symlink(PathBuf),
    /// A precompiled header the server would not have.
    Pch(PathBuf),
}

impl From<Symlink> for Stop {
    fn from(s: Symlink) -> Self {
        Stop::Symlink(s.0)
    }
}

impl Stop {
    pub(super) fn at(self, at: &str) -> GiveUp {
        match self {
            Stop::Symlink(p) => GiveUp(format!(
                "`..` after the symbolic link {} at {at}",
                p.display()
            )),
            Stop::Pch(p) => GiveUp(format!("precompiled header {} at {at}", p.display())),
        }
    }
}
