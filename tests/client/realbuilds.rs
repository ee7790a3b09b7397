//! Issue 10: the option table must not cost real builds a job that 3.4
//! distributes. Two real C projects, vendored by crates of the registry
//! (liblzma from `lzma-sys`, zlib from `libz-sys`), are built with their
//! own flags plus a distribution's CFLAGS (Arch's makepkg.conf for liblzma,
//! Debian's dpkg-buildflags for zlib), through our client with Debian's
//! 3.4 daemon and through Debian's client with our daemon: every job runs
//! remotely (none falls back, none is refused) and every object equals a
//! local build's.
//!
//! `-g` is left out of the distribution flags: plain mode's `-g` objects
//! differ from local ones with 3.4 as with us (the line table follows the
//! preprocessed text; bench/RESULTS.md), which is not what this checks.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::harness::{Farm, Kind, assert_ok, assert_same, text};
use crate::support;

/// A crate's source directory in cargo's registry, fetched if needed.
pub(super) fn registry_crate(farm: &Farm, name: &str, version: &str) -> PathBuf {
    let proj = farm.path("fetch");
    std::fs::create_dir_all(proj.join("src")).unwrap();
    std::fs::write(
        proj.join("Cargo.toml"),
        format!(
            "[package]\nname = \"fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             [dependencies]\n{name} = \"={version}\"\n"
        ),
    )
    .unwrap();
    std::fs::write(proj.join("src/main.rs"), "fn main() {}\n").unwrap();
    let out = Command::new("cargo")
        .args(["fetch", "--quiet"])
        .current_dir(&proj)
        .output()
        .expect("run cargo fetch");
    assert_ok(&out, "cargo fetch");
    std::fs::read_dir(support::cargo_home().join("registry/src"))
        .unwrap()
        .map(|d| d.unwrap().path().join(format!("{name}-{version}")))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| panic!("{name}-{version} not in the registry after cargo fetch"))
}

/// A project: its sources (relative to `root`) and flags.
struct Project {
    root: PathBuf,
    files: Vec<String>,
    cflags: String,
}

fn c_files(dir: &Path, skip: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .filter(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            !skip.iter().any(|s| stem == *s || stem.ends_with(s))
        })
        .collect();
    v.sort();
    v
}

/// Arch's makepkg.conf CFLAGS (pacman 6.1), without `-g`.
const ARCH_CFLAGS: &str = "-march=x86-64 -mtune=generic -O2 -pipe -fno-plt -fexceptions \
    -Wp,-D_FORTIFY_SOURCE=3 -Wformat -Werror=format-security -fstack-clash-protection \
    -fcf-protection -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer";

/// Debian 12's `dpkg-buildflags --get CFLAGS` and CPPFLAGS, without `-g`.
const DEBIAN_CFLAGS: &str = "-O2 -ffile-prefix-map=/build/zlib=. -fstack-protector-strong \
    -Wformat -Werror=format-security -Wdate-time -D_FORTIFY_SOURCE=2";

