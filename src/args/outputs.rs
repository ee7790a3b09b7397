//! Side outputs: the files a compile writes beside its object, named after
//! it (`-gsplit-dwarf`'s `.dwo`, `-fstack-usage`'s `.su`,
//! `-fcallgraph-info`'s `.ci`, `-save-temps`'s `.i` and `.s`). Pure.
//!
//! The client and the daemon both read a job's side outputs here: the
//! daemon to know which files to send back in `XOUT`
//! (docs/extension.md §8), the client to accept only those names, and to
//! compile here what a server cannot reproduce byte for byte.
//!
//! What gcc 12 writes, checked by running it: every side file is
//! `<output without its suffix>.<ext>` in the output's directory
//! (`-o obj/x.o` gives `obj/x.dwo`, `obj/x.su`, `obj/x.ci`, `obj/x.i`,
//! `obj/x.s`); the `.su` and `.ci` name the source as the preprocessed
//! text's line markers do, so they are the same from a server. What
//! cannot be:
//!
//! * `-gsplit-dwarf`: the object names its `.dwo` by the `-o` value as
//!   written (`DW_AT_dwo_name`), which `-fdebug-prefix-map` does not
//!   remap, and gdb looks for it under `DW_AT_comp_dir`. A server can
//!   reproduce a relative `-o` in directories of its own (nested deep
//!   enough for its `..`); an absolute one would name the server's path.
//!   `DW_AT_comp_dir` comes from the preprocessed text's first line
//!   marker, so `-fno-working-directory` leaves the server's. clang
//!   records its own working directory there whatever the text says:
//!   only pump mode, where the server compiles in its copy of the
//!   client's directory with that remapped, gives clang's.
//! * `-save-temps=cwd` writes into the working directory, not beside the
//!   output; clang's `-save-temps` also writes bitcode naming its input.

use std::ffi::{OsStr, OsString};

use super::Job;
use super::StopAt;
use super::ext::{basename, replace_suffix};
use super::options::Dialect;
use super::os::{bytes, climbs_above_root, lossy, strip_prefix};

/// The side outputs of a job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SideOutputs {
    /// The files the compiler writes beside the output, by name (no
    /// directory): what a server sends back, and all it may send.
    pub compiler: Vec<OsString>,
    /// `-save-temps` on a source: the preprocessed text is kept beside the
    /// output as `<stem><ext>` (`.i`, `.ii`, ...), written by whoever
    /// preprocessed (the client, in plain mode).
    pub keeps_preprocessed: bool,
    /// Why plain mode cannot make them as they are made here, when only
    /// pump mode can (clang's `-gsplit-dwarf`).
    pub needs_pump: Option<String>,
}

impl SideOutputs {
    /// Whether the job writes no side file.
    pub fn is_empty(&self) -> bool {
        self.compiler.is_empty() && !self.keeps_preprocessed
    }
}

/// The name of a side file with extension `ext` (`.dwo`): the output's
/// base name with its suffix replaced.
pub fn side_name(job: &Job, ext: &str) -> OsString {
    basename(&replace_suffix(&job.output, ext)).to_os_string()
}

/// Where `-save-temps` puts its files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SaveTemps {
    /// Beside the output (`-save-temps`, `=obj`).
    Obj,
    /// In the working directory (`=cwd`).
    Cwd,
}

/// The flags that write side files, last one winning as in gcc.
#[derive(Default)]
struct Flags {
    split_dwarf: bool,
    stack_usage: bool,
    callgraph: bool,
    save_temps: Option<SaveTemps>,
    no_working_directory: bool,
}

fn flags(argv: &[OsString]) -> Flags {
    let mut f = Flags::default();
    for a in argv.iter().skip(1) {
        match bytes(a) {
            b"-gsplit-dwarf" | b"-gsplit-dwarf=split" => f.split_dwarf = true,
            b"-gsplit-dwarf=single" | b"-gno-split-dwarf" => f.split_dwarf = false,
            b"-fstack-usage" => f.stack_usage = true,
            b"-fno-stack-usage" => f.stack_usage = false,
            b"-fcallgraph-info" => f.callgraph = true,
            b"-fno-callgraph-info" => f.callgraph = false,
            b"-fworking-directory" => f.no_working_directory = false,
            b"-fno-working-directory" => f.no_working_directory = true,
            _ => {
                if bytes(a).starts_with(b"-fcallgraph-info=") {
                    f.callgraph = true;
                }
                let value =
                    strip_prefix(a, "-save-temps").or_else(|| strip_prefix(a, "--save-temps"));
                match value.map(bytes) {
                    Some(b"" | b"=obj") => f.save_temps = Some(SaveTemps::Obj),
                    Some(b"=cwd") => f.save_temps = Some(SaveTemps::Cwd),
                    _ => {}
                }
            }
        }
    }
    f
}

