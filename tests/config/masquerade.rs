//! --update-masquerade against the machine's real compilers (gcc and the
//! aarch64 cross compiler), with Debian's own /usr/lib/distcc (made by
//! update-distcc-symlinks) as the oracle, and real compiles through the
//! links with a real distccd.

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::{Root, install_host_programs};
use crate::support::{TempDir, free_port};

/// A root whose usr/bin holds the machine's real /usr/bin names and links
/// (see [`install_host_programs`]), so discovery sees the real compilers.
fn real_compilers(distro: &str) -> Root {
    let r = Root::new(distro);
    install_host_programs(r.dir.path(), |_| true);
    r
}

fn names(r: &Root, rel: &str) -> BTreeSet<String> {
    std::fs::read_dir(r.path(rel))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn discovers_what_debians_update_distcc_symlinks_finds_and_more() {
    crate::require_tool!("gcc");
    crate::require_tool!("aarch64-linux-gnu-gcc");
    let r = real_compilers("gentoo");
    let out = r.run(&["--update-masquerade"]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(
        out.stdout.starts_with("Creating symlinks...\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&format!(
        "Creating {}/usr/lib/distcc/gcc symlink...\n",
        r.dir.path().display()
    )));
    let ours = names(&r, "usr/lib/distcc");
    for name in [
        "gcc",
        "g++",
        "cc",
        "c++",
        "cpp",
        "c89",
        "c99",
        "aarch64-linux-gnu-gcc",
        "aarch64-linux-gnu-gcc-12",
        "bin",
    ] {
        assert!(ours.contains(name), "{name} missing from {ours:?}");
    }
    for name in ["gcc-ar", "aarch64-linux-gnu-gcc-ar", "ld", "distcc"] {
        assert!(!ours.contains(name), "{name} should not be linked");
    }
    // Debian's list (if its distcc package made one) is a subset of ours.
    if let Ok(rd) = std::fs::read_dir("/usr/lib/distcc") {
        let debian: BTreeSet<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let missing: Vec<_> = debian.difference(&ours).collect();
        assert!(
            missing.is_empty(),
            "Debian links these and we do not: {missing:?}"
        );
    }
    // Gentoo style: absolute links to EPREFIX/usr/bin/distcc, bin -> .
    assert!(
        r.listing("usr/lib/distcc")
            .contains(&"gcc -> /usr/bin/distcc".to_owned())
    );
    assert!(r.listing("usr/lib/distcc").contains(&"bin -> .".to_owned()));
}

#[test]
fn crossdev_variant_links_only_prefixed_names() {
    crate::require_tool!("aarch64-linux-gnu-gcc");
    let r = real_compilers("gentoo");
    assert_eq!(r.run(&["--update-masquerade-with-crossdev"]).status, 0);
    let ours = names(&r, "usr/lib/distcc");
    assert!(
        ours.contains("aarch64-linux-gnu-gcc") && ours.contains("x86_64-linux-gnu-gcc"),
        "{ours:?}"
    );
    for n in &ours {
        assert!(
            n == "bin" || n.matches('-').count() >= 2,
            "{n} is not prefixed"
        );
    }
}

#[test]
fn idempotent_stale_links_removed_others_kept() {
    crate::require_tool!("gcc");
    let r = real_compilers("gentoo");
    assert_eq!(r.run(&["--update-masquerade"]).status, 0);
    let before = r.listing("usr/lib/distcc");
    // Nothing to do the second time.
    let again = r.run(&["--update-masquerade"]);
    assert_eq!(again.stdout, "Creating symlinks...\n", "{again:?}");
    assert_eq!(r.listing("usr/lib/distcc"), before);
    // A stale distcc link goes; a file and a foreign link stay.
    let dir = r.path("usr/lib/distcc");
    std::os::unix::fs::symlink("/usr/bin/distcc", dir.join("gcc-99")).unwrap();
    std::os::unix::fs::symlink("/usr/bin/ccache", dir.join("gcc-98")).unwrap();
    std::fs::write(dir.join("README"), "mine").unwrap();
    let out = r.run(&["--update-masquerade"]);
    assert!(out.stdout.contains("Removing stale"), "{out:?}");
    let after = r.listing("usr/lib/distcc");
    assert!(!after.iter().any(|l| l.starts_with("gcc-99 ")));
    assert!(after.contains(&"gcc-98 -> /usr/bin/ccache".to_owned()));
    assert!(after.contains(&"README".to_owned()));
}

#[test]
fn dry_run_changes_nothing_and_shows_the_plan() {
    crate::require_tool!("gcc");
    let r = real_compilers("gentoo");
    let out = r.run(&["--update-masquerade", "--dry-run"]);
    assert_eq!(out.status, 0);
    assert!(
        out.stdout.contains("Would create")
            && out
                .stdout
                .contains("/usr/lib/distcc/gcc -> /usr/bin/distcc"),
        "{}",
        out.stdout
    );
    assert!(!r.path("usr/lib/distcc").exists());
}

#[test]
fn link_style_follows_the_distribution_with_override() {
    crate::require_tool!("gcc");
    let r = real_compilers("debian");
    assert_eq!(r.run(&["--update-masquerade"]).status, 0);
    let l = r.listing("usr/lib/distcc");
    assert!(l.contains(&"gcc -> ../../bin/distcc".to_owned()), "{l:?}");
    assert!(
        !l.iter().any(|e| e.starts_with("bin")),
        "Debian has no bin/: {l:?}"
    );
    // Switching style retargets the existing links.
    let out = r.run(&["--update-masquerade", "--links", "absolute"]);
    assert!(out.stdout.contains("Updating"), "{out:?}");
    assert!(
        r.listing("usr/lib/distcc")
            .contains(&"gcc -> /usr/bin/distcc".to_owned())
    );
    // Arch: relative, and an old real bin/ directory gets links too.
    let r = real_compilers("arch");
    std::fs::create_dir_all(r.path("usr/lib/distcc/bin")).unwrap();
    assert_eq!(r.run(&["--update-masquerade"]).status, 0);
    assert!(
        r.listing("usr/lib/distcc/bin")
            .contains(&"gcc -> ../../../bin/distcc".to_owned())
    );
}

/// Debian's distccd on a free port of 127.0.0.1, killed on drop.
pub struct Daemon {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

impl Daemon {
    pub fn start() -> Self {
        let dir = TempDir::new("config-distccd");
        // The daemon drops root and writes its job files here.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o1777),
        )
        .unwrap();
        let port = free_port();
        // Its own process group, so that Drop also ends the preforked
        // children; --lifetime is a safety net if the test is killed.
        let child = Command::new("/usr/bin/distccd")
            .args([
                "--daemon",
                "--no-detach",
                "--log-stderr",
                "--allow",
                "127.0.0.1",
                "--listen",
                "127.0.0.1",
            ])
            .args([
                "--port",
                &port.to_string(),
                "--jobs",
                "2",
                "--lifetime",
                "600",
            ])
            .process_group(0)
            .env("TMPDIR", dir.path())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Debian's distccd");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pgid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// Compile `hello.c` in `work` by running `compiler` through PATH
/// `path`, remotely only (DISTCC_FALLBACK=0).
pub fn compile_through(path: &str, compiler: &str, work: &Path, port: u16) -> std::process::Output {
    std::fs::write(
        work.join("hello.c"),
        "int add(int a, int b) { return a + b; }\n",
    )
    .unwrap();
    std::fs::create_dir_all(work.join("distcc")).unwrap();
    Command::new(compiler)
        .args(["-c", "hello.c", "-o", "hello.o"])
        .current_dir(work)
        .env_clear()
        .env("PATH", path)
        .env("HOME", work)
        .env("DISTCC_DIR", work.join("distcc"))
        .env("TMPDIR", work)
        .env("DISTCC_HOSTS", format!("127.0.0.1:{port}"))
        .env("DISTCC_FALLBACK", "0")
        .output()
        .unwrap()
}

/// The ELF machine field (62 x86-64, 183 aarch64).
pub fn elf_machine(object: &Path) -> u16 {
    let b = std::fs::read(object).unwrap();
    assert_eq!(
        &b[..4],
        b"\x7fELF",
        "{} is not an ELF object",
        object.display()
    );
    u16::from_le_bytes([b[18], b[19]])
}

#[test]
fn a_distcc_compile_through_the_created_links_succeeds() {
    crate::require_tool!("/usr/bin/distccd");
    crate::require_tool!("aarch64-linux-gnu-gcc");
    let daemon = Daemon::start();
    // Our client, and distcc 3.4's: the links work with either.
    for client in [crate::support::bin("distcc"), "/usr/bin/distcc".into()] {
        let r = real_compilers("gentoo");
        let out = r.run(&[
            "--update-masquerade",
            "--distcc-binary",
            client.to_str().unwrap(),
        ]);
        assert_eq!(out.status, 0, "{out:?}");
        let masq = r.path("usr/lib/distcc");
        assert_eq!(std::fs::read_link(masq.join("gcc")).unwrap(), client);
        let path = format!("{}:/usr/bin:/bin", masq.display());
        for (compiler, machine) in [("gcc", 62), ("cc", 62), ("aarch64-linux-gnu-gcc", 183)] {
            let work = TempDir::new("config-compile");
            let out = compile_through(&path, compiler, work.path(), daemon.port);
            let what = format!("{compiler} via {}", client.display());
            assert!(
                out.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(elf_machine(&work.path().join("hello.o")), machine, "{what}");
            // Byte-identical to a local compile with the real compiler.
            let local = Command::new(format!("/usr/bin/{compiler}"))
                .args(["-c", "hello.c", "-o", "local.o"])
                .current_dir(work.path())
                .status()
                .unwrap();
            assert!(local.success());
            assert_eq!(
                std::fs::read(work.path().join("hello.o")).unwrap(),
                std::fs::read(work.path().join("local.o")).unwrap(),
                "{what}: remote object differs from local"
            );
        }
    }
}
