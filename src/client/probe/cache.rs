//! The client's small on-disk caches of what compilers answered to probes
//! (`$DISTCC_DIR/cpp/`, `native/`, `pump/`, `triple-*`): one file per
//! question, named by a hash of the compiler binary's identity and the
//! question. A cache that cannot be written is only a missed speed-up.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// The compiler binary's identity: path, size, mtime and inode, so a
/// reinstalled compiler is asked again. `None` if it cannot be stat'ed.
pub fn binary_id(compiler: &Path) -> Option<String> {
    let meta = std::fs::metadata(compiler).ok()?;
    Some(format!(
        "{}\0{}\0{}\0{}",
        compiler.display(),
        meta.size(),
        meta.mtime(),
        meta.ino()
    ))
}

/// Write `text` to `path` atomically (a temp file renamed over it, so a
/// concurrent reader never sees half a file), creating its directory.
pub fn store(path: &Path, text: impl AsRef<[u8]>) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// What `compiler ARGS` prints on stderr in the C locale (the `-###` and
/// `-v` listings these caches hold), or `None` if it fails. Registered as
/// a child, so a signal to the client ends it too.
pub fn probe_stderr<S: AsRef<std::ffi::OsStr>>(
    compiler: &Path,
    args: &[S],
    safeguard: &str,
) -> Option<String> {
    let out = crate::client::local::cleanup::probe_output(
        Command::new(compiler)
            .args(args)
            .env("LC_ALL", "C")
            .env("_DISTCC_SAFEGUARD", safeguard)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    )
    .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stderr).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_atomically_and_ids_change_with_the_binary() {
        let dir = std::env::temp_dir().join(format!("dcc-cache-{}", std::process::id()));
        let file = dir.join("sub/entry");
        store(&file, "one");
        store(&file, "two");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "two");
        assert_eq!(std::fs::read_dir(dir.join("sub")).unwrap().count(), 1);
        let bin = dir.join("cc");
        std::fs::write(&bin, "a").unwrap();
        let before = binary_id(&bin).unwrap();
        std::fs::write(&bin, "ab").unwrap();
        assert_ne!(binary_id(&bin).unwrap(), before);
        assert!(binary_id(&dir.join("missing")).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
