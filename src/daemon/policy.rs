//! Which compilers the daemon agrees to run (spec §4.5 step 6,
//! CVE-2004-2687). The arguments are the option table's business
//! ([`crate::args::options`], read by [`crate::args::scan_with`]), shared
//! with the client so that it never sends what we refuse.
//!
//! In 3.4's order:
//! 1. `DISTCC_CMDLIST`: `argv[0]` is looked up by its last N path
//!    components and replaced by the listed full path; unlisted → refused.
//! 2. The compiler whitelist, unless `--enable-tcp-insecure` or a
//!    command list is in use: a leading `/bin/` or `/usr/bin/` is
//!    stripped (case-insensitively, like 3.4), the rest must be a bare name,
//!    and `DIR/name` must be executable in a whitelist directory
//!    (`/usr/lib/distcc`, or `--masquerade-dir`).
//!
//! `--sysroot DIR` is kept here too: the scan then allows `-specs=` files
//! under DIR, as upstream distcc after 3.4 does.
//!
//! The only I/O here is the executable check, passed in as a closure so
//! the rules are testable without touching `/usr/lib/distcc`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The compiler policy, fixed at start-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Whitelist directories (default `/usr/lib/distcc`).
    pub dirs: Vec<PathBuf>,
    /// `--enable-tcp-insecure`: no compiler whitelist at all.
    pub insecure: bool,
    /// `--sysroot`: `-specs=` files under it are allowed (see
    /// [`crate::args::scan_with`]).
    pub sysroot: Option<PathBuf>,
    /// `DISTCC_CMDLIST`, read at start-up.
    pub cmdlist: Option<CmdList>,
}

/// The parsed `DISTCC_CMDLIST` file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CmdList {
    /// One full compiler path per entry (blank lines dropped).
    pub entries: Vec<String>,
    /// `DISTCC_CMDLIST_NUMWORDS` (at least 1).
    pub numwords: usize,
}

impl CmdList {
    /// Parse the file's text.
    pub fn parse(text: &str, numwords: usize) -> Self {
        Self {
            entries: text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            numwords: numwords.max(1),
        }
    }

    /// The full listed path for `compiler`, matched on the last
    /// `numwords` `/`-separated components of both.
    pub fn lookup(&self, compiler: &str) -> Option<&str> {
        let key = tail(compiler, self.numwords);
        self.entries
            .iter()
            .find(|e| tail(e, self.numwords) == key)
            .map(String::as_str)
    }
}

fn tail(path: &str, words: usize) -> &str {
    let mut cut = path.len();
    for _ in 0..words {
        match path[..cut].rfind('/') {
            Some(i) => cut = i,
            None => return path,
        }
    }
    &path[cut + 1..]
}

/// Why a request was refused (logged; the client only sees a close).
pub type Refusal = String;

impl Policy {
    /// Check a command line; returns it with `argv[0]` replaced when
    /// `DISTCC_CMDLIST` says so. `executable(path)` answers whether a
    /// whitelist entry exists and may be executed.
    pub fn check(
        &self,
        mut argv: Vec<OsString>,
        executable: impl Fn(&Path) -> bool,
    ) -> Result<Vec<OsString>, Refusal> {
        let first = argv.first().cloned().unwrap_or_default();
        // Compiler names and whitelist entries are text; a name that is
        // not UTF-8 cannot match one.
        let Some(compiler) = first.to_str() else {
            return Err(format!(
                "compiler {:?} is not in the whitelist (not UTF-8)",
                first.to_string_lossy()
            ));
        };
        if let Some(list) = &self.cmdlist {
            match list.lookup(compiler) {
                Some(full) => argv[0] = full.into(),
                None => return Err(format!("{compiler} is not in DISTCC_CMDLIST")),
            }
        } else if !self.insecure {
            self.check_whitelist(compiler, executable)?;
        }
        Ok(argv)
    }

    fn check_whitelist(
        &self,
        compiler: &str,
        executable: impl Fn(&Path) -> bool,
    ) -> Result<(), Refusal> {
        let name = strip_bin_prefix(compiler);
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(format!(
                "compiler {compiler:?} is not a bare name (only /bin/ and /usr/bin/ may prefix it)"
            ));
        }
        if self.dirs.iter().any(|d| executable(&d.join(name))) {
            return Ok(());
        }
        let dirs: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        Err(format!(
            "{name} not in {} whitelist (CVE-2004-2687; add a link there, e.g. with update-distcc-symlinks or distcc-config)",
            dirs.join(":")
        ))
    }
}

/// 3.4's `dcc_check_compiler_whitelist` prefix rule.
fn strip_bin_prefix(compiler: &str) -> &str {
    for prefix in ["/usr/bin/", "/bin/"] {
        if compiler.len() >= prefix.len()
            && compiler.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        {
            return &compiler[prefix.len()..];
        }
    }
    compiler
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn policy() -> Policy {
        Policy {
            dirs: vec![PathBuf::from("/wl")],
            ..Policy::default()
        }
    }

    /// Only `/wl/gcc` and `/wl/x86_64-linux-gnu-gcc` "exist".
    fn exists(p: &Path) -> bool {
        p == Path::new("/wl/gcc") || p == Path::new("/wl/x86_64-linux-gnu-gcc")
    }

    #[track_caller]
    fn refused(p: &Policy, args: &[&str], needle: &str) {
        match p.check(argv(args), exists) {
            Ok(a) => panic!("{args:?} accepted as {a:?}"),
            Err(why) => assert!(why.contains(needle), "{args:?}: {why}"),
        }
    }

    #[test]
    fn whitelist_strips_only_bin_and_usr_bin() {
        let p = policy();
        for ok in ["gcc", "/usr/bin/gcc", "/BIN/gcc", "x86_64-linux-gnu-gcc"] {
            assert!(p.check(argv(&[ok, "-c", "x.c"]), exists).is_ok(), "{ok}");
        }
        refused(&p, &["/usr/local/bin/gcc", "-c", "x.c"], "not a bare name");
        refused(&p, &["../gcc", "-c", "x.c"], "not a bare name");
        refused(&p, &["/usr/bin/../bin/sh"], "not a bare name");
        refused(&p, &["sh", "-c", "x.c"], "sh not in /wl whitelist");
        refused(&p, &["", "-c"], "not a bare name");
    }

    #[test]
    fn insecure_mode_skips_the_whitelist() {
        let p = Policy {
            insecure: true,
            ..policy()
        };
        assert!(p.check(argv(&["/opt/cc", "-c", "x.c"]), exists).is_ok());
    }

    #[test]
    fn cmdlist_replaces_argv0_by_its_key() {
        let list = CmdList::parse("/usr/bin/gcc\n\n/opt/arm/bin/arm-gcc\n", 1);
        let p = Policy {
            cmdlist: Some(list),
            ..policy()
        };
        let got = p.check(argv(&["arm-gcc", "-c", "x.c"]), exists).unwrap();
        assert_eq!(got[0], "/opt/arm/bin/arm-gcc");
        refused(&p, &["clang", "-c"], "not in DISTCC_CMDLIST");
        let two = CmdList::parse("/opt/a/bin/gcc\n", 2);
        assert_eq!(two.lookup("bin/gcc"), Some("/opt/a/bin/gcc"));
        assert_eq!(two.lookup("/x/sbin/gcc"), None);
    }
}
