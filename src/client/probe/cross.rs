//! Cross-compiler rewriting (spec §3.3 step 3; packaging notes §7.2):
//! servers get fully qualified compiler names, so a volunteer with several
//! toolchains runs the right one. Skipped when `DISTCC_NO_REWRITE_CROSS`
//! is set.
//!
//! * `cc`/`c++`: the first one on PATH (outside any distcc directory) is
//!   followed link by link (Debian's `/etc/alternatives` hop included);
//!   when a step is named `gcc`/`clang` (`g++`/`clang++`), that name is used.
//! * `clang`, `clang-N`, `clang++`, `clang++-N`: `-target <triple>` is
//!   appended unless a target is given.
//! * `gcc`, `gcc-*`, `g++`, `g++-*`: renamed to `<triple>-<name>` when that
//!   is an executable on PATH.
//!
//! The triple is the compiler's own `-dumpmachine` answer (cached), as
//! Gentoo's 3.4-r9 does, not a triple baked in at build time.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::ffi::OsString;

use crate::args::os::starts_with;
use crate::fnv::fnv1a;

/// Whether `path` is an executable regular file.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The first executable called `name` on `path`.
pub fn find_on_path(name: impl AsRef<std::ffi::OsStr>, path: &[PathBuf]) -> Option<PathBuf> {
    let name = name.as_ref();
    if crate::args::os::bytes(name).contains(&b'/') {
        return Some(PathBuf::from(name));
    }
    path.iter()
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// What `cc`/`c++` really is: follow the first one on PATH (skipping
/// directories whose name contains "distcc") link by link.
fn resolve_generic(name: &str, path: &[PathBuf]) -> Option<&'static str> {
    let wanted: &[&'static str] = if name == "cc" {
        &["gcc", "clang"]
    } else {
        &["g++", "clang++"]
    };
    let dirs: Vec<PathBuf> = path
        .iter()
        .filter(|d| !d.to_string_lossy().contains("distcc"))
        .cloned()
        .collect();
    let mut cur = find_on_path(name, &dirs)?;
    for _ in 0..16 {
        let target = std::fs::read_link(&cur).ok()?;
        let next = match cur.parent() {
            Some(dir) if target.is_relative() => dir.join(&target),
            _ => target,
        };
        let base = next.file_name()?.to_string_lossy().into_owned();
        if let Some(w) = wanted.iter().find(|w| **w == base) {
            return Some(w);
        }
        cur = next;
    }
    None
}

fn is_clang(name: &str) -> bool {
    let rest = name
        .strip_prefix("clang++")
        .or_else(|| name.strip_prefix("clang"));
    matches!(rest, Some(r) if r.is_empty() || (r.starts_with('-') && r[1..].chars().all(|c| c.is_ascii_digit() || c == '.')))
}

fn is_gcc(name: &str) -> bool {
    name == "gcc" || name == "g++" || name.starts_with("gcc-") || name.starts_with("g++-")
}

fn has_target(argv: &[OsString]) -> bool {
    argv.iter()
        .any(|a| a == "-target" || starts_with(a, "--target=") || starts_with(a, "-target="))
}

/// Rewrite `argv[0]` (and maybe append `-target`). `triple` is asked at
/// most once, and only when needed.
pub fn rewrite(
    argv: &mut Vec<OsString>,
    path: &[PathBuf],
    triple: impl FnOnce(&str) -> Option<String>,
) {
    // Compiler names are ASCII; anything else is left as it is.
    let Some(first) = argv[0].to_str().map(str::to_owned) else {
        return;
    };
    if first.contains('/') {
        return;
    }
    if first == "cc" || first == "c++" {
        if let Some(real) = resolve_generic(&first, path) {
            argv[0] = real.into();
        }
    }
    let name = argv[0].to_string_lossy().into_owned();
    if is_clang(&name) {
        if !has_target(argv) {
            if let Some(t) = triple(&name) {
                argv.push("-target".into());
                argv.push(t.into());
            }
        }
    } else if is_gcc(&name) {
        if let Some(t) = triple(&name) {
            let full = format!("{t}-{name}");
            if find_on_path(&full, path).is_some() {
                argv[0] = full.into();
            }
        }
    }
}

/// The compiler's `-dumpmachine` triple, cached in `cache_dir` per
/// compiler binary.
pub fn dumpmachine(compiler: &Path, cache_dir: Option<&Path>, safeguard: &str) -> Option<String> {
    let key = crate::client::probe::cache::binary_id(compiler)?;
    let cache = cache_dir.map(|d| d.join(format!("triple-{:016x}", fnv1a(key.as_bytes()))));
    if let Some(t) = cache.as_ref().and_then(|c| std::fs::read_to_string(c).ok()) {
        if !t.trim().is_empty() {
            return Some(t.trim().to_owned());
        }
    }
    let out = crate::client::local::cleanup::probe_output(
        Command::new(compiler)
            .arg("-dumpmachine")
            .env("_DISTCC_SAFEGUARD", safeguard)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )
    .ok()?;
    let t = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || t.is_empty() || t.contains(char::is_whitespace) {
        return None;
    }
    if let Some(c) = cache {
        crate::client::probe::cache::store(&c, &t);
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_classified_like_3_4() {
        for n in ["clang", "clang++", "clang-15", "clang++-15"] {
            assert!(is_clang(n), "{n}");
        }
        for n in ["clangd", "clang-format", "gcc"] {
            assert!(!is_clang(n), "{n}");
        }
        for n in ["gcc", "g++", "gcc-12", "g++-12"] {
            assert!(is_gcc(n), "{n}");
        }
        for n in ["x86_64-linux-gnu-gcc", "cc", "gccgo"] {
            assert!(!is_gcc(n), "{n}");
        }
    }

    #[test]
    fn rewrite_uses_a_tree_of_links_and_the_triple() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = std::env::temp_dir().join(format!("dcc-cross-{}", std::process::id()));
        let bin = dir.join("bin");
        let masq = dir.join("distcc");
        let alt = dir.join("alternatives");
        for d in [&bin, &masq, &alt] {
            std::fs::create_dir_all(d).unwrap();
        }
        let exe = |p: PathBuf| {
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        exe(bin.join("x86_64-linux-gnu-gcc-12"));
        exe(bin.join("x86_64-linux-gnu-gcc"));
        exe(masq.join("cc"));
        symlink("x86_64-linux-gnu-gcc-12", bin.join("gcc-12")).unwrap();
        symlink("gcc-12", bin.join("gcc")).unwrap();
        symlink(bin.join("gcc"), alt.join("cc")).unwrap();
        symlink(alt.join("cc"), bin.join("cc")).unwrap();
        let path = vec![masq.clone(), bin.clone()];
        let run = |cmd: &str| {
            let mut argv = crate::args::os::words(cmd);
            rewrite(&mut argv, &path, |_| Some("x86_64-linux-gnu".to_owned()));
            crate::args::os::line(&argv)
        };
        assert_eq!(run("cc -c x.c"), "x86_64-linux-gnu-gcc -c x.c");
        assert_eq!(run("gcc -c x.c"), "x86_64-linux-gnu-gcc -c x.c");
        assert_eq!(
            run("g++ -c x.cc"),
            "g++ -c x.cc",
            "no x86_64-linux-gnu-g++ here"
        );
        assert_eq!(run("clang -c x.c"), "clang -c x.c -target x86_64-linux-gnu");
        assert_eq!(
            run("clang --target=arm -c x.c"),
            "clang --target=arm -c x.c"
        );
        assert_eq!(run("/usr/bin/gcc -c x.c"), "/usr/bin/gcc -c x.c");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
