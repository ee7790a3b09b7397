//! `--get-verbose`, `--set-verbose`, `--get-log`, `--set-log`,
//! `--get-env`, `--set-env`: the client's variables where each
//! distribution's builds read them (issue 11).
//!
//! * Gentoo: `/etc/env.d/02distcc` (packaging notes §1.2), then
//!   `env-update` and Gentoo's `source /etc/profile` hint, as Gentoo's
//!   script; changing the live system needs root.
//! * Arch: makepkg's configuration, which bash sources, as `export
//!   VAR="value"` (only exported variables reach distcc): the system's
//!   `/etc/makepkg.conf.d/distcc.conf` (pacman 7) or `/etc/makepkg.conf`
//!   as root, the user's own makepkg.conf otherwise.
//! * Debian and others: nothing reads `02distcc`, so the options say that
//!   they are Gentoo's and how to set the variable instead.

use std::path::PathBuf;
use std::process::Command;

use super::{Ctx, say};
use crate::cli::Action;
use crate::error::{Failure, Result};
use crate::fsio;
use crate::ops::envfile;
use crate::paths::Distro;

/// Where the variables live on this system.
enum Store {
    /// Gentoo's env.d file.
    EnvD(PathBuf),
    /// A makepkg configuration file (Arch).
    Makepkg(PathBuf),
}

/// The option, for messages.
fn option(ctx: &Ctx) -> &'static str {
    match ctx.args.action() {
        Action::GetVerbose => "--get-verbose",
        Action::SetVerbose => "--set-verbose",
        Action::GetLog => "--get-log",
        Action::SetLog => "--set-log",
        Action::GetEnv => "--get-env",
        _ => "--set-env",
    }
}

fn store(ctx: &Ctx) -> Result<Store> {
    match ctx.distro {
        Distro::Gentoo => Ok(Store::EnvD(ctx.layout.env_file())),
        Distro::Arch => Ok(Store::Makepkg(makepkg_file(ctx)?)),
        Distro::Debian | Distro::Other => Err(Failure::error(format!(
            "{} works on Gentoo (/etc/env.d/02distcc) and Arch (makepkg.conf); nothing \
             reads those files on this system. Set the variable in the environment of \
             your builds instead, e.g. export DISTCC_VERBOSE=1 in ~/.profile \
             (or pass --distro if this is Gentoo or Arch).",
            option(ctx)
        ))),
    }
}

/// makepkg reads /etc/makepkg.conf, then /etc/makepkg.conf.d/*.conf
/// (pacman 7), then the user's `$XDG_CONFIG_HOME/pacman/makepkg.conf` or
/// else `~/.makepkg.conf`. As root (or on another --root) our own file
/// in makepkg.conf.d when that directory exists, else makepkg.conf; as a
/// user on the live system, the user's file (makepkg refuses to run as
/// root anyway).
fn makepkg_file(ctx: &Ctx) -> Result<PathBuf> {
    if !ctx.layout.is_live_system() || ctx.uid == 0 {
        let dir = ctx.layout.makepkg_conf_d();
        return Ok(if fsio::is_dir(&dir) {
            dir.join("distcc.conf")
        } else {
            ctx.layout.makepkg_conf()
        });
    }
    let home = ctx
        .vars
        .home()
        .ok_or_else(|| Failure::error("HOME is not set: cannot find your makepkg.conf"))?;
    let config = ctx
        .vars
        .get_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map_or_else(|| home.join(".config"), PathBuf::from);
    let xdg = config.join("pacman/makepkg.conf");
    Ok(if fsio::is_file(&xdg) {
        xdg
    } else {
        home.join(".makepkg.conf")
    })
}

/// The file's text: env.d must exist (Gentoo installs it); a makepkg
/// file we have not written yet reads as empty.
fn text(store: &Store) -> Result<String> {
    match store {
        Store::EnvD(p) => fsio::read(p),
        Store::Makepkg(p) => Ok(fsio::read_opt(p)?.unwrap_or_default()),
    }
}

/// Gentoo's readenv: `VAR=value` or `VAR not set.`
fn print_var(text: &str, var: &str) {
    match envfile::read_var(text, var) {
        Some(v) => say(format!("{var}={v}")),
        None => say(format!("{var} not set.")),
    }
}

