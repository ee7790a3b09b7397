//! `--march-native [--apply]`: find `-march=native`/`-mtune=native` in
//! make.conf, makepkg.conf and the environment, ask the compiler what they
//! stand for (`-###`), prove it with `-Q --help=target`, and rewrite the
//! files when asked (packaging notes §4).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use super::{Ctx, say};
use crate::error::{Failure, Result};
use crate::fsio;
use crate::ops::march::{self, Expansion};
use crate::ops::report::{self, Finding};
use crate::ops::shvars;

/// The files to look at: make.conf (a file or a directory of files),
/// makepkg.conf and makepkg.conf.d/*.conf.
fn flag_files(ctx: &Ctx) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let make_conf = ctx.layout.make_conf();
    if fsio::is_dir(&make_conf) {
        files.extend(fsio::files_in(&make_conf));
    } else if fsio::is_file(&make_conf) {
        files.push(make_conf);
    }
    if fsio::is_file(&ctx.layout.makepkg_conf()) {
        files.push(ctx.layout.makepkg_conf());
    }
    let mut conf_d = fsio::files_in(&ctx.layout.makepkg_conf_d());
    conf_d.retain(|p| p.extension().is_some_and(|e| e == "conf"));
    files.extend(conf_d);
    files
}

fn compiler(ctx: &Ctx) -> String {
    ctx.args
        .cc
        .clone()
        .or_else(|| {
            ctx.vars
                .get("CC")
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "gcc".to_owned())
}

/// `cc <words> <extra>`: stdout+stderr, or why it could not run.
fn run_cc(
    cc: &str,
    words: &[String],
    extra: &[&str],
) -> std::result::Result<(String, String), String> {
    let out = Command::new(cc)
        .args(words)
        .args(extra)
        .output()
        .map_err(|e| format!("cannot run {cc}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cc} {} failed: {}",
            words.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Only target flags go to the checks: others can change what the driver
/// runs (`-pipe` pipes gcc's help text into the assembler).
fn target(words: &[String]) -> Vec<String> {
    words
        .iter()
        .filter(|w| w.starts_with("-m") || w.starts_with("--param"))
        .cloned()
        .collect()
}

/// Expand the native flags in `words` and prove the result (gcc: `-Q
/// --help=target`; clang: `-E -dM`). Returns the expansion, the new words
/// and how they were checked.
pub fn expand_verified(
    cc: &str,
    words: &[String],
) -> std::result::Result<(Expansion, Vec<String>, &'static str), String> {
    let (_, driver) = run_cc(
        cc,
        words,
        &["-###", "-x", "c", "-c", "-o", "/dev/null", "/dev/null"],
    )?;
    if let Some(cc1) = march::clang_cc1(&driver) {
        return clang_verified(cc, words, &cc1);
    }
    let cc1 = march::cc1_words(&driver)
        .map_err(|_| format!("{cc} -### shows neither gcc's cc1 nor clang's -cc1 line"))?;
    let e = march::expansion(&cc1, words)?;
    let new = march::expand_words(words, &e);
    let (old_help, _) = run_cc(cc, &target(words), &["-Q", "--help=target"])?;
    let (new_help, _) = run_cc(cc, &target(&new), &["-Q", "--help=target"])?;
    let diff = march::help_differences(&old_help, &new_help);
    if !diff.is_empty() {
        return Err(format!(
            "{cc} -Q --help=target differs for the explicit flags, so they are not used:\n  {}",
            diff.join("\n  ")
        ));
    }
    Ok((e, new, "-Q --help=target"))
}

/// clang: the `-cc1` line's CPU and features as options, the ones this
/// clang does not know dropped, proven by the predefined macros.
fn clang_verified(
    cc: &str,
    words: &[String],
    cc1: &[String],
) -> std::result::Result<(Expansion, Vec<String>, &'static str), String> {
    let t = march::clang_target(cc1);
    let macros = ["-E", "-dM", "-x", "c", "/dev/null"];
    let (want, _) = run_cc(cc, &target(words), &macros)?;
    let mut rejected = std::collections::BTreeSet::new();
    loop {
        let e = march::clang_expansion(&t, words, &rejected)?;
        let new = march::expand_words(words, &e);
        match run_cc(cc, &target(&new), &macros) {
            Ok((got, _)) => {
                let diff = march::help_differences(&want, &got);
                if !diff.is_empty() {
                    return Err(format!(
                        "{cc} -E -dM differs for the explicit flags, so they are not used:\n  {}",
                        diff.join("\n  ")
                    ));
                }
                return Ok((e, new, "-E -dM"));
            }
            Err(why) => {
                let unknown = march::unknown_arguments(&why);
                if unknown.is_empty() || unknown.is_subset(&rejected) {
                    return Err(why);
                }
                rejected.extend(unknown);
            }
        }
    }
}

/// Findings for every native flag (used by --check too); with `apply`,
/// rewrite the files.
pub fn findings(ctx: &Ctx, apply: bool) -> Result<Vec<Finding>> {
    let cc = compiler(ctx);
    let mut out = Vec::new();
    for file in flag_files(ctx) {
        let text = fsio::read(&file)?;
        let all = shvars::assignments(&text, &BTreeMap::new());
        let hits = march::native_assignments(&text, &all);
        let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
        for a in hits {
            let words: Vec<String> = a.value.split_whitespace().map(str::to_owned).collect();
            let label = format!("{} line {}: {}", file.display(), a.line, a.name);
            match expand_verified(&cc, &words) {
                Ok((e, new, proof)) => {
                    out.push(Finding::note(format!(
                        "{label} uses native flags: this distcc resolves them for each job, \
                         distcc 3.4 clients compile such jobs locally; on this CPU \
                         ({cc}, verified with {proof}) they are:\n    {}",
                        new.join(" ")
                    )));
                    edits.push((
                        a.span.clone(),
                        march::rewrite_raw(&text[a.span.clone()], &e),
                    ));
                }
                Err(why) => out.push(Finding::problem(format!("{label}: {why}"))),
            }
        }
        if apply && !edits.is_empty() {
            let mut new_text = text.clone();
            for (span, with) in edits.iter().rev() {
                new_text.replace_range(span.clone(), with);
            }
            if ctx.args.dry_run {
                out.push(Finding::note(format!("would rewrite {}", file.display())));
            } else {
                fsio::write_atomic(&file, new_text.as_bytes(), 0o644)?;
                out.push(Finding::ok(format!("rewrote {}", file.display())));
            }
        }
    }
    for var in ["CFLAGS", "CXXFLAGS"] {
        if let Some(v) = ctx.vars.get(var) {
            if v.split_whitespace()
                .any(|w| w == "-march=native" || w == "-mtune=native")
            {
                out.push(Finding::note(format!(
                    "${var} in the environment uses native flags (this distcc resolves \
                     them for each job, distcc 3.4 compiles such jobs locally); \
                     change it where it is set"
                )));
            }
        }
    }
    if out.is_empty() {
        out.push(Finding::ok(
            "no -march=native or -mtune=native in make.conf, makepkg.conf or the environment",
        ));
    }
    Ok(out)
}

/// `--march-native [--apply]`.
pub fn run(ctx: &Ctx) -> Result<u8> {
    if ctx.args.apply && !ctx.args.dry_run {
        ctx.require_root()?;
    }
    let f = findings(ctx, ctx.args.apply)?;
    for line in &f {
        say(line);
    }
    if report::has_problems(&f) {
        return Err(Failure::raw(report::summary(&f)));
    }
    Ok(0)
}
