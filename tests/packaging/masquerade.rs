//! The built Arch package's files in a scratch root, then what its pacman
//! hook runs — `distcc-config --update-masquerade`, here with `--root` —
//! and proof that the result works: gcc through `/usr/lib/distcc/bin/gcc`
//! compiles on the packaged distccd, whose whitelist is the same directory,
//! and the object equals a local compile.

use super::makepkg::unpacked_root;
use super::{run_ok, stdout_of};
use crate::support::{TempDir, free_port};
use crate::{require_root, require_tool};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// This host's compiler drivers "installed" in the root as links, as
/// pacman would have put gcc's (and cross gcc's) files there: every
/// /usr/bin name that looks like a compiler or one of its tools
/// (distcc-config's patterns decide which become masquerade links).
fn install_host_compilers(r: &Path) -> Vec<String> {
    let looks = |name: &str| {
        (["gcc", "g++", "cpp", "clang"]
            .iter()
            .any(|k| name.contains(k))
            || name == "cc"
            || name == "c++"
            // Something that is not a compiler must not be linked.
            || name == "ls")
            && !name.starts_with("distcc")
    };
    crate::config::install_host_programs(r, looks)
}

#[test]
fn update_masquerade_in_the_package_root_gives_working_links() {
    for tool in [
        "makepkg", "bsdtar", "fakeroot", "unshare", "setpriv", "rustc", "gcc",
    ] {
        require_tool!(tool);
    }
    require_root!();
    let root = unpacked_root();
    let r = root.path();
    // What Arch's `filesystem` package says about the system.
    std::fs::create_dir_all(r.join("etc")).unwrap();
    std::fs::write(r.join("etc/os-release"), "NAME=\"Arch Linux\"\nID=arch\n").unwrap();
    let present = install_host_compilers(r);
    // The names a build sends: plain, and the native triple the client
    // rewrites gcc to (spec 3.4's cross rewrite, packaging notes 7.2).
    let triple = stdout_of(Command::new("gcc").arg("-dumpmachine"));
    let mut expected = vec!["gcc".to_string(), "g++".into(), "cc".into(), "c++".into()];
    expected.push(format!("{}-gcc", triple.trim()));
    for name in &expected {
        assert!(present.contains(name), "this host has no /usr/bin/{name}");
    }

    let home = TempDir::new("masq-home");
    run_ok(
        Command::new(r.join("usr/bin/distcc-config"))
            .arg("--update-masquerade")
            .arg("--root")
            .arg(r)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", home.path()),
    );

    let masq = r.join("usr/lib/distcc");
    let distcc = r.join("usr/bin/distcc").canonicalize().unwrap();
    for name in &expected {
        let link = masq.join(name);
        assert!(link.is_symlink(), "{name} not linked in {}", masq.display());
        // Relative (Arch), so it resolves to the package's distcc in the root.
        assert_eq!(
            link.canonicalize().unwrap(),
            distcc,
            "{name} -> {:?}",
            link.read_link()
        );
        assert!(masq.join("bin").join(name).exists(), "bin/{name}");
    }
    assert!(!masq.join("ls").exists(), "ls was linked");
    let gcc_ar = present.iter().find(|n| n.contains("gcc-ar"));
    if let Some(tool) = gcc_ar {
        assert!(
            !masq.join(tool).exists(),
            "{tool} (not a compiler) was linked"
        );
    }
    assert_eq!(masq.join("bin").read_link().unwrap(), Path::new("."));

    compile_through_masquerade(r);
}

/// gcc found through the masquerade directory on PATH, compiled by the
/// packaged daemon whitelisting the same directory.
fn compile_through_masquerade(r: &Path) {
    let work = TempDir::new("masq-work");
    let w = work.path();
    for d in ["tmp", "dcc"] {
        std::fs::create_dir_all(w.join(d)).unwrap();
    }
    std::fs::write(w.join("hello.c"), "int answer(void) { return 42; }\n").unwrap();
    // The daemon switches to nobody, which must be able to use its TMPDIR.
    std::fs::set_permissions(
        w.join("tmp"),
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )
    .unwrap();
    let port = free_port();
    let log = w.join("distccd.log");
    let _daemon = KillOnDrop(
        Command::new(r.join("usr/bin/distccd"))
            .args([
                "--daemon",
                "--no-detach",
                "--allow",
                "127.0.0.1",
                "--user",
                "nobody",
            ])
            .args(["--log-level", "info", "--port", &port.to_string()])
            .arg("--log-file")
            .arg(&log)
            .arg("--masquerade-dir")
            .arg(r.join("usr/lib/distcc"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("TMPDIR", w.join("tmp"))
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "distccd did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let masq_bin = r.join("usr/lib/distcc/bin");
    run_ok(
        Command::new("gcc")
            .args(["-c", "hello.c", "-o", "remote.o"])
            .current_dir(w)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", masq_bin.display()))
            .env("DISTCC_HOSTS", format!("127.0.0.1:{port}"))
            .env("DISTCC_FALLBACK", "0")
            .env("DISTCC_DIR", w.join("dcc"))
            .env("HOME", w)
            .env("TMPDIR", w.join("tmp")),
    );
    run_ok(
        Command::new("/usr/bin/gcc")
            .args(["-c", "hello.c", "-o", "local.o"])
            .current_dir(w),
    );
    assert_eq!(
        std::fs::read(w.join("remote.o")).unwrap(),
        std::fs::read(w.join("local.o")).unwrap(),
        "remote and local objects differ"
    );
    let text = crate::support::read_when(&log, "COMPILE_OK");
    assert!(text.contains("COMPILE_OK"), "daemon log:\n{text}");
}
