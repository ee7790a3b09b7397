//! The figures' old place, `$DISTCC_DIR/hosts/`, cleared away: distcc
//! 3.4 reads that path as its host-list FILE (spec §2.1) when
//! `DISTCC_HOSTS` is unset, and a directory there made its clients print
//! `failed to read .../hosts: Is a directory` and compile locally. The
//! figures now live in [`super::hoststate::DIR`]; a `hosts` directory is
//! removed only when every entry in it is one of our figure files (by
//! name and content), so nothing a user put there is ever lost. Best
//! effort: another client clearing it at the same time, or a file that
//! vanished, is no error.

use std::fs;
use std::path::Path;

/// The old directory under `$DISTCC_DIR` (3.4's host-list file's name).
pub const OLD_DIR: &str = "hosts";

/// The largest figure file any version of ours wrote (one line; the
/// fixed-size lines are 128 bytes).
const MAX_LEN: u64 = 1024;

/// Remove `<topdir>/hosts` if it is a directory of our figure files
/// only; true if it is gone (or was never a directory).
pub fn clear(topdir: &Path) -> bool {
    let dir = topdir.join(OLD_DIR);
    let Ok(entries) = fs::read_dir(&dir) else {
        return !dir.is_dir();
    };
    let mut ours = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else { return false };
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return false;
        };
        let path = entry.path();
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() && m.len() <= MAX_LEN => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            _ => return false,
        }
        match fs::read(&path) {
            Ok(bytes) if is_figure(name, &bytes) => ours.push(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            _ => return false,
        }
    }
    for path in ours {
        let _ = fs::remove_file(path);
    }
    let _ = fs::remove_dir(&dir);
    !dir.is_dir()
}

/// Whether a file named `name` holding `bytes` is one of our figures: a
/// lock id's name (`tcp_<host>_<port>`, `ssh_<host>`, `localhost`) or an
/// older version's temp file for one (`.<lock id>.<pid>`), holding a
/// `v1 ...` line or nothing (created, not yet written).
fn is_figure(name: &str, bytes: &[u8]) -> bool {
    let id = match name.strip_prefix('.') {
        Some(temp) => match temp.rsplit_once('.') {
            Some((id, pid)) if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) => id,
            _ => return false,
        },
        None => name,
    };
    let id_ok = id == "localhost"
        || (id.starts_with("tcp_") && id.len() > 4)
        || (id.starts_with("ssh_") && id.len() > 4);
    id_ok && (bytes.is_empty() || bytes.starts_with(b"v1 ")) && std::str::from_utf8(bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_files_are_told_from_anything_else() {
        assert!(is_figure("tcp_h_3632", b"v1 1 2 3 #00\n"));
        assert!(is_figure("ssh_u@h", b""));
        assert!(is_figure(".tcp_h_3632.77", b"v1 1 2 3\n"));
        assert!(!is_figure(".tcp_h_3632.x", b"v1 1 2 3\n"));
        assert!(!is_figure("notes", b"v1 1 2 3\n"));
        assert!(!is_figure("tcp_", b""));
        assert!(!is_figure("tcp_h_1", b"my host list\n"));
        assert!(!is_figure("tcp_h_1", b"v1 \xff"));
    }

    #[test]
    fn only_a_directory_of_figures_is_removed() {
        let top = std::env::temp_dir().join(format!("dcc-oldfig-{}", std::process::id()));
        let _ = fs::remove_dir_all(&top);
        assert!(clear(&top), "nothing there");
        let old = top.join(OLD_DIR);
        fs::create_dir_all(&old).unwrap();
        fs::write(old.join("tcp_h_1"), "v1 5 3 1\n").unwrap();
        fs::write(old.join("mine"), "v1 keep\n").unwrap();
        assert!(!clear(&top));
        assert!(old.join("tcp_h_1").exists() && old.join("mine").exists());
        fs::remove_file(old.join("mine")).unwrap();
        fs::create_dir(old.join("tcp_sub_1")).unwrap();
        assert!(!clear(&top), "a directory inside is not ours");
        fs::remove_dir(old.join("tcp_sub_1")).unwrap();
        fs::write(old.join(".ssh_h.12"), "").unwrap();
        assert!(clear(&top));
        assert!(!old.exists());
        // A hosts FILE (the host list) is never touched.
        fs::write(&old, "h1 h2\n").unwrap();
        assert!(clear(&top));
        assert_eq!(fs::read_to_string(&old).unwrap(), "h1 h2\n");
        fs::remove_dir_all(&top).unwrap();
    }
}
