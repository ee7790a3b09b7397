//! Where the host list comes from (spec §2.1): `$DISTCC_HOSTS`, else
//! `$DISTCC_DIR/hosts` (`~/.distcc/hosts`), else `/etc/distcc/hosts`; the
//! first readable one wins. Parsing is `crate::hosts::parse`, the same code
//! `distcc-config` validates with.
//!
//! "Readable" is 3.4's `access(R_OK)`: a file that is missing, or that we
//! may not read, is passed over; one that passes and still cannot be read
//! (a directory: `failed to read .../hosts: Is a directory`) ends the
//! search, and the job compiles locally as 3.4's does ([`Loaded::Unreadable`]).

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
    /// A list that passed 3.4's `access(R_OK)` but could not be read (a
    /// directory): 3.4 stops there rather than read the next place.
    Unreadable {
        /// The path.
        origin: String,
        /// 3.4's words: `failed to read PATH: Is a directory`.
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
                Err(e) => {
                    // Our figures' old directory where 3.4 reads its
                    // list: cleared away if it holds nothing else.
                    if e.kind() == std::io::ErrorKind::IsADirectory {
                        if let Some(top) = vars.distcc_dir().filter(|d| path.parent() == Some(d)) {
                            super::oldfigures::clear(&top);
                        }
                    }
                    if nix::unistd::access(&path, nix::unistd::AccessFlags::R_OK).is_ok() {
                        let origin = path.display().to_string();
                        return Loaded::Unreadable {
                            message: format!(
                                "failed to read {origin}: {}",
                                crate::logging::os_error_text(&e)
                            ),
                            origin,
                        };
                    }
                    tried.push(path);
                    continue;
                }
            },
        };
        return match hosts::parse(&text) {
            Ok(mut list) => {
                if list.zeroconf {
                    add_zeroconf(vars, &mut list, &origin);
                }
                if list.randomize {
                    list.shuffle(u64::from(std::process::id()));
                }
                if list.hosts.is_empty() {
                    let detail = if list.zeroconf {
                        " (+zeroconf found no distccd announcing itself)"
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

/// `+zeroconf`: splice the daemons found by mDNS (through the cache in
/// `$DISTCC_DIR/zeroconf`, see [`crate::zeroconf::cache`]) in at the
/// token's place, as 3.4 does. A failure to look is a warning: the hosts
/// written beside `+zeroconf` still serve.
fn add_zeroconf(vars: &Vars, list: &mut HostList, origin: &str) {
    let text = match crate::zeroconf::cache::hosts_text(vars) {
        Ok(text) => text,
        Err(e) => {
            warn!("{origin}: +zeroconf: {e}");
            return;
        }
    };
    let found = match hosts::parse(&text) {
        Ok(found) => found.hosts,
        Err(e) if e.kind == HostErrorKind::NoHosts => Vec::new(),
        Err(e) => {
            warn!("{origin}: +zeroconf: the cached list does not parse: {e}");
            return;
        }
    };
    let at = list.zeroconf_at.min(list.hosts.len());
    list.hosts.splice(at..at, found);
}
