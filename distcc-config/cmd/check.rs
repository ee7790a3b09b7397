//! `--check`: one report over the host list (validity, reachability), the
//! masquerade links and PATH order, make's -j against the host slots,
//! distccd's --allow settings and -march=native. Problems → exit 1.

use std::collections::BTreeMap;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use distcc::hosts::{self, HostKind, HostList, Source};

use super::{Ctx, say};
use crate::error::{Failure, Result};
use crate::fsio;
use crate::ops::check::{self, PathKind};
use crate::ops::masq::Mode;
use crate::ops::report::{self, Finding};
use crate::ops::shvars;

/// The host list as the client finds it, and where it came from.
fn host_list(ctx: &Ctx, out: &mut Vec<Finding>) -> Result<Option<HostList>> {
    for source in hosts::sources(&ctx.vars, &ctx.layout.sysconfdir()) {
        let (label, text) = match source {
            Source::Env(v) => ("$DISTCC_HOSTS".to_owned(), v),
            Source::File(p) => match fsio::read_opt(&p)? {
                Some(t) => (p.display().to_string(), t),
                None => continue,
            },
        };
        return Ok(match hosts::parse(&text) {
            Ok(list) => {
                for w in &list.warnings {
                    out.push(Finding::warning(format!("{label}: {w}")));
                }
                out.push(Finding::ok(format!(
                    "{label}: {} host(s), {} slot(s)",
                    list.hosts.len(),
                    list.total_slots()
                )));
                Some(list)
            }
            Err(e) => {
                out.push(Finding::problem(format!("{label}: {e}")));
                None
            }
        });
    }
    out.push(Finding::problem(
        "no host list ($DISTCC_HOSTS, $DISTCC_DIR/hosts, /etc/distcc/hosts): distcc compiles locally",
    ));
    Ok(None)
}

/// Try each TCP host's port with a short timeout.
fn reachability(ctx: &Ctx, list: &HostList, out: &mut Vec<Finding>) {
    let timeout = Duration::from_secs_f64(ctx.args.timeout.clamp(0.05, 60.0));
    for h in &list.hosts {
        match &h.kind {
            HostKind::Local => {}
            HostKind::Ssh { host, .. } => out.push(Finding::note(format!(
                "{}: ssh host {host} not checked (needs your ssh keys)",
                h.text
            ))),
            HostKind::Tcp { .. } if h.down => {
                out.push(Finding::note(format!("{}: marked down", h.text)))
            }
            HostKind::Tcp { host, port } => {
                let addrs: Vec<_> = match (host.as_str(), *port).to_socket_addrs() {
                    Ok(a) => a.collect(),
                    Err(e) => {
                        out.push(Finding::problem(format!(
                            "{}: cannot resolve {host}: {e}",
                            h.text
                        )));
                        continue;
                    }
                };
                let ok = addrs
                    .iter()
                    .any(|a| TcpStream::connect_timeout(a, timeout).is_ok());
                out.push(if ok {
                    Finding::ok(format!("{}: port {port} answers", h.text))
                } else {
                    Finding::problem(format!("{}: nothing answers on {host} port {port}", h.text))
                });
            }
        }
    }
}

/// Classify PATH entries for ops::check::path_findings.
fn path_entries(ctx: &Ctx) -> Vec<(String, PathKind)> {
    let masq = ctx.layout.masq_dir_host();
    ctx.vars
        .path_entries()
        .into_iter()
        .filter(|p| p.is_absolute())
        .map(|p| {
            let norm = fsio::normalize(&p);
            let kind = if norm == masq || norm == masq.join("bin") {
                PathKind::Masquerade
            } else if norm.components().any(|c| c.as_os_str() == "ccache") {
                PathKind::Ccache
            } else if ["gcc", "cc"].iter().any(|c| {
                let f = ctx.layout.reroot(&norm).join(c);
                fsio::is_executable(&f) && !leads_to_wrapper(&f)
            }) {
                PathKind::Compiler
            } else {
                PathKind::Other
            };
            (p.display().to_string(), kind)
        })
        .collect()
}

fn leads_to_wrapper(f: &Path) -> bool {
    fsio::real_name(f).is_some_and(|n| n == "distcc" || n == "ccache")
}

/// MAKEOPTS/MAKEFLAGS from the environment, make.conf and makepkg.conf.
fn jobs(ctx: &Ctx, slots: u32, out: &mut Vec<Finding>) -> Result<()> {
    let mut seen = false;
    for var in ["MAKEOPTS", "MAKEFLAGS"] {
        if let Some(v) = ctx.vars.get(var) {
            seen = true;
            out.push(check::jobs_finding(
                &format!("${var}"),
                check::make_jobs(v),
                slots,
            ));
        }
    }
    for (file, var) in [
        (ctx.layout.make_conf(), "MAKEOPTS"),
        (ctx.layout.makepkg_conf(), "MAKEFLAGS"),
    ] {
        if !fsio::is_file(&file) {
            continue;
        }
        let vals = shvars::values(&fsio::read(&file)?, &BTreeMap::new());
        let label = format!("{} {var}", file.display());
        seen = true;
        out.push(match vals.get(var) {
            Some(v) => check::jobs_finding(&label, check::make_jobs(v), slots),
            None => check::jobs_finding(&label, None, slots),
        });
    }
    if !seen {
        out.push(Finding::note(format!(
            "no MAKEOPTS or MAKEFLAGS found; use make -j{slots} or so for the {slots} host slots"
        )));
    }
    Ok(())
}

fn masquerade(ctx: &Ctx, out: &mut Vec<Finding>) -> Result<()> {
    let dir = ctx.layout.masq_dir();
    if !fsio::is_dir(&dir) {
        out.push(Finding::warning(format!(
            "{} does not exist: run distcc-config --update-masquerade",
            dir.display()
        )));
        return Ok(());
    }
    let plan = super::masquerade::compute_plan(ctx, Mode::All)?;
    out.push(if plan.ops.is_empty() {
        Finding::ok(format!("{}: links up to date", dir.display()))
    } else {
        Finding::warning(format!(
            "{}: {} link(s) to add, fix or remove: run distcc-config --update-masquerade",
            dir.display(),
            plan.ops.len()
        ))
    });
    Ok(())
}

/// `--check`.
pub fn run(ctx: &Ctx) -> Result<u8> {
    let mut f = Vec::new();
    let list = host_list(ctx, &mut f)?;
    if let Some(list) = &list {
        reachability(ctx, list, &mut f);
    }
    masquerade(ctx, &mut f)?;
    f.extend(check::path_findings(&path_entries(ctx)));
    let slots = list.as_ref().map_or(0, HostList::total_slots);
    if list.is_some() {
        jobs(ctx, slots, &mut f)?;
    }
    f.extend(super::allow::findings(ctx)?);
    f.extend(super::march::findings(ctx, false)?);
    for line in &f {
        say(line);
    }
    let summary = report::summary(&f);
    if report::has_problems(&f) {
        return Err(Failure::raw(summary));
    }
    say(summary);
    Ok(0)
}
