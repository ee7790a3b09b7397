//! Pump mode (protocol 3): the compiler's command line on the server
//! (spec §4.5 step 5) and the argument checks pump mode adds to the option
//! table's. Pure.
//!
//! As in 3.4: the output becomes ours, the first `-MT X` pair is removed
//! (X names the .d target), `-MMD` is added unless `-MD`/`-MMD` is there,
//! `-MF <our deps file>` is appended, and absolute include paths and an
//! absolute source name get the mirror root prefixed.
//!
//! Beyond 3.4:
//! * `-ffile-prefix-map=<root>=` goes first, so debug info and `__FILE__`
//!   name the client's paths (3.4 overwrote the root in the object with
//!   `/` characters afterwards). gcc does not record the option in
//!   `DW_AT_producer`. The client's own `-f*-prefix-map=OLD=NEW` get the
//!   root prefixed to an absolute OLD; coming later they win where they
//!   match, as they would locally (gcc applies the last matching map).
//! * `-save-temps` and `-save-temps=cwd` become `-save-temps=obj`: the
//!   temps then go next to our output in the job directory, never into
//!   the mirror, where the client may have placed symlinks.
//! * [`check`]: the server runs the preprocessor here, so what it reads is
//!   confined: only the search options the client's include analysis
//!   models (`-I`, `-iquote`, `-isystem`, `-idirafter`, `-include`,
//!   `-imacros`) may name paths; a relative one may not climb above the
//!   mirror's root; sysroot-relative ones (`=dir`, `$SYSROOT/dir`) and
//!   the other path options are refused. `-Wp,` and `-Xpreprocessor` reach
//!   the preprocessor here, and through them `-MD FILE` or `-MF FILE` would
//!   write anywhere the daemon may, so they may only carry `-D` and `-U`
//!   (the common `-Wp,-D_FORTIFY_SOURCE=2`). In protocols 1 and 2 the input
//!   is already preprocessed and all of these are inert.

use std::ffi::{OsStr, OsString};

use crate::args::Job;
use crate::args::options::{self, Class, Cpp, Dialect};
use crate::args::os::{bytes, climbs_above_root, joined, lossy, os, starts_with, strip_prefix};

/// The search options the client's include analysis models.
pub const MODELLED: &[&str] = &[
    "-I",
    "-iquote",
    "-isystem",
    "-idirafter",
    "-include",
    "-imacros",
];

/// gcc's path-remapping options (`OLD=NEW`).
const PREFIX_MAPS: &[&str] = &[
    "-ffile-prefix-map=",
    "-fdebug-prefix-map=",
    "-fmacro-prefix-map=",
    "-fprofile-prefix-map=",
];

/// The server's command line for a pump job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerArgs {
    /// What to run, in the mirror's copy of the client's directory.
    pub argv: Vec<OsString>,
    /// What the .d file must name as its target: the `-MT` value, else
    /// the client's output name.
    pub dotd_target: OsString,
    /// Whether the compiler's own default target (its `-o` value) is the
    /// .d file's only target, to be replaced by `dotd_target`. Not so with
    /// `-MQ`: then every `-MT` and `-MQ` goes to the compiler as given, and
    /// its .d names exactly the client's targets.
    pub default_target: bool,
    /// The client's command asks for a dependency file (`-MD`, `-MMD`).
    pub user_deps: bool,
    /// The dependency file names every file the compile read, system
    /// headers too (`-MD` in effect, no `-MMD`): the list of
    /// docs/extension.md §13 can be made from it.
    pub lists_system: bool,
}

/// `root` + `path` when `path` is absolute.
fn rooted(path: &OsStr, root: &OsStr) -> OsString {
    if starts_with(path, "/") {
        let mut out = root.to_os_string();
        out.push(path);
        out
    } else {
        path.to_os_string()
    }
}

