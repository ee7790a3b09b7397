//! What goes on the air and what comes back, without the air: the
//! DNS-SD names distcc 3.4 uses, the TXT record a daemon publishes, and
//! the host-list line a client makes of a service it found.
//!
//! 3.4 (built with Avahi) registers `_distcc._tcp` with one subtype made
//! from the daemon's `cc -dumpmachine` and `cc -dumpversion`, and its
//! clients browse only that subtype: a client finds just the daemons whose
//! default compiler matches its own. We publish and browse the same names,
//! so 3.4's clients find our daemons and ours find 3.4's.

use core::net::IpAddr;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// 3.4's service type.
pub const SERVICE_TYPE: &str = "_distcc._tcp";
/// The only domain mDNS knows.
pub const DOMAIN: &str = "local.";
/// Version of our TXT layout (3.4 publishes `txtvers=1`; our keys are
/// added beside its keys, so the number stays).
pub const TXT_VERSION: &str = "1";
/// Slots 3.4 gives a service whose TXT has no usable `jobs` and no `cpus`.
pub const DEFAULT_JOBS: u32 = 4;

/// 3.4's subtype label for a compiler: `_<machine>--<version>`, where
/// every character that is not a letter or digit becomes `-` and letters
/// are lower-cased (`x86_64-linux-gnu`, `12` → `_x86-64-linux-gnu--12`).
pub fn subtype_label(machine: &str, version: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!("_{}--{}", clean(machine), clean(version))
}

/// The full name to browse or register: `_distcc._tcp.local.`, or with a
/// compiler, `<subtype>._sub._distcc._tcp.local.`.
pub fn service_name(compiler: Option<(&str, &str)>) -> String {
    match compiler {
        Some((machine, version)) => format!(
            "{}._sub.{SERVICE_TYPE}.{DOMAIN}",
            subtype_label(machine, version)
        ),
        None => format!("{SERVICE_TYPE}.{DOMAIN}"),
    }
}

/// 3.4's instance name, `distcc@<hostname>`: one per host, so a host seen
/// on two interfaces counts once.
pub fn instance_name(hostname: &str) -> String {
    format!("distcc@{hostname}")
}

/// What a daemon tells the network about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advert {
    /// Processors of the machine (3.4's `cpus`).
    pub cpus: u32,
    /// Job slots, `--jobs` (3.4's `jobs`: clients use it as `/N`).
    pub jobs: u32,
    /// `cc -dumpmachine` (3.4's `gnuhost`).
    pub machine: String,
    /// Our version (3.4 puts its own in `distcc`; ours is in `distcc-rs`,
    /// and `distcc` stays the protocol level 3.4 speaks, `3.4`).
    pub version: String,
    /// Protocol versions served (ours: 1, 2 and 3).
    pub protocols: Vec<u32>,
    /// Compiler names the daemon can run (what `PATH` or the whitelist
    /// has), comma-separated in the record; clipped to fit one TXT string.
    pub compilers: Vec<String>,
}

/// Largest `key=value` string a TXT record holds.
const TXT_STRING_MAX: usize = 255;

impl Advert {
    /// The TXT pairs: 3.4's keys first (`txtvers`, `cpus`, `jobs`,
    /// `distcc`, `gnuhost`), then ours.
    pub fn txt(&self) -> Vec<(String, String)> {
        let protocols: Vec<String> = self.protocols.iter().map(u32::to_string).collect();
        let mut compilers = String::new();
        let room = TXT_STRING_MAX - "compilers=".len();
        for c in &self.compilers {
            let extra = usize::from(!compilers.is_empty()) + c.len();
            if compilers.len() + extra > room {
                break;
            }
            if !compilers.is_empty() {
                compilers.push(',');
            }
            compilers.push_str(c);
        }
        vec![
            ("txtvers".into(), TXT_VERSION.into()),
            ("cpus".into(), self.cpus.to_string()),
            ("jobs".into(), self.jobs.to_string()),
            ("distcc".into(), crate::version::COMPAT_VERSION.into()),
            ("gnuhost".into(), self.machine.clone()),
            ("distcc-rs".into(), self.version.clone()),
            ("protocols".into(), protocols.join(",")),
            // The protocol extension our client and daemon negotiate
            // (issue 12), by its version.
            ("ext".into(), crate::protocol::ext::VERSION.to_string()),
            ("compilers".into(), compilers),
        ]
    }
}

/// A service found on the network, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The instance name (`distcc@host`).
    pub name: String,
    /// Its addresses.
    pub addrs: Vec<IpAddr>,
    /// The SRV port.
    pub port: u16,
    /// The TXT pairs.
    pub txt: BTreeMap<String, String>,
}

impl Seen {
    /// Job slots: the TXT `jobs`, else four per `cpus` (3.4's rule), else 4.
    pub fn slots(&self) -> u32 {
        let number = |k: &str| {
            self.txt
                .get(k)
                .and_then(|v| v.trim().parse::<u32>().ok())
                .filter(|&n| n > 0)
        };
        number("jobs")
            .or_else(|| number("cpus").map(|c| c.saturating_mul(4)))
            .unwrap_or(DEFAULT_JOBS)
    }

