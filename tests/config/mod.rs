//! Tests of the host parser against distcc 3.4 and of `distcc-config`
//! (issue #4). Every test works in temp roots (`--root`, or `EPREFIX` for
//! Gentoo Prefix): nothing touches the real /etc, /usr/lib/distcc or
//! ~/.distcc.

mod allow;
mod badinput;
mod check;
mod cross;
mod envvars;
mod gentoo;
mod hosts_oracle;
mod march;
mod masquerade;
mod rooted;
mod target;
mod tls;
mod wizard;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{TempDir, bin};

/// A temporary system root for distcc-config.
pub struct Root {
    pub dir: TempDir,
}

/// What a run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            status: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Root {
    /// A root whose /etc/os-release says `distro` (gentoo, arch, debian).
    pub fn new(distro: &str) -> Self {
        let root = Self {
            dir: TempDir::new(&format!("config-{distro}")),
        };
        root.write("etc/os-release", &format!("ID={distro}\n"));
        std::fs::create_dir_all(root.path("home")).unwrap();
        root
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    /// `distcc-config --root <root>` with a clean environment.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(bin("distcc-config"));
        c.arg("--root")
            .arg(self.dir.path())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", self.path("home"))
            .env("TMPDIR", self.dir.path())
            .stdin(std::process::Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd().args(args).output().unwrap().into()
    }

    /// Entries of a directory as `name -> target` for links, `name` else.
    pub fn listing(&self, rel: &str) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.path(rel))
            .map(|rd| {
                rd.flatten()
                    .map(|e| match std::fs::read_link(e.path()) {
                        Ok(t) => format!("{} -> {}", e.file_name().to_string_lossy(), t.display()),
                        Err(_) => e.file_name().to_string_lossy().into_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

/// Install this host's programs in the system root `root` the way its
/// packages would have put them there, so that `distcc-config --root`
/// (which resolves every path inside the root, as chroot does) finds this
/// host's compilers: each /usr/bin entry whose name passes `keep`, links
/// within /usr/bin and /etc/alternatives copied as they are (`gcc ->
/// gcc-12`, `cc -> /etc/alternatives/cc`, and /etc/alternatives likewise),
/// other programs as scripts that run the host's (distcc-config only reads
/// names, modes and links). Existing files of the root are kept. Returns
/// the names installed in usr/bin.
pub fn install_host_programs(root: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let mut names = Vec::new();
    for (dir, filter) in [("usr/bin", true), ("etc/alternatives", false)] {
        let into = root.join(dir);
        std::fs::create_dir_all(&into).unwrap();
        let Ok(rd) = std::fs::read_dir(Path::new("/").join(dir)) else {
            continue;
        };
        for entry in rd.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let to = into.join(&name);
            if (filter && !keep(&name)) || to.symlink_metadata().is_ok() {
                continue;
            }
            let real = std::fs::canonicalize(entry.path()).unwrap_or_default();
            let mirrored = real.starts_with("/usr/bin") || real.starts_with("/etc/alternatives");
            let link = std::fs::read_link(entry.path());
            if let (Ok(target), true) = (link, mirrored) {
                std::os::unix::fs::symlink(target, &to).unwrap();
            } else if entry.path().is_file() {
                script(&to, &format!("exec /{dir}/{name} \"$@\""));
            } else {
                continue;
            }
            if filter {
                names.push(name);
            }
        }
    }
    names.sort();
    names
}

/// Make an executable shell script.
pub fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Whether this process is root (some tests mount tmpfs or change user).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}
