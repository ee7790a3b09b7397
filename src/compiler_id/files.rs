//! The file side of a compiler's identity, shared by client and daemon:
//! `stat` for the cache's validity, finding the programs a compiler
//! named, hashing them. Running the compiler is the caller's business
//! (the daemon runs it sandboxed).

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use ring::digest;

use super::{Dep, Entry, Identity, NoIdentity, Plan, elf, hex};

/// The file at `path` as `stat` sees it (following links).
pub fn dep(path: &Path) -> Option<Dep> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Dep {
        path: path.to_str()?.to_owned(),
        size: meta.size(),
        mtime: meta.mtime(),
        ino: meta.ino(),
    })
}

/// [`dep`] for a path given as text (the cache's).
pub fn stat(path: &str) -> Option<Dep> {
    dep(Path::new(path))
}

/// The SHA-256 of a file's bytes, read in large blocks.
pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => ctx.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hex(ctx.finish().as_ref()))
}

/// A program as the compiler named it: a path is taken as it is, a bare
/// name is looked up in `search` (the compiler's PATH) as the driver
/// would.
fn find(program: &str, search: &[PathBuf]) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    search
        .iter()
        .map(|d| d.join(program))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
}

/// Hash the programs of `plan` and make the cache entry: `driver` (the
/// file the compiler's name resolved to) first among its dependencies.
/// Blocking: hashing `cc1plus` reads tens of megabytes.
pub fn finish(driver: &Path, plan: Plan, search: &[PathBuf]) -> Result<Entry, NoIdentity> {
    let mut deps =
        vec![dep(driver).ok_or_else(|| NoIdentity(format!("cannot stat {}", driver.display())))?];
    let mut hashes = Vec::new();
    let mut hash = |name: &str, path: &Path| -> Result<(), NoIdentity> {
        let hash = hash_file(path)
            .map_err(|e| NoIdentity(format!("cannot read {}: {e}", path.display())))?;
        deps.push(dep(path).ok_or_else(|| NoIdentity(format!("cannot stat {}", path.display())))?);
        hashes.push((name.to_owned(), hash));
        Ok(())
    };
    for (name, program) in &plan.programs {
        let Some(path) = find(program, search) else {
            // A bare name not found: the compiler has no such program.
            continue;
        };
        hash(name, &path)?;
        // clang linked against libLLVM and libclang-cpp compiles with
        // their code.
        if name == "clang" {
            for (key, lib) in compiler_libraries(&path) {
                hash(key, &lib)?;
            }
        }
    }
    Ok(Entry {
        deps,
        identity: Identity::new(plan, hashes),
    })
}

/// The libraries of `program` whose code compiles for it (clang's
/// `libLLVM`, `libclang-cpp`), found where ld.so would find them: its run
/// path, then `/etc/ld.so.conf`'s directories, then the defaults. By
/// identity key.
fn compiler_libraries(program: &Path) -> Vec<(&'static str, PathBuf)> {
    let Ok(f) = File::open(program) else {
        return Vec::new();
    };
    let read = |at: u64, len: u64| -> Option<Vec<u8>> {
        // Headers and a string table: never this big in a real program.
        if len > 16 << 20 {
            return None;
        }
        let mut buf = vec![0; len as usize];
        f.read_exact_at(&mut buf, at).ok()?;
        Some(buf)
    };
    let Some(dynamic) = elf::dynamic(read) else {
        return Vec::new();
    };
    let libs = elf::compiler_libraries(&dynamic.needed);
    if libs.is_empty() {
        return Vec::new();
    }
    let real = std::fs::canonicalize(program).unwrap_or_else(|_| program.to_path_buf());
    let origin = real.parent().and_then(Path::to_str).unwrap_or("/");
    let conf = std::fs::read_to_string("/etc/ld.so.conf").unwrap_or_default();
    let dirs = elf::search_dirs(&dynamic.runpath, origin, &elf::ld_so_dirs(&conf, &included));
    libs.into_iter()
        .filter_map(|(key, name)| {
            dirs.iter()
                .map(|d| Path::new(d).join(name))
                .find(|p| p.is_file())
                .map(|p| (key, p))
        })
        .collect()
}

/// The texts of the files an `include` line of ld.so.conf names: a
/// directory and a `*` pattern in its last component
/// (`/etc/ld.so.conf.d/*.conf`), in name order.
fn included(pattern: &str) -> Vec<String> {
    let (dir, name) = pattern.rsplit_once('/').unwrap_or((".", pattern));
    let (prefix, suffix) = name.split_once('*').unwrap_or((name, ""));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            n.starts_with(prefix) && n.ends_with(suffix) && n.len() >= prefix.len() + suffix.len()
        })
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|n| std::fs::read_to_string(Path::new(dir).join(n)).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debian's clang 14 (the binary its `-###` listing runs): linked
    /// against libclang-cpp and libLLVM, found in the multiarch directory
    /// ld.so.conf names; both hashed into its identity. Under `CI=true`
    /// clang must be installed.
    #[test]
    fn clangs_libraries_are_found_and_hashed() {
        let clang = Path::new("/usr/lib/llvm-14/bin/clang");
        if !clang.exists() {
            assert!(
                crate::env::Vars::from_process().get("CI") != Some("true"),
                "clang 14 is not installed"
            );
            return;
        }
        let libs = compiler_libraries(clang);
        let keys: Vec<&str> = libs.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["libclang-cpp", "libLLVM"], "{libs:?}");
        for (_, p) in &libs {
            assert!(p.is_file() && p.starts_with("/"), "{}", p.display());
        }
        let plan = Plan {
            fields: vec![("version".into(), "14".into())],
            programs: vec![("clang".into(), clang.to_str().unwrap().into())],
        };
        let entry = finish(clang, plan, &[]).unwrap();
        for key in ["clang", "libclang-cpp", "libLLVM"] {
            assert!(
                entry.identity.get(key).is_some(),
                "{key}: {}",
                entry.identity
            );
        }
        // The libraries are dependencies: a new build of them is noticed.
        assert_eq!(entry.deps.len(), 4);
        // gcc's cc1 names no such library.
        assert!(compiler_libraries(Path::new("/bin/sh")).is_empty());
    }
}
