//! `--target-daemon DIR [--triple T] [--port N] [--allow NET]...`: a
//! distccd per cross target (ops::target): the toolchain's links and
//! whitelist (as `--cross-links`), the instance's settings file, OpenRC's
//! `distccd.TRIPLE` instance link, and how to start it under either
//! service manager (systemd's `distccd@.service` template is packaged).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Ctx, masquerade, say};
use crate::error::{Failure, Result};
use crate::fsio;
use crate::ops::{allow, shvars, target};

/// Ports other daemons already use: the main one's (3632, stats 3633 and
/// whatever its settings say) and other instances'.
fn used_ports(ctx: &Ctx, own: &Path) -> Result<BTreeSet<u16>> {
    let mut used: BTreeSet<u16> = [3632, 3633].into();
    let dir = ctx.layout.sys("etc/conf.d");
    for file in fsio::files_in(&dir) {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let ours = name.is_some_and(|n| n == "distccd" || n.starts_with("distccd."));
        if !ours || file == own {
            continue;
        }
        let vals = shvars::values(&fsio::read(&file)?, &BTreeMap::new());
        for var in ["DISTCCD_OPTS", "DISTCC_ARGS"] {
            used.extend(vals.get(var).map(|v| target::ports(v)).unwrap_or_default());
        }
    }
    Ok(used)
}

/// `--target-daemon DIR`.
pub fn run(ctx: &Ctx, dir: &Path) -> Result<u8> {
    ctx.require_root()?;
    for a in &ctx.args.allow {
        allow::parse_allow(a).map_err(|e| Failure::error(format!("--allow {e}")))?;
    }
    let triple = masquerade::link_toolchain(ctx, dir, true)?;
    let conf = ctx.layout.sys(&format!("etc/conf.d/distccd.{triple}"));
    let exists = fsio::exists(&conf);
    let port = if exists && ctx.args.port.is_none() && ctx.args.allow.is_empty() {
        say(format!(
            "Keeping {} (give --port or --allow to rewrite it).",
            conf.display()
        ));
        let vals = shvars::values(&fsio::read(&conf)?, &BTreeMap::new());
        vals.get("DISTCCD_OPTS")
            .and_then(|v| target::ports(v).first().copied())
    } else {
        let port = match ctx.args.port {
            Some(p) => p,
            None => target::pick_port(&used_ports(ctx, &conf)?),
        };
        let log = format!("/var/log/distccd/{triple}.log");
        let text = target::instance_conf(
            &triple,
            &dir.display().to_string(),
            port,
            &ctx.args.allow,
            &log,
        );
        if ctx.args.dry_run {
            say(format!("Would write {}:\n{text}", conf.display()));
        } else {
            fsio::ensure_dir(conf.parent().unwrap_or(Path::new("/")), 0o755)?;
            fsio::write_atomic(&conf, text.as_bytes(), 0o644)?;
            say(format!("Wrote {} (port {port}).", conf.display()));
        }
        Some(port)
    };
    // OpenRC: the instance is a link to the main script.
    let initd = ctx.layout.sys("etc/init.d/distccd");
    let openrc = fsio::exists(&initd);
    if openrc {
        let link = ctx.layout.sys(&format!("etc/init.d/distccd.{triple}"));
        if !fsio::exists(&link) {
            if ctx.args.dry_run {
                say(format!("Would create {} -> distccd", link.display()));
            } else {
                say(format!("Creating {} -> distccd symlink...", link.display()));
                fsio::symlink("distccd", &link)?;
            }
        }
        say(format!(
            "Start it with OpenRC: rc-update add distccd.{triple} default && rc-service distccd.{triple} start"
        ));
    }
    say(format!(
        "Start it with systemd: systemctl enable --now distccd@{triple}"
    ));
    if let Some(port) = port {
        say(format!(
            "Clients building for {triple} list this host as HOST:{port} in their hosts."
        ));
    }
    Ok(0)
}
