//! What a sandboxed compiler may touch (issue #10, part 2): one table of
//! system paths, plus the directories this daemon was configured with,
//! turned into a list of [`Rule`]s. Pure: existence is asked through a
//! closure, so the table is tested without a file system.
//!
//! The model: the software tree (`/usr`, and `/bin`, `/lib*` on systems
//! without merged `/usr`) may be read and executed, since that is where
//! compilers, their helpers (`cc1`, `as`, `collect2`), their libraries and
//! the system headers live; a handful of named files in `/etc` and `/dev`
//! may be read (the dynamic linker's cache, time zone, distribution
//! identification that clang reads, `/dev/null`); the job directory may be
//! read and written but not executed from. Nothing else: no `/etc/passwd`,
//! `/home`, `/root`, `/var`, `/run`, `/tmp`, `/proc`, other jobs'
//! directories. Toolchains installed elsewhere are reached through the
//! compilers' `PATH` (`DISTCCD_PATH`), the whitelist directories and
//! where their links point, or `--sandbox-allow-path`.

use std::path::{Path, PathBuf};

/// What a rule grants beneath its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// Read files, list directories, execute programs.
    ReadExec,
    /// Read files and list directories.
    Read,
    /// Read and write a device file (`/dev/null`): no ioctl.
    ReadWriteFile,
    /// Everything but execution: the job's own directory.
    JobDir,
    /// Everything: `--sandbox-allow-path`.
    Full,
}

/// One path and what the compiler may do beneath it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// A file or a directory (a directory's rule covers what is beneath).
    pub path: PathBuf,
    /// What is allowed.
    pub grant: Grant,
}

/// The system paths every compiler may use, when they exist.
pub const SYSTEM: &[(&str, Grant)] = &[
    // The software tree: compilers, cc1/as/collect2, shared libraries,
    // system headers (/usr/include, /usr/lib/gcc/*/include), locales,
    // cross toolchains and their sysroots (/usr/<triple>).
    ("/usr", Grant::ReadExec),
    // Systems without merged /usr (on merged ones these are links into
    // /usr and add nothing).
    ("/bin", Grant::ReadExec),
    ("/lib", Grant::ReadExec),
    ("/lib32", Grant::ReadExec),
    ("/lib64", Grant::ReadExec),
    ("/libx32", Grant::ReadExec),
    // The dynamic linker's cache and preload list.
    ("/etc/ld.so.cache", Grant::Read),
    ("/etc/ld.so.preload", Grant::Read),
    // __DATE__/__TIME__ and diagnostics use the local time zone.
    ("/etc/localtime", Grant::Read),
    // clang's distribution detection (its default include and library
    // paths depend on it) and its configuration files.
    ("/etc/os-release", Grant::Read),
    ("/etc/lsb-release", Grant::Read),
    ("/etc/debian_version", Grant::Read),
    ("/etc/gentoo-release", Grant::Read),
    ("/etc/arch-release", Grant::Read),
    ("/etc/redhat-release", Grant::Read),
    ("/etc/clang", Grant::Read),
    // Gentoo's gcc-config wrappers read the selected profile.
    ("/etc/env.d/gcc", Grant::Read),
    ("/dev/null", Grant::ReadWriteFile),
    ("/dev/zero", Grant::Read),
    ("/dev/urandom", Grant::Read),
    ("/dev/random", Grant::Read),
];

/// What the rules are made from, besides [`SYSTEM`].
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// The directories on the compilers' `PATH` (`DISTCCD_PATH`).
    pub path_dirs: Vec<PathBuf>,
    /// The whitelist directories (`--masquerade-dir`, `/usr/lib/distcc`).
    pub whitelist_dirs: Vec<PathBuf>,
    /// The directories holding what the whitelist's links point to.
    pub link_target_dirs: Vec<PathBuf>,
    /// `--sandbox-allow-path`.
    pub allow: Vec<PathBuf>,
}

/// The rules shared by every job (the job directory comes on top, see
/// [`job_rule`]): [`SYSTEM`] entries that exist, then the configured
/// directories. Relative paths are dropped (they would be resolved
/// against the daemon's working directory, not anything the admin meant).
pub fn base_rules(inputs: &Inputs, exists: impl Fn(&Path) -> bool) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut add = |path: &Path, grant: Grant| {
        if path.is_absolute()
            && exists(path)
            && !rules.iter().any(|r| r.path == path && r.grant == grant)
        {
            rules.push(Rule {
                path: path.to_path_buf(),
                grant,
            });
        }
    };
    for (path, grant) in SYSTEM {
        add(Path::new(path), *grant);
    }
    for dir in inputs
        .path_dirs
        .iter()
        .chain(&inputs.whitelist_dirs)
        .chain(&inputs.link_target_dirs)
    {
        // A PATH of "/" would open everything: only an explicit
        // --sandbox-allow-path may do that.
        if dir.parent().is_some() {
            add(dir, Grant::ReadExec);
        }
    }
    for dir in &inputs.allow {
        add(dir, Grant::Full);
    }
    rules
}

/// The rule for one job's directory.
pub fn job_rule(dir: &Path) -> Rule {
    Rule {
        path: dir.to_path_buf(),
        grant: Grant::JobDir,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(rules: &[Rule]) -> Vec<(&str, Grant)> {
        rules
            .iter()
            .map(|r| (r.path.to_str().unwrap(), r.grant))
            .collect()
    }

    #[test]
    fn system_table_has_no_secrets_and_no_writable_system_path() {
        for (path, grant) in SYSTEM {
            for secret in [
                "/etc/passwd",
                "/etc/shadow",
                "/home",
                "/root",
                "/var",
                "/tmp",
                "/proc",
            ] {
                assert!(!path.starts_with(secret), "{path} exposes {secret}");
            }
            assert_ne!(path, &"/etc", "all of /etc is too much");
            assert!(
                matches!(grant, Grant::ReadExec | Grant::Read) || *path == "/dev/null",
                "{path} is writable"
            );
        }
    }

    #[test]
    fn only_existing_absolute_paths_count_once_each() {
        let inputs = Inputs {
            path_dirs: vec![
                "/opt/cc/bin".into(),
                "relative/bin".into(),
                "/usr".into(),
                "/".into(),
            ],
            whitelist_dirs: vec!["/usr/lib/distcc".into()],
            link_target_dirs: vec!["/opt/cc/bin".into()],
            allow: vec!["/var/cache/ccache".into(), "/missing".into()],
        };
        let exists = |p: &Path| p != Path::new("/missing") && !p.starts_with("/etc");
        let rules = base_rules(&inputs, exists);
        let got = paths(&rules);
        assert!(got.contains(&("/usr", Grant::ReadExec)));
        assert!(got.contains(&("/opt/cc/bin", Grant::ReadExec)));
        assert!(got.contains(&("/usr/lib/distcc", Grant::ReadExec)));
        assert!(got.contains(&("/var/cache/ccache", Grant::Full)));
        assert!(!got.iter().any(|(p, _)| p.starts_with("/etc") || *p == "/"));
        assert!(
            !got.iter()
                .any(|(p, _)| *p == "/missing" || p.starts_with("relative"))
        );
        assert_eq!(got.iter().filter(|(p, _)| *p == "/opt/cc/bin").count(), 1);
        assert_eq!(got.iter().filter(|(p, _)| *p == "/usr").count(), 1);
    }

    #[test]
    fn the_job_directory_is_writable_but_not_executable() {
        let r = job_rule(Path::new("/tmp/distccd_abcdef"));
        assert_eq!(r.grant, Grant::JobDir);
    }
}
