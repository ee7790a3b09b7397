//! Gentoo's options: hosts and /etc/env.d/02distcc (packaging notes §1.2),
//! with the messages scripts may read kept word for word and the bugs
//! listed in `--help` fixed.

use std::process::Command;

use distcc::hosts::{self, Source};

use super::{Ctx, say};
use crate::error::{BAD_HOSTSPEC, Failure, Result};
use crate::fsio;
use crate::ops::envfile;

/// `--get-hosts`: the list distcc would use, in the client's order.
pub fn get_hosts(ctx: &Ctx) -> Result<u8> {
    for source in hosts::sources(&ctx.vars, &ctx.layout.sysconfdir()) {
        match source {
            Source::Env(value) => {
                say(value);
                return Ok(0);
            }
            Source::File(path) => {
                if let Some(text) = fsio::read_opt(&path)? {
                    if !text.trim().is_empty() {
                        say(text.trim_end());
                        return Ok(0);
                    }
                }
            }
        }
    }
    say("No configuration file found. Setup your hosts with --set-hosts.");
    Ok(0)
}

/// `--set-hosts HOSTS...`: validate with distcc's parser, then write
/// atomically. Root writes the system file, others $DISTCC_DIR/hosts.
pub fn set_hosts(ctx: &Ctx) -> Result<u8> {
    if ctx.args.values.is_empty() {
        return Err(Failure::error(
            "--set-hosts needs the host list, e.g. --set-hosts \"host1 host2/8,lzo\"",
        ));
    }
    let list = ctx.args.values.join(" ");
    let parsed = hosts::parse(&list).map_err(|e| Failure::error(e).with_status(BAD_HOSTSPEC))?;
    if !parsed.warnings.is_empty() && !ctx.args.force {
        let lines: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
        return Err(Failure::error(format!(
            "{}\nNothing written; use --force to write this list anyway.",
            lines.join("\n")
        ))
        .with_status(BAD_HOSTSPEC));
    }
    let dir = if ctx.uid == 0 {
        ctx.layout.sysconfdir().join("distcc")
    } else {
        ctx.vars
            .distcc_dir()
            .ok_or_else(|| Failure::error("neither DISTCC_DIR nor HOME is set"))?
    };
    let file = dir.join("hosts");
    if ctx.args.dry_run {
        say(format!("Would write {}: {list}", file.display()));
        return Ok(0);
    }
    fsio::ensure_dir(&dir, 0o755)?;
    fsio::write_atomic(&file, format!("{list}\n").as_bytes(), 0o644)?;
    Ok(0)
}

fn env_text(ctx: &Ctx) -> Result<String> {
    fsio::read(&ctx.layout.env_file())
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
    print_var(&env_text(ctx)?, var);
    Ok(0)
}

/// `--get-env [VAR]`.
pub fn get_env(ctx: &Ctx) -> Result<u8> {
    match ctx.args.values.as_slice() {
        [] => say(env_text(ctx)?.trim_end()),
        [var] => print_var(&env_text(ctx)?, var),
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
    write_env(ctx, "DISTCC_VERBOSE", v)
}

/// `--set-log FILE`.
pub fn set_log(ctx: &Ctx) -> Result<u8> {
    let v = one_value(ctx, "--set-log", "one value, the log file")?;
    write_env(ctx, "DISTCC_LOG", v)
}

/// `--set-env VAR VALUE`.
pub fn set_env(ctx: &Ctx) -> Result<u8> {
    let [var, value] = ctx.args.values.as_slice() else {
        return Err(Failure::raw("!!! Error: Awaiting two parameters."));
    };
    write_env(ctx, var, value)
}

/// Gentoo's writeenv, fixed: append a missing variable, write atomically,
/// wait for env-update.
fn write_env(ctx: &Ctx, var: &str, value: &str) -> Result<u8> {
    ctx.require_root()?;
    envfile::check_name(var).map_err(Failure::error)?;
    envfile::check_value(value).map_err(Failure::error)?;
    let path = ctx.layout.env_file();
    let old = fsio::read_opt(&path)?.unwrap_or_default();
    let new = envfile::set_var(&old, var, value);
    if ctx.args.dry_run {
        say(format!("Would set {var}=\"{value}\" in {}", path.display()));
        return Ok(0);
    }
    if let Some(dir) = path.parent() {
        fsio::ensure_dir(dir, 0o755)?;
    }
    fsio::write_atomic(&path, new.as_bytes(), 0o644)?;
    env_update(ctx);
    say("If you want to use these new settings in an existing shell,");
    say("you need to \"source /etc/profile\" to get the changes.");
    Ok(0)
}

/// Run Gentoo's env-update if it exists (not on Arch or Debian).
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
