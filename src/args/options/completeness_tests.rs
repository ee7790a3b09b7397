//! Completeness against the installed gcc and clang: every option they
//! accept for a C-family compile is classified on purpose, never left to
//! the unknown fallback.

use std::ffi::OsString;

use super::ci;
use crate::args::options::*;

/// The gcc options a C-family compile accepts, by gcc's own word: every
/// name `gcc --completion=-` lists, minus those `gcc --help=<lang>` lists
/// only for other languages (Fortran, Ada, D, Go, Modula-2), whose
/// options gcc ignores with a warning when it compiles C. Entries are
/// compared in canonical spelling (`--check=` is D's `-fcheck=`), and a
/// help name ending in `=` covers every value the completion lists.
fn gcc_c_options() -> Option<Vec<String>> {
    let run = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("gcc").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let names = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| w.starts_with('-'))
            .map(|w| w.split(['<', '[']).next().unwrap_or(w).to_owned())
            .collect()
    };
    let all = run(&["--completion=-"])?;
    let c = names(&run(&[
        "--help=c,c++,objc,obj-c++,common,optimizers,warnings,target,params",
    ])?);
    let mut other = Vec::new();
    for lang in ["fortran", "ada", "d", "go", "m2"] {
        if let Some(t) = run(&[&format!("--help={lang}")]) {
            other.extend(names(&t));
        }
    }
    let covers = |list: &[String], entry: &str| {
        list.iter()
            .any(|n| n == entry || (n.ends_with('=') && entry.starts_with(n.as_str())))
    };
    Some(
        all.lines()
            .filter(|o| {
                let canonical = canonical_text(o);
                covers(&c, o)
                    || covers(&c, &canonical)
                    || !(covers(&other, o) || covers(&other, &canonical))
            })
            .map(str::to_owned)
            .collect(),
    )
}

/// The canonical spelling of a completion entry, as text.
fn canonical_text(entry: &str) -> String {
    let words = sample_argv(entry);
    match spelling::canonical(&words[1], words.get(2), Dialect::Gcc) {
        spelling::Spelled::As { option, value, .. } => {
            let mut t = option.to_string_lossy().into_owned();
            if let Some(v) = value {
                t.push_str(&v.to_string_lossy());
            }
            t
        }
        _ => entry.to_owned(),
    }
}

/// A command line holding `entry` as the compilers list it, with a value
/// where it needs one: `-fvisibility=` → `-fvisibility=sample`, `--param
/// name=` → `--param name=1`, a separate option gets `sample` after it.
fn sample_argv(entry: &str) -> Vec<OsString> {
    let mut v = vec![OsString::from("cc")];
    let mut parts = entry.split(' ');
    let first = parts.next().unwrap_or(entry);
    let rest: Vec<&str> = parts.collect();
    if first.ends_with(['=', ',']) {
        v.push(format!("{first}sample").into());
    } else {
        v.push(first.into());
    }
    for r in rest {
        v.push(
            if r.ends_with('=') {
                format!("{r}1")
            } else {
                r.to_owned()
            }
            .into(),
        );
    }
    v.push("sample".into());
    v
}

#[test]
fn every_option_gcc_accepts_for_c_is_classified() {
    let Some(options) = gcc_c_options() else {
        assert!(!ci(), "gcc is required under CI=true");
        return;
    };
    assert!(
        options.len() > 3000,
        "gcc listed only {} options",
        options.len()
    );
    let unknown: Vec<&String> = options
        .iter()
        .filter(|o| {
            matches!(
                read(&sample_argv(o), 1, Dialect::Gcc),
                Err(OptError::Unknown)
            )
        })
        .collect();
    // gcc's completion also prints some spellings it then rejects
    // (`--machineabi=ms`): only what gcc accepts must be known.
    let unknown = accepted_by("gcc", unknown);
    assert!(
        unknown.is_empty(),
        "{} gcc options are not in the table: {:?}",
        unknown.len(),
        unknown
    );
}

#[test]
fn every_option_clang_accepts_is_classified() {
    let Ok(out) = std::process::Command::new("clang")
        .arg("--autocomplete=-")
        .output()
    else {
        assert!(!ci(), "clang is required under CI=true");
        return;
    };
    let listed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(listed.len() > 2000, "clang listed only {}", listed.len());
    let unknown: Vec<String> = listed
        .into_iter()
        .filter(|o| {
            matches!(
                read(&sample_argv(o), 1, Dialect::Clang),
                Err(OptError::Unknown)
            )
        })
        .collect();
    // clang lists clang-cl's options too (`-Fo`, `-Zi`, `/...`): the gcc
    // driver rejects those, which `rejected_by` checks one by one.
    let accepted = accepted_by("clang", unknown.iter().collect());
    assert!(
        accepted.is_empty(),
        "{} options clang accepts are not in the table: {:?}",
        accepted.len(),
        accepted
    );
}

/// The entries `compiler` accepts, checked four at a time.
fn accepted_by<'a>(compiler: &str, entries: Vec<&'a String>) -> Vec<&'a String> {
    let chunk = entries.len().div_ceil(4).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = entries
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .copied()
                        .filter(|o| !rejected_by(&[compiler], o))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("checker thread"))
            .collect()
    })
}

/// Whether the compiler refuses `entry` on a C compile command line, or
/// takes it as an option of a language distcc does not distribute.
fn rejected_by(compiler: &[&str], entry: &str) -> bool {
    use std::sync::OnceLock;
    // A real compile, not `-###`: cc1 itself says "valid for D but not
    // for C" about other languages' options. The trailing `sample` word
    // (a value for separate options) must exist as a second C input.
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("dcc-optcheck-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("sample"), "").unwrap();
        std::fs::write(d.join("x.c"), "").unwrap();
        d
    });
    let argv = sample_argv(entry);
    let out = std::process::Command::new(compiler[0])
        .current_dir(dir)
        .args(["-fsyntax-only", "-x", "c", "x.c"])
        .args(&argv[1..])
        .output()
        .expect("the compiler runs");
    let text = String::from_utf8_lossy(&out.stderr);
    // It fails the compile, or the compiler ignores it: either way a
    // server would gain nothing from it, and the table may leave it unknown.
    !out.status.success()
        || [
            "argument unused during compilation",
            "input unused",
            "unknown remark option",
            "unknown warning option",
            "unknown argument",
            "unsupported option",
            "unsupported use of internal gcc",
            "unsupported argument",
            "unrecognized command-line option",
            "unrecognized command line option",
            "valid for Fortran",
            "valid for Ada",
            "valid for D ",
            "valid for D/",
            "valid for Go",
            "valid for Modula-2",
            "valid for LTO",
        ]
        .iter()
        .any(|m| text.contains(m))
}
