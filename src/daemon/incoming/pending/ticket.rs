//! A connection's row in the table, held by its job: how far its
//! request has got, whether it was dropped, and the memory it holds.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Caps, Entry, NoMemory, Pending, lock};
use crate::daemon::incoming::pace::Part;

/// One connection's place in the table, held by its job; dropping it
/// removes the row and gives back its memory.
#[derive(Debug)]
pub struct Ticket {
    pub(super) pending: Arc<Pending>,
    pub(super) entry: Arc<Entry>,
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
