//! Host choice (spec §3.8, 3.4's `dcc_lock_one`): for slot 0, 1, 2, ...
//! try every usable host that has that many slots, in list order, and take
//! the first free `cpu_<host>_<slot>` lock. Work therefore spreads over
//! every host's slot 0 before any slot 1. When nothing is free, sleep
//! `DISTCC_PAUSE_TIME_MSEC` and try again.
//!
//! Not usable: `,down` hosts, hosts in backoff, and hosts that already
//! failed during this run (so a backoff period of 0 cannot make us retry a
//! dead host forever, spec §6 quirk 8).
//!
//! Among the usable hosts, the order is [`crate::client::placement`]'s:
//! hosts measured much slower than the fastest get no job while it can
//! take one (the client then looks again sooner than the pause, as it
//! passes free slots by), and hosts whose daemon reports a queue come
//! last; with no measurement and no report it is exactly 3.4's order.
//! A pump job's remote hosts are ranked by its source (affinity), so a
//! rebuild sends it where its source already is; and a job whose source
//! compiled before ([`super::homes`]) takes a slot of that host first,
//! waiting a little for one when all are busy
//! ([`placement::home_wait`]).

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use tracing::debug;

use crate::client::placement::{self, HostView};
use crate::client::slots::homes::{self, Home};
use crate::client::slots::hoststate;
use crate::client::slots::locks::{LockDir, SlotLock};
use crate::hosts::HostSpec;

/// A chosen host and its held slot.
#[derive(Debug)]
pub struct Picked {
    /// Index into the host list.
    pub index: usize,
    /// The held lock (`None` when the lock directory is unusable).
    pub lock: Option<SlotLock>,
}

/// How often a job waiting for its home looks at the home's slots.
pub const HOME_POLL: Duration = Duration::from_millis(10);

/// Where a pump job would rather go (`Default`: 3.4's order).
#[derive(Clone, Copy, Debug, Default)]
pub struct Preference<'a> {
    /// The job's source, which ranks the remote hosts
    /// ([`placement::affinity`]).
    pub source: Option<&'a [u8]>,
    /// Where it compiled last, waited for a little ([`homes`]).
    pub home: Option<Home>,
}

/// Choose a host, waiting while every slot is busy. `None`: no host is
/// usable at all. `excluded[i]` marks hosts that failed in this run.
pub fn pick(
    hosts: &[HostSpec],
    excluded: &[bool],
    locks: Option<&LockDir>,
    backoff: Duration,
    pause: Duration,
    topdir: Option<&Path>,
    pref: Preference<'_>,
) -> io::Result<Option<Picked>> {
    let source = pref.source;
    let mut home = pref.home;
    loop {
        let usable: Vec<usize> = (0..hosts.len())
            .filter(|&i| !hosts[i].down && !excluded.get(i).copied().unwrap_or(false))
            .filter(|&i| locks.is_none_or(|l| !l.in_backoff(&hosts[i].lock_id(), backoff)))
            .collect();
        if usable.is_empty() {
            return Ok(None);
        }
        let Some(locks) = locks else {
            return Ok(Some(Picked {
                index: usable[0],
                lock: None,
            }));
        };
        let views: Vec<HostView> = usable
            .iter()
            .map(|&i| match (hosts[i].is_local(), topdir) {
                (false, Some(top)) => HostView {
                    slots: hosts[i].slots,
                    ms_per_kib: hoststate::speed(top, &hosts[i].lock_id()),
                    backlog: hoststate::backlog(top, &hosts[i].lock_id()),
                    affinity: source.map(|k| placement::affinity(k, &hosts[i].lock_id())),
                },
                (false, None) => HostView {
                    slots: hosts[i].slots,
                    affinity: source.map(|k| placement::affinity(k, &hosts[i].lock_id())),
                    ..HostView::default()
                },
                (true, _) => HostView {
                    slots: hosts[i].slots,
                    ..HostView::default()
                },
            })
            .collect();
        let order = placement::order(&views);
        // The home is waited for once, in the first look.
        if let Some(h) = home.take() {
            let at = usable.iter().position(|&i| {
                !hosts[i].is_local() && homes::host_id(&hosts[i].lock_id()) == h.host
            });
            let wait =
                at.and_then(|u| Some((u, placement::home_wait(&views, &order, u, h.compile_ms)?)));
            if let Some((u, within)) = wait {
                let (id, name) = (hosts[usable[u]].lock_id(), &hosts[usable[u]].text);
                let started = Instant::now();
                let mut got = None;
                for slot in 0..views[u].slots {
                    got = locks.try_lock(&id, slot)?;
                    if got.is_some() {
                        break;
                    }
                }
                if got.is_none() {
                    debug!("home {name} busy: waiting up to {} ms", within.as_millis());
                    got = locks.wait_for(&id, views[u].slots, within, HOME_POLL, || {
                        !locks.in_backoff(&id, backoff)
                    })?;
                }
                let waited = started.elapsed().as_millis();
                if let Some(lock) = got {
                    debug!("home {name}: slot {} after {waited} ms", lock.slot);
                    return Ok(Some(Picked {
                        index: usable[u],
                        lock: Some(lock),
                    }));
                }
                debug!("home {name} busy for {waited} ms: another host");
            }
        }
        for &(u, slot) in &order {
            let index = usable[u];
            if let Some(lock) = locks.try_lock(&hosts[index].lock_id(), slot)? {
                return Ok(Some(Picked {
                    index,
                    lock: Some(lock),
                }));
            }
        }
        std::thread::sleep(placement::retry_after(pause, &views, order.len()));
    }
}