/// The command to run for `job` with the client's tree under `root`,
/// writing the object to `output` and the dependencies to `deps`; with
/// `system` (the client asked for the system headers' list,
/// docs/extension.md §13) the dependency file we add is `-MD`'s, which
/// names system headers too, instead of 3.4's `-MMD`.
pub fn server_argv(
    job: &Job,
    root: &OsStr,
    output: &OsStr,
    deps: &OsStr,
    system: bool,
) -> ServerArgs {
    let argv = job.with_input_output(&rooted(&job.input, root), output);
    let dialect = Dialect::of(&argv[0]);
    let mut out = Vec::with_capacity(argv.len() + 4);
    let mut target = None;
    // A -MT stripped beside a -MQ would lose its target (gcc's default
    // target is not written when a -MQ names one).
    let quoted = has_option(&argv, dialect, "-MQ");
    out.push(argv[0].clone());
    out.push(joined("-ffile-prefix-map=", &joined_eq(root)));
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        let opt = match options::read(&argv, i, dialect) {
            Ok(opt) if bytes(a).len() > 1 && starts_with(a, "-") => opt,
            // The input and the output (already ours), as they are.
            _ => {
                out.push(a.clone());
                i += 1;
                continue;
            }
        };
        i += opt.used;
        let value = opt.value.clone().unwrap_or_default();
        if opt.name == "-MT" && target.is_none() && !quoted {
            target = Some(value);
        } else if matches!(opt.class, Class::Cpp(Cpp::Path)) && opt.used == 2 {
            out.push(opt.canonical[0].clone());
            out.push(rooted(&value, root));
        } else if matches!(opt.class, Class::Cpp(Cpp::Path)) {
            out.push(joined(opt.name, &rooted(&value, root)));
        } else if let Some(map) = PREFIX_MAPS.iter().find(|m| starts_with(a, m)) {
            out.push(joined(map, &rooted(&value, root)));
        } else if a == "-save-temps" || a == "--save-temps" || a == "-save-temps=cwd" {
            out.push("-save-temps=obj".into());
        } else {
            out.extend(opt.canonical.iter().cloned());
        }
    }
    let user_deps = out.iter().any(|a| a == "-MD" || a == "-MMD");
    if !user_deps {
        out.push(if system { "-MD" } else { "-MMD" }.into());
    }
    // gcc and clang obey the last of -MD and -MMD; any -MMD leaves
    // system headers out, whatever its place.
    let lists_system = !out.iter().any(|a| a == "-MMD");
    out.push("-MF".into());
    out.push(deps.to_os_string());
    ServerArgs {
        argv: out,
        dotd_target: target.unwrap_or_else(|| job.output.clone()),
        default_target: !quoted,
        user_deps,
        lists_system,
    }
}

/// Whether `argv` holds option `name` (as an option, not as a value).
fn has_option(argv: &[OsString], dialect: Dialect, name: &str) -> bool {
    let mut i = 1;
    while i < argv.len() {
        match options::read(argv, i, dialect) {
            Ok(opt) if starts_with(&argv[i], "-") => {
                if opt.name == name {
                    return true;
                }
                i += opt.used;
            }
            _ => i += 1,
        }
    }
    false
}

/// `root=`, the value of our `-ffile-prefix-map`.
fn joined_eq(root: &OsStr) -> OsString {
    let mut v = root.to_os_string();
    v.push("=");
    v
}

/// The client's own `-MF FILE` (3.4's pump client sends argv unstripped,
/// and automake's `-MD -MP -MF .deps/x.Tpo` is common): a path on the
/// client, which the client writes from our DOTD reply. Dropped before
/// the checks; [`server_argv`] appends ours.
pub fn drop_client_mf(argv: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(argv.len());
    let mut args = argv.into_iter();
    while let Some(a) = args.next() {
        if a == "-MF" {
            args.next();
        } else if !starts_with(&a, "-MF") {
            out.push(a);
        }
    }
    out
}

