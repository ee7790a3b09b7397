//! `--allow` validation for distccd's service settings (issue #4): the
//! words distccd will get from Gentoo's `DISTCCD_OPTS` (/etc/conf.d/distccd,
//! OpenRC), Arch's `DISTCC_ARGS` (same file, systemd EnvironmentFile),
//! Gentoo's systemd drop-in `ALLOWED_SERVERS` (pasted after `--allow`) and
//! Debian's `ALLOWEDNETS`. Pure: local addresses are passed in.

// core::net: the address type only, no sockets.
use core::net::IpAddr;

use distcc::access::{self, AllowSpec};
use ipnet::IpNet;

use super::report::Finding;

/// distccd options that take a value (spec §4.1), so their values are not
/// mistaken for stray words.
const WITH_VALUE: &[&str] = &[
    "-a",
    "--allow",
    "--listen",
    "-j",
    "--jobs",
    "-N",
    "--nice",
    "-p",
    "--port",
    "-P",
    "--pid-file",
    "--user",
    "--log-file",
    "--log-level",
    "--lifetime",
    "--job-lifetime",
    "--stats-port",
    "--blacklist",
    "--whitelist",
];

/// What one `--allow` value means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowValue {
    Net(IpNet),
    /// A host name: distccd resolves it; we cannot judge it here.
    Name(String),
}

/// Parse `ADDR[/BITS]` with distccd's own parser ([`access::parse_allow`]).
/// One rule is stricter than distccd's: host bits set (`192.168.1.5/24`)
/// are an error here, because the author almost surely meant the network
/// and distccd would silently widen it.
pub fn parse_allow(value: &str) -> Result<AllowValue, String> {
    match access::parse_allow(value).map_err(|e| format!("{value:?}: {}", e.reason))? {
        AllowSpec::Host { name, .. } => Ok(AllowValue::Name(name)),
        AllowSpec::Net(net) => {
            let addr = value.rsplit_once('/').map_or(value, |(a, _)| a);
            let addr = addr.trim_start_matches('[').trim_end_matches(']');
            match addr.parse::<IpAddr>() {
                Ok(ip) if ip != net.network() => Err(format!(
                    "{value:?} has host bits set: did you mean {}/{}?",
                    net.network(),
                    net.prefix_len()
                )),
                _ => Ok(AllowValue::Net(net)),
            }
        }
    }
}

/// Whether every address of `net` is private, loopback or link-local:
/// distccd's private ranges plus IPv4 link-local and carrier-grade NAT,
/// which are not reachable from the Internet either.
fn is_private(net: &IpNet) -> bool {
    let extra = ["169.254.0.0/16", "100.64.0.0/10"].map(|s| s.parse().expect("constant network"));
    access::private_ranges()
        .iter()
        .chain(extra.iter())
        .any(|p: &IpNet| p.contains(net))
}

/// Check the words distccd gets from one setting. `label` says where they
/// come from; `local` are this host's addresses (for `--listen`).
pub fn check_words(label: &str, words: &[String], local: &[IpAddr]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut allows = 0;
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        let (opt, inline) = match word.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o, Some(v.to_owned())),
            _ => (word, None),
        };
        let takes_value = WITH_VALUE.contains(&opt);
        let value = match (takes_value, inline) {
            (true, Some(v)) => Some(v),
            (true, None) => {
                i += 1;
                words.get(i).cloned()
            }
            _ => None,
        };
        match opt {
            "-a" | "--allow" => {
                allows += 1;
                match value {
                    None => out.push(Finding::problem(format!(
                        "{label}: --allow without a value"
                    ))),
                    Some(v) => out.push(judge_allow(label, &v)),
                }
            }
            "--allow-private" => {
                allows += 1;
                out.push(Finding::ok(format!(
                    "{label}: --allow-private (private networks only)"
                )));
            }
            "--listen" => match value.as_deref().map(str::parse::<IpAddr>) {
                None => out.push(Finding::problem(format!(
                    "{label}: --listen without a value"
                ))),
                Some(Ok(ip)) if ip.is_unspecified() || local.contains(&ip) => {
                    out.push(Finding::ok(format!(
                        "{label}: --listen {ip} is an address of this host"
                    )));
                }
                Some(Ok(ip)) => out.push(Finding::problem(format!(
                    "{label}: --listen {ip} is not an address of this host: distccd cannot bind it"
                ))),
                Some(Err(_)) => out.push(Finding::warning(format!(
                    "{label}: --listen {:?} is not an IP address; cannot check it",
                    value.unwrap_or_default()
                ))),
            },
            "--enable-tcp-insecure" | "--make-me-a-botnet" => out.push(Finding::problem(format!(
                "{label}: {opt} turns the compiler whitelist off: every client allowed to \
                 connect can make distccd run any program (CVE-2004-2687)"
            ))),
            _ if !word.starts_with('-') => out.push(Finding::problem(format!(
                "{label}: {word:?} is not an option: distccd would refuse to start \
                 (for more networks write --allow before each one)"
            ))),
            _ => {}
        }
        i += 1;
    }
    if allows == 0 {
        out.push(Finding::problem(format!(
            "{label}: no --allow: distcc 3.4's distccd then serves every client that can reach it"
        )));
    }
    out
}

fn judge_allow(label: &str, value: &str) -> Finding {
    match parse_allow(value) {
        Err(e) => Finding::problem(format!("{label}: --allow {e}")),
        Ok(AllowValue::Name(n)) => Finding::note(format!(
            "{label}: --allow {n} is a host name: distccd allows the addresses it resolves to"
        )),
        Ok(AllowValue::Net(net)) if net.prefix_len() == 0 => Finding::problem(format!(
            "{label}: --allow {net} lets the whole Internet run compilers on this host"
        )),
        Ok(AllowValue::Net(net)) if is_private(&net) => {
            Finding::ok(format!("{label}: --allow {net}"))
        }
        Ok(AllowValue::Net(net))
            if net.prefix_len() < if net.addr().is_ipv4() { 8 } else { 16 } =>
        {
            Finding::problem(format!(
                "{label}: --allow {net} is a huge range: it is open to much of the world"
            ))
        }
        Ok(AllowValue::Net(net)) => Finding::warning(format!(
            "{label}: --allow {net} includes public addresses: anyone there can run compilers here"
        )),
    }
}

/// Debian's /etc/default/distcc `ALLOWEDNETS="net net ..."` → words.
pub fn allowednets_words(value: &str) -> Vec<String> {
    value
        .split_whitespace()
        .flat_map(|n| ["--allow".to_owned(), n.to_owned()])
        .collect()
}

/// Gentoo's systemd `ExecStart=... --allow $ALLOWED_SERVERS` → words.
pub fn allowed_servers_words(value: &str) -> Vec<String> {
    std::iter::once("--allow".to_owned())
        .chain(value.split_whitespace().map(str::to_owned))
        .collect()
}

#[cfg(test)]
#[path = "allow_tests.rs"]
mod tests;
