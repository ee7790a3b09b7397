//! Path resolution inside `--root DIR`, as `chroot DIR` would see it
//! (issue 11): a symbolic link met on the way is followed inside DIR, an
//! absolute target (`etc/distcc/hosts -> /etc/distcc/hosts.shared`,
//! `usr/lib/distcc -> /usr/lib/distcc-x`) starts again at DIR, and `..`
//! never climbs above DIR. Without this the kernel follows such links to
//! the host's own files, and `distcc-config --root /mnt/gentoo` changed
//! the rescue system instead of the one being installed.
//!
//! Pure: the link reader is passed in, so the rules are tested without a
//! file system. `fsio` is the only caller with the real one.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// Links followed before giving up, as Linux's ELOOP limit.
const MAX_LINKS: usize = 40;

/// More than [`MAX_LINKS`] links on the way: a loop (chroot's ELOOP).
#[derive(Debug, PartialEq, Eq)]
pub struct Loop;

/// Resolve `path` (as the system in `root` names it: absolute, or relative
/// to its `/`) to where it is under `root`, following every symbolic link
/// on the way, the last component included. `read_link(p)` gives the
/// target of `p` when `p` (a path under `root`) is a link. The result has
/// no link left to follow, so the kernel cannot leave `root` with it; a
/// missing component ends the following (the rest is appended as written).
pub fn resolve(
    root: &Path,
    path: &Path,
    read_link: impl Fn(&Path) -> Option<PathBuf>,
) -> Result<PathBuf, Loop> {
    let mut done: Vec<OsString> = Vec::new();
    let mut todo: Vec<OsString> = components(path);
    todo.reverse();
    let mut links = 0;
    while let Some(part) = todo.pop() {
        if part == ".." {
            done.pop();
            continue;
        }
        let here = join(root, &done).join(&part);
        match read_link(&here) {
            None => done.push(part),
            Some(_) if links == MAX_LINKS => return Err(Loop),
            Some(target) => {
                links += 1;
                if target.is_absolute() {
                    done.clear();
                }
                todo.extend(components(&target).into_iter().rev());
            }
        }
    }
    Ok(join(root, &done))
}

/// The normal components of `path` and its `..`s, without `/` and `.`.
fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

fn join(root: &Path, parts: &[OsString]) -> PathBuf {
    let mut p = root.to_path_buf();
    p.extend(parts);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A file system of links only: path under /r -> target.
    #[track_caller]
    fn check(links: &[(&str, &str)], path: &str, want: &str) {
        let map: BTreeMap<PathBuf, PathBuf> = links
            .iter()
            .map(|(l, t)| (PathBuf::from(l), PathBuf::from(t)))
            .collect();
        let got = resolve(Path::new("/r"), Path::new(path), |p| map.get(p).cloned());
        assert_eq!(got, Ok(PathBuf::from(want)), "{path} with {links:?}");
    }

    #[test]
    fn links_stay_inside_the_root() {
        // No link: the path under the root.
        check(&[], "/etc/distcc/hosts", "/r/etc/distcc/hosts");
        check(&[], "etc/portage/make.conf", "/r/etc/portage/make.conf");
        // An absolute link at the end, and in the middle.
        check(
            &[("/r/etc/distcc/hosts", "/etc/shared/hosts")],
            "/etc/distcc/hosts",
            "/r/etc/shared/hosts",
        );
        check(
            &[("/r/usr/lib/distcc", "/usr/lib64/distcc")],
            "/usr/lib/distcc/gcc",
            "/r/usr/lib64/distcc/gcc",
        );
        // Relative links, with `..` that would climb out of the root.
        check(
            &[("/r/etc/os-release", "../usr/lib/os-release")],
            "/etc/os-release",
            "/r/usr/lib/os-release",
        );
        check(
            &[("/r/etc/portage", "../../../../host/portage")],
            "/etc/portage/make.conf",
            "/r/host/portage/make.conf",
        );
        check(&[], "/../../etc/passwd", "/r/etc/passwd");
        // Chains: a link to a link, an absolute one inside a relative one.
        check(
            &[("/r/a", "b"), ("/r/b", "/c/d"), ("/r/c", "/e")],
            "/a/f",
            "/r/e/d/f",
        );
        // bin -> . (the masquerade directory's compatibility link).
        check(
            &[("/r/usr/lib/distcc/bin", ".")],
            "/usr/lib/distcc/bin/gcc",
            "/r/usr/lib/distcc/gcc",
        );
    }

    #[test]
    fn loops_are_errors() {
        // Never the link itself, which the kernel would then follow out
        // of the root (`usr/bin/g++ -> /usr/bin/g++`).
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("/r/a", "/b"), ("/r/b", "/a")], "/a/x"),
            (&[("/r/a", "a")], "/a"),
            (&[("/r/usr/bin/g++", "/usr/bin/g++")], "/usr/bin/g++"),
        ];
        for (links, path) in cases {
            let map: BTreeMap<PathBuf, PathBuf> = links
                .iter()
                .map(|(l, t)| (PathBuf::from(l), PathBuf::from(t)))
                .collect();
            let got = resolve(Path::new("/r"), Path::new(path), |p| map.get(p).cloned());
            assert_eq!(got, Err(Loop), "{path} with {links:?}");
        }
    }
}
