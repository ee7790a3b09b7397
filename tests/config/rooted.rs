//! `--root DIR` resolves every path inside DIR, as chroot would (issue 11:
//! `distcc-config --root /mnt/gentoo` followed absolute links out of the
//! root and changed the host's files). Each root below has absolute links
//! to a directory that also exists on the host, holding files the test
//! watches: after each command they must be exactly as they were, and the
//! change must be in the root's own copy of that path.

use std::path::Path;

use super::{Root, install_host_programs, is_root};
use crate::support::TempDir;

/// A directory of the host that the root's links name.
struct Mirror {
    host: TempDir,
}

impl Mirror {
    fn new() -> Self {
        Self {
            host: TempDir::new("config-host-side"),
        }
    }

    /// The absolute path the root's links point to (on the host: a file
    /// the command must not touch).
    fn host(&self, name: &str) -> std::path::PathBuf {
        self.host.path().join(name)
    }

    /// The same path, relative to the root.
    fn rel(&self, name: &str) -> String {
        self.host(name)
            .strip_prefix("/")
            .unwrap()
            .display()
            .to_string()
    }
}

fn link(r: &Root, rel: &str, target: &Path) {
    let p = r.path(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, p).unwrap();
}

#[track_caller]
fn untouched(path: &Path, text: &str) {
    assert_eq!(
        std::fs::read_to_string(path).unwrap(),
        text,
        "the host's {} was changed",
        path.display()
    );
}

#[test]
fn set_hosts_and_set_env_write_inside_the_root() {
    if !is_root() {
        // As non-root --set-hosts writes $DISTCC_DIR/hosts, not the root's.
        assert!(!crate::support::ci(), "CI runs the tests as root");
        return;
    }
    let m = Mirror::new();
    std::fs::write(m.host("hosts"), "host-side\n").unwrap();
    let r = Root::new("gentoo");
    link(&r, "etc/distcc/hosts", &m.host("hosts"));
    link(&r, "etc/env.d", &m.host("env.d"));
    std::fs::create_dir_all(m.host("env.d")).unwrap();
    std::fs::write(m.host("env.d/02distcc"), "DISTCC_VERBOSE=\"0\"\n").unwrap();
    r.write(
        &format!("{}/02distcc", m.rel("env.d")),
        "DISTCC_VERBOSE=\"0\"\n",
    );

    let out = r.run(&["--set-hosts", "build1/8,lzo"]);
    assert_eq!(out.status, 0, "{out:?}");
    untouched(&m.host("hosts"), "host-side\n");
    assert_eq!(r.read(&m.rel("hosts")), "build1/8,lzo\n");
    assert!(r.path("etc/distcc/hosts").is_symlink(), "the link stays");
    let out = r.run(&["--get-hosts"]);
    assert_eq!(out.stdout, "build1/8,lzo\n", "{out:?}");

    let out = r.run(&["--set-verbose", "1"]);
    assert_eq!(out.status, 0, "{out:?}");
    untouched(&m.host("env.d/02distcc"), "DISTCC_VERBOSE=\"0\"\n");
    let inner = r.read(&format!("{}/02distcc", m.rel("env.d")));
    assert!(inner.contains("DISTCC_VERBOSE=\"1\""), "{inner}");
}

#[test]
fn masquerade_dir_and_compilers_resolve_inside_the_root() {
    let m = Mirror::new();
    std::fs::create_dir_all(m.host("distcc")).unwrap();
    std::fs::write(m.host("distcc/README"), "host-side\n").unwrap();
    let r = Root::new("gentoo");
    install_host_programs(r.dir.path(), |n| n.contains("gcc"));
    // The root's masquerade directory is a link to another directory.
    link(&r, "usr/lib/distcc", &m.host("distcc"));
    std::fs::create_dir_all(r.path(&m.rel("distcc"))).unwrap();
    // A compiler only the host has, linked by an absolute link: not in
    // this root, so not linked.
    link(&r, "usr/bin/g++", Path::new("/usr/bin/g++"));
    let out = r.run(&["--update-masquerade"]);
    assert_eq!(out.status, 0, "{out:?}");
    let host_side: Vec<String> = std::fs::read_dir(m.host("distcc"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(host_side, ["README"], "links made on the host");
    let inner = r.listing(&m.rel("distcc"));
    assert!(
        inner.contains(&"gcc -> /usr/bin/distcc".to_owned()),
        "{inner:?}"
    );
    assert!(inner.contains(&"bin -> .".to_owned()), "{inner:?}");
    assert!(
        !inner.iter().any(|l| l.starts_with("g++ ")),
        "g++ exists only on the host: {inner:?}"
    );
}

#[test]
fn make_conf_link_is_rewritten_inside_the_root() {
    crate::require_tool!("gcc");
    let m = Mirror::new();
    let text = "COMMON_FLAGS=\"-O2 -march=native\"\nCFLAGS=\"${COMMON_FLAGS}\"\n";
    std::fs::write(m.host("make.conf"), text).unwrap();
    let r = Root::new("gentoo");
    link(&r, "etc/portage/make.conf", &m.host("make.conf"));
    r.write(&m.rel("make.conf"), text);
    let out = r.run(&["--march-native", "--apply"]);
    assert_eq!(out.status, 0, "{out:?}");
    untouched(&m.host("make.conf"), text);
    let inner = r.read(&m.rel("make.conf"));
    assert!(
        !inner.contains("-march=native") && inner.contains("-march="),
        "{inner}"
    );
}
