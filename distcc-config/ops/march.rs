//! Inlining `-march=native`/`-mtune=native` (packaging notes §4): on a
//! volunteer "native" would mean the volunteer's CPU, so distcc 3.4's
//! client compiles such jobs locally; ours resolves them itself on every
//! job (src/client/native.rs, cached). Writing the explicit flags they
//! stand for on this CPU into the build settings serves 3.4 clients and
//! other tools, and shows what they mean.
//!
//! gcc: the flags come from the compiler's own `-###` output (the cc1
//! line): `-march=CPU`, every `-m...`/`-mno-...` feature, the cache
//! `--param`s and `-mtune=CPU`; driver plumbing and distribution defaults
//! are dropped. The driver then proves the result with `gcc -Q
//! --help=target`, which must print the same for the old and the new flags.
//!
//! clang: its `-cc1` line has `-target-cpu CPU`, `-tune-cpu CPU` and one
//! `-target-feature +f`/`-f` per feature; they become `-march=CPU` and
//! `-mf`/`-mno-f` (the few features without such an option, which clang
//! rejects, are left out), and the proof is that `clang -E -dM` predefines
//! the same macros for the old and the new flags.

use std::collections::BTreeSet;

use distcc::args::driver;

use super::shvars::Assignment;

/// The variables looked at in make.conf and makepkg.conf.
pub const FLAG_VARS: [&str; 3] = ["COMMON_FLAGS", "CFLAGS", "CXXFLAGS"];

/// What `-march=native` and `-mtune=native` become.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expansion {
    /// Replacement words for `-march=native`.
    pub march: Vec<String>,
    /// Replacement for `-mtune=native`.
    pub mtune: Option<String>,
}

/// The cc1 (or cc1plus) command line in `gcc -### ...` output (stderr).
pub fn cc1_words(driver_output: &str) -> Result<Vec<String>, String> {
    driver::cc1_command(driver_output)
        .ok_or_else(|| "the compiler's -### output has no cc1 line".to_owned())
}

/// The expansion of the native flags in `user` (the words of the flag
/// variable), from the cc1 words of `gcc -### <user words>`.
pub fn expansion(cc1: &[String], user: &[String]) -> Result<Expansion, String> {
    let mine: BTreeSet<&str> = user.iter().map(String::as_str).collect();
    let mut march = None;
    let mut mtune = None;
    let mut features = Vec::new();
    let mut it = cc1.iter().skip(1).peekable();
    while let Some(w) = it.next() {
        if let Some(cpu) = w.strip_prefix("-march=") {
            march = Some(cpu.to_owned());
        } else if let Some(cpu) = w.strip_prefix("-mtune=") {
            mtune = Some(cpu.to_owned());
        } else if w == "--param" {
            if let Some(p) = it.next_if(|p| p.starts_with("l1-") || p.starts_with("l2-")) {
                features.push(format!("--param={p}"));
            }
        } else if w.starts_with("-m") && !mine.contains(w.as_str()) && w != "-mno-" {
            features.push(w.clone());
        }
    }
    let wants_march = mine.contains("-march=native");
    let wants_tune = mine.contains("-mtune=native");
    let march = match (wants_march, march) {
        (false, _) => Vec::new(),
        (true, Some(cpu)) if cpu != "native" => {
            let mut v = vec![format!("-march={cpu}")];
            v.extend(features);
            // -march=native implies -mtune=native unless -mtune is given.
            if !user.iter().any(|w| w.starts_with("-mtune=")) {
                if let Some(t) = &mtune {
                    v.push(format!("-mtune={t}"));
                }
            }
            v
        }
        (true, _) => return Err("the compiler did not resolve -march=native".to_owned()),
    };
    let mtune = match (wants_tune, mtune) {
        (false, _) => None,
        (true, Some(t)) if t != "native" => Some(format!("-mtune={t}")),
        (true, _) => return Err("the compiler did not resolve -mtune=native".to_owned()),
    };
    Ok(Expansion { march, mtune })
}

/// clang's `-cc1` command in a `-###` listing (clang runs its compiler
/// as `clang -cc1 ...`, not as a separate `cc1`).
pub fn clang_cc1(driver_output: &str) -> Option<Vec<String>> {
    driver::commands(driver_output)
        .into_iter()
        .find(|w| w.get(1).is_some_and(|a| a == "-cc1"))
}

/// What clang's `-cc1` line says about the target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClangTarget {
    /// `-target-cpu`.
    pub cpu: Option<String>,
    /// `-tune-cpu` (clang passes it for `-mtune=`).
    pub tune: Option<String>,
    /// `-target-feature`s in order: (name, enabled).
    pub features: Vec<(String, bool)>,
}

