//! Gentoo's host options (packaging notes §1.2), with the messages
//! scripts may read kept word for word and the bugs listed in `--help`
//! fixed. The env.d options are in [`super::envvars`].

use distcc::hosts::{self, Source};

use super::{Ctx, say};
use crate::error::{BAD_HOSTSPEC, Failure, Result};
use crate::fsio;

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

/// The daemons announcing themselves now, as host-list words.
fn zeroconf_hosts() -> Result<Vec<String>> {
    use distcc::zeroconf::{cache, compiler, mdns};
    let cc = compiler::default_compiler();
    let subtype = cc.as_ref().map(|(m, v)| (m.as_str(), v.as_str()));
    let seen = mdns::browse(subtype, cache::WINDOW)
        .map_err(|e| Failure::error(format!("--zeroconf: {e}")))?;
    let words: Vec<String> = seen
        .iter()
        .filter_map(distcc::zeroconf::Seen::host_line)
        .collect();
    if words.is_empty() {
        return Err(Failure::error(
            "--zeroconf: no distccd announced itself by mDNS (distccd --zeroconf) with a \
             compiler matching cc's; nothing written",
        ));
    }
    Ok(words)
}

/// `--set-hosts HOSTS...`: validate with distcc's parser, then write
/// atomically. Root writes the system file, others $DISTCC_DIR/hosts.
pub fn set_hosts(ctx: &Ctx) -> Result<u8> {
    if ctx.args.values.is_empty() && !ctx.args.zeroconf {
        return Err(Failure::error(
            "--set-hosts needs the host list, e.g. --set-hosts \"host1 host2/8,lzo\"",
        ));
    }
    let mut words = Vec::new();
    if ctx.args.zeroconf {
        words = zeroconf_hosts()?;
        say(format!("Found by mDNS: {}", words.join(" ")));
    }
    words.extend(ctx.args.values.iter().cloned());
    let list = words.join(" ");
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
