//! Job directories: private, emptied, reused and removed; kept with
//! `-save-temps`; stale ones are those nobody holds.

use super::*;
use std::os::unix::fs::PermissionsExt;

fn base(tag: &str) -> PathBuf {
    let b = std::env::temp_dir().join(format!("jobdir-{tag}-{}", std::process::id()));
    fs::create_dir_all(&b).unwrap();
    b
}

#[test]
fn directories_are_private_emptied_reused_and_removed() {
    let base = base("reuse");
    let dirs = JobDirs::new(&base, false);
    let a = dirs.take(false).unwrap();
    let b = dirs.take(false).unwrap();
    assert_ne!(a.path(), b.path());
    let mode = fs::metadata(a.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    a.create_file("x").unwrap();
    assert!(
        a.create_file("x").is_err(),
        "create_file must not reuse a file"
    );
    fs::create_dir(a.file("sub")).unwrap();
    fs::write(a.file("sub/y"), "y").unwrap();
    let pa = a.path().to_path_buf();
    drop(a);
    assert_eq!(fs::read_dir(&pa).unwrap().count(), 0, "not emptied");
    let again = dirs.take(false).unwrap();
    assert_eq!(again.path(), pa, "not reused");
    drop((again, b));
    drop(dirs);
    assert_eq!(fs::read_dir(&base).unwrap().count(), 0, "left behind");
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn save_temps_keeps_every_directory() {
    let base = base("keep");
    let dirs = JobDirs::new(&base, true);
    let a = dirs.take(false).unwrap();
    a.create_file("x").unwrap();
    let pa = a.path().to_path_buf();
    drop(a);
    let b = dirs.take(false).unwrap();
    assert_ne!(b.path(), pa);
    drop((b, dirs));
    let name = pa.file_name().unwrap().to_str().unwrap();
    let saved = pa.with_file_name(name.replace(JOB_PREFIX, SAVED_PREFIX));
    assert!(saved.join("x").exists(), "not kept as {}", saved.display());
    // A restarted daemon leaves saved directories alone.
    assert!(remove_stale(&base).removed.is_empty());
    assert!(saved.join("x").exists());
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn stale_directories_are_those_nobody_holds() {
    let base = base("stale");
    let dirs = JobDirs::new(&base, false);
    let held = dirs.take(false).unwrap();
    held.create_file("output.o").unwrap();
    // What a daemon killed with -9 leaves: a job directory with files
    // and no lock; a directory half made long ago; and things that are
    // not ours to remove.
    let dead = base.join(format!("{JOB_PREFIX}dead01"));
    fs::create_dir_all(dead.join("root/sub")).unwrap();
    fs::write(dead.join("output.o"), "o").unwrap();
    let new_old = base.join(format!("{NEW_PREFIX}old001"));
    fs::create_dir(&new_old).unwrap();
    let old = SystemTime::now() - Duration::from_secs(3600);
    File::open(&new_old).unwrap().set_modified(old).unwrap();
    let new_recent = base.join(format!("{NEW_PREFIX}new001"));
    fs::create_dir(&new_recent).unwrap();
    let others = [
        base.join("distccd_AbCdEf"),           // 3.4's pump directory
        base.join("distccd_AbCdEf.i"),         // 3.4's temp file
        base.join(format!("{SAVED_PREFIX}x")), // DISTCC_SAVE_TEMPS
    ];
    fs::create_dir(&others[0]).unwrap();
    fs::write(&others[1], "").unwrap();
    fs::create_dir(&others[2]).unwrap();
    let link = base.join(format!("{JOB_PREFIX}link01"));
    std::os::unix::fs::symlink(&others[0], &link).unwrap();

    let mut got = remove_stale(&base);
    got.removed.sort();
    let mut want = vec![dead.clone(), new_old.clone()];
    want.sort();
    assert_eq!(
        got,
        Cleanup {
            removed: want,
            in_use: 1
        }
    );
    assert!(
        held.file("output.o").exists(),
        "a live directory was touched"
    );
    for p in others.iter().chain([&new_recent, &link]) {
        assert!(fs::symlink_metadata(p).is_ok(), "{} removed", p.display());
    }
    drop((held, dirs));
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_pump_jobs_tree_is_kept_for_a_pump_job_only() {
    let base = base("tree");
    let dirs = JobDirs::new(&base, false);
    let a = dirs.take(true).unwrap();
    assert!(!a.has_tree());
    fs::create_dir_all(a.file(TREE).join("src")).unwrap();
    a.create_file("output.o").unwrap();
    a.keep_tree();
    let pa = a.path().to_path_buf();
    let b = dirs.take(true).unwrap();
    drop(a);
    // Only the tree stays; the next pump job gets that directory, though
    // another one was returned after it.
    assert_eq!(fs::read_dir(&pa).unwrap().count(), 1);
    drop(b);
    let again = dirs.take(true).unwrap();
    assert_eq!(again.path(), pa);
    assert!(again.has_tree() && again.file(TREE).join("src").is_dir());
    // A job of protocols 1 or 2 gets a directory without a tree first,
    // and the tree is removed when only one with a tree is left.
    again.keep_tree();
    drop(again);
    let plain = dirs.take(false).unwrap();
    assert_ne!(plain.path(), pa);
    let other = dirs.take(false).unwrap();
    assert_eq!(other.path(), pa);
    assert!(!other.has_tree());
    assert_eq!(fs::read_dir(other.path()).unwrap().count(), 0, "tree seen");
    drop((plain, other, dirs));
    assert_eq!(fs::read_dir(&base).unwrap().count(), 0, "left behind");
    fs::remove_dir_all(&base).unwrap();
}
