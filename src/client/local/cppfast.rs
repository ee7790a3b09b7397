//! Running the preprocessor without the compiler driver: `gcc -E x.c` is
//! two processes (the driver, then `cc1 -E`); the driver's part is the same
//! for every file compiled with the same flags. On the first job of a flag
//! set we ask the driver what it would run (`gcc -### ...`, twice: with the
//! real input and with a made-up name beside it), keep the `cc1` command as
//! a template with the input's path, basename and stem as holes, and from
//! then on start `cc1` directly. This is a pure speed-up of the client's
//! critical path (plain mode preprocesses every job here); the output is
//! what the driver would have produced.
//!
//! Whenever the driver's plan is not one `cc1*` command, or depends on the
//! input in any other way, the flag set is remembered as "use the driver".
//! `DISTCC_CPP_DIRECT=0` turns this off. Templates are cached in
//! `$DISTCC_DIR/cpp/`, keyed by the compiler binary and the flags.

use std::path::{Path, PathBuf};

use crate::args::driver;
use crate::client::probe::cache::{binary_id, probe_stderr, store};
use crate::fnv::fnv1a;

const P: &str = "\u{1}P\u{1}";
const O: &str = "\u{1}O\u{1}";
const D: &str = "\u{1}D\u{1}";
const B: &str = "\u{1}B\u{1}";
const S: &str = "\u{1}S\u{1}";

/// What a job's holes stand for: the input path, the output path, the
/// dependency file gcc would name after the output, and the input's
/// basename and stem (most specific first).
#[derive(Clone, Debug)]
pub struct Names {
    input: String,
    output: String,
    dfile: String,
}

impl Names {
    /// The names of a job with this input and output.
    pub fn new(input: &str, output: &str) -> Self {
        Self {
            input: input.to_owned(),
            output: output.to_owned(),
            dfile: crate::args::ext::replace_suffix(std::ffi::OsStr::new(output), ".d")
                .to_string_lossy()
                .into_owned(),
        }
    }

    fn pairs(&self) -> [(String, &'static str); 5] {
        [
            (self.input.clone(), P),
            (self.output.clone(), O),
            (self.dfile.clone(), D),
            (basename(&self.input).to_owned(), B),
            (stem(&self.input).to_owned(), S),
        ]
    }

    /// Put holes in a word.
    fn holes(&self, word: &str) -> String {
        let mut w = word.to_owned();
        for (value, hole) in self.pairs() {
            if !value.is_empty() {
                w = w.replace(&value, hole);
            }
        }
        w
    }

    /// Fill the holes of a word.
    fn fill(&self, word: &str) -> String {
        let mut w = word.to_owned();
        for (value, hole) in self.pairs() {
            w = w.replace(hole, &value);
        }
        w
    }

    /// An argv with whole words equal to a name replaced by its hole: the
    /// cache key, the same for every file compiled with the same flags.
    fn generic(&self, argv: &[String]) -> Vec<String> {
        argv.iter()
            .map(|a| {
                self.pairs()
                    .into_iter()
                    .take(3)
                    .find(|(v, _)| v == a)
                    .map_or_else(|| a.clone(), |(_, h)| h.to_owned())
            })
            .collect()
    }

    /// `argv` for these names made from `argv` for `from`'s names.
    fn rename(&self, from: &Names, argv: &[String]) -> Vec<String> {
        let generic = from.generic(argv);
        generic.iter().map(|w| self.fill(w)).collect()
    }
}

/// What to run instead of the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Direct {
    /// The `cc1` binary.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn stem(p: &str) -> &str {
    let b = basename(p);
    b.rfind('.').map_or(b, |i| &b[..i])
}

/// The one command of a `-###` listing, as words, if it is `cc1*` with `-E`.
pub fn plan(listing: &str) -> Option<Vec<String>> {
    let commands = driver::commands(listing);
    let [cmd] = commands.as_slice() else {
        return None;
    };
    let prog = basename(&cmd[0]);
    (prog.starts_with("cc1") && cmd.iter().any(|w| w == "-E")).then(|| cmd.clone())
}

/// Merge two plans made for the names `n1` and `n2` into a template, or
/// `None` when they differ in a way the holes do not explain.
pub fn template(plan1: &[String], n1: &Names, plan2: &[String], n2: &Names) -> Option<Vec<String>> {
    if plan1.len() != plan2.len() {
        return None;
    }
    plan1
        .iter()
        .zip(plan2)
        .map(|(a, b)| {
            if a == b {
                return Some(a.clone());
            }
            let (ta, tb) = (n1.holes(a), n2.holes(b));
            (ta == tb).then_some(ta)
        })
        .collect()
}

/// Fill a template's holes for a job's names.
pub fn fill(template: &[String], names: &Names) -> Vec<String> {
    template.iter().map(|w| names.fill(w)).collect()
}

fn probe_plan(compiler: &Path, argv: &[String], safeguard: &str) -> Option<Vec<String>> {
    let mut args = vec!["-###"];
    args.extend(argv[1..].iter().map(String::as_str));
    plan(&probe_stderr(compiler, &args, safeguard)?)
}

