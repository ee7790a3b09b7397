//! What the sandbox trampoline must do, as command-line arguments: the
//! daemon writes a [`Plan`] into the trampoline's argv, the trampoline
//! ([`super::trampoline`]) reads it back. Pure: bytes in, values out, so
//! the round trip is tested here.
//!
//! ```text
//! distccd --internal-sandbox-exec v1 parent=PID [limit=NAME=N]... [nnp]
//!         [landlock=ABI rule=G:PATH... job=PATH] [seccomp] -- PROGRAM ARGV0 ARGS...
//! ```
//!
//! Everything after `--` is the compiler's: the path to execute, its
//! `argv[0]` and its arguments, untouched. The version word lets a
//! trampoline refuse a plan written by another build.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use super::rules::{Grant, Rule};

/// The first argument that makes distccd a trampoline.
pub const MAGIC: &str = "--internal-sandbox-exec";
const VERSION: &str = "v1";

/// A resource limit the trampoline sets (soft = hard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// RLIMIT_CORE: no core files in the job directory.
    Core,
    /// RLIMIT_CPU, seconds.
    Cpu,
    /// RLIMIT_DATA, bytes (heap and private mappings).
    Data,
    /// RLIMIT_FSIZE, bytes.
    FileSize,
    /// RLIMIT_NPROC, processes of the user.
    Processes,
}

/// Names on the command line.
const RESOURCES: &[(Resource, &str)] = &[
    (Resource::Core, "core"),
    (Resource::Cpu, "cpu"),
    (Resource::Data, "data"),
    (Resource::FileSize, "fsize"),
    (Resource::Processes, "nproc"),
];

const GRANTS: &[(Grant, u8)] = &[
    (Grant::ReadExec, b'x'),
    (Grant::Read, b'r'),
    (Grant::ReadWriteFile, b'w'),
    (Grant::JobDir, b'j'),
    (Grant::Full, b'f'),
];

/// The steps before `exec`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The daemon's pid: the trampoline gives up if its parent is not it
    /// (the daemon died before the parent-death signal was armed).
    pub parent: u32,
    /// Limits to set.
    pub limits: Vec<(Resource, u64)>,
    /// Set `no_new_privs`.
    pub no_new_privs: bool,
    /// Landlock ABI to use (0: no Landlock).
    pub landlock: i32,
    /// The Landlock rules besides the job directory.
    pub rules: Vec<Rule>,
    /// The job directory (read-write, no exec).
    pub job_dir: Option<PathBuf>,
    /// Install the seccomp filter.
    pub seccomp: bool,
}

/// A plan with the command to run after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The steps.
    pub plan: Plan,
    /// What to execute.
    pub program: PathBuf,
    /// Its argv, `argv[0]` first.
    pub argv: Vec<OsString>,
}

fn word(prefix: &str, rest: &[u8]) -> OsString {
    let mut v = prefix.as_bytes().to_vec();
    v.extend_from_slice(rest);
    OsString::from_vec(v)
}

impl Plan {
    /// The trampoline's arguments after the program name, up to and
    /// including `--` (the compiler's follow).
    pub fn to_args(&self) -> Vec<OsString> {
        let mut out: Vec<OsString> = vec![MAGIC.into(), VERSION.into()];
        out.push(format!("parent={}", self.parent).into());
        for (res, n) in &self.limits {
            let name = RESOURCES
                .iter()
                .find(|(r, _)| r == res)
                .map_or("?", |(_, n)| n);
            out.push(format!("limit={name}={n}").into());
        }
        if self.no_new_privs {
            out.push("nnp".into());
        }
        if self.landlock > 0 {
            out.push(format!("landlock={}", self.landlock).into());
            for rule in &self.rules {
                let g = GRANTS
                    .iter()
                    .find(|(g, _)| *g == rule.grant)
                    .map_or(b'?', |(_, c)| *c);
                out.push(word(
                    "rule=",
                    &[&[g, b':'][..], rule.path.as_os_str().as_bytes()].concat(),
                ));
            }
            if let Some(dir) = &self.job_dir {
                out.push(word("job=", dir.as_os_str().as_bytes()));
            }
        }
        if self.seccomp {
            out.push("seccomp".into());
        }
        out.push("--".into());
        out
    }

