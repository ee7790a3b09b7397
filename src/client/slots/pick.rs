//! Host choice (spec §3.8, 3.4's `dcc_lock_one`): for slot 0, 1, 2, ...
//! try every usable host that has that many slots, in list order, and take
//! the first free `cpu_<host>_<slot>` lock. Work therefore spreads over
//! every host's slot 0 before any slot 1. When nothing is free, sleep
//! `DISTCC_PAUSE_TIME_MSEC` and try again.
//!
//! Not usable: `,down` hosts, hosts in backoff, and hosts that already
//! failed during this run (so a backoff period of 0 cannot make us retry a
//! dead host forever, spec §6 quirk 8).

use std::io;
use std::time::Duration;

use crate::client::slots::locks::{LockDir, SlotLock};
use crate::hosts::HostSpec;

/// The order in which (host index, slot) pairs are tried.
pub fn candidates(slots: &[u32]) -> Vec<(usize, u32)> {
    let max = slots.iter().copied().max().unwrap_or(0);
    let mut out = Vec::new();
    for slot in 0..max {
        for (i, &n) in slots.iter().enumerate() {
            if slot < n {
                out.push((i, slot));
            }
        }
    }
    out
}

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
pub fn pick(
    hosts: &[HostSpec],
    excluded: &[bool],
    locks: Option<&LockDir>,
    backoff: Duration,
    pause: Duration,
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
        let slots: Vec<u32> = usable.iter().map(|&i| hosts[i].slots).collect();
        for (u, slot) in candidates(&slots) {
            let index = usable[u];
            if let Some(lock) = locks.try_lock(&hosts[index].lock_id(), slot)? {
                return Ok(Some(Picked {
                    index,
                    lock: Some(lock),
                }));
            }
        }
        std::thread::sleep(pause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_zero_of_every_host_comes_first() {
        assert_eq!(
            candidates(&[2, 1, 3]),
            vec![(0, 0), (1, 0), (2, 0), (0, 1), (2, 1), (2, 2)]
        );
        assert!(candidates(&[]).is_empty());
        assert!(candidates(&[0]).is_empty());
    }
}
