//! The network side of zeroconf, through the `mdns-sd` crate: a daemon
//! announces itself while it runs; a client browses for a short window
//! and takes what answered. Names and records come from [`super::records`].

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};

use super::records::{Advert, Seen, instance_name, service_name};

/// A daemon's announcement; dropping it says goodbye on the network.
pub struct Announcer {
    mdns: ServiceDaemon,
    fullname: String,
}

impl std::fmt::Debug for Announcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Announcer({})", self.fullname)
    }
}

/// Announce `distcc@<hostname>` on `port` under 3.4's type, with the
/// subtype of `compiler` (`cc -dumpmachine`, `cc -dumpversion`) when it is
/// known, on every interface with the IPv4 addresses the host has (kept
/// current as addresses change). Starts a thread: call it after the last
/// fork.
pub fn announce(
    port: u16,
    advert: &Advert,
    hostname: &str,
    compiler: Option<(&str, &str)>,
) -> Result<Announcer, String> {
    let mdns = ServiceDaemon::new().map_err(|e| format!("cannot start mDNS: {e}"))?;
    // IPv4 only: 3.4's client takes whichever address Avahi resolves
    // first and writes it without a scope, so an IPv6 link-local address
    // (which every interface has) would be unusable to it.
    mdns.disable_interface(IfKind::IPv6)
        .map_err(|e| format!("cannot leave IPv6 out: {e}"))?;
    let ty = service_name(compiler);
    let host = format!("{hostname}.local.");
    let info = ServiceInfo::new(
        &ty,
        &instance_name(hostname),
        &host,
        (),
        port,
        advert.txt().as_slice(),
    )
    .map_err(|e| format!("cannot describe the service: {e}"))?
    .enable_addr_auto();
    let fullname = info.get_fullname().to_owned();
    mdns.register(info)
        .map_err(|e| format!("cannot announce {fullname}: {e}"))?;
    Ok(Announcer { mdns, fullname })
}

impl Drop for Announcer {
    fn drop(&mut self) {
        // Goodbye packets (TTL 0), so clients forget us now rather than
        // when their cache expires; waited for briefly.
        if let Ok(rx) = self.mdns.unregister(&self.fullname) {
            let _ = rx.recv_timeout(Duration::from_millis(500));
        }
        if let Ok(rx) = self.mdns.shutdown() {
            let _ = rx.recv_timeout(Duration::from_millis(500));
        }
    }
}

/// Browse for `window` and return the resolved services, one per
/// instance name. Only daemons with the subtype of `compiler` answer when
/// it is given (3.4's rule: a client finds daemons whose compiler matches).
pub fn browse(compiler: Option<(&str, &str)>, window: Duration) -> Result<Vec<Seen>, String> {
    let mdns = ServiceDaemon::new().map_err(|e| format!("cannot start mDNS: {e}"))?;
    let ty = service_name(compiler);
    let rx = mdns
        .browse(&ty)
        .map_err(|e| format!("cannot browse {ty}: {e}"))?;
    let deadline = Instant::now() + window;
    let mut found: BTreeMap<String, Seen> = BTreeMap::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(ServiceEvent::ServiceResolved(s)) => {
                let fullname = s.get_fullname();
                let name = fullname
                    .split_once("._distcc._tcp")
                    .map_or(fullname, |(n, _)| n)
                    .replace("\\@", "@")
                    .replace("\\.", ".");
                let txt = s
                    .get_properties()
                    .iter()
                    .map(|p| (p.key().to_owned(), p.val_str().to_owned()))
                    .collect();
                let addrs = s.get_addresses().iter().map(|a| a.to_ip_addr()).collect();
                found.insert(
                    name.clone(),
                    Seen {
                        name,
                        addrs,
                        port: s.get_port(),
                        txt,
                    },
                );
            }
            Ok(ServiceEvent::ServiceRemoved(_, fullname)) => {
                found.retain(|n, _| !fullname.starts_with(n.as_str()));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = mdns.stop_browse(&ty);
    if let Ok(rx) = mdns.shutdown() {
        let _ = rx.recv_timeout(Duration::from_millis(200));
    }
    Ok(found.into_values().collect())
}