    /// Read the arguments after the program name (starting with
    /// [`MAGIC`]).
    pub fn parse(args: &[OsString]) -> Result<Parsed, String> {
        let mut it = args.iter();
        if it.next().map(OsString::as_os_str) != Some(OsStr::new(MAGIC)) {
            return Err(format!(
                "not a sandbox plan (first argument is not {MAGIC})"
            ));
        }
        match it.next() {
            Some(v) if v == VERSION => {}
            other => {
                return Err(format!(
                    "plan version {other:?}, this distccd reads {VERSION}: restart the daemon"
                ));
            }
        }
        let mut plan = Plan::default();
        for arg in it.by_ref() {
            let bytes = arg.as_bytes();
            if bytes == b"--" {
                let program = it.next().ok_or("no program after --")?;
                let argv: Vec<OsString> = it.cloned().collect();
                if argv.is_empty() {
                    return Err("no argv[0] after the program".into());
                }
                return Ok(Parsed {
                    plan,
                    program: PathBuf::from(program),
                    argv,
                });
            }
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            let num = |b: &[u8]| -> Result<u64, String> {
                text(b)
                    .parse()
                    .map_err(|_| format!("bad number in {:?}", text(bytes)))
            };
            if let Some(rest) = bytes.strip_prefix(b"parent=") {
                plan.parent = u32::try_from(num(rest)?).map_err(|e| e.to_string())?;
            } else if let Some(rest) = bytes.strip_prefix(b"limit=") {
                let (name, n) = text(rest)
                    .split_once('=')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| format!("bad limit {:?}", text(bytes)))?;
                let res = RESOURCES
                    .iter()
                    .find(|(_, r)| *r == name)
                    .map(|(r, _)| *r)
                    .ok_or_else(|| format!("unknown limit {name:?}"))?;
                plan.limits.push((res, num(n.as_bytes())?));
            } else if bytes == b"nnp" {
                plan.no_new_privs = true;
            } else if bytes == b"seccomp" {
                plan.seccomp = true;
            } else if let Some(rest) = bytes.strip_prefix(b"landlock=") {
                plan.landlock = i32::try_from(num(rest)?).map_err(|e| e.to_string())?;
            } else if let Some(rest) = bytes.strip_prefix(b"rule=") {
                let (&g, path) = match rest {
                    [g, b':', path @ ..] => (g, path),
                    _ => return Err(format!("bad rule {:?}", text(bytes))),
                };
                let grant = GRANTS
                    .iter()
                    .find(|(_, c)| *c == g)
                    .map(|(g, _)| *g)
                    .ok_or_else(|| format!("unknown grant in {:?}", text(bytes)))?;
                plan.rules.push(Rule {
                    path: PathBuf::from(OsStr::from_bytes(path)),
                    grant,
                });
            } else if let Some(rest) = bytes.strip_prefix(b"job=") {
                plan.job_dir = Some(PathBuf::from(OsStr::from_bytes(rest)));
            } else {
                return Err(format!("unknown plan word {:?}", text(bytes)));
            }
        }
        Err("no -- before the program".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Plan {
        Plan {
            parent: 4242,
            limits: vec![
                (Resource::Core, 0),
                (Resource::Cpu, 61),
                (Resource::FileSize, 1 << 32),
            ],
            no_new_privs: true,
            landlock: 6,
            rules: vec![
                Rule {
                    path: "/usr".into(),
                    grant: Grant::ReadExec,
                },
                Rule {
                    // Any bytes but NUL, '=' and ':' included.
                    path: PathBuf::from(OsStr::from_bytes(b"/opt/a=b:c \xe9")),
                    grant: Grant::Full,
                },
            ],
            job_dir: Some("/tmp/distccd_job_abcdef".into()),
            seccomp: true,
        }
    }

    #[test]
    fn plans_round_trip_with_the_command() {
        for plan in [
            full(),
            Plan::default(),
            Plan {
                landlock: 0,
                ..full()
            },
        ] {
            let mut args = plan.to_args();
            args.extend(["/usr/bin/gcc", "gcc", "-c", "--", "x.c"].map(OsString::from));
            let parsed = Plan::parse(&args).unwrap();
            let want = if plan.landlock > 0 {
                plan.clone()
            } else {
                Plan {
                    rules: Vec::new(),
                    job_dir: None,
                    ..plan.clone()
                }
            };
            assert_eq!(parsed.plan, want);
            assert_eq!(parsed.program, PathBuf::from("/usr/bin/gcc"));
            // The compiler's own "--" is an argument, not ours.
            assert_eq!(parsed.argv, ["gcc", "-c", "--", "x.c"].map(OsString::from));
        }
    }

    #[test]
    fn bad_plans_are_refused_with_a_reason() {
        let os = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        const CASES: &[(&[&str], &str)] = &[
            (&["gcc"], "not a sandbox plan"),
            (&[MAGIC, "v0", "--", "/bin/true", "true"], "plan version"),
            (
                &[MAGIC, VERSION, "limit=stack=1", "--", "/bin/true", "true"],
                "unknown limit",
            ),
            (
                &[MAGIC, VERSION, "limit=cpu=x", "--", "/bin/true", "true"],
                "bad number",
            ),
            (
                &[MAGIC, VERSION, "rule=z:/x", "--", "/bin/true", "true"],
                "unknown grant",
            ),
            (
                &[MAGIC, VERSION, "frobnicate", "--", "/bin/true", "true"],
                "unknown plan word",
            ),
            (&[MAGIC, VERSION, "nnp"], "no --"),
            (&[MAGIC, VERSION, "--", "/bin/true"], "no argv[0]"),
        ];
        for (args, want) in CASES {
            let e = Plan::parse(&os(args)).unwrap_err();
            assert!(e.contains(want), "{args:?}: {e}");
        }
    }
}