/// Read the target options of a clang `-cc1` line.
pub fn clang_target(cc1: &[String]) -> ClangTarget {
    let mut t = ClangTarget::default();
    let mut it = cc1.iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            "-target-cpu" => t.cpu = it.next().cloned(),
            "-tune-cpu" => t.tune = it.next().cloned(),
            "-target-feature" => {
                if let Some(f) = it.next() {
                    if let Some(name) = f.strip_prefix('+') {
                        t.features.push((name.to_owned(), true));
                    } else if let Some(name) = f.strip_prefix('-') {
                        t.features.push((name.to_owned(), false));
                    }
                }
            }
            _ => {}
        }
    }
    t
}

/// The expansion of the native flags in `user` from what clang's `-cc1`
/// line said for them. `rejected` are `-m` options this clang does not
/// know (from [`unknown_arguments`]), left out.
pub fn clang_expansion(
    t: &ClangTarget,
    user: &[String],
    rejected: &BTreeSet<String>,
) -> Result<Expansion, String> {
    let wants_march = user.iter().any(|w| w == "-march=native");
    let wants_tune = user.iter().any(|w| w == "-mtune=native");
    let march = if wants_march {
        let cpu = t
            .cpu
            .as_deref()
            .filter(|c| *c != "native")
            .ok_or("clang did not resolve -march=native (no -target-cpu)")?;
        let mut v = vec![format!("-march={cpu}")];
        for (name, on) in &t.features {
            let flag = if *on {
                format!("-m{name}")
            } else {
                format!("-mno-{name}")
            };
            if !rejected.contains(&flag) {
                v.push(flag);
            }
        }
        v
    } else {
        Vec::new()
    };
    let mtune = if wants_tune {
        // With -march=native too, clang tunes for the target CPU.
        let tune = t
            .tune
            .as_deref()
            .or(t.cpu.as_deref().filter(|_| wants_march));
        match tune.filter(|c| *c != "native") {
            Some(c) => Some(format!("-mtune={c}")),
            None => return Err("clang did not resolve -mtune=native (no -tune-cpu)".to_owned()),
        }
    } else {
        None
    };
    Ok(Expansion { march, mtune })
}

/// The options a driver refused: `unknown argument: '-mcx8'` (clang 14)
/// or `unknown argument '-mx'; did you mean ...`.
pub fn unknown_arguments(stderr: &str) -> BTreeSet<String> {
    stderr
        .lines()
        .filter_map(|l| l.split_once("unknown argument")?.1.split('\'').nth(1))
        .map(str::to_owned)
        .collect()
}

/// The words with the native flags replaced.
pub fn expand_words(words: &[String], e: &Expansion) -> Vec<String> {
    let mut out = Vec::new();
    for w in words {
        match w.as_str() {
            "-march=native" => out.extend(e.march.iter().cloned()),
            "-mtune=native" => out.extend(e.mtune.iter().cloned()),
            _ => out.push(w.clone()),
        }
    }
    out
}

/// `raw` (a value as written in a file) with whole-word native flags
/// replaced; quotes and other text are kept.
pub fn rewrite_raw(raw: &str, e: &Expansion) -> String {
    let mut out = raw.to_owned();
    for (flag, with) in [
        ("-march=native", e.march.join(" ")),
        ("-mtune=native", e.mtune.clone().unwrap_or_default()),
    ] {
        out = replace_word(&out, flag, &with);
    }
    out
}

fn replace_word(text: &str, word: &str, with: &str) -> String {
    let boundary =
        |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'));
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + word.len()..].chars().next();
        let at_start = i == 0 && out.is_empty();
        out.push_str(&rest[..i]);
        if (at_start || boundary(before)) && boundary(after) {
            out.push_str(with);
        } else {
            out.push_str(word);
        }
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Assignments of the flag variables whose text as written contains a
/// native flag (`CXXFLAGS="${CFLAGS}"` is fixed by fixing CFLAGS).
pub fn native_assignments<'a>(text: &str, all: &'a [Assignment]) -> Vec<&'a Assignment> {
    all.iter()
        .filter(|a| FLAG_VARS.contains(&a.name.as_str()))
        .filter(|a| {
            let raw = &text[a.span.clone()];
            replace_word(raw, "-march=native", "") != raw
                || replace_word(raw, "-mtune=native", "") != raw
        })
        .collect()
}

/// Lines of two `gcc -Q --help=target` outputs that differ.
pub fn help_differences(old: &str, new: &str) -> Vec<String> {
    let a: BTreeSet<&str> = old.lines().map(str::trim_end).collect();
    let b: BTreeSet<&str> = new.lines().map(str::trim_end).collect();
    let mut out: Vec<String> = a
        .difference(&b)
        .map(|l| format!("- {}", l.trim()))
        .collect();
    out.extend(b.difference(&a).map(|l| format!("+ {}", l.trim())));
    out
}

#[cfg(test)]
#[path = "march_tests.rs"]
mod tests;