fn liblzma(farm: &Farm) -> Project {
    let src = registry_crate(farm, "lzma-sys", "0.1.20");
    let root = farm.work().join("liblzma");
    support::copy_tree(&src, &root);
    let dirs = [
        "common",
        "lzma",
        "lz",
        "check",
        "delta",
        "rangecoder",
        "simple",
    ];
    let base = root.join("xz-5.2/src/liblzma");
    let mut files = Vec::new();
    for d in dirs {
        for f in c_files(&base.join(d), &["crc32_small", "crc64_small", "tablegen"]) {
            files.push(
                f.strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    files.push("xz-5.2/src/common/tuklib_cpucores.c".into());
    files.push("xz-5.2/src/common/tuklib_physmem.c".into());
    let incs: Vec<String> = ["api"]
        .iter()
        .chain(&dirs)
        .map(|d| format!("-Ixz-5.2/src/liblzma/{d}"))
        .collect();
    // lzma-sys's build.rs: its config.h, C99, threads.
    let cflags = format!(
        "{ARCH_CFLAGS} -std=c99 -pthread -DHAVE_CONFIG_H=1 {} -Ixz-5.2/src/common -I.",
        incs.join(" ")
    );
    Project {
        root,
        files,
        cflags,
    }
}

fn zlib(farm: &Farm) -> Project {
    let src = registry_crate(farm, "libz-sys", "1.1.33");
    let root = farm.work().join("zlib");
    support::copy_tree(&src.join("src/zlib"), &root);
    let files = c_files(&root, &[])
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // libz-sys's build.rs for a static zlib on Linux.
    let cflags =
        format!("{DEBIAN_CFLAGS} -fPIC -DSTDC -D_LARGEFILE64_SOURCE -fvisibility=hidden -I.");
    Project {
        root,
        files,
        cflags,
    }
}

/// A Makefile compiling every file to `build/<name>.o` with `$(CC)`.
fn write_makefile(p: &Project) -> Vec<String> {
    let mut objs = Vec::new();
    let mut rules = String::new();
    for f in &p.files {
        let obj = format!("build/{}.o", f.replace('/', "_").trim_end_matches(".c"));
        rules.push_str(&format!("{obj}: {f}\n\t$(CC) $(CFLAGS) -c $< -o $@\n"));
        objs.push(obj);
    }
    let text = format!(
        "CFLAGS = {}\nall: {}\n$(shell mkdir -p build)\n{rules}",
        p.cflags,
        objs.join(" ")
    );
    std::fs::write(p.root.join("Makefile"), text).unwrap();
    objs
}

/// `make -j4` with `cc` as the compiler, in a clean build directory.
fn make(farm: &Farm, p: &Project, cc: &str, hosts: &str, env: &[(&str, &str)]) -> String {
    let _ = std::fs::remove_dir_all(p.root.join("build"));
    let out = farm
        .command(Path::new("/usr/bin/make"), hosts, &["-s", "-j4"], env)
        .arg(format!("CC={cc}"))
        .current_dir(&p.root)
        .output()
        .expect("run make");
    assert_ok(&out, &format!("make CC={cc}"));
    text(&out.stderr)
}

fn build_everywhere(p: &Project, farm: &Farm, tag: &str) {
    let objs = write_makefile(p);
    assert!(objs.len() >= 10, "{tag}: only {} files", objs.len());
    make(farm, p, "gcc", "", &[]);
    let reference = p.root.join("reference");
    std::fs::rename(p.root.join("build"), &reference).unwrap();
    let ours = support::bin("distcc").display().to_string();
    // (client, daemon, the client program)
    for (client, kind, program) in [
        ("ours", Kind::Debian, ours.as_str()),
        ("3.4", Kind::Ours, "/usr/bin/distcc"),
    ] {
        let d = farm.daemon(kind);
        let log = farm.path(&format!("{tag}-{client}.log"));
        let env = [
            ("DISTCC_LOG", log.to_str().unwrap()),
            ("DISTCC_VERBOSE", "1"),
            ("DISTCC_FALLBACK", "0"),
        ];
        make(farm, p, &format!("{program} gcc"), &d.host(",lzo"), &env);
        let client_log = std::fs::read_to_string(&log).unwrap_or_default();
        let local: Vec<&str> = client_log
            .lines()
            .filter(|l| l.contains("locally"))
            .collect();
        assert!(local.is_empty(), "{tag}, {client} client: {local:#?}");
        assert_eq!(
            d.wait_compiles(objs.len()),
            objs.len(),
            "{tag}, {client} client, {kind:?} daemon:\n{}",
            d.log_text()
        );
        assert!(!d.log_text().contains("refused"), "{tag}: {}", d.log_text());
        for o in &objs {
            let name = Path::new(o).file_name().unwrap();
            assert_same(&p.root.join(o), &reference.join(name));
        }
    }
}

#[test]
fn liblzma_and_zlib_build_remotely_with_distribution_flags_both_ways() {
    crate::require_tool!("gcc");
    crate::require_tool!("make");
    crate::require_tool!("cargo");
    let farm = Farm::new("realbuilds");
    build_everywhere(&liblzma(&farm), &farm, "liblzma");
    build_everywhere(&zlib(&farm), &farm, "zlib");
}
