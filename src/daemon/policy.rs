//! Which compilers and arguments the daemon agrees to run (spec §4.5
//! step 6, CVE-2004-2687).
//!
//! In 3.4's order:
//! 1. `DISTCC_CMDLIST`: `argv[0]` is looked up by its last N path
//!    components and replaced by the listed full path; unlisted → refused.
//! 2. The compiler whitelist, unless `--enable-tcp-insecure` or a
//!    command list is in use: a leading `/bin/` or `/usr/bin/` is
//!    stripped (case-insensitively, like 3.4), the rest must be a bare name,
//!    and `DIR/name` must be executable in a whitelist directory
//!    (`/usr/lib/distcc`, or `--masquerade-dir`).
//! 3. Arguments: `-fplugin=` and `-specs=` are refused as in 3.4 (except
//!    `-specs=` naming a file under `--sysroot`, as upstream HEAD allows).
//!    On purpose we also refuse arguments that make gcc run other programs
//!    or read/write files outside the job's directory, which 3.4 lets
//!    through: `-wrapper`, `-B`, `@file`, `-MF`, `-aux-info`, `-dumpdir`,
//!    `-dumpbase`, `--output`, `-fdump-*=FILE`, `-fopt-info*=FILE`,
//!    `-iplugindir=`, and `-Wa,`/`-Xassembler` response files. A genuine
//!    3.4 client never sends these in protocols 1 and 2 (it strips `-MF`,
//!    expands `@file`); the others fall back to a local compile.
//!
//! The only I/O here is the executable check, passed in as a closure so
//! the rules are testable without touching `/usr/lib/distcc`.

use std::path::{Component, Path, PathBuf};

