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

/// One connection's place in the table, held by its job; dropping it
/// removes the row and gives back its memory.
#[derive(Debug)]
pub struct Ticket {
    pending: Arc<Pending>,
    entry: Arc<Entry>,
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

impl Ticket {
    /// A ticket in a table of its own, without caps (tests).
    pub fn unlimited() -> Self {
        Arc::new(Pending::new(Caps::UNLIMITED))
            .admit(None)
            .expect("no caps")
    }

    /// Move on to `part` of the request, starting now.
    pub fn set_part(&self, part: Part) {
        self.entry.part.store(part as u8, Ordering::Relaxed);
        let now = self.pending.now_ms();
        self.entry.since_ms.store(now, Ordering::Relaxed);
    }

    /// Bytes arrived. Only a body's bytes count as progress: a head or a
    /// gap is judged from its start, so trickling gains nothing.
    pub fn progress(&self) {
        if self.entry.part() == Part::Body {
            let now = self.pending.now_ms();
            self.entry.since_ms.store(now, Ordering::Relaxed);
        }
    }

    /// Why the connection was dropped, if it was.
    pub fn kicked(&self) -> Option<String> {
        lock(&self.entry.kicked).clone()
    }

    /// Wait until the connection is dropped; the reason.
    pub async fn wait_kicked(&self) -> String {
        loop {
            if let Some(r) = self.kicked() {
                return r;
            }
            self.entry.kick.notified().await;
        }
    }

    /// Bytes charged for this connection.
    pub fn held(&self) -> u64 {
        self.entry.held.load(Ordering::Relaxed)
    }

    /// Charge this connection `total` bytes in all, if the budget allows
    /// (less than before always succeeds).
    pub fn try_hold(&self, total: u64) -> bool {
        let held = self.held();
        let budget = &self.pending.budget;
        if total > held {
            if !budget.try_take(total - held) {
                return false;
            }
        } else {
            budget.give(held - total);
        }
        self.entry.held.store(total, Ordering::Relaxed);
        true
    }