/// The side outputs of `job` (its canonical argv, as scanned), or why a
/// server cannot make them as they would be made here.
pub fn side_outputs(job: &Job) -> Result<SideOutputs, String> {
    let f = flags(&job.argv);
    let clang = Dialect::of(&job.argv[0]) == Dialect::Clang;
    let output = bytes(&job.output);
    let mut out = SideOutputs::default();
    // With -S there is no object to split: gcc writes no .dwo.
    if f.split_dwarf && job.stop_at == StopAt::Compile {
        if clang {
            out.needs_pump = Some(
                "-gsplit-dwarf: clang records the server's directory as DW_AT_comp_dir, \
                 where gdb looks for the .dwo, but in pump mode"
                    .into(),
            );
        }
        if f.no_working_directory {
            return Err(
                "-gsplit-dwarf with -fno-working-directory: the object would name the \
                 server's directory for its .dwo"
                    .into(),
            );
        }
        if output_climb(&job.output).is_none() {
            return Err(format!(
                "-gsplit-dwarf with -o {}: the object would name the server's path to its .dwo \
                 (only a relative -o is reproduced there)",
                lossy(&job.output)
            ));
        }
        out.compiler.push(side_name(job, ".dwo"));
    }
    if f.stack_usage {
        out.compiler.push(side_name(job, ".su"));
    }
    if f.callgraph {
        out.compiler.push(side_name(job, ".ci"));
    }
    if let Some(where_) = f.save_temps {
        if clang {
            return Err("-save-temps with clang: its bitcode names the server's input file".into());
        }
        if where_ == SaveTemps::Cwd && output.contains(&b'/') {
            return Err(format!(
                "-save-temps=cwd writes into the working directory, not beside {}",
                lossy(&job.output)
            ));
        }
        out.keeps_preprocessed = !super::is_preprocessed(&job.input);
        if job.stop_at == StopAt::Compile {
            out.compiler.push(side_name(job, ".s"));
        }
    }
    Ok(out)
}

/// Deepest `..` climb of a relative `-o` a server reproduces.
pub const MAX_CLIMB: usize = 16;

/// How deep in directories of its own a server must run the compiler for
/// the relative `output` to stay inside them (`obj/x.o`: 0,
/// `../b/x.o`: 1); `None` for an absolute one or one climbing more than
/// [`MAX_CLIMB`].
pub fn output_climb(output: &OsStr) -> Option<usize> {
    let b = bytes(output);
    if b.starts_with(b"/") {
        return None;
    }
    (0..=MAX_CLIMB).find(|&depth| !climbs_above_root(b, depth))
}

/// Whether `name` may be written beside the output for `allowed`: one of
/// them, and a plain file name (no `/`, not `.` or `..`, not empty).
pub fn allowed_name(name: &[u8], allowed: &[OsString]) -> bool {
    !name.is_empty()
        && name != b"."
        && name != b".."
        && !name.contains(&b'/')
        && !name.contains(&0)
        && allowed.iter().any(|a| bytes(a) == name)
}

