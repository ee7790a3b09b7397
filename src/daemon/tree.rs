//! Writing a pump job's copy of the client's files (spec §4.5 steps 2 and
//! 5) under the mirror root in the job directory, without ever writing
//! through a symlink.
//!
//! Parent directories are walked from the root with `lstat`: a component
//! that is a symlink or not a directory refuses the request; missing ones
//! are created (0755). The last component is created exclusively
//! (`O_CREAT|O_EXCL|O_NOFOLLOW`, or `symlink()`), so a name sent twice is
//! refused too. Nothing else writes into the job directory while the tree
//! is built (it is ours, mode 0700, and the compiler has not started), and
//! nothing this job made is ever replaced or removed, so a directory
//! checked once stays a real directory: checked directories are
//! remembered.
//!
//! **A tree kept from an earlier job** ([`Tree::reuse`]): creating and
//! deleting ~40 inodes per job (a file per header, a directory per path
//! component) was most of a pump server's CPU on ext4 without a journal,
//! where every new inode is checked against every one deleted in the last
//! minutes (`recently_deleted()`: 1.1-2.5 s of the daemons' CPU for a
//! 73-file liblzma build, bench/RESULTS.md). Consecutive jobs of a build
//! send mostly the same headers, so the previous job's mirror stays and
//! is brought to exactly this job's content: a name it has as a plain
//! file (one link) is rewritten in place, truncated, mode 0644; a
//! directory stays (mode 0755); a symlink with the same target stays;
//! anything else there is removed first; and [`Tree::sweep`] removes
//! every entry this job did not send before the compiler starts, so the
//! compiler sees what a fresh tree would hold and nothing of another
//! client's. Only entries this job made or kept count as "sent twice" or
//! as a symlink the client sent. A mirror is kept only up to a size
//! ([`super::job::JobSettings::kept_tree_max`], checked by
//! [`super::pumpjob`]), since it lies idle in `$TMPDIR` until the next job.
//!
//! The rules about names and link targets are pure: [`super::mirror`].

use std::collections::HashSet;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::mirror::{self, ClientPath};

/// Why an entry could not be written.
#[derive(Debug)]
pub enum TreeError {
    /// The request asks for something we refuse (logged, no reply).
    Refused(String),
    /// This server failed (disk full, ...).
    Io(io::Error),
}

impl From<io::Error> for TreeError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// The mirror of one pump job.
#[derive(Debug)]
pub struct Tree {
    root: PathBuf,
    /// Directories known to be real ones (not symlinks).
    checked: HashSet<PathBuf>,
    /// In a kept tree: the entries this job made or kept; the rest are an
    /// earlier job's. `None`: a fresh tree, all of it this job's.
    ours: Option<HashSet<PathBuf>>,
}

/// Where [`Tree::file`] puts a file: a new one, or a kept tree's plain
/// file rewritten in place.
#[derive(Debug)]
pub struct FilePlace {
    /// The file.
    pub path: PathBuf,
    /// `Some(mode_is_0644)`: an earlier job's plain file is there, to be
    /// truncated and rewritten (its mode reset unless already 0644).
    rewrite: Option<bool>,
}

impl Tree {
    /// Create the (new, empty) mirror root.
    pub fn create(root: PathBuf) -> io::Result<Self> {
        DirBuilder::new().mode(0o755).create(&root)?;
        Ok(Self {
            checked: HashSet::from([root.clone()]),
            root,
            ours: None,
        })
    }

