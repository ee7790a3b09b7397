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
//! rebuild sends it where its source already is.

use std::io;
use std::time::Duration;

use std::path::Path;

use crate::client::placement::{self, HostView};
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

/// Choose a host, waiting while every slot is busy. `None`: no host is
/// usable at all. `excluded[i]` marks hosts that failed in this run.
/// `source`: a pump job's source, which ranks the remote hosts
/// ([`placement::affinity`]); `None` keeps 3.4's order.
pub fn pick(
    hosts: &[HostSpec],
    excluded: &[bool],
    locks: Option<&LockDir>,
    backoff: Duration,
    pause: Duration,
    topdir: Option<&Path>,
    source: Option<&[u8]>,
) -> io::Result<Option<Picked>> {
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