    /// The address to use: IPv4 first (no scope needed), then a global
    /// IPv6 address; link-local IPv6 needs an interface a host list cannot
    /// name, so it is never used.
    pub fn address(&self) -> Option<IpAddr> {
        let mut v4: Vec<IpAddr> = self.addrs.iter().copied().filter(IpAddr::is_ipv4).collect();
        v4.sort();
        let mut v6: Vec<IpAddr> = self
            .addrs
            .iter()
            .copied()
            .filter(|a| match a {
                IpAddr::V6(a) => !a.is_loopback() && (a.segments()[0] & 0xffc0) != 0xfe80,
                IpAddr::V4(_) => false,
            })
            .collect();
        v6.sort();
        v4.into_iter().chain(v6).next()
    }

    /// Whether the daemon is ours (it publishes `distcc-rs`).
    pub fn is_ours(&self) -> bool {
        self.txt.contains_key("distcc-rs")
    }

    /// Protocols the daemon says it serves; 3.4's daemons say nothing and
    /// are taken at protocol 1, as 3.4's client takes them.
    pub fn protocols(&self) -> Vec<u32> {
        self.txt
            .get("protocols")
            .map(|p| p.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![1])
    }

    /// The host-list line for this service: 3.4's `addr:port/N`
    /// (`[v6]:port/N`), plus `,lzo` when the daemon says it serves
    /// protocol 2, which only ours say. `None` without a usable address.
    pub fn host_line(&self) -> Option<String> {
        let addr = self.address()?;
        let mut line = match addr {
            IpAddr::V4(a) => format!("{a}:{}/{}", self.port, self.slots()),
            IpAddr::V6(a) => format!("[{a}]:{}/{}", self.port, self.slots()),
        };
        if self.protocols().contains(&2) {
            line.push_str(",lzo");
        }
        Some(line)
    }
}

/// The cache file's text: a comment saying what it is, then one host line
/// per service, sorted by name so the order is stable between refreshes.
/// The lines are a host list, read by the same parser as `DISTCC_HOSTS`
/// (3.4's file has only the lines; its parser skips `#` comments too).
pub fn render_cache(seen: &[Seen]) -> String {
    let mut sorted: Vec<&Seen> = seen.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out =
        String::from("# distcc daemons found by mDNS (+zeroconf); rewritten on refresh\n");
    let mut names = std::collections::BTreeSet::new();
    for s in sorted {
        if !names.insert(&s.name) {
            continue;
        }
        if let Some(line) = s.host_line() {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(txt: &[(&str, &str)], addrs: &[&str]) -> Seen {
        Seen {
            name: "distcc@a".into(),
            addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
            port: 3632,
            txt: txt
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn subtype_is_3_4s() {
        assert_eq!(
            subtype_label("x86_64-linux-gnu", "12"),
            "_x86-64-linux-gnu--12"
        );
        assert_eq!(subtype_label("ARM.Gnu", "4.9.2"), "_arm-gnu--4-9-2");
        assert_eq!(
            service_name(Some(("x86_64-linux-gnu", "12"))),
            "_x86-64-linux-gnu--12._sub._distcc._tcp.local."
        );
        assert_eq!(service_name(None), "_distcc._tcp.local.");
    }

    #[test]
    fn slots_follow_jobs_then_cpus() {
        assert_eq!(seen(&[("jobs", "7"), ("cpus", "2")], &[]).slots(), 7);
        assert_eq!(seen(&[("jobs", "0"), ("cpus", "2")], &[]).slots(), 8);
        assert_eq!(seen(&[("cpus", "3")], &[]).slots(), 12);
        assert_eq!(seen(&[], &[]).slots(), 4);
    }

    #[test]
    fn lines_for_3_4_and_ours() {
        let theirs = seen(&[("jobs", "3")], &["fe80::1", "10.0.0.2"]);
        assert_eq!(theirs.host_line().unwrap(), "10.0.0.2:3632/3");
        let ours = seen(
            &[
                ("jobs", "5"),
                ("protocols", "1,2,3"),
                ("distcc-rs", "0.1.0"),
            ],
            &["2001:db8::5"],
        );
        assert_eq!(ours.host_line().unwrap(), "[2001:db8::5]:3632/5,lzo");
        assert!(seen(&[], &["fe80::1"]).host_line().is_none());
    }

    #[test]
    fn cache_lists_each_name_once_sorted_and_parses() {
        let mut b = seen(&[("jobs", "2")], &["10.0.0.3"]);
        b.name = "distcc@b".into();
        let a = seen(&[("jobs", "1")], &["10.0.0.2"]);
        let text = render_cache(&[b.clone(), a, b]);
        let list = crate::hosts::parse(&text).unwrap();
        let hosts: Vec<&str> = list.hosts.iter().map(|h| h.text.as_str()).collect();
        assert_eq!(hosts, ["10.0.0.2:3632/1", "10.0.0.3:3632/2"]);
    }

    #[test]
    fn txt_keeps_3_4s_keys_and_fits() {
        let advert = Advert {
            cpus: 2,
            jobs: 4,
            machine: "x86_64-linux-gnu".into(),
            version: "0.1.0".into(),
            protocols: vec![1, 2, 3],
            compilers: (0..100).map(|i| format!("gcc-{i}")).collect(),
        };
        let txt = advert.txt();
        let keys: Vec<&str> = txt.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(&keys[..5], ["txtvers", "cpus", "jobs", "distcc", "gnuhost"]);
        assert!(txt.iter().all(|(k, v)| k.len() + 1 + v.len() <= 255));
        assert!(txt.iter().any(|(k, v)| k == "protocols" && v == "1,2,3"));
        assert!(txt.iter().any(|(k, _)| k == "ext"));
    }
}
