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
//! nothing is ever replaced or removed, so a directory checked once stays
//! a real directory: checked directories are remembered.
//!
//! The rules about names and link targets are pure: [`super::mirror`].

use std::collections::HashSet;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
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
}

impl Tree {
    /// Create the (new, empty) mirror root.
    pub fn create(root: PathBuf) -> io::Result<Self> {
        DirBuilder::new().mode(0o755).create(&root)?;
        Ok(Self {
            checked: HashSet::from([root.clone()]),
            root,
        })
    }

    /// The mirror root.
    pub fn root(&self) -> &Path {
        &self.root
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
            match fs::symlink_metadata(&dir) {
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

    /// Check `name` and prepare its parent; the caller then writes the
    /// content with [`write_new`] (possibly on another thread).
    pub fn file(&mut self, name: &[u8]) -> Result<PathBuf, TreeError> {
        let name = ClientPath::parse("NAME", name).map_err(TreeError::Refused)?;
        self.place(&name)
    }

    /// Create the symlink `name` for a LINK `target`.
    pub fn link(&mut self, name: &[u8], target: &[u8]) -> Result<(), TreeError> {
        let name = ClientPath::parse("NAME", name).map_err(TreeError::Refused)?;
        let text = mirror::link_target(&self.root, &name, target).map_err(TreeError::Refused)?;
        let path = self.place(&name)?;
        std::os::unix::fs::symlink(&text, &path).map_err(|e| exists(e, &name))
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

/// Create `path` (prepared by [`Tree::file`]) exclusively, never through
/// a symlink, and write `data`.
pub fn write_new(path: &Path, data: &[u8]) -> Result<(), TreeError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o644)
        .open(path)
        .map_err(|e| exists(e, &path.display()))?;
    f.write_all(data)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Self {
            let p = std::env::temp_dir().join(format!("tree-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            Self(p)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn put(tree: &mut Tree, name: &str, data: &str) -> Result<(), TreeError> {
        let path = tree.file(name.as_bytes())?;
        write_new(&path, data.as_bytes())
    }

    #[track_caller]
    fn refused(r: Result<(), TreeError>, needle: &str) {
        match r {
            Err(TreeError::Refused(why)) => assert!(why.contains(needle), "{why}"),
            other => panic!("expected a refusal with {needle:?}, got {other:?}"),
        }
    }

    #[test]
    fn files_links_and_directories_land_under_the_root() {
        let s = Scratch::new("ok");
        let mut t = Tree::create(s.0.join("root")).unwrap();
        put(&mut t, "/src/p/x.c", "int x;\n").unwrap();
        put(&mut t, "/src/p/inc/x.h", "int y;\n").unwrap();
        t.link(b"/src/p/y.h", b"/src/p/inc/x.h").unwrap();
        // The include server's link to this server's own system headers.
        let sys = format!("{}usr/include", "../".repeat(25));
        t.link(b"/usr/include", sys.as_bytes()).unwrap();
        assert!(s.0.join("root/usr/include/stdio.h").exists());
        let cwd = t.mkdirs(&ClientPath::parse("CDIR", b"/src/p/build").unwrap());
        assert_eq!(cwd.unwrap(), s.0.join("root/src/p/build"));
        assert_eq!(
            fs::read_to_string(s.0.join("root/src/p/y.h")).unwrap(),
            "int y;\n"
        );
        let link = fs::read_link(s.0.join("root/src/p/y.h")).unwrap();
        assert_eq!(link, s.0.join("root/src/p/inc/x.h"));
    }

    #[test]
    fn nothing_is_written_through_a_symlink_or_twice() {
        let s = Scratch::new("evil");
        let outside = s.0.join("outside");
        fs::create_dir(&outside).unwrap();
        let mut t = Tree::create(s.0.join("root")).unwrap();
        // A link the rules allow (rooted), then names through it.
        t.link(b"/a", b"/b").unwrap();
        refused(put(&mut t, "/a/evil", "x"), "symbolic link");
        refused(t.link(b"/a/l", b"x"), "symbolic link");
        refused(put(&mut t, "/a", "x"), "already exists");
        // A symlink planted inside the mirror, pointing out of it.
        std::os::unix::fs::symlink(&outside, s.0.join("root/planted")).unwrap();
        refused(put(&mut t, "/planted/evil", "x"), "symbolic link");
        let cwd = ClientPath::parse("CDIR", b"/planted/sub").unwrap();
        assert!(matches!(t.mkdirs(&cwd), Err(TreeError::Refused(_))));
        // Names through a file, duplicates, bad names.
        put(&mut t, "/f", "x").unwrap();
        refused(put(&mut t, "/f/g", "x"), "as a file");
        refused(put(&mut t, "/f", "y"), "already exists");
        refused(put(&mut t, "/", "y"), "names the root");
        refused(put(&mut t, "rel/x.h", "y"), "not an absolute path");
        refused(put(&mut t, "/x/../../../y", "y"), "\"..\"");
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
        assert_eq!(fs::read_to_string(s.0.join("root/f")).unwrap(), "x");
    }
}