/// The directory the output goes to, as written (`""` for the working
/// directory).
pub fn output_dir(job: &Job) -> &OsStr {
    let b = bytes(&job.output);
    match b.iter().rposition(|&c| c == b'/') {
        Some(0) => super::os::os(b"/"),
        Some(i) => super::os::os(&b[..i]),
        None => super::os::os(b""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Scan, scan};

    fn job(cmd: &str) -> Job {
        let argv: Vec<OsString> = cmd.split(' ').map(OsString::from).collect();
        match scan(&argv) {
            Scan::Distribute(j) => j,
            Scan::Local(r) => panic!("{cmd}: {r}"),
        }
    }

    fn names(cmd: &str) -> Vec<String> {
        let s = side_outputs(&job(cmd)).unwrap_or_else(|e| panic!("{cmd}: {e}"));
        let mut v: Vec<String> = s.compiler.iter().map(|n| lossy(n).into_owned()).collect();
        if s.keeps_preprocessed {
            v.push("+cpp".into());
        }
        v
    }

    #[test]
    fn names_follow_the_output_as_gcc_12_writes_them() {
        assert!(names("gcc -O2 -g -c x.c -o obj/x.o").is_empty());
        assert_eq!(
            names("gcc -g -gsplit-dwarf -c src/x.c -o obj/x.o"),
            ["x.dwo"]
        );
        assert_eq!(names("gcc -g -gsplit-dwarf -c src/x.c"), ["x.dwo"]);
        assert_eq!(names("gcc -gsplit-dwarf -c x.c -o y.foo.o"), ["y.foo.dwo"]);
        assert_eq!(names("gcc -gsplit-dwarf -c x.c -o obj/y"), ["y.dwo"]);
        assert_eq!(names("gcc -gsplit-dwarf -c x.c -o ../b/y.o"), ["y.dwo"]);
        assert!(names("gcc -gsplit-dwarf -S x.c -o x.s").is_empty());
        assert!(names("gcc -gsplit-dwarf -gno-split-dwarf -c x.c").is_empty());
        assert_eq!(
            names("gcc -fstack-usage -fcallgraph-info -S x.c -o /abs/x.s"),
            ["x.su", "x.ci"]
        );
        assert_eq!(names("gcc -fcallgraph-info=su,da -c x.c"), ["x.ci"]);
        assert!(names("gcc -fstack-usage -fno-stack-usage -c x.c").is_empty());
        assert_eq!(names("gcc -save-temps -c x.c -o o/x.o"), ["x.s", "+cpp"]);
        assert_eq!(
            names("gcc -save-temps=obj -c x.c -o /o/x.o"),
            ["x.s", "+cpp"]
        );
        assert_eq!(names("gcc -save-temps=cwd -c x.c -o x.o"), ["x.s", "+cpp"]);
        assert_eq!(names("gcc -save-temps -S x.c -o o/x.s"), ["+cpp"]);
        assert_eq!(names("gcc -save-temps -c x.i -o o/x.o"), ["x.s"]);
        assert_eq!(names("clang -fstack-usage -c x.c -o o/x.o"), ["x.su"]);
        // clang's .dwo: only from pump mode.
        let s = side_outputs(&job("clang -g -gsplit-dwarf -c x.c -o o/x.o")).unwrap();
        assert_eq!(s.compiler, ["x.dwo"]);
        assert!(s.needs_pump.unwrap().contains("DW_AT_comp_dir"));
        assert!(
            side_outputs(&job("gcc -g -gsplit-dwarf -c x.c"))
                .unwrap()
                .needs_pump
                .is_none()
        );
    }

    #[test]
    fn what_a_server_cannot_reproduce_is_said() {
        for (cmd, needle) in [
            ("gcc -g -gsplit-dwarf -c x.c -o /abs/x.o", "-o /abs/x.o"),
            (
                "gcc -g -gsplit-dwarf -c x.c -o ../../../../../../../../../../../../../../../../../x.o",
                "only a relative -o",
            ),
            (
                "gcc -g -gsplit-dwarf -fno-working-directory -c x.c",
                "-fno-working-directory",
            ),
            ("gcc -save-temps=cwd -c x.c -o o/x.o", "working directory"),
            ("clang -save-temps -c x.c -o x.o", "bitcode"),
        ] {
            match side_outputs(&job(cmd)) {
                Err(why) => assert!(why.contains(needle), "{cmd}: {why}"),
                Ok(s) => panic!("{cmd}: {s:?}"),
            }
        }
    }

    #[test]
    fn a_relative_output_is_reproduced_deep_enough() {
        for (o, depth) in [
            ("x.o", Some(0)),
            ("obj/x.o", Some(0)),
            ("../x.o", Some(1)),
            ("a/../../b/../../x.o", Some(2)),
            ("/abs/x.o", None),
        ] {
            assert_eq!(output_climb(OsStr::new(o)), depth, "{o}");
        }
        let deep = "../".repeat(MAX_CLIMB + 1) + "x.o";
        assert_eq!(output_climb(OsStr::new(&deep)), None);
    }

    #[test]
    fn only_expected_plain_names_are_allowed() {
        let allowed = [OsString::from("x.dwo"), OsString::from("x.su")];
        assert!(allowed_name(b"x.dwo", &allowed));
        for bad in [
            &b"x.o"[..],
            b"../x.dwo",
            b"d/x.dwo",
            b"",
            b".",
            b"..",
            b"x.su\0",
        ] {
            assert!(!allowed_name(bad, &allowed), "{bad:?}");
        }
        assert_eq!(output_dir(&job("gcc -c x.c -o obj/x.o")), "obj");
        assert_eq!(output_dir(&job("gcc -c x.c -o x.o")), "");
        assert_eq!(output_dir(&job("gcc -c x.c -o /x.o")), "/");
    }
}