/// The pump-mode checks (see the module docs). `cwd_depth` is the number
/// of components of the client's working directory, which a relative path
/// may climb before it leaves the mirror.
pub fn check(argv: &[OsString], cwd_depth: usize) -> Result<(), String> {
    let dialect = Dialect::of(&argv[0]);
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        if !(starts_with(a, "-") && bytes(a).len() > 1) {
            i += 1;
            continue;
        }
        let Ok(opt) = options::read(argv, i, dialect) else {
            return Err(format!("argument {:?} refused: unknown option", lossy(a)));
        };
        i += opt.used;
        let value = opt.value.as_deref().unwrap_or_default();
        let refuse = |why: &str| Err(format!("argument {:?} refused: {why}", lossy(a)));
        match opt.class {
            Class::Preprocessor => {
                let parts: Vec<&[u8]> = match strip_prefix(a, "-Wp,") {
                    Some(list) => bytes(list)
                        .split(|&c| c == b',')
                        .filter(|p| !p.is_empty())
                        .collect(),
                    None => vec![bytes(value)],
                };
                if let Some(bad) = parts
                    .iter()
                    .find(|p| !p.starts_with(b"-D") && !p.starts_with(b"-U"))
                {
                    return Err(format!(
                        "argument {:?} refused: in pump mode it passes {:?} to this server's \
                         preprocessor (only -D and -U may be passed that way)",
                        lossy(a),
                        lossy(os(bad))
                    ));
                }
            }
            Class::Cpp(Cpp::Path) if !MODELLED.contains(&opt.name) => {
                return refuse(
                    "in pump mode only -I, -iquote, -isystem, -idirafter, -include and -imacros may name paths",
                );
            }
            Class::Cpp(Cpp::Path) => {
                let v = bytes(value);
                if v.starts_with(b"=") || v.starts_with(b"$SYSROOT") {
                    return refuse("a sysroot-relative path would name this server's files");
                }
                if !v.starts_with(b"/") && climbs_above_root(v, cwd_depth) {
                    return refuse("the relative path climbs above the client's root");
                }
            }
            Class::Cpp(Cpp::Name) => {
                return refuse("in pump mode the include analysis does not model it");
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Scan, scan};

    #[test]
    fn the_clients_dependency_file_name_is_dropped() {
        assert_eq!(
            drop_client_mf(v("gcc -MD -MP -MF .deps/x.Tpo -c x.c -MFy.d -o x.o")),
            v("gcc -MD -MP -c x.c -o x.o")
        );
        assert_eq!(drop_client_mf(v("gcc -c x.c -MF")), v("gcc -c x.c"));
    }

    const ROOT: &str = "/t/d/root";
    const OUT: &str = "/t/d/output.o";
    const DEPS: &str = "/t/d/deps.d";

    use crate::args::os::words as v;

    #[track_caller]
    fn rewrite(cmd: &str) -> ServerArgs {
        let Scan::Distribute(job) = scan(&v(cmd)) else {
            panic!("{cmd} is not distributable")
        };
        server_argv(
            &job,
            OsStr::new(ROOT),
            OsStr::new(OUT),
            OsStr::new(DEPS),
            false,
        )
    }

    #[test]
    fn with_the_system_list_our_dependency_file_is_md() {
        let listed = |cmd: &str| {
            let Scan::Distribute(job) = scan(&v(cmd)) else {
                panic!("{cmd}")
            };
            server_argv(
                &job,
                OsStr::new(ROOT),
                OsStr::new(OUT),
                OsStr::new(DEPS),
                true,
            )
        };
        let a = listed("gcc -c x.c -o x.o");
        assert_eq!(a.argv[a.argv.len() - 3..], v("-MD -MF /t/d/deps.d"));
        assert!(!a.user_deps && a.lists_system);
        let a = listed("gcc -MD -c x.c -o x.o");
        assert!(a.user_deps && a.lists_system);
        assert_eq!(a.argv.iter().filter(|x| *x == "-MD").count(), 1);
        // The user's -MMD leaves system headers out: no list.
        for cmd in ["gcc -MMD -c x.c -o x.o", "gcc -MD -MMD -c x.c -o x.o"] {
            let a = listed(cmd);
            assert!(a.user_deps && !a.lists_system, "{cmd}");
        }
        let a = rewrite("gcc -c x.c -o x.o");
        assert!(!a.user_deps && !a.lists_system);
    }

    #[test]
    fn server_command_lines() {
        const MAP: &str = "-ffile-prefix-map=/t/d/root=";
        const CASES: &[(&str, &str, &str)] = &[
            (
                "gcc -Iinc -I/abs/inc -c x.c -o x.o",
                "gcc MAP -Iinc -I/t/d/root/abs/inc -c x.c -o /t/d/output.o -MMD -MF /t/d/deps.d",
                "x.o",
            ),
            (
                "gcc -c /src/x.c -isystem /sys -include /src/cfg.h -iquote q",
                "gcc MAP -c /t/d/root/src/x.c -isystem /t/d/root/sys -include /t/d/root/src/cfg.h \
                 -iquote q -o /t/d/output.o -MMD -MF /t/d/deps.d",
                "x.o",
            ),
            (
                "gcc -iwithprefixbefore/a -idirafter/b -imacros/c -iprefix/d -c x.c",
                "gcc MAP -iwithprefixbefore/t/d/root/a -idirafter/t/d/root/b \
                 -imacros/t/d/root/c -iprefix/t/d/root/d -c x.c -o /t/d/output.o -MMD -MF /t/d/deps.d",
                "x.o",
            ),
            // The first -MT pair names the target; -MD stays, no -MMD added.
            (
                "gcc -MD -MT obj/x.o -MT other -c x.c -o build/x.o",
                "gcc MAP -MD -MT other -c x.c -o /t/d/output.o -MF /t/d/deps.d",
                "obj/x.o",
            ),
            // With a -MQ every target goes to gcc as given: a stripped -MT
            // would be lost, as gcc then writes no default target.
            (
                "gcc -MD -MT t -MQ q$x -c x.c -o build/x.o",
                "gcc MAP -MD -MT t -MQ q$x -c x.c -o /t/d/output.o -MF /t/d/deps.d",
                "build/x.o",
            ),
            (
                "gcc -c x.c -oout.o -ffile-prefix-map=/src=. -fdebug-prefix-map=rel=x",
                "gcc MAP -c x.c -o/t/d/output.o -ffile-prefix-map=/t/d/root/src=. \
                 -fdebug-prefix-map=rel=x -MMD -MF /t/d/deps.d",
                "out.o",
            ),
            (
                "gcc -save-temps -c x.c --save-temps -save-temps=cwd -save-temps=obj",
                "gcc MAP -save-temps=obj -c x.c -save-temps=obj -save-temps=obj -save-temps=obj \
                 -o /t/d/output.o -MMD -MF /t/d/deps.d",
                "x.o",
            ),
        ];
        for (cmd, want, target) in CASES {
            let got = rewrite(cmd);
            assert_eq!(got.argv, v(&want.replace("MAP", MAP)), "{cmd}");
            assert_eq!(got.dotd_target, *target, "{cmd}");
            assert_eq!(got.default_target, !cmd.contains("-MQ"), "{cmd}");
        }
    }

    #[test]
    fn preprocessor_pass_through_is_limited_to_macros() {
        const CASES: &[(&str, Option<&str>)] = &[
            ("gcc -c x.c -Wp,-D_FORTIFY_SOURCE=2 -Wp,-UX,-DY", None),
            ("gcc -c x.c -Xpreprocessor -DX", None),
            ("gcc -c x.c -Wp,-MD,/tmp/pwned.d", Some("\"-MD\"")),
            ("gcc -c x.c -Wp,-DX,-MF,/tmp/p", Some("\"-MF\"")),
            ("gcc -c x.c -Xpreprocessor -MMD", Some("\"-MMD\"")),
            ("gcc -c x.c -Wp,-o,/tmp/p", Some("\"-o\"")),
            ("gcc -c x.c -MD -MT x.o", None),
            // Paths the server's preprocessor would read.
            ("gcc -c x.c -I../../x", None),
            ("gcc -c x.c -I../../../../../../x", Some("climbs above")),
            ("gcc -c x.c -iquote ../../../../../..", Some("climbs above")),
            ("gcc -c x.c -I a/../../../../../../..", Some("climbs above")),
            ("gcc -c x.c -isystem=/etc", Some("sysroot-relative")),
            ("gcc -c x.c -I$SYSROOT/etc", Some("sysroot-relative")),
            ("gcc -c x.c -iprefix /etc -iwithprefix x", Some("only -I")),
            ("gcc -c x.c --sysroot=/etc", Some("only -I")),
            ("gcc -c x.c -isysroot /", Some("only -I")),
            ("gcc -c x.c -imultilib ../..", Some("does not model")),
            ("gcc -c x.c --include-directory=/etc", None),
        ];
        for (cmd, want) in CASES {
            match (check(&v(cmd), 5), want) {
                (Ok(()), None) => {}
                (Err(why), Some(w)) => assert!(why.contains(w), "{cmd}: {why}"),
                (got, _) => panic!("{cmd}: {got:?}"),
            }
        }
    }
}
