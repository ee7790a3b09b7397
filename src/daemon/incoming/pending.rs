//! The daemon's table of open connections (issue 10): how far each has
//! got with its request, and the caps that stop idle or slow clients from
//! keeping real ones out.
//!
//! Receiving is cheap and compile slots are scarce, so the daemon accepts
//! far more connections than it has `--jobs` (a compile slot is only taken
//! once a request has fully arrived, `job::Shared`). What is bounded:
//!
//! * the connections open at once ([`Caps::connections`], from the file
//!   descriptor limit), and those from one client address that have not
//!   yet sent their whole request ([`Caps::per_address`]);
//! * the memory their requests use while they arrive ([`Budget`]).
//!
//! When a cap is reached the newcomer is not refused: a real client sends
//! its head within milliseconds of connecting, so the connection that has
//! made the least progress for the longest goes instead ([`choose`]). In
//! order: one still without its head, the longest connected first (idle
//! and trickling clients); then one waiting for its source since the head
//! (a client preprocessing, or one that stopped); then one whose source is
//! arriving, the longest without a byte first. A request that has fully
//! arrived is never dropped. The dropped connection ends its job with a
//! logged reason (`REJ_OVERLOAD`), and its client compiles locally.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::Notify;

use super::budget::Budget;
use super::pace::Part;

mod ticket;

pub use ticket::Ticket;

/// The caps of [`Pending`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Connections open at once.
    pub connections: usize,
    /// Connections from one address that have not sent their whole
    /// request yet.
    pub per_address: usize,
    /// Bytes of memory for requests being received ([`Budget`]).
    pub memory: u64,
}

impl Caps {
    /// No caps (tests, and the one connection of inetd mode until the
    /// daemon sets real ones).
    pub const UNLIMITED: Caps = Caps {
        connections: usize::MAX,
        per_address: usize::MAX,
        memory: u64::MAX,
    };
}

/// Every open connection of the daemon.
#[derive(Debug)]
pub struct Pending {
    caps: Mutex<Caps>,
    entries: Mutex<HashMap<u64, Arc<Entry>>>,
    next_id: AtomicU64,
    epoch: Instant,
    /// Memory for requests being received.
    pub budget: Budget,
}

/// One connection's row.
#[derive(Debug)]
struct Entry {
    id: u64,
    addr: Option<IpAddr>,
    part: AtomicU8,
    /// Milliseconds since the table's epoch: when the connection was
    /// accepted (head), when the head ended (gap), the last byte (body).
    since_ms: AtomicU64,
    /// Bytes charged to the budget.
    held: AtomicU64,
    /// Why the connection was dropped, once it was.
    kicked: Mutex<Option<String>>,
    kick: Notify,
}

const PARTS: [Part; 4] = [Part::Head, Part::Gap, Part::Body, Part::Received];

impl Entry {
    fn part(&self) -> Part {
        PARTS[usize::from(self.part.load(Ordering::Relaxed)).min(3)]
    }

    fn is_kicked(&self) -> bool {
        lock(&self.kicked).is_some()
    }

    fn snap(&self) -> Snap {
        Snap {
            id: self.id,
            addr: self.addr,
            part: self.part(),
            since_ms: self.since_ms.load(Ordering::Relaxed),
            held: self.held.load(Ordering::Relaxed),
            kicked: self.is_kicked(),
        }
    }

    fn kick(&self, reason: String) {
        let mut k = lock(&self.kicked);
        if k.is_none() {
            *k = Some(reason);
            // notify_one keeps the wake-up if the job is not waiting now.
            self.kick.notify_one();
        }
    }
}

/// What [`choose`] needs to know of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snap {
    /// Order of arrival (breaks ties: the older goes first).
    pub id: u64,
    /// The client's address.
    pub addr: Option<IpAddr>,
    /// How far its request has got.
    pub part: Part,
    /// When it last made progress, in ms: when it was accepted (head),
    /// when its head ended (gap), its last byte (body).
    pub since_ms: u64,
    /// Memory charged.
    pub held: u64,
    /// Already dropped.
    pub kicked: bool,
}

impl Snap {
    /// Whether the connection may be dropped, and its rank: lowest first.
    fn rank(&self) -> Option<(u8, u64, u64)> {
        let order = match self.part {
            _ if self.kicked => return None,
            Part::Head => 0,
            Part::Gap => 1,
            Part::Body => 2,
            Part::Received => return None,
        };
        Some((order, self.since_ms, self.id))
    }

    fn waiting(&self) -> bool {
        !self.kicked && self.part != Part::Received
    }
}

/// The connection to drop among `snaps` (see the module comment), if any
/// may be.
pub fn choose(snaps: &[Snap]) -> Option<usize> {
    (0..snaps.len())
        .filter_map(|i| snaps[i].rank().map(|r| (r, i)))
        .min()
        .map(|(_, i)| i)
}

