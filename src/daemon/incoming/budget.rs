//! The memory all connections together may use for requests being
//! received (issue 10): head buffers, decoded arguments, sources kept in
//! memory for the compiler. Each connection's share is charged here before
//! it is allocated and given back when the connection ends, so a flood of
//! big requests cannot take the daemon's memory: past the cap a source
//! goes to a file instead, or the request waits, or (see
//! [`super::pending`]) a stalled request makes room.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// A byte counter with a cap, shared by every connection.
#[derive(Debug)]
pub struct Budget {
    cap: AtomicU64,
    used: AtomicU64,
    /// Woken whenever bytes are given back.
    freed: Notify,
}

impl Budget {
    /// A budget of `cap` bytes.
    pub fn new(cap: u64) -> Self {
        Self {
            cap: AtomicU64::new(cap),
            used: AtomicU64::new(0),
            freed: Notify::new(),
        }
    }

    /// Change the cap (at start-up, once the machine's memory is known).
    pub fn set_cap(&self, cap: u64) {
        self.cap.store(cap, Ordering::Relaxed);
    }

    /// The cap.
    pub fn cap(&self) -> u64 {
        self.cap.load(Ordering::Relaxed)
    }

    /// Bytes charged now.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Charge `n` bytes if they fit under the cap.
    pub fn try_take(&self, n: u64) -> bool {
        let cap = self.cap();
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= cap)
            })
            .is_ok()
    }

    /// Give back `n` bytes charged earlier.
    pub fn give(&self, n: u64) {
        if n > 0 {
            self.used.fetch_sub(n, Ordering::AcqRel);
            self.freed.notify_waiters();
        }
    }

    /// Resolves at the next [`Budget::give`] (create it before checking,
    /// so a give in between is not missed).
    pub fn freed(&self) -> tokio::sync::futures::Notified<'_> {
        self.freed.notified()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_stay_under_the_cap() {
        let b = Budget::new(100);
        assert!(b.try_take(60));
        assert!(!b.try_take(41));
        assert!(b.try_take(40));
        assert_eq!(b.used(), 100);
        assert!(!b.try_take(1));
        b.give(30);
        assert!(b.try_take(1));
        assert_eq!(b.used(), 71);
        b.set_cap(50);
        assert!(!b.try_take(1));
        assert!(!b.try_take(u64::MAX));
    }
}
