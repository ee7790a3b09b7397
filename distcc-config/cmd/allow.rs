//! `--check-allow`: gather distccd's options from the service settings of
//! each distribution and check them with ops::allow.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use super::{Ctx, say};
use crate::error::{Failure, Result};
use crate::fsio;
use crate::ops::allow;
use crate::ops::report::{self, Finding};
use crate::ops::shvars;

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

/// `Environment="A=b c" D=e` → [("A", "b c"), ("D", "e")] (systemd.exec).
fn environment_assignments(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut push = |cur: &mut String| {
        if let Some((k, v)) = cur.split_once('=') {
            out.push((k.to_owned(), v.to_owned()));
        }
        cur.clear();
    };
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => push(&mut cur),
            c => cur.push(c),
        }
    }
    push(&mut cur);
    out
}

/// Sources of distccd words: (label, words).
fn sources(ctx: &Ctx) -> Result<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    let confd = ctx.layout.confd();
    if let Some(text) = fsio::read_opt(&confd)? {
        let vals = shvars::values(&text, &BTreeMap::new());
        for var in ["DISTCCD_OPTS", "DISTCC_ARGS"] {
            if let Some(v) = vals.get(var) {
                let words = v.split_whitespace().map(str::to_owned).collect();
                out.push((format!("{} {var}", confd.display()), words));
            }
        }
    }
    for dir in ctx.layout.dropin_dirs() {
        let mut files = fsio::files_in(&dir);
        files.retain(|p| p.extension().is_some_and(|e| e == "conf"));
        for file in files {
            let text = fsio::read(&file)?;
            for line in text.lines() {
                let Some(rest) = line.trim().strip_prefix("Environment=") else {
                    continue;
                };
                for (k, v) in environment_assignments(rest) {
                    if k == "ALLOWED_SERVERS" {
                        let label = format!("{} ALLOWED_SERVERS", file.display());
                        out.push((label, allow::allowed_servers_words(&v)));
                    }
                }
            }
        }
    }
    let debian = ctx.layout.debian_default();
    if let Some(text) = fsio::read_opt(&debian)? {
        if let Some(v) = shvars::values(&text, &BTreeMap::new()).get("ALLOWEDNETS") {
            out.push((
                format!("{} ALLOWEDNETS", debian.display()),
                allow::allowednets_words(v),
            ));
        }
    }
    Ok(out)
}

/// Findings for every setting found (used by --check too).
pub fn findings(ctx: &Ctx) -> Result<Vec<Finding>> {
    let local = local_addresses();
    let mut out = Vec::new();
    for (label, words) in sources(ctx)? {
        out.extend(allow::check_words(&label, &words, &local));
    }
    if out.is_empty() {
        let where_ = |p: &Path| p.display().to_string();
        out.push(Finding::note(format!(
            "no distccd settings found ({}, {}/*.conf, {})",
            where_(&ctx.layout.confd()),
            where_(&ctx.layout.dropin_dirs()[0]),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_environment_lines() {
        assert_eq!(
            environment_assignments("\"ALLOWED_SERVERS=10.0.0.0/8 --allow 1.2.3.0/24\" X=y"),
            [
                (
                    "ALLOWED_SERVERS".to_owned(),
                    "10.0.0.0/8 --allow 1.2.3.0/24".to_owned()
                ),
                ("X".to_owned(), "y".to_owned())
            ]
        );
    }
}
