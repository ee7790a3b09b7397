//! The `--allow` decision (spec §4.3): pure, no I/O.
//!
//! distccd checks every peer against its access list before it reads a
//! byte. This module owns the rules:
//!
//! * `ADDR[/BITS]` parsing: BITS is 0..32 for IPv4, 0..128 for IPv6;
//!   host bits in ADDR are ignored (`192.168.1.7/24` allows the /24), as
//!   3.4 does by masking. Host names are resolved by the caller (the
//!   daemon's config layer), since resolving is I/O.
//! * IPv4-mapped IPv6 peers (`::ffff:a.b.c.d`, what a dual-stack socket
//!   reports for IPv4 clients) are compared with IPv4 entries, and IPv4
//!   peers with `::ffff:0:0/96`-style entries. 3.4 byte-swaps the mapped
//!   address on little-endian hosts, so its matches are unreliable there
//!   (spec §4.3); we fix that on purpose.
//! * No `--allow` at all: 3.4 logs "Defaulting to --allow-private" but then
//!   serves everybody (spec §4.2 step 3, §6.5). We really apply the private
//!   ranges, *including* `::1`, which 3.4's table lists but skips.
//! * Peers with no IP address (pipes for ssh, Unix sockets) are allowed,
//!   as in 3.4: whoever can reach those already runs commands here.

use std::fmt;
// core::net: the address types are plain data (the pure core does no I/O).
use core::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// The ranges of `--allow-private` (spec §4.1), plus `::1/128`.
pub const PRIVATE_RANGES: [&str; 7] = [
    "192.168.0.0/16",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "127.0.0.0/8",
    "fe80::/10",
    "fc00::/7",
    "::1/128",
];

/// The ranges `--allow-private` adds (and the default when there is no
/// `--allow`).
pub fn private_ranges() -> Vec<IpNet> {
    PRIVATE_RANGES
        .iter()
        .map(|r| r.parse().expect("valid built-in range"))
        .collect()
}

/// One `--allow` argument, split but not yet resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowSpec {
    /// An address literal with an optional prefix length.
    Net(IpNet),
    /// A host name with an optional prefix length: the caller resolves it
    /// and calls [`net_for`] for each address.
    Host {
        /// The name as given.
        name: String,
        /// The `/BITS` part, if any.
        bits: Option<u8>,
    },
}

/// Why an `--allow` argument is unusable (distccd exits 101 on it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowError {
    /// The argument as given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for AllowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad --allow value {:?}: {}", self.text, self.reason)
    }
}

impl std::error::Error for AllowError {}

/// Parse `ADDR[/BITS]` (spec §4.1). `[v6addr]` brackets are accepted.
pub fn parse_allow(text: &str) -> Result<AllowSpec, AllowError> {
    let err = |reason: &str| AllowError {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let (addr, bits) = match text.rsplit_once('/') {
        Some((a, b)) => {
            let bits: u8 = b
                .parse()
                .map_err(|_| err("the part after '/' must be a number of bits"))?;
            (a, Some(bits))
        }
        None => (text, None),
    };
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    if addr.is_empty() {
        return Err(err("no address"));
    }
    if let Ok(ip) = addr.parse::<IpAddr>() {
        return net_for(ip, bits).map(AllowSpec::Net).map_err(|r| err(&r));
    }
    let host_ok = addr
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    // A name needs a letter: `300.1.1.1` or `10.0.0` is a mistyped
    // address, not a host to look up in DNS.
    if !host_ok || !addr.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Err(err("not an IP address or host name"));
    }
    if let Some(b) = bits {
        if b > 128 {
            return Err(err("prefix length above 128"));
        }
    }
    Ok(AllowSpec::Host {
        name: addr.to_string(),
        bits,
    })
}

/// The network of `addr` with `bits` (default: the whole address), host
/// bits cleared. `Err` says why the prefix length is out of range.
pub fn net_for(addr: IpAddr, bits: Option<u8>) -> Result<IpNet, String> {
    let net = match addr {
        IpAddr::V4(a) => {
            let b = bits.unwrap_or(32);
            Ipv4Net::new(a, b)
                .map(IpNet::V4)
                .map_err(|_| format!("prefix length {b} above 32 for an IPv4 address"))?
        }
        IpAddr::V6(a) => {
            let b = bits.unwrap_or(128);
            Ipv6Net::new(a, b)
                .map(IpNet::V6)
                .map_err(|_| format!("prefix length {b} above 128 for an IPv6 address"))?
        }
    };
    Ok(net.trunc())
}

