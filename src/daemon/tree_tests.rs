//! Tests of [`super`]: what a mirror may hold, new or kept from an
//! earlier job.

use super::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

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
    let place = tree.file(name.as_bytes())?;
    write_file(&place, data.as_bytes())
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

/// Every entry under `root`, relative, sorted (directories end in `/`,
/// symlinks show their target).
fn listing(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            let kind = e.file_type().unwrap();
            if kind.is_symlink() {
                let to = fs::read_link(e.path()).unwrap();
                let to = to.strip_prefix(root).unwrap_or(&to);
                out.push(format!("{rel} -> {}", to.display()));
            } else if kind.is_dir() {
                out.push(format!("{rel}/"));
                dirs.push(e.path());
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

fn ino(p: &Path) -> u64 {
    fs::symlink_metadata(p).unwrap().ino()
}

#[test]
fn a_kept_tree_holds_exactly_the_new_jobs_files_and_reuses_their_inodes() {
    let s = Scratch::new("kept");
    let root = s.0.join("root");
    let mut t = Tree::create(root.clone()).unwrap();
    put(&mut t, "/src/p/a.c", "int a;\n").unwrap();
    put(&mut t, "/src/p/inc/x.h", "old x, longer than the new one\n").unwrap();
    put(&mut t, "/src/p/inc/y.h", "int y;\n").unwrap();
    t.link(b"/src/p/l.h", b"/src/p/inc/x.h").unwrap();
    t.link(b"/src/p/gone.h", b"/src/p/inc/y.h").unwrap();
    // What the earlier compiler may leave: outputs, a link out of the
    // tree, a file made unreadable, a directory.
    fs::write(root.join("src/p/a.o"), "obj").unwrap();
    std::os::unix::fs::symlink("/etc", root.join("src/p/inc/evil")).unwrap();
    fs::set_permissions(
        root.join("src/p/inc/x.h"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    fs::create_dir_all(root.join("src/p/build/tmp")).unwrap();
    let (x, l, p) = (
        ino(&root.join("src/p/inc/x.h")),
        ino(&root.join("src/p/l.h")),
        ino(&root.join("src/p")),
    );

    let mut t = Tree::reuse(root.clone()).unwrap();
    t.mkdirs(&ClientPath::parse("CDIR", b"/src/p/build").unwrap())
        .unwrap();
    put(&mut t, "/src/p/b.c", "int b;\n").unwrap();
    put(&mut t, "/src/p/inc/x.h", "new x\n").unwrap();
    t.link(b"/src/p/l.h", b"/src/p/inc/x.h").unwrap();
    t.sweep().unwrap();
    assert_eq!(
        listing(&root),
        [
            "src/",
            "src/p/",
            "src/p/b.c",
            "src/p/build/",
            "src/p/inc/",
            "src/p/inc/x.h",
            "src/p/l.h -> src/p/inc/x.h",
        ]
    );
    let xh = root.join("src/p/inc/x.h");
    assert_eq!(fs::read_to_string(&xh).unwrap(), "new x\n");
    assert_eq!(fs::metadata(&xh).unwrap().mode() & 0o777, 0o644);
    // No new inode for what both jobs sent: the point of keeping it.
    assert_eq!(
        (
            ino(&xh),
            ino(&root.join("src/p/l.h")),
            ino(&root.join("src/p"))
        ),
        (x, l, p)
    );
}

#[test]
fn in_a_kept_tree_an_earlier_entry_gives_way_and_this_jobs_rules_hold() {
    let s = Scratch::new("kept-rules");
    let outside = s.0.join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("shared.h"), "outside\n").unwrap();
    let root = s.0.join("root");
    let mut t = Tree::create(root.clone()).unwrap();
    put(&mut t, "/f", "a file").unwrap();
    put(&mut t, "/d/x.h", "x").unwrap();
    // Left by an earlier compiler: a symlink out of the tree where this
    // job has a directory, and a hard link to a file outside it.
    std::os::unix::fs::symlink(&outside, root.join("q")).unwrap();
    fs::hard_link(outside.join("shared.h"), root.join("h.h")).unwrap();

    let mut t = Tree::reuse(root.clone()).unwrap();
    // Earlier entries of another kind give way.
    put(&mut t, "/f/g.h", "f is a directory now").unwrap();
    put(&mut t, "/d", "d is a file now").unwrap();
    put(&mut t, "/q/z.h", "inside").unwrap();
    put(&mut t, "/h.h", "this job's").unwrap();
    t.sweep().unwrap();
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 1);
    assert_eq!(
        fs::read_to_string(outside.join("shared.h")).unwrap(),
        "outside\n",
        "a hard link was written through"
    );
    assert_eq!(listing(&root), ["d", "f/", "f/g.h", "h.h", "q/", "q/z.h"]);
    // This job's own entries keep the rules of a new tree.
    refused(put(&mut t, "/d", "again"), "already exists");
    refused(put(&mut t, "/d/y.h", "y"), "as a file");
    t.link(b"/s", b"/f").unwrap();
    refused(put(&mut t, "/s/evil", "x"), "symbolic link");
    // A kept root that is not a directory is replaced.
    fs::remove_dir_all(&root).unwrap();
    fs::write(&root, "not a directory").unwrap();
    let mut t = Tree::reuse(root.clone()).unwrap();
    put(&mut t, "/n.h", "n").unwrap();
    assert_eq!(listing(&root), ["n.h"]);
}
