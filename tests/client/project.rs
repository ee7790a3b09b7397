//! A real multi-file C project (examples/sample-project) built with
//! `make -j` through a masquerade directory first on PATH (spec §3.1-3.2:
//! `gcc` is a symlink to our distcc): every compile runs remotely, the link
//! locally, and every object equals a local build's.

use std::os::unix::fs::symlink;
use std::path::Path;

use super::harness::{Farm, Kind, assert_ok, assert_same, text};
use crate::support;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn objects(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".o") || n.ends_with(".d"))
        .collect();
    v.sort();
    v
}

fn build_project(kind: Kind) {
    let f = Farm::new(&format!("project-{kind:?}"));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sample-project");
    copy_dir(&src, &f.work());
    let masq = f.path("mbin");
    std::fs::create_dir_all(&masq).unwrap();
    for cc in ["cc", "gcc", "c++", "g++"] {
        symlink(support::bin("distcc"), masq.join(cc)).unwrap();
    }
    let daemon = f.daemon(kind);
    let path = format!("{}:/usr/bin:/bin", masq.display());
    let make = |path: &str, hosts: &str| {
        let out = f
            .command(
                Path::new("make"),
                hosts,
                &["-j4", "CC=gcc"],
                &[("PATH", path)],
            )
            .output()
            .expect("make");
        assert_ok(&out, "make");
        out
    };
    let out = make(&path, &daemon.host(",lzo"));
    let n = std::fs::read_dir(f.work().join("src"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "c")
        })
        .count();
    assert!(n >= 12, "the sample project has {n} C files");
    assert_eq!(
        daemon.wait_compiles(n),
        n,
        "every compile ran remotely\n{}",
        text(&out.stderr)
    );
    assert!(
        !text(&out.stderr).contains("running locally"),
        "{}",
        text(&out.stderr)
    );
    let run = std::process::Command::new(f.work().join("build/sample"))
        .output()
        .unwrap();
    assert_ok(&run, "the built program");
    std::fs::rename(f.work().join("build"), f.work().join("build-distcc")).unwrap();
    make("/usr/bin:/bin", "");
    let names = objects(&f.work().join("build"));
    assert_eq!(names.len(), 2 * n, "{names:?}");
    assert_eq!(objects(&f.work().join("build-distcc")), names);
    for name in &names {
        assert_same(
            &f.work().join("build-distcc").join(name),
            &f.work().join("build").join(name),
        );
    }
    assert!(f.leftovers("ctmp").is_empty(), "{:?}", f.leftovers("ctmp"));
}

#[test]
fn make_j_through_a_masquerade_dir_with_our_daemon() {
    build_project(Kind::Ours);
}

#[test]
fn make_j_through_a_masquerade_dir_with_debians_daemon() {
    build_project(Kind::Debian);
}