/// The access list the daemon applies to every connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessList {
    nets: Vec<IpNet>,
    defaulted: bool,
}

impl AccessList {
    /// The list from `--allow` / `--allow-private`. With no entries at all
    /// it falls back to the private ranges ([`AccessList::is_default`] then
    /// says so, for the start-up log line).
    pub fn new(nets: Vec<IpNet>) -> Self {
        if nets.is_empty() {
            Self {
                nets: private_ranges(),
                defaulted: true,
            }
        } else {
            Self {
                nets,
                defaulted: false,
            }
        }
    }

    /// Whether no `--allow` was given and the private ranges apply.
    pub fn is_default(&self) -> bool {
        self.defaulted
    }

    /// The entries, in the order they are tried.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }

    /// Whether a peer may connect. `None` is a peer without an IP address
    /// (pipe or Unix socket): allowed, as in 3.4.
    pub fn allows(&self, peer: Option<IpAddr>) -> bool {
        let Some(peer) = peer else { return true };
        let forms = peer_forms(peer);
        self.nets
            .iter()
            .any(|net| forms.iter().flatten().any(|ip| net.contains(ip)))
    }
}

/// The forms a peer address can be compared in: itself, plus its IPv4
/// form when it is IPv4-mapped, or its mapped IPv6 form when it is IPv4.
fn peer_forms(peer: IpAddr) -> [Option<IpAddr>; 2] {
    match peer {
        IpAddr::V4(v4) => [Some(peer), Some(IpAddr::V6(v4.to_ipv6_mapped()))],
        IpAddr::V6(v6) => [Some(peer), v6.to_ipv4_mapped().map(IpAddr::V4)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AccessList {
        AccessList::new(
            entries
                .iter()
                .map(|e| match parse_allow(e).unwrap() {
                    AllowSpec::Net(n) => n,
                    other => panic!("not a literal: {other:?}"),
                })
                .collect(),
        )
    }

    #[track_caller]
    fn check(acl: &AccessList, peer: &str, want: bool) {
        let ip: IpAddr = peer.parse().unwrap();
        assert_eq!(
            acl.allows(Some(ip)),
            want,
            "peer {peer} with {:?}",
            acl.nets()
        );
    }

    const CASES: &[(&[&str], &str, bool)] = &[
        (&["127.0.0.1"], "127.0.0.1", true),
        (&["127.0.0.1"], "127.0.0.2", false),
        (&["192.168.1.7/24"], "192.168.1.200", true),
        (&["192.168.1.0/24"], "192.168.2.1", false),
        (&["0.0.0.0/0"], "8.8.8.8", true),
        (&["10.0.0.0/8"], "::ffff:10.1.2.3", true),
        (&["10.0.0.0/8"], "::ffff:11.1.2.3", false),
        (&["::ffff:10.0.0.0/104"], "10.9.9.9", true),
        (&["::1"], "::1", true),
        (&["::1"], "127.0.0.1", false),
        (&["2001:db8::/32"], "2001:db8:1::5", true),
        (&["2001:db8::/32"], "2001:db9::5", false),
        (&["[fe80::]/10"], "fe80::1", true),
        (&["10.0.0.0/8", "127.0.0.1/32"], "127.0.0.1", true),
    ];

    #[test]
    fn allow_table() {
        for (entries, peer, want) in CASES {
            check(&list(entries), peer, *want);
        }
    }

    #[test]
    fn no_allow_really_applies_private_ranges_including_ipv6_loopback() {
        let acl = AccessList::new(Vec::new());
        assert!(acl.is_default());
        for peer in [
            "127.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "10.1.1.1",
            "192.168.3.4",
        ] {
            check(&acl, peer, true);
        }
        for peer in ["172.15.0.1", "8.8.8.8", "2001:db8::1", "::ffff:8.8.8.8"] {
            check(&acl, peer, false);
        }
    }

    #[test]
    fn peers_without_an_address_are_allowed() {
        assert!(list(&["10.0.0.1"]).allows(None));
    }

    #[test]
    fn bad_prefixes_are_refused() {
        for bad in [
            "10.0.0.0/33",
            "::1/129",
            "1.2.3.4/x",
            "",
            "/8",
            "a b",
            "1.2.3.4/-1",
            "300.1.1.1",
            "10.0.0",
        ] {
            assert!(parse_allow(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn host_names_are_left_to_the_caller() {
        assert_eq!(
            parse_allow("build-host.lan/24"),
            Ok(AllowSpec::Host {
                name: "build-host.lan".into(),
                bits: Some(24)
            })
        );
    }
}