/// `--get-verbose`, `--get-log`.
pub fn get_var(ctx: &Ctx, var: &str) -> Result<u8> {
    print_var(&text(&store(ctx)?)?, var);
    Ok(0)
}

/// `--get-env [VAR]`: Gentoo prints the whole env.d file; on Arch the
/// exported variables of the makepkg file.
pub fn get_env(ctx: &Ctx) -> Result<u8> {
    let store = store(ctx)?;
    match ctx.args.values.as_slice() {
        [] => match &store {
            Store::EnvD(_) => say(text(&store)?.trim_end()),
            Store::Makepkg(_) => {
                for (name, value) in envfile::exported(&text(&store)?) {
                    say(format!("{name}={value}"));
                }
            }
        },
        [var] => print_var(&text(&store)?, var),
        _ => return Err(Failure::raw("!!! Error: Specify only one variable.")),
    }
    Ok(0)
}

fn one_value<'a>(ctx: &'a Ctx, option: &str, what: &str) -> Result<&'a str> {
    match ctx.args.values.as_slice() {
        [v] => Ok(v),
        [] => Err(Failure::error(format!("{option} needs {what}."))),
        _ => Err(Failure::error(format!("{option} takes only {what}."))),
    }
}

/// `--set-verbose {0|1}`.
pub fn set_verbose(ctx: &Ctx) -> Result<u8> {
    let v = one_value(ctx, "--set-verbose", "one value, 0 or 1")?;
    if v != "0" && v != "1" {
        return Err(Failure::error(format!(
            "--set-verbose takes 0 or 1, not {v:?}."
        )));
    }
    write(ctx, "DISTCC_VERBOSE", v)
}

/// `--set-log FILE`.
pub fn set_log(ctx: &Ctx) -> Result<u8> {
    let v = one_value(ctx, "--set-log", "one value, the log file")?;
    write(ctx, "DISTCC_LOG", v)
}

/// `--set-env VAR VALUE`.
pub fn set_env(ctx: &Ctx) -> Result<u8> {
    let [var, value] = ctx.args.values.as_slice() else {
        return Err(Failure::raw("!!! Error: Awaiting two parameters."));
    };
    write(ctx, var, value)
}

/// Gentoo's writeenv, fixed (a missing variable is appended, the file is
/// replaced atomically, env-update is waited for), or its makepkg
/// equivalent.
fn write(ctx: &Ctx, var: &str, value: &str) -> Result<u8> {
    let store = store(ctx)?;
    if let Store::EnvD(_) = store {
        ctx.require_root()?;
    }
    envfile::check_name(var).map_err(Failure::error)?;
    envfile::check_value(value).map_err(Failure::error)?;
    let (Store::EnvD(path) | Store::Makepkg(path)) = &store;
    let old = fsio::read_opt(path)?.unwrap_or_default();
    let new = match store {
        Store::EnvD(_) => envfile::set_var(&old, var, value),
        Store::Makepkg(_) => envfile::set_exported(&old, var, value),
    };
    if ctx.args.dry_run {
        say(format!("Would set {var}=\"{value}\" in {}", path.display()));
        return Ok(0);
    }
    if let Some(dir) = path.parent() {
        fsio::ensure_dir(dir, 0o755)?;
    }
    fsio::write_atomic(path, new.as_bytes(), 0o644)?;
    match store {
        Store::EnvD(_) => {
            env_update(ctx);
            say("If you want to use these new settings in an existing shell,");
            say("you need to \"source /etc/profile\" to get the changes.");
        }
        Store::Makepkg(_) => {
            say(format!(
                "makepkg builds started from now on get {var}=\"{value}\" (from {}).",
                path.display()
            ));
            if var == "DISTCC_LOG" {
                say("distccd's own log is --log-file in DISTCC_ARGS of /etc/conf.d/distccd.");
            }
        }
    }
    Ok(0)
}

/// Run Gentoo's env-update if it exists.
fn env_update(ctx: &Ctx) {
    let prog = ctx.layout.env_update();
    if !fsio::is_executable(&prog) {
        return;
    }
    let mut cmd = Command::new(&prog);
    if ctx.layout.root != std::path::Path::new("/") {
        cmd.env("ROOT", &ctx.layout.root);
    }
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("!!! Warning: {} failed ({s})", prog.display()),
        Err(e) => eprintln!("!!! Warning: cannot run {}: {e}", prog.display()),
    }
}
