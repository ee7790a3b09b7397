//! `--check-allow`: gather the options distccd really gets from each
//! service manager (OpenRC's and Arch's /etc/conf.d/distccd, the systemd
//! unit with its drop-ins and EnvironmentFile, xinetd, Debian's defaults)
//! and check them with ops::allow.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::{Ctx, say};
use crate::error::{Failure, Result};
use crate::fsio;
use crate::ops::allow;
use crate::ops::report::{self, Finding};
use crate::ops::services::{self, UnitFile};
use crate::ops::shvars;
use crate::paths::Distro;

/// This host's addresses (for `--listen`).
pub fn local_addresses() -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = vec!["127.0.0.1".parse().expect("ip"), "::1".parse().expect("ip")];
    if let Ok(addrs) = nix::ifaddrs::getifaddrs() {
        for ifa in addrs {
            let Some(a) = ifa.address else { continue };
            if let Some(v4) = a.as_sockaddr_in() {
                out.push(IpAddr::V4(v4.ip()));
            } else if let Some(v6) = a.as_sockaddr_in6() {
                out.push(IpAddr::V6(v6.ip()));
            }
        }
    }
    out
}

/// The unit files systemd would read for distccd.service: the first unit
/// found, then the drop-ins by file name (a name in /etc hides the same
/// name in /usr/lib).
fn unit_files(ctx: &Ctx) -> Result<Vec<UnitFile>> {
    let mut out = Vec::new();
    for path in ctx.layout.units() {
        if let Some(text) = fsio::read_opt(&path)? {
            // Masked (a link to /dev/null): no unit.
            if !text.trim().is_empty() {
                out.push(UnitFile {
                    label: path.display().to_string(),
                    text,
                });
            }
            break;
        }
    }
    let mut dropins: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in ctx.layout.dropin_dirs() {
        for file in fsio::files_in(&dir) {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            if let Some(name) = name.filter(|n| n.ends_with(".conf")) {
                dropins.entry(name).or_insert(file);
            }
        }
    }
    for path in dropins.into_values() {
        out.push(UnitFile {
            label: path.display().to_string(),
            text: fsio::read(&path)?,
        });
    }
    Ok(out)
}

/// Where distccd's words come from, and the words.
type Setting = (String, Vec<String>);

/// What distccd.service runs, and the conf.d variables its command line
/// took (checked here, not again on their own).
fn systemd(ctx: &Ctx) -> Result<(Option<Setting>, BTreeSet<String>)> {
    let mut consumed = BTreeSet::new();
    let files = unit_files(ctx)?;
    let svc = services::merge(&files);
    let Some((command, from)) = svc.exec_start else {
        // Drop-ins without a unit: Gentoo's, whose ExecStart pastes
        // ALLOWED_SERVERS after --allow.
        let found = svc.environment.get("ALLOWED_SERVERS").map(|(v, file)| {
            (
                format!("{file} ALLOWED_SERVERS"),
                allow::allowed_servers_words(v),
            )
        });
        return Ok((found, consumed));
    };
    // systemd.exec(5): EnvironmentFile= settings override Environment=.
    let mut env: BTreeMap<String, (String, String)> = svc.environment.clone();
    for file in &svc.environment_files {
        let path = ctx.layout.reroot(Path::new(file));
        if let Some(text) = fsio::read_opt(&path)? {
            for (k, v) in shvars::values(&text, &BTreeMap::new()) {
                env.insert(k, (v, path.display().to_string()));
            }
        }
    }
    let values = env
        .iter()
        .map(|(k, (v, _))| (k.clone(), v.clone()))
        .collect();
    let (words, used) = services::command_words(&command, &values);
    let mut label = format!("{from} ExecStart");
    for var in used {
        match env.get(&var) {
            Some((_, file)) if *file != from => {
                label += &format!(" with {var} from {file}");
                if Path::new(file) == ctx.layout.confd() {
                    consumed.insert(var);
                }
            }
            Some(_) => {}
            None => {
                let files: Vec<String> = svc
                    .environment_files
                    .iter()
                    .map(|f| ctx.layout.reroot(Path::new(f)).display().to_string())
                    .collect();
                label += &format!(
                    " ({var} is not set{}: commented out?)",
                    if files.is_empty() {
                        String::new()
                    } else {
                        format!(" in {}", files.join(", "))
                    }
                );
                if files.iter().any(|f| Path::new(f) == ctx.layout.confd()) {
                    consumed.insert(var);
                }
            }
        }
    }
    Ok((Some((label, words)), consumed))
}

/// Findings for every setting found (used by --check too).
pub fn findings(ctx: &Ctx) -> Result<Vec<Finding>> {
    let local = local_addresses();
    let mut out = Vec::new();
    // check_words always says something: no finding means no setting.
    let check = |label: &str, words: &[String], out: &mut Vec<Finding>| {
        out.extend(allow::check_words(label, words, &local));
    };
    let (unit, consumed) = systemd(ctx)?;
    if let Some((label, words)) = unit {
        check(&label, &words, &mut out);
    }
    let confd = ctx.layout.confd();
    if let Some(text) = fsio::read_opt(&confd)? {
        let vals = shvars::values(&text, &BTreeMap::new());
        let mut any = !consumed.is_empty();
        for var in ["DISTCCD_OPTS", "DISTCC_ARGS"] {
            if let (Some(v), false) = (vals.get(var), consumed.contains(var)) {
                any = true;
                let words: Vec<String> = v.split_whitespace().map(str::to_owned).collect();
                check(&format!("{} {var}", confd.display()), &words, &mut out);
            }
        }
        if !any {
            // Arch's conf.d with its DISTCC_ARGS line commented out:
            // distccd.service then runs distccd without --allow.
            let var = match ctx.distro {
                Distro::Arch => "DISTCC_ARGS",
                Distro::Gentoo => "DISTCCD_OPTS",
                Distro::Debian | Distro::Other => "DISTCCD_OPTS or DISTCC_ARGS",
            };
            out.push(Finding::problem(format!(
                "{}: {var} is not set (commented out?): distccd gets no --allow from it",
                confd.display()
            )));
        }
    }
    let xinetd = ctx.layout.xinetd();
    if let Some((words, disabled)) =
        fsio::read_opt(&xinetd)?.and_then(|t| services::xinetd_args(&t))
    {
        let state = if disabled { " (service disabled)" } else { "" };
        check(
            &format!("{} server_args{state}", xinetd.display()),
            &words,
            &mut out,
        );
    }
    let debian = ctx.layout.debian_default();
    if let Some(text) = fsio::read_opt(&debian)? {
        if let Some(v) = shvars::values(&text, &BTreeMap::new()).get("ALLOWEDNETS") {
            let label = format!("{} ALLOWEDNETS", debian.display());
            check(&label, &allow::allowednets_words(v), &mut out);
        }
    }
    if out.is_empty() {
        let where_ = |p: &Path| p.display().to_string();
        out.push(Finding::note(format!(
            "no distccd settings found ({}, {}, {}/*.conf, {}, {})",
            where_(&ctx.layout.confd()),
            where_(&ctx.layout.units()[1]),
            where_(&ctx.layout.dropin_dirs()[0]),
            where_(&xinetd),
            where_(&ctx.layout.debian_default())
        )));
    }
    Ok(out)
}

/// `--check-allow`.
pub fn run(ctx: &Ctx) -> Result<u8> {
    let f = findings(ctx)?;
    for line in &f {
        say(line);
    }
    if report::has_problems(&f) {
        return Err(Failure::raw(report::summary(&f)));
    }
    Ok(0)
}
