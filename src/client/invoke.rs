//! How `distcc` was invoked (spec §3.1-3.2): explicit (`distcc gcc -c
//! x.c`), implicit (`distcc -c x.c` means `cc`), masquerade (a `gcc`
//! symlink to distcc), or one of the client's own options; PATH trimming
//! for masquerade mode and the `_DISTCC_SAFEGUARD` recursion guard.
//!
//! Pure: the caller passes the current directory, PATH entries and an
//! "is this an executable" probe.

use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};

use crate::args::ext::basename;
use crate::args::is_source;
use crate::args::os::{bytes, starts_with};

/// The client's own options (only as `argv[1]` after `distcc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnOption {
    /// `--help`.
    Help,
    /// `--version`.
    Version,
    /// `--show-hosts`.
    ShowHosts,
    /// `-j`: the total number of slots.
    Jobs,
}

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// One of our own options.
    Own(OwnOption),
    /// A compiler command, `argv[0]` being the compiler.
    Compile {
        /// The compiler command line.
        argv: Vec<OsString>,
        /// Invoked through a masquerade symlink.
        masquerade: bool,
    },
    /// `distcc --scan-includes COMPILE...`: show what pump mode would send
    /// for this compile, and exit (spec §3.1).
    ScanIncludes {
        /// The compiler command line, as for [`Invocation::Compile`].
        argv: Vec<OsString>,
    },
    /// `distcc` with no arguments (3.4: exit 101).
    Missing,
    /// `distcc --scan-includes` with nothing after it (3.4: "missing
    /// operand", exit 101).
    MissingOperand,
}

/// Classify a command line (after `@file` expansion).
pub fn classify(argv: &[OsString]) -> Invocation {
    let name = argv.first().map_or(OsStr::new("distcc"), |a| basename(a));
    if !bytes(name).windows(6).any(|w| w == b"distcc") {
        let mut cmd = argv.to_vec();
        cmd[0] = name.to_os_string();
        return Invocation::Compile {
            argv: cmd,
            masquerade: true,
        };
    }
    let Some(first) = argv.get(1) else {
        return Invocation::Missing;
    };
    match bytes(first) {
        b"--help" => return Invocation::Own(OwnOption::Help),
        b"--version" => return Invocation::Own(OwnOption::Version),
        b"--show-hosts" => return Invocation::Own(OwnOption::ShowHosts),
        b"-j" => return Invocation::Own(OwnOption::Jobs),
        // 3.4 takes what follows as a compile, explicit or implicit.
        b"--scan-includes" => {
            return match argv.get(2..) {
                Some(rest) if !rest.is_empty() => Invocation::ScanIncludes {
                    argv: compiler_command(rest),
                },
                _ => Invocation::MissingOperand,
            };
        }
        _ => {}
    }
    Invocation::Compile {
        argv: compiler_command(&argv[1..]),
        masquerade: false,
    }
}

/// The compiler command after `distcc`: `cc` is added when the first word
/// is an option, a source or an object (implicit mode), else the first
/// word is the compiler (explicit mode).
fn compiler_command(words: &[OsString]) -> Vec<OsString> {
    let first = &words[0];
    let implicit = starts_with(first, "-") || is_source(first) || bytes(first).ends_with(b".o");
    if implicit {
        std::iter::once(OsString::from("cc"))
            .chain(words.iter().cloned())
            .collect()
    } else {
        words.to_vec()
    }
}

/// Masquerade PATH trimming (spec §3.2). Returns the PATH entries that
/// follow our own directory, or `None` when nothing matched (3.4's
/// `tweaked = 0`).
///
/// * Invoked by path: the directory part of `argv[0]`, made absolute with
///   `.` and `dir/..` removed textually, must equal a PATH entry.
/// * Invoked by bare name: the first PATH entry holding an executable of
///   that name is ours.
pub fn trim_path(
    argv0: &OsStr,
    cwd: &Path,
    path: &[PathBuf],
    is_executable: impl Fn(&Path) -> bool,
) -> Option<Vec<PathBuf>> {
    let ours = if bytes(argv0).contains(&b'/') {
        let dir = Path::new(argv0).parent().unwrap_or(Path::new(""));
        let dir = normalize(&cwd.join(dir));
        path.iter().position(|p| normalize(p) == dir)?
    } else {
        path.iter().position(|p| is_executable(&p.join(argv0)))?
    };
    Some(path[ours + 1..].to_vec())
}

