//! Pump mode (protocol 3): the compiler's command line on the server
//! (spec §4.5 step 5) and the argument checks pump mode adds to
//! [`super::policy`]. Pure.
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
//! * [`check`]: the server runs the preprocessor, so `-Wp,` and
//!   `-Xpreprocessor` now reach it, and through them `-MD FILE` or `-MF
//!   FILE` would write anywhere the daemon may. They may only carry `-D`
//!   and `-U` (the common `-Wp,-D_FORTIFY_SOURCE=2`). In protocols 1 and
//!   2 the input is already preprocessed and gcc ignores them.

use crate::args::Job;

/// Options whose value is a path the preprocessor reads (spec §4.5 step
/// 5), longest first so that a joined `-iwithprefixbefore/x` is not taken
/// for `-iwithprefix`.
const PATH_OPTIONS: &[&str] = &[
    "-iwithprefixbefore",
    "-iwithprefix",
    "-idirafter",
    "-imacros",
    "-include",
    "-iprefix",
    "-isystem",
    "-iquote",
    "-I",
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
    pub argv: Vec<String>,
    /// What the .d file must name as its target: the `-MT` value, else
    /// the client's output name.
    pub dotd_target: String,
}

/// `root` + `path` when `path` is absolute.
fn rooted(path: &str, root: &str) -> String {
    if path.starts_with('/') {
        format!("{root}{path}")
    } else {
        path.to_owned()
    }
}

/// The command to run for `job` with the client's tree under `root`,
/// writing the object to `output` and the dependencies to `deps`.
pub fn server_argv(job: &Job, root: &str, output: &str, deps: &str) -> ServerArgs {
    let argv = job.with_input_output(&rooted(&job.input, root), output);
    let mut out = Vec::with_capacity(argv.len() + 4);
    let mut target = None;
    let mut args = argv.into_iter();
    out.extend(args.next());
    out.push(format!("-ffile-prefix-map={root}="));
    while let Some(a) = args.next() {
        if a == "-MT" && target.is_none() {
            target = Some(args.next().unwrap_or_default());
        } else if PATH_OPTIONS.contains(&a.as_str()) {
            out.push(a);
            out.extend(args.next().map(|v| rooted(&v, root)));
        } else if let Some(opt) = PATH_OPTIONS.iter().find(|o| a.starts_with(**o)) {
            out.push(format!("{opt}{}", rooted(&a[opt.len()..], root)));
        } else if let Some(map) = PREFIX_MAPS.iter().find(|m| a.starts_with(**m)) {
            out.push(format!("{map}{}", rooted(&a[map.len()..], root)));
        } else if matches!(
            a.as_str(),
            "-save-temps" | "--save-temps" | "-save-temps=cwd"
        ) {
            out.push("-save-temps=obj".into());
        } else {
            out.push(a);
        }
    }
    if !out.iter().any(|a| a == "-MD" || a == "-MMD") {
        out.push("-MMD".into());
    }
    out.push("-MF".into());
    out.push(deps.into());
    ServerArgs {
        argv: out,
        dotd_target: target.unwrap_or_else(|| job.output.clone()),
    }
}

/// The client's own `-MF FILE` (3.4's pump client sends argv unstripped,
/// and automake's `-MD -MP -MF .deps/x.Tpo` is common): a path on the
/// client, which the client writes from our DOTD reply. Dropped before
/// the policy check, which refuses `-MF` (it would write on this server);
/// [`server_argv`] appends ours.
pub fn drop_client_mf(argv: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut args = argv.into_iter();
    while let Some(a) = args.next() {
        if a == "-MF" {
            args.next();
        } else if !a.starts_with("-MF") {
            out.push(a);
        }
    }
    out
}

/// Refuse preprocessor pass-through arguments other than `-D`/`-U` (see
/// the module docs).
pub fn check(argv: &[String]) -> Result<(), String> {
    let mut args = argv.iter().skip(1);
    while let Some(a) = args.next() {
        let parts: Vec<&str> = if let Some(list) = a.strip_prefix("-Wp,") {
            list.split(',').filter(|p| !p.is_empty()).collect()
        } else if a == "-Xpreprocessor" {
            args.next().map(String::as_str).into_iter().collect()
        } else {
            continue;
        };
        if let Some(bad) = parts
            .iter()
            .find(|p| !p.starts_with("-D") && !p.starts_with("-U"))
        {
            return Err(format!(
                "argument {a:?} refused: in pump mode it passes {bad:?} to this server's \
                 preprocessor (only -D and -U may be passed that way)"
            ));
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
        let v = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            drop_client_mf(v("gcc -MD -MP -MF .deps/x.Tpo -c x.c -MFy.d -o x.o")),
            v("gcc -MD -MP -c x.c -o x.o")
        );
        assert_eq!(drop_client_mf(v("gcc -c x.c -MF")), v("gcc -c x.c"));
    }

    const ROOT: &str = "/t/d/root";
    const OUT: &str = "/t/d/output.o";
    const DEPS: &str = "/t/d/deps.d";

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[track_caller]
    fn rewrite(cmd: &str) -> ServerArgs {
        let Scan::Distribute(job) = scan(&v(cmd)) else {
            panic!("{cmd} is not distributable")
        };
        server_argv(&job, ROOT, OUT, DEPS)
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
        ];
        for (cmd, want) in CASES {
            match (check(&v(cmd)), want) {
                (Ok(()), None) => {}
                (Err(why), Some(w)) => assert!(why.contains(w), "{cmd}: {why}"),
                (got, _) => panic!("{cmd}: {got:?}"),
            }
        }
    }
}