/// The direct preprocessor command for `cpp_argv` (the driver's `-E`
/// command, `argv[0]` found at `compiler`) of a job with these names.
pub fn direct(
    compiler: &Path,
    cpp_argv: &[String],
    names: &Names,
    cache_dir: Option<&Path>,
    safeguard: &str,
) -> Option<Direct> {
    if names.input.contains('\u{1}') || !cpp_argv.contains(&names.input) {
        return None;
    }
    let generic = names.generic(cpp_argv);
    let key = format!("{}\0{}", binary_id(compiler)?, generic.join("\0"));
    let cache = cache_dir.map(|d| d.join(format!("{:016x}", fnv1a(key.as_bytes()))));
    let cached = cache.as_ref().and_then(|c| std::fs::read_to_string(c).ok());
    let template = match cached.as_deref().and_then(|t| t.strip_prefix("v1\n")) {
        Some("no") => return None,
        Some(t) => t.split('\0').map(str::to_owned).collect(),
        None => {
            let made = make_template(compiler, cpp_argv, names, safeguard);
            if let Some(c) = &cache {
                let text = made
                    .as_ref()
                    .map_or_else(|| "no".to_owned(), |t| t.join("\0"));
                store(c, format!("v1\n{text}"));
            }
            made?
        }
    };
    let mut filled = fill(&template, names);
    let program = PathBuf::from(filled.remove(0));
    Some(Direct {
        program,
        args: filled,
    })
}

fn make_template(
    compiler: &Path,
    cpp_argv: &[String],
    names: &Names,
    safeguard: &str,
) -> Option<Vec<String>> {
    // A second, made-up job beside the real one: same directories and
    // extensions, other names.
    let probe = format!("distcc-probe-{}", std::process::id());
    let swap = |path: &str| {
        let dir = Path::new(path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let base = basename(path);
        let ext = base.rfind('.').map_or("", |i| &base[i..]);
        dir.join(format!("{probe}{ext}"))
            .to_string_lossy()
            .into_owned()
    };
    let other = Names::new(&swap(&names.input), &swap(&names.output));
    let argv2 = other.rename(names, cpp_argv);
    let p1 = probe_plan(compiler, cpp_argv, safeguard)?;
    let p2 = probe_plan(compiler, &argv2, safeguard)?;
    let t = template(&p1, names, &p2, &other)?;
    // The input must be a hole, or the template would compile one file forever.
    t.iter().any(|w| w.contains(P)).then_some(t)
}

/// Where the templates live.
pub fn cache_dir(distcc_dir: &Path) -> PathBuf {
    distcc_dir.join("cpp")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD1: &str = " /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -E -quiet -imultiarch x86_64-linux-gnu -MD lib.d sub/lib.c \"-mtune=generic\" -dumpbase lib.c -dumpbase-ext .c\n";
    const MD2: &str = " /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -E -quiet -imultiarch x86_64-linux-gnu -MD distcc-probe-1.d sub/distcc-probe-1.c \"-mtune=generic\" -dumpbase distcc-probe-1.c -dumpbase-ext .c\n";

    #[test]
    fn templates_fill_path_basename_and_stem() {
        let p1 = plan(MD1).unwrap();
        let p2 = plan(MD2).unwrap();
        let n1 = Names::new("sub/lib.c", "lib.o");
        let n2 = Names::new("sub/distcc-probe-1.c", "distcc-probe-1.o");
        let t = template(&p1, &n1, &p2, &n2).unwrap();
        assert_eq!(
            fill(&t, &Names::new("src/x.c", "x.o")).join(" "),
            "/usr/lib/gcc/x86_64-linux-gnu/12/cc1 -E -quiet -imultiarch x86_64-linux-gnu -MD x.d src/x.c -mtune=generic -dumpbase x.c -dumpbase-ext .c"
        );
    }

    #[test]
    fn output_names_are_holes_too() {
        let n = Names::new("src/a.c", "build/a.o");
        let argv: Vec<String> = "gcc -MD -E src/a.c -MF build/a.d -MQ build/a.o"
            .split(' ')
            .map(str::to_owned)
            .collect();
        let other = Names::new("src/p.c", "build/p.o");
        assert_eq!(
            other.rename(&n, &argv).join(" "),
            "gcc -MD -E src/p.c -MF build/p.d -MQ build/p.o"
        );
        assert_eq!(n.generic(&argv), other.generic(&other.rename(&n, &argv)));
    }

    #[test]
    fn anything_else_that_depends_on_the_input_refuses() {
        let p1 = plan(" cc1 -E a.c -o /tmp/cc1.s\n").unwrap();
        let p2 = plan(" cc1 -E b.c -o /tmp/cc2.s\n").unwrap();
        let (n1, n2) = (Names::new("a.c", "a.o"), Names::new("b.c", "b.o"));
        assert_eq!(template(&p1, &n1, &p2, &n2), None);
        assert_eq!(plan(" cc1 -E a.c\n as a.s\n"), None, "two commands");
        assert_eq!(plan(" cc1 -S a.c\n"), None, "not -E");
        assert_eq!(plan("gcc: error: bad\n"), None);
    }
}
