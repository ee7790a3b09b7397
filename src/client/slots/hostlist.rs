//! Where the host list comes from (spec §2.1): `$DISTCC_HOSTS`, else
//! `$DISTCC_DIR/hosts` (`~/.distcc/hosts`), else `/etc/distcc/hosts`; the
//! first readable one wins. Parsing is `crate::hosts::parse`, the same code
//! `distcc-config` validates with.

use std::path::{Path, PathBuf};

use tracing::warn;

use crate::env::Vars;
use crate::hosts::{self, HostError, HostErrorKind, HostList, Source};

/// Where system configuration lives.
pub const SYSCONFDIR: &str = "/etc";

/// A loaded list, or why there is none.
#[derive(Debug)]
pub enum Loaded {
    /// A list with at least one host.
    List {
        /// The hosts.
        list: HostList,
        /// Where it came from, for messages.
        origin: String,
    },
    /// No list anywhere, or one without hosts.
    Empty {
        /// Where the empty list came from, or what was tried.
        origin: String,
        /// What to tell the user: 3.4's warning (`$DISTCC_HOSTS contained
        /// no hosts; can't distribute work`, spec §3.16), then our detail.
        message: String,
    },
    /// A list that does not parse.
    Bad {
        /// The parser's complaint.
        error: HostError,
        /// Where the text came from.
        origin: String,
    },
}

/// Load and parse the host list; `--randomize` is applied with the pid as
/// seed (3.4 seeds with the pid too, so parallel jobs spread out).
pub fn load(vars: &Vars) -> Loaded {
    load_from(vars, Path::new(SYSCONFDIR))
}

/// [`load`] with another configuration root (tests).
pub fn load_from(vars: &Vars, sysconfdir: &Path) -> Loaded {
    let mut tried: Vec<PathBuf> = Vec::new();
    for source in hosts::sources(vars, sysconfdir) {
        let (text, origin) = match source {
            Source::Env(text) => (text, "$DISTCC_HOSTS".to_owned()),
            Source::File(path) => match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let origin = path.display().to_string();
                    (text, origin)
                }
                Err(_) => {
                    tried.push(path);
                    continue;
                }
            },
        };
        return match hosts::parse(&text) {
            Ok(mut list) => {
                if list.zeroconf {
                    // The list is read more than once per job: say it once.
                    static ONCE: std::sync::Once = std::sync::Once::new();
                    ONCE.call_once(|| warn!("{origin}: {ZEROCONF}"));
                }
                if list.randomize {
                    list.shuffle(u64::from(std::process::id()));
                }
                if list.hosts.is_empty() {
                    let detail = if list.zeroconf {
                        " (it has only +zeroconf, which this build does not support)"
                    } else {
                        ""
                    };
                    Loaded::Empty {
                        message: format!(
                            "{origin} contained no hosts; can't distribute work{detail}"
                        ),
                        origin,
                    }
                } else {
                    Loaded::List { list, origin }
                }
            }
            Err(e) if e.kind == HostErrorKind::NoHosts => Loaded::Empty {
                message: format!("{origin} contained no hosts; can't distribute work"),
                origin,
            },
            Err(error) => Loaded::Bad { error, origin },
        };
    }
    let places: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    let tried = format!(
        "$DISTCC_HOSTS is unset and {} cannot be read",
        places.join(" and ")
    );
    Loaded::Empty {
        message: format!("no hostlist is set; can't distribute work ({tried})"),
        origin: format!("none: {tried}"),
    }
}

/// What `+zeroconf` gets: 3.4 built with Avahi finds hosts through mDNS;
/// this build cannot, and says so rather than dropping the token in
/// silence (issue 11). The parser still records it (`HostList::zeroconf`)
/// for the day zeroconf is added.
pub const ZEROCONF: &str = "+zeroconf is not supported in this build of distcc (no zeroconf/mDNS host discovery); \
     ignoring it";
