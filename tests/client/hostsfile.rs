//! `$DISTCC_DIR/hosts` is distcc 3.4's host-list FILE (spec §2.1): our
//! client's per-host figures live in `$DISTCC_DIR/host-figures/`, so a
//! 3.4 client sharing the directory still reads its list there, our
//! client reads the same file as its list and still records its figures
//! beside it, and the old `hosts/` directory of figures is cleared away
//! (only when nothing else is in it); a directory there that is not ours
//! stops the search with 3.4's error, as in 3.4.

use std::path::Path;

use super::harness::{Farm, Kind, assert_ok, text};
use crate::{require_tool, support};

pub(super) const DEBIAN_DISTCC: &str = "/usr/bin/distcc";

fn figure(ddir: &Path, d: &support::distccd::Daemon) -> std::path::PathBuf {
    ddir.join("host-figures")
        .join(format!("tcp_127.0.0.1_{}", d.port))
}

#[test]
fn after_our_jobs_3_4_still_reads_its_hosts_file() {
    require_tool!("gcc");
    require_tool!(DEBIAN_DISTCC);
    let f = Farm::with_hello("hostsfile-34");
    let d = f.daemon(Kind::Ours);
    let out = f.distcc(&d.host(""), &["gcc", "-c", "hello.c", "-o", "ours.o"], &[]);
    assert_ok(&out, "our job");
    assert_eq!(d.wait_compiles(1), 1, "ours ran remotely");
    let ddir = f.path("ddir");
    assert!(
        support::eventually(|| figure(&ddir, &d).exists()),
        "no figure recorded"
    );
    assert!(
        !ddir.join("hosts").exists(),
        "our job made $DISTCC_DIR/hosts"
    );
    // 3.4's client, DISTCC_HOSTS unset: the list is $DISTCC_DIR/hosts.
    std::fs::write(ddir.join("hosts"), format!("{}\n", d.host(""))).unwrap();
    let out = f
        .command(
            Path::new(DEBIAN_DISTCC),
            "",
            &["gcc", "-c", "hello.c", "-o", "deb.o"],
            &[],
        )
        .env_remove("DISTCC_HOSTS")
        .output()
        .unwrap();
    assert_ok(&out, "3.4's job");
    assert!(
        !text(&out.stderr).contains("Is a directory"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(d.wait_compiles(2), 2, "3.4's job ran remotely");
}

#[test]
fn a_user_hosts_file_is_our_list_and_figures_are_still_recorded() {
    require_tool!("gcc");
    let f = Farm::with_hello("hostsfile-user");
    let d = f.daemon(Kind::Ours);
    let ddir = f.path("ddir");
    let list = format!("# mine\n{}\n", d.host(""));
    std::fs::write(ddir.join("hosts"), &list).unwrap();
    let out = f
        .command(
            &support::bin("distcc"),
            "",
            &["gcc", "-c", "hello.c", "-o", "hello.o"],
            &[],
        )
        .env_remove("DISTCC_HOSTS")
        .output()
        .unwrap();
    assert_ok(&out, "our job");
    assert_eq!(d.wait_compiles(1), 1, "sent to the host in the file");
    assert!(
        support::eventually(|| figure(&ddir, &d).exists()),
        "no figure recorded beside the user's hosts file"
    );
    assert_eq!(std::fs::read_to_string(ddir.join("hosts")).unwrap(), list);
}

#[test]
fn an_old_figures_directory_goes_and_a_foreign_one_stays() {
    require_tool!("gcc");
    let f = Farm::with_hello("hostsfile-old");
    let d = f.daemon(Kind::Ours);
    let old_layout = |ddir: &Path| {
        let old = ddir.join("hosts");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join("tcp_10.0.0.1_3632"), "v1 5 3 1 #0\n").unwrap();
        std::fs::write(old.join(".ssh_h.42"), "").unwrap();
        old
    };
    let job = |ddir: &Path, hosts: Option<&str>| {
        let mut cmd = f.command(
            &support::bin("distcc"),
            hosts.unwrap_or(""),
            &["gcc", "-c", "hello.c", "-o", "hello.o"],
            &[],
        );
        cmd.env("DISTCC_DIR", ddir);
        if hosts.is_none() {
            cmd.env_remove("DISTCC_HOSTS");
        }
        cmd.output().unwrap()
    };
    // Ours only: cleared when the new directory is made.
    let ddir = f.path("ddir");
    let old = old_layout(&ddir);
    assert_ok(&job(&ddir, Some(&d.host(""))), "a job");
    assert!(support::eventually(|| figure(&ddir, &d).exists()));
    assert!(!old.exists(), "the old directory stayed");
    // A file of the user's beside ours: nothing is removed.
    let mixed = f.path("ddir-mixed");
    let old = old_layout(&mixed);
    std::fs::write(old.join("notes"), "keep me\n").unwrap();
    assert_ok(&job(&mixed, Some(&d.host(""))), "a job");
    assert!(support::eventually(|| figure(&mixed, &d).exists()));
    let mut left: Vec<_> = std::fs::read_dir(&old)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, [".ssh_h.42", "notes", "tcp_10.0.0.1_3632"]);
    // Found where the host list is read (the new directory already
    // there, DISTCC_HOSTS unset): cleared too.
    let later = f.path("ddir-later");
    std::fs::create_dir_all(later.join("host-figures")).unwrap();
    let old = old_layout(&later);
    let out = f
        .command(&support::bin("distcc"), "", &["--show-hosts"], &[])
        .env("DISTCC_DIR", &later)
        .env_remove("DISTCC_HOSTS")
        .output()
        .unwrap();
    assert!(!old.exists(), "{}", text(&out.stderr));
}

/// A directory at `$DISTCC_DIR/hosts` that is not ours: 3.4 stops there
/// (`failed to read .../hosts: Is a directory`) and compiles locally, or
/// exits 116 with `DISTCC_FALLBACK=0`, rather than read
/// `/etc/distcc/hosts`; ours does the same, checked against Debian's.
#[test]
fn a_foreign_hosts_directory_stops_the_search_as_in_3_4() {
    require_tool!("gcc");
    require_tool!(DEBIAN_DISTCC);
    let f = Farm::with_hello("hostsfile-foreign");
    let ddir = f.path("ddir");
    std::fs::create_dir_all(ddir.join("hosts")).unwrap();
    std::fs::write(ddir.join("hosts").join("notes"), "keep me\n").unwrap();
    let said = format!(
        "failed to read {}: Is a directory",
        ddir.join("hosts").display()
    );
    for client in [support::bin("distcc"), DEBIAN_DISTCC.into()] {
        let run = |obj: &str, env: &[(&str, &str)]| {
            f.command(&client, "", &["gcc", "-c", "hello.c", "-o", obj], env)
                .env_remove("DISTCC_HOSTS")
                .output()
                .unwrap()
        };
        let what = client.display();
        let out = run("local.o", &[]);
        assert_ok(&out, &format!("{what}"));
        assert!(
            text(&out.stderr).contains(&said),
            "{what}: {}",
            text(&out.stderr)
        );
        assert!(
            f.work().join("local.o").exists(),
            "{what}: compiled locally"
        );
        std::fs::remove_file(f.work().join("local.o")).unwrap();
        let out = run("none.o", &[("DISTCC_FALLBACK", "0")]);
        assert_eq!(
            out.status.code(),
            Some(116),
            "{what}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(&said),
            "{what}: {}",
            text(&out.stderr)
        );
    }
    assert!(
        ddir.join("hosts").join("notes").exists(),
        "the user's file stays"
    );
}