    /// The mirror an earlier job left at `root` (see the module comment),
    /// or a new one if there is no real directory there.
    pub fn reuse(root: PathBuf) -> io::Result<Self> {
        match fs::symlink_metadata(&root) {
            Ok(m) if m.is_dir() => {
                if m.mode() & 0o7777 != 0o755 {
                    fs::set_permissions(&root, fs::Permissions::from_mode(0o755))?;
                }
                Ok(Self {
                    checked: HashSet::from([root.clone()]),
                    ours: Some(HashSet::new()),
                    root,
                })
            }
            Ok(_) => {
                fs::remove_file(&root)?;
                Self::create(root)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Self::create(root),
            Err(e) => Err(e),
        }
    }

    /// The mirror root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether `path` is an earlier job's entry (only in a kept tree); it
    /// is this job's from now on.
    fn claim(&mut self, path: &Path) -> bool {
        self.ours
            .as_mut()
            .is_some_and(|ours| ours.insert(path.to_path_buf()))
    }

    /// Make sure `path` (inside the mirror) is a real directory; create
    /// what is missing. Returns where it is.
    pub fn mkdirs(&mut self, path: &ClientPath) -> Result<PathBuf, TreeError> {
        let mut dir = self.root.clone();
        for c in path.components() {
            dir.push(c);
            if self.checked.contains(&dir) {
                continue;
            }
            let earlier = self.claim(&dir);
            match fs::symlink_metadata(&dir) {
                Ok(m) if m.is_dir() && earlier => {
                    if m.mode() & 0o7777 != 0o755 {
                        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))?;
                    }
                }
                Ok(_) if earlier => {
                    fs::remove_file(&dir)?;
                    DirBuilder::new().mode(0o755).create(&dir)?;
                }
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(TreeError::Refused(format!(
                        "{path} goes through a symbolic link the client sent ({})",
                        self.client_name(&dir)
                    )));
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(TreeError::Refused(format!(
                        "{path} goes through {}, which the client sent as a file",
                        self.client_name(&dir)
                    )));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    DirBuilder::new().mode(0o755).create(&dir)?;
                }
                Err(e) => return Err(e.into()),
            }
            self.checked.insert(dir.clone());
        }
        Ok(dir)
    }

    /// The client's name for a path inside the mirror.
    fn client_name(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        format!("/{}", rel.display())
    }

    /// Where a new entry `name` goes: its parent directory made real and
    /// the full path. The root itself cannot be an entry.
    fn place(&mut self, name: &ClientPath) -> Result<PathBuf, TreeError> {
        let Some((parent, last)) = name.split_last() else {
            return Err(TreeError::Refused("NAME \"/\" names the root".into()));
        };
        Ok(self.mkdirs(&parent)?.join(last))
    }

    /// An earlier job's entry at `path`, claimed for this job: its
    /// metadata, or `None` if there is none.
    fn earlier(&mut self, path: &Path) -> io::Result<Option<fs::Metadata>> {
        if !self.claim(path) {
            return Ok(None);
        }
        match fs::symlink_metadata(path) {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Check `name` and prepare its parent; the caller then writes the
    /// content with [`write_file`] (possibly on another thread).
    pub fn file(&mut self, name: &[u8]) -> Result<FilePlace, TreeError> {
        let name = ClientPath::parse("NAME", name).map_err(TreeError::Refused)?;
        let path = self.place(&name)?;
        let rewrite = match self.earlier(&path)? {
            Some(m) if m.file_type().is_file() && m.nlink() == 1 => {
                Some(m.mode() & 0o7777 == 0o644)
            }
            Some(m) => {
                remove(&path, &m)?;
                None
            }
            None => None,
        };
        Ok(FilePlace { path, rewrite })
    }

    /// Create the symlink `name` for a LINK `target`.
    pub fn link(&mut self, name: &[u8], target: &[u8]) -> Result<(), TreeError> {
        let name = ClientPath::parse("NAME", name).map_err(TreeError::Refused)?;
        let text = mirror::link_target(&self.root, &name, target).map_err(TreeError::Refused)?;
        let path = self.place(&name)?;
        if let Some(m) = self.earlier(&path)? {
            if m.file_type().is_symlink() && fs::read_link(&path)? == Path::new(&text) {
                return Ok(());
            }
            remove(&path, &m)?;
        }
        std::os::unix::fs::symlink(&text, &path).map_err(|e| exists(e, &name))
    }

    /// In a kept tree, remove every entry this job did not make or keep
    /// (an earlier job's, or its compiler's), so the compiler finds what a
    /// new tree would hold. Nothing to do in a new tree.
    pub fn sweep(&self) -> io::Result<()> {
        let Some(ours) = &self.ours else {
            return Ok(());
        };
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in fs::read_dir(&dir)? {
                let entry = entry?;
                let path = entry.path();
                let kind = entry.file_type()?;
                if !ours.contains(&path) {
                    if kind.is_dir() {
                        fs::remove_dir_all(&path)?;
                    } else {
                        fs::remove_file(&path)?;
                    }
                } else if kind.is_dir() {
                    dirs.push(path);
                }
            }
        }
        Ok(())
    }
}

/// Remove an earlier job's entry (never followed: a symlink goes itself).
fn remove(path: &Path, meta: &fs::Metadata) -> io::Result<()> {
    if meta.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

fn exists(e: io::Error, name: &impl std::fmt::Display) -> TreeError {
    if e.kind() == io::ErrorKind::AlreadyExists {
        TreeError::Refused(format!(
            "{name} already exists in the mirror (sent twice, or a directory of another NAME)"
        ))
    } else {
        TreeError::Io(e)
    }
}

/// Write `data` at `place` (prepared by [`Tree::file`]): created
/// exclusively, or an earlier job's file rewritten; never through a
/// symlink.
pub fn write_file(place: &FilePlace, data: &[u8]) -> Result<(), TreeError> {
    let path = &place.path;
    let mut f = match place.rewrite {
        None => OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(0o644)
            .open(path)
            .map_err(|e| exists(e, &path.display()))?,
        Some(mode_ok) => {
            let f = OpenOptions::new()
                .write(true)
                .truncate(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)?;
            if !mode_ok {
                f.set_permissions(fs::Permissions::from_mode(0o644))?;
            }
            f
        }
    };
    f.write_all(data)?;
    Ok(())
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tests;
