//! `--update-masquerade[-with-crossdev]`, `--cross-links DIR` and
//! `--cross-wrapper CHOST`: find compilers, plan (ops::masq, ops::cross),
//! print Gentoo's messages, change the links.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Ctx, say};
use crate::error::{Failure, Result};
use crate::fsio;
use crate::ops::cross;
use crate::ops::masq::{self, Bin, Entry, Mode, Op, Sub, Targets};
use crate::paths::LinkStyle;

/// The directories searched for compilers: EPREFIX/usr/bin, PATH and the
/// registered cross toolchains (all inside --root), minus masquerade and
/// ccache directories.
fn search_dirs(ctx: &Ctx) -> Result<Vec<PathBuf>> {
    let masq = ctx.layout.masq_dir_host();
    let mut dirs = vec![ctx.layout.bin_dir()];
    for entry in ctx.vars.path_entries() {
        let norm = fsio::normalize(&entry);
        let is_masq = norm == masq || norm == masq.join("bin");
        let is_ccache = norm.components().any(|c| c.as_os_str() == "ccache");
        if entry.is_absolute() && !is_masq && !is_ccache {
            dirs.push(ctx.layout.reroot(&norm));
        }
    }
    for dir in registered(ctx)? {
        dirs.push(ctx.layout.reroot(&dir));
    }
    dirs.dedup();
    Ok(dirs)
}

/// Cross toolchain directories registered by --cross-links.
fn registered(ctx: &Ctx) -> Result<Vec<PathBuf>> {
    let text = fsio::read_opt(&ctx.layout.cross_registry())?.unwrap_or_default();
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(PathBuf::from)
        .collect())
}