    /// Charge `total` bytes in all, waiting until `until` for other
    /// requests to give memory back, and dropping a stalled one to make
    /// room.
    pub async fn hold(&self, total: u64, until: tokio::time::Instant) -> Result<(), NoMemory> {
        let budget = &self.pending.budget;
        let no_memory = || NoMemory {
            want: total,
            used: budget.used(),
            cap: budget.cap(),
        };
        if total - total.min(self.held()) > budget.cap() {
            return Err(no_memory());
        }
        loop {
            let freed = budget.freed();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if self.try_hold(total) {
                return Ok(());
            }
            self.pending
                .relieve(self.entry.id, total.saturating_sub(self.held()));
            tokio::select! {
                () = freed => {}
                () = tokio::time::sleep_until(until) => return Err(no_memory()),
                _ = self.wait_kicked() => return Err(no_memory()),
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        lock(&self.pending.entries).remove(&self.entry.id);
        self.pending
            .budget
            .give(self.entry.held.swap(0, Ordering::Relaxed));
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use super::*;

    fn ip(n: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
    }

    fn snap(addr: u8, part: Part, since_ms: u64) -> Snap {
        Snap {
            id: 0,
            addr: ip(addr),
            part,
            since_ms,
            held: 0,
            kicked: false,
        }
    }

    #[test]
    fn choose_takes_the_least_progress_first() {
        use Part::*;
        // (rows, expected index)
        let cases: &[(&[Snap], Option<usize>)] = &[
            (&[], None),
            (&[snap(1, Received, 0)], None),
            (&[snap(1, Body, 50), snap(1, Head, 900)], Some(1)),
            (
                &[snap(1, Head, 900), snap(1, Head, 100), snap(1, Gap, 0)],
                Some(1),
            ),
            (
                &[snap(1, Body, 500), snap(1, Gap, 700), snap(1, Body, 20)],
                Some(1),
            ),
            (
                &[snap(1, Body, 500), snap(1, Body, 20), snap(1, Received, 1)],
                Some(1),
            ),
            (
                &[
                    Snap {
                        kicked: true,
                        ..snap(1, Head, 0)
                    },
                    snap(1, Head, 5),
                ],
                Some(1),
            ),
        ];
        for (i, (rows, want)) in cases.iter().enumerate() {
            assert_eq!(choose(rows), *want, "case {i}");
        }
    }

    #[test]
    fn heaviest_counts_only_waiting_connections() {
        let rows = [
            snap(1, Part::Head, 0),
            snap(2, Part::Head, 0),
            snap(2, Part::Gap, 0),
            snap(1, Part::Received, 0),
            snap(1, Part::Received, 0),
        ];
        assert_eq!(heaviest(&rows), Some((ip(2), 2)));
        assert_eq!(heaviest(&rows[3..]), None);
    }

    #[test]
    fn a_full_address_drops_its_own_oldest_head() {
        let p = Arc::new(Pending::new(Caps {
            per_address: 2,
            ..Caps::UNLIMITED
        }));
        let a = p.admit(ip(1)).unwrap();
        let other = p.admit(ip(2)).unwrap();
        let b = p.admit(ip(1)).unwrap();
        b.set_part(Part::Gap);
        let c = p.admit(ip(1)).unwrap();
        let why = a.kicked().expect("the oldest head goes");
        assert!(why.contains("2 connections from 127.0.0.1"), "{why}");
        assert!(why.contains("(cap 2)"), "{why}");
        assert!(b.kicked().is_none() && c.kicked().is_none() && other.kicked().is_none());
        // A received request is never dropped; one without its head goes
        // before one that sent it.
        c.set_part(Part::Received);
        let d = p.admit(ip(1)).unwrap();
        assert!(b.kicked().is_none() && d.kicked().is_none());
        let e = p.admit(ip(1)).unwrap();
        assert!(d.kicked().is_some(), "d had not sent its head");
        assert!(b.kicked().is_none() && c.kicked().is_none() && e.kicked().is_none());
        drop((a, d));
        assert_eq!(p.len(), 4);
    }

    #[test]
    fn the_global_cap_drops_from_the_busiest_address() {
        let p = Arc::new(Pending::new(Caps {
            connections: 3,
            ..Caps::UNLIMITED
        }));
        let real = p.admit(ip(1)).unwrap();
        let x1 = p.admit(ip(9)).unwrap();
        let x2 = p.admit(ip(9)).unwrap();
        let _new = p.admit(ip(3)).unwrap();
        assert!(
            real.kicked().is_none(),
            "the older connection of a lighter address stays"
        );
        assert!(x1.kicked().unwrap().contains("2 of them from 127.0.0.9"));
        assert!(x2.kicked().is_none());
        // Everything received: nothing can go, the newcomer is refused.
        for t in [&real, &x2, &_new] {
            t.set_part(Part::Received);
        }
        drop(x1);
        let err = p.admit(ip(4)).unwrap_err();
        assert!(err.contains("every one with a complete request"), "{err}");
    }

    #[test]
    fn memory_is_given_back_and_a_stalled_holder_makes_room() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let p = Arc::new(Pending::new(Caps {
                memory: 1000,
                ..Caps::UNLIMITED
            }));
            let stalled = p.admit(ip(1)).unwrap();
            assert!(stalled.try_hold(900));
            let busy = p.admit(ip(2)).unwrap();
            busy.set_part(Part::Received);
            assert!(busy.try_hold(50));
            let t = p.admit(ip(3)).unwrap();
            assert!(!t.try_hold(200));
            // `hold` drops the stalled one; its job ends and gives back.
            let until = tokio::time::Instant::now() + Duration::from_secs(5);
            let release = async {
                let why = stalled.wait_kicked().await;
                assert!(why.contains("free memory"), "{why}");
                drop(stalled);
            };
            let (got, ()) = tokio::join!(t.hold(200, until), release);
            got.unwrap();
            assert_eq!(p.budget.used(), 250);
            // Over the whole budget: refused at once.
            let err = t.hold(5000, until).await.unwrap_err();
            assert_eq!(err.cap, 1000);
            drop(t);
            assert_eq!(p.budget.used(), 50);
            // Nothing to drop and no memory: wait until the deadline.
            let u = p.admit(ip(4)).unwrap();
            let soon = tokio::time::Instant::now() + Duration::from_millis(50);
            assert!(u.try_hold(900));
            let v = p.admit(ip(5)).unwrap();
            v.set_part(Part::Received);
            assert!(v.hold(100, soon).await.is_err());
            assert!(u.kicked().is_some(), "u held memory without a full request");
        });
    }
}