/// Remove `.` and `dir/..` textually (no symlink resolution, as 3.4).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The recursion guard (spec §3.2): with safeguard `level` and PATH
/// trimmed or not, either we are recursing (3.4: exit 111), or we must run
/// locally without looking for hosts (`level > 0`), or all is well.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    /// Go on normally.
    Clear,
    /// Called from inside a distcc child: compile locally, no locks.
    LocalOnly,
    /// distcc called itself.
    Recursion,
}

/// Apply the guard rule: `level - tweaked > 0` is recursion.
pub fn guard(level: u32, tweaked: bool) -> Guard {
    if level > u32::from(tweaked) {
        Guard::Recursion
    } else if level > 0 {
        Guard::LocalOnly
    } else {
        Guard::Clear
    }
}

/// The value children get: `1`, or `L+1` when already at level L (3.4
/// writes one digit).
pub fn child_safeguard(level: u32) -> String {
    (level.min(8) + 1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::args::os::words as v;

    #[test]
    fn classify_follows_spec_3_1() {
        let compile = |cmd: &str, masq: bool| Invocation::Compile {
            argv: v(cmd),
            masquerade: masq,
        };
        const OWN: &[(&str, OwnOption)] = &[
            ("distcc --help", OwnOption::Help),
            ("distcc --version", OwnOption::Version),
            ("/usr/bin/distcc --show-hosts", OwnOption::ShowHosts),
            ("distcc -j", OwnOption::Jobs),
        ];
        for &(cmd, opt) in OWN {
            assert_eq!(classify(&v(cmd)), Invocation::Own(opt), "{cmd}");
        }
        let cases = [
            ("distcc gcc -c x.c", compile("gcc -c x.c", false)),
            ("distcc -c x.c", compile("cc -c x.c", false)),
            ("distcc x.c -c", compile("cc x.c -c", false)),
            ("distcc x.o -o x", compile("cc x.o -o x", false)),
            (
                "/opt/distcc-rs/bin/distcc g++ -c a.cc",
                compile("g++ -c a.cc", false),
            ),
            ("/usr/lib/distcc/gcc -c x.c", compile("gcc -c x.c", true)),
            (
                "x86_64-linux-gnu-gcc -c x.c",
                compile("x86_64-linux-gnu-gcc -c x.c", true),
            ),
            ("distcc", Invocation::Missing),
            (
                "distcc --scan-includes gcc -c x.c",
                Invocation::ScanIncludes {
                    argv: v("gcc -c x.c"),
                },
            ),
            (
                "distcc --scan-includes -c x.c",
                Invocation::ScanIncludes {
                    argv: v("cc -c x.c"),
                },
            ),
            // Only as the first word, as in 3.4.
            (
                "distcc --scan-includes --help",
                Invocation::ScanIncludes {
                    argv: v("cc --help"),
                },
            ),
            ("distcc --scan-includes", Invocation::MissingOperand),
        ];
        for (cmd, want) in cases {
            assert_eq!(classify(&v(cmd)), want, "{cmd}");
        }
    }

    #[test]
    fn trim_path_by_directory_and_by_name() {
        let path: Vec<PathBuf> = ["/usr/lib/distcc", "/usr/local/bin", "/usr/bin"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let cwd = Path::new("/home/u/src");
        let never = |_: &Path| false;
        let after = |i: usize| Some(path[i..].to_vec());
        let trim_path = |a: &str, cwd: &Path, path: &[PathBuf], ok: &dyn Fn(&Path) -> bool| {
            trim_path(OsStr::new(a), cwd, path, ok)
        };
        assert_eq!(
            trim_path("/usr/lib/distcc/gcc", cwd, &path, &never),
            after(1)
        );
        assert_eq!(
            trim_path("/usr/lib/distcc/../distcc/./gcc", cwd, &path, &never),
            after(1)
        );
        assert_eq!(
            trim_path("../../../usr/local/bin/gcc", cwd, &path, &never),
            after(2)
        );
        assert_eq!(trim_path("/elsewhere/gcc", cwd, &path, &never), None);
        let only_local = |p: &Path| p == Path::new("/usr/local/bin/gcc");
        assert_eq!(trim_path("gcc", cwd, &path, &only_local), after(2));
        assert_eq!(trim_path("gcc", cwd, &path, &never), None);
    }

    #[test]
    fn guard_follows_spec_3_2() {
        assert_eq!(guard(0, false), Guard::Clear);
        assert_eq!(guard(0, true), Guard::Clear);
        assert_eq!(guard(1, true), Guard::LocalOnly);
        assert_eq!(guard(1, false), Guard::Recursion);
        assert_eq!(guard(2, true), Guard::Recursion);
        assert_eq!(child_safeguard(0), "1");
        assert_eq!(child_safeguard(1), "2");
    }
}