/// The compiler policy, fixed at start-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Whitelist directories (default `/usr/lib/distcc`).
    pub dirs: Vec<PathBuf>,
    /// `--enable-tcp-insecure`: no compiler whitelist at all.
    pub insecure: bool,
    /// `--sysroot`: `-specs=` files under it are allowed.
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
        mut argv: Vec<String>,
        executable: impl Fn(&Path) -> bool,
    ) -> Result<Vec<String>, Refusal> {
        let compiler = argv.first().cloned().unwrap_or_default();
        if let Some(list) = &self.cmdlist {
            match list.lookup(&compiler) {
                Some(full) => argv[0] = full.to_string(),
                None => return Err(format!("{compiler} is not in DISTCC_CMDLIST")),
            }
        } else if !self.insecure {
            self.check_whitelist(&compiler, executable)?;
        }
        check_arguments(&argv[1..], self.sysroot.as_deref())?;
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

/// Options whose joined or separate value we refuse outright.
const REFUSED_PREFIXES: &[(&str, &str)] = &[
    ("-fplugin", "loads a compiler plugin"),
    ("-iplugindir", "loads compiler plugins"),
    (
        "-wrapper",
        "runs the compiler's subprocesses through another program",
    ),
    ("-B", "makes gcc run programs from another directory"),
    ("@", "reads options from a file on this server"),
    ("-MF", "writes a dependency file outside the job"),
    ("-aux-info", "writes a file outside the job"),
    ("-dumpdir", "writes dump files outside the job"),
    ("-dumpbase", "writes dump files outside the job"),
    ("--output", "names an output file outside the job"),
];

fn check_arguments(args: &[String], sysroot: Option<&Path>) -> Result<(), Refusal> {
    let mut it = args.iter().peekable();
    while let Some(arg) = it.next() {
        let refuse = |why: &str| Err(format!("argument {arg:?} refused: it {why}"));
        if let Some(file) = specs_value(arg) {
            let file = match file {
                Some(f) => f,
                None => it.next().map(String::as_str).unwrap_or(""),
            };
            if !under(Path::new(file), sysroot) {
                return refuse(
                    "names a spec file, which can run any command (allowed only under --sysroot)",
                );
            }
            continue;
        }
        if let Some((_, why)) = REFUSED_PREFIXES.iter().find(|(p, _)| arg.starts_with(p)) {
            return refuse(why);
        }
        if (arg.starts_with("-fdump-") || arg.starts_with("-fopt-info")) && arg.contains('=') {
            return refuse("writes a dump file outside the job");
        }
        if arg.starts_with("-Wa,") && arg.split(',').any(|p| p.starts_with('@') || p == "-o") {
            return refuse("passes the assembler a file of this server");
        }
        if arg == "-Xassembler"
            && it
                .peek()
                .is_some_and(|n| n.starts_with('@') || n.as_str() == "-o")
        {
            return refuse("passes the assembler a file of this server");
        }
    }
    Ok(())
}

/// `Some(Some(value))` for `-specs=F`/`--specs=F`, `Some(None)` for the
/// separate form `-specs F`/`--specs F`, `None` otherwise.
fn specs_value(arg: &str) -> Option<Option<&str>> {
    let rest = arg
        .strip_prefix("--specs")
        .or_else(|| arg.strip_prefix("-specs"))?;
    match rest.strip_prefix('=') {
        Some(v) => Some(Some(v)),
        None if rest.is_empty() => Some(None),
        None => None,
    }
}

/// Whether `file` is an absolute path inside `root` with no `..`.
fn under(file: &Path, root: Option<&Path>) -> bool {
    let Some(root) = root else { return false };
    file.is_absolute()
        && !file.components().any(|c| c == Component::ParentDir)
        && file.starts_with(root)
        && file != root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
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
    fn insecure_mode_skips_the_whitelist_but_not_argument_checks() {
        let p = Policy {
            insecure: true,
            ..policy()
        };
        assert!(p.check(argv(&["/opt/cc", "-c", "x.c"]), exists).is_ok());
        refused(&p, &["/opt/cc", "-fplugin=/x.so"], "plugin");
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

    #[test]
    fn dangerous_arguments_are_refused() {
        let p = policy();
        for (arg, needle) in [
            ("-fplugin=/tmp/x.so", "plugin"),
            ("-specs=/tmp/evil", "spec file"),
            ("--specs=/tmp/evil", "spec file"),
            ("-wrapper", "subprocesses"),
            ("-B/tmp/evil/", "another directory"),
            ("@/etc/shadow", "reads options"),
            ("-MF/etc/cron.d/x", "dependency file"),
            ("-fdump-tree-all=/etc/x", "dump file"),
            ("-Wa,@/etc/shadow", "assembler"),
            ("--output=/etc/x", "output file"),
        ] {
            refused(&p, &["gcc", "-c", "x.c", arg], needle);
        }
        refused(
            &p,
            &["gcc", "-c", "x.c", "-specs", "/tmp/evil"],
            "spec file",
        );
        refused(&p, &["gcc", "-c", "-Xassembler", "@f"], "assembler");
        for fine in [
            "-fdump-tree-all",
            "-save-temps",
            "-MD",
            "-Wa,--noexecstack",
            "-O2",
        ] {
            assert!(
                p.check(argv(&["gcc", "-c", "x.c", fine]), exists).is_ok(),
                "{fine}"
            );
        }
    }

    #[test]
    fn specs_are_allowed_only_under_the_sysroot() {
        let p = Policy {
            sysroot: Some(PathBuf::from("/opt/sysroot")),
            ..policy()
        };
        let ok = |a: &[&str]| p.check(argv(a), exists).is_ok();
        assert!(ok(&[
            "gcc",
            "-c",
            "x.c",
            "-specs=/opt/sysroot/lib/nano.specs"
        ]));
        assert!(ok(&["gcc", "-c", "x.c", "--specs", "/opt/sysroot/x.specs"]));
        assert!(!ok(&["gcc", "-c", "x.c", "-specs=/opt/sysroot/../etc/x"]));
        assert!(!ok(&["gcc", "-c", "x.c", "-specs=nano.specs"]));
        assert!(!ok(&["gcc", "-c", "x.c", "-specs=/opt/sysroot2/x"]));
    }
}
