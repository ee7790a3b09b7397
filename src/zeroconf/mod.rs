//! Zeroconf: `distccd --zeroconf` announces the daemon by mDNS/DNS-SD and
//! `+zeroconf` in a host list adds the daemons found that way, under
//! distcc 3.4's service type and subtype so that 3.4's clients and
//! daemons (built with Avahi) and ours find each other.
//!
//! * [`records`]: names, TXT records and host lines (pure);
//! * [`mdns`]: announcing and browsing (the `mdns-sd` crate);
//! * [`cache`]: `$DISTCC_DIR/zeroconf/hosts`, refreshed by one client at
//!   a time so that compiles do not each wait for the network;
//! * [`compiler`]: the default compiler's machine and version, which make
//!   the subtype;
//! * [`subtype`]: the right answer to 3.4's subtype question, which
//!   `mdns-sd` answers under the wrong name.

pub mod cache;
pub mod compiler;
pub mod mdns;
pub mod records;
pub mod subtype;

use std::path::Path;

pub use records::{Advert, Seen};

/// What a daemon started with `--zeroconf` publishes: slots, processors,
/// protocols and the compilers on its `PATH`; `None` (and a warning) when
/// the announcement cannot start, as the daemon serves anyway.
pub fn announce_daemon(port: u16, jobs: u32, path: &[&Path]) -> Option<mdns::Announcer> {
    let cc = compiler::default_compiler();
    if cc.is_none() {
        tracing::warn!(
            "zeroconf: cannot run cc -dumpmachine/-dumpversion; announcing {} without a compiler subtype",
            records::SERVICE_TYPE
        );
    }
    let advert = Advert {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        jobs,
        machine: cc.as_ref().map(|c| c.0.clone()).unwrap_or_default(),
        version: crate::version::VERSION.into(),
        protocols: vec![1, 2, 3],
        compilers: compiler::on_path(path),
    };
    let hostname = compiler::hostname();
    let subtype = cc.as_ref().map(|(m, v)| (m.as_str(), v.as_str()));
    match mdns::announce(port, &advert, &hostname, subtype) {
        Ok(a) => {
            tracing::info!(
                "zeroconf: announcing {} on port {port} as {}",
                records::service_name(subtype),
                records::instance_name(&hostname)
            );
            if let Some(sub) = subtype {
                let answer = subtype::start(subtype::Instance {
                    subtype: records::service_name(Some(sub)),
                    name: records::instance_name(&hostname),
                    service: records::service_name(None),
                    host: format!("{hostname}.local."),
                    port,
                    txt: advert.txt(),
                });
                if let Err(e) = answer {
                    tracing::warn!(
                        "zeroconf: subtype answers: {e}; 3.4's clients may miss this daemon"
                    );
                }
            }
            Some(a)
        }
        Err(e) => {
            tracing::warn!("zeroconf: {e}; not announcing");
            None
        }
    }
}
