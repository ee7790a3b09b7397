//! The interactive set-up (`distcc-config` on a terminal, or `--wizard`):
//! hosts, the networks distccd allows, masquerade links. It shows every
//! change and writes nothing until the user says yes. It never prompts
//! when stdin is not a terminal.

use std::collections::BTreeSet;
use std::path::PathBuf;

use dialoguer::theme::SimpleTheme;
use dialoguer::{Confirm, Input};
use distcc::hosts;

use crate::cmd::{Ctx, masquerade, say};
use crate::error::{Failure, Result};
use crate::fsio;
use crate::ops::allow::{self, AllowValue};
use crate::ops::allow_edit;
use crate::ops::masq::Mode;
use crate::ops::shvars;
use crate::paths::Distro;

fn cancelled(e: dialoguer::Error) -> Failure {
    Failure::error(format!("{e}; nothing was written"))
}

/// A file the wizard will write: path, old text, new text.
struct Change {
    path: PathBuf,
    old: String,
    new: String,
}

fn show(change: &Change) {
    say(format!("--- {}", change.path.display()));
    let old: BTreeSet<&str> = change.old.lines().collect();
    let new: BTreeSet<&str> = change.new.lines().collect();
    for l in change.old.lines().filter(|l| !new.contains(l)) {
        say(format!("- {l}"));
    }
    for l in change.new.lines().filter(|l| !old.contains(l)) {
        say(format!("+ {l}"));
    }
}

/// An edit of a settings file that sets the allowed networks.
type Edit = fn(&str, &[String]) -> String;

/// The distccd settings files that exist and how to edit each.
fn allow_targets(ctx: &Ctx) -> Result<Vec<(PathBuf, String, Edit)>> {
    let mut out: Vec<(PathBuf, String, Edit)> = Vec::new();
    let confd = ctx.layout.confd();
    if let Some(text) = fsio::read_opt(&confd)? {
        let vars = shvars::values(&text, &Default::default());
        let edit: Edit = if vars.contains_key("DISTCC_ARGS")
            || (!vars.contains_key("DISTCCD_OPTS") && ctx.distro == Distro::Arch)
        {
            allow_edit::arch_confd
        } else {
            allow_edit::gentoo_confd
        };
        out.push((confd, text, edit));
    }
    let dropin = ctx.layout.dropin_dirs()[0].join("00gentoo.conf");
    if let Some(text) = fsio::read_opt(&dropin)? {
        out.push((dropin, text, allow_edit::dropin));
    }
    Ok(out)
}

fn validate_nets(text: &str) -> std::result::Result<Vec<String>, String> {
    let nets: Vec<String> = text
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if nets.is_empty() {
        return Err("give at least one network, e.g. 192.168.1.0/24".to_owned());
    }
    for n in &nets {
        match allow::parse_allow(n)? {
            AllowValue::Net(net) if net.prefix_len() == 0 => {
                return Err(format!("{n} would let the whole Internet in"));
            }
            _ => {}
        }
    }
    Ok(nets)
}

/// Run the wizard.
pub fn wizard(ctx: &Ctx) -> Result<u8> {
    if !ctx.interactive {
        return Err(Failure::error(
            "the wizard needs a terminal on stdin; use the options instead (see --help)",
        ));
    }
    let theme = SimpleTheme;
    let mut changes = Vec::new();

    say("distcc-config: set up distcc. Nothing is written until you confirm at the end.");
    let hosts_dir = if ctx.uid == 0 {
        ctx.layout.sysconfdir().join("distcc")
    } else {
        ctx.vars
            .distcc_dir()
            .ok_or_else(|| Failure::error("neither DISTCC_DIR nor HOME is set"))?
    };
    let hosts_file = hosts_dir.join("hosts");
    let old_hosts = fsio::read_opt(&hosts_file)?.unwrap_or_default();
    let mut prompt = Input::<String>::with_theme(&theme)
        .with_prompt(format!("Hosts to compile on ({})", hosts_file.display()))
        .validate_with(|s: &String| -> std::result::Result<(), String> {
            let list = hosts::parse(s).map_err(|e| e.to_string())?;
            match list.warnings.first() {
                Some(w) => Err(w.to_string()),
                None => Ok(()),
            }
        });
    let current = old_hosts.trim();
    if hosts::parse(current).is_ok() {
        prompt = prompt.default(current.to_owned());
    }
    let new_hosts = prompt.interact_text().map_err(cancelled)?;
    if new_hosts.trim() != current {
        changes.push(Change {
            path: hosts_file,
            old: old_hosts,
            new: format!("{}\n", new_hosts.trim()),
        });
    }

    let targets = allow_targets(ctx)?;
    if targets.is_empty() {
        say("No distccd settings file found (conf.d, systemd drop-in): skipping allowed networks.");
    } else {
        let nets_text = Input::<String>::with_theme(&theme)
            .with_prompt("Networks allowed to use this machine's distccd (e.g. 192.168.1.0/24)")
            .validate_with(|s: &String| validate_nets(s).map(|_| ()))
            .interact_text()
            .map_err(cancelled)?;
        let nets = validate_nets(&nets_text).map_err(Failure::error)?;
        for (path, old, edit) in targets {
            let new = edit(&old, &nets);
            if new != old {
                changes.push(Change { path, old, new });
            }
        }
    }

    let masq_plan = if Confirm::with_theme(&theme)
        .with_prompt(format!(
            "Update the masquerade links in {}?",
            ctx.layout.masq_dir().display()
        ))
        .default(true)
        .interact()
        .map_err(cancelled)?
    {
        Some(masquerade::compute_plan(ctx, Mode::All)?)
    } else {
        None
    };

    let masq_ops = masq_plan.as_ref().map_or(0, |p| p.ops.len());
    if changes.is_empty() && masq_ops == 0 {
        say("Nothing to change.");
        return Ok(0);
    }
    for c in &changes {
        show(c);
    }
    if masq_ops > 0 {
        say(format!(
            "--- {}: {masq_ops} link change(s)",
            ctx.layout.masq_dir().display()
        ));
    }
    if !Confirm::with_theme(&theme)
        .with_prompt("Write these changes?")
        .default(false)
        .interact()
        .map_err(cancelled)?
    {
        say("Nothing written.");
        return Ok(0);
    }
    for c in &changes {
        if let Some(dir) = c.path.parent() {
            fsio::ensure_dir(dir, 0o755)?;
        }
        fsio::write_atomic(&c.path, c.new.as_bytes(), 0o644)?;
        say(format!("Wrote {}", c.path.display()));
    }
    if masq_ops > 0 {
        masquerade::update(ctx, false)?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_validated() {
        assert_eq!(
            validate_nets("10.0.0.0/8, 127.0.0.1").unwrap(),
            ["10.0.0.0/8", "127.0.0.1"]
        );
        assert!(validate_nets("").is_err());
        assert!(
            validate_nets("0.0.0.0/0")
                .unwrap_err()
                .contains("whole Internet")
        );
        assert!(
            validate_nets("192.168.1.5/24")
                .unwrap_err()
                .contains("host bits")
        );
    }
}