/// The address with the most connections still waiting for their
/// request, and how many.
pub fn heaviest(snaps: &[Snap]) -> Option<(Option<IpAddr>, usize)> {
    let mut counts: HashMap<Option<IpAddr>, usize> = HashMap::new();
    for s in snaps.iter().filter(|s| s.waiting()) {
        *counts.entry(s.addr).or_default() += 1;
    }
    counts.into_iter().max_by_key(|&(addr, n)| (n, addr))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn show(addr: Option<IpAddr>) -> String {
    addr.map_or("a local client".into(), |a| a.to_string())
}

impl Pending {
    /// An empty table with these caps.
    pub fn new(caps: Caps) -> Self {
        Self {
            caps: Mutex::new(caps),
            entries: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            epoch: Instant::now(),
            budget: Budget::new(caps.memory),
        }
    }

    /// Change the caps (at start-up).
    pub fn set_caps(&self, caps: Caps) {
        *lock(&self.caps) = caps;
        self.budget.set_cap(caps.memory);
    }

    /// The caps.
    pub fn caps(&self) -> Caps {
        *lock(&self.caps)
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Take in a new connection from `addr`, dropping another one if a cap
    /// is reached. `Err` (with the reason to log) when every connection
    /// has a complete request, so none can go.
    pub fn admit(self: &Arc<Self>, addr: Option<IpAddr>) -> Result<Ticket, String> {
        let caps = self.caps();
        let mut entries = lock(&self.entries);
        let rows: Vec<(Arc<Entry>, Snap)> =
            entries.values().map(|e| (e.clone(), e.snap())).collect();
        let from_addr: Vec<&(Arc<Entry>, Snap)> = rows
            .iter()
            .filter(|(_, s)| s.addr == addr && s.waiting())
            .collect();
        if from_addr.len() >= caps.per_address {
            let snaps: Vec<Snap> = from_addr.iter().map(|(_, s)| *s).collect();
            if let Some(i) = choose(&snaps) {
                from_addr[i].0.kick(format!(
                    "dropped to make room for a newer connection from the same address: \
                     {} connections from {} without a complete request (cap {})",
                    from_addr.len(),
                    show(addr),
                    caps.per_address
                ));
            }
        }
        let live: Vec<&(Arc<Entry>, Snap)> = rows.iter().filter(|(e, _)| !e.is_kicked()).collect();
        if live.len() >= caps.connections {
            let snaps: Vec<Snap> = live.iter().map(|(_, s)| *s).collect();
            let Some((heavy, n)) = heaviest(&snaps) else {
                return Err(format!(
                    "{} connections open (cap {}), every one with a complete request: \
                     closing the new connection from {}",
                    live.len(),
                    caps.connections,
                    show(addr)
                ));
            };
            let of_heavy: Vec<usize> = (0..snaps.len())
                .filter(|&i| snaps[i].addr == heavy)
                .collect();
            let sub: Vec<Snap> = of_heavy.iter().map(|&i| snaps[i]).collect();
            if let Some(i) = choose(&sub) {
                live[of_heavy[i]].0.kick(format!(
                    "dropped to make room for a new connection: {} connections open (cap {}), \
                     {n} of them from {} without a complete request",
                    live.len(),
                    caps.connections,
                    show(heavy)
                ));
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let entry = Arc::new(Entry {
            id,
            addr,
            part: AtomicU8::new(0),
            since_ms: AtomicU64::new(self.now_ms()),
            held: AtomicU64::new(0),
            kicked: Mutex::new(None),
            kick: Notify::new(),
        });
        entries.insert(id, entry.clone());
        Ok(Ticket {
            pending: self.clone(),
            entry,
        })
    }

    /// Drop one connection that holds memory and has not sent its whole
    /// request (other than `except`), to make room in the budget. Whether
    /// one was found.
    fn relieve(&self, except: u64, need: u64) -> bool {
        let entries = lock(&self.entries);
        let rows: Vec<&Arc<Entry>> = entries
            .values()
            .filter(|e| e.id != except && e.held.load(Ordering::Relaxed) > 0)
            .collect();
        let snaps: Vec<Snap> = rows.iter().map(|e| e.snap()).collect();
        let Some(i) = choose(&snaps) else {
            return false;
        };
        rows[i].kick(format!(
            "dropped to free memory for other requests: {} of the {} bytes for requests \
             being received are in use, and a request needs {need} more",
            self.budget.used(),
            self.budget.cap()
        ));
        true
    }
}

/// The memory a request needs is not to be had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoMemory {
    /// Bytes the request would hold in all.
    pub want: u64,
    /// Bytes in use by all requests.
    pub used: u64,
    /// The budget.
    pub cap: u64,
}

#[cfg(test)]
mod tests;
