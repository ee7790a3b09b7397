//! The file side of a compiler's identity, shared by client and daemon:
//! `stat` for the cache's validity, finding the programs a compiler
//! named, hashing them. Running the compiler is the caller's business
//! (the daemon runs it sandboxed).

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use ring::digest;

use super::{Dep, Entry, Identity, NoIdentity, Plan, hex};

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
    for (name, program) in &plan.programs {
        let Some(path) = find(program, search) else {
            // A bare name not found: the compiler has no such program.
            continue;
        };
        let hash = hash_file(&path)
            .map_err(|e| NoIdentity(format!("cannot read {}: {e}", path.display())))?;
        deps.push(dep(&path).ok_or_else(|| NoIdentity(format!("cannot stat {}", path.display())))?);
        hashes.push((name.clone(), hash));
    }
    Ok(Entry {
        deps,
        identity: Identity::new(plan, hashes),
    })
}