/// Names Gentoo's script would link from `gcc-config -C -l` profiles.
fn gcc_config_names(ctx: &Ctx) -> Vec<String> {
    let prog = ctx.layout.gcc_config();
    if !fsio::is_executable(&prog) {
        return Vec::new();
    }
    let mut cmd = Command::new(&prog);
    cmd.args(["-C", "-l"]);
    if ctx.layout.root != Path::new("/") {
        cmd.env("ROOT", &ctx.layout.root);
    }
    let Ok(out) = cmd.output() else {
        return Vec::new();
    };
    let bin = ctx.layout.bin_dir();
    masq::gcc_config_profiles(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .flat_map(|(chost, ver)| masq::profile_names(chost, ver))
        .filter(|n| fsio::is_executable(&bin.join(n)))
        .collect()
}

/// The link targets for the top directory and a real `bin/`.
fn targets(ctx: &Ctx) -> Targets {
    let distcc = ctx.distcc_binary();
    let style = ctx.args.links.unwrap_or(ctx.distro.default_link_style());
    let masq = ctx.layout.masq_dir_host();
    match style {
        LinkStyle::Absolute => Targets {
            top: distcc.display().to_string(),
            bin: distcc.display().to_string(),
        },
        LinkStyle::Relative => Targets {
            top: masq::relative_target(&masq, &distcc),
            bin: masq::relative_target(&masq.join("bin"), &distcc),
        },
    }
}

fn bin_state(ctx: &Ctx, top: &std::collections::BTreeMap<String, Entry>) -> Result<Bin> {
    Ok(match top.get("bin") {
        None => Bin::Missing {
            create: ctx.distro.wants_bin_dir(),
        },
        Some(Entry::Link(t)) if t == "." || t == "./" => Bin::LinkToSelf,
        Some(Entry::Link(t)) => Bin::Other(format!("a link to {t}")),
        Some(Entry::File) => Bin::Other("a file".to_owned()),
        Some(Entry::Dir) => Bin::Dir(fsio::list_dir(&ctx.layout.masq_dir().join("bin"))?),
    })
}

/// Compute the masquerade plan (also used by --check).
pub fn compute_plan(ctx: &Ctx, mode: Mode) -> Result<masq::Plan> {
    let patterns = ctx.patterns()?;
    let mut found: BTreeSet<String> = BTreeSet::new();
    for dir in search_dirs(ctx)? {
        found.extend(fsio::executables(&dir));
    }
    found.extend(gcc_config_names(ctx));
    let wanted = masq::wanted(&patterns, found.iter().map(String::as_str), mode);
    let top = fsio::list_dir(&ctx.layout.masq_dir())?;
    let bin = bin_state(ctx, &top)?;
    Ok(masq::plan(&wanted, &top, &bin, &targets(ctx)))
}

/// `--update-masquerade` (`crossdev`: only TRIPLE- names).
pub fn update(ctx: &Ctx, crossdev: bool) -> Result<u8> {
    ctx.require_root()?;
    let mode = if crossdev {
        Mode::PrefixedOnly
    } else {
        Mode::All
    };
    let plan = compute_plan(ctx, mode)?;
    apply_plan(ctx, &plan)?;
    let distcc = ctx.distcc_binary();
    if !fsio::exists(&ctx.layout.reroot(&distcc)) && !distcc.exists() {
        eprintln!(
            "!!! Warning: the links point to {}, which does not exist",
            distcc.display()
        );
    }
    Ok(0)
}

fn apply_plan(ctx: &Ctx, plan: &masq::Plan) -> Result<()> {
    let dir = ctx.layout.masq_dir();
    let path_of = |sub: Sub, name: &str| match sub {
        Sub::Top => dir.join(name),
        Sub::Bin => dir.join("bin").join(name),
    };
    let dry = ctx.args.dry_run;
    if dry {
        say(format!(
            "Plan for {} ({} change(s)):",
            dir.display(),
            plan.ops.len()
        ));
    } else {
        say("Creating symlinks...");
        fsio::ensure_dir(&dir, 0o755)?;
    }
    for op in &plan.ops {
        match op {
            Op::Create { sub, name, target } => {
                let p = path_of(*sub, name);
                if dry {
                    say(format!("Would create {} -> {target}", p.display()));
                } else {
                    say(format!("Creating {} symlink...", p.display()));
                    fsio::symlink(target, &p)?;
                }
            }
            Op::Retarget {
                sub,
                name,
                old,
                target,
            } => {
                let p = path_of(*sub, name);
                if dry {
                    say(format!(
                        "Would change {} -> {old} to -> {target}",
                        p.display()
                    ));
                } else {
                    say(format!("Updating {} symlink...", p.display()));
                    fsio::symlink(target, &p)?;
                }
            }
            Op::Remove { sub, name, old } => {
                let p = path_of(*sub, name);
                if dry {
                    say(format!("Would remove stale {} -> {old}", p.display()));
                } else {
                    say(format!("Removing stale {} symlink...", p.display()));
                    fsio::remove(&p)?;
                }
            }
            Op::BinLink => {
                let p = dir.join("bin");
                if dry {
                    say(format!("Would create {} -> .", p.display()));
                } else {
                    say(format!("Creating {} -> . symlink...", p.display()));
                    fsio::symlink(".", &p)?;
                }
            }
        }
    }
    for note in &plan.notes {
        say(format!("Note: {note}"));
    }
    Ok(())
}

/// `--cross-links DIR`: strip-prefix links in a toolchain directory, then
/// register it so the masquerade update whitelists its TRIPLE- names.
pub fn cross_links(ctx: &Ctx, dir: &Path) -> Result<u8> {
    ctx.require_root()?;
    let triple = link_toolchain(ctx, dir, false)?;
    say(format!(
        "Run distccd for {triple} with {} first in its PATH (DISTCCD_PATH), e.g. \
         distcc-config --target-daemon {}.",
        dir.display(),
        dir.display()
    ));
    Ok(0)
}

/// The work of `--cross-links DIR` (also the first step of
/// `--target-daemon`): returns the toolchain's triple. `own_dir`: the
/// directory must be the toolchain's alone, i.e. the unprefixed `gcc`
/// and `cc` there must lead to the toolchain (in /usr/bin they would be
/// the native compilers, and a daemon with it first on PATH would compile
/// for the wrong target).
pub fn link_toolchain(ctx: &Ctx, dir: &Path, own_dir: bool) -> Result<String> {
    if !dir.is_absolute() {
        return Err(Failure::error(format!(
            "{}: give an absolute directory",
            dir.display()
        )));
    }
    let real = ctx.layout.reroot(dir);
    if !fsio::is_dir(&real) {
        return Err(Failure::error(format!(
            "{} is not a directory",
            real.display()
        )));
    }
    let entries = fsio::list_dir(&real)?;
    let execs: BTreeSet<String> = fsio::executables(&real).into_iter().collect();
    let triple = match &ctx.args.triple {
        Some(t) => t.clone(),
        None => cross::detect_triple(&execs).map_err(Failure::error)?,
    };
    let (links, notes) = cross::toolchain_links(&ctx.patterns()?, &triple, &entries);
    if own_dir {
        let blocked: Vec<&str> = ["gcc", "cc"]
            .into_iter()
            .filter(|n| {
                notes
                    .iter()
                    .any(|note| note.starts_with(&format!("{n} already")))
            })
            .collect();
        if !blocked.is_empty() {
            return Err(Failure::error(format!(
                "{} already has {} that are not {triple}'s: a daemon with it first on \
                 PATH would compile for the wrong target. Give the toolchain a directory of \
                 its own, e.g. mkdir -p /opt/{triple}/bin && ln -s {}/{triple}-* /opt/{triple}/bin/",
                real.display(),
                blocked.join(" and "),
                dir.display()
            )));
        }
    }
    for link in &links {
        let p = real.join(&link.name);
        if ctx.args.dry_run {
            say(format!("Would create {} -> {}", p.display(), link.target));
        } else {
            say(format!("Creating {} symlink...", p.display()));
            fsio::symlink(&link.target, &p)?;
        }
    }
    for note in notes {
        say(format!("Note: {note}"));
    }
    let mut dirs = registered(ctx)?;
    if !dirs.iter().any(|d| d == dir) {
        dirs.push(dir.to_path_buf());
        let text: String = dirs.iter().map(|d| format!("{}\n", d.display())).collect();
        let reg = ctx.layout.cross_registry();
        if ctx.args.dry_run {
            say(format!(
                "Would register {} in {}",
                dir.display(),
                reg.display()
            ));
        } else {
            fsio::ensure_dir(reg.parent().unwrap_or(Path::new("/")), 0o755)?;
            let header = "# Cross toolchain directories whose compilers distcc-config whitelists\n";
            fsio::write_atomic(&reg, format!("{header}{text}").as_bytes(), 0o644)?;
        }
    }
    // The whitelist links for the TRIPLE- names, from the registered dir.
    if ctx.args.dry_run {
        say("Would then update the masquerade links (--update-masquerade).");
    } else {
        update(ctx, false)?;
    }
    Ok(triple)
}

/// `--cross-wrapper CHOST`: Gentoo's client-side cross set-up.
pub fn cross_wrapper(ctx: &Ctx, chost: &str) -> Result<u8> {
    ctx.require_root()?;
    if !cross::valid_chost(chost) {
        return Err(Failure::error(format!(
            "{chost:?} does not look like a CHOST (e.g. armv7a-unknown-linux-gnueabihf)"
        )));
    }
    let dir = ctx.layout.masq_dir();
    let entries = fsio::list_dir(&dir)?;
    let wrapper = format!("{chost}-wrapper");
    let script = cross::wrapper_script(chost, &ctx.layout.masq_dir_host().display().to_string());
    let top = targets(ctx).top;
    let dry = ctx.args.dry_run;
    let mut todo: Vec<(String, String)> = Vec::new();
    for base in ["gcc", "g++"] {
        let name = format!("{chost}-{base}");
        if !entries.contains_key(&name) {
            todo.push((name, top.clone()));
        }
    }
    for name in cross::WRAPPED {
        match entries.get(name) {
            Some(Entry::Link(t)) if *t == wrapper => {}
            None => todo.push((name.to_owned(), wrapper.clone())),
            Some(Entry::Link(t)) if masq::is_distcc_target(t) => {
                todo.push((name.to_owned(), wrapper.clone()))
            }
            Some(_) => say(format!("Note: {name} is not a distcc link: left alone")),
        }
    }
    let wrapper_path = dir.join(&wrapper);
    if dry {
        say(format!("Would write {}", wrapper_path.display()));
        for (name, target) in &todo {
            say(format!(
                "Would create {} -> {target}",
                dir.join(name).display()
            ));
        }
        return Ok(0);
    }
    fsio::ensure_dir(&dir, 0o755)?;
    say(format!("Writing {}...", wrapper_path.display()));
    fsio::write_atomic(&wrapper_path, script.as_bytes(), 0o755)?;
    for (name, target) in &todo {
        say(format!("Creating {} symlink...", dir.join(name).display()));
        fsio::symlink(target, &dir.join(name))?;
    }
    Ok(0)
}
