//! Bad input: malformed hosts, missing and unreadable files, a full disk.
//! Each gives a clear error and leaves the original file as it was.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use super::{Root, Run, is_root};

const HOSTS: &str = "old-host/4,lzo\n";

#[test]
fn malformed_hosts_write_nothing() {
    let r = Root::new("gentoo");
    r.write("etc/distcc/hosts", HOSTS);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--set-hosts", "a b,lzo,cpp c,cpp"],
            "\"c,cpp\" at line 1, column 14: pump mode",
        ),
        (
            &["--set-hosts", "mbp@"],
            "\"mbp@\" at line 1, column 5: a host name is required",
        ),
        (&["--set-hosts", "angry::"], "invalid port \":\""),
        (&["--set-hosts", "h/0"], "bad slot count \"/0\""),
        (&["--set-hosts", "h:70000"], "between 1 and 65535"),
        (&["--set-hosts", "# just a comment"], "contains no hosts"),
        (&["--set-hosts", "h/3x"], "use --force"),
    ];
    for (args, needle) in cases {
        let out = r.run(args);
        assert_eq!(out.status, 106, "{args:?}: {out:?}");
        assert!(
            out.stderr.starts_with("!!! Error: ") && out.stderr.contains(needle),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(
            r.read("etc/distcc/hosts"),
            HOSTS,
            "{args:?} changed the file"
        );
    }
    // --force writes what distcc accepts, never what it refuses.
    assert_eq!(r.run(&["--set-hosts", "--force", "h/3x"]).status, 0);
    assert_eq!(r.read("etc/distcc/hosts"), "h/3x\n");
    assert_eq!(r.run(&["--set-hosts", "--force", "h,bogus"]).status, 106);
}

#[test]
fn missing_and_unreadable_files() {
    let r = Root::new("gentoo");
    let out = r.run(&["--get-verbose"]);
    assert_eq!(out.status, 1);
    let env = r.path("etc/env.d/02distcc");
    assert_eq!(
        out.stderr,
        format!(
            "!!! Error: cannot read {}: No such file or directory (os error 2)\n",
            env.display()
        )
    );
    std::fs::create_dir_all(&env).unwrap();
    let out = r.run(&["--get-env"]);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("Is a directory"), "{out:?}");
    let out = r.run(&["--set-verbose", "1"]);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("cannot read"), "{out:?}");
    // A broken compilers.toml is named, not ignored.
    r.write(
        "etc/distcc/compilers.toml",
        "[[group]]\nname = \"x\"\ninclude = [\"{oops\"]\n",
    );
    let out = r.run(&["--update-masquerade"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("compilers.toml") && out.stderr.contains("bad pattern"),
        "{out:?}"
    );
}

#[test]
fn unreadable_for_a_user() {
    if !is_root() {
        assert!(!crate::support::ci(), "CI runs the suite as root");
        eprintln!("skipping: needs root to switch to nobody");
        return;
    }
    let r = Root::new("gentoo");
    r.write("home/.distcc/hosts", "secret\n");
    let hosts = r.path("home/.distcc/hosts");
    std::fs::set_permissions(&hosts, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out: Run = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(crate::support::bin("distcc-config"))
        .args(["--root"])
        .arg(r.dir.path())
        .arg("--get-hosts")
        .env_clear()
        .env("HOME", r.path("home"))
        .output()
        .unwrap()
        .into();
    assert_eq!(out.status, 1, "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            "!!! Error: cannot read {}: Permission denied (os error 13)\n",
            hosts.display()
        )
    );
}

/// A small tmpfs, unmounted on drop.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &std::path::Path, size: &str) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(ok.success(), "mount tmpfs on {}", dir.display());
        Self(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_leaves_the_original_file() {
    if !is_root() {
        assert!(!crate::support::ci(), "CI runs the suite as root");
        eprintln!("skipping: needs root to mount a tmpfs");
        return;
    }
    let r = Root::new("gentoo");
    let etc = r.path("etc/distcc");
    let _fs = Tmpfs::mount(&etc, "16k");
    std::fs::write(etc.join("hosts"), HOSTS).unwrap();
    // Fill the file system.
    let mut filler = std::fs::File::create(etc.join("filler")).unwrap();
    let chunk = vec![b'x'; 4096];
    while std::io::Write::write_all(&mut filler, &chunk).is_ok() {}
    drop(filler);
    let long: Vec<String> = (0..2000)
        .map(|i| format!("host{i}.example/4,lzo"))
        .collect();
    let out = r.run(&["--set-hosts", &long.join(" ")]);
    assert_eq!(out.status, 1, "{out:?}");
    assert!(
        out.stderr.contains("No space left on device") && out.stderr.contains("is unchanged"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(etc.join("hosts")).unwrap(), HOSTS);
    let mut left: Vec<String> = std::fs::read_dir(&etc)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["filler", "hosts"], "no temp file left behind");
}
